"""Benchmark gis_planning.planning.siting against spopt (PuLP + HiGHS) on Essen-sized MCLP
instances.

``python -m benchmarks.bench_siting [--quick]``. Each run happens in a fresh process (spawn) so
that the reported peak memory (ru_maxrss) belongs to that run alone.

Instance: 100 m demand cells inside an ellipse of Essen's extent (21 x 17 km, about 280 km2),
a random sample of ``n`` cells, inhabitants lognormal(3, 1); ``m`` candidate points uniform in
the bounding box; radius 800 m. Both sides start from GeoDataFrames (spopt:
``MCLP.from_geodataframe`` computes the full cost matrix; ours: sparse k-d tree coverage).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import time
from typing import Any

import numpy as np

__all__ = ["main", "make_instance"]


def make_instance(n: int, m: int, *, seed: int = 0) -> tuple[Any, Any]:
    """Return (demand, candidates) GeoDataFrames in EPSG:25832 (synthetic, Essen-sized)."""
    import geopandas as gpd

    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(50, 21000, 100), np.arange(50, 17000, 100))
    xy = np.column_stack([gx.ravel(), gy.ravel()]).astype(float)
    inside = ((xy[:, 0] - 10500) / 10500) ** 2 + ((xy[:, 1] - 8500) / 8500) ** 2 <= 1
    xy = xy[inside]
    xy = xy[rng.choice(len(xy), size=min(n, len(xy)), replace=False)] + 356000.0
    xy[:, 1] += 5_690_000.0 - 356000.0
    demand = gpd.GeoDataFrame({"einwohner": rng.lognormal(3, 1, len(xy)).round()},
                              geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=25832)
    cx = rng.uniform(0, 21000, m) + 356000.0
    cy = rng.uniform(0, 17000, m) + 5_690_000.0
    cands = gpd.GeoDataFrame(geometry=gpd.points_from_xy(cx, cy), crs=25832)
    return demand, cands


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _run(job: tuple[str, int, int, int, float]) -> dict[str, Any]:
    who, n, m, p, radius = job
    demand, cands = make_instance(n, m)
    if who == "ours":
        from gis_planning.planning.siting import solve_mclp

        t0 = time.perf_counter()
        res = solve_mclp(demand, cands, p=p, radius=radius, weight="einwohner")
        dt = time.perf_counter() - t0
        return {"time": dt, "objective": res.summary.objective, "status": res.summary.status,
                "gap": res.summary.gap, "peak_mb": _peak_mb()}
    import pulp
    from spopt.locate import MCLP

    t0 = time.perf_counter()
    model = MCLP.from_geodataframe(demand, cands, "geometry", "geometry", "einwohner",
                                   service_radius=radius, p_facilities=p)
    t_build = time.perf_counter() - t0
    model.solve(pulp.HiGHS(msg=False))
    dt = time.perf_counter() - t0
    return {"time": dt, "build": t_build, "objective": float(pulp.value(model.problem.objective)),
            "status": pulp.LpStatus[model.problem.status], "peak_mb": _peak_mb()}


def main(argv: list[str] | None = None) -> int:
    """Run the siting benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser(prog="bench_siting", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small instances only")
    args, _ = parser.parse_known_args(argv)
    if args.quick:
        cases = [(2000, 100, 5, True), (5000, 300, 10, False)]
    else:
        cases = [(10_000, 500, 20, True), (20_000, 500, 20, True), (20_000, 2000, 50, False)]
    ctx = mp.get_context("spawn")
    print("\n## Siting: MCLP, radius 800 m (gis_planning vs spopt 0.7 + PuLP/HiGHS)\n")
    print("| demand x candidates | p | ours (s) | spopt (s) (build) | speed-up | objective ours |"
          " objective spopt | status ours | peak MB ours | peak MB spopt |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    for n, m, p, with_ref in cases:
        with ctx.Pool(1, maxtasksperchild=1) as pool:
            ours = pool.apply(_run, (("ours", n, m, p, 800.0),))
        ref: dict[str, Any] | None = None
        if with_ref:
            with ctx.Pool(1, maxtasksperchild=1) as pool:
                ref = pool.apply(_run, (("spopt", n, m, p, 800.0),))
        if ref is not None:
            same = abs(ref["objective"] - ours["objective"]) <= 1e-6 * max(1.0, ours["objective"])
            ratio = ref["time"] / ours["time"]
            ref_cells = (f"{ref['time']:.2f} ({ref['build']:.2f}) | {ratio:.0f}x"
                         f" | {ours['objective']:,.0f} | {ref['objective']:,.0f}"
                         f"{'' if same else ' (DIFFERS)'}")
            ref_mem = f"{ref['peak_mb']:.0f}"
        else:
            ref_cells = f"— | — | {ours['objective']:,.0f} | not run"
            ref_mem = "—"
        print(f"| {n:,} x {m:,} | {p} | {ours['time']:.2f} | {ref_cells} | {ours['status']}"
              f" (gap {ours['gap']:.1e}) | {ours['peak_mb']:.0f} | {ref_mem} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
