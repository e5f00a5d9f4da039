"""Exports for desktop GIS: one styled GeoPackage, RFC 7946 GeoJSON with sidecar QML.

:func:`export_layers` gathers every catalogue layer and every available analysis result
(:func:`gis_planning.results.available`) in the form it may leave the toolkit (confidential
point layers only as suppressed counts per Stadtteil, via :func:`gis_planning.privacy.release`),
each with its provenance and its QGIS style (:mod:`gis_planning.outputs.qml`, built from the same
classes, colours and German labels as the HTML atlas).

:func:`write_gpkg` writes them into one GeoPackage 1.2 (QGIS 3.22 warns about 1.4 files) with
a default style per spatial layer in the ``layer_styles`` table, and :func:`write_geojson_dir`
writes one RFC 7946 GeoJSON per spatial layer with a sidecar ``.qml`` (QGIS loads it as the
default style) and one CSV per table. All writes are atomic (:mod:`gis_planning._atomic`).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from tqdm.auto import tqdm

from .. import __version__, privacy, results
from .._atomic import atomic_folder, atomic_path, check_output_folder
from .._errors import GISPlanningError, InputError
from ..data.catalog import Catalog
from ..labels import column_label, fmt_date
from .qml import style_qml
from .styles import LayerStyle, style_for

__all__ = [
    "GEOJSON_DECIMALS",
    "GPKG_VERSION",
    "ExportLayer",
    "export_layers",
    "layer_styles_rows",
    "write_geojson_dir",
    "write_gpkg",
]

log = logging.getLogger(__name__)

#: GeoPackage version written (QGIS 3.22, shipped by Debian 12, warns about 1.4).
GPKG_VERSION = "1.2"

#: Decimals of GeoJSON coordinates (about 1 cm; RFC 7946 recommends no more).
GEOJSON_DECIMALS = 7

_STYLE_NAME = "gis_planning"

#: DDL of the table QGIS reads default styles from (as QGIS creates it).
_LAYER_STYLES_DDL = """
CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    f_table_catalog TEXT(256),
    f_table_schema TEXT(256),
    f_table_name TEXT(256),
    f_geometry_column TEXT(256),
    styleName TEXT(30),
    styleQML TEXT,
    styleSLD TEXT,
    useAsDefault BOOLEAN,
    description TEXT,
    owner TEXT(30),
    ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
)
"""


@dataclass
class ExportLayer:
    """One layer or table ready to leave the toolkit.

    Attributes
    ----------
    name
        Layer / table / file name (``projektwohnungen_anzahl`` for the released counts).
    frame
        GeoDataFrame (EPSG:25832) for spatial layers, DataFrame for tables. Never marked
        confidential.
    label
        German title (GeoPackage ``identifier``).
    metadata
        ``source``, ``date``, ``licence``, ``method``, ``description``, ... (text).
    style
        Shared style (``None``: neutral single symbol for spatial layers, nothing for tables).
    """

    name: str
    frame: pd.DataFrame
    label: str
    metadata: dict[str, str] = field(default_factory=dict)
    style: LayerStyle | None = None
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def spatial(self) -> bool:
        return isinstance(self.frame, gpd.GeoDataFrame) and self.frame.geometry.notna().any()

    def aliases(self) -> dict[str, str]:
        """German aliases of the fields that have one (``labels.COLUMN_LABELS``)."""
        geom = self.frame.geometry.name if self.spatial else None
        return {
            str(c): column_label(str(c), self.labels) for c in self.frame.columns
            if c != geom and column_label(str(c), self.labels) != str(c)
        }

    def qml(self) -> str | None:
        """QGIS style (QML text) of a spatial layer; ``None`` for tables."""
        if not self.spatial:
            return None
        types = set(self.frame.geom_type.dropna())
        meta = {"title": self.label, "abstract": self.metadata.get("description", ""),
                "identifier": self.name, **self.metadata}
        return style_qml(self.style, geometry_types=types, frame=self.frame,
                         aliases=self.aliases(), metadata=meta)


def _layer_meta(cat: Catalog, name: str) -> dict[str, str]:
    s = cat.schema(name)
    meta = {
        "label": s.label,
        "source": s.source,
        "date": s.date,
        "licence": s.licence,
        "method": s.method,
        "description": s.description,
        "group": s.group,
    }
    if s.synthetic:
        meta["synthetic"] = "ja (synthetisch / Demonstrationsdaten)"
    return meta


def _result_meta(cat: Catalog, name: str, frame: pd.DataFrame) -> dict[str, str]:
    info = results.meta(cat, name)
    licence = str(info.get("licence") or "")
    if not licence:
        licences = []
        if cat.pack.groups:
            lic = cat.table_meta(cat.group().table)["licence"]
            licences.append(lic)
        licence = "; ".join(licences) if licences else "siehe Quelle"
    meta = {
        "label": str(info["label"]),
        "source": str(info["source"]),
        "date": fmt_date(info.get("date") or ""),
        "licence": licence,
        "method": str(info.get("method") or ""),
        "description": str(info.get("description") or info["label"]),
        "group": str(info["group"]),
    }
    if info.get("estimated"):
        meta["estimated"] = "ja (geschätzte Werte, keine amtliche Statistik)"
    return meta


def _released(cat: Catalog, name: str, frame: gpd.GeoDataFrame | None = None
              ) -> ExportLayer | None:
    """A confidential point layer (or marked result) as suppressed counts per unit."""
    unit = cat.unit.label
    try:
        if frame is None:
            counts = cat.load(name)  # the catalogue hands out only the released form
        else:
            if not set(frame.geom_type.dropna()) <= {"Point", "MultiPoint"}:
                raise InputError("keine Punkte")
            counts = privacy.release(frame, cat.load(cat.unit.layer), k=privacy.DEFAULT_K)
    except GISPlanningError:
        warnings.warn(
            f"Ebene {name!r} ist vertraulich und lässt sich nicht als Anzahl je {unit} "
            f"veröffentlichen (keine Einheiten oder keine Punkte); sie fehlt im Export.",
            UserWarning,
            stacklevel=3,
        )
        return None
    counts["anzahl_wert"] = counts["anzahl"].astype("float")
    meta = _layer_meta(cat, name) if name in cat.schemas else {}
    out_name = f"{name}_anzahl"
    label = f"{meta.get('label', name)} je {unit}"
    meta.update(
        label=label,
        method=(meta.get("method", "") + " " if meta.get("method") else "")
        + f"Veröffentlicht nur als Anzahl je {unit}; Anzahlen unter {privacy.DEFAULT_K} "
        f"unterdrückt (anzahl leer, anzahl_text '< {privacy.DEFAULT_K}').",
        description=f"Anzahl je {unit} mit Unterdrückung kleiner Zahlen (< "
        f"{privacy.DEFAULT_K}); keine Einzelstandorte.",
    )
    if name in cat.schemas and cat.schema(name).synthetic:
        counts["hinweis"] = "synthetisch / Demonstrationsdaten"
    return ExportLayer(out_name, counts, label, meta,
                       style_for(out_name, counts, results.style_context(cat)))


def export_layers(
    cat: Catalog, *, names: Sequence[str] | None = None, verbose: bool = False
) -> list[ExportLayer]:
    """Return every catalogue layer and every available result, ready to export.

    Parameters
    ----------
    cat
        The catalogue.
    names
        Only these layer / result names (default: all). Confidential layers are always
        released as counts per Stadtteil (``<name>_anzahl``), never as points.
    verbose
        Show a progress bar (tqdm, on stderr) while layers are loaded and results computed.

    Returns
    -------
    list of ExportLayer
        Catalogue layers first (catalogue order), then results (registry order).
    """
    wanted = None if names is None else set(names)
    out: list[ExportLayer] = []
    ctx = results.style_context(cat) if cat.pack.groups else None
    for name in cat.names():
        if wanted is not None and name not in wanted:
            continue
        if cat.schema(name).confidential:
            layer = _released(cat, name)
            if layer is not None:
                out.append(layer)
            continue
        frame = cat.load(name)
        out.append(ExportLayer(name, frame, cat.schema(name).label, _layer_meta(cat, name),
                               style_for(name, frame, ctx)))
    taken = {layer.name for layer in out} | set(cat.names())
    for name in tqdm(results.available(cat), desc="Ergebnisse", unit="Ebene",
                     disable=not verbose, leave=False):
        if wanted is not None and name not in wanted:
            continue
        if name in taken:
            warnings.warn(f"Ergebnis {name!r} heißt wie eine Ebene; es fehlt im Export.",
                          UserWarning, stacklevel=2)
            continue
        frame = results.compute(cat, name)
        if privacy.is_confidential(frame):
            if isinstance(frame, gpd.GeoDataFrame):
                layer = _released(cat, name, frame)
                if layer is not None:
                    out.append(layer)
            else:
                warnings.warn(f"Ergebnis {name!r} ist vertraulich; es fehlt im Export.",
                              UserWarning, stacklevel=2)
            continue
        if isinstance(frame, gpd.GeoDataFrame) and not frame.geometry.notna().any():
            frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        style = (style_for(name, frame, ctx) if isinstance(frame, gpd.GeoDataFrame)
                 else None)
        out.append(ExportLayer(name, frame, str(results.meta(cat, name)["label"]),
                               _result_meta(cat, name, frame), style))
    labels = results.column_labels(cat)
    for layer in out:
        layer.labels = labels
    if wanted is not None:
        missing = sorted(wanted - set(cat.names()) - set(results.available(cat)))
        if missing:
            raise InputError(
                f"--layer: unbekannt oder nicht verfügbar: {', '.join(map(repr, missing))}; "
                f"verfügbar: {', '.join(cat.names() + results.available(cat))}."
            )
    return out


# ------------------------------------------------------------------------------ cleaning


def _writable(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy whose columns GDAL can write (categoricals, lists, mixed objects as text)."""
    out = frame.copy()
    geom = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    for col in out.columns:
        if col == geom:
            continue
        s = out[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            out[col] = s.astype(object).where(s.notna(), None).astype("string")
        elif s.dtype == object:
            def text(v: object) -> object:
                if v is None or (isinstance(v, float) and np.isnan(v)):
                    return None
                if isinstance(v, list | tuple | set | np.ndarray):
                    return "; ".join(map(str, v))
                return str(v)

            out[col] = s.map(text).astype("string")
    out.columns = [str(c) for c in out.columns]
    out.attrs = {}
    return out


def _meta_text(layer: ExportLayer) -> dict[str, str]:
    meta = {k: str(v) for k, v in layer.metadata.items() if v not in (None, "")}
    meta["generator"] = f"gis_planning {__version__}"
    return meta


def _unique_labels(layers: Sequence[ExportLayer]) -> dict[str, str]:
    seen: set[str] = set()
    labels = {}
    for layer in layers:
        label = layer.label or layer.name
        if label in seen:
            label = f"{label} ({layer.name})"
        seen.add(label)
        labels[layer.name] = label
    return labels


def _check_names(layers: Sequence[ExportLayer]) -> None:
    names = [layer.name for layer in layers]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"layer names must be unique; duplicated: {', '.join(dup)}.")
    if not layers:
        raise InputError("nothing to export: the catalogue has no layers.")


# ------------------------------------------------------------------------------ GeoPackage


def layer_styles_rows(path: str | os.PathLike) -> list[dict]:
    """Return the rows of the ``layer_styles`` table of a GeoPackage (for checks)."""
    con = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    try:
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute("SELECT * FROM layer_styles ORDER BY id")]
    finally:
        con.close()


def _add_styles(path: Path, styles: dict[str, str], titles: dict[str, str]) -> None:
    con = sqlite3.connect(path)
    try:
        geom_cols = dict(con.execute(
            "SELECT table_name, column_name FROM gpkg_geometry_columns"
        ).fetchall())
        con.execute(_LAYER_STYLES_DDL)
        con.execute(
            "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
            "description, last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', "
            "'QGIS-Standardstile (gis_planning)', strftime('%Y-%m-%dT%H:%M:%fZ','now'))"
        )
        for table, qml_text in styles.items():
            con.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner, ui) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', NULL)",
                (table, geom_cols[table], _STYLE_NAME, qml_text,
                 f"Stil wie im HTML-Atlas: {titles.get(table, table)}"),
            )
        con.commit()
    finally:
        con.close()


def write_gpkg(
    layers: Sequence[ExportLayer],
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
) -> Path:
    """Write ``layers`` into one GeoPackage 1.2 with a default QGIS style per spatial layer.

    Parameters
    ----------
    layers
        From :func:`export_layers`.
    path
        Output ``.gpkg``; replaced only with ``overwrite``. Written to a temporary file beside
        it and renamed at the end, so an interrupted export leaves the old file intact.
    overwrite
        Replace an existing file.
    inputs
        Input paths the output must not be.

    Returns
    -------
    pathlib.Path

    Notes
    -----
    * GDAL creation option ``VERSION=1.2`` (``PRAGMA user_version = 10200``).
    * Tables without geometry are GeoPackage ``attributes`` tables.
    * Each layer carries ``IDENTIFIER`` (German title) and ``DESCRIPTION`` in
      ``gpkg_contents`` and its provenance (source, date, licence, method) as GDAL layer
      metadata in ``gpkg_metadata``; the QML repeats it as QGIS resource metadata.
    * Styles go into ``layer_styles`` with ``f_table_schema = ''``, ``f_geometry_column``
      the real geometry column and ``useAsDefault = 1``: QGIS applies such a style when the
      layer is loaded.
    """
    _check_names(layers)
    for layer in layers:
        privacy.guard(layer.frame, what=f"GeoPackage layer {layer.name!r}")
    labels = _unique_labels(layers)
    styles: dict[str, str] = {}
    with atomic_path(path, overwrite=overwrite, inputs=inputs) as tmp:
        for i, layer in enumerate(layers):
            frame = _writable(layer.frame)
            opts = {"IDENTIFIER": labels[layer.name],
                    "DESCRIPTION": layer.metadata.get("description", "")}
            kwargs: dict = {}
            if i == 0:
                kwargs["dataset_options"] = {"VERSION": GPKG_VERSION}
            if layer.spatial:
                kwargs["promote_to_multi"] = len(set(frame.geom_type.dropna())) > 1
            else:
                frame = pd.DataFrame(frame.drop(columns=frame.geometry.name)) if isinstance(
                    frame, gpd.GeoDataFrame) else frame
            pyogrio.write_dataframe(
                frame, tmp, layer=layer.name, driver="GPKG", layer_options=opts,
                layer_metadata=_meta_text(layer), **kwargs,
            )
            qml_text = layer.qml()
            if qml_text is not None:
                styles[layer.name] = qml_text
        _add_styles(tmp, styles, labels)
    log.info("wrote %s: %d layers, %d styles", path, len(layers), len(styles))
    return Path(path)


# ------------------------------------------------------------------------------ GeoJSON


def _geojson_targets(layers: Sequence[ExportLayer], directory: Path) -> list[Path]:
    targets = []
    for layer in layers:
        if layer.spatial:
            targets += [directory / f"{layer.name}.geojson", directory / f"{layer.name}.qml"]
        else:
            targets.append(directory / f"{layer.name}.csv")
    return targets


def write_geojson_dir(
    layers: Sequence[ExportLayer],
    directory: str | os.PathLike,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
) -> list[Path]:
    """Write one RFC 7946 GeoJSON (+ sidecar ``.qml``) per spatial layer, one CSV per table.

    Parameters
    ----------
    layers
        From :func:`export_layers`.
    directory
        Output folder (its parent must exist): new, empty, or with ``overwrite`` an earlier
        export. The whole set is written into a temporary folder and swapped in at the end
        (:func:`gis_planning._atomic.atomic_folder`): an error, a full disk or ``kill -9``
        leaves the old folder as it was, never a partial or mixed set.
    overwrite
        Replace an existing export: afterwards the folder holds exactly the new files (no
        file of an earlier export stays). A folder with files gis-planning did not write is
        refused.
    inputs
        Input paths that must not lie in the folder.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Notes
    -----
    GeoJSON is written by GDAL with ``RFC7946=YES``: coordinates in CRS84 (lon, lat) with
    ``COORDINATE_PRECISION=7`` decimals, outer rings counter-clockwise and holes clockwise
    (right-hand rule), no ``crs`` member. QGIS loads ``<name>.qml`` beside ``<name>.geojson``
    as the layer's default style. Tables are CSV (UTF-8, comma separated).
    """
    _check_names(layers)
    directory = Path(directory)
    targets = _geojson_targets(layers, directory)
    inputs = list(inputs)
    check_output_folder(directory, overwrite=overwrite, inputs=inputs,
                        names=[t.name for t in targets])
    for layer in layers:
        privacy.guard(layer.frame, what=f"GeoJSON layer {layer.name!r}")
    with atomic_folder(directory, overwrite=overwrite, inputs=inputs,
                       names=[t.name for t in targets]) as tmp:
        for layer in layers:
            frame = _writable(layer.frame)
            if layer.spatial:
                pyogrio.write_dataframe(
                    frame.to_crs("EPSG:4326"), tmp / f"{layer.name}.geojson", driver="GeoJSON",
                    layer_options={"RFC7946": "YES",
                                   "COORDINATE_PRECISION": str(GEOJSON_DECIMALS),
                                   "WRITE_NAME": "NO"},
                )
                (tmp / f"{layer.name}.qml").write_text(layer.qml() or "", encoding="utf-8")
            else:
                table = pd.DataFrame(frame.drop(columns=frame.geometry.name)) if isinstance(
                    frame, gpd.GeoDataFrame) else frame
                table.to_csv(tmp / f"{layer.name}.csv", index=False, encoding="utf-8")
    log.info("wrote %d files to %s", len(targets), directory)
    return targets
