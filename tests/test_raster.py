"""Raster surfaces: lattice, mass-preserving smoothing, zonal totals, privacy mask, COG files."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from click.testing import CliRunner

from gis_planning import results
from gis_planning._errors import ConfidentialDataError, InputError, OutputExistsError
from gis_planning.cli import cli
from gis_planning.outputs import raster

CRS = "EPSG:25832"


def _zones(n: int = 4, size: float = 200.0, values=None) -> gpd.GeoDataFrame:
    """n x n square zones of ``size`` metres, aligned to a 100 m lattice."""
    boxes, vals = [], []
    for i in range(n):
        for j in range(n):
            boxes.append(shapely.box(i * size, j * size, (i + 1) * size, (j + 1) * size))
            vals.append(10.0 * (i * n + j + 1))
    vals = np.asarray(values if values is not None else vals, float)
    return gpd.GeoDataFrame({"herkunft12_anzahl": vals, "einwohner": vals * 10 + 1000},
                            geometry=boxes, crs=CRS)


def test_raster_grid_lattice():
    b = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 300, 200)], crs=CRS)
    g = raster.raster_grid(b, cell_size=100)
    assert (g.width, g.height) == (3, 2)
    assert tuple(g.transform)[:6] == (100.0, 0.0, 0.0, 0.0, -100.0, 200.0)
    assert g.mask.all() and np.allclose(g.covered_m2, 1e4)
    tri = gpd.GeoDataFrame(geometry=[shapely.Polygon([(0, 0), (200, 0), (0, 200)])], crs=CRS)
    g2 = raster.raster_grid(tri, cell_size=100)
    assert g2.covered_m2.sum() == pytest.approx(2e4)
    assert g2.mask.sum() == 3
    with pytest.raises(Exception, match="geographic|projected"):
        raster.raster_grid(b.to_crs("EPSG:4326"))


def test_smooth_mass_preserves_total_inside_irregular_mask():
    rng = np.random.default_rng(1)
    mask = np.zeros((30, 40), bool)
    mask[5:25, 3:30] = True
    mask[10:15, 10:20] = False  # a hole
    mass = np.where(mask, rng.poisson(3, mask.shape), 0).astype(float)
    for sigma in (0.0, 1.0, 3.5, 10.0):
        out = raster.smooth_mass(mass, mask, sigma_cells=sigma)
        assert out.sum() == pytest.approx(mass.sum(), rel=1e-12)
        assert (out[~mask] == 0).all()
    assert np.array_equal(raster.smooth_mass(mass, mask, sigma_cells=0), mass)
    spread = raster.smooth_mass(mass, mask, sigma_cells=3)
    assert spread.std() < mass.std()


def test_population_density_exact_zone_totals_when_aligned():
    zones = _zones()
    s = raster.population_density(zones, bandwidth=0, cell_size=100)
    z = raster.zonal_statistics(s, zones, band=0)
    np.testing.assert_allclose(z["summe"], zones["herkunft12_anzahl"], rtol=1e-12)
    # density of the first zone: 10 persons on 0.04 km²
    assert s.band(0)[s.grid.height - 1, 0] == pytest.approx(10 / 0.04)
    smooth = raster.population_density(zones, bandwidth=150, cell_size=100)
    zs = raster.zonal_statistics(smooth, zones, band=1)
    assert zs["summe"].sum() == pytest.approx(zones["einwohner"].sum(), rel=1e-12)
    assert not np.allclose(zs["summe"], zones["einwohner"])  # smoothing moves people
    chk = raster.total_check(smooth, zones, band=1)
    assert chk["zonal"] == pytest.approx(chk["expected"]) == pytest.approx(chk["raster"])


def test_population_density_essen_totals(catalog):
    table = results.compute(catalog, "stadtteil_statistik")
    s = raster.population_density(table, cell_size=200, bandwidth=300)
    for band, col in enumerate(("herkunft12_anzahl", "einwohner")):
        z = raster.zonal_statistics(s, table, band=band)
        assert z["summe"].sum() == pytest.approx(table[col].sum(), rel=1e-9)
    # without smoothing each Stadtteil keeps its total up to the rasterisation of borders
    s0 = raster.population_density(table, cell_size=200, bandwidth=0)
    err = (raster.zonal_statistics(s0, table)["summe"] / table["herkunft12_anzahl"] - 1).abs()
    assert err.median() < 0.05


def test_flats_density_masks_small_counts_and_keeps_totals():
    zones = _zones(n=4, size=500)  # 2 km x 2 km
    cluster = [shapely.Point(250 + i, 250 + i) for i in range(12)]
    lone = [shapely.Point(1750, 1750)]
    pts = gpd.GeoDataFrame(geometry=cluster + lone, crs=CRS)
    s = raster.flats_density(pts, zones, cell_size=100, bandwidth=0, k=5)
    d = s.band(0)
    rows, cols = np.nonzero(np.isfinite(d) & (d > 0))
    assert len(rows) == 1  # only the cluster cell shows
    assert d[rows[0], cols[0]] == pytest.approx(12 / 0.01)
    assert np.isnan(d[s.grid.height - 18, 17])  # the lone flat's cell is masked
    chk = raster.total_check(s, zones)
    assert chk["expected"] == 13
    assert chk["zonal"] == pytest.approx(12.0)
    assert chk["withheld"] == pytest.approx(1 / 13, abs=1e-4)
    smooth = raster.flats_density(pts, zones, cell_size=100, bandwidth=300, k=5)
    chk = raster.total_check(smooth, zones)
    assert chk["zonal"] == pytest.approx(13 * (1 - float(smooth.tags["unterdrueckt_anteil"])),
                                         abs=1e-3)
    with pytest.warns(UserWarning, match="outside the domain"):
        raster.flats_density(gpd.GeoDataFrame(geometry=[shapely.Point(5000, 5000)], crs=CRS),
                             zones)


def test_distance_surface_hand_computed():
    b = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 300, 200)], crs=CRS)
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(50, 50)], crs=CRS)
    s = raster.distance_surface(b, {"Kita": pts}, cell_size=100)
    d = s.band(0)
    assert d[1, 0] == pytest.approx(0.0)  # bottom-left cell, centre (50, 50)
    assert d[0, 2] == pytest.approx(np.hypot(200, 100))  # top-right, centre (250, 150)
    assert s.bands == ("Entfernung zur nächsten Kita (m)",) and s.units == ("m",)
    with pytest.raises(InputError, match="empty"):
        raster.distance_surface(b, {})


def test_gi_surface_finds_the_high_block():
    vals = np.full(36, 10.0)
    vals[[14, 15, 20, 21]] = 400.0  # central 2 x 2 zones
    zones = _zones(n=6, size=200, values=vals)
    zones["einwohner"] = 1000.0
    s = raster.gi_surface(zones, cell_size=100, distance=250, permutations=0)
    z, code = s.band(0), s.band(1)
    centre = z[5:7, 5:7]
    assert (centre > 3).all()
    assert (code[5:7, 5:7] == 1).all()
    assert np.nanmax(z) == z[5:7, 5:7].max()
    assert set(np.unique(code[np.isfinite(code)])) <= {-1.0, 0.0, 1.0}


def test_write_cog_roundtrip(tmp_path):
    zones = _zones()
    s = raster.population_density(zones, bandwidth=100, cell_size=50)
    path = raster.write_cog(s, tmp_path / "pop.tif")
    with rasterio.open(path) as ds:
        assert ds.crs.to_epsg() == 25832
        assert ds.count == 2 and ds.nodata == raster.NODATA
        assert ds.descriptions == s.bands
        assert ds.units == s.units
        assert ds.tags(1)["units"] == "Personen/km²"
        assert ds.tags()["title"] == s.tags["title"]
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert ds.overviews(1)
        assert ds.res == (50.0, 50.0)
        np.testing.assert_allclose(ds.read(1, masked=True).filled(np.nan),
                                   s.band(0).astype("float32"), equal_nan=True)
    with pytest.raises(OutputExistsError):
        raster.write_cog(s, path)
    secret = raster.Surface("x", s.data, s.grid, s.bands, s.units, s.kinds,
                            attrs={"gis_planning_confidential": "projektwohnungen"})
    with pytest.raises(ConfidentialDataError):
        raster.write_cog(secret, tmp_path / "x.tif")
    assert not (tmp_path / "x.tif").exists()


def test_cli_raster_flats_and_distance(tmp_path):
    runner = CliRunner()
    out = tmp_path / "flats.tif"
    res = runner.invoke(cli, ["raster", "flats", "-o", str(out), "--cell-size", "250"])
    assert res.exit_code == 0, res.output
    assert "Summe über Stadtteile" in res.output and "Quelle 500" in res.output
    with rasterio.open(out) as ds:
        assert ds.count == 1 and ds.res == (250.0, 250.0)
    res = runner.invoke(cli, ["raster", "flats", "-o", str(out), "--cell-size", "250"])
    assert res.exit_code == 2 and "overwrite" in res.output
    res = runner.invoke(cli, ["raster", "distance", "-o", str(tmp_path / "d.tif"),
                              "--cell-size", "250"])
    assert res.exit_code == 0, res.output
