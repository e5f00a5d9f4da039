"""Tables as planners read them: German column labels and German number formats.

:func:`german_table` turns a result or layer table into a :class:`GermanTable`, which shows
as HTML in a notebook and as aligned text elsewhere: headers from the label tables
(:func:`gis_planning.outputs.export.field_label`, the city's own labels first), numbers as
"1.234,5", shares as "7,1 %", q- and p-values with three decimals, booleans as ja/nein,
no index and no geometry column. Formatting only; no analysis.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from ..labels import fmt_int, fmt_number, fmt_percent

if TYPE_CHECKING:  # pragma: no cover
    from ..data.catalog import Catalog

__all__ = ["GermanTable", "column_format", "german_table"]

_THREE = ("_q", "_p", "_p_sim", "_p_norm", "dissimilarity", "isolation", "exposure",
          "theil_h", "dissimilaritaet", "exposition", "entropy", "entropie")


def column_format(column: str, values: pd.Series) -> Callable[[object], str]:
    """The German format of one column, chosen from its name and type."""
    if pd.api.types.is_bool_dtype(values):
        return lambda v: "–" if pd.isna(v) else ("ja" if bool(v) else "nein")
    if not pd.api.types.is_numeric_dtype(values):
        return lambda v: "–" if v is None or (not isinstance(v, str) and pd.isna(v)) \
            else str(v)
    if column.endswith("_prozent") or column == "rate_prozent":
        return lambda v: fmt_percent(v, 1)
    if any(column.endswith(k) or column.startswith(k) for k in _THREE):
        return lambda v: fmt_number(v, 3)
    if column.endswith("_z") or column.startswith("lq_"):
        return lambda v: fmt_number(v, 2)
    if column.endswith(("_share", "_anteil")) or column.startswith("anteil_"):
        return lambda v: fmt_percent(None if pd.isna(v) else 100 * float(v), 1)
    if pd.api.types.is_integer_dtype(values) or (
            values.dropna().map(lambda v: float(v).is_integer()).all() and len(values.dropna())):
        return fmt_int
    return lambda v: fmt_number(v, 1)


class GermanTable:
    """A formatted table: ``_repr_html_`` for notebooks, ``str`` for text."""

    def __init__(self, frame: pd.DataFrame, headers: Mapping[str, str]):
        self.frame = frame
        self.headers = dict(headers)
        self.formats = {c: column_format(str(c), frame[c]) for c in frame.columns}

    def cells(self) -> list[list[str]]:
        return [[self.formats[c](v) for c, v in zip(self.frame.columns, row, strict=True)]
                for row in self.frame.itertuples(index=False, name=None)]

    def _repr_html_(self) -> str:
        numeric = [pd.api.types.is_numeric_dtype(self.frame[c]) and not
                   pd.api.types.is_bool_dtype(self.frame[c]) for c in self.frame.columns]
        head = "".join(f"<th style='text-align:{'right' if n else 'left'}'>"
                       f"{html.escape(self.headers[str(c)])}</th>"
                       for c, n in zip(self.frame.columns, numeric, strict=True))
        rows = "".join(
            "<tr>" + "".join(f"<td style='text-align:{'right' if n else 'left'}'>"
                             f"{html.escape(v)}</td>" for v, n in zip(r, numeric, strict=True))
            + "</tr>" for r in self.cells())
        return (f"<table class='gis-planning-tabelle'><thead><tr>{head}</tr></thead>"
                f"<tbody>{rows}</tbody></table>")

    def __repr__(self) -> str:
        head = [self.headers[str(c)] for c in self.frame.columns]
        body = self.cells()
        right = [pd.api.types.is_numeric_dtype(self.frame[c]) and not
                 pd.api.types.is_bool_dtype(self.frame[c]) for c in self.frame.columns]
        widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h)
                  for i, h in enumerate(head)]

        def line(values: Sequence[str]) -> str:
            return "  ".join(v.rjust(w) if r else v.ljust(w)
                             for v, w, r in zip(values, widths, right, strict=True)).rstrip()

        return "\n".join([line(head), *(line(r) for r in body)])


def german_table(
    frame: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    cat: Catalog | None = None,
    labels: Mapping[str, str] | None = None,
    rows: int | None = None,
) -> GermanTable:
    """Return ``frame`` (``columns`` of it, first ``rows`` rows) with German labels and formats.

    English analysis columns are shown under their German export names
    (:func:`gis_planning.outputs.export.german_columns`); with ``cat`` the city's labels
    are used and Bezirk codes are shown as their names ("Bezirk III").

    Examples
    --------
    >>> t = german_table(pd.DataFrame({"einwohner": [67297], "rate_prozent": [7.1]}))
    >>> print(t)
    Einwohner  Anteil (EB-geglättet)
       67.297                  7,1 %
    """
    from .export import city_labels, field_label, german_columns, table_labels

    out = pd.DataFrame(frame)
    if hasattr(frame, "geometry") and frame.geometry.name in out:
        out = pd.DataFrame(out.drop(columns=frame.geometry.name))
    if columns is not None:
        out = out[list(columns)]
    if rows is not None:
        out = out.head(rows)
    out, _ = german_columns(out)
    extra = dict(table_labels(frame))
    if cat is not None:
        extra = {**city_labels(cat), **extra}
        names = cat.bezirk_labels()
        for col in ("bezirk", "gebiet"):
            if col in out:
                out[col] = [names.get(v, "Stadt" if str(v) == "Stadt" else v)
                            for v in out[col]]
    extra.update(labels or {})
    headers = {str(c): field_label(str(c), extra) for c in out.columns}
    return GermanTable(out.reset_index(drop=True), headers)
