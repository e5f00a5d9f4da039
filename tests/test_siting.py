"""Tests of gis_planning.planning.siting: hand-checkable cases, spopt reference values,
validation."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis_planning._errors import CRSError, GeometryError, InputError, SchemaError
from gis_planning.planning import siting

CRS = "EPSG:25832"


def _pts(xy, crs=CRS, **cols):
    xy = np.asarray(xy, dtype=float)
    return gpd.GeoDataFrame(cols, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=crs)


@pytest.fixture
def line():
    """Demand on a line at x = 0, 100, ..., 900 (weights 1..10), candidates at 0, 450, 900."""
    demand = _pts([(100 * i, 0) for i in range(10)], w=np.arange(1, 11, dtype=float))
    demand.index = [f"d{i}" for i in range(10)]
    cands = _pts([(0, 0), (450, 0), (900, 0)], bezirk=["I", "I", "II"],
                 exists=[True, False, False], cap=[5.0, np.nan, 10.0])
    cands.index = ["a", "b", "c"]
    return demand, cands


def _random(seed: int, n: int = 60, m: int = 12, size: float = 3000.0):
    rng = np.random.default_rng(seed)
    demand = _pts(rng.uniform(0, size, (n, 2)), w=rng.integers(1, 50, n).astype(float))
    cands = _pts(rng.uniform(0, size, (m, 2)), bezirk=rng.integers(0, 3, m))
    return demand, cands


# ------------------------------------------------------------------ hand-computed cases
def test_mclp_hand_case(line):
    demand, cands = line
    # radius 200: a covers d0..d2 (1+2+3=6), b covers d3..d6 (4+5+6+7=22), c covers d7..d9 (27)
    res = siting.solve_mclp(demand, cands, p=1, radius=200, weight="w")
    assert list(res.sites.index) == ["c"]
    assert res.summary.objective == pytest.approx(27)
    assert res.summary.coverage_share == pytest.approx(27 / 55)
    assert res.summary.optimal and res.summary.status == "optimal"
    res2 = siting.solve_mclp(demand, cands, p=2, radius=200, weight="w")
    assert sorted(res2.sites.index) == ["b", "c"]
    assert res2.summary.objective == pytest.approx(49)
    alloc = res2.allocation
    assert alloc.loc["d4", "site"] == "b" and alloc.loc["d9", "site"] == "c"
    assert pd.isna(alloc.loc["d0", "site"]) and not alloc.loc["d0", "covered"]
    assert alloc.loc["d0", "distance_m"] == pytest.approx(450)  # nearest chosen site is b
    assert alloc.loc["d8", "distance_m"] == pytest.approx(100)
    assert res2.sites.loc["b", "allocated_weight"] == pytest.approx(22)
    assert res2.sites.loc["b", "n_allocated"] == 4


def test_mclp_fixed_and_group(line):
    demand, cands = line
    res = siting.solve_mclp(demand, cands, p=2, radius=200, weight="w", fixed="exists")
    assert sorted(res.sites.index) == ["a", "c"]
    assert res.summary.objective == pytest.approx(33)
    assert bool(res.sites.loc["a", "fixed"]) and res.summary.n_fixed == 1
    # one site per Bezirk with p=2: {b, c} is still best (b in I, c in II)
    res = siting.solve_mclp(demand, cands, p=2, radius=200, weight="w", group="bezirk")
    assert sorted(res.sites.index) == ["b", "c"]
    # with p=1 the group rule cannot hold
    with pytest.raises(InputError, match="Zahl der Bezirke"):
        siting.solve_mclp(demand, cands, p=1, radius=200, group="bezirk")
    with pytest.raises(InputError, match="bestehenden Orte"):
        siting.solve_mclp(demand, cands.assign(exists=True), p=2, fixed="exists")


def test_mclp_capacitated_hand_case(line):
    demand, cands = line
    # capacity of c is 10 of the 27 it reaches; b (unlimited) serves 22 -> 32 with {b, c}
    # {a, c}: a serves 5 of 6, c 10 -> 15; so {b, c} with 32
    res = siting.solve_mclp(demand, cands, p=2, radius=200, weight="w", capacity="cap")
    assert sorted(res.sites.index) == ["b", "c"]
    assert res.summary.objective == pytest.approx(32)
    assert res.sites.loc["c", "allocated_weight"] == pytest.approx(10)
    assert res.sites.loc["c", "utilisation"] == pytest.approx(1.0)
    assert res.allocation["served_weight"].sum() == pytest.approx(32)


def test_lscp_hand_case_and_uncoverable(line):
    demand, cands = line
    res = siting.solve_lscp(demand, cands, radius=450, weight="w")
    assert res.summary.objective == 1 and list(res.sites.index) == ["b"]
    assert res.summary.coverage_share == pytest.approx(1.0)
    res = siting.solve_lscp(demand, cands, radius=250)
    assert res.summary.objective == 3
    with pytest.raises(InputError, match=r"2 Nachfragezelle\(n\) ohne Kandidaten im Radius 150 m"):
        siting.solve_lscp(demand, cands, radius=150)
    res = siting.solve_lscp(demand, cands, radius=150, uncoverable="drop")
    assert res.summary.n_uncoverable == 2  # x = 200 and x = 700
    assert (~res.allocation["coverable"]).sum() == 2
    assert res.summary.objective == 3


def test_lscp_capacitated(line):
    demand, cands = line
    # radius 450: b alone reaches everything, but with capacity 20 at b it cannot serve 55
    cands = cands.assign(cap2=[60.0, 20.0, 60.0])
    res = siting.solve_lscp(demand, cands, radius=450, weight="w", capacity="cap2")
    assert res.summary.objective == 2
    assert res.allocation["served_weight"].sum() == pytest.approx(55)
    cands = cands.assign(cap3=[1.0, 1.0, 1.0])
    with pytest.raises(InputError, match="unlösbar"):
        siting.solve_lscp(demand, cands, radius=450, weight="w", capacity="cap3")


def test_pmedian_hand_case(line):
    demand, cands = line
    res = siting.solve_pmedian(demand, cands, p=1, weight="w")
    # cost of b: sum w_i |x_i - 450|
    x = np.arange(10) * 100.0
    w = np.arange(1, 11, dtype=float)
    costs = {k: float((w * np.abs(x - c)).sum()) for k, c in zip("abc", (0, 450, 900),
                                                                      strict=True)}
    best = min(costs, key=costs.get)
    assert list(res.sites.index) == [best]
    assert res.summary.objective == pytest.approx(costs[best])
    assert res.summary.mean_distance == pytest.approx(costs[best] / w.sum())
    assert res.catchments.geometry.iloc[0].area > 0


def test_polygon_demand_uses_representative_point():
    geoms = [shapely.box(0, 0, 100, 100), shapely.box(1000, 0, 1100, 100)]
    boxes = gpd.GeoDataFrame({"w": [1.0, 2.0]}, geometry=geoms, crs=CRS)
    cands = _pts([(50, 50)])
    res = siting.solve_mclp(boxes, cands, p=1, radius=100, weight="w")
    assert res.summary.objective == pytest.approx(1.0)
    pts = siting.demand_points(boxes, how="centroid")
    assert pts.iloc[0].equals(shapely.Point(50, 50))
    u_shape = shapely.box(0, 0, 300, 300).difference(shapely.box(100, 100, 200, 300))
    rep = siting.demand_points(gpd.GeoDataFrame(geometry=[u_shape], crs=CRS)).iloc[0]
    assert u_shape.contains(rep)


def test_cost_matrix_replaces_euclid(line):
    demand, cands = line
    cost = np.full((10, 3), 5000.0)
    cost[:, 0] = 10.0  # on the "network" everybody is next to a
    res = siting.solve_mclp(demand, cands, p=1, radius=200, weight="w", cost=cost)
    assert list(res.sites.index) == ["a"] and res.summary.objective == pytest.approx(55)
    df = pd.DataFrame(cost, index=demand.index, columns=cands.index).iloc[::-1]
    res2 = siting.solve_mclp(demand, cands, p=1, radius=200, weight="w", cost=df)
    assert res2.summary.objective == pytest.approx(55)
    with pytest.raises(InputError, match="Form \\(Zellen, Kandidaten\\)"):
        siting.solve_mclp(demand, cands, p=1, cost=cost[:5])


def test_coverage_matrix_is_sparse_and_inclusive(line):
    demand, cands = line
    cm = siting.coverage_matrix(demand, cands, radius=100)
    assert cm.shape == (10, 3)
    assert cm[0, 0] == pytest.approx(1e-9)  # distance 0 kept as an entry
    assert cm[1, 0] == pytest.approx(100, abs=1e-6)  # radius is inclusive
    assert cm.nnz == 2 + 2 + 2


# ------------------------------------------------------------------ reference: spopt
@pytest.mark.parametrize("seed", [0, 1])
def test_mclp_equals_spopt(seed):
    pulp = pytest.importorskip("pulp")
    locate = pytest.importorskip("spopt.locate")
    from scipy.spatial.distance import cdist

    demand, cands = _random(seed)
    fixed = np.zeros(len(cands), dtype=int)
    fixed[[0, 3]] = 1
    d = cdist(np.column_stack([demand.geometry.x, demand.geometry.y]),
              np.column_stack([cands.geometry.x, cands.geometry.y]))
    for p, pre in ((4, None), (5, fixed)):
        ref = locate.MCLP.from_cost_matrix(d, demand["w"].to_numpy(), 700.0, p_facilities=p,
                                           predefined_facilities_arr=pre)
        ref.solve(pulp.HiGHS(msg=False))
        ours = siting.solve_mclp(demand, cands, p=p, radius=700.0, weight="w",
                                 fixed=None if pre is None else pre.astype(bool))
        assert ours.summary.objective == pytest.approx(pulp.value(ref.problem.objective))
        greedy = siting.solve_mclp(demand, cands, p=p, radius=700.0, weight="w",
                                   fixed=None if pre is None else pre.astype(bool),
                                   method="greedy")
        assert greedy.summary.objective <= ours.summary.objective + 1e-9
        assert greedy.summary.bound >= ours.summary.objective - 1e-6


def test_lscp_and_pmedian_equal_spopt():
    pulp = pytest.importorskip("pulp")
    locate = pytest.importorskip("spopt.locate")
    from scipy.spatial.distance import cdist

    demand, cands = _random(7, n=50, m=10, size=2000)
    d = cdist(np.column_stack([demand.geometry.x, demand.geometry.y]),
              np.column_stack([cands.geometry.x, cands.geometry.y]))
    radius = float(d.min(axis=1).max()) + 1.0  # every unit coverable
    ref = locate.LSCP.from_cost_matrix(d, radius)
    ref.solve(pulp.HiGHS(msg=False))
    ours = siting.solve_lscp(demand, cands, radius=radius)
    assert ours.summary.objective == pytest.approx(pulp.value(ref.problem.objective))
    ref = locate.PMedian.from_cost_matrix(d, demand["w"].to_numpy(), p_facilities=3)
    ref.solve(pulp.HiGHS(msg=False))
    ours = siting.solve_pmedian(demand, cands, p=3, weight="w")
    assert ours.summary.objective == pytest.approx(pulp.value(ref.problem.objective), rel=1e-6)
    greedy = siting.solve_pmedian(demand, cands, p=3, weight="w", method="greedy")
    assert greedy.summary.objective >= ours.summary.objective - 1e-6
    assert greedy.summary.bound <= ours.summary.objective + 1e-6


def test_greedy_lscp_bound_and_auto_switch():
    demand, cands = _random(3, n=80, m=15)
    exact = siting.solve_lscp(demand, cands, radius=1500, uncoverable="drop")
    greedy = siting.solve_lscp(demand, cands, radius=1500, uncoverable="drop", method="greedy")
    assert greedy.summary.bound <= exact.summary.objective <= greedy.summary.objective
    assert greedy.summary.coverage_share == pytest.approx(exact.summary.coverage_share)
    with pytest.warns(UserWarning, match="Näherungsverfahren"):
        auto = siting.solve_mclp(demand, cands, p=3, radius=800, milp_limit=10)
    assert auto.summary.method == "greedy"


# ------------------------------------------------------------------ scenarios and outputs
def test_coverage_curve_and_groups(line):
    demand, cands = line
    curve = siting.coverage_curve(demand, cands, max_p=3, radius=200, weight="w")
    assert list(curve.index) == [1, 2, 3]
    assert curve["covered_weight"].tolist() == pytest.approx([27, 49, 55])
    assert curve["marginal_gain"].tolist() == pytest.approx([27, 22, 6])
    assert curve.loc[2, "added"] == ("b",)
    res = siting.solve_mclp(demand, cands, p=2, radius=200, weight="w")
    demand = demand.assign(bezirk=["I"] * 5 + ["II"] * 5)
    by = siting.coverage_by_group(res, demand, group="bezirk")
    assert by.loc["I", "total_weight"] == 15 and by.loc["I", "covered_weight"] == 9
    assert by.loc["II", "uncovered_weight"] == 0
    assert by["covered_weight"].sum() == pytest.approx(res.summary.covered_weight)
    with pytest.raises(SchemaError, match="Spalte 'nope' fehlt"):
        siting.coverage_by_group(res, demand, group="nope")


def test_compare_scenarios(line):
    demand, cands = line
    a = siting.solve_mclp(demand, cands, p=1, radius=200, weight="w", fixed="exists")
    b = siting.locate(demand, cands, model="mclp", p=2, radius=200, weight="w", fixed="exists")
    cmp = siting.compare_scenarios(a, b, labels=("bestehend", "neu"))
    assert cmp.loc["objective", "difference"] == pytest.approx(27)
    assert cmp.loc["sites_shared", "bestehend"] == 1
    assert cmp.loc["sites_only_in_neu", "neu"] == 1
    with pytest.raises(InputError, match="zwei verschiedene Namen"):
        siting.compare_scenarios(a, b, labels=("x", "x"))


def test_outputs_keep_crs_index_and_do_not_mutate(line):
    demand, cands = line
    before_d, before_c = demand.copy(), cands.copy()
    boundary = shapely.box(-100, -100, 1000, 100)
    res = siting.solve_mclp(demand, cands, p=2, radius=200, weight="w", boundary=boundary,
                            catchment="voronoi")
    pd.testing.assert_frame_equal(demand, before_d)
    pd.testing.assert_frame_equal(cands, before_c)
    for gdf in (res.sites, res.allocation, res.catchments):
        assert gdf.crs == demand.crs
    assert res.allocation.index.equals(demand.index)
    assert list(res.catchments.index) == list(res.sites.index)
    cells = res.catchments.geometry
    assert boundary.buffer(1e-6).contains(cells).all()
    assert cells.iloc[0].intersection(cells.iloc[1]).area == pytest.approx(0, abs=1e-6)
    disc = siting.catchments(res.sites, radius=200)
    assert disc["area_m2"].iloc[0] == pytest.approx(np.pi * 200**2, rel=2e-3)  # 64-gon


# ------------------------------------------------------------------ validation
def test_geographic_crs_is_refused(line):
    demand, cands = line
    with pytest.raises(CRSError, match="geografisches Koordinatensystem"):
        siting.solve_mclp(demand.set_crs(4326, allow_override=True),
                          cands.set_crs(4326, allow_override=True), p=1)
    with pytest.raises(CRSError, match="kein Koordinatensystem"):
        siting.solve_lscp(demand.set_crs(None, allow_override=True), cands)
    with pytest.raises(CRSError, match="EPSG:3035"):
        siting.solve_mclp(demand.to_crs(3035), cands, p=1)


def test_validation_messages(line):
    demand, cands = line
    with pytest.raises(SchemaError, match="'nope'"):
        siting.solve_mclp(demand, cands, p=1, weight="nope")
    with pytest.raises(SchemaError, match="≥ 0"):
        siting.solve_mclp(demand.assign(w=-1.0), cands, p=1, weight="w")
    with pytest.raises(InputError, match="übersteigt die Zahl der Kandidaten"):
        siting.solve_mclp(demand, cands, p=4)
    with pytest.raises(InputError, match="Radius muss"):
        siting.solve_mclp(demand, cands, p=1, radius=-5)
    with pytest.raises(GeometryError, match="Punkte"):
        siting.solve_mclp(demand, cands.set_geometry(cands.buffer(5)), p=1)
    with pytest.raises(InputError, match="Modell 'pcenter' unbekannt"):
        siting.locate(demand, cands, model="pcenter")
    with pytest.raises(InputError, match="Ja/Nein-Wert je Kandidat"):
        siting.solve_mclp(demand, cands, p=1, fixed=[True])
    with pytest.raises(InputError, match="Höchstentfernung"):
        siting.solve_pmedian(demand, cands, p=1, max_distance=10)


# ------------------------------------------------------------------ issue 13: exact p-median
def _brute_pmedian(demand, cands, p, w, *, group=None, fixed=None, max_distance=None,
                   cost=None):
    """Optimum by enumerating every set of p candidates."""
    import itertools

    from scipy.spatial.distance import cdist

    d = cost if cost is not None else cdist(
        np.column_stack([demand.geometry.x, demand.geometry.y]),
        np.column_stack([cands.geometry.x, cands.geometry.y]))
    if max_distance is not None:
        d = np.where(d <= max_distance, d, np.inf)
    best = np.inf
    for s in itertools.combinations(range(len(cands)), p):
        s = list(s)
        if group is not None and set(cands[group].iloc[s]) != set(cands[group]):
            continue
        if fixed is not None and not set(np.flatnonzero(fixed)) <= set(s):
            continue
        best = min(best, float((w * d[:, s].min(axis=1)).sum()))
    return best


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pmedian_benders_equals_enumeration(seed):
    demand, cands = _random(seed, n=70, m=11, size=2500)
    w = demand["w"].to_numpy()
    res = siting.solve_pmedian(demand, cands, p=3, weight="w")
    assert res.summary.optimal and res.summary.gap == 0
    assert res.summary.objective == pytest.approx(_brute_pmedian(demand, cands, 3, w), rel=1e-9)
    res = siting.solve_pmedian(demand, cands, p=4, weight="w", group="bezirk")
    assert res.summary.optimal
    assert res.summary.objective == pytest.approx(
        _brute_pmedian(demand, cands, 4, w, group="bezirk"), rel=1e-9)
    fx = np.zeros(len(cands), dtype=bool)
    fx[[0, 5]] = True
    res = siting.solve_pmedian(demand, cands, p=4, weight="w", fixed=fx)
    assert res.summary.objective == pytest.approx(
        _brute_pmedian(demand, cands, 4, w, fixed=fx), rel=1e-9)
    assert set(res.sites.index) >= {0, 5}


def test_pmedian_with_max_distance_and_cost_matrix():
    demand, cands = _random(5, n=60, m=10, size=2500)
    w = demand["w"].to_numpy()
    from scipy.spatial.distance import cdist

    d = cdist(np.column_stack([demand.geometry.x, demand.geometry.y]),
              np.column_stack([cands.geometry.x, cands.geometry.y]))
    limit = float(np.sort(d, axis=1)[:, 2].max())  # every unit has 3 candidates in reach
    res = siting.solve_pmedian(demand, cands, p=4, weight="w", max_distance=limit)
    brute = _brute_pmedian(demand, cands, 4, w, max_distance=limit)
    assert res.summary.optimal and res.summary.objective == pytest.approx(brute, rel=1e-9)
    assert res.summary.max_distance <= limit + 1e-9
    cost = d * 1.3  # e.g. walking detours; some pairs unreachable
    cost[0, :5] = np.inf
    res = siting.solve_pmedian(demand, cands, p=3, weight="w", cost=cost)
    assert res.summary.objective == pytest.approx(
        _brute_pmedian(demand, cands, 3, w, cost=cost), rel=1e-9)


def test_pmedian_summary_reports_mean_and_largest_distance(line):
    demand, cands = line
    res = siting.solve_pmedian(demand, cands, p=2, weight="w", fixed="exists")
    alloc = res.allocation
    assert res.summary.max_distance == pytest.approx(alloc["distance_m"].max())
    assert res.summary.mean_distance == pytest.approx(
        (alloc["weight"] * alloc["distance_m"]).sum() / alloc["weight"].sum())
    assert res.summary.uncoverable_weight == 0


def test_lscp_reports_demand_no_candidate_reaches(line):
    demand, cands = line
    res = siting.solve_lscp(demand, cands, radius=150, uncoverable="drop", weight="w")
    # x = 200 (w 3) and x = 700 (w 8) are more than 150 m from every candidate
    assert res.summary.uncoverable_weight == pytest.approx(11.0)
    from gis_planning.cli.site import summary_line

    text = summary_line(res.summary)
    assert "Nachfrage 11 (20,0 %) in 2 Zellen erreicht kein Kandidat im Radius" in text


def test_summary_line_says_heuristisch_and_the_gap(line):
    import dataclasses

    from gis_planning.cli.site import summary_line

    demand, cands = line
    pm = siting.solve_pmedian(demand, cands, p=1, weight="w")
    text = summary_line(pm.summary)
    assert text.startswith("p-Median, beweisbar optimal")
    assert "mittlere Entfernung" in text and "größte" in text and "Radius" not in text
    stopped = dataclasses.replace(pm.summary, optimal=False, status="time_limit", gap=0.123)
    text = summary_line(stopped)
    assert "heuristisch (Zeitlimit erreicht)" in text and "höchstens 12,3 %" in text
    greedy = siting.solve_mclp(demand, cands, p=2, radius=200, weight="w", method="greedy",
                               lp_bound=False)
    if not greedy.summary.optimal:
        assert "heuristisch" in summary_line(greedy.summary)


def test_capacitated_pmedian_keeps_capacities(line):
    demand, cands = line
    cands = cands.assign(cap2=[20.0, 20.0, 20.0])
    res = siting.solve_pmedian(demand, cands, p=3, weight="w", capacity="cap2")
    assert res.summary.optimal
    assert (res.sites["allocated_weight"] <= 20.0 + 1e-6).all()
    assert res.sites["allocated_weight"].sum() == pytest.approx(55.0)


@pytest.mark.slow
def test_pmedian_on_essen_is_proven_optimal(catalog):
    """3,574 demand cells x 521 candidates: the old code fell back to greedy (gap 79.8 %)."""
    from gis_planning import results

    result, _ = results.siting(catalog, model="pmedian", p=9, demand="gruppe")
    s = result.summary
    assert s.optimal and s.gap == 0 and s.method == "milp"
    assert s.n_demand > 3000 and s.n_candidates > 500
    assert s.objective == pytest.approx(s.bound, rel=1e-7)
    assert s.mean_distance < 1625  # the greedy heuristic's mean distance
