"""Write the synthetic test city "Musterstadt" (run from the repository root).

Files as a planner might get them from three offices, each with its own column names and CRS,
so that the city pack (``pack.json``) has to map columns and reproject:

* ``Stadtteil.shp``: 12 Stadtteile in Gauss-Krüger zone 3 (EPSG:31467), codes as text with a
  leading zero (``STT_NR`` "0101"), no Bezirk column (derived from the Bezirk polygons);
* ``bezirke.geojson``: 3 Bezirke, RFC 7946 (WGS84), codes "01".."03" with names;
* ``kitas_osm.geojson``: 14 Kitas as an OSM export (name inside ``tags``), one outside the city;
* ``schulen.csv``: 6 schools, semicolon-separated, decimal commas in lon/lat;
* ``bevoelkerung_2019.csv`` / ``bevoelkerung_2021.csv``: inhabitants and foreigners per
  Stadtteil on two dates, German number format, keys as in the Stadtteil file.

Every number is synthetic (seeded), for tests only.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

HERE = Path(__file__).parent


def main() -> None:
    rng = np.random.default_rng(11)
    x0, y0, step = 530_000.0, 5_680_000.0, 1_500.0  # EPSG:25832, near Kassel
    rows = []
    for b in range(3):
        for i in range(4):
            col, row = b * 2 + i % 2, i // 2
            rows.append({
                "STT_NR": f"0{b + 1}0{i + 1}",
                "STT_NAME": f"Muster-{['Nord', 'Mitte', 'Süd'][b]} {i + 1}",
                "geometry": shapely.box(x0 + col * step, y0 + row * step,
                                        x0 + (col + 1) * step, y0 + (row + 1) * step),
            })
    st = gpd.GeoDataFrame(rows, crs="EPSG:25832")
    st.to_crs("EPSG:31467").to_file(HERE / "Stadtteil.shp", engine="pyogrio")
    bz = st.assign(BEZ=st["STT_NR"].str[:2]).dissolve("BEZ").reset_index()
    bz["BEZ_NAME"] = bz["BEZ"].map({"01": "Nordbezirk", "02": "Mittelbezirk",
                                    "03": "Südbezirk"})
    bz[["BEZ", "BEZ_NAME", "geometry"]].to_crs("EPSG:4326").to_file(
        HERE / "bezirke.geojson", driver="GeoJSON", engine="pyogrio", RFC7946="YES")
    pts = st.sample_points(1, rng=rng).explode(index_parts=False)
    kitas = gpd.GeoDataFrame({
        "id": [f"node/{1000 + i}" for i in range(12)],
        "tags": [{"name": f"Kita Sonnenschein {i + 1}", "amenity": "kindergarten",
                  "operator": ["AWO", "Caritas", "Stadt"][i % 3]} for i in range(12)],
    }, geometry=pts.to_numpy(), crs=st.crs)
    extra = gpd.GeoDataFrame({
        "id": ["node/2000", "node/2001"],
        "tags": [{"name": "Kita Am Rand", "amenity": "kindergarten"},
                 {"name": "Kita Nachbarort", "amenity": "kindergarten"}],
    }, geometry=[shapely.Point(x0 + 10, y0 + 10),
                 shapely.Point(x0 - 4_000, y0 + 1_000)], crs=st.crs)
    kitas = pd.concat([kitas, extra], ignore_index=True).to_crs("EPSG:4326")
    kitas["tags"] = kitas["tags"].map(lambda d: __import__("json").dumps(d, ensure_ascii=False))
    kitas.to_file(HERE / "kitas_osm.geojson", driver="GeoJSON", engine="pyogrio")
    sp = st.iloc[::2].representative_point().to_crs("EPSG:4326")
    schulen = pd.DataFrame({
        "NAME": [f"Schule {i + 1}" for i in range(len(sp))],
        "SCHULART": ["Grundschule", "Gymnasium", "Grundschule", "Gesamtschule",
                     "Grundschule", "Realschule"][: len(sp)],
        "LON": [f"{v:.6f}".replace(".", ",") for v in sp.x],
        "LAT": [f"{v:.6f}".replace(".", ",") for v in sp.y],
    })
    schulen.to_csv(HERE / "schulen.csv", sep=";", index=False, encoding="utf-8")
    for year, scale in ((2019, 0.95), (2021, 1.0)):
        ew = (rng.integers(800, 6_000, len(st)) * scale).astype(int)
        share = np.where(st["STT_NR"].str.startswith("01"), 0.25, 0.08)
        aus = rng.binomial(ew, share)
        ew[5] = 120  # a small Stadtteil (below the population floor)
        aus[5] = min(aus[5], 30)
        pd.DataFrame({"raum_id": st["STT_NR"], "einwohner_gesamt": ew,
                      "auslaender": aus}).to_csv(
            HERE / f"bevoelkerung_{year}.csv", sep=";", index=False, encoding="utf-8")


if __name__ == "__main__":
    main()
