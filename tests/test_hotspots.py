"""Tests of gis_planning.analysis.hotspots: hand cases, PySAL (esda) references, FDR, EB, labels."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import sparse

from gis_planning._errors import CRSError, InputError, SchemaError
from gis_planning.analysis import hotspots as hs
from gis_planning.analysis.weights import knn_weights, queen_weights

HOT = "Hotspot (signifikant, FDR 5 %)"
COLD = "Kältepunkt (signifikant, FDR 5 %)"
NS = "nicht signifikant"
SMALL = "zu klein (< 300 Einw.)"


def box_grid(nrows: int, ncols: int, *, size: float = 100.0) -> gpd.GeoDataFrame:
    r, c = np.divmod(np.arange(nrows * ncols), ncols)
    x0, y0 = 362_000.0, 5_700_000.0
    geom = shapely.box(x0 + c * size, y0 + r * size, x0 + (c + 1) * size, y0 + (r + 1) * size)
    return gpd.GeoDataFrame({"r": r, "c": c}, geometry=geom, crs="EPSG:25832")


def clustered(n_side: int, seed: int = 1) -> np.ndarray:
    """Poisson counts with a smooth clustered intensity on an n_side x n_side grid."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    f = gaussian_filter(rng.normal(size=(n_side, n_side)), 2.5).ravel()
    f = f / f.std()
    return rng.poisson(np.exp(1.5 + 0.8 * f)).astype(float)


@pytest.fixture(scope="module")
def esda():
    """Import esda once per module (numba compile); skip if the pysal extra is missing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pytest.importorskip("esda")


@pytest.fixture(scope="module")
def ref_case(esda):
    """A 24 x 24 clustered grid with esda's G_Local (Gi*, binary) and Moran_Local results."""
    g = box_grid(24, 24)
    y = clustered(24)
    w = queen_weights(g)
    graph = w.to_libpysal()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gl = esda.G_Local(
            y, graph, transform="B", star=True, permutations=999, seed=11, n_jobs=1
        )
        ml = esda.Moran_Local(
            y, graph, transformation="r", permutations=999, seed=11, n_jobs=1
        )
    return {"g": g, "y": y, "w": w, "gl": gl, "ml": ml}


# --- Gi* ----------------------------------------------------------------------------------


def test_gi_star_3x3_hand_computed():
    y = np.arange(1.0, 10.0)  # row-major 3 x 3
    w = queen_weights(box_grid(3, 3))
    res = hs.gi_star_statistics(y, w, permutations=0)
    # corner 0: window {0, 1, 3, 4} -> values 1 + 2 + 4 + 5 = 12 of 45; textbook formula
    n, wi = 9, 4
    ybar = 45 / 9
    s = np.sqrt((y**2).sum() / n - ybar**2)
    z0 = (12 - ybar * wi) / (s * np.sqrt((n * wi - wi**2) / (n - 1)))
    assert res.g[0] == pytest.approx(12 / 45, abs=1e-15)
    assert res.z[0] == pytest.approx(z0, abs=1e-12)
    assert z0 == pytest.approx(-1.95959179, abs=1e-8)
    # top right corner 8: window {4, 5, 7, 8} -> 5 + 6 + 8 + 9 = 28
    assert res.z[8] == pytest.approx((28 - ybar * wi) / (s * np.sqrt((n * wi - wi**2) / 8)))
    # centre: the window is the whole map -> Var = 0 -> z = 0 by definition, p = 1
    assert res.z[4] == 0.0 and res.p_norm[4] == 1.0
    assert res.p_norm[0] == pytest.approx(2 * 0.0250, abs=1e-4)


def test_gi_star_z_equals_esda(ref_case):
    res = hs.gi_star_statistics(ref_case["y"], ref_case["w"], permutations=0)
    np.testing.assert_allclose(res.z, ref_case["gl"].Zs, rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.g, ref_case["gl"].Gs, rtol=0, atol=1e-12)


def test_gi_star_permutation_p_equivalent_to_esda(ref_case, esda):
    from esda.significance import calculate_significance

    gl = ref_case["gl"]
    ours = hs.gi_star_statistics(
        ref_case["y"], ref_case["w"], permutations=999, seed=5, alternative="directed"
    )
    agree = np.mean((ours.p_sim < 0.05) == (gl.p_sim < 0.05))
    assert agree >= 0.95
    # Monte-Carlo error bound: two independent estimates of the same p with R = 999
    se = np.sqrt(2 * np.clip(gl.p_sim * (1 - gl.p_sim), 1e-3, None) / 1000)
    assert np.mean(np.abs(ours.p_sim - gl.p_sim) > 4 * se + 2e-3) < 0.01
    folded_esda = calculate_significance(gl.Gs, gl.rGs, alternative="folded")
    folded = hs.gi_star_statistics(ref_case["y"], ref_case["w"], permutations=999, seed=5)
    assert np.mean((folded.p_sim < 0.05) == (folded_esda < 0.05)) >= 0.95


# --- local Moran -------------------------------------------------------------------------------


def test_local_moran_equals_esda(ref_case):
    ml = ref_case["ml"]
    res = hs.local_moran_statistics(
        ref_case["y"], ref_case["w"], permutations=999, seed=5, alternative="directed"
    )
    np.testing.assert_allclose(res.i, ml.Is, rtol=0, atol=1e-9)
    assert (res.quadrant == ml.q).all()
    assert set(np.unique(res.quadrant)) == {1, 2, 3, 4}
    assert np.mean((res.p_sim < 0.05) == (ml.p_sim < 0.05)) >= 0.95


def test_local_moran_quadrants_by_hand():
    # 1 x 4 strip, rook = queen: values 10, 9, 0, 1
    g = box_grid(1, 4)
    res = hs.local_moran_statistics([10.0, 9.0, 0.0, 1.0], queen_weights(g), permutations=0)
    # ybar = 5. Cell 0: z > 0, neighbour 9 -> HH (1). Cell 1: z > 0, neighbours 10 and 0 ->
    # lag exactly 0 -> HL (4, "lag <= 0"). Cell 2: z < 0, neighbours 9 and 1 -> lag 0 -> LL (3).
    # Cell 3: z < 0, neighbour 0 -> LL (3).
    assert res.quadrant.tolist() == [1, 4, 3, 3]
    z = (np.array([10.0, 9, 0, 1]) - 5) / np.std([10.0, 9, 0, 1])
    assert res.i[0] == pytest.approx(3 * z[0] * z[1] / (z**2).sum())


# --- the permutation engine -----------------------------------------------------------------


def test_sorted_scheme_matches_brute_force_of_same_draws():
    """The sorted fast path equals an explicit loop over each unit's reference rows."""
    rng = np.random.default_rng(3)
    n, k, perms = 300, 4, 99
    pts = gpd.GeoDataFrame(geometry=shapely.points(rng.uniform(0, 3000, (n, 2))), crs=25832)
    w = knn_weights(pts, k=k)
    y = rng.exponential(size=n)
    for alt in ("folded", "directed"):
        fast = hs.permutation_pvalues(y, w, permutations=perms, seed=7, method="sorted",
                                      alternative=alt)
        r = np.random.default_rng(7)
        lam = perms * k / n
        extra = int(np.ceil(4 * lam + 8 * np.sqrt(lam) + 20))
        while True:
            draws = hs._distinct_rows(r, n, perms + extra, k)
            if np.bincount(draws.ravel(), minlength=n).max() <= extra:
                break
            extra *= 2
        s_obs = w.sparse @ y
        brute = np.empty(n)
        for i in range(n):
            rows = np.flatnonzero(~(draws == i).any(axis=1))[:perms]
            s = y[draws[rows]].sum(axis=1)
            if alt == "folded":
                c = (np.abs(s - s.mean()) >= np.abs(s_obs[i] - s.mean()) - 1e-9).sum()
            else:
                larger = (s >= s_obs[i] - 1e-9).sum()
                c = min(larger, perms - larger)
            brute[i] = (c + 1) / (perms + 1)
        np.testing.assert_allclose(fast, brute, atol=1e-12)


def test_sorted_and_direct_schemes_agree():
    g = box_grid(30, 30)
    y = clustered(30, seed=4)
    w = queen_weights(g)
    a = hs.permutation_pvalues(y, w, permutations=999, seed=1, method="sorted")
    b = hs.permutation_pvalues(y, w, permutations=999, seed=2, method="direct")
    assert np.mean((a < 0.05) == (b < 0.05)) >= 0.95
    assert np.median(np.abs(a - b)) < 0.02


def test_seeded_reproducibility():
    g = box_grid(25, 25)
    g["y"] = clustered(25)
    a = hs.getis_ord(g, "y", seed=42)
    b = hs.getis_ord(g, "y", seed=42)
    c = hs.getis_ord(g, "y", seed=43)
    np.testing.assert_array_equal(a["gi_p_sim"], b["gi_p_sim"])
    assert not np.array_equal(a["gi_p_sim"], c["gi_p_sim"])
    m1 = hs.local_moran(g, "y", seed=42, permutations=199)
    m2 = hs.local_moran(g, "y", seed=42, permutations=199)
    np.testing.assert_array_equal(m1["lisa_p_sim"], m2["lisa_p_sim"])


# --- FDR -------------------------------------------------------------------------------------


def test_benjamini_hochberg_by_hand():
    q = hs.benjamini_hochberg([0.01, 0.04, 0.03, 0.2, np.nan])
    # sorted .01 .03 .04 .2 -> m p / rank = .04 .06 .0533 .2 -> step-up min .04 .0533 .0533 .2
    np.testing.assert_allclose(q[:4], [0.04, 0.16 / 3, 0.16 / 3, 0.2])
    assert np.isnan(q[4])


def test_benjamini_hochberg_matches_statsmodels_formula_and_step_up():
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.uniform(0, 0.01, 30), rng.uniform(0, 1, 170)])
    q = hs.benjamini_hochberg(p)
    # statsmodels.stats.multitest.fdrcorrection (method "indep"), written out
    order = np.argsort(p)
    ps = p[order]
    ecdf = np.arange(1, len(p) + 1) / len(p)
    corr = np.minimum.accumulate((ps / ecdf)[::-1])[::-1]
    expected = np.empty_like(p)
    expected[order] = np.minimum(corr, 1)
    np.testing.assert_allclose(q, expected, rtol=0, atol=1e-15)
    # rejection set at alpha = step-up rule: largest k with p_(k) <= k alpha / m
    for alpha in (0.01, 0.05, 0.1):
        ok = np.flatnonzero(ps <= np.arange(1, len(p) + 1) * alpha / len(p))
        k = ok.max() + 1 if len(ok) else 0
        assert set(np.flatnonzero(q <= alpha)) == set(order[:k])


# --- empirical Bayes --------------------------------------------------------------------------


def test_empirical_bayes_hand_case_and_esda(esda):
    e = np.array([2.0, 10.0, 30.0, 1.0])
    b = np.array([10.0, 100.0, 200.0, 50.0])
    m = e.sum() / b.sum()  # 43 / 360
    r = e / b
    s2 = (b * (r - m) ** 2).sum() / b.sum() - m / b.mean()
    w = s2 / (s2 + m / b)
    expected = w * r + (1 - w) * m
    got = hs.empirical_bayes_rates(e, b)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.smoothing.Empirical_Bayes(e, b).r.ravel()
    np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_empirical_bayes_negative_variance_and_zero_base():
    # equal crude rates -> s2 < 0 -> clamp to 0: everyone gets the global rate
    got = hs.empirical_bayes_rates([1.0, 2.0, 0.0], [10.0, 20.0, 0.0])
    np.testing.assert_allclose(got, [0.1, 0.1, 0.1])
    with pytest.raises(InputError, match="non-negative"):
        hs.empirical_bayes_rates([1.0, -1.0], [10.0, 10.0])


# --- GeoDataFrame API ---------------------------------------------------------------------


@pytest.fixture()
def block_grid() -> gpd.GeoDataFrame:
    """12 x 12 grid with a high-share block at the top right and a low block bottom left."""
    g = box_grid(12, 12)
    rng = np.random.default_rng(2)
    pop = rng.integers(400, 900, len(g)).astype(float)
    share = np.full(len(g), 0.20)
    share[g["r"].between(7, 10) & g["c"].between(7, 10)] = 0.60
    share[g["r"].between(1, 4) & g["c"].between(1, 4)] = 0.02
    g["einwohner"] = pop
    g["gruppe"] = np.round(pop * share)
    g.index = [f"z{i:03d}" for i in range(len(g))]
    return g


def test_getis_ord_classes_labels_and_index(block_grid):
    before = block_grid.copy()
    out = hs.getis_ord(block_grid, "gruppe", rate_denominator="einwohner", seed=0)
    pd.testing.assert_frame_equal(block_grid, before)  # input untouched
    assert out.index.equals(block_grid.index) and out.crs == block_grid.crs
    for col in ("value", "n_neighbours", "gi", "gi_z", "gi_p_norm", "gi_p_sim", "gi_q", "klasse"):
        assert col in out.columns
    assert list(out["klasse"].cat.categories) == [HOT, COLD, NS, SMALL]
    hot_block = out["r"].between(8, 9) & out["c"].between(8, 9)
    cold_block = out["r"].between(2, 3) & out["c"].between(2, 3)
    assert (out.loc[hot_block, "klasse"] == HOT).all()
    assert (out.loc[cold_block, "klasse"] == COLD).all()
    assert (out.loc[out["r"].between(0, 1) & out["c"].between(10, 11), "klasse"] == NS).all()
    assert out.attrs["hotspots"]["n_hotspot"] >= 4
    np.testing.assert_allclose(out["value"], block_grid["gruppe"] / block_grid["einwohner"])


def test_population_floor(block_grid):
    g = block_grid.copy()
    g.loc[["z143", "z000", "z070"], "einwohner"] = [120.0, 299.0, 300.0]
    out = hs.getis_ord(g, "gruppe", rate_denominator="einwohner", smoothing="eb", seed=0)
    assert (out.loc[["z143", "z000"], "klasse"] == SMALL).all()
    assert out.loc[["z143", "z000"], "gi_q"].isna().all()
    assert out.loc["z070", "klasse"] != SMALL and np.isfinite(out.loc["z070", "gi_q"])
    # q-values are BH over the tested units only
    tested = out["klasse"] != SMALL
    np.testing.assert_allclose(
        out.loc[tested, "gi_q"], hs.benjamini_hochberg(out.loc[tested, "gi_p_sim"])
    )
    lab = hs.local_moran(g, "gruppe", population="einwohner", min_population=1000, seed=0)
    assert (lab["klasse"] == "zu klein (< 1.000 Einw.)").all()


def test_local_moran_frame_labels(block_grid):
    out = hs.local_moran(block_grid, "gruppe", rate_denominator="einwohner", seed=0)
    assert list(out["klasse"].cat.categories) == [
        "Hoch-Hoch", "Niedrig-Hoch", "Niedrig-Niedrig", "Hoch-Niedrig", NS, SMALL,
    ]
    hot_block = out["r"].between(8, 9) & out["c"].between(8, 9)
    cold_block = out["r"].between(2, 3) & out["c"].between(2, 3)
    assert (out.loc[hot_block, "klasse"] == "Hoch-Hoch").all()
    assert (out.loc[cold_block, "klasse"] == "Niedrig-Niedrig").all()
    sig = out["lisa_q"] <= 0.05
    codes = out.loc[sig, "lisa_quadrant"].map(hs.LISA_LABELS)
    assert (codes == out.loc[sig, "klasse"].astype(str)).all()
    assert (out.loc[~sig, "klasse"] == NS).all()


def test_knn_distance_and_custom_weights(block_grid):
    a = hs.getis_ord(block_grid, "gruppe", weights="knn", k=4, permutations=99)
    assert (a["n_neighbours"] == 4).all()
    b = hs.getis_ord(block_grid, "gruppe", weights="distance", distance=142, permutations=99)
    assert b["n_neighbours"].max() == 8
    w = queen_weights(block_grid)
    c = hs.getis_ord(block_grid, "gruppe", weights=w.sparse, permutations=99)
    d = hs.getis_ord(block_grid, "gruppe", weights="queen", permutations=99)
    np.testing.assert_allclose(c["gi_z"], d["gi_z"])
    e = hs.getis_ord(block_grid, "gruppe", permutations=0)
    np.testing.assert_allclose(e["gi_q"], hs.benjamini_hochberg(e["gi_p_norm"]))


def test_islands_are_not_classified():
    g = box_grid(3, 3)
    far = gpd.GeoDataFrame({"r": [9], "c": [9]}, geometry=[shapely.box(0, 0, 10, 10)],
                           crs="EPSG:25832")
    g = pd.concat([g, far], ignore_index=True)
    g["y"] = np.arange(10.0) + 1
    with pytest.warns(UserWarning, match="no neighbours"):
        out = hs.getis_ord(g, "y", permutations=99)
    assert np.isnan(out.loc[9, "gi_z"]) and np.isnan(out.loc[9, "gi_q"])
    assert out.loc[9, "klasse"] == NS


def test_errors(block_grid):
    with pytest.raises(CRSError, match="geographic"):
        hs.getis_ord(block_grid.to_crs("EPSG:4326"), "gruppe")
    with pytest.raises(SchemaError, match="lacks the column"):
        hs.local_moran(block_grid, "missing")
    with pytest.raises(InputError, match="rate_denominator"):
        hs.getis_ord(block_grid, "gruppe", smoothing="eb")
    neg = block_grid.assign(gruppe=block_grid["gruppe"] - 100)
    with pytest.raises(InputError, match="non-negative"):
        hs.getis_ord(neg, "gruppe")
    nan = block_grid.copy()
    nan.loc["z005", "gruppe"] = np.nan
    with pytest.raises(InputError, match="missing values"):
        hs.getis_ord(nan, "gruppe")
    with pytest.raises(InputError, match="alpha"):
        hs.getis_ord(block_grid, "gruppe", alpha=5)
    with pytest.raises(InputError, match="alternative"):
        hs.permutation_pvalues(np.ones(4), sparse.eye_array(4), alternative="two")
