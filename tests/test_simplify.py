"""Tests of gis_planning.outputs.simplify on synthetic grids and the real Essen Stadtteile."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from gis_planning import CRSError, GeometryError, InputError
from gis_planning.outputs.simplify import (
    decimals_for_zoom,
    geojson_size,
    max_deviation,
    round_coordinates,
    simplify_coverage,
)

RAW = Path(__file__).resolve().parents[1] / "layers" / "essen" / "raw" / "stadtteile_50.geojson"


def _zigzag_pair() -> gpd.GeoDataFrame:
    """Two 1000 m squares sharing a border with 1 m zigzags every 10 m."""
    border = [(1000 + (0.5 if i % 2 else -0.5), 10.0 * i) for i in range(101)]
    border[0], border[-1] = (1000.0, 0.0), (1000.0, 1000.0)
    left = Polygon([(0, 0), *border, (0, 1000)])
    right = Polygon([*border, (2000, 1000), (2000, 0)][::-1])
    return gpd.GeoDataFrame(
        {"name": ["links", "rechts"]}, geometry=[left, right], index=[10, 20], crs="EPSG:25832"
    )


def _overlap_area(gdf: gpd.GeoDataFrame) -> float:
    geoms = gdf.geometry.values
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    return float(shapely.area(shapely.intersection(geoms[left[keep]], geoms[right[keep]])).sum())


@pytest.fixture(scope="module")
def stadtteile() -> gpd.GeoDataFrame:
    return gpd.read_file(RAW).to_crs("EPSG:25832")


def test_zigzag_border_is_simplified_once_for_both_neighbours() -> None:
    gdf = _zigzag_pair()
    before = gdf.copy()
    out = simplify_coverage(gdf, tolerance=5.0)
    assert gdf.geom_equals(before.geometry).all()  # input untouched
    assert list(out.index) == [10, 20] and out.crs == gdf.crs
    assert list(out["name"]) == ["links", "rechts"]
    # the zigzag (1 m amplitude) goes: few vertices left, borders identical in both polygons
    assert shapely.get_num_coordinates(out.geometry.values).sum() < 20
    shared = shapely.intersection(out.geometry.iloc[0], out.geometry.iloc[1])
    assert shared.length == pytest.approx(1000.0, abs=1.0)
    assert _overlap_area(out) == pytest.approx(0.0, abs=1e-6)
    assert out.union_all().area == pytest.approx(2_000_000.0)
    assert 0 < max_deviation(gdf, out).max() <= 1.0 + 1e-9  # zigzag is 1 m peak to peak


def test_essen_stadtteile_borders_within_5_m_without_gaps_or_overlaps(stadtteile) -> None:
    src = stadtteile
    out = simplify_coverage(src, max_error=5.0)
    dev = max_deviation(src, out)
    assert dev.max() <= 5.0
    assert dev.index.equals(src.index) and dev.name == "max_deviation_m"
    assert shapely.coverage_is_valid(out.geometry.values)
    # no overlaps: pairwise intersections have no area
    assert _overlap_area(out) == pytest.approx(0.0, abs=1.0)
    # no gaps: the union has the same area (within a 5 m wide ribbon along the city limit)
    # and no new holes
    u_src, u_out = src.union_all(), out.union_all()
    assert abs(u_out.area - u_src.area) < 5.0 * u_src.length
    assert sum(out.area) == pytest.approx(u_out.area, rel=1e-9)
    holes = lambda g: sum(len(p.interiors) for p in getattr(g, "geoms", [g]))  # noqa: E731
    assert holes(u_out) == holes(u_src)
    # size measured: fewer vertices and a smaller GeoJSON
    n_src = shapely.get_num_coordinates(src.geometry.values).sum()
    n_out = shapely.get_num_coordinates(out.geometry.values).sum()
    assert n_out < n_src
    assert geojson_size(out, precision=5) < geojson_size(src, precision=6) < geojson_size(
        src, precision=15
    )


def test_tolerance_grows_the_deviation(stadtteile) -> None:
    small = max_deviation(stadtteile, simplify_coverage(stadtteile, tolerance=2.0)).max()
    large = max_deviation(stadtteile, simplify_coverage(stadtteile, tolerance=40.0)).max()
    assert 0 < small < large
    zero = simplify_coverage(stadtteile, tolerance=0.0)
    assert zero.geom_equals_exact(stadtteile.geometry, tolerance=0).all()


def test_validation_errors() -> None:
    gdf = _zigzag_pair()
    with pytest.raises(CRSError, match="Projizieren Sie zuerst"):
        simplify_coverage(gdf.to_crs("EPSG:4326"), tolerance=5.0)
    with pytest.raises(InputError, match="genau eine Angabe"):
        simplify_coverage(gdf)
    with pytest.raises(InputError, match="genau eine Angabe"):
        simplify_coverage(gdf, tolerance=1.0, max_error=1.0)
    with pytest.raises(InputError, match="0 oder größer"):
        simplify_coverage(gdf, tolerance=-1.0)
    pts = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs="EPSG:25832")
    with pytest.raises(GeometryError, match="nur nicht leere Flächen"):
        simplify_coverage(pts, tolerance=1.0)
    with pytest.raises(InputError, match="dieselben Zeilen"):
        max_deviation(gdf, gdf.iloc[::-1])


def test_overlapping_input_warns() -> None:
    gdf = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10), box(5, 0, 15, 10)], crs="EPSG:25832")
    with pytest.warns(UserWarning, match="keine saubere Flächendeckung"):
        simplify_coverage(gdf, tolerance=1.0)


def test_max_deviation_hand_computed() -> None:
    a = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], crs="EPSG:25832")
    b = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 7)], crs="EPSG:25832")
    assert max_deviation(a, b).iloc[0] == pytest.approx(3.0)


@pytest.mark.parametrize(("zoom", "decimals"), [(10, 4), (15, 5), (16, 6), (18, 6), (19, 7)])
def test_decimals_for_zoom(zoom: int, decimals: int) -> None:
    # resolution at 51.45 deg: 156543.03 * cos(lat) / 2**z m/px; 1e-5 deg = 1.11 m
    res = 156543.03 * np.cos(np.radians(51.45)) / 2**zoom
    assert decimals_for_zoom(zoom) == decimals
    assert 111_320 * 10.0**-decimals <= res / 2 < 111_320 * 10.0 ** -(decimals - 1)
    with pytest.raises(InputError, match="Zoomstufe 30: erlaubt sind 0 bis 24"):
        decimals_for_zoom(30)


def test_round_coordinates_keeps_shared_vertices(stadtteile) -> None:
    out = simplify_coverage(stadtteile, max_error=5.0).to_crs("EPSG:4326")
    rounded = round_coordinates(out, decimals=6)
    xy = shapely.get_coordinates(rounded.geometry.values)
    assert np.allclose(xy, np.round(xy, 6))
    assert shapely.coverage_is_valid(rounded.geometry.values)
    assert geojson_size(out, precision=6) > geojson_size(out, precision=4)
