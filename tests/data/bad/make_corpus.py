"""Regenerate the bad-input corpus: ``python tests/data/bad/make_corpus.py``.

Each file is small and shows one problem a planner's data can have; README.md lists the file,
the problem and the message the toolkit gives. tests/test_bad_inputs.py runs every file
through the library and the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Points in Essen: lon/lat (WGS84) and the same places in EPSG:25832 metres.
LONLAT = [(6.96629, 51.46046), (7.01127, 51.50059), (7.02656, 51.38430)]
UTM = [(358719.2, 5702993.4), (361964.5, 5707369.7), (362677.8, 5694410.1)]


def fc(features: list[dict]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def pt(xy, **props) -> dict:
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Point", "coordinates": list(xy)}}


def poly(ring, **props) -> dict:
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}}


def square(lon, lat, d=0.01):
    return [(lon, lat), (lon + d, lat), (lon + d, lat + d), (lon, lat + d), (lon, lat)]


def kitas(coords, **extra) -> list[dict]:
    return [pt(xy, kita_id=i + 1, name=f"Kita {i + 1}", **extra) for i, xy in enumerate(coords)]


def main() -> None:
    w = {}
    w["leer.geojson"] = ""
    w["kitas_keine_objekte.geojson"] = fc([])
    w["kitas_latlon_vertauscht.geojson"] = fc(kitas([(y, x) for x, y in LONLAT]))
    w["kitas_utm_als_wgs84.geojson"] = fc(kitas(UTM))
    w["kitas_ausserhalb.geojson"] = fc(kitas([(-3.70, 40.42), (-3.69, 40.41)]))
    feats = kitas(LONLAT[:2])
    feats.append({"type": "Feature", "properties": {"kita_id": 3, "name": "Kita 3"},
                  "geometry": {"type": "LineString", "coordinates": [list(LONLAT[0]),
                                                                       list(LONLAT[1])]}})
    w["kitas_gemischte_geometrien.geojson"] = fc(feats)
    x, y = 7.0, 51.45
    bowtie = [(x, y), (x + 0.01, y + 0.01), (x + 0.01, y), (x, y + 0.01), (x, y)]
    w["stadtteile_selbstschnitt.geojson"] = fc([
        poly(bowtie, stadtteil_nr=1, stadtteil="Stadtkern", bezirk=1),
        poly(square(7.02, 51.45), stadtteil_nr=2, stadtteil="Ostviertel", bezirk=1),
    ])
    w["kitas_doppelte_ids.geojson"] = fc([
        pt(LONLAT[0], kita_id=7, name="Kita A"), pt(LONLAT[1], kita_id=8, name="Kita B"),
        pt(LONLAT[2], kita_id=7, name="Kita C"),
    ])
    w["kitas_spalte_fehlt.geojson"] = fc(
        [pt(xy, kita_id=i, bezeichnung=f"Kita {i}") for i, xy in enumerate(LONLAT)]
    )
    w["jobcenter_text_in_anzahl.geojson"] = fc([
        poly(square(7.00, 51.45), jobcenter="Mitte", n_stadtteile="6"),
        poly(square(7.02, 51.45), jobcenter="Ost", n_stadtteile="drei"),
    ])
    w["jobcenter_negative_anzahl.geojson"] = fc([
        poly(square(7.00, 51.45), jobcenter="Mitte", n_stadtteile=6),
        poly(square(7.02, 51.45), jobcenter="Ost", n_stadtteile=-2),
    ])
    w["jobcenter_prozent_als_anzahl.csv"] = (
        "jobcenter;n_stadtteile;epsg;wkt\n"
        "Mitte;6;4326;POLYGON ((7 51.45, 7.01 51.45, 7.01 51.46, 7 51.46, 7 51.45))\n"
        "Ost;7,1 %;4326;POLYGON ((7.02 51.45, 7.03 51.45, 7.03 51.46, 7.02 51.46, 7.02 51.45))\n"
    )
    w["kitas_abgeschnitten.geojson"] = fc(kitas(LONLAT))[:90]
    w["kitas_text_in_koordinaten.csv"] = (
        "kita_id,name,lon,lat\n1,Kita 1,6.96629,51.46046\n2,Kita 2,sieben,51.50059\n"
    )
    w["kitas_stadtteil_unbekannt.csv"] = (
        "kita_id,name,stadtteil,lon,lat\n"
        "1,Kita 1,Altendorf,6.96629,51.46046\n"
        "2,Kita 2,Altenessen,7.01127,51.50059\n"
    )
    # issue 14: real-world input that gave tracebacks or silently wrong values
    w["kitas_koordinate_halb.csv"] = (
        "kita_id,name,lon,lat\n1,Kita 1,6.96629,51.46046\n2,Kita 2,7.01127,\n"
    )
    w["kitas_koordinaten_fehlen.csv"] = (
        "kita_id,name,lon,lat\n1,Kita 1,6.96629,51.46046\n2,Kita 2,,\n"
        "3,Kita 3,7.01127,51.50059\n4,Kita 4,NaN,NaN\n5,Kita 5,7.02656,51.38430\n"
    )
    w["kitas_id_zu_gross.csv"] = (
        "kita_id,name,lon,lat\n1,Kita 1,6.96629,51.46046\n"
        "100000000000000000000000,Kita 2,7.01127,51.50059\n"
    )
    w["kitas_id_leer.geojson"] = fc([
        pt(LONLAT[0], kita_id=1, name="Kita A"), pt(LONLAT[1], kita_id=None, name="Kita B"),
    ])
    w["kitas_name_leer.geojson"] = fc([
        pt(LONLAT[0], kita_id=1, name="Kita A"), pt(LONLAT[1], kita_id=2, name="Kita B"),
        pt(LONLAT[2], kita_id=3, name=None),
    ])
    w["kitas_doppelte_spalte.csv"] = (
        "kita_id;name;name;lon;lat\n1;Kita 1;Sonnenschein;6,96629;51,46046\n"
    )
    w["kitas_name_gross_klein.geojson"] = fc([
        pt(xy, kita_id=i + 1, name=f"Kita {i + 1}", NAME=f"KITA {i + 1}")
        for i, xy in enumerate(LONLAT)
    ])
    w["kitas_dezimal_gemischt.csv"] = (
        "kita_id;name;lon;lat\n1;Kita 1;6,96629;51,46046\n2;Kita 2;7.01127;51,50059\n"
    )
    w["kitas_tausenderpunkte.csv"] = (
        "kita_id;name;x;y;epsg\n"
        "1.001;Kita 1;358.719,2;5.702.993,4;25832\n"
        "1.002;Kita 2;361.964,5;5.707.369,7;25832\n"
        "1.003;Kita 3;362.677,8;5.694.410,1;25832\n"
    )
    z = [{**f, "geometry": {"type": "Point", "coordinates": [*f["geometry"]["coordinates"], 116.5]}}
         for f in kitas(LONLAT)]
    w["kitas_z_koordinaten.geojson"] = fc(z)
    w["kitas_zm_wkt.csv"] = (
        "kita_id,name,epsg,wkt\n"
        '1,Kita 1,4326,"POINT ZM (6.96629 51.46046 116 0)"\n'
        '2,Kita 2,4326,"POINT M (7.01127 51.50059 12.5)"\n'
    )
    w["stadtteile_doppelte_namen.geojson"] = fc([
        poly(square(7.00, 51.45), stadtteil_nr=1, stadtteil="Stadtkern", bezirk=1),
        poly(square(7.02, 51.45), stadtteil_nr=2, stadtteil="Stadtkern", bezirk=1),
    ])
    w["stadtteile_ueberlappend.geojson"] = fc([
        poly(square(7.00, 51.45), stadtteil_nr=1, stadtteil="Stadtkern", bezirk=1),
        poly(square(7.005, 51.45), stadtteil_nr=2, stadtteil="Ostviertel", bezirk=1),
    ])
    for name, text in w.items():
        (HERE / name).write_text(text, encoding="utf-8")
    # Read correctly, not rejected: German Excel CSV (cp1252, ';', decimal commas).
    (HERE / "kitas_semikolon_latin1.csv").write_bytes(
        "kita_id;name;stadtteil;lon;lat\n"
        "1;Kita Bürgerstraße;Altendorf;6,96629;51,46046\n"
        "2;Kita Sonnenblume;Altenessen-Nord;7,01127;51,50059\n"
        "3;Kita Ruhrwiese;Heidhausen;7,02656;51,38430\n".encode("cp1252")
    )
    # Old spellings and a typo: read as the official names, with a warning.
    (HERE / "kitas_stadtteil_schreibweisen.csv").write_bytes(
        "kita_id;name;stadtteil;lon;lat\n"
        "1;Kita 1;Margaretenhöhe;6,96629;51,46046\n"
        "2;Kita 2;Altenessen Sued;7,01127;51,50059\n"
        "3;Kita 3;Rüttenscheidt;7,02656;51,38430\n".encode("cp1252")
    )
    (HERE / "kitas_leer.gpkg").write_bytes(b"")
    # A shapefile without .prj (no CRS).
    import geopandas as gpd
    from shapely.geometry import Point

    gdf = gpd.GeoDataFrame({"kita_id": [1, 2, 3], "name": ["A", "B", "C"]},
                           geometry=[Point(xy) for xy in UTM], crs=None)
    shp = HERE / "kitas_ohne_prj.shp"
    gdf.to_file(shp, driver="ESRI Shapefile", engine="pyogrio")
    for ext in (".prj", ".cpg"):
        shp.with_suffix(ext).unlink(missing_ok=True)
    # Measured points (M values, e.g. from a GPS track or a route export) in a GeoPackage;
    # pyogrio cannot write M, so GDAL's ogr2ogr converts a WKT table.
    import shutil
    import subprocess
    import tempfile

    m = HERE / "kitas_m_werte.gpkg"
    if shutil.which("ogr2ogr"):
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "kitas.csv"
            src.write_text("kita_id,name,wkt\n" + "".join(
                f'{i + 1},Kita {i + 1},"POINT M ({x} {y} {i * 10})"\n'
                for i, (x, y) in enumerate(UTM)), encoding="utf-8")
            m.unlink(missing_ok=True)
            subprocess.run(["ogr2ogr", "-f", "GPKG", str(m), str(src), "-nln", "kitas",
                            "-a_srs", "EPSG:25832", "-oo", "GEOM_POSSIBLE_NAMES=wkt",
                            "-oo", "KEEP_GEOM_COLUMNS=NO", "-oo", "AUTODETECT_TYPE=YES",
                            "-nlt", "POINTM"], check=True)

if __name__ == "__main__":
    main()
