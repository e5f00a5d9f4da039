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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from .. import __version__, privacy, results
from .._atomic import atomic_folder, atomic_path, check_output_folder
from .._errors import GISPlanningError, InputError
from ..data.catalog import Catalog
from ..labels import fmt_date
from .fields import FIELD_LABELS, FIELD_RENAMES, field_label, german_columns
from .qml import metadata_qmd, style_qml
from .styles import Category, LayerStyle, categories_classification, classify, style_for

__all__ = [
    "FIELD_LABELS",
    "FIELD_RENAMES",
    "GEOJSON_DECIMALS",
    "GPKG_VERSION",
    "ExportLayer",
    "city_labels",
    "csvt_types",
    "export_layers",
    "field_label",
    "german_columns",
    "layer_styles_rows",
    "table_labels",
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


def _coverage_style(frame: pd.DataFrame) -> LayerStyle:
    """Demand cells coloured by whether a meeting space reaches them (or the share reached)."""
    if "abgedeckt" in frame:
        cats = (Category(True, "#41ab5d", "im Radius erreicht"),
                Category(False, "#fdae6b", "nicht erreicht"))
        return LayerStyle(kind="categorized", column="abgedeckt", categories=cats,
                          classification=categories_classification("abgedeckt", cats),
                          stroke="#ffffff", stroke_width=0.2, fill_opacity=0.6,
                          point_size=5.0,
                          legend_title="Nachfragezellen: im Radius eines Begegnungsraums?")
    column = "anteil_erreicht"
    cls = classify(frame[column].astype(float).rename(column), scheme="EqualInterval", k=4,
                   palette="PuBu", decimals=2)
    return LayerStyle(kind="graduated", column=column, classification=cls, stroke="#666666",
                      stroke_width=0.4, fill_opacity=0.6,
                      legend_title="Anteil der erreichten Nachfrage")


#: Styles of exported layers the atlas does not draw (function of the renamed frame).
_EXPORT_STYLES = {"standort_zuordnung": _coverage_style}


@dataclass
class ExportLayer:
    """One layer or table ready to leave the toolkit.

    Attributes
    ----------
    name
        Layer / table / file name (``projektwohnungen_anzahl`` for the released counts).
    frame
        GeoDataFrame (EPSG:25832) for spatial layers, DataFrame for tables. Never marked
        confidential. English analysis columns are already renamed (:data:`FIELD_RENAMES`).
    label
        German title (GeoPackage ``identifier``).
    metadata
        ``source``, ``date``, ``licence``, ``method``, ``description``, ... (text).
    style
        Shared style (``None``: neutral single symbol for spatial layers, nothing for tables).
    labels
        The city's own column labels (:func:`gis_planning.results.column_labels`).
    group
        Atlas group the QGIS project puts it in ("Grundlagen", "Analyse", "Planung";
        "Tabellen" for tables).
    visible
        Shown when the QGIS project opens (as in the atlas).
    """

    name: str
    frame: pd.DataFrame
    label: str
    metadata: dict[str, str] = field(default_factory=dict)
    style: LayerStyle | None = None
    labels: dict[str, str] = field(default_factory=dict)
    group: str = ""
    visible: bool = False

    @property
    def spatial(self) -> bool:
        return isinstance(self.frame, gpd.GeoDataFrame) and self.frame.geometry.notna().any()

    def aliases(self) -> dict[str, str]:
        """German alias of every field (:func:`field_label`)."""
        geom = self.frame.geometry.name if isinstance(self.frame, gpd.GeoDataFrame) else None
        return {str(c): field_label(str(c), self.labels) for c in self.frame.columns
                if c != geom}

    def qgis_metadata(self) -> dict[str, str]:
        """Title, abstract, source, licence, Stand, ... for the QGIS layer metadata."""
        meta = {k: str(v) for k, v in self.metadata.items() if v not in (None, "")}
        meta.update(title=self.label, identifier=self.name,
                    abstract=self.metadata.get("description") or self.label,
                    generator=f"gis_planning {__version__}")
        if self.group:
            meta["group"] = self.group
        return meta

    def qml(self) -> str | None:
        """QGIS style (QML text) of a spatial layer; ``None`` for tables."""
        if not self.spatial:
            return None
        types = set(self.frame.geom_type.dropna())
        return style_qml(self.style, geometry_types=types, frame=self.frame,
                         aliases=self.aliases(), metadata=self.qgis_metadata())

    def qmd(self) -> str:
        """QGIS layer metadata (``.qmd`` text): abstract, licence, attribution, Stand."""
        return metadata_qmd(self.qgis_metadata())


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


#: Name of the exported Bezirk choropleth (the atlas's default layer).
BEZIRK_LAYER = "bezirkswerte"


def _bezirk_layer(cat: Catalog) -> ExportLayer | None:
    """The first group's value per Bezirk on the Bezirk polygons, styled as in the atlas."""
    if not cat.pack.groups or cat.unit.layer not in cat.names():
        return None
    g = cat.group()
    try:
        stat = results.bezirk_values(cat)
    except GISPlanningError:
        return None
    if "stadtbezirke" in cat.names():
        areas = cat.load("stadtbezirke")
    else:
        units = cat.load(cat.unit.layer)
        if "bezirk" not in units:
            return None
        areas = units[["bezirk", "geometry"]].dissolve("bezirk", as_index=False)
    cols = [c for c in ("bezirk", g.share_column, g.count, g.total) if c and c in stat]
    keep = [c for c in areas.columns if c not in cols or c == "bezirk"]
    frame = areas[keep].merge(stat[cols], on="bezirk", how="left")
    frame["bezirk_label"] = frame["bezirk"].map(cat.bezirk_labels())
    frame = frame[[c for c in frame.columns if c != "geometry"] + ["geometry"]]
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=areas.crs)
    if frame[g.share_column].notna().sum() == 0:
        return None
    label = f"Anteil {g.label} (Bezirkswert)"
    ctx = results.style_context(cat)
    meta = {
        "label": label,
        "source": str(stat.attrs.get("quelle", "")),
        "date": ctx.date,
        "licence": _group_licence(cat, g),
        "method": "Werte je Bezirk: amtliche Bezirkszahlen, wo das Pack sie nennt, sonst "
        f"die Summe der Werte je {cat.unit.label}.",
        "description": f"Bezirkswert: gilt für den ganzen Bezirk, nicht für den einzelnen "
        f"{cat.unit.label}.",
        "group": "Analyse",
    }
    if stat.attrs.get("estimated"):
        meta["estimated"] = "ja (geschätzte Werte, keine amtliche Statistik)"
    return ExportLayer(BEZIRK_LAYER, frame, label, meta,
                       style_for("gruppe_bezirk", frame, ctx), group="Analyse", visible=True)


def _group_licence(cat: Catalog, g) -> str:
    tables = [t for t in (g.bezirk_table, g.table) if t]
    licences = dict.fromkeys(str(cat.table_meta(t)["licence"]) for t in tables)
    return "; ".join(licences)


def city_labels(cat: Catalog) -> dict[str, str]:
    """Labels that name the city's own unit and groups (budget terms, unit counts)."""
    out = dict(results.column_labels(cat))
    plural = cat.unit.label_plural
    out.update({"stadtteile": plural, "n_stadtteile": f"Anzahl {plural}"})
    for name, g in cat.pack.groups.items():
        out.setdefault(name, g.label)
        out[f"anteil_{name}"] = f"Anteil an {g.label}"
        out[f"beitrag_{name}"] = f"Beitrag {g.label}"
    return out


def table_labels(frame: pd.DataFrame) -> dict[str, str]:
    """A table's own column labels (``attrs["column_labels"]``, set by a city's loader).

    Share columns (``*_prozent``) get "(%)" where the label does not say it.
    """
    own = frame.attrs.get("column_labels") or {}
    return {str(c): str(label) + (" (%)" if str(c).endswith("_prozent") and "%" not in
                                  str(label) else "") for c, label in own.items()}


def _atlas_place(cat: Catalog, layer: ExportLayer) -> tuple[str, bool, int]:
    """Group, default visibility and rank of a layer as the atlas shows it."""
    name = layer.name
    order = ["stadtgrenze", "stadtbezirke", cat.unit.layer, "jobcenter",
             "jobcenter_zuordnung", "kitas", "schulen", "begegnungsorte", BEZIRK_LAYER,
             *dict.fromkeys(cat.group(n).table for n in cat.unit_groups()),
             "hotspots", "lisa", "segregation_lokal", "einzugsbereiche", "standorte",
             "standort_zuordnung"]
    rank = order.index(name) if name in order else len(order)
    if not layer.spatial:
        return "Tabellen", False, rank
    if name.endswith("_anzahl") and name[: -len("_anzahl")] in cat.names():
        return "Analyse", False, order.index("segregation_lokal")  # confidential counts
    visible = name in ("stadtgrenze", "stadtbezirke", cat.unit.layer, BEZIRK_LAYER)
    group = layer.group or str(layer.metadata.get("group") or "Grundlagen")
    if group not in ("Grundlagen", "Analyse", "Planung"):
        group = "Grundlagen"
    return group, visible, rank


def _tracker(progress: Callable[..., Iterable] | None) -> Callable[[list, str], Iterable]:
    """``track(items, desc)``: ``items`` wrapped in ``progress`` (per layer), or as they are."""
    def track(items: list, desc: str) -> Iterable:
        if progress is None:
            return items
        return progress(items, desc=desc, total=len(items), unit="Ebene")
    return track


def export_layers(
    cat: Catalog, *, names: Sequence[str] | None = None,
    progress: Callable[..., Iterable] | None = None,
) -> list[ExportLayer]:
    """Return every catalogue layer and every available result, ready to export.

    Parameters
    ----------
    cat
        The catalogue.
    names
        Only these layer / result names (default: all). Confidential layers are always
        released as counts per Stadtteil (``<name>_anzahl``), never as points.
    progress
        Called as ``progress(iterable, desc=..., total=..., unit=...)`` around the loops over
        the layers loaded and the results computed (the CLI passes its progress bar).

    Returns
    -------
    list of ExportLayer
        In the atlas's order (Grundlagen, Analyse, Planung, then tables), each with its
        group and default visibility for the QGIS project; with the first group, the
        Bezirk choropleth of the atlas as layer ``bezirkswerte``. English analysis columns
        are renamed to German (:data:`FIELD_RENAMES`) and every field has a German alias.
    """
    wanted = None if names is None else set(names)
    out: list[ExportLayer] = []
    ctx = results.style_context(cat) if cat.pack.groups else None
    track = _tracker(progress)
    for name in track([n for n in cat.names() if wanted is None or n in wanted],
                      "Ebenen laden"):
        if cat.schema(name).confidential:
            layer = _released(cat, name)
            if layer is not None:
                out.append(layer)
            continue
        frame = cat.load(name)
        out.append(ExportLayer(name, frame, cat.schema(name).label, _layer_meta(cat, name),
                               style_for(name, frame, ctx)))
    if wanted is None or BEZIRK_LAYER in wanted:
        layer = _bezirk_layer(cat)
        if layer is not None:
            out.append(layer)
    taken = {layer.name for layer in out} | set(cat.names())
    for name in track([n for n in results.available(cat) if wanted is None or n in wanted],
                      "Ergebnisse berechnen"):
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
    labels = city_labels(cat)
    for layer in out:
        layer.labels = {**labels, **table_labels(layer.frame)}
        layer.frame, layer.style = german_columns(layer.frame, layer.style)
        if layer.style is None and layer.spatial and layer.name in _EXPORT_STYLES:
            layer.style = _EXPORT_STYLES[layer.name](layer.frame)
    if wanted is not None:
        known = set(cat.names()) | set(results.available(cat)) | {BEZIRK_LAYER}
        missing = sorted(wanted - known)
        if missing:
            raise InputError(
                f"--layer: unbekannt oder nicht verfügbar: {', '.join(map(repr, missing))}; "
                f"verfügbar: {', '.join([*cat.names(), BEZIRK_LAYER, *results.available(cat)])}."
            )
    groups = ("Grundlagen", "Analyse", "Planung", "Tabellen")
    places = {}
    for i, layer in enumerate(out):
        group, visible, rank = _atlas_place(cat, layer)
        layer.group, layer.visible = group, layer.visible or visible
        places[layer.name] = (groups.index(group), rank, i)
    return sorted(out, key=lambda x: places[x.name])


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
        raise InputError(f"Ebenennamen müssen eindeutig sein; doppelt: {', '.join(dup)}.")
    if not layers:
        raise InputError("nichts zu exportieren: der Katalog hat keine Ebenen.")


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


def _add_qgis_metadata(path: Path, documents: dict[str, str]) -> None:
    """Store each layer's QGIS metadata (QMD) in ``gpkg_metadata``, as QGIS itself does.

    QGIS 3.22 reads the row whose ``md_standard_uri`` is ``http://mrcc.com/qgis.dtd`` and
    whose ``gpkg_metadata_reference`` names the table when it opens the layer (that is
    where its "Save metadata to GeoPackage" writes); GDAL's own row stays beside it.
    """
    con = sqlite3.connect(path)
    try:
        for table, text in documents.items():
            cur = con.execute(
                "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) "
                "VALUES ('dataset', 'http://mrcc.com/qgis.dtd', 'text/xml', ?)", (text,))
            con.execute(
                "INSERT INTO gpkg_metadata_reference (reference_scope, table_name, "
                "column_name, row_id_value, timestamp, md_file_id, md_parent_id) VALUES "
                "('table', ?, NULL, NULL, strftime('%Y-%m-%dT%H:%M:%fZ','now'), ?, NULL)",
                (table, cur.lastrowid))
        con.commit()
    finally:
        con.close()


def write_gpkg(
    layers: Sequence[ExportLayer],
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
    progress: Callable[..., Iterable] | None = None,
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
    progress
        Called as ``progress(iterable, desc=..., total=..., unit=...)`` around the loop over
        the layers written; default: no progress shown.

    Returns
    -------
    pathlib.Path

    Notes
    -----
    * GDAL creation option ``VERSION=1.2`` (``PRAGMA user_version = 10200``).
    * Tables without geometry are GeoPackage ``attributes`` tables.
    * Each layer carries ``IDENTIFIER`` (German title) and ``DESCRIPTION`` in
      ``gpkg_contents`` and its provenance (source, date, licence, method) twice in
      ``gpkg_metadata``: as GDAL layer metadata and as a QGIS metadata document (QMD,
      ``md_standard_uri = 'http://mrcc.com/qgis.dtd'``), which QGIS 3.22 shows in the layer
      properties (abstract, rights/attribution, licence, history, Stand). QGIS does not take
      layer metadata from a style's ``<resourceMetadata>``.
    * Styles go into ``layer_styles`` with ``f_table_schema = ''``, ``f_geometry_column``
      the real geometry column and ``useAsDefault = 1``: QGIS applies such a style when the
      layer is loaded.
    """
    _check_names(layers)
    for layer in layers:
        privacy.guard(layer.frame, what=f"GeoPackage-Ebene {layer.name!r}")
    labels = _unique_labels(layers)
    styles: dict[str, str] = {}
    with atomic_path(path, overwrite=overwrite, inputs=inputs) as tmp:
        for i, layer in enumerate(_tracker(progress)(layers, "GeoPackage schreiben")):
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
        _add_qgis_metadata(tmp, {layer.name: layer.qmd() for layer in layers})
    log.info("GeoPackage geschrieben: %s (%d Ebenen, %d Stile)", path, len(layers), len(styles))
    return Path(path)


# ------------------------------------------------------------------------------ GeoJSON


def _geojson_targets(layers: Sequence[ExportLayer], directory: Path) -> list[Path]:
    targets = []
    for layer in layers:
        if layer.spatial:
            targets += [directory / f"{layer.name}.geojson", directory / f"{layer.name}.qml"]
        else:
            targets += [directory / f"{layer.name}.csv", directory / f"{layer.name}.csvt"]
        targets.append(directory / f"{layer.name}.qmd")
    return targets


def csvt_types(frame: pd.DataFrame) -> list[str]:
    """GDAL/QGIS column types of a CSV table (the ``.csvt`` sidecar), one per column.

    ``Integer(Boolean)``, ``Integer64``, ``Real``, ``Date``, ``DateTime`` or ``String``;
    QGIS and GDAL read a ``<name>.csvt`` beside ``<name>.csv`` and type the columns, so
    numbers sort and sum as numbers.

    >>> csvt_types(pd.DataFrame({"a": [True], "b": [1], "c": [0.5], "d": ["x"]}))
    ['Integer(Boolean)', 'Integer64', 'Real', 'String']
    """
    types = []
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_bool_dtype(s):
            types.append("Integer(Boolean)")
        elif pd.api.types.is_integer_dtype(s):
            types.append("Integer64")
        elif pd.api.types.is_float_dtype(s):
            types.append("Real")
        elif pd.api.types.is_datetime64_any_dtype(s):
            types.append("DateTime")
        else:
            types.append("String")
    return types


def write_geojson_dir(
    layers: Sequence[ExportLayer],
    directory: str | os.PathLike,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
    progress: Callable[..., Iterable] | None = None,
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
    progress
        As for :func:`write_gpkg`.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Notes
    -----
    GeoJSON is written by GDAL with ``RFC7946=YES``: coordinates in CRS84 (lon, lat) with
    ``COORDINATE_PRECISION=7`` decimals, outer rings counter-clockwise and holes clockwise
    (right-hand rule), no ``crs`` member. QGIS loads ``<name>.qml`` beside ``<name>.geojson``
    as the layer's default style and ``<name>.qmd`` as its default metadata (abstract,
    licence, attribution, Stand). Tables are CSV (UTF-8, comma separated) with a
    ``<name>.csvt`` that types their columns (:func:`csvt_types`).
    """
    _check_names(layers)
    directory = Path(directory)
    targets = _geojson_targets(layers, directory)
    inputs = list(inputs)
    check_output_folder(directory, overwrite=overwrite, inputs=inputs,
                        names=[t.name for t in targets])
    for layer in layers:
        privacy.guard(layer.frame, what=f"GeoJSON-Ebene {layer.name!r}")
    with atomic_folder(directory, overwrite=overwrite, inputs=inputs,
                       names=[t.name for t in targets]) as tmp:
        for layer in _tracker(progress)(layers, "GeoJSON schreiben"):
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
                (tmp / f"{layer.name}.csvt").write_text(
                    ",".join(f'"{c}"' for c in csvt_types(table)), encoding="utf-8")
            (tmp / f"{layer.name}.qmd").write_text(layer.qmd(), encoding="utf-8")
    log.info("GeoJSON geschrieben: %d Dateien in %s", len(targets), directory)
    return targets
