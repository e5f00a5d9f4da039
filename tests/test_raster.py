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
    with pytest.raises(Exception, match="geografisches Koordinatensystem|projected"):
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
    with pytest.raises(InputError, match="keine Einrichtungen"):
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
    assert "gezeigt 260 von 500 Projektwohnungen in 37 Blöcken zu 1.000 m" in res.output
    assert "Quelle" not in res.output and "%" not in res.output
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
    assert res.exit_code == 2 and "Unbekannter Befehl" in res.output


def test_cli_raster_grid_surfaces_need_cells(tmp_path):
    muster = Path(__file__).parent / "data" / "musterstadt" / "pack.json"
    res = CliRunner().invoke(cli, ["--city", str(muster), "raster", "anteil", "-o",
                                   str(tmp_path / "a.tif")])
    assert res.exit_code == 2 and "keine Zensus-Gitterzellen" in res.output
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
    pw, st = catalog.load_confidential_points("projektwohnungen"), catalog.load("stadtteile")
    assert not _sliding_attack(pw, st), "cell-size differencing moved a border across a flat"
    # with the smallest bandwidth the toolkit accepts the attack learns nothing either
    assert not _sliding_attack(pw, st, bandwidth=500.0, runs=6)


@pytest.mark.slow
def test_cli_raster_all_is_all_or_nothing(tmp_path, monkeypatch):
    """Issue 14.6: `raster all` left a partial set after an error."""
    from gis_planning._atomic import MANIFEST

    runner = CliRunner()
    out = tmp_path / "raster"
    res = runner.invoke(cli, ["raster", "all", "--output-dir", str(out), "--cell-size", "200"])
    assert res.exit_code == 2 and "--cell-size" in res.output and "Zellgröße 200 m" in res.output
    assert not out.exists()
    real = raster.catalog_surface

    def fails_last(cat, name, **kw):
        if name == "gitter_hotspots":
            raise InputError("Gi* geht nicht")
        return real(cat, name, **kw)

    monkeypatch.setattr(raster, "catalog_surface", fails_last)
    res = runner.invoke(cli, ["raster", "all", "--output-dir", str(out), "--cell-size", "500"])
    assert res.exit_code == 2 and "Gi* geht nicht" in res.output
    assert list(tmp_path.iterdir()) == []  # the three finished surfaces did not appear
    monkeypatch.setattr(raster, "catalog_surface", real)
    res = runner.invoke(cli, ["raster", "all", "--output-dir", str(out), "--cell-size", "500"])
    assert res.exit_code == 0, res.output
    names = {p.name for p in out.iterdir()}
    assert MANIFEST in names and {f"{n}.tif" for n in raster.SURFACES} <= names
    assert {f"{n}.qml" for n in raster.SURFACES} <= names  # each opens styled in QGIS
    assert all(n == MANIFEST or n.endswith((".tif", ".qml", ".qmd", ".tif.aux.xml")) for n in names)
    assert str(out / "gitter_hotspots.tif") in res.output and ".gp-tmp" not in res.output
