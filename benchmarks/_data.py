"""Synthetic benchmark data shared by the benchmarks."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from scipy import ndimage

__all__ = ["clustered_grid"]


def clustered_grid(n_cells: int, *, seed: int = 0, cell: float = 100.0) -> gpd.GeoDataFrame:
    """Square grid of about ``n_cells`` cells (EPSG:25832, near Essen) with a clustered minority.

    Columns: ``einwohner`` (Poisson(40)), ``gruppe`` (binomial with a smooth logistic share
    field, sigma 8 cells), ``anteil`` (gruppe / einwohner, 0 where empty).
    """
    side = round(np.sqrt(n_cells))
    rng = np.random.default_rng(seed)
    field = ndimage.gaussian_filter(rng.normal(size=(side, side)), sigma=8)
    field = (field - field.mean()) / field.std()
    share = 1 / (1 + np.exp(-(field * 2 - 1.5)))
    t = rng.poisson(40, size=(side, side))
    x = rng.binomial(t, share)
    cols, rows = np.meshgrid(np.arange(side), np.arange(side))
    x0, y0 = 350_000.0, 5_690_000.0
    geom = shapely.box(x0 + cols * cell, y0 + rows * cell,
                       x0 + cols * cell + cell, y0 + rows * cell + cell)
    g = gpd.GeoDataFrame({"einwohner": t.ravel(), "gruppe": x.ravel()}, geometry=geom.ravel(),
                         crs="EPSG:25832")
    g["anteil"] = np.divide(g["gruppe"], g["einwohner"], out=np.zeros(len(g)),
                            where=g["einwohner"] > 0)
    return g
