"""Tests of gis_planning.analysis.grid: cell counts, ids, areas and validation on hand-made
boxes."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis_planning import CRSError, GeometryError, InputError
from gis_planning.analysis.grid import cell_ids, grid


def _boundary(geom, crs="EPSG:25832"):
    return gpd.GeoDataFrame(geometry=[geom], crs=crs)


def test_square_grid_covers_box_exactly():
    g = grid(_boundary(shapely.box(0, 0, 300, 200)), cell_size=100)
    assert len(g) == 6
    assert g.crs == "EPSG:25832"
    assert list(g.columns) == ["cell_id", "col", "row", "area_m2", "geometry"]
    assert g["area_m2"].sum() == pytest.approx(60_000)
    assert set(g["cell_id"]) == {f"100mN{r}E{c}" for r in range(2) for c in range(3)}
    assert g["cell_id"].is_unique


def test_ids_are_stable_across_extents():
    small = grid(_boundary(shapely.box(1000, 1000, 1200, 1100)), cell_size=100)
    big = grid(_boundary(shapely.box(0, 0, 3000, 3000)), cell_size=100)
    merged = small.merge(big[["cell_id", "geometry"]], on="cell_id", suffixes=("", "_big"))
    assert len(merged) == len(small) == 2
    assert shapely.equals(merged.geometry.values, merged["geometry_big"].values).all()


def test_touching_cells_are_dropped_and_partial_cells_kept():
    g = grid(_boundary(shapely.box(50, 0, 150, 100)), cell_size=100)
    # overlaps cells col 0 and 1; does not include col 2 which touches nothing
    assert sorted(g["col"]) == [0, 1]
    # box edge at x=100 exactly: cell col 1 spans 100..200, overlap 50 wide -> kept
    g2 = grid(_boundary(shapely.box(0, 0, 100, 100)), cell_size=100)
    assert len(g2) == 1  # neighbours that only touch the edge are not returned


def test_clip_cuts_to_boundary_and_preserves_area():
    poly = shapely.Point(500, 500).buffer(321)
    g = grid(_boundary(poly), cell_size=50, clip=True)
    assert g["area_m2"].sum() == pytest.approx(poly.area, rel=1e-9)
    assert (g["area_m2"] <= 2500 + 1e-6).all()
    unclipped = grid(_boundary(poly), cell_size=50)
    assert len(unclipped) == len(g)
    assert unclipped["area_m2"].sum() > poly.area


def test_hex_cells_tile_without_overlap():
    s = 100.0
    poly = shapely.box(0, 0, 1000, 1000)
    g = grid(_boundary(poly), cell_size=s, shape="hex", clip=True)
    assert g["area_m2"].sum() == pytest.approx(1e6, rel=1e-9)  # clipped hexes tile the box
    full = grid(_boundary(poly), cell_size=s, shape="hex")
    assert full["area_m2"].to_numpy() == pytest.approx(np.sqrt(3) / 2 * s**2)
    # neighbouring centres are exactly cell_size apart
    c = full.geometry.centroid
    same_row = full["row"] == full["row"].iloc[0]
    xs = np.sort(c[same_row].x.to_numpy())
    assert np.diff(xs) == pytest.approx(s)
    assert full["cell_id"].str.startswith("hex100mR").all()
    assert full["cell_id"].is_unique


def test_cell_ids_helper():
    ids = cell_ids(np.array([3, -1]), np.array([7, 2]), cell_size=250)
    assert ids.tolist() == ["250mN7E3", "250mN2E-1"]


def test_geographic_crs_is_rejected_with_fix():
    with pytest.raises(CRSError, match="Projizieren Sie zuerst nach EPSG:25832"):
        grid(_boundary(shapely.box(7, 51, 7.1, 51.1), crs="EPSG:4326"))


def test_missing_crs_is_rejected():
    with pytest.raises(CRSError, match="kein Koordinatensystem"):
        grid(gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)]))


@pytest.mark.parametrize("kwargs", [{"cell_size": 0}, {"cell_size": -5}, {"shape": "tri"}])
def test_bad_options(kwargs):
    with pytest.raises(InputError, match=r"Zellgröße|Zellform"):
        grid(_boundary(shapely.box(0, 0, 100, 100)), **kwargs)


def test_empty_boundary():
    with pytest.raises(GeometryError):
        grid(gpd.GeoDataFrame(geometry=[], crs="EPSG:25832"))


def test_boundary_not_mutated():
    b = _boundary(shapely.box(0, 0, 200, 200))
    before = b.copy()
    grid(b, cell_size=100, clip=True)
    assert b.equals(before)


def test_grid_size_refused_up_front_with_the_smallest_cell_size():
    """Issue 14.6: `hotspots --grid 10` and `raster ... --cell-size 1` ran out of memory."""
    from gis_planning.analysis.grid import check_grid_size

    assert check_grid_size((0, 0, 10_000, 10_000), 11) == 911 * 911
    with pytest.raises(InputError, match=r"etwa 1\.002\.001 Zellen, mehr als die 1\.000\.000.*"
                                         r"kleinste mögliche Zellgröße hier ist 11 m"):
        check_grid_size((0, 0, 10_000, 10_000), 10)
    b = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 10_000, 10_000)], crs="EPSG:25832")
    with pytest.raises(InputError, match="kleinste mögliche Zellgröße"):
        grid(b, cell_size=1)  # refused before 10^8 boxes are built


@pytest.mark.parametrize("args", [["raster", "distance", "--cell-size", "1", "-o", "p.tif"]])
def test_cli_refuses_grids_beyond_memory(args, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from gis_planning.cli import cli

    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "Die kleinste mögliche Zellgröße hier ist 19 m" in lines[0]
    assert list(tmp_path.iterdir()) == []
