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


def _flats(xy) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[shapely.Point(x, y) for x, y in xy], crs=CRS)


def _blocks_domain() -> gpd.GeoDataFrame:
    """4 km x 3 km: twelve 1-km blocks anchored at the origin."""
    return gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 4000, 3000)], crs=CRS)


def test_flats_density_blocks_suppression_and_totals():
    cluster = [(250 + i, 250 + i) for i in range(12)]  # block (0, 0): 12
    six = [(1100 + 50 * i, 500) for i in range(6)]  # block (1, 0): 6
    lone = [(3750, 2750)]  # block (3, 2): 1
    pts = _flats(cluster + six + lone)
    s = raster.flats_density(pts, _blocks_domain(), cell_size=100, bandwidth=500, k=5)
    # the lone flat is withheld (primary); the 6 as complement, else 19 - 12 would show it
    assert s.tags["summe"] == "19" and s.tags["gezeigt"] == "12"
    assert s.tags["bloecke_gezeigt"] == "1" and s.tags["bloecke_unterdrueckt"] == "2"
    d = s.band(0)  # rows from the top: block row 2 is array rows 0-9
    assert np.isnan(d[0:10, 30:40]).all() and np.isnan(d[20:30, 10:20]).all()
    assert np.isfinite(d[20:30, 0:10]).all() and np.isfinite(d[0:10, 0:30]).all()
    chk = raster.total_check(s, _blocks_domain())
    assert chk["zonal"] == pytest.approx(12.0) and chk["expected"] == 19
    audit = raster.flats_audit(s)
    assert audit.startswith("gezeigt 12 von 19 Projektwohnungen in 1 Blöcken zu 1.000 m; 2 "
                            "Blöcke unterdrückt")
    # at 1000 m cells and no smoothing beyond the block, the shown block holds 12 on 1 km²
    s1 = raster.flats_density(pts, _blocks_domain(), cell_size=1000, bandwidth=500)
    assert _cell_counts(s1).sum() == pytest.approx(12.0)
    with pytest.warns(UserWarning, match="weniger als 5 Projektwohnung.en. liegen außerhalb"):
        raster.flats_density(_flats([(5000, 5000), *cluster]), _blocks_domain(),
                             bandwidth=500)


def test_flats_density_small_totals_reveal_nothing():
    # 3 flats in all: the total is below k, nothing is shown and no audit line names it
    s = raster.flats_density(_flats([(100, 100), (150, 120), (2500, 2500)]), _blocks_domain(),
                             bandwidth=500)
    assert s.tags["summe"] == "< 5" and s.tags["gezeigt"] == "0"
    assert np.isnan(raster.total_check(s, _blocks_domain())["expected"])
    assert "von < 5 Projektwohnungen" in raster.flats_audit(s)
    assert not any(ch in raster.flats_audit(s).split("von")[1][:6] for ch in "1234")
    # three withheld blocks of 1, 2 and 1 could be summed (total - shown = 4): the 10 goes too
    xy = [(100, 100), (1100, 100), (1200, 100), (2100, 100)] + [
        (3100 + 10 * i, 2100) for i in range(10)]
    s = raster.flats_density(_flats(xy), _blocks_domain(), bandwidth=500)
    assert s.tags["gezeigt"] == "0" and s.tags["summe"] == "14"


def test_flats_density_options_are_fixed():
    pts, dom = _flats([(100, 100)] * 6), _blocks_domain()
    for bad in (1, 99.9999, 100.0001, 200, 2000):
        with pytest.raises(InputError, match="nur die festen, am Koordinatenursprung "
                                             "ausgerichteten Raster 100, 250, 500, 1.000 m"):
            raster.flats_density(pts, dom, cell_size=bad)
    for bad in (0, 1, 499.99, float("nan")):
        with pytest.raises(InputError, match="mindestens 500 m .--bandwidth."):
            raster.flats_density(pts, dom, bandwidth=bad)
    with pytest.raises(InputError, match="mindestens 5 .--k."):
        raster.flats_density(pts, dom, k=4)


def test_flats_density_depends_on_block_counts_only():
    """Moving any flat inside its 1-km block changes no published value, at every allowed
    cell size and bandwidth: differencing runs cannot locate a flat more finely than that."""
    rng = np.random.default_rng(3)
    dom = gpd.GeoDataFrame(geometry=[shapely.Point(2600, 2100).buffer(2400)], crs=CRS)
    xy = rng.uniform(300, 4900, (80, 2))
    xy = xy[shapely.covers(dom.geometry.iloc[0], shapely.points(xy))]
    moved = np.floor(xy / 1000) * 1000 + rng.uniform(0, 1000, xy.shape)
    keep = shapely.covers(dom.geometry.iloc[0], shapely.points(moved))
    xy, moved = xy[keep], moved[keep]
    assert len(xy) > 40
    for cs in raster.FLATS_CELL_SIZES:
        for bw in (500, 1250):
            a = raster.flats_density(_flats(xy), dom, cell_size=cs, bandwidth=bw)
            b = raster.flats_density(_flats(moved), dom, cell_size=cs, bandwidth=bw)
            np.testing.assert_array_equal(a.data, b.data)
            assert a.tags == b.tags
            assert int(a.tags["gezeigt"]) >= 5
    # a larger k withholds at least the blocks a default run withholds (nested releases)
    d5 = np.isnan(raster.flats_density(_flats(xy), dom, bandwidth=500).band(0))
    d8 = np.isnan(raster.flats_density(_flats(xy), dom, bandwidth=500, k=8).band(0))
    assert (d8 | ~d5).all() and d8.sum() > d5.sum()


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
        assert ds.tags()["title"].startswith("Geschätzte")
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
    assert "gezeigt 260 von 500 Projektwohnungen in 37 Blöcken zu 1.000 m" in res.output
    assert "Quelle" not in res.output and "%" not in res.output
    with rasterio.open(out) as ds:
        assert ds.count == 1 and ds.res == (250.0, 250.0)
    res = runner.invoke(cli, ["raster", "flats", "-o", str(out), "--cell-size", "250"])
    assert res.exit_code == 2 and "overwrite" in res.output
    res = runner.invoke(cli, ["raster", "distance", "-o", str(tmp_path / "d.tif"),
                              "--cell-size", "250"])
    assert res.exit_code == 0, res.output


# -- issue 14.2: the sliding-cell-size attack on the flats raster -----------------------------


def _cell_counts(surface) -> np.ndarray:
    """What an attacker reads from a flats raster: flats per cell (density x covered km²)."""
    d = surface.band(0)
    return np.where(np.isfinite(d), d, 0.0) * surface.grid.covered_m2 / 1e6


def _sliding_attack(points, domain, *, base=1000.0, step=0.0009, runs=40, bandwidth=0.0):
    """Run the surface at cell sizes ``base + j * step`` (neighbours differ by < 1 mm) and
    difference the counts of consecutive runs. Every changed cell means a flat lies in the
    strip a cell border swept between the two runs (``col * step`` wide: centimetres).
    Returns the changes found; a refused run teaches the attacker nothing."""
    found, prev = [], None
    for j in range(runs):
        try:
            s = raster.flats_density(points, domain, cell_size=base + j * step,
                                     bandwidth=bandwidth, k=5)
        except InputError:
            prev = None
            continue
        counts = _cell_counts(s)
        if prev is not None and prev.shape == counts.shape:
            changed = np.argwhere(np.abs(counts - prev) > 0.5)
            found += [(j, int(r), int(c)) for r, c in changed]
        prev = counts
    return found


def test_sliding_cell_size_attack_locates_no_flat(catalog):
    pw, st = catalog.load("projektwohnungen"), catalog.load("stadtteile")
    assert not _sliding_attack(pw, st), "cell-size differencing moved a border across a flat"
    # with the smallest bandwidth the toolkit accepts the attack learns nothing either
    assert not _sliding_attack(pw, st, bandwidth=500.0, runs=6)


@pytest.mark.slow
def test_cli_raster_all_is_all_or_nothing(tmp_path, monkeypatch):
    """Issue 14.6: `raster all` left a partial set after an error."""
    from gis_planning._atomic import MANIFEST

    runner = CliRunner()
    out = tmp_path / "raster"
    res = runner.invoke(cli, ["raster", "all", "--dir", str(out), "--cell-size", "200"])
    assert res.exit_code == 2 and "--cell-size" in res.output and "Zellgröße 200 m" in res.output
    assert not out.exists()
    real = raster.catalog_surface

    def fails_last(cat, name, **kw):
        if name == "gi_stern":
            raise InputError("Gi* geht nicht")
        return real(cat, name, **kw)

    monkeypatch.setattr(raster, "catalog_surface", fails_last)
    res = runner.invoke(cli, ["raster", "all", "--dir", str(out), "--cell-size", "500"])
    assert res.exit_code == 2 and "Gi* geht nicht" in res.output
    assert list(tmp_path.iterdir()) == []  # the three finished surfaces did not appear
    monkeypatch.setattr(raster, "catalog_surface", real)
    res = runner.invoke(cli, ["raster", "all", "--dir", str(out), "--cell-size", "500"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [MANIFEST, *(f"{n}.tif" for n in raster.SURFACES)])
    assert str(out / "gi_stern.tif") in res.output and ".gp-tmp" not in res.output
