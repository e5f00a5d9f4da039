"""Tests of gis_planning.analysis.segregation against PySAL's `segregation` package and hand
cases."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis_planning import CRSError, InputError, SchemaError
from gis_planning.analysis.segregation import (
    GLOBAL_INDICES,
    global_indices,
    kernel_smooth,
    local_indices,
    queen_contiguity,
    spatial_dissimilarity,
)

CRS = "EPSG:25832"
INDEX_COLUMNS = list(GLOBAL_INDICES)


@pytest.fixture(scope="module")
def ref():
    """The reference package, imported once (slow import; deprecation chatter silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import segregation.local as local
        import segregation.multigroup as multigroup
        import segregation.singlegroup as singlegroup
    return singlegroup, multigroup, local


def _call(cls, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls(*args, **kwargs)


@pytest.fixture(scope="module")
def cells():
    """15 x 15 grid of 100 m cells, minority share rising from west to east, 3 groups."""
    rng = np.random.default_rng(0)
    n = 15
    cols, rows = np.meshgrid(np.arange(n), np.arange(n))
    cols, rows = cols.ravel(), rows.ravel()
    g = gpd.GeoDataFrame(
        {"t": rng.integers(0, 60, n * n)},
        geometry=shapely.box(cols * 100, rows * 100, cols * 100 + 100, rows * 100 + 100),
        crs=CRS,
        index=pd.Index(np.arange(n * n) + 1000, name="cell"),
    )
    share = 0.6 / (1 + np.exp(-(cols - 7) / 2))
    g["x"] = rng.binomial(g["t"], share)
    y = g["t"] - g["x"]
    g["a"] = rng.binomial(y, 0.3)
    g["b"] = y - g["a"]
    g["bezirk"] = np.where(cols < 7, "I", "II")
    return g


@pytest.fixture(scope="module")
def voronoi():
    """150 irregular polygons (not a lattice), so the sparse distance-band path is used."""
    rng = np.random.default_rng(3)
    frame = shapely.box(0, 0, 3000, 3000)
    pts = shapely.multipoints(rng.uniform(0, 3000, (150, 2)))
    polys = [
        shapely.intersection(p, frame)
        for p in shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=frame))
    ]
    g = gpd.GeoDataFrame({"t": rng.integers(50, 500, len(polys))}, geometry=polys, crs=CRS)
    g["x"] = rng.binomial(g["t"], 0.1 + 0.5 * (g.centroid.x.to_numpy() > 1500))
    g["y"] = g["t"] - g["x"]
    return g


def _reference_globals(ref, data, **kw):
    single, multi, _ = ref
    return np.array(
        [
            _call(single.Dissim, data, "x", "t", **kw).statistic,
            _call(single.Isolation, data, "x", "t", **kw).statistic,
            _call(single.Interaction, data, "x", "t", **kw).statistic,
            _call(multi.MultiInfoTheory, data, ["x", "a", "b"], **kw).statistic,
            _call(multi.MultiDissim, data, ["x", "a", "b"], **kw).statistic,
        ]
    )


def test_aspatial_indices_equal_segregation(ref, cells):
    ours = global_indices(cells, group="x", total="t", groups=["x", "a", "b"])
    expected = _reference_globals(ref, cells)
    assert ours.loc["Stadt", INDEX_COLUMNS].to_numpy(float) == pytest.approx(expected, abs=1e-9)
    assert ours.loc["Stadt", "n_units"] == len(cells)
    assert ours.loc["Stadt", "group_share"] == pytest.approx(cells["x"].sum() / cells["t"].sum())


def test_spatial_indices_equal_segregation_on_lattice(ref, cells):
    ours = global_indices(
        cells, group="x", total="t", groups=["x", "a", "b"], distance=500, round_counts=True
    )
    expected = _reference_globals(ref, cells, distance=500)
    assert ours.loc["Stadt", INDEX_COLUMNS].to_numpy(float) == pytest.approx(expected, abs=1e-9)
    # without rounding the values differ slightly, but not much
    raw = global_indices(cells, group="x", total="t", groups=["x", "a", "b"], distance=500)
    assert raw.loc["Stadt", INDEX_COLUMNS].to_numpy(float) == pytest.approx(expected, abs=5e-3)


@pytest.mark.parametrize("kernel", ["triangular", "gaussian", "quartic"])
def test_spatial_indices_equal_segregation_irregular_units(ref, voronoi, kernel):
    single, multi, _ = ref
    ours = global_indices(
        voronoi, group="x", total="t", distance=700, kernel=kernel, round_counts=True
    )
    kw = {"distance": 700, "function": kernel}
    assert ours["dissimilarity"].iloc[0] == pytest.approx(
        _call(single.Dissim, voronoi, "x", "t", **kw).statistic, abs=1e-9
    )
    assert ours["isolation"].iloc[0] == pytest.approx(
        _call(single.Isolation, voronoi, "x", "t", **kw).statistic, abs=1e-9
    )
    # two groups from group/total: segregation's single-group Entropy (x and t smoothed and
    # rounded); the old code matched only MultiInfoTheory and was 6e-6 to 1.1e-5 off Entropy
    assert ours["theil_h"].iloc[0] == pytest.approx(
        _call(single.Entropy, voronoi, "x", "t", **kw).statistic, abs=1e-9
    )
    multi_ours = global_indices(
        voronoi, group="x", total="t", groups=["x", "y"], distance=700, kernel=kernel,
        round_counts=True,
    )
    assert multi_ours["theil_h"].iloc[0] == pytest.approx(
        _call(multi.MultiInfoTheory, voronoi, ["x", "y"], **kw).statistic, abs=1e-9
    )
    assert ours.attrs["segregation"]["distance_m"] == 700
    assert ours.attrs["segregation"]["kernel"] == kernel
    assert ours.attrs["segregation"]["unit"] == "m"
    assert ours["bandwidth_m"].iloc[0] == 700 and ours["kernel"].iloc[0] == kernel


def test_by_bezirk_equals_segregation_on_subset(ref, cells):
    single, _, _ = ref
    ours = global_indices(cells, group="x", total="t", by="bezirk", distance=500, round_counts=True)
    assert list(ours.index) == ["Stadt", "I", "II"]
    assert list(ours["level"]) == ["stadt", "bezirk", "bezirk"]
    for bez in ("I", "II"):
        sub = cells[cells["bezirk"] == bez]
        assert ours.loc[bez, "dissimilarity"] == pytest.approx(
            _call(single.Dissim, sub, "x", "t", distance=500).statistic, abs=1e-9
        )
        assert ours.loc[bez, "n_units"] == len(sub)
    # two groups: multigroup D equals D (without rounding, which acts on each group separately)
    raw = global_indices(cells, group="x", total="t", by="bezirk", distance=500)
    assert raw["multi_dissimilarity"].to_numpy() == pytest.approx(raw["dissimilarity"].to_numpy())


@pytest.mark.parametrize("distance", [None, 500])
def test_local_indices_equal_segregation(ref, cells, distance):
    _, _, local = ref
    kw = {} if distance is None else {"distance": distance}
    ours = local_indices(cells, groups=["x", "a", "b"], distance=distance, round_counts=True)
    assert list(ours.columns) == [
        "lq_x", "lq_x_ki_unten", "lq_x_ki_oben", "lq_a", "lq_a_ki_unten", "lq_a_ki_oben",
        "lq_b", "lq_b_ki_unten", "lq_b_ki_oben", "entropy", "kleine_einheit", "bandwidth_m",
        "kernel",
    ]
    assert ours.index.equals(cells.index)
    lq = _call(local.MultiLocationQuotient, cells, ["x", "a", "b"], **kw).statistics
    le = _call(local.MultiLocalEntropy, cells, ["x", "a", "b"], **kw).statistics
    np.testing.assert_allclose(ours[["lq_x", "lq_a", "lq_b"]].to_numpy(), lq, atol=1e-9,
                               equal_nan=True)
    empty = np.isnan(lq[:, 0])  # no residents (in the egohood)
    if distance is None:
        assert empty.any()
    # segregation reports entropy 0 for a unit without residents; we report NaN (undefined)
    assert ours["entropy"].to_numpy()[empty] == pytest.approx(
        np.full(empty.sum(), np.nan), nan_ok=True
    )
    np.testing.assert_allclose(ours["entropy"].to_numpy()[~empty], le[~empty], atol=1e-9)


def test_spatial_dissimilarity_equals_segregation(ref, cells):
    single, _, _ = ref
    expected = _call(single.SpatialDissim, cells, "x", "t").statistic
    assert spatial_dissimilarity(cells, group="x", total="t") == pytest.approx(expected, abs=1e-9)
    ours = global_indices(cells, group="x", total="t", w=queen_contiguity(cells))
    assert ours["spatial_dissimilarity"].iloc[0] == pytest.approx(expected, abs=1e-9)


def test_queen_contiguity_on_grid(cells):
    w = queen_contiguity(cells)
    deg = np.asarray(w.sum(axis=1)).ravel()
    assert sorted(set(deg)) == [3, 5, 8]  # corner, edge, interior cells
    assert (w != w.T).nnz == 0


def test_hand_cases_complete_and_no_segregation():
    data = pd.DataFrame({"x": [10, 0, 0], "t": [10, 20, 30]})
    out = global_indices(data, group="x", total="t")
    assert out["dissimilarity"].iloc[0] == pytest.approx(1.0)
    assert out["isolation"].iloc[0] == pytest.approx(1.0)
    assert out["exposure"].iloc[0] == pytest.approx(0.0)
    assert out["theil_h"].iloc[0] == pytest.approx(1.0)
    even = pd.DataFrame({"x": [2, 4, 6], "t": [10, 20, 30]})
    out = global_indices(even, group="x", total="t")
    assert out["dissimilarity"].iloc[0] == pytest.approx(0.0)
    assert out["isolation"].iloc[0] == pytest.approx(0.2)  # = city share
    assert out["theil_h"].iloc[0] == pytest.approx(0.0, abs=1e-12)


def test_kernel_smooth_by_hand():
    cols, rows = np.meshgrid(np.arange(3), np.arange(3))
    g = gpd.GeoDataFrame(
        {"n": np.where((cols == 1) & (rows == 1), 9.0, 0.0).ravel()},
        geometry=shapely.points(cols.ravel() * 100.0, rows.ravel() * 100.0),
        crs=CRS,
    )
    out = kernel_smooth(g, ["n"], distance=150)["n"].to_numpy().reshape(3, 3)
    side, diag = 9 * (1 - 100 / 150), 9 * (1 - np.sqrt(2) * 100 / 150)
    np.testing.assert_allclose(out, [[diag, side, diag], [side, 9, side], [diag, side, diag]])
    # same numbers when the units are not on a lattice (sparse path): jitter nothing, drop one
    sparse_out = kernel_smooth(g.iloc[[0, 1, 4, 8]], ["n"], distance=150)["n"].to_numpy()
    np.testing.assert_allclose(sparse_out, [diag, side, 9, diag])


def test_simulations_are_seeded_and_sensible(cells):
    kw = {"group": "x", "total": "t", "n_simulations": 49, "seed": 7}
    a = global_indices(cells, **kw)
    b = global_indices(cells, **kw)
    pd.testing.assert_frame_equal(a, b)
    row = a.loc["Stadt"]
    for name in INDEX_COLUMNS:
        assert row[f"{name}_ci_low"] <= row[f"{name}_bc"] <= row[f"{name}_ci_high"]
    # the units hold 0-60 residents: D is biased upwards, the corrected estimate is lower
    assert row["dissimilarity_bc"] < row["dissimilarity"]
    t = cells["t"].to_numpy(float)
    share = 0.6 / (1 + np.exp(-(np.tile(np.arange(15), 15) - 7) / 2))  # the fixture's truth
    true_d = (t * np.abs(share - (t * share).sum() / t.sum())).sum() / (
        2 * (t * share).sum() * (1 - (t * share).sum() / t.sum()))
    assert row["dissimilarity_ci_low"] <= true_d <= row["dissimilarity_ci_high"]
    # small units: D is positive even without segregation (null mean > 0)
    assert 0 < row["dissimilarity_null_mean"] < row["dissimilarity_ci_low"]
    assert row["dissimilarity_random"] == pytest.approx(row["dissimilarity_null_mean"], rel=0.1)
    assert row["dissimilarity_p"] == pytest.approx(1 / 50)
    assert row["exposure_p"] == pytest.approx(1 / 50)
    assert row["intervall_hinweis"] == ""
    # unsegregated data: the p-value is not small and the interval reaches down to 0
    rng = np.random.default_rng(1)
    flat = cells.assign(x=rng.binomial(cells["t"], 0.3))
    out = global_indices(flat, **{**kw, "n_simulations": 199}).iloc[0]
    assert out["dissimilarity_p"] > 0.05 and out["dissimilarity_ci_low"] == 0
    assert out["dissimilarity_bc"] < out["dissimilarity"]


def test_dissimilarity_random_by_hand():
    from scipy import stats

    from gis_planning.analysis._segregation_ci import dissimilarity_random

    t = np.array([50.0, 57.0, 2000.0, 10.0])
    x = np.array([10.0, 12.0, 400.0, 3.0])
    P = x.sum() / t.sum()
    mad = 0.0
    for ti in t:
        k = np.arange(int(ti) + 1)
        mad += (np.abs(k - ti * P) * stats.binom.pmf(k, int(ti), P)).sum()
    assert dissimilarity_random(x, t) == pytest.approx(mad / (2 * t.sum() * P * (1 - P)),
                                                       rel=1e-10)
    # units of 50 residents and a 20 % share: chance alone gives D of about 0.14
    t50 = np.full(80, 50.0)
    assert dissimilarity_random(t50 * 0.2, t50) == pytest.approx(0.1398, abs=1e-3)
    out = global_indices(pd.DataFrame({"x": t50 * 0.2, "t": t50}), group="x", total="t")
    assert out["dissimilarity_random"].iloc[0] == pytest.approx(0.1398, abs=1e-3)
    assert list(out.columns[:7]) == ["level", "n_units", "total", "group_total",
                                     "group_share", "dissimilarity", "dissimilarity_random"]


def test_interval_empty_when_data_are_more_even_than_chance():
    t = np.full(40, 500.0)
    out = global_indices(pd.DataFrame({"x": t * 0.1, "t": t}), group="x", total="t",
                         n_simulations=99, seed=0).iloc[0]
    assert out["dissimilarity"] == 0 and out["dissimilarity_bc"] == 0
    assert np.isnan(out["dissimilarity_ci_low"]) and np.isnan(out["dissimilarity_ci_high"])
    assert "weniger als zufällig" in out["intervall_hinweis"]


def _coverage(size: float, reps: int, seed: int, units: int = 30,
              draws: int = 199) -> tuple[dict[str, float], float]:
    """Share of nominal 95 % intervals that contain the true index; ``units`` of ~size."""
    from gis_planning.analysis._segregation_ci import indices_multi, indices_single

    rng = np.random.default_rng(seed)
    t = np.maximum(rng.poisson(size, units), 5).astype(float)
    pi = 1 / (1 + np.exp(-(np.log(0.25) + rng.normal(0, 0.5, units))))
    expected = np.column_stack([t * pi, t * (1 - pi)])
    true = dict(zip(INDEX_COLUMNS, [*indices_single(expected[:, 0], t),
                                    *indices_multi(expected)], strict=True))
    hits = dict.fromkeys(INDEX_COLUMNS, 0)
    old_hits = 0
    for r in range(reps):
        x = rng.binomial(t.astype(int), pi)
        out = global_indices(pd.DataFrame({"x": x, "t": t}), group="x", total="t",
                             n_simulations=draws, seed=r).iloc[0]
        for name in INDEX_COLUMNS:
            hits[name] += out[f"{name}_ci_low"] <= true[name] <= out[f"{name}_ci_high"]
        # the replaced method: percentile bootstrap of the observed shares
        boot = [indices_single(rng.binomial(t.astype(int), x / t), t)[0] for _ in range(99)]
        old_hits += np.quantile(boot, 0.025) <= true["dissimilarity"] <= np.quantile(boot, 0.975)
    return {k: v / reps for k, v in hits.items()}, old_hits / reps


@pytest.mark.slow
@pytest.mark.parametrize("size", [50, 2000])
def test_interval_coverage_by_simulation(size):
    """Nominal 95 %: at least 90 % coverage of the true index, small and large units."""
    cover, old = _coverage(size, reps=100, seed=11)
    for name in ("dissimilarity", "isolation", "exposure", "theil_h"):
        assert cover[name] >= 0.90, (name, cover)
    if size == 50:
        assert old < 0.5  # the old bootstrap interval missed the true D most of the time


def test_bandwidth_below_the_unit_spacing_is_refused(cells, voronoi):
    # 100 m cells: centroids 100 m apart, so 90 m smooths nothing
    with pytest.raises(InputError, match=r"--distance 90 m ist nicht größer als der kleinste "
                                         r"Abstand.*100 m.*mindestens --distance 110"):
        global_indices(cells, group="x", total="t", distance=90)
    with pytest.raises(InputError, match="mindestens --distance 110"):
        local_indices(cells, groups=["x", "a"], distance=100)
    with pytest.raises(InputError, match="nicht größer als der kleinste Abstand"):
        kernel_smooth(cells, ["x"], distance=50)
    from gis_planning.analysis.segregation import check_bandwidth

    info = check_bandwidth(voronoi, 2000)
    assert info["n_without_neighbour"] == 0 and info["min_spacing_m"] < info["all_neighbours_m"]
    small = info["min_spacing_m"] + 1
    with pytest.warns(UserWarning, match="erreichen .* keine andere"):
        check_bandwidth(voronoi, small)


def test_spatial_setting_is_recorded(cells):
    flat = global_indices(cells, group="x", total="t")
    assert np.isnan(flat["bandwidth_m"].iloc[0])
    assert flat["kernel"].iloc[0] == "ohne (nicht räumlich)"
    assert flat.attrs["segregation"]["distance_m"] is None
    sp = global_indices(cells, group="x", total="t", distance=500, kernel="gaussian")
    assert sp["bandwidth_m"].iloc[0] == 500 and sp["kernel"].iloc[0] == "gaussian"
    assert sp.attrs["segregation"] == {**sp.attrs["segregation"], "distance_m": 500,
                                       "kernel": "gaussian", "unit": "m",
                                       "crs": "EPSG:25832"}
    loc = local_indices(cells, groups=["x", "a", "b"], distance=500)
    assert (loc["bandwidth_m"] == 500).all() and loc.attrs["segregation"]["unit"] == "m"


def test_lq_intervals_and_small_units(cells):
    from gis_planning.analysis.uncertainty import wilson_interval

    loc = local_indices(cells, groups=["x", "a", "b"])
    city = cells["x"].sum() / cells["t"].sum()
    lo, hi = wilson_interval(cells["x"], cells["t"])
    np.testing.assert_allclose(loc["lq_x_ki_unten"], lo / city, equal_nan=True)
    np.testing.assert_allclose(loc["lq_x_ki_oben"], hi / city, equal_nan=True)
    ok = cells["t"].to_numpy() > 0
    assert (loc.loc[ok, "lq_x_ki_unten"] <= loc.loc[ok, "lq_x"] + 1e-12).all()
    assert (loc.loc[ok, "lq_x"] <= loc.loc[ok, "lq_x_ki_oben"] + 1e-12).all()
    assert loc["kleine_einheit"].all()  # every cell has fewer than 300 residents
    assert not local_indices(cells, groups=["x", "a", "b"], min_size=10)["kleine_einheit"].all()


def test_validation(cells):
    with pytest.raises(SchemaError, match="fehlt; vorhanden sind"):
        global_indices(cells, group="nope", total="t")
    with pytest.raises(SchemaError, match="mehr Gruppenmitglieder als Einwohner"):
        global_indices(cells.assign(x=cells["t"] + 1), group="x", total="t")
    with pytest.raises(CRSError, match="Projizieren Sie zuerst nach EPSG:25832"):
        global_indices(cells.to_crs("EPSG:4326"), group="x", total="t", distance=500)
    with pytest.raises(InputError, match="braucht die Geometrien"):
        global_indices(
            pd.DataFrame(cells.drop(columns="geometry")), group="x", total="t", distance=500
        )
    with pytest.raises(InputError, match="Unbekannter Kern 'box'"):
        global_indices(cells, group="x", total="t", distance=500, kernel="box")
    with pytest.raises(InputError, match="--simulations"):
        global_indices(cells, group="x", total="t", n_simulations=-1)
    with pytest.raises(SchemaError, match="Gliederung \\(--by\\)"):
        global_indices(cells, group="x", total="t", by="stadtteil")
    with pytest.raises(InputError, match="zwei Gruppenspalten"):
        local_indices(cells, groups=["x"])
