"""Census-grid analyses: neighbours from ids, coarser cells, grid hotspots, segregation profile."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gis_planning._errors import InputError, SchemaError
from gis_planning.analysis import lattice
from gis_planning.analysis.segregation import global_indices
from gis_planning.analysis.weights import queen_weights
from gis_planning.data import zensus
from gis_planning.data.sources import essen_zensus


def _cells(cols, rows, persons, group, *, size: int = 100):
    x = np.asarray(cols) * size + 4_000_000
    y = np.asarray(rows) * size + 3_000_000
    return zensus.cell_frame(x, y, {"personen": np.asarray(persons),
                                    "nichtdeutsche": np.asarray(group)}, cell_size=size)


def test_lattice_weights_equal_queen_weights_on_the_squares():
    rng = np.random.default_rng(3)
    keep = rng.random((30, 40)) < 0.6
    rows, cols = np.nonzero(keep)
    cells = _cells(cols, rows, np.full(len(cols), 10), np.ones(len(cols), int))
    shuffled = cells.sample(frac=1.0, random_state=1)  # any row order
    for frame in (cells, shuffled):
        w = lattice.lattice_weights(frame)
        ref = queen_weights(frame)
        assert w.ids.equals(frame.index)
        assert (w.sparse != ref.sparse).nnz == 0
        assert w.sparse.has_canonical_format
    rook = lattice.lattice_weights(cells, contiguity="rook")
    assert rook.cardinalities.max() <= 4 and rook.sparse.nnz < w.sparse.nnz
    two = lattice.lattice_weights(_cells(np.arange(5), np.zeros(5, int), [1] * 5, [0] * 5),
                                  order=2)
    assert two.cardinalities.tolist() == [2, 3, 4, 3, 2]
    # the searchsorted path (a sparse lattice far wider than the number of cells) agrees
    far = _cells([0, 1, 5000, 5001], [0, 0, 9000, 9001], [1] * 4, [0] * 4)
    assert lattice.lattice_weights(far).cardinalities.tolist() == [1, 1, 1, 1]
    with pytest.raises(InputError, match="mehrfach"):
        lattice.lattice_weights(["100mN1E1", "100mN1E1", "100mN1E2"])
    with pytest.raises(InputError, match="Nachbarschaft \\(contiguity\\)"):
        lattice.lattice_weights(cells, contiguity="bishop")
    with pytest.raises(SchemaError, match="gitter_id"):
        lattice.lattice_weights(cells.drop(columns="gitter_id"))


def test_coarsen_nested_and_split_cells():
    # 100 m cells at columns 0..5 of one row; 500 m cells: columns 0-4 | 5
    cells = _cells(np.arange(6), np.zeros(6, int), [10, 20, 30, 40, 50, 60], [1, 2, 3, 4, 5, 6])
    c5 = lattice.coarsen_cells(cells, 500, columns=["personen", "nichtdeutsche"])
    assert c5["personen"].tolist() == [150, 60] and c5["n_quellzellen"].tolist() == [5, 1]
    assert c5["gitter_id"].tolist() == ["CRS3035RES500mN3000000E4000000",
                                        "CRS3035RES500mN3000000E4000500"]
    assert c5.geometry.iloc[0].bounds == (4_000_000, 3_000_000, 4_000_500, 3_000_500)
    assert pd.api.types.is_integer_dtype(c5["personen"])
    # 250 m: the cell at 200-300 m is split half/half between 0-250 and 250-500
    c25 = lattice.coarsen_cells(cells, 250, columns=["personen"])
    assert c25["personen"].tolist() == pytest.approx([10 + 20 + 15, 15 + 40 + 50, 60])
    assert c25["personen"].sum() == pytest.approx(210)
    assert "Flächenanteil" in c25.attrs["aufteilung"]
    with pytest.raises(InputError, match="kleiner"):
        lattice.coarsen_cells(c5, 100, columns=["personen"])


def test_fdr_permutations_make_a_single_discovery_attainable():
    for m in (10, 86, 6_000):
        r = lattice.fdr_permutations(m, alpha=0.05)
        assert m * (1 / (r + 1)) <= 0.05 + 1e-12
        assert r >= 999
    assert lattice.fdr_permutations(10_000) == 199_999


@pytest.fixture(scope="module")
def planted():
    """A 40 x 40 grid with a high-share 6 x 6 block and a few tiny cells."""
    rng = np.random.default_rng(7)
    rows, cols = np.divmod(np.arange(1600), 40)
    persons = rng.poisson(60, 1600) + 3
    share = np.where((rows >= 10) & (rows < 16) & (cols >= 20) & (cols < 26), 0.45, 0.08)
    group = rng.binomial(persons, share)
    persons[:5] = 5  # below the floor
    group[:5] = np.minimum(group[:5], 5)
    cells = _cells(cols, rows, persons, group)
    return cells, lattice.grid_hotspots(cells, cell_sizes=(100, 200), seed=1)


def test_grid_hotspots_find_the_planted_block(planted):
    cells, res = planted
    g = res[100]
    assert g.index.equals(cells.index) and g.crs == zensus.GRID_CRS
    a = g.attrs["hotspots"]
    assert a["zellen"] == 1600 and a["getestet"] == 1595  # 5 below the floor of 30
    assert a["gi_permutationen"] == lattice.fdr_permutations(1595)
    assert a["gi_kleinstes_q"] <= 0.05  # a discovery is attainable
    hot = g["gi_klasse"].astype(str).str.startswith("Hotspot").to_numpy()
    rows = (g["y_mp"].to_numpy() - 3_000_050) // 100
    cols = (g["x_mp"].to_numpy() - 4_000_050) // 100
    block = (rows >= 10) & (rows < 16) & (cols >= 20) & (cols < 26)
    assert hot[block].mean() > 0.8 and hot[~block].mean() < 0.05
    assert (g["gi_klasse"].astype(str).str.startswith("zu klein").sum()) == 5
    hh = (g["lisa_klasse"] == "Hoch-Hoch").to_numpy()
    assert hh[block].mean() > 0.5 and hh[~block].mean() < 0.05
    assert g["rate_prozent"].between(0, 100).all()
    assert res[200].attrs["hotspots"]["zellgroesse_m"] == 200 and len(res[200]) == 400
    summary = lattice.grid_hotspot_summary(res)
    assert summary.loc[100, "hotspots"] == int(hot.sum())
    assert list(summary.index) == [100, 200]


def test_grid_hotspots_permutation_cap_and_analytic(planted):
    cells, _ = planted
    capped = lattice.grid_hotspots(cells, cell_sizes=(100,), max_permutations=5_000,
                                   statistics=("gi",))[100]
    a = capped.attrs["hotspots"]
    assert a["gi_permutationen"] == 0 and "analytisch" in a["gi_p_werte"]
    assert "Permutationen nötig" in a["hinweis"]
    assert "lisa_i" not in capped.columns
    with pytest.raises(InputError, match="permutations"):
        lattice.grid_hotspots(cells, permutations=-1)


def test_grid_hotspots_on_essen_cells():
    cells = essen_zensus.load_zensus2011()
    res = lattice.grid_hotspots(cells, statistics=("gi",), cell_sizes=(100, 1000))
    g = res[100]
    assert len(g) == 10010 and g.attrs["quelle"] == zensus.QUELLE_2011
    a = g.attrs["hotspots"]
    assert a["gi_kleinstes_q"] <= 0.05 and a["gi_permutationen"] >= a["getestet"] / 0.05 - 1
    # hotspots exist, but far from the 90 % of cells the Stadtteil-copy surface marked
    assert 0 < a["n_hotspot"] < 0.1 * len(g)
    assert res[1000].attrs["hotspots"]["zellen"] == 242


def test_segregation_profile_equals_global_indices_with_distance():
    rng = np.random.default_rng(11)
    keep = rng.random((35, 45)) < 0.7
    rows, cols = np.nonzero(keep)
    persons = rng.poisson(30, len(rows)) + 3
    share = 1 / (1 + np.exp(-(np.sin(cols / 6) + np.cos(rows / 5) - 1.5)))
    cells = _cells(cols, rows, persons, rng.binomial(persons, share))
    distances = (100, 200, 500, 1000)
    prof = lattice.segregation_profile(cells, distances=distances)
    fft = lattice.segregation_profile(cells, distances=distances, method="fft")
    direct = lattice.segregation_profile(cells, distances=distances, method="direct")
    single = lattice.segregation_profile(cells, distances=distances, method="fft",
                                         precision="single")
    for d in distances[1:]:  # at 100 m (the cell spacing) global_indices refuses: no neighbour
        ref = global_indices(cells, group="nichtdeutsche", total="personen", distance=d)
        for col in ("dissimilarity", "isolation", "exposure"):
            for table in (prof, fft, direct):
                assert table.loc[d, col] == pytest.approx(ref[col].iloc[0], abs=1e-9)
            assert single.loc[d, col] == pytest.approx(ref[col].iloc[0], abs=1e-5)
    asp = global_indices(cells, group="nichtdeutsche", total="personen")
    assert prof.attrs["aspatial"]["dissimilarity"] == pytest.approx(asp["dissimilarity"].iloc[0])
    assert prof.loc[100, "zellen_im_kern"] == 1  # triangular kernel: neighbours weight 0
    assert prof.loc[100, "dissimilarity"] == pytest.approx(asp["dissimilarity"].iloc[0])
    assert prof["dissimilarity"].is_monotonic_decreasing
    with pytest.raises(InputError, match="Zellgröße"):
        lattice.segregation_profile(cells, distances=(50,))


def test_segregation_profile_essen():
    prof = lattice.segregation_profile(essen_zensus.load_zensus2011())
    assert list(prof.index) == [100, 200, 500, 1000, 2000, 4000]
    d = prof["dissimilarity"]
    assert d.is_monotonic_decreasing and 0.4 < d.iloc[0] < 0.55 and 0.1 < d.iloc[-1] < 0.3
    assert prof["group_share"].iloc[0] == pytest.approx(53709 / 564174)
    assert prof.attrs["stand"] == "2011-05-09"
