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
from gis_planning.analysis import _permutation
from gis_planning.analysis import hotspots as hs
from gis_planning.analysis.weights import knn_weights, queen_weights

HOT = "Hotspot (signifikant, FDR 5 %)"
COLD = "Kältepunkt (signifikant, FDR 5 %)"
NS = "nicht signifikant"
NONE = "keine Nachbarn"
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
            draws = _permutation._distinct_rows(r, n, perms + extra, k)
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
    m1 = hs.local_moran(g, "y", seed=42)
    m2 = hs.local_moran(g, "y", seed=42)
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
    with pytest.raises(InputError, match="nicht negativ"):
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
    assert list(out["klasse"].cat.categories) == [HOT, COLD, NS, NONE, SMALL]
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
        "Hoch-Hoch", "Niedrig-Hoch", "Niedrig-Niedrig", "Hoch-Niedrig", NS, NONE, SMALL,
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
    a = hs.getis_ord(block_grid, "gruppe", weights="knn", k=4)
    assert (a["n_neighbours"] == 4).all()
    assert a.attrs["hotspots"]["weights"] == "knn" and a.attrs["hotspots"]["k"] == 4
    b = hs.getis_ord(block_grid, "gruppe", weights="distance", distance=142)
    assert b["n_neighbours"].max() == 8 and b.attrs["hotspots"]["distance_m"] == 142
    w = queen_weights(block_grid)
    c = hs.getis_ord(block_grid, "gruppe", weights=w.sparse, permutations=2999)
    d = hs.getis_ord(block_grid, "gruppe", weights="queen", permutations=2999)
    np.testing.assert_allclose(c["gi_z"], d["gi_z"])
    e = hs.getis_ord(block_grid, "gruppe", permutations=0)
    np.testing.assert_allclose(e["gi_q"], hs.benjamini_hochberg(e["gi_p_norm"]))


def test_islands_are_not_classified():
    g = box_grid(3, 3)
    far = gpd.GeoDataFrame({"r": [9], "c": [9]}, geometry=[shapely.box(0, 0, 10, 10)],
                           crs="EPSG:25832")
    g = pd.concat([g, far], ignore_index=True)
    g["y"] = np.arange(10.0) + 1
    with pytest.warns(UserWarning, match="keine Nachbarn"):
        out = hs.getis_ord(g, "y")
    assert np.isnan(out.loc[9, "gi_z"]) and np.isnan(out.loc[9, "gi_q"])
    # no neighbours means no statistic: "keine Nachbarn", not "nicht signifikant"
    assert out.loc[9, "klasse"] == NONE
    assert (out.loc[:8, "klasse"] != NONE).all()
    assert out.attrs["hotspots"]["n_tested"] == 9 and out.attrs["hotspots"]["n_keine_nachbarn"] == 1
    with pytest.warns(UserWarning, match="keine Nachbarn"):
        lisa = hs.local_moran(g, "y")
    assert lisa.loc[9, "klasse"] == NONE and np.isnan(lisa.loc[9, "lisa_q"])


def test_errors(block_grid):
    with pytest.raises(CRSError, match="geografisches Koordinatensystem"):
        hs.getis_ord(block_grid.to_crs("EPSG:4326"), "gruppe")
    with pytest.raises(SchemaError, match="fehlt; vorhanden sind"):
        hs.local_moran(block_grid, "missing")
    with pytest.raises(InputError, match="Nenner-Spalte"):
        hs.getis_ord(block_grid, "gruppe", smoothing="eb")
    neg = block_grid.assign(gruppe=block_grid["gruppe"] - 100)
    with pytest.raises(InputError, match="nicht negativ"):
        hs.getis_ord(neg, "gruppe")
    nan = block_grid.copy()
    nan.loc["z005", "gruppe"] = np.nan
    with pytest.raises(InputError, match="fehlende Werte"):
        hs.getis_ord(nan, "gruppe")
    with pytest.raises(InputError, match="Fehlerrate"):
        hs.getis_ord(block_grid, "gruppe", alpha=5)
    with pytest.raises(InputError, match="Alternative"):
        hs.permutation_pvalues(np.ones(4), sparse.eye_array(4), alternative="two")


# --- attainable inference (issue 13) ---------------------------------------------------------


def _strong_spot(nrows: int = 9, ncols: int = 10) -> gpd.GeoDataFrame:
    """90 units (like a city's Stadtteile) with one strong high-value cluster."""
    g = box_grid(nrows, ncols)
    rng = np.random.default_rng(4)
    g["y"] = rng.gamma(4.0, 1.0, len(g))
    spot = g["r"].between(3, 5) & g["c"].between(3, 5)
    g.loc[spot, "y"] += 9.0
    return g


def test_minimum_and_auto_permutations():
    assert hs.minimum_permutations(86) == 1719  # 86 / 1720 = 0.05 exactly
    assert 86 / (hs.minimum_permutations(86) + 1) <= 0.05 < 86 / hs.minimum_permutations(86)
    assert hs.minimum_permutations(86, alpha=0.1) == 859
    assert hs.auto_permutations(86) == 9_999 and hs.auto_permutations(50) == 4_999
    assert hs.auto_permutations(2_500) == hs.MAX_AUTO_PERMUTATIONS
    assert hs.auto_permutations(2_501) == 0  # normal approximation beyond


def test_too_few_permutations_are_refused_with_the_minimum():
    g = _strong_spot()
    # 90 units, 999 permutations: the strongest unit alone gets q >= 90/1000 = 0.09
    with pytest.raises(InputError, match=r"Mit 999 Permutationen.*q = 0,090.*"
                                         r"--permutations 1799 oder mehr"):
        hs.getis_ord(g, "y", permutations=999)
    with pytest.raises(InputError, match="--permutations 1799"):
        hs.local_moran(g, "y", permutations=999)
    with pytest.raises(InputError, match="'auto' oder eine ganze Zahl"):
        hs.getis_ord(g, "y", permutations="many")
    out = hs.getis_ord(g, "y", permutations=1799)  # the minimum is accepted
    assert out["gi_q_min"].iloc[0] == pytest.approx(90 / 1800)


def test_auto_makes_a_strong_unit_discoverable():
    g = _strong_spot()
    out = hs.getis_ord(g, "y")
    info = out.attrs["hotspots"]
    assert info["permutations"] == 9_999 and info["n_tested"] == 90
    assert info["q_min"] == pytest.approx(90 / 10_000)
    assert (out["gi_q_min"] == info["q_min"]).all()
    assert (out["gi_p_methode"] == "bedingte Permutation (9.999 Ziehungen)").all()
    centre = (out["r"] == 4) & (out["c"] == 4)
    assert out.loc[centre, "gi_p_norm"].iloc[0] < 1e-4  # a strong spot by any standard
    assert (out.loc[centre, "klasse"] == HOT).all()
    assert info["n_hotspot"] >= 5


def test_normal_approximation_for_many_units_is_said_so():
    g = box_grid(60, 60)  # 3,600 units: 4 * 3600 / 0.05 permutations would be needed
    g["y"] = clustered(60)
    out = hs.getis_ord(g, "y")
    assert out.attrs["hotspots"]["permutations"] == 0
    assert (out["gi_p_methode"] == "Normalapproximation (analytisch)").all()
    assert out["gi_p_sim"].isna().all() and (out["gi_q_min"] == 0).all()
    np.testing.assert_allclose(out["gi_q"], hs.benjamini_hochberg(out["gi_p_norm"]))
    lisa = hs.local_moran(g, "y")
    assert (lisa["lisa_p_methode"] == "Normalapproximation (analytisch)").all()
    np.testing.assert_allclose(lisa["lisa_q"], hs.benjamini_hochberg(lisa["lisa_p_norm"]))


def test_local_moran_normal_moments_equal_exact_enumeration():
    import itertools

    rng = np.random.default_rng(8)
    g = box_grid(2, 4)  # 8 units: enumerate all ordered draws of the others exactly
    y = rng.normal(size=8)
    w = queen_weights(g)
    res = hs.local_moran_statistics(y, w, permutations=0)
    z = (y - y.mean()) / y.std()
    r = w.row_standardised().sparse.toarray()
    for i in range(8):
        nb = np.flatnonzero(r[i])
        others = np.delete(z, i)
        lags = np.array([(r[i, nb] * np.array(d)).sum()
                         for d in itertools.permutations(others, len(nb))])
        zi = np.sign(z[i]) * (res.lag[i] - lags.mean()) / lags.std()
        assert res.z_norm[i] == pytest.approx(zi, abs=1e-10)


@pytest.mark.parametrize("method", ["gi", "lisa", "gi_normal"])
def test_calibration_on_randomly_permuted_data(method):
    """No spatial pattern: about 5 % of p <= 0.05, and FDR discoveries are rare."""
    g = box_grid(20, 20)
    base = clustered(20, seed=3)
    rng = np.random.default_rng(12)
    pvals, maps_with_discovery = [], 0
    reps = 25
    for rep in range(reps):
        g["y"] = rng.permutation(base)
        if method == "lisa":
            out = hs.local_moran(g, "y", seed=rep)
            p = out["lisa_p_sim"]
        else:
            out = hs.getis_ord(g, "y", seed=rep, permutations=0 if method == "gi_normal"
                               else "auto")
            p = out["gi_p_norm"] if method == "gi_normal" else out["gi_p_sim"]
        pvals.append(p.to_numpy())
        q = out["gi_q" if method != "lisa" else "lisa_q"]
        maps_with_discovery += bool((q <= 0.05).any())
    share = float(np.mean(np.concatenate(pvals) <= 0.05))
    assert 0.035 <= share <= 0.065, share
    # under the complete null BH controls the chance of any discovery at 5 %
    assert maps_with_discovery <= 4, maps_with_discovery


def test_rate_intervals_in_the_output(block_grid):
    from gis_planning.analysis.uncertainty import wilson_interval

    out = hs.getis_ord(block_grid, "gruppe", rate_denominator="einwohner", smoothing="eb")
    lo, hi = wilson_interval(block_grid["gruppe"], block_grid["einwohner"])
    np.testing.assert_allclose(out["rate_ki_unten"], lo)
    np.testing.assert_allclose(out["rate_ki_oben"], hi)
    np.testing.assert_allclose(out["rate"], block_grid["gruppe"] / block_grid["einwohner"])
    assert (out["rate_ki_unten"] <= out["rate"]).all()
    assert (out["rate"] <= out["rate_ki_oben"]).all()
    assert out.attrs["hotspots"]["rate_interval"] == "Wilson (Anteil)"
    plain = hs.getis_ord(block_grid, "gruppe")
    assert "rate_ki_unten" not in plain
