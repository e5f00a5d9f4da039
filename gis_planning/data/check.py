"""Check a user's layer files against the catalogue schemas and say what to fix.

:func:`check_paths` reads each file the way the toolkit would
(:func:`~gis_planning.data.io.read_file`
and :func:`~gis_planning.data.io.validate_layer`), catches every problem and returns one
:class:`FileReport` per file (per layer of a GeoPackage with several layers) instead of raising.
:func:`format_report` turns the reports into German lines for the ``gis-planning check``
command; errors are one line each, naming the file, the row or column, and the fix. Nothing is
written.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "kitas.geojson"
>>> _ = p.write_text("")
>>> rep = check_paths([p])[0]
>>> rep.ok, rep.layer
(False, 'kitas')
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from .._errors import GISPlanningError, LayerError
from .._names import match_key, suggest

__all__ = ["FileReport", "Problem", "check_file", "check_paths", "format_report", "guess_layer"]

#: Tables (no geometry) a catalogue may name, with the check that applies.


@dataclass(frozen=True)
class Problem:
    """One finding: ``level`` is ``"Fehler"`` (the file cannot be used) or ``"Warnung"``."""

    level: str
    message: str


@dataclass
class FileReport:
    """What :func:`check_file` found in one file (or one layer of a GeoPackage)."""

    path: str
    layer: str | None
    features: int | None = None
    problems: list[Problem] = field(default_factory=list)
    inner_layer: str | None = None

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not any(p.level == "Fehler" for p in self.problems)

    @property
    def errors(self) -> list[str]:
        return [p.message for p in self.problems if p.level == "Fehler"]

    @property
    def warnings(self) -> list[str]:
        return [p.message for p in self.problems if p.level == "Warnung"]


def guess_layer(name: str, candidates: Iterable[str]) -> str | None:
    """Guess the catalogue layer a file name means ("Kitas_2024.gpkg" -> "kitas")."""
    cands = list(candidates)
    key = match_key(Path(name).stem if "." in name else name)
    by_key = {match_key(c): c for c in cands}
    if key in by_key:
        return by_key[key]
    starts = [c for k, c in by_key.items() if key.startswith(k) or k.startswith(key)]
    starts = sorted(starts, key=len, reverse=True)
    if starts and (len(starts) == 1 or len(starts[0]) > len(starts[1])):
        return starts[0]
    close = suggest(name, cands, n=1, cutoff=0.75)
    return close[0] if close else None


def _default_catalog():
    from .catalog import default_catalog

    return default_catalog()


def check_paths(
    paths: Iterable[str | os.PathLike],
    *,
    catalog=None,
    layer: str | None = None,
) -> list[FileReport]:
    """Check every file of ``paths``; see :func:`check_file`.

    A GeoPackage with several layers gives one report per layer (layer guessed from the
    layer's name unless ``layer`` is given).
    """
    cat = _default_catalog() if catalog is None else catalog
    reports: list[FileReport] = []
    for path in paths:
        p = Path(path)
        inner = _gpkg_layers(p)
        if inner and len(inner) > 1:
            for name in inner:
                reports.append(check_file(p, catalog=cat, layer=layer, inner_layer=name))
        else:
            reports.append(check_file(p, catalog=cat, layer=layer))
    return reports


def _gpkg_layers(p: Path) -> list[str]:
    if p.suffix.lower() != ".gpkg" or not p.is_file() or p.stat().st_size == 0:
        return []
    try:
        import pyogrio

        with warnings.catch_warnings():  # "Measured (M) ...": read_file says it in German
            warnings.simplefilter("ignore", UserWarning)
            return [str(n) for n in pyogrio.list_layers(p)[:, 0]]
    except Exception:  # unreadable: check_file reports it
        return []


def check_file(
    path: str | os.PathLike,
    *,
    catalog=None,
    layer: str | None = None,
    inner_layer: str | None = None,
) -> FileReport:
    """Check one file against the schema of catalogue layer ``layer`` (guessed if None).

    Never raises for problems in the file: they are returned as :class:`Problem` entries.

    Parameters
    ----------
    path
        The file (GeoJSON, GeoPackage, Shapefile, GeoParquet, CSV).
    catalog
        The :class:`~gis_planning.data.catalog.Catalog` whose schemas apply (default: Essen). Its
        Stadtteil names are the reference for a ``stadtteil`` column.
    layer
        Catalogue layer (or a table of the city pack) the file should be; default: guessed
        from the file name (or the GeoPackage layer name).
    inner_layer
        Layer inside a GeoPackage.
    """
    cat = _default_catalog() if catalog is None else catalog
    p = Path(path)
    tables = cat.table_names()
    names = [*dict.fromkeys([*cat.names(), *cat.base_schemas]), *tables]
    guessed = layer if layer is not None else guess_layer(inner_layer or p.name, names)
    label = str(p) if inner_layer is None else f"{p}:{inner_layer}"
    rep = FileReport(path=str(p), layer=guessed, inner_layer=inner_layer)
    if layer is not None and layer not in names:
        close = suggest(layer, names)
        hint = f" Meinten Sie {' oder '.join(map(repr, close))}?" if close else ""
        rep.problems.append(Problem("Fehler", f"--as: unbekannte Ebene oder Tabelle "
                                              f"{layer!r}.{hint} Bekannt: {', '.join(names)}."))
        return rep
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if guessed in tables:
                rep.features = _check_table(p, cat, guessed, label)
            else:
                rep.features = _check_layer(p, cat, guessed, inner_layer, label, rep)
        except GISPlanningError as exc:
            rep.problems.append(Problem("Fehler", str(exc)))
    for w in caught:
        if issubclass(w.category, UserWarning | RuntimeWarning):
            rep.problems.append(Problem("Warnung", str(w.message).splitlines()[0]))
    return rep


def _stadtteil_reference(cat) -> tuple[list[str] | None, dict[str, str] | None]:
    try:
        ref = cat.stadtteil_names
    except GISPlanningError:
        return None, None
    return ref, cat.stadtteil_aliases()


def _check_layer(p: Path, cat, layer: str | None, inner: str | None, label: str,
                 rep: FileReport) -> int:
    from .io import check_crs_plausible, read_file, validate_layer

    gdf = read_file(p, layer=inner)
    if layer is None:
        check_crs_plausible(gdf, name=label)
        known = ", ".join(cat.schemas)
        rep.problems.append(Problem(
            "Warnung",
            f"{label}: aus dem Dateinamen ist nicht zu erkennen, welche Ebene das ist; geprüft "
            f"wurden nur Koordinatensystem und Geometrien. Nennen Sie die Ebene mit --as EBENE "
            f"({known}).",
        ))
        if len(gdf) == 0:
            raise LayerError(f"{label} enthält keine Objekte. Prüfen Sie die Datei oder den "
                             f"Filter beim Export.")
        invalid = int((~gdf.geometry.is_valid).sum())
        if invalid:
            rep.problems.append(Problem(
                "Warnung", f"{label}: {invalid} ungültige Geometrie(n) "
                           f"(Selbstüberschneidungen); sie werden beim Laden repariert. Prüfen "
                           f"Sie sie in QGIS (Vektor > Geometrie-Werkzeuge > Geometrien "
                           f"prüfen)."))
        return len(gdf)
    from ..privacy import DEFAULT_K

    schema = cat.schema(layer)
    ref, aliases = (None, None) if layer == "stadtteile" else _stadtteil_reference(cat)
    if ref is not None and "stadtteil" in gdf.columns:
        schema = replace(schema, check_stadtteil=True)
    validate_layer(gdf, schema, name=label, stadtteil_names=ref, stadtteil_aliases=aliases)
    if schema.confidential:
        rep.problems.append(Problem(
            "Warnung", f"{label}: die Ebene {layer!r} ist vertraulich; sie verlässt das "
                       f"Werkzeug nur als Anzahl je Fläche, Werte unter {DEFAULT_K} "
                       f"unterdrückt."))
    return len(gdf)


def _check_table(p: Path, cat, name: str, label: str) -> int:
    """Check a user's CSV as a replacement of the pack's table ``name`` (same key, columns)."""
    from dataclasses import replace as replace_spec

    spec = replace_spec(cat.table_spec(name), path=p, loader=None, options={})
    df = cat._read_table(spec)
    return len(df)


def format_report(reports: Iterable[FileReport]) -> list[str]:
    """Return the German report lines: one block per file, then a summary line."""
    from ..labels import fmt_int

    reports = list(reports)
    lines: list[str] = []
    for r in reports:
        what = f"{r.path}" + (f" [{r.inner_layer}]" if r.inner_layer else "")
        as_ = f"als {r.layer}" if r.layer else "Ebene unbekannt"
        count = f", {fmt_int(r.features)} Objekte" if r.features is not None else ""
        lines.append(f"{'OK    ' if r.ok else 'FEHLER'}  {what} ({as_}{count})")
        for prob in r.problems:
            lines.append(f"  {prob.level}: {prob.message}")
    bad = sum(not r.ok for r in reports)
    lines.append(
        f"{len(reports)} Datei(en) geprüft: {len(reports) - bad} in Ordnung, {bad} mit Fehlern."
    )
    return lines
