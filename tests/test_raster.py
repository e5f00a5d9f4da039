"""Raster surfaces: lattice, mass-preserving smoothing, zonal totals, privacy mask, COG files."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from click.testing import CliRunner

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


def _cells(cols, rows, persons, group, *, size: int = 100):
    from gis_planning.data import zensus

    x = np.asarray(cols) * size + 4_000_000
    y = np.asarray(rows) * size + 3_000_000
    return zensus.cell_frame(x, y, {"personen": np.asarray(persons),
                                    "nichtdeutsche": np.asarray(group)}, cell_size=size)


def test_population_density_from_cells_sums_exactly():
    cells = _cells([0, 1, 3], [0, 0, 2], [7, 20, 453], [1, 0, 90])
    s = raster.population_density(cells)
    assert s.grid.crs == "EPSG:3035" and (s.grid.width, s.grid.height) == (4, 3)
    assert tuple(s.grid.transform)[:6] == (100.0, 0.0, 4_000_000.0, 0.0, -100.0, 3_000_300.0)
    d = s.band("Personen insgesamt je km²")
    assert d[2, 0] == 700.0 and d[2, 1] == 2000.0 and d[0, 3] == 45300.0  # n / 0.01 km²
    assert np.isnan(d[2, 2])  # not a cell of the surface (no domain given)
    assert s.total(0) == 480.0 and s.total(1) == 91.0  # exactly the source totals
    chk = raster.total_check(s, band=0)
    assert chk["raster"] == chk["expected"] == 480.0
    # a domain adds its unpopulated cells as 0 (centre inside), not as nodata
    dom = gpd.GeoDataFrame(geometry=[shapely.box(4_000_000, 3_000_000, 4_000_400, 3_000_100)],
                           crs="EPSG:3035")
    s2 = raster.population_density(cells, domain=dom.to_crs(CRS))
    assert s2.band(0)[2, 2] == 0.0 and s2.band(0)[2, 3] == 0.0 and s2.total(0) == 480.0
    smooth = raster.population_density(cells, domain=dom, bandwidth=100)
    assert smooth.total(0) == pytest.approx(480.0, rel=1e-12)
    assert smooth.band(0)[2, 0] != 700.0


def test_population_density_essen_cells(zensus_catalog):
    s = raster.catalog_surface(zensus_catalog, "bevoelkerung_dichte")
    assert s.grid.crs == "EPSG:3035" and s.grid.cell_size == 100
    assert s.total(0) == 564174.0 and s.total(1) == 53709.0
    assert np.nanmax(s.band(0)) == 45800.0  # the fullest cell: 458 persons on 1 ha
    assert s.tags["quelle"].startswith("Zensus 2011") and s.tags["stand"] == "2011-05-09"
    # every populated cell inside the city, plus empty cells inside the boundary as 0
    assert int((np.nan_to_num(s.band(0)) > 0).sum()) == 10010
    coarse = raster.catalog_surface(zensus_catalog, "bevoelkerung_dichte", cell_size=500)
    assert coarse.grid.cell_size == 500 and coarse.total(0) == pytest.approx(564174.0)
    # the zonal check by Stadtteil splits cut cells by area: close, not exact
    chk = raster.total_check(s, zensus_catalog.load("stadtteile"))
    assert chk["zonal"] == pytest.approx(564174, rel=2e-3)


def test_grid_share_surface(zensus_catalog):
    cells = _cells([0, 1], [0, 0], [10, 40], [5, 4])
    s = raster.grid_share_surface(cells, min_population=20)
    assert np.isnan(s.band(0)[0, 0]) and s.band(0)[0, 1] == pytest.approx(10.0)
    assert s.band(1).tolist() == [[10.0, 40.0]]
    assert s.bands[0] == "Anteil Nichtdeutsche (%)" and s.kinds == ("value", "value")
    essen = raster.catalog_surface(zensus_catalog, "nichtdeutsche_anteil")
    share = essen.band(0)
    assert np.nanmax(share) <= 100 and np.nanmin(share) >= 0
    assert np.nansum(essen.band(1)) == 564174.0


def test_grid_hotspot_surface_from_real_cells(zensus_catalog):
    s = raster.catalog_surface(zensus_catalog, "gitter_hotspots", cell_size=500)
    assert s.bands == ("Gi*-z-Wert", "Gi*-Klasse", "LISA-Klasse", "Anteil EB-geglättet (%)")
    gi = s.band(1)
    codes = set(np.unique(gi[np.isfinite(gi)]))
    assert codes <= {-1.0, 0.0, 1.0} and 1.0 in codes
    hot_share = float((gi == 1).sum() / np.isfinite(gi).sum())
    assert 0 < hot_share < 0.2  # not the whole north (the old Stadtteil-copy surface: 90 %)
    assert int(s.tags["n_hotspot"]) == int((gi == 1).sum())
    assert "Permutationen" in s.tags["method"] and s.grid.cell_size == 500
    lisa = s.band(2)
    assert set(np.unique(lisa[np.isfinite(lisa)])) <= {0.0, 1.0, 2.0, 3.0, 4.0}


def test_available_surfaces_and_missing_cells(catalog):
    from gis_planning.data.catalog import load_city

    assert set(raster.available_surfaces(catalog).values()) == {""}  # Essen has every input
    muster = load_city(Path(__file__).parent / "data" / "musterstadt" / "pack.json")
    why = raster.available_surfaces(muster)
    assert why["entfernung"] == "" and "zensus2011" in why["gitter_hotspots"]
    assert "projektwohnungen" in why["projektwohnungen_dichte"]
    with pytest.raises(InputError, match="keine Zensus-Gitterzellen"):
        raster.catalog_surface(muster, "bevoelkerung_dichte")
    assert "gi_stern" not in raster.SURFACES and not hasattr(raster, "gi_surface")


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


def test_write_cog_roundtrip(tmp_path):
    rng = np.random.default_rng(5)
    cols, rows = np.meshgrid(np.arange(80), np.arange(70))
    persons = rng.integers(3, 500, cols.size)
    s = raster.population_density(_cells(cols.ravel(), rows.ravel(), persons, persons // 10))
    path = raster.write_cog(s, tmp_path / "pop.tif")
    with rasterio.open(path) as ds:
        assert ds.crs.to_epsg() == 3035
        assert ds.count == 2 and ds.nodata == raster.NODATA
        assert ds.descriptions == s.bands
        assert ds.units == s.units
        assert ds.tags(1)["units"] == "Personen/km²"
        assert ds.tags()["title"].startswith("Bevölkerungsdichte")
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert ds.overviews(1)
        assert ds.res == (100.0, 100.0)
        band = ds.read(1, masked=True).filled(np.nan)
        np.testing.assert_allclose(band, s.band(0).astype("float32"), equal_nan=True)
        # read back from the file, the band still sums to the source exactly
        assert float(np.nansum(band.astype(float)) * 0.01) == float(persons.sum())
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


def test_cli_raster_population_prints_a_true_check(tmp_path):
    runner = CliRunner()
    out = tmp_path / "pop.tif"
    res = runner.invoke(cli, ["raster", "population", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "Summe Band x Zellfläche 564.174, Quelle (Summe der Zellen) 564.174" in res.output
    assert "stimmt überein" in res.output and "Zensus 2011" in res.output
    res = runner.invoke(cli, ["raster", "gitter-hotspots", "-o", str(tmp_path / "h.tif"),
                              "--cell-size", "1000"])
    assert res.exit_code == 0, res.output
    with rasterio.open(tmp_path / "h.tif") as ds:
        assert ds.res == (1000.0, 1000.0) and ds.descriptions[1] == "Gi*-Klasse"
    res = runner.invoke(cli, ["raster", "hotspots", "-o", str(tmp_path / "x.tif")])
    assert res.exit_code == 2 and "No such command" in res.output


def test_cli_raster_grid_surfaces_need_cells(tmp_path):
    muster = Path(__file__).parent / "data" / "musterstadt" / "pack.json"
    res = CliRunner().invoke(cli, ["--city", str(muster), "raster", "anteil", "-o",
                                   str(tmp_path / "a.tif")])
    assert res.exit_code == 2 and "keine Zensus-Gitterzellen" in res.output
