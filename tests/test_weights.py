"""Tests of gis_planning.analysis.weights on hand-checkable box grids and points."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from scipy import sparse

from gis_planning._errors import CRSError, GeometryError, InputError
from gis_planning.analysis.weights import (
    SpatialWeights,
    as_weights,
    build_weights,
    distance_band_weights,
    knn_weights,
    queen_weights,
)


def box_grid(nrows: int, ncols: int, *, size: float = 100.0, crs: str = "EPSG:25832"):
    r, c = np.divmod(np.arange(nrows * ncols), ncols)
    x0, y0 = 362_000.0, 5_700_000.0
    geom = shapely.box(x0 + c * size, y0 + r * size, x0 + (c + 1) * size, y0 + (r + 1) * size)
    return gpd.GeoDataFrame({"r": r, "c": c}, geometry=geom, crs=crs)


def test_queen_3x3_grid_by_hand():
    g = box_grid(3, 3)
    w = queen_weights(g)
    assert w.cardinalities.tolist() == [3, 5, 3, 5, 8, 5, 3, 5, 3]
    dense = w.sparse.toarray()
    assert (dense == dense.T).all() and (np.diag(dense) == 0).all()
    # corner 0 (row 0, col 0) touches 1, 3 and 4 (diagonal, shared vertex only)
    assert np.flatnonzero(dense[0]).tolist() == [1, 3, 4]
    assert w.kind == "queen" and w.transform == "B"


def test_grid_fast_path_equals_spatial_index_and_libpysal():
    g = box_grid(7, 9)
    g = g.iloc[np.random.default_rng(0).permutation(len(g))]  # order must not matter
    fast = queen_weights(g, grid=True)
    slow = queen_weights(g, grid=False)
    assert (fast.sparse != slow.sparse).nnz == 0
    libpysal = pytest.importorskip("libpysal")
    ref = libpysal.weights.Queen.from_dataframe(g, use_index=False, silence_warnings=True)
    assert abs(ref.sparse - fast.sparse).sum() == 0


def test_queen_irregular_polygons_vertex_contact_and_tolerance():
    tri_a = shapely.Polygon([(0, 0), (100, 0), (50, 80)])
    tri_b = shapely.Polygon([(100, 0), (200, 0), (150, 80)])  # shares the vertex (100, 0)
    tri_c = shapely.Polygon([(0, 200.3), (100, 200.3), (50, 280)])  # 120 m away
    sq_d = shapely.box(0, 80.2, 100, 200)  # 0.2 m gap above tri_a's apex
    g = gpd.GeoDataFrame(geometry=[tri_a, tri_b, tri_c, sq_d], crs="EPSG:25832")
    with pytest.warns(UserWarning, match="keine Nachbarn"):
        w = queen_weights(g)
    assert w.sparse[0, 1] == 1 and w.sparse[1, 0] == 1
    assert w.sparse[0, 3] == 0
    w_tol = queen_weights(g, tolerance=0.5)
    assert w_tol.sparse[0, 3] == 1 and w_tol.sparse[2, 3] == 1
    assert len(w_tol.islands) == 0


def test_grid_true_on_non_grid_raises():
    g = box_grid(2, 2)
    g.loc[0, "geometry"] = shapely.box(362_000, 5_700_000, 362_050, 5_700_100)
    with pytest.raises(GeometryError, match="kein regelmäßiges Gitter"):
        queen_weights(g, grid=True)
    assert queen_weights(g).n == 4  # auto falls back to the spatial index


def test_knn_rows_and_errors():
    pts = gpd.GeoDataFrame(
        geometry=shapely.points(np.array([[0, 0], [10, 0], [30, 0], [70, 0]])), crs="EPSG:25832"
    )
    w = knn_weights(pts, k=2)
    assert w.cardinalities.tolist() == [2, 2, 2, 2]
    assert np.flatnonzero(w.sparse.toarray()[0]).tolist() == [1, 2]
    assert np.flatnonzero(w.sparse.toarray()[3]).tolist() == [1, 2]
    with pytest.raises(InputError, match="kleiner sein als die Zahl"):
        knn_weights(pts, k=4)
    with pytest.raises(InputError, match="positive ganze Zahl"):
        knn_weights(pts, k=0)


def test_distance_band_rook_and_island_warning():
    g = box_grid(3, 3)
    w = distance_band_weights(g, distance=100.5)
    assert w.cardinalities.tolist() == [2, 3, 2, 3, 4, 3, 2, 3, 2]
    assert distance_band_weights(g, distance=142).cardinalities.tolist() == [
        3, 5, 3, 5, 8, 5, 3, 5, 3,
    ]
    far = gpd.GeoDataFrame(
        geometry=shapely.points(np.array([[0, 0], [50, 0], [5000, 0]])),
        index=["a", "b", "c"],
        crs="EPSG:25832",
    )
    with pytest.warns(UserWarning, match=r"1 von 3 Einheiten haben keine Nachbarn.*'c'"):
        w = distance_band_weights(far, distance=100)
    assert w.islands.tolist() == ["c"]
    with pytest.raises(InputError, match="distance"):
        distance_band_weights(far, distance=-1)
    with pytest.raises(InputError, match="braucht den Umkreis"):
        build_weights(far, "distance")


def test_crs_checks():
    g = box_grid(2, 2)
    with pytest.raises(CRSError, match="geografisches Koordinatensystem"):
        queen_weights(g.to_crs("EPSG:4326"))
    with pytest.raises(CRSError, match="kein Koordinatensystem"):
        knn_weights(g.set_crs(None, allow_override=True), k=1)


def test_empty_geometry_raises():
    g = box_grid(2, 2)
    g.loc[1, "geometry"] = shapely.Polygon()
    with pytest.raises(GeometryError, match="fehlende oder leere"):
        queen_weights(g)


def test_row_standardised_and_binary_variants():
    w = queen_weights(box_grid(3, 3))
    r = w.row_standardised()
    assert r.transform == "R"
    np.testing.assert_allclose(np.asarray(r.sparse.sum(axis=1)).ravel(), 1.0)
    assert r.sparse[4, 0] == pytest.approx(1 / 8)
    b = r.binary()
    assert (b.sparse != w.sparse).nnz == 0 and b.transform == "B"


def test_as_weights_accepts_sparse_and_checks_alignment():
    g = box_grid(2, 3)
    w = queen_weights(g)
    m = sparse.csr_array(w.sparse + sparse.eye_array(6))  # diagonal is dropped
    got = as_weights(g, m)
    assert isinstance(got, SpatialWeights) and (got.sparse != w.sparse).nnz == 0
    with pytest.raises(InputError, match="Gewichtsmatrix hat"):
        as_weights(g.iloc[:5], m)
    with pytest.raises(InputError, match="anderen Ebene"):
        as_weights(g.iloc[:5], w)
    with pytest.raises(InputError, match="möglich sind 'queen', 'knn'"):
        as_weights(g, "rook")
