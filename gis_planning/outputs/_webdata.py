"""Attribute data of atlas layers for the page: typed columns, formats, legend swatches and
the longitude/latitude -> city CRS polynomial of the query panel.

Private helpers of :mod:`gis_planning.outputs.webmap`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from ..labels import NumberFormat, esc, fmt_int, fmt_percent

__all__ = ["column_payload", "compact", "plain", "projection_fit", "swatch"]


#: Formatters whose raw numbers the page keeps and formats itself (decimals, unit).
_KNOWN_FORMATS: dict[object, tuple[int, str]] = {fmt_int: (0, ""), fmt_percent: (1, "%")}



def number_spec(fmt: object) -> tuple[int, str] | None:
    if isinstance(fmt, NumberFormat):
        return (fmt.decimals, fmt.unit)
    try:
        return _KNOWN_FORMATS.get(fmt)
    except TypeError:  # unhashable callable
        return None


def plain(value: object) -> object:
    """A JSON value of the page for a raw cell (``None`` for missing)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        if not math.isfinite(float(value)):
            return None
        v = round(float(value), 4)
        return int(v) if v.is_integer() and abs(v) < 2**53 else v
    return esc(value)


def column_payload(series: pd.Series, fmt: Callable[[object], str] | None
            ) -> tuple[str, list[object] | None, list[object]]:
    """Type (``n`` number, ``b`` yes/no, ``s`` text), number format and page values of a column.

    Numbers and yes/no values stay raw (the page formats them and queries them); a column
    with any other formatter is written as its formatted, escaped text.
    """
    spec = number_spec(fmt) if fmt is not None else None
    if fmt is not None and spec is None:
        return "s", None, [esc(fmt(v)) for v in series]
    if pd.api.types.is_bool_dtype(series.dtype):
        return "b", None, [plain(v) for v in series]
    if pd.api.types.is_numeric_dtype(series.dtype):
        return "n", list(spec) if spec else None, [plain(v) for v in series]
    values = [plain(v) for v in series]
    kinds = {type(v) for v in values if v is not None}
    if kinds and kinds <= {bool}:
        return "b", None, values
    if spec is not None and kinds <= {int, float}:
        return "n", list(spec), values
    return "s", None, [None if v is None else str(v) if not isinstance(v, str) else v
                       for v in values]


def compact(values: list[object]) -> object:
    """Dictionary-encode a text column with repeated values (``{"u": uniques, "i": codes}``)."""
    if len(values) < 8 or not all(v is None or isinstance(v, str) for v in values):
        return values
    uniq = list(dict.fromkeys(v for v in values if v is not None))
    if len(uniq) > len(values) / 2:
        return values
    pos = {v: i for i, v in enumerate(uniq)}
    return {"u": uniq, "i": [None if v is None else pos[v] for v in values]}


def swatch(stroke: str, width: float, dash: str | None, fill: str | None,
            opacity: float) -> str:
    """An inline SVG swatch of an outline or area symbol for the legend."""
    return (
        '<svg width="24" height="14" aria-hidden="true"><rect x="1.5" y="1.5" width="21" '
        f'height="11" fill="{esc(fill or "none")}" fill-opacity="{float(opacity):g}" '
        f'stroke="{esc(stroke)}" stroke-width="{min(float(width), 3.0):g}"'
        + (f' stroke-dasharray="{esc(dash)}"' if dash else "") + "/></svg>"
    )


def projection_fit(web_bounds: np.ndarray, crs: object) -> dict[str, object]:
    """Polynomial (degree 3) from longitude/latitude to ``crs`` metres over the map extent.

    Lets the page measure distances in the city's own CRS, as the command line does: fitted
    by least squares on a 15 x 15 grid over the extent plus a margin; ``err`` is the largest
    residual on a finer check grid (well below 1 mm over a city).
    """
    from pyproj import Transformer

    minx, miny, maxx, maxy = (float(v) for v in web_bounds)
    mx, my = max(0.3 * (maxx - minx), 0.02), max(0.3 * (maxy - miny), 0.02)
    lng0, lat0 = (minx + maxx) / 2, (miny + maxy) / 2
    to = Transformer.from_crs("EPSG:4326", crs, always_xy=True)

    def design(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.column_stack([u**i * v**j for i in range(4) for j in range(4 - i)])

    def grid(n: int) -> tuple[np.ndarray, np.ndarray]:
        u, v = np.meshgrid(np.linspace(minx - mx, maxx + mx, n) - lng0,
                           np.linspace(miny - my, maxy + my, n) - lat0)
        return u.ravel(), v.ravel()

    u, v = grid(15)
    x, y = to.transform(u + lng0, v + lat0)
    a = design(u, v)
    cx = np.linalg.lstsq(a, np.asarray(x), rcond=None)[0]
    cy = np.linalg.lstsq(a, np.asarray(y), rcond=None)[0]
    u2, v2 = grid(23)
    x2, y2 = to.transform(u2 + lng0, v2 + lat0)
    b = design(u2, v2)
    err = float(max(np.abs(b @ cx - x2).max(), np.abs(b @ cy - y2).max()))
    return {"lng0": lng0, "lat0": lat0, "cx": cx.tolist(), "cy": cy.tolist(), "err": err}


# names used by webmap and its tests
_column, _compact, _plain, _swatch = column_payload, compact, plain, swatch
