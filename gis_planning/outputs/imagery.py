"""Raster surfaces as images for the web map: coloured, transparent where empty, in Web Mercator.

The atlas draws a census-grid surface as one image overlay instead of one vector per cell
(10,000 cells would weigh megabytes). :func:`surface_image` reprojects one band of a
:class:`~gis_planning.outputs.raster.Surface` to EPSG:3857 (nearest neighbour, so a cell keeps
its own value), colours it with the same classes as the legend and returns a PNG and its
bounds in degrees. Nothing is computed here but colours.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping

import numpy as np

from .styles import Classification

__all__ = ["surface_image"]


def _hex_rgb(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def surface_image(
    surface,
    *,
    band: int = 0,
    classification: Classification | None = None,
    categories: Mapping[float, str] | None = None,
    opacity: int = 220,
) -> tuple[str, tuple[float, float, float, float]]:
    """Return ``(png_data_uri, (south, west, north, east))`` of one band of ``surface``.

    Colours come from ``classification`` (class bounds, as the legend) or ``categories``
    (code -> colour, e.g. Gi* classes); cells without a value (nodata) are transparent.
    """
    import rasterio.warp
    from PIL import Image
    from rasterio.transform import array_bounds

    src = np.asarray(surface.data[band], dtype="float64")
    grid = surface.grid
    dst_crs = "EPSG:3857"
    transform, width, height = rasterio.warp.calculate_default_transform(
        grid.crs, dst_crs, grid.width, grid.height,
        *array_bounds(grid.height, grid.width, grid.transform))
    dst = np.full((height, width), np.nan)
    rasterio.warp.reproject(src, dst, src_transform=grid.transform, src_crs=grid.crs,
                            dst_transform=transform, dst_crs=dst_crs,
                            resampling=rasterio.warp.Resampling.nearest,
                            src_nodata=np.nan, dst_nodata=np.nan)
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    ok = np.isfinite(dst)
    if categories is not None:
        for code, color in categories.items():
            hit = ok & np.isclose(dst, code)
            rgba[hit, :3] = _hex_rgb(color)
            rgba[hit, 3] = opacity
    elif classification is not None:
        idx = np.searchsorted(np.asarray(classification.bins), dst[ok], side="left")
        idx = np.clip(idx, 0, len(classification.colors) - 1)
        palette = np.array([_hex_rgb(c) for c in classification.colors], dtype=np.uint8)
        rgba[ok, :3] = palette[idx]
        rgba[ok, 3] = opacity
    else:
        raise ValueError("das Kartenbild einer Rasterfläche braucht eine Klasseneinteilung "
                         "oder Kategorien.")
    buf = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buf, format="PNG", optimize=True)
    uri = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    west, south, east, north = rasterio.warp.transform_bounds(
        dst_crs, "EPSG:4326", *array_bounds(height, width, transform))
    return uri, (south, west, north, east)
