"""Load exported files in real QGIS (PyQGIS) and print what QGIS sees as JSON.

Run with the system Python that has PyQGIS (Debian ``python3-qgis``), not the venv::

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_check.py out.gpkg dir/*.geojson x.tif

Every GeoPackage sublayer, GeoJSON / CSV file and GeoTIFF is loaded the way a QGIS user would
(default style applied automatically: ``layer_styles`` in a GeoPackage, a sidecar ``.qml``
beside a GeoJSON or GeoTIFF; default metadata from the GeoPackage or a sidecar ``.qmd``).
For each vector layer the JSON reports validity, feature count, CRS, renderer type, number of
classes, legend labels, how many features the renderer actually draws, labelling and metadata;
for each raster validity, CRS, size, band count, band names, nodata and its renderer (type,
band, classes, colours). A QGIS project (``.qgz`` / ``.qgs``) is opened as QGIS opens it: the
JSON lists its layer tree (groups, layers, visibility), drawing order, each layer's validity,
renderer, aliases and metadata, and the visible layers are rendered to ``<project>.png``
(``QgsMapRendererParallelJob``) with counts of non-white pixels and colours. The pytest side
(``tests/test_qgis.py``) asserts on it.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # after the env var above
    Qgis,
    QgsApplication,
    QgsDataProvider,
    QgsExpressionContextUtils,
    QgsLayerTreeGroup,
    QgsLayerTreeLayer,
    QgsMapLayer,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsRasterLayer,
    QgsRenderContext,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def _metadata(layer: QgsMapLayer) -> dict:
    m = layer.metadata()
    return {
        "title": m.title(),
        "abstract": m.abstract(),
        "rights": list(m.rights()),
        "licenses": list(m.licenses()),
        "history": list(m.history()),
        "keywords": {k: list(v) for k, v in m.keywords().items()},
        "temporal": [[t.begin().toString("yyyy-MM-dd"), t.end().toString("yyyy-MM-dd")]
                     for t in m.extent().temporalExtents()],
    }


def _renderer_info(layer: QgsVectorLayer) -> dict:
    renderer = layer.renderer()
    if renderer is None:
        return {"renderer": None}
    info = {"renderer": renderer.type()}
    if renderer.type() == "graduatedSymbol":
        ranges = renderer.ranges()
        info["classes"] = len(ranges)
        info["bounds"] = [[r.lowerValue(), r.upperValue()] for r in ranges]
        info["colors"] = [r.symbol().color().name() for r in ranges]
        info["attr"] = renderer.classAttribute()
    elif renderer.type() == "categorizedSymbol":
        cats = renderer.categories()
        info["classes"] = len(cats)
        info["colors"] = [c.symbol().color().name() for c in cats]
        info["attr"] = renderer.classAttribute()
    else:
        info["classes"] = 1
        sym = renderer.symbol() if hasattr(renderer, "symbol") else None
        info["colors"] = [sym.color().name()] if sym is not None else []
    info["legend"] = [item.label() for item in renderer.legendSymbolItems()]
    ctx = QgsRenderContext()
    ctx.expressionContext().appendScopes(
        QgsExpressionContextUtils.globalProjectLayerScopes(layer)
    )
    clone = renderer.clone()
    clone.startRender(ctx, layer.fields())
    drawn = 0
    for feature in layer.getFeatures():
        ctx.expressionContext().setFeature(feature)
        if clone.willRenderFeature(feature, ctx):
            drawn += 1
    clone.stopRender(ctx)
    info["drawn"] = drawn
    return info


def _vector(uri: str, name: str, source: str) -> dict:
    layer = QgsVectorLayer(uri, name, "ogr")
    out = {
        "source": source,
        "layer": name,
        "valid": layer.isValid(),
    }
    if not layer.isValid():
        return out
    out.update(
        features=layer.featureCount(),
        crs=layer.crs().authid() if layer.crs().isValid() else None,
        spatial=layer.isSpatial(),
        fields=[f.name() for f in layer.fields()],
        aliases={f.name(): layer.attributeAlias(i) for i, f in enumerate(layer.fields())
                 if layer.attributeAlias(i)},
        labels_enabled=layer.labelsEnabled(),
        title=layer.metadata().title(),
        rights=list(layer.metadata().rights()),
    )
    if not out["rights"] and os.path.exists(os.path.splitext(source)[0] + ".qmd"):
        layer.loadDefaultMetadata()  # what QGIS does with a sidecar .qmd of a file layer
        out["rights"] = list(layer.metadata().rights())
        out["qmd_sidecar"] = True
    out["metadata"] = _metadata(layer)
    if layer.isSpatial():
        out.update(_renderer_info(layer))
    return out


def _gpkg(path: str) -> list[dict]:
    probe = QgsVectorLayer(path, "probe", "ogr")
    rows = []
    sep = QgsDataProvider.SUBLAYER_SEPARATOR
    for sub in probe.dataProvider().subLayers() if probe.isValid() else []:
        parts = sub.split(sep)
        name = parts[1]
        if name == "layer_styles":
            continue
        rows.append(_vector(f"{path}|layername={name}", name, path))
    if not rows:
        rows.append({"source": path, "layer": None, "valid": False})
    return rows


def _raster(path: str) -> dict:
    layer = QgsRasterLayer(path, os.path.basename(path), "gdal")
    out = {"source": path, "valid": layer.isValid()}
    if not layer.isValid():
        return out
    prov = layer.dataProvider()
    out.update(
        crs=layer.crs().authid(),
        bands=layer.bandCount(),
        width=layer.width(),
        height=layer.height(),
        band_names=[layer.bandName(i) for i in range(1, layer.bandCount() + 1)],
        nodata=[prov.sourceNoDataValue(i) if prov.sourceHasNoDataValue(i) else None
                for i in range(1, layer.bandCount() + 1)],
        pixel_size=[layer.rasterUnitsPerPixelX(), layer.rasterUnitsPerPixelY()],
        data_types=[int(prov.dataType(i)) for i in range(1, layer.bandCount() + 1)],
        color_interpretation=[prov.colorInterpretationName(i)
                              for i in range(1, layer.bandCount() + 1)],
    )
    out.update(_raster_renderer(layer))
    if os.path.exists(os.path.splitext(path)[0] + ".qmd"):
        layer.loadDefaultMetadata()
    out["metadata"] = _metadata(layer)
    return out


def _raster_renderer(layer: QgsRasterLayer) -> dict:
    r = layer.renderer()
    if r is None:
        return {"renderer": None}
    info = {"renderer": r.type(), "legend": [label for label, _ in r.legendSymbologyItems()]}
    if r.type() == "paletted":
        info["band"] = r.band()
        info["classes"] = [[c.value, c.label, c.color.name()] for c in r.classes()]
    elif r.type() == "singlebandpseudocolor":
        info["band"] = r.band()
        shader = r.shader().rasterShaderFunction()
        items = shader.colorRampItemList()
        info["classes"] = [[i.value, i.label, i.color.name()] for i in items]
        info["min_max"] = [r.classificationMin(), r.classificationMax()]
        info["ramp_type"] = int(shader.colorRampType())
    elif r.type() == "multibandcolor":
        info["rgb_bands"] = [r.redBand(), r.greenBand(), r.blueBand()]
    elif r.type() == "singlebandgray":
        info["band"] = r.grayBand()
    return info


def _tree(group: QgsLayerTreeGroup) -> list[dict]:
    out = []
    for child in group.children():
        if isinstance(child, QgsLayerTreeGroup):
            out.append({"group": child.name(), "children": _tree(child)})
        elif isinstance(child, QgsLayerTreeLayer):
            out.append({"layer": child.name(), "id": child.layerId(),
                        "visible": child.isVisible()})
    return out


def _render(project: QgsProject, png: str) -> dict:
    root = project.layerTreeRoot()
    layers = [lyr for lyr in root.layerOrder()
              if root.findLayer(lyr.id()) is not None and root.findLayer(lyr.id()).isVisible()]
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(project.crs())
    settings.setBackgroundColor(QColor(255, 255, 255))
    settings.setOutputSize(QSize(800, 800))
    extent = project.viewSettings().defaultViewExtent()
    if extent.isEmpty():
        extent = settings.fullExtent()
    settings.setExtent(extent)
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    image.save(png, "PNG")
    counts: dict[str, int] = {}
    non_white = 0
    step = 2
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            c = QColor(image.pixel(x, y))
            if (c.red(), c.green(), c.blue()) != (255, 255, 255):
                non_white += 1
            key = c.name()
            counts[key] = counts.get(key, 0) + 1
    total = (image.height() // step + image.height() % step) * (
        image.width() // step + image.width() % step)
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:40]
    return {"png": png, "rendered_layers": [lyr.name() for lyr in layers],
            "non_white_share": non_white / max(total, 1), "colours": dict(top),
            "n_colours": len(counts), "errors": [e.message for e in job.errors()]}


def _project(path: str) -> dict:
    project = QgsProject.instance()
    project.clear()
    ok = project.read(path)
    out = {"source": path, "read": bool(ok), "title": project.title(),
           "crs": project.crs().authid()}
    if not ok:
        return out
    root = project.layerTreeRoot()
    out["tree"] = _tree(root)
    out["custom_order"] = root.hasCustomLayerOrder()
    out["drawing_order"] = [lyr.name() for lyr in root.layerOrder()]
    layers = {}
    for lyr in project.mapLayers().values():
        row = {"valid": lyr.isValid(), "source": lyr.source(), "metadata": _metadata(lyr),
               "attribution": lyr.attribution()}
        if isinstance(lyr, QgsVectorLayer) and lyr.isValid():
            row.update(features=lyr.featureCount(), spatial=lyr.isSpatial(),
                       fields=[f.name() for f in lyr.fields()],
                       aliases={f.name(): lyr.attributeAlias(i)
                                for i, f in enumerate(lyr.fields())
                                if lyr.attributeAlias(i)},
                       labels_enabled=lyr.labelsEnabled())
            if lyr.isSpatial():
                row.update(_renderer_info(lyr))
        layers[lyr.name()] = row
    out["layers"] = layers
    out["render"] = _render(project, os.path.splitext(path)[0] + ".png")
    project.clear()
    return out


def main(paths: list[str]) -> int:
    app = QgsApplication([], False)
    app.initQgis()
    report = {"qgis": Qgis.QGIS_VERSION, "vectors": [], "rasters": [], "projects": []}
    for path in paths:
        low = path.lower()
        if low.endswith(".gpkg"):
            report["vectors"].extend(_gpkg(path))
        elif low.endswith((".geojson", ".json", ".csv")):
            name = os.path.splitext(os.path.basename(path))[0]
            report["vectors"].append(_vector(path, name, path))
        elif low.endswith((".tif", ".tiff")):
            report["rasters"].append(_raster(path))
        elif low.endswith((".qgz", ".qgs")):
            report["projects"].append(_project(path))
    print(json.dumps(report, ensure_ascii=False))
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
