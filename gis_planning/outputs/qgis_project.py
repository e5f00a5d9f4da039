"""A ready QGIS project (``.qgz``) over an exported GeoPackage: the atlas, styled, with licences.

:func:`project_xml` builds the text of a QGIS 3.22 project (``.qgs``) whose layers are the
tables of a GeoPackage written by :func:`gis_planning.outputs.export.write_gpkg`:

* the layer tree has the atlas's groups in the atlas's order (Grundlagen, Analyse, Planung,
  then the tables), and shows on opening what the atlas shows (city boundary, Bezirke, units
  and the Bezirk choropleth); everything else is there, switched off;
* each layer carries its style (the same QML as in the GeoPackage's ``layer_styles``: classes,
  colours, German legend labels, labels, German field aliases) and its metadata (title,
  abstract, attribution, licence, history with source, method and Stand) and attribution,
  which QGIS shows in the layer properties;
* drawing order as in the atlas: points on top, then outlines, then filled choropleths;
* data sources are relative (``./essen.gpkg|layername=kitas``), so the GeoPackage and the
  project can be moved together.

:func:`write_qgis_project` writes it zipped as ``.qgz`` (QGIS's default format) atomically.
This module builds text and writes one file; it does no analysis.
"""

from __future__ import annotations

import functools
import logging
import os
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from .._atomic import atomic_path
from .._errors import InputError
from .qml import _DOCTYPE, _QGIS_VERSION, _rights, geometry_kind, resource_metadata

if TYPE_CHECKING:  # pragma: no cover
    from .export import ExportLayer

__all__ = ["PROJECT_GROUPS", "draw_rank", "layer_id", "project_xml", "write_qgis_project"]

log = logging.getLogger(__name__)

#: Layer-tree groups of the project, top to bottom (the atlas's groups, then the tables).
PROJECT_GROUPS = ("Grundlagen", "Analyse", "Planung", "Tabellen")

_WKB = {"point": "MultiPoint", "line": "MultiLineString", "polygon": "MultiPolygon"}
_GEOMETRY = {"point": "Point", "line": "Line", "polygon": "Polygon"}


def layer_id(name: str) -> str:
    """The layer's id in the project (stable, so a re-export keeps references)."""
    return f"{name}_gis_planning"


def draw_rank(layer: ExportLayer) -> int:
    """0 points, 1 lines and outlines (single symbol), 2 filled classes (choropleths)."""
    kind = geometry_kind(set(layer.frame.geom_type.dropna()))
    if kind == "point":
        return 0
    style = layer.style
    if style is None or style.kind == "single":
        return 1
    return 2


@functools.lru_cache(maxsize=8)
def _crs_parts(crs: str) -> tuple[str, int | None, str, bool]:
    from pyproj import CRS

    c = CRS.from_user_input(crs)
    return c.to_wkt(), c.to_epsg(), c.name, c.is_geographic


def _srs(parent: ET.Element, crs: str) -> None:
    """``<spatialrefsys>`` as QGIS writes it (QGIS reads the WKT and the authority id)."""
    wkt, epsg, name, geographic = _crs_parts(str(crs))
    ref = ET.SubElement(parent, "spatialrefsys")
    ET.SubElement(ref, "wkt").text = wkt
    ET.SubElement(ref, "proj4")
    ET.SubElement(ref, "srsid").text = "0"
    ET.SubElement(ref, "srid").text = str(epsg or 0)
    ET.SubElement(ref, "authid").text = f"EPSG:{epsg}" if epsg else ""
    ET.SubElement(ref, "description").text = name
    ET.SubElement(ref, "projectionacronym")
    ET.SubElement(ref, "ellipsoidacronym")
    ET.SubElement(ref, "geographicflag").text = "true" if geographic else "false"


def _extent(parent: ET.Element, bounds: Sequence[float], tag: str = "extent") -> None:
    ext = ET.SubElement(parent, tag)
    for key, value in zip(("xmin", "ymin", "xmax", "ymax"), bounds, strict=True):
        ET.SubElement(ext, key).text = repr(float(value))


def _style_root(layer: ExportLayer) -> ET.Element | None:
    text = layer.qml()
    if text is None:
        return None
    return ET.fromstring(text.split("\n", 1)[1])


def _table_aliases(layer: ExportLayer) -> ET.Element:
    al = ET.Element("aliases")
    for i, (name, alias) in enumerate(layer.aliases().items()):
        ET.SubElement(al, "alias", field=name, index=str(i), name=alias)
    return al


def _maplayer(layer: ExportLayer, source: str, crs: str) -> ET.Element:
    style = _style_root(layer)
    attrib = {"type": "vector", "styleCategories": "AllStyleCategories", "readOnly": "0",
              "hasScaleBasedVisibilityFlag": "0", "minScale": "100000000", "maxScale": "0",
              "autoRefreshEnabled": "0", "autoRefreshTime": "0",
              "refreshOnNotifyEnabled": "0", "refreshOnNotifyMessage": "",
              "legendPlaceholderImage": "", "symbologyReferenceScale": "-1"}
    if style is not None:
        kind = geometry_kind(set(layer.frame.geom_type.dropna()))
        attrib.update({k: v for k, v in style.attrib.items() if k not in ("version",)})
        attrib.update(geometry=_GEOMETRY[kind], wkbType=_WKB[kind])
    else:
        attrib.update(geometry="No geometry", wkbType="NoGeometry", labelsEnabled="0")
    ml = ET.Element("maplayer", attrib=attrib)
    if style is not None:
        _extent(ml, layer.frame.total_bounds)
    ET.SubElement(ml, "id").text = layer_id(layer.name)
    ET.SubElement(ml, "datasource").text = source
    ET.SubElement(ml, "keywordList")
    ET.SubElement(ml, "layername").text = layer.label
    if style is not None:
        _srs(ET.SubElement(ml, "srs"), crs)
    meta = layer.qgis_metadata()
    ml.append(resource_metadata(meta))
    ET.SubElement(ml, "provider", encoding="UTF-8").text = "ogr"
    rights = _rights(meta)
    if rights:
        ET.SubElement(ml, "attribution", href="").text = "; ".join(rights)
    ET.SubElement(ml, "abstract").text = meta.get("abstract", "")
    ET.SubElement(ml, "vectorjoins")
    ET.SubElement(ml, "layerDependencies")
    ET.SubElement(ml, "dataDependencies")
    ET.SubElement(ml, "expressionfields")
    manager = ET.SubElement(ml, "map-layer-style-manager", current="default")
    ET.SubElement(manager, "map-layer-style", name="default")
    flags = ET.SubElement(ml, "flags")
    for flag, value in (("Identifiable", "1"), ("Removable", "1"), ("Searchable", "1"),
                        ("Private", "0")):
        ET.SubElement(flags, flag).text = value
    if style is not None:
        for child in style:
            if child.tag != "resourceMetadata":
                ml.append(child)
    else:
        ml.append(_table_aliases(layer))
    return ml


def _tree_layer(parent: ET.Element, layer: ExportLayer, source: str) -> None:
    node = ET.SubElement(parent, "layer-tree-layer", attrib={
        "id": layer_id(layer.name), "name": layer.label, "source": source,
        "providerKey": "ogr", "checked": "Qt::Checked" if layer.visible else "Qt::Unchecked",
        "expanded": "1" if layer.visible and layer.style is not None
        and layer.style.kind != "single" else "0",
        "legend_exp": "", "patch_size": "-1,-1", "legend_split_behavior": "0",
    })
    ET.SubElement(ET.SubElement(node, "customproperties"), "Option")


def project_xml(
    layers: Sequence[ExportLayer],
    gpkg: str | os.PathLike,
    *,
    title: str,
    crs: str,
    project_dir: str | os.PathLike | None = None,
    abstract: str = "",
) -> str:
    """Return the text of a QGIS project (``.qgs``) over the GeoPackage ``gpkg``.

    Parameters
    ----------
    layers
        The layers as written into ``gpkg`` (:func:`gis_planning.outputs.export.export_layers`,
        with their ``group`` and ``visible``), in the atlas's order.
    gpkg
        Path of the GeoPackage.
    title
        Project title (e.g. "Integrationsatlas Essen").
    crs
        The project's CRS (the catalogue's working CRS, e.g. ``"EPSG:25832"``).
    project_dir
        Folder the project will be written to: data sources are relative to it
        (default: the GeoPackage's folder).
    abstract
        Project description (shown in Project > Properties > Metadata).

    Returns
    -------
    str
        The project XML with its ``<!DOCTYPE qgis ...>`` line.

    Notes
    -----
    Group and layer order follow the atlas's layer control; the canvas drawing order is a
    custom order (points, then single-symbol outlines, then filled choropleths, each in tree
    order), so outlines and markers stay visible over the choropleth. The map extent is that
    of the visible layers.
    """
    if not layers:
        raise InputError("kein QGIS-Projekt ohne Ebenen: der Export ist leer.")
    unknown = sorted({x.group for x in layers} - set(PROJECT_GROUPS))
    if unknown:
        raise InputError(f"unbekannte Projektgruppe(n) {', '.join(unknown)}; erlaubt: "
                         f"{', '.join(PROJECT_GROUPS)}.")
    folder = Path(project_dir) if project_dir is not None else Path(gpkg).parent
    rel = os.path.relpath(Path(gpkg).resolve(), folder.resolve())
    rel = "./" + Path(rel).as_posix() if not rel.startswith("..") else Path(rel).as_posix()
    sources = {x.name: f"{rel}|layername={x.name}" for x in layers}

    root = ET.Element("qgis", attrib={"projectname": title, "version": _QGIS_VERSION})
    ET.SubElement(root, "homePath", path="")
    ET.SubElement(root, "title").text = title
    _srs(ET.SubElement(root, "projectCrs"), crs)

    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(ET.SubElement(tree, "customproperties"), "Option")
    for group in PROJECT_GROUPS:
        members = [x for x in layers if x.group == group]
        if not members:
            continue
        node = ET.SubElement(tree, "layer-tree-group", attrib={
            "name": group, "checked": "Qt::Checked",
            "expanded": "0" if group == "Tabellen" else "1"})
        ET.SubElement(ET.SubElement(node, "customproperties"), "Option")
        for layer in members:
            _tree_layer(node, layer, sources[layer.name])
    tree_order = [x for g in PROJECT_GROUPS for x in layers if x.group == g]
    spatial = [x for x in tree_order if x.spatial]
    drawing = sorted(spatial, key=draw_rank)  # stable: tree order within a rank
    custom = ET.SubElement(tree, "custom-order", enabled="1")
    for layer in drawing:
        ET.SubElement(custom, "item").text = layer_id(layer.name)

    shown = [x for x in spatial if x.visible] or spatial
    xs = [x.frame.total_bounds for x in shown]
    x0, y0 = min(b[0] for b in xs), min(b[1] for b in xs)
    x1, y1 = max(b[2] for b in xs), max(b[3] for b in xs)
    pad = 0.03 * max(x1 - x0, y1 - y0)
    canvas = ET.SubElement(root, "mapcanvas", name="theMapCanvas", annotationsVisible="1")
    ET.SubElement(canvas, "units").text = "meters"
    _extent(canvas, (x0 - pad, y0 - pad, x1 + pad, y1 + pad))
    ET.SubElement(canvas, "rotation").text = "0"
    _srs(ET.SubElement(canvas, "destinationsrs"), crs)
    ET.SubElement(canvas, "rendermaptile").text = "0"

    project_layers = ET.SubElement(root, "projectlayers")
    for layer in tree_order:
        project_layers.append(_maplayer(layer, sources[layer.name], crs))
    order = ET.SubElement(root, "layerorder")
    for layer in drawing:
        ET.SubElement(order, "layer", id=layer_id(layer.name))

    props = ET.SubElement(root, "properties")
    paths = ET.SubElement(props, "Paths")
    ET.SubElement(paths, "Absolute", type="bool").text = "false"
    srs = ET.SubElement(props, "SpatialRefSys")
    ET.SubElement(srs, "ProjectionsEnabled", type="int").text = "1"
    meta = ET.SubElement(root, "projectMetadata")
    ET.SubElement(meta, "identifier").text = title
    ET.SubElement(meta, "parentidentifier")
    ET.SubElement(meta, "language").text = "ger"
    ET.SubElement(meta, "type").text = "project"
    ET.SubElement(meta, "title").text = title
    ET.SubElement(meta, "abstract").text = abstract
    ET.SubElement(meta, "links")
    ET.SubElement(meta, "author").text = "gis_planning"
    ET.indent(root)
    return _DOCTYPE + "\n" + ET.tostring(root, encoding="unicode") + "\n"


def write_qgis_project(
    layers: Sequence[ExportLayer],
    gpkg: str | os.PathLike,
    path: str | os.PathLike | None = None,
    *,
    title: str,
    crs: str,
    abstract: str = "",
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
) -> Path:
    """Write the QGIS project over ``gpkg`` as ``.qgz`` (default: beside it, same name).

    Parameters
    ----------
    layers, gpkg, title, crs, abstract
        See :func:`project_xml`; ``gpkg`` must have been written from ``layers``.
    path
        Output ``.qgz`` (or ``.qgs`` for plain XML); default ``gpkg`` with suffix ``.qgz``.
    overwrite
        Replace an existing file (otherwise refused).
    inputs
        Input paths the output must not be.

    Returns
    -------
    pathlib.Path

    Notes
    -----
    A ``.qgz`` is a ZIP archive holding one ``<name>.qgs``; QGIS opens it directly. Data
    sources are relative to the project's folder.
    """
    gpkg = Path(gpkg)
    target = Path(path) if path is not None else gpkg.with_suffix(".qgz")
    if target.suffix.lower() not in (".qgz", ".qgs"):
        raise InputError(f"{str(target)!r}: ein QGIS-Projekt endet auf .qgz oder .qgs.")
    text = project_xml(layers, gpkg, title=title, crs=crs, project_dir=target.parent,
                       abstract=abstract)
    with atomic_path(target, overwrite=overwrite, inputs=[*inputs, gpkg]) as tmp:
        if target.suffix.lower() == ".qgs":
            tmp.write_text(text, encoding="utf-8")
        else:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                zf.writestr(f"{target.stem}.qgs", text.encode("utf-8"))
    log.info("QGIS-Projekt geschrieben: %s (%d Ebenen)", target, len(layers))
    return target
