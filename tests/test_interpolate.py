"""Tests of gis_planning.analysis.interpolate on hand-made box layouts (values computable by
hand)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis_planning import CRSError, InputError, SchemaError
from gis_planning.analysis.interpolate import (
    InterpolationResult,
    apply_crosswalk,
    area_interpolate,
    crosswalk_from_membership,
)

CRS = "EPSG:25832"


@pytest.fixture
def two_bezirke():
    # two sources 200x100 side by side: A = [0,200]x[0,100], B = [200,400]x[0,100]
    return gpd.GeoDataFrame(
        {"bezirk": ["A", "B"], "ew": [1000.0, 600.0], "quote": [0.1, 0.3]},
        geometry=[shapely.box(0, 0, 200, 100), shapely.box(200, 0, 400, 100)],
        crs=CRS,
        index=[10, 20],
    )


@pytest.fixture
def three_stadtteile():
    # targets do not nest: S1 = [0,100], S2 = [100,300] (half A, half B), S3 = [300,350]
    # the part [350,400] of B is covered by no target
    return gpd.GeoDataFrame(
        {"stadtteil": ["S1", "S2", "S3"]},
        geometry=[
            shapely.box(0, 0, 100, 100),
            shapely.box(100, 0, 300, 100),
            shapely.box(300, 0, 350, 100),
        ],
        crs=CRS,
    )


def test_area_weighted_counts_by_hand(two_bezirke, three_stadtteile):
    out, audit = area_interpolate(
        two_bezirke, three_stadtteile, extensive=["ew"], source_id="bezirk", target_id="stadtteil",
        audit=True,
    )
    assert isinstance(audit, InterpolationResult)
    # S1 = half of A; S2 = half of A + half of B; S3 = quarter of B
    assert out["ew"].tolist() == pytest.approx([500.0, 500.0 + 300.0, 150.0])
    assert audit.unallocated.loc["A", "share_unallocated"] == pytest.approx(0.0)
    assert audit.unallocated.loc["B", "share_unallocated"] == pytest.approx(0.25)
    assert audit.unallocated.loc["B", "ew"] == pytest.approx(150.0)
    # totals preserved: allocated + unallocated == source
    assert out["ew"].sum() + audit.unallocated["ew"].sum() == pytest.approx(1600.0)
    assert audit.check_totals(two_bezirke[["ew"]].sum())["ok"].all()
    cw = audit.crosswalk.set_index(["source_id", "target_id"])
    assert cw.loc[("A", "S1"), "share"] == pytest.approx(0.5)
    assert cw.loc[("B", "S2"), "share"] == pytest.approx(0.5)
    assert cw.loc[("B", "S3"), "share"] == pytest.approx(0.25)
    assert cw.loc[("A", "S2"), "target_share"] == pytest.approx(0.5)
    assert cw.loc[("A", "S2"), "area_m2"] == pytest.approx(10_000)
    assert list(audit.crosswalk.columns) == [
        "source_id",
        "target_id",
        "share",
        "target_share",
        "measure",
        "area_m2",
    ]


def test_result_keeps_target_index_and_columns(two_bezirke, three_stadtteile):
    tgt = three_stadtteile.set_index(pd.Index([7, 8, 9], name="nr"))
    out, audit = area_interpolate(two_bezirke, tgt, extensive=["ew"], audit=True)
    assert list(out.index) == [7, 8, 9]
    assert out.index.name == "nr"
    assert "stadtteil" in out.columns
    assert out.crs == tgt.crs
    assert "ew" not in tgt.columns  # not mutated
    assert set(audit.crosswalk["source_id"]) == {10, 20}


def test_default_returns_target_geodataframe_like_tobler(two_bezirke, three_stadtteile):
    out = area_interpolate(two_bezirke, three_stadtteile, extensive=["ew"], intensive=["quote"])
    assert isinstance(out, gpd.GeoDataFrame)
    assert out.geometry.equals(three_stadtteile.geometry)
    assert list(out.columns) == [*three_stadtteile.columns, "ew", "quote"]
    same, audit = area_interpolate(two_bezirke, three_stadtteile, extensive=["ew"],
                                   intensive=["quote"], audit=True)
    assert audit.result is same
    pd.testing.assert_frame_equal(pd.DataFrame(out), pd.DataFrame(same))
    assert audit.unallocated["ew"].sum() == pytest.approx(150.0)


def test_intensive_is_area_weighted_mean(two_bezirke, three_stadtteile):
    out = area_interpolate(two_bezirke, three_stadtteile, intensive=["quote"])
    assert out["quote"].tolist() == pytest.approx([0.1, 0.2, 0.3])


def test_renormalize_allocates_everything(two_bezirke, three_stadtteile):
    out, audit = area_interpolate(two_bezirke, three_stadtteile, extensive=["ew"],
                                  renormalize=True, audit=True)
    assert out["ew"].sum() == pytest.approx(1600.0)
    assert audit.unallocated["ew"].sum() == pytest.approx(0.0)
    # B: 3/4 covered, S2 gets 0.5/0.75 of 600
    assert out["ew"].iloc[2] == pytest.approx(600 * 0.25 / 0.75)


def test_population_weighted_with_polygon_cells(two_bezirke, three_stadtteile):
    # all of A's residents live in [0,50]x[0,100] (inside S1); B's uniformly
    cells = gpd.GeoDataFrame(
        {"pop": [40.0, 0.0, 0.0, 0.0, 10.0, 10.0, 10.0, 10.0]},
        geometry=[shapely.box(x, 0, x + 50, 100) for x in range(0, 400, 50)],
        crs=CRS,
    )
    # cells 50..200 of A carry 0 weight
    out, audit = area_interpolate(
        two_bezirke, three_stadtteile, extensive=["ew"], weights=cells, weight_column="pop",
        audit=True,
    )
    assert out["ew"].tolist() == pytest.approx([1000.0, 300.0, 150.0])
    assert audit.unallocated["ew"].tolist() == pytest.approx([0.0, 150.0])
    assert out["ew"].sum() + audit.unallocated["ew"].sum() == pytest.approx(1600.0)


def test_population_weighted_with_points(two_bezirke, three_stadtteile):
    pts = gpd.GeoDataFrame(
        {"ew": [3.0, 1.0, 2.0, 2.0]},
        geometry=[
            shapely.Point(10, 50),  # A, S1
            shapely.Point(150, 50),  # A, S2
            shapely.Point(250, 50),  # B, S2
            shapely.Point(375, 50),  # B, no target
        ],
        crs=CRS,
    )
    out, audit = area_interpolate(
        two_bezirke.drop(columns="quote"),
        three_stadtteile,
        extensive=["ew"],
        weights=pts,
        weight_column="ew",
        audit=True,
    )
    assert out["ew"].tolist() == pytest.approx([750.0, 250.0 + 300.0, 0.0])
    assert audit.unallocated["ew"].tolist() == pytest.approx([0.0, 300.0])


def test_point_on_shared_edge_counted_once(two_bezirke, three_stadtteile):
    pts = gpd.GeoDataFrame({"w": [1.0]}, geometry=[shapely.Point(100, 50)], crs=CRS)
    out = area_interpolate(
        two_bezirke.iloc[:1], three_stadtteile, extensive=["ew"], weights=pts, weight_column="w"
    )
    assert out["ew"].sum() == pytest.approx(1000.0)


def test_zero_weight_source_falls_back_to_area(two_bezirke, three_stadtteile):
    cells = gpd.GeoDataFrame({"pop": [5.0]}, geometry=[shapely.box(0, 0, 200, 100)], crs=CRS)
    with pytest.warns(UserWarning, match="Hilfsgewicht 0"):
        out = area_interpolate(
            two_bezirke, three_stadtteile, extensive=["ew"], weights=cells, weight_column="pop"
        )
    assert out["ew"].tolist() == pytest.approx([500.0, 800.0, 150.0])


def test_grid_target_preserves_total_on_irregular_polygon():
    from gis_planning.analysis.grid import grid

    poly = shapely.Point(1234, 987).buffer(555)
    src = gpd.GeoDataFrame({"ew": [12345.0]}, geometry=[poly], crs=CRS)
    cells = grid(src, cell_size=100)
    out, audit = area_interpolate(src, cells, extensive=["ew"], audit=True)
    assert out["ew"].sum() == pytest.approx(12345.0, rel=1e-12)
    assert audit.unallocated["ew"].sum() == pytest.approx(0.0, abs=1e-6)


def test_overlapping_targets_warn(two_bezirke):
    tgt = gpd.GeoDataFrame(
        geometry=[shapely.box(0, 0, 400, 100), shapely.box(0, 0, 100, 100)], crs=CRS
    )
    with pytest.warns(UserWarning, match="Zieleinheiten überlappen"):
        area_interpolate(two_bezirke, tgt, extensive=["ew"])


def test_crs_errors(two_bezirke, three_stadtteile):
    with pytest.raises(CRSError, match="Projizieren Sie zuerst nach EPSG:25832"):
        area_interpolate(
            two_bezirke.set_crs("EPSG:4326", allow_override=True),
            three_stadtteile,
            extensive=["ew"],
        )
    with pytest.raises(CRSError, match=r"Ziel in EPSG:3035"):
        area_interpolate(
            two_bezirke,
            three_stadtteile.set_crs("EPSG:3035", allow_override=True),
            extensive=["ew"],
        )
    with pytest.raises(CRSError, match="kein Koordinatensystem"):
        area_interpolate(two_bezirke, three_stadtteile.set_crs(None, allow_override=True))


def test_schema_errors(two_bezirke, three_stadtteile):
    with pytest.raises(SchemaError, match="fehlt; vorhanden sind"):
        area_interpolate(two_bezirke, three_stadtteile, extensive=["nope"])
    bad = two_bezirke.assign(ew=[1.0, np.nan])
    with pytest.raises(SchemaError, match="fehlende\\(n\\) Wert"):
        area_interpolate(bad, three_stadtteile, extensive=["ew"])
    with pytest.raises(SchemaError, match="hat schon die Spalte"):
        area_interpolate(two_bezirke, three_stadtteile.assign(ew=1), extensive=["ew"])
    with pytest.raises(SchemaError, match="eindeutig"):
        area_interpolate(two_bezirke.assign(bezirk="A"), three_stadtteile, source_id="bezirk")
    with pytest.raises(InputError, match="Spalte mit dem Gewicht"):
        area_interpolate(two_bezirke, three_stadtteile, extensive=["ew"], weights=three_stadtteile)
    with pytest.raises(InputError, match="zugleich als Anzahl und als Anteil"):
        area_interpolate(two_bezirke, three_stadtteile, extensive=["ew"], intensive=["ew"])
    with pytest.raises(InputError, match="Listen von Spaltennamen"):
        area_interpolate(two_bezirke, three_stadtteile, extensive="ew")


def test_membership_with_partial_flags():
    # Stadtteile in JobCenter areas as in the seed: "teilw." -> 0.5
    members = pd.DataFrame(
        {
            "stadtteil": ["Altendorf", "Frohnhausen", "Frohnhausen", "Holsterhausen"],
            "jobcenter": ["West", "West", "Mitte", "Mitte"],
            "teilw": [False, True, True, False],
        }
    )
    cw = crosswalk_from_membership(
        members, source_id="stadtteil", target_id="jobcenter", partial="teilw"
    )
    assert cw["share"].tolist() == [1.0, 0.5, 0.5, 1.0]
    src = pd.DataFrame(
        {"ew": [100.0, 200.0, 50.0], "quote": [0.2, 0.4, 0.1]},
        index=pd.Index(["Altendorf", "Frohnhausen", "Holsterhausen"], name="stadtteil"),
    )
    res = apply_crosswalk(src, cw, extensive=["ew"], intensive=["quote"])
    assert res.result.loc["West", "ew"] == pytest.approx(200.0)
    assert res.result.loc["Mitte", "ew"] == pytest.approx(150.0)
    assert res.result.loc["West", "quote"] == pytest.approx((0.2 + 0.5 * 0.4) / 1.5)
    assert res.unallocated["ew"].sum() == pytest.approx(0.0)


def test_membership_partial_listed_once_leaves_remainder():
    members = pd.DataFrame({"st": ["X", "Y"], "jc": ["Süd 1", "Süd 1"], "t": [True, False]})
    cw = crosswalk_from_membership(members, source_id="st", target_id="jc", partial="t")
    src = pd.DataFrame({"st": ["X", "Y", "Z"], "ew": [10.0, 20.0, 5.0]})
    res = apply_crosswalk(src, cw, extensive=["ew"], source_id="st", targets=["Süd 1", "Nord"])
    assert res.result["ew"].tolist() == pytest.approx([25.0, 0.0])
    assert res.unallocated.loc["X", "ew"] == pytest.approx(5.0)
    assert res.unallocated.loc["Z", "share_unallocated"] == pytest.approx(1.0)
    assert res.result["ew"].sum() + res.unallocated["ew"].sum() == pytest.approx(35.0)


def test_membership_matrix_and_errors():
    matrix = pd.DataFrame({"J1": [0.7, 1.0], "J2": [0.3, 0.0]}, index=["a", "b"])
    cw = crosswalk_from_membership(matrix)
    assert cw[["source_id", "target_id"]].to_numpy().tolist() == [
        ["a", "J1"],
        ["a", "J2"],
        ["b", "J1"],
    ]
    with pytest.raises(InputError, match="mehr als 1"):
        crosswalk_from_membership(pd.DataFrame({"J1": [0.7], "J2": [0.5]}, index=["a"]))
    with pytest.raises(SchemaError, match="zwischen 0 und 1"):
        crosswalk_from_membership(pd.DataFrame({"J1": [1.5]}, index=["a"]))
    dup = pd.DataFrame({"s": ["a", "a"], "t": ["J", "J"]})
    with pytest.raises(SchemaError, match="doppelt"):
        crosswalk_from_membership(dup, source_id="s", target_id="t")
    with pytest.raises(InputError, match="beide Kennspalten"):
        crosswalk_from_membership(dup, source_id="s")
    with pytest.raises(SchemaError, match="Quelleinheiten, die es nicht gibt"):
        apply_crosswalk(pd.DataFrame({"ew": [1.0]}, index=["zz"]), cw, extensive=["ew"])
