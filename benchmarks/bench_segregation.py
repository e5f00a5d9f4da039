"""Benchmark: gis_planning.analysis.segregation against PySAL's `segregation` on synthetic 100 m
grids.

``python -m benchmarks.bench_segregation [--quick] [--sizes 10000 100000 1000000]``

Grids of n cells (100 m), residents per cell Poisson(40), minority share a smooth random field
(clustered). Timed: the global aspatial indices, local location quotients with a 500 m kernel
and a global spatial (distance-decay, 500 m triangular kernel) dissimilarity. The reference is
run on the same data in the same process; above 10^5 cells only ours (the reference takes
minutes). Any call slower than 5 s is run once, others best of 3.
"""

from __future__ import annotations

import argparse
import time
import warnings

import geopandas as gpd
import numpy as np

from gis_planning.analysis.segregation import global_indices, local_indices

from ._data import clustered_grid

REF_LIMIT = 100_000


def synthetic_grid(n_cells: int, *, seed: int = 0) -> gpd.GeoDataFrame:
    """Square grid of about ``n_cells`` 100 m cells with a clustered minority (t, x, y)."""
    g = clustered_grid(n_cells, seed=seed).rename(columns={"einwohner": "t", "gruppe": "x"})
    g["y"] = g["t"] - g["x"]
    return g.drop(columns="anteil")


def _time(fn, *, repeat: int = 3) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
        best = min(best, dt)
        if dt > 5:
            break
    return best, out


def run(sizes: list[int]) -> list[dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from segregation.local import MultiLocationQuotient
        from segregation.singlegroup import Dissim
    rows = []
    for n in sizes:
        g = synthetic_grid(n)
        cases = {
            "global aspatial (D)": (
                lambda g=g: global_indices(g, group="x", total="t")["dissimilarity"].iloc[0],
                lambda g=g: Dissim(g, "x", "t").statistic,
            ),
            "local LQ, 500 m kernel": (
                lambda g=g: (
                    local_indices(g, groups=["x", "y"], distance=500, round_counts=True)
                    .iloc[:, :2]
                    .to_numpy()
                ),
                lambda g=g: MultiLocationQuotient(g, ["x", "y"], distance=500).statistics,
            ),
            "spatial D, 500 m kernel": (
                lambda g=g: global_indices(
                    g, group="x", total="t", distance=500, round_counts=True
                )["dissimilarity"].iloc[0],
                lambda g=g: Dissim(g, "x", "t", distance=500).statistic,
            ),
        }
        for name, (ours, ref) in cases.items():
            t_ours, v_ours = _time(ours)
            t_ref, v_ref, diff = np.nan, None, np.nan
            with_ref = n <= REF_LIMIT and not (n > 20_000 and name.startswith("local"))
            if with_ref:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t_ref, v_ref = _time(ref, repeat=1 if n > 20_000 else 3)
                diff = float(
                    np.nanmax(
                        np.abs(np.asarray(v_ours, dtype=float) - np.asarray(v_ref, dtype=float))
                    )
                )
            rows.append(
                {
                    "cells": len(g),
                    "index": name,
                    "ours_s": t_ours,
                    "ref_s": t_ref,
                    "ratio": t_ref / t_ours,
                    "max_abs_diff": diff,
                }
            )
    return rows


def format_table(rows: list[dict]) -> str:
    lines = [
        "| cells | index | gis_planning (s) | segregation 2.5 (s) | speed-up | max abs diff |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        ref = "—" if np.isnan(r["ref_s"]) else f"{r['ref_s']:.3f}"
        ratio = "—" if np.isnan(r["ratio"]) else f"{r['ratio']:.0f}x"
        diff = "—" if np.isnan(r["max_abs_diff"]) else f"{r['max_abs_diff']:.1e}"
        lines.append(
            f"| {r['cells']:,} | {r['index']} | {r['ours_s']:.3f} | {ref} | {ratio} | {diff} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_segregation", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10^4 cells only")
    parser.add_argument("--sizes", type=int, nargs="*", default=None)
    args, _ = parser.parse_known_args(argv)
    sizes = args.sizes or ([10_000] if args.quick else [10_000, 100_000, 1_000_000])
    print("Segregation: gis_planning vs PySAL segregation (same data, same run)")
    print(format_table(run(sizes)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
