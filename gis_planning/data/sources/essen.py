"""Cleaning the raw Essen open-data files into catalogue layers.

Every known defect listed in ``layers/essen/PROVENANCE.md`` is handled here, in code, and is
visible in the result (flags, notes), never fixed by editing the raw files:

* Stadtbezirke carry XYZM coordinates (x, y, 0, 0): Z and M are dropped.
* Kitas: three rows are "voraussichtliche Inbetriebnahme 2024/2025"; they are kept and flagged
  (``in_betrieb = False``).
* Kitas and schools: the source's own Stadtteil text is kept (``stadtteil_quelle``) beside the
  Stadtteil the point falls in (``stadtteil``); disagreements are flagged with their kind
  (truncated "Überruhr-Holtha.", short "Borbeck", typo "Berbeborbeck", genuine border cases).
* School forms are normalised to a fixed vocabulary with a school level.

All layers are returned in the analysis CRS EPSG:25832.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..._names import match_names
from ..io import read_file

__all__ = [
    "BEZIRK_NAMES",
    "CRS",
    "ESTIMATE_VARIANT",
    "RAW_DIR",
    "SCHULFORM_STUFE",
    "STADTTEIL_ALIASES",
    "jobcenter_audit",
    "jobcenter_zuordnung",
    "load_jobcenter",
    "load_kitas",
    "load_projektwohnungen",
    "load_schulen",
    "load_stadtbezirke",
    "load_stadtgrenze",
    "load_stadtteile",
    "load_stadtteile_osm_raw",
    "stadtteil_statistik",
]

#: Working CRS of Essen (ETRS89 / UTM zone 32N, as NRW's own data).
CRS = "EPSG:25832"

#: Folder with the raw files as found (copied from shared/data/essen).
RAW_DIR = Path(__file__).resolve().parents[3] / "layers" / "essen" / "raw"

ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX")

#: Official names of Essen's nine Stadtbezirke.
BEZIRK_NAMES = {
    1: "Stadtmitte/Frillendorf/Huttrop",
    2: "Rüttenscheid/Bergerhausen",
    3: "Essen-West",
    4: "Borbeck",
    5: "Altenessen/Karnap/Vogelheim",
    6: "Zollverein",
    7: "Steele/Kray",
    8: "Ruhrhalbinsel",
    9: "Werden/Kettwig/Bredeney",
}

#: Short or old names used by sources, and the official Stadtteil they mean.
STADTTEIL_ALIASES = {
    "Borbeck": "Borbeck-Mitte",
    "Margaretenhöhe": "Margarethenhöhe",
}

#: Normalised school form -> school level (Schulstufe).
SCHULFORM_STUFE = {
    "Grundschule": "Primarstufe",
    "Hauptschule": "Sekundarstufe I",
    "Realschule": "Sekundarstufe I",
    "Sekundarschule": "Sekundarstufe I",
    "Gesamtschule": "Sekundarstufe I und II",
    "Gymnasium": "Sekundarstufe I und II",
    "Waldorfschule": "Sekundarstufe I und II",
    "Förderschule": "Förderschule",
    "Klinikschule": "Förderschule",
    "Berufskolleg": "Berufsbildend",
    "Weiterbildungskolleg": "Weiterbildung",
}


def _raw(name: str, raw_dir: Path | None) -> Path:
    return Path(raw_dir or RAW_DIR) / name


@cache
def _stadtteile_cached(raw_dir: Path | None) -> gpd.GeoDataFrame:
    gdf = read_file(_raw("stadtteile_50.geojson", raw_dir))
    out = gpd.GeoDataFrame(
        {
            "stadtteil_nr": gdf["stadtteil_nr"].astype("int64"),
            "stadtteil": gdf["name"].astype(str),
            "bezirk": gdf["stadtbez"].astype("int64"),
            "bezirk_roman": gdf["stadtbez_roman"].astype(str),
            "osm_id": gdf["osm_id"].astype(str),
            "abgeleitet": gdf["osm_id"].isna() | (gdf["stadtteil_nr"] == 20),
        },
        geometry=gdf.geometry.make_valid(),
        crs=gdf.crs,
    ).to_crs(CRS)
    out["flaeche_km2"] = (out.area / 1e6).round(3)
    return out.sort_values("stadtteil_nr").reset_index(drop=True)


def load_stadtteile(*, raw_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Return the 50 Stadtteile (number 1-50, name, Bezirk 1-9) in EPSG:25832.

    Source: OpenStreetMap admin_level=10 (about 2016), Gerschede (nr 20) derived as city
    boundary minus the other 49 (flag ``abgeleitet``); see PROVENANCE.md.
    """
    return _stadtteile_cached(raw_dir).copy()


def load_stadtbezirke(*, raw_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Return the 9 official Stadtbezirke (Stadt Essen) in EPSG:25832, Z/M dropped."""
    gdf = read_file(_raw("stadtbezirke_stadt_essen.geojson", raw_dir))
    geom = shapely.force_2d(gdf.geometry.to_numpy())
    out = gpd.GeoDataFrame(
        {
            "bezirk": gdf["STADTBEZ"].astype("int64"),
            "bezirk_roman": gdf["STADTBEZR"].astype(str).str.strip(),
        },
        geometry=gpd.GeoSeries(geom, crs=gdf.crs).make_valid(),
        crs=gdf.crs,
    ).to_crs(CRS)
    out["bezirk_name"] = out["bezirk"].map(BEZIRK_NAMES)
    out["flaeche_km2"] = (out.area / 1e6).round(3)
    return out.sort_values("bezirk").reset_index(drop=True)


def load_stadtgrenze(*, raw_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Return the official city boundary of Essen (1 polygon) in EPSG:25832."""
    gdf = read_file(_raw("stadtgrenze_stadt_essen.geojson", raw_dir))
    geom = shapely.force_2d(gdf.geometry.to_numpy())
    out = gpd.GeoDataFrame(
        {"stadt": ["Essen"]},
        geometry=[shapely.union_all(gpd.GeoSeries(geom).make_valid().to_numpy())],
        crs=gdf.crs,
    ).to_crs(CRS)
    out["flaeche_km2"] = (out.area / 1e6).round(2)
    return out


def load_stadtteile_osm_raw(*, raw_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Return the 49 OSM polygons as found, EPSG:4326.

    The file is not GeoJSON: a ``boundaries`` list whose items carry ``type`` and
    ``coordinates`` of a geometry beside ``id``, ``name`` and ``tags``.
    """
    data = json.loads(_raw("stadtteile_osm_2016_49.json", raw_dir).read_text(encoding="utf-8"))
    items = data["boundaries"] if isinstance(data, dict) else data
    feats = [
        {
            "type": "Feature",
            "properties": {k: v for k, v in b.items()
                           if k not in ("type", "coordinates", "tags")},
            "geometry": {"type": b["type"], "coordinates": b["coordinates"]},
        }
        for b in items
    ]
    return gpd.GeoDataFrame.from_features(feats, crs="EPSG:4326")


def _assign_stadtteil(
    points: gpd.GeoDataFrame, quelle: pd.Series, raw_dir: Path | None = None
) -> gpd.GeoDataFrame:
    """Add the Stadtteil each point falls in and compare it with the source's own text."""
    st = load_stadtteile(raw_dir=raw_dir)
    joined = gpd.sjoin(
        points, st[["stadtteil_nr", "stadtteil", "bezirk", "geometry"]],
        how="left", predicate="within",
    )
    joined = joined[~joined.index.duplicated(keep="first")].drop(columns="index_right")
    if joined["stadtteil_nr"].isna().any():  # on a border: take the nearest polygon
        miss = joined["stadtteil_nr"].isna()
        near = gpd.sjoin_nearest(points.loc[miss], st[["stadtteil_nr", "stadtteil", "bezirk",
                                                        "geometry"]], how="left")
        near = near[~near.index.duplicated(keep="first")]
        for c in ("stadtteil_nr", "stadtteil", "bezirk"):
            joined.loc[miss, c] = near[c]
    joined["stadtteil_nr"] = joined["stadtteil_nr"].astype("int64")
    joined["bezirk"] = joined["bezirk"].astype("int64")
    matches = match_names(quelle.tolist(), st["stadtteil"].tolist(), aliases=STADTTEIL_ALIASES)
    joined["stadtteil_quelle"] = quelle.to_numpy()
    joined["stadtteil_quelle_gedeutet"] = [m.matched for m in matches]
    same_text = joined["stadtteil_quelle"] == joined["stadtteil"]
    same_place = joined["stadtteil_quelle_gedeutet"] == joined["stadtteil"]
    kinds = np.array([m.kind for m in matches], dtype=object)
    art = np.where(same_text, "", np.where(same_place, kinds, "anderer Stadtteil"))
    joined["stadtteil_abweichung"] = ~same_text
    joined["abweichung_art"] = art
    return joined


def load_kitas(*, raw_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Return the 312 Kitas (school year 2024/25) in EPSG:25832.

    The three not yet opened ("voraussichtliche Inbetriebnahme") are kept with
    ``in_betrieb = False``. ``stadtteil`` is the Stadtteil polygon the point lies in,
    ``stadtteil_quelle`` the source's own text; ``stadtteil_abweichung`` flags disagreement.
    """
    raw = read_file(_raw("kitas_2024_2025_stadt_essen.geojson", raw_dir))
    konzept = raw["Betreukonz"].astype(str).str.replace(r"\s+", " ", regex=True).str.strip()
    hnr = raw["E_HNR"].astype("string").fillna("").str.strip()
    zus = raw["E_HSNR_ZUS"].astype("string").fillna("").str.strip()
    pts = gpd.GeoDataFrame(
        {
            "kita_id": raw["E_ENR"].astype("int64"),
            "name": raw["E_Bezeichn"].astype(str).str.strip(),
            "strasse": raw["E_Strasse"].astype(str).str.strip(),
            "hausnummer": (hnr + zus).str.strip(),
            "plz": raw["E_PLZ"].astype("string").str.strip(),
            "traeger": raw["V_Name"].astype(str).str.strip(),
            "betreuung": konzept,
            "in_betrieb": ~konzept.str.contains("voraussichtliche Inbetriebnahme", case=False),
        },
        geometry=shapely.force_2d(raw.geometry.to_numpy()),
        crs=raw.crs,
    ).to_crs(CRS)
    out = _assign_stadtteil(pts, raw["E_Stadttei"].astype(str).str.strip(), raw_dir)
    return out.reset_index(drop=True)


def _normalise_schulform(text: pd.Series) -> pd.Series:
    clean = text.astype(str).str.replace(r"\s+", " ", regex=True).str.strip()
    known = {k.casefold(): k for k in SCHULFORM_STUFE}
    return clean.map(lambda s: known.get(s.casefold(), s))


def load_schulen(*, raw_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Return the 212 schools (2024/25) in EPSG:25832 with normalised school form.

    ``schulform`` is one of :data:`SCHULFORM_STUFE`'s keys (as written in the source, with
    spacing and case normalised); ``schulstufe`` the level it belongs to.
    """
    raw = read_file(_raw("schulen_2024_2025_stadt_essen.geojson", raw_dir))
    form = _normalise_schulform(raw["S_SCHULFOR"])
    hnr = raw["S_HNR"].astype("string").fillna("").str.strip()
    zus = raw["S_HNR_ZUSA"].astype("string").fillna("").str.strip()
    pts = gpd.GeoDataFrame(
        {
            "schul_id": np.arange(1, len(raw) + 1, dtype="int64"),
            "name": raw["S_BEZEICHN"].astype(str).str.strip(),
            "schulform": form,
            "schulform_quelle": raw["S_SCHULFOR"].astype(str),
            "schulstufe": form.map(SCHULFORM_STUFE).fillna("sonstige"),
            "strasse": raw["S_STRASSE"].astype(str).str.strip(),
            "hausnummer": (hnr + zus).str.strip(),
            "plz": raw["S_PLZ"].astype("string").str.strip(),
        },
        geometry=shapely.force_2d(raw.geometry.to_numpy()),
        crs=raw.crs,
    ).to_crs(CRS)
    out = _assign_stadtteil(pts, raw["S_STADTT_1"].astype(str).str.strip(), raw_dir)
    return out.reset_index(drop=True)


# --- layers and tables derived from the strategy paper (Vorlage 1846/2016/5) -----------------
def load_jobcenter() -> gpd.GeoDataFrame:
    """Return the JobCenter areas of the Vorlage as a layer (dissolved Stadtteile)."""
    from . import essen_jobcenter

    return essen_jobcenter.jobcenter_areas(load_stadtteile())


def jobcenter_zuordnung() -> pd.DataFrame:
    """Return the JobCenter assignment per Stadtteil with its audit status (a table)."""
    from . import essen_jobcenter

    out = essen_jobcenter.jobcenter_zuordnung(load_stadtteile())
    return pd.DataFrame(out.drop(columns=out.geometry.name))


def jobcenter_audit() -> pd.DataFrame:
    """Return the open points of the Vorlage's JobCenter lists (a table)."""
    from . import essen_jobcenter

    return essen_jobcenter.jobcenter_audit(load_stadtteile())


def load_projektwohnungen(*, total: int = 500, seed: int = 2016) -> gpd.GeoDataFrame:
    """Return the synthetic project-flat layer for Essen (``synthetisch / Demonstrationsdaten``).

    ``total`` points are split over the 9 Bezirke by the Vorlage's shares of project flats
    (FB 12, 30.09.2016) and placed uniformly at random in each Bezirk. The number 500 is a
    demonstration choice: the Vorlage publishes shares, not counts.
    """
    from ..synthetic import synthetic_points_by_share
    from . import essen_seed

    bezirke = load_stadtbezirke().merge(
        essen_seed.bezirk_statistik()[["bezirk", "projektwohnungen_anteil_prozent"]],
        on="bezirk",
    )
    pts = synthetic_points_by_share(
        bezirke, "projektwohnungen_anteil_prozent", total=total, seed=seed, id_column="bezirk"
    )
    st = load_stadtteile()[["stadtteil_nr", "stadtteil", "geometry"]]
    joined = gpd.sjoin(pts, st, how="left", predicate="within").drop(columns="index_right")
    joined = joined[~joined.index.duplicated()]
    return joined[
        ["wohnung_id", "bezirk", "stadtteil_nr", "stadtteil", "synthetisch", "hinweis", "geometry"]
    ].reset_index(drop=True)


def stadtteil_statistik(*, raw_dir: Path | None = None, variante: str | None = None
                        ) -> pd.DataFrame:
    """Return the documented Stadtteil estimate for 30.09.2016 (every row ``geschaetzt``).

    Inhabitants per Stadtteil from the published figure nearest to 2016
    (``stadtteil_einwohner_quellen.csv``; Stadtteile without one: Zensus 2011 inhabitants
    times the Bezirk's ratio), raked to the Vorlage's Bezirk totals (FB 12, 30.09.2016); the
    12-origin persons spread within each Bezirk in proportion to the Zensus 2011 share of
    nationality group "Sonstige Welt", keeping the 8 Stadtteil shares the Vorlage prints.
    ``variante`` picks another estimate of
    :func:`gis_planning.analysis.estimates.schaetz_varianten` (default
    ``"zensusverhaeltnis_sonstige_welt"``, the best by leave-one-out, see
    ``docs/estimate_validation.md``; ``"gleichverteilt"`` is the earlier estimate).
    """
    from ...analysis import estimates
    from ...analysis.aggregate import aggregate_cells
    from . import essen_seed
    from .essen_zensus import load_zensus2011

    st = load_stadtteile(raw_dir=raw_dir)
    quellen = pd.read_csv(_raw("stadtteil_einwohner_quellen.csv", raw_dir),
                          dtype={"stadtteil_nr": str})
    ew = estimates.stadtteil_einwohner(quellen, st)
    zensus = aggregate_cells(load_zensus2011(raw_dir=raw_dir), st,
                             columns=["personen", "nichtdeutsche", "sonstige_welt"],
                             unit_id="stadtteil_nr").reset_index()
    varianten = estimates.schaetz_varianten(zensus)
    name = variante or ESTIMATE_VARIANT
    if name not in varianten:
        raise ValueError(f"unbekannte Schätzvariante {name!r}; möglich: "
                         f"{', '.join(varianten)}.")
    return estimates.stadtteil_schaetzung(
        ew, st, bezirk_statistik=essen_seed.bezirk_statistik(),
        betroffene=essen_seed.betroffene_stadtteile(), **varianten[name],
    )


#: The Stadtteil estimate used by default (best by leave-one-out on the 8 printed shares).
ESTIMATE_VARIANT = "zensusverhaeltnis_sonstige_welt"
