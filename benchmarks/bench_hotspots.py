"""Benchmark: gis_planning.analysis.hotspots (Gi*, local Moran, 999 permutations) against esda.

``python -m benchmarks.bench_hotspots [--quick] [--sizes 10000 100000 1000000]``

Synthetic square grids of n 100 m cells, residents Poisson(40), minority share a smooth random
field (clustered); the analysed value is the minority share. Per size:

* ours: queen weights (grid fast path), ``gi_star_statistics`` and ``local_moran_statistics``
  with 999 permutations (folded two-sided p), single-threaded NumPy;
* floor: 999 sparse matrix-vector products with the same binary weights, same run;
* esda 2.x: ``G_Local(transform="B", star=True)`` and ``Moran_Local(transformation="r")``
  with 999 permutations, ``n_jobs=1``, ``keep_simulations=False``, on a libpysal Graph made
  from our matrix (graph building not timed). numba compilation is excluded (warm-up on a
  10 x 10 grid first). Skipped above 10^5 cells (and above 10^4 with ``--quick``);
* agreement: share of units with the same decision p < 0.05 (ours with esda's legacy
  "directed" p-value vs esda's ``p_sim``);
* peak memory: the whole GeoDataFrame pipeline (grid, ``getis_ord`` + ``local_moran``) in a
  fresh subprocess, ``resource.getrusage(RUSAGE_SELF).ru_maxrss``. The pipeline runs with
  ``permutations="auto"``: 999 permutations cannot reach FDR 5 % for 10^4 cells (and are
  refused), so on these grid sizes the frame API uses the normal approximation; the
  permutation engine itself is timed on arrays above.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings

import geopandas as gpd
import numpy as np

from gis_planning.analysis.hotspots import (
    getis_ord,
    gi_star_statistics,
    local_moran,
    local_moran_statistics,
)
from gis_planning.analysis.weights import queen_weights

from ._data import clustered_grid

REF_LIMIT = 100_000
PERMUTATIONS = 999


def synthetic_grid(n_cells: int, *, seed: int = 0) -> gpd.GeoDataFrame:
    """Square grid of about ``n_cells`` 100 m cells with a clustered minority share."""
    return clustered_grid(n_cells, seed=seed)


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def child(n: int) -> None:
    """Full pipeline for the memory measurement; prints one JSON line."""
    t0 = time.perf_counter()
    g = synthetic_grid(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = getis_ord(g, "anteil", permutations="auto", seed=0)
        b = local_moran(g, "anteil", permutations="auto", seed=0)
    dt = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"n": len(g), "pipeline_s": dt, "peak_rss_mb": rss_mb,
                      "hotspots": int((a["gi_q"] <= 0.05).sum()),
                      "lisa_sig": int((b["lisa_q"] <= 0.05).sum()),
                      "p_method": a.attrs["hotspots"]["p_method"]}))


def _child_measure(n: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_hotspots", "--child", str(n)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(sizes: list[int], *, ref_limit: int) -> list[dict]:
    esda = graph_cls = None
    rows = []
    for n in sizes:
        g = synthetic_grid(n)
        y = g["anteil"].to_numpy()
        t_w, w = _timed(lambda g=g: queen_weights(g))
        t_gi, gi = _timed(lambda y=y, w=w: gi_star_statistics(y, w, permutations=PERMUTATIONS))
        t_lm, lm = _timed(
            lambda y=y, w=w: local_moran_statistics(y, w, permutations=PERMUTATIONS)
        )
        b = w.sparse
        t0 = time.perf_counter()
        for _ in range(PERMUTATIONS):
            b @ y
        t_floor = time.perf_counter() - t0
        row = {"n": len(g), "weights_s": t_w, "gi_s": t_gi, "lisa_s": t_lm, "floor_s": t_floor,
               "nnz": b.nnz}
        if len(g) <= ref_limit:
            if esda is None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    import esda as esda_mod
                    from libpysal.graph import Graph
                esda, graph_cls = esda_mod, Graph
                small = synthetic_grid(100)
                gs = queen_weights(small).to_libpysal()
                with warnings.catch_warnings():  # numba warm-up, not timed
                    warnings.simplefilter("ignore")
                    esda.G_Local(small["anteil"].to_numpy(), gs, transform="B", star=True,
                                 permutations=9, seed=1, n_jobs=1, keep_simulations=False)
                    esda.Moran_Local(small["anteil"].to_numpy(), gs, permutations=9, seed=1,
                                     n_jobs=1, keep_simulations=False)
            graph = graph_cls.from_sparse(b)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t_egi, egi = _timed(lambda e=esda, y=y, graph=graph: e.G_Local(
                    y, graph, transform="B", star=True, permutations=PERMUTATIONS, seed=1,
                    n_jobs=1, keep_simulations=False))
                t_elm, elm = _timed(lambda e=esda, y=y, graph=graph: e.Moran_Local(
                    y, graph, transformation="r", permutations=PERMUTATIONS, seed=1,
                    n_jobs=1, keep_simulations=False))
            gi_d = gi_star_statistics(y, w, permutations=PERMUTATIONS, alternative="directed")
            lm_d = local_moran_statistics(y, w, permutations=PERMUTATIONS,
                                          alternative="directed")
            row.update(
                esda_gi_s=t_egi,
                esda_lisa_s=t_elm,
                z_maxdiff=float(np.nanmax(np.abs(gi.z - egi.Zs))),
                i_maxdiff=float(np.max(np.abs(lm.i - elm.Is))),
                agree_gi=float(np.mean((gi_d.p_sim < 0.05) == (egi.p_sim < 0.05))),
                agree_lisa=float(np.mean((lm_d.p_sim < 0.05) == (elm.p_sim < 0.05))),
            )
        row.update(_child_measure(n))
        rows.append(row)
    return rows


def _fmt(x: float | None, spec: str = ".2f") -> str:
    return "–" if x is None else format(x, spec)


def table(rows: list[dict]) -> str:
    head = (
        "| cells | weights s | Gi* s | esda Gi* s | ×esda | LISA s | esda LISA s | ×esda | "
        "999 SpMV floor s | ours/floor (Gi*, LISA) | agree p<.05 (Gi*, LISA) | "
        "max abs dz, dI | pipeline s | peak RSS MB |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [head]
    for r in rows:
        egi, elm = r.get("esda_gi_s"), r.get("esda_lisa_s")
        lines.append(
            f"| {r['n']:,} | {r['weights_s']:.2f} | {r['gi_s']:.3f} | "
            f"{_fmt(egi) if egi else 'skipped'} | "
            f"{_fmt(egi / r['gi_s'], '.0f') if egi else '–'} | {r['lisa_s']:.3f} | "
            f"{_fmt(elm) if elm else 'skipped'} | "
            f"{_fmt(elm / r['lisa_s'], '.0f') if elm else '–'} | {r['floor_s']:.2f} | "
            f"{r['gi_s'] / r['floor_s']:.3f}, {r['lisa_s'] / r['floor_s']:.3f} | "
            + (f"{r['agree_gi']:.3f}, {r['agree_lisa']:.3f} | "
               f"{r['z_maxdiff']:.1e}, {r['i_maxdiff']:.1e} | " if egi else "–, – | –, – | ")
            + f"{r['pipeline_s']:.1f} | {r['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench_hotspots", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="only 10^4 cells")
    p.add_argument("--sizes", type=int, nargs="+", default=None)
    p.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args, _ = p.parse_known_args(argv)
    if args.child:
        child(args.child)
        return 0
    sizes = args.sizes or ([10_000] if args.quick else [10_000, 100_000, 1_000_000])
    ref_limit = 10_000 if args.quick else REF_LIMIT
    rows = run(sizes, ref_limit=ref_limit)
    print("\n## Hotspots (Gi* and local Moran, 999 permutations)\n")
    print(table(rows))
    print(f"\nesda skipped above {ref_limit:,} cells.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
