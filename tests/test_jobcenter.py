"""Tests of gis_planning.data.sources.essen_jobcenter: hand-made grids and findings computed by
hand from the seed."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from gis_planning._errors import CRSError, InputError, NameMatchError, SchemaError
from gis_planning.data.sources import essen_jobcenter as jc
from gis_planning.data.sources import essen_seed as seed

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "layers" / "essen" / "raw" / "stadtteile_50.geojson"


def _stadtteile_from_raw() -> gpd.GeoDataFrame:
    g = gpd.read_file(RAW).rename(
        columns={"name": "stadtteil", "stadtbez": "bezirk", "stadtbez_roman": "bezirk_roman"}
    )
    return g[["stadtteil_nr", "stadtteil", "bezirk", "bezirk_roman", "geometry"]].to_crs(
        "EPSG:25832"
    )


@pytest.fixture(scope="module")
def stadtteile() -> gpd.GeoDataFrame:
    try:
        from gis_planning.data import catalog

        g = catalog.load("stadtteile")
    except Exception:  # catalog not available in this checkout: build the frame ourselves
        g = _stadtteile_from_raw()
    assert len(g) == 50
    return g


# --- synthetic 2 x 2 grid --------------------------------------------------------------------
#  3 | 4        A: 1, teilw. 2      B: teilw. 2, 3      C: 3 (again, whole)      4: nowhere
#  1 | 2
@pytest.fixture
def grid() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "stadtteil_nr": [1, 2, 3, 4],
            "stadtteil": ["Eins", "Zwei", "Drei", "Vier"],
            "bezirk": [1, 1, 2, 2],
        },
        geometry=[
            box(0, 0, 1000, 1000),
            box(1000, 0, 2000, 1000),
            box(0, 1000, 1000, 2000),
            box(1000, 1000, 2000, 2000),
        ],
        crs="EPSG:25832",
        index=[10, 11, 12, 13],
    )


@pytest.fixture
def grid_membership() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "jobcenter": ["A", "A", "B", "B", "C"],
            "stadtteil": ["Eins", "Zwei", "Zwei", "Drei", "Drei"],
            "stadtteil_nr": [1, 2, 2, 3, 3],
            "teilweise": [False, True, True, False, False],
            "listed_as": ["Eins", "teilw. Zwei", "teilw. Zwei", "Drei", "Drei..."],
            "incomplete_list": [False, False, False, False, True],
        }
    )


def test_areas_on_grid(grid: gpd.GeoDataFrame, grid_membership: pd.DataFrame) -> None:
    before = grid.copy()
    a = jc.jobcenter_areas(grid, grid_membership)
    assert a["jobcenter"].tolist() == ["A", "B", "C"]
    assert a.crs == grid.crs
    # A = boxes 1+2 (2 km²), B = 2+3 (2 km², touching at a corner only), C = 3 (1 km²)
    assert a["flaeche_km2"].tolist() == pytest.approx([2.0, 2.0, 1.0])
    assert a.geometry.iloc[0].equals(box(0, 0, 2000, 1000))
    assert a["n_stadtteile"].tolist() == [2, 2, 1]
    assert a["n_teilweise"].tolist() == [1, 1, 0]
    assert a["has_partial"].tolist() == [True, True, False]
    assert a["incomplete_list"].tolist() == [False, False, True]
    assert a["stadtteile"].tolist() == ["Eins, teilw. Zwei", "teilw. Zwei, Drei", "Drei..."]
    pd.testing.assert_frame_equal(grid, before)


def test_zuordnung_on_grid(grid: gpd.GeoDataFrame, grid_membership: pd.DataFrame) -> None:
    z = jc.jobcenter_zuordnung(grid, grid_membership)
    assert z.index.tolist() == [10, 11, 12, 13]
    assert z["status"].tolist() == ["eindeutig", "geteilt", "doppelt", "nicht_gelistet"]
    assert z["jobcenter"].tolist() == ["A", "A / B", "B / C", ""]
    assert z["n_jobcenter"].tolist() == [1, 2, 2, 0]
    assert z["incomplete_list"].tolist() == [False, False, True, False]
    assert z["status_label"].iloc[3] == jc.STATUS_LABELS["nicht_gelistet"]


def test_audit_on_grid(grid: gpd.GeoDataFrame, grid_membership: pd.DataFrame) -> None:
    a = jc.jobcenter_audit(grid, grid_membership)
    got = list(zip(a["befund"], a["stadtteil_nr"].astype(object), strict=True))
    assert got == [
        ("doppelt_gelistet", 3),
        ("geteilt", 2),
        ("nicht_gelistet", 4),
        ("liste_abgeschnitten", pd.NA),
    ]
    # Vier touches Zwei (A, B), Drei (B, C) and, at a corner, Eins (A): A 2, B 2, C 1;
    # ties in list order.
    assert a.loc[a["befund"] == "nicht_gelistet", "kandidaten"].item() == "A / B / C"


def test_partial_without_rest_on_grid(grid: gpd.GeoDataFrame) -> None:
    m = pd.DataFrame(
        {
            "jobcenter": ["A", "A"],
            "stadtteil": ["Eins", "Zwei"],
            "stadtteil_nr": [1, 2],
            "teilweise": [False, True],
            "listed_as": ["Eins", "teilw. Zwei"],
            "incomplete_list": [False, False],
        }
    )
    a = jc.jobcenter_audit(grid, m)
    row = a[a["befund"] == "teilweise_rest_fehlt"]
    assert row["stadtteil"].tolist() == ["Zwei"]
    assert row["kandidaten"].item() == ""  # its only listed neighbour is in A itself
    assert set(a.loc[a["befund"] == "nicht_gelistet", "stadtteil_nr"]) == {3, 4}


# --- the seed ----------------------------------------------------------------------------------
def test_seed_areas(stadtteile: gpd.GeoDataFrame) -> None:
    a = jc.jobcenter_areas(stadtteile)
    assert a["jobcenter"].tolist() == [
        "Mitte",
        "Mitte-Nord",
        "Nord",
        "Nord-Ost",
        "Nord-West",
        "Ost",
        "Süd 1 & Süd 2",
        "West",
    ]
    assert a["n_stadtteile"].tolist() == [6, 6, 3, 3, 8, 5, 9, 3]
    assert a["n_teilweise"].tolist() == [3, 3, 1, 1, 0, 1, 0, 2]
    assert a["incomplete_list"].tolist() == [False] * 6 + [True, False]
    assert a.loc[6, "standorte"] == "Süd 1, Süd 2"
    assert a.loc[6, "stadtteile"].endswith("Kettwig...")
    # Nord-West: 8 whole, non-overlapping Stadtteile -> area = sum of their areas
    nw = stadtteile[stadtteile["stadtteil_nr"].isin([16, 17, 18, 19, 20, 21, 23, 50])]
    assert a.loc[4, "flaeche_km2"] == pytest.approx(nw.area.sum() / 1e6, rel=1e-6)
    assert a.crs == stadtteile.crs


def test_seed_audit_findings_computed_by_hand(stadtteile: gpd.GeoDataFrame) -> None:
    a = jc.jobcenter_audit(stadtteile)

    def nrs(code: str) -> list[int]:
        return sorted(int(x) for x in a.loc[a["befund"] == code, "stadtteil_nr"])

    # Westviertel: "Westviertel" under Mitte and under West, both without "teilw."
    assert nrs("doppelt_gelistet") == [4]
    assert a.loc[a["befund"] == "doppelt_gelistet", "jobcenter"].item() == "Mitte / West"
    # teilw. in two lists: Nordviertel (Mitte, Mitte-Nord), Altendorf (Mitte, West),
    # Altenessen-Süd (Mitte, Nord), Kray (Mitte-Nord, Ost), Stoppenberg (Mitte-Nord, Nord-Ost)
    assert nrs("geteilt") == [3, 7, 25, 35, 38]
    # teilw. Frohnhausen under West only
    assert nrs("teilweise_rest_fehlt") == [8]
    # the 50 Stadtteile minus the 37 listed ones
    unlisted = [9, 15, 26, 27, 28, 29, 30, 33, 41, 42, 43, 44, 48]
    assert nrs("nicht_gelistet") == unlisted
    nl = a[a["befund"] == "nicht_gelistet"].set_index("stadtteil_nr")
    assert nl.loc[9, "stadtteil"] == "Holsterhausen"
    assert nl.loc[9, "bezirk"] == 3
    # Bredeney (IX) borders only Süd-listed (Rüttenscheid, Stadtwald, Kettwig ...) or unlisted
    assert nl.loc[26, "kandidaten"] == "Süd 1 & Süd 2"
    assert "vermutlich" in nl.loc[26, "detail"] and "Nicht aufgelöst" in nl.loc[26, "detail"]
    # Haarzopf borders only unlisted Stadtteile (Fulerum, Margarethenhöhe, Bredeney, Schuir)
    assert nl.loc[28, "kandidaten"] == ""
    cut = a[a["befund"] == "liste_abgeschnitten"]
    assert cut["jobcenter"].tolist() == ["Süd 1 & Süd 2"]
    assert "Kettwig..." in cut["detail"].item() and "13 Stadtteile" in cut["detail"].item()
    assert a[a["befund"] == "standorte_zusammengefasst"]["jobcenter"].tolist() == ["Süd 1 & Süd 2"]
    assert len(a) == 1 + 5 + 1 + 13 + 1 + 1


def test_seed_zuordnung_counts(stadtteile: gpd.GeoDataFrame) -> None:
    z = jc.jobcenter_zuordnung(stadtteile)
    assert len(z) == 50
    assert z["status"].value_counts().to_dict() == {
        "eindeutig": 30,
        "nicht_gelistet": 13,
        "geteilt": 5,
        "doppelt": 1,
        "teilweise_rest_offen": 1,
    }
    assert z["incomplete_list"].sum() == 9


def test_verteilung_bereiche() -> None:
    v = jc.jobcenter_verteilung_bereiche()
    assert v["jobcenter"].tolist() == [
        "Mitte",
        "Mitte-Nord",
        "Nord",
        "Nord-Ost",
        "Nord-West",
        "Ost",
        "Süd 1 & Süd 2",
        "West",
        "nicht zugeordnet",
    ]
    sued = v.set_index("jobcenter").loc["Süd 1 & Süd 2"]
    assert sued["afghanistan_prozent"] == pytest.approx(8.7 + 8.1)
    assert sued["iran_prozent"] == pytest.approx(13.5 + 16.0)
    assert sued["standorte"] == "Süd 1, Süd 2"
    assert v["auf_karte"].tolist() == [True] * 8 + [False]
    raw = seed.jobcenter_verteilung()
    for col in seed.JOBCENTER_SPALTEN:
        assert v[col].sum() == pytest.approx(raw[col].sum())


def test_errors(stadtteile: gpd.GeoDataFrame, grid: gpd.GeoDataFrame) -> None:
    with pytest.raises(CRSError, match="Projizieren Sie zuerst"):
        jc.jobcenter_areas(stadtteile.to_crs("EPSG:4326"))
    with pytest.raises(SchemaError, match="bezirk"):
        jc.jobcenter_areas(stadtteile.drop(columns="bezirk"))
    with pytest.raises(InputError, match="müssen eine Ebene mit Geometrien sein, nicht DataFrame"):
        jc.jobcenter_areas(pd.DataFrame(stadtteile.drop(columns="geometry")))
    renamed = stadtteile.copy()
    renamed.loc[renamed["stadtteil_nr"] == 4, "stadtteil"] = "West-Viertel"
    with pytest.raises(NameMatchError, match="Westviertel"):
        jc.jobcenter_audit(renamed)
    with pytest.raises(NameMatchError, match="die Ebene 'stadtteile' aber 'Eins'"):
        jc.jobcenter_areas(grid)
    dup = pd.concat([grid, grid.iloc[:1]])
    with pytest.raises(InputError, match="'stadtteil_nr' hat doppelte Werte"):
        jc.jobcenter_zuordnung(dup, seed.jobcenter_stadtteile().iloc[:0])
    bad = seed.jobcenter_stadtteile().assign(teilweise="ja")
    with pytest.raises(SchemaError, match="teilweise"):
        jc.jobcenter_areas(stadtteile, bad)


def test_raw_fixture_matches_names() -> None:
    data = json.loads(RAW.read_text(encoding="utf-8"))
    names = {f["properties"]["name"] for f in data["features"]}
    assert set(seed.jobcenter_stadtteile()["stadtteil"]) <= names
