"""Printing and writing result tables for the commands."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..labels import fmt_number

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["echo_table", "write_frame"]


def _fmt(value: object) -> str:
    import numpy as np
    import pandas as pd

    if isinstance(value, bool | np.bool_) or value is None:
        return "" if value is None else ("ja" if value else "nein")
    if value is pd.NA or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, int | np.integer) and abs(int(value)) >= 10_000:
        return fmt_number(int(value), 0)
    if isinstance(value, float):
        if value == value and value.is_integer() and abs(value) >= 10:
            return fmt_number(value, 0)
        return fmt_number(value, 3 if abs(value) < 10 else 1)
    return str(value)


def echo_table(frame: pd.DataFrame, *, max_rows: int = 60) -> None:
    """Print ``frame`` (without geometry) as an aligned text table with German numbers."""
    import pandas as pd

    from ..privacy import guard

    guard(frame, what="Tabellenausgabe")
    table = pd.DataFrame(frame).drop(columns=[c for c in frame.columns if c == "geometry"])
    shown = table.head(max_rows)
    cells = [[_fmt(v) for v in row] for row in shown.itertuples(index=False)]
    headers = [str(c) for c in shown.columns]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    for r in cells:
        click.echo("  ".join(v.rjust(w) if _is_num(v) else v.ljust(w)
                             for v, w in zip(r, widths, strict=True)))
    if len(table) > max_rows:
        click.echo(f"… {len(table) - max_rows} weitere Zeilen (mit -o in eine Datei schreiben)")


def _is_num(text: str) -> bool:
    return bool(text) and text.replace(".", "").replace(",", "").lstrip("-").isdigit()


def write_frame(frame: pd.DataFrame, path: str | os.PathLike, *, overwrite: bool) -> Path:
    """Write a result: spatial frames as GeoJSON/GeoPackage/CSV, tables as CSV.

    ``path`` ``"-"`` writes to standard output: GeoJSON (RFC 7946, WGS84) for a spatial
    frame, CSV for a table. The privacy guard runs first either way. The command marks
    standard output as data (``state.stdout_is_data()``) so its summaries go to stderr.
    """
    import geopandas as gpd
    import pandas as pd

    from .._atomic import atomic_path
    from ..data.io import write_layer
    from ..privacy import guard

    spatial = isinstance(frame, gpd.GeoDataFrame) and frame.geometry.notna().any()
    if str(path) == "-":
        guard(frame, what="Ausgabe auf die Standardausgabe")
        if spatial:
            import tempfile

            extra = [c for c in frame.columns if c != frame.geometry.name
                     and isinstance(frame[c].dtype, gpd.array.GeometryDtype)]
            if extra:  # GeoJSON holds one geometry per feature: the others as WKT
                frame = frame.assign(**{c: gpd.GeoSeries(frame[c]).to_wkt() for c in extra})
            with tempfile.TemporaryDirectory(prefix="gis-planning-") as tmp:
                written = write_layer(frame, Path(tmp) / "ausgabe.geojson", overwrite=True)
                click.echo(written.read_text(encoding="utf-8"), nl=False)
        else:
            table = pd.DataFrame(frame).drop(columns=["geometry"], errors="ignore")
            click.echo(table.to_csv(index=False), nl=False)
        return Path("-")
    guard(frame, what=f"Schreiben von '{path}'")
    p = Path(path)
    if spatial:
        return write_layer(frame, p, overwrite=overwrite)
    if p.suffix.lower() != ".csv":
        raise click.BadParameter(f"{p.name}: eine Tabelle ohne Geometrie kann nur als .csv "
                                 "geschrieben werden (oder mit -o - als CSV auf die "
                                 "Standardausgabe).", param_hint="-o")
    with atomic_path(p, overwrite=overwrite) as tmp:
        pd.DataFrame(frame).to_csv(tmp, index=False)
    return p
