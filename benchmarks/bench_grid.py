"""Benchmark: census-grid analyses at national scale (3.1 million populated 100 m cells).

``python -m benchmarks.bench_grid [--quick] [--cells 3100000]``

A synthetic Germany: the 100 m INSPIRE lattice over Germany's extent in EPSG:3035 (6,412 x
8,673 cells, 640 x 867 km), 3.1 million populated cells (the size of the populated Zensus 2011
grid) placed by a settlement field (a few thousand towns with Zipf-distributed sizes on a
smooth rural background), persons per cell lognormal with the local density (at least 3, as in
the Zensus), and a clustered minority share (logistic of a smooth field, higher in towns).
Only the official cell ids (``CRS3035RES100mN…E…``) and the counts go into the pipeline.

The timed pipeline, in a fresh subprocess (peak memory = its ``ru_maxrss``):

1. neighbours from cell ids: :func:`gis_planning.analysis.lattice.lattice_weights` (queen),
   ids parsed as part of it;
2. Gi* and local Moran's I of the EB-smoothed share on the 100 m cells and on 250 m / 500 m /
   1 km cells (:func:`~gis_planning.analysis.lattice.grid_hotspots`, population floor 30):
   the permutation count the FDR needs at each size where it is practical, else analytic
   p-values for Gi* and the largest practical count for local Moran (stated in the table);
3. the multiscale segregation profile, bandwidths 100 m … 4 km
   (:func:`~gis_planning.analysis.lattice.segregation_profile`, triangular kernel).

The reference ratio: esda's ``G_Local`` and ``Moran_Local`` (999 permutations, ``n_jobs=1``,
numba warmed up) against ours on the 10^5-cell subset nearest the centre of the same grid,
measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd
from scipy import ndimage

COLS, ROWS = 6412, 8673  # Germany's extent at 100 m in EPSG:3035
X0, Y0 = 4_031_300, 2_684_100
N_CELLS = 3_100_000
BANDWIDTHS = (100, 200, 500, 1000, 2000, 4000)
CELL_SIZES = (100, 250, 500, 1000)
REF_CELLS = 100_000


def national_grid(n_cells: int = N_CELLS, *, seed: int = 2011) -> pd.DataFrame:
    """Synthetic populated 100 m cells over Germany's extent (ids, persons, minority).

    Returns a DataFrame with ``gitter_id`` (INSPIRE style), ``personen`` and
    ``nichtdeutsche``; ``attrs["zellgroesse_m"] = 100``.
    """
    from gis_planning.data.zensus import cell_ids

    rng = np.random.default_rng(seed)
    # settlement field on a 1 km lattice: smooth background + towns (Zipf sizes)
    cr, cc = ROWS // 10 + 1, COLS // 10 + 1
    field = ndimage.gaussian_filter(rng.normal(size=(cr, cc)), 12)
    field = (field - field.mean()) / field.std()
    towns = np.zeros((cr, cc))
    n_towns = 3000
    ty, tx = rng.integers(0, cr, n_towns), rng.integers(0, cc, n_towns)
    size = 1.0 / np.arange(1, n_towns + 1) ** 0.9
    np.add.at(towns, (ty, tx), size * 400)
    towns = ndimage.gaussian_filter(towns, 2.0)
    density = np.log1p(towns) + 0.6 * field  # log-scale settlement intensity
    fine = ndimage.zoom(density.astype(np.float32), 10, order=1)[:ROWS, :COLS]
    # populated cells: the n highest of intensity + smooth noise (villages and town edges
    # form contiguous patches, as in the census grid)
    noise = ndimage.gaussian_filter(rng.standard_normal(fine.shape, dtype=np.float32), 2.0)
    noise *= np.float32(1.0 / noise.std())
    score = fine + np.float32(0.8) * noise
    del noise
    flat = np.argpartition(score.ravel(), -n_cells)[-n_cells:]
    del score
    rows, cols = np.divmod(flat, COLS)
    dens = fine[rows, cols].astype(float)
    del fine
    mean = np.exp(2.9 + 0.45 * (dens - dens.mean()))
    persons = np.maximum(3, np.rint(rng.lognormal(np.log(mean), 0.8))).astype(np.int64)
    # clustered minority share: logistic of a smooth field, higher in dense places
    mfield = ndimage.gaussian_filter(rng.normal(size=(cr, cc)), 4)
    mfield = (mfield - mfield.mean()) / mfield.std()
    mz = mfield[rows // 10, cols // 10] + 0.5 * (dens - dens.mean()) + rng.normal(
        0, 0.5, n_cells)
    share = 1.0 / (1.0 + np.exp(-(mz - 2.8)))
    minority = rng.binomial(persons, share)
    order = np.lexsort((cols, rows))
    ids = cell_ids(X0 + cols[order] * 100, Y0 + rows[order] * 100)
    out = pd.DataFrame({"gitter_id": ids, "personen": persons[order],
                        "nichtdeutsche": minority[order]})
    out.attrs["zellgroesse_m"] = 100
    return out


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def child(n_cells: int, precision: str) -> None:
    """The timed pipeline on the national grid; prints one JSON line."""
    from gis_planning.analysis.lattice import (
        grid_hotspot_summary,
        grid_hotspots,
        lattice_weights,
        segregation_profile,
    )

    t_gen, cells = _timed(lambda: national_grid(n_cells))
    t_w, w = _timed(lambda: lattice_weights(cells))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_hot, res = _timed(lambda: grid_hotspots(cells, cell_sizes=CELL_SIZES, geometry=False))
    t_prof, prof = _timed(lambda: segregation_profile(cells, distances=BANDWIDTHS,
                                                      precision=precision))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary = grid_hotspot_summary(res).reset_index()
    print(json.dumps({
        "n": len(cells), "persons": int(cells["personen"].sum()),
        "share": float(cells["nichtdeutsche"].sum() / cells["personen"].sum()),
        "generate_s": t_gen, "weights_s": t_w, "mean_neighbours": w.mean_neighbours,
        "hotspots_s": t_hot, "profile_s": t_prof, "pipeline_s": t_w + t_hot + t_prof,
        "peak_rss_mb": rss_mb, "precision": precision,
        "summary": summary.to_dict(orient="records"),
        "profile": prof.reset_index()[["bandbreite_m", "dissimilarity", "isolation",
                                        "verfahren"]].to_dict(orient="records"),
    }, default=float))


def _child(n_cells: int, precision: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_grid", "--child", str(n_cells),
         "--precision", precision],
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def reference(n_cells: int, ref_cells: int) -> dict:
    """Ours vs esda (999 permutations) on the ``ref_cells`` cells nearest the grid centre."""
    from gis_planning.analysis.hotspots import gi_star_statistics, local_moran_statistics
    from gis_planning.analysis.lattice import lattice_positions, lattice_weights

    cells = national_grid(n_cells)
    col, row, _ = lattice_positions(cells)
    d = np.hypot(col - col.mean(), row - row.mean())
    sub = cells.iloc[np.sort(np.argpartition(d, ref_cells)[:ref_cells])].reset_index(drop=True)
    w = lattice_weights(sub)
    y = (sub["nichtdeutsche"] / sub["personen"]).to_numpy()
    t_gi, gi = _timed(lambda: gi_star_statistics(y, w, permutations=999))
    t_lm, lm = _timed(lambda: local_moran_statistics(y, w, permutations=999))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import esda
        from libpysal.graph import Graph
        graph = Graph.from_sparse(w.sparse)
        small = Graph.from_sparse(lattice_weights(sub.iloc[:200]).sparse)
        ys = y[:200]
        esda.G_Local(ys, small, transform="B", star=True, permutations=9, seed=1, n_jobs=1,
                     keep_simulations=False)
        esda.Moran_Local(ys, small, permutations=9, seed=1, n_jobs=1, keep_simulations=False)
        t_egi, egi = _timed(lambda: esda.G_Local(y, graph, transform="B", star=True,
                                                 permutations=999, seed=1, n_jobs=1,
                                                 keep_simulations=False))
        t_elm, elm = _timed(lambda: esda.Moran_Local(y, graph, transformation="r",
                                                     permutations=999, seed=1, n_jobs=1,
                                                     keep_simulations=False))
    ok = np.isfinite(gi.z) & np.isfinite(egi.Zs)
    return {"n": len(sub), "gi_s": t_gi, "lisa_s": t_lm, "esda_gi_s": t_egi,
            "esda_lisa_s": t_elm,
            "z_maxdiff": float(np.max(np.abs(gi.z[ok] - egi.Zs[ok]))),
            "i_maxdiff": float(np.max(np.abs(lm.i - elm.Is)))}


def _f(x: float, spec: str = ".1f") -> str:
    return format(x, spec)


def report(run: dict, ref: dict | None) -> str:
    lines = [
        f"cells {run['n']:,}, persons {run['persons']:,}, minority share "
        f"{100 * run['share']:.1f} %, mean queen neighbours {run['mean_neighbours']:.2f}; "
        f"synthetic data generated in {run['generate_s']:.1f} s (not timed below)",
        "",
        "| step | s |",
        "|---|---:|",
        f"| neighbours from cell ids (queen) | {_f(run['weights_s'], '.2f')} |",
        f"| Gi* + local Moran, 100 m / 250 m / 500 m / 1 km | {_f(run['hotspots_s'])} |",
        f"| segregation profile, {len(BANDWIDTHS)} bandwidths 100 m - 4 km "
        f"(FFT {run['precision']}) | {_f(run['profile_s'])} |",
        f"| **whole pipeline** | **{_f(run['pipeline_s'])}** |",
        f"| peak RSS (MB) | {run['peak_rss_mb']:.0f} |",
        "",
        "| cell size | cells | tested | Gi* p-values | Gi* permutations | hotspots | cold spots "
        "| LISA permutations | smallest attainable q (LISA) | HH | LL |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in run["summary"]:
        lines.append(
            f"| {r['zellgroesse_m']} m | {r['zellen']:,} | {r['getestet']:,} | {r['gi_p_werte']} "
            f"| {int(r['gi_permutationen']):,} | {int(r['hotspots']):,} | "
            f"{int(r['kaeltepunkte']):,} | {int(r['lisa_permutationen']):,} | "
            f"{r['lisa_kleinstes_q']:.3g} | {int(r['hoch_hoch']):,} | "
            f"{int(r['niedrig_niedrig']):,} |")
    lines += ["", "| bandwidth | D | isolation | smoothing |", "|---:|---:|---:|---|"]
    for p in run["profile"]:
        lines.append(f"| {p['bandbreite_m']:.0f} m | {p['dissimilarity']:.4f} | "
                     f"{p['isolation']:.4f} | {p['verfahren']} |")
    if ref:
        lines += [
            "",
            f"Reference at {ref['n']:,} cells (same grid, 999 permutations): ours Gi* "
            f"{ref['gi_s']:.2f} s vs esda {ref['esda_gi_s']:.2f} s "
            f"(**{ref['esda_gi_s'] / ref['gi_s']:.0f}x**), local Moran {ref['lisa_s']:.2f} s vs "
            f"esda {ref['esda_lisa_s']:.2f} s (**{ref['esda_lisa_s'] / ref['lisa_s']:.0f}x**); "
            f"max |dz| {ref['z_maxdiff']:.1e}, max |dI| {ref['i_maxdiff']:.1e}.",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench_grid", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="200,000 cells, reference 10^4")
    p.add_argument("--cells", type=int, default=None)
    p.add_argument("--precision", choices=("double", "single"), default="single")
    p.add_argument("--no-reference", action="store_true")
    p.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args, _ = p.parse_known_args(argv)
    if args.child:
        child(args.child, args.precision)
        return 0
    n = args.cells or (200_000 if args.quick else N_CELLS)
    run = _child(n, args.precision)
    ref = None if args.no_reference else reference(n, 10_000 if args.quick else REF_CELLS)
    print(f"\n## Grid (census cells, national scale: {n:,} cells)\n")
    print(report(run, ref))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
