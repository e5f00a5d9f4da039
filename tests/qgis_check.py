"""Load exported files in real QGIS (PyQGIS) and print what QGIS sees as JSON.

Run with the system Python that has PyQGIS (Debian ``python3-qgis``), not the venv::

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_check.py out.gpkg dir/*.geojson x.tif

Every GeoPackage sublayer, GeoJSON / CSV file and GeoTIFF is loaded the way a QGIS user would
(default style applied automatically: ``layer_styles`` in a GeoPackage, a sidecar ``.qml``
beside a GeoJSON). For each vector layer the JSON reports validity, feature count, CRS,
renderer type, number of classes, legend labels, how many features the renderer actually
draws, labelling and metadata; for each raster validity, CRS, size, band count, band names
and nodata. The pytest side (``tests/test_qgis.py``) asserts on it.
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
    QgsRasterLayer,
    QgsRenderContext,
    QgsVectorLayer,
)


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
    )
    return out


def main(paths: list[str]) -> int:
    app = QgsApplication([], False)
    app.initQgis()
    report = {"qgis": Qgis.QGIS_VERSION, "vectors": [], "rasters": []}
    for path in paths:
        low = path.lower()
        if low.endswith(".gpkg"):
            report["vectors"].extend(_gpkg(path))
        elif low.endswith((".geojson", ".json", ".csv")):
            name = os.path.splitext(os.path.basename(path))[0]
            report["vectors"].append(_vector(path, name, path))
        elif low.endswith((".tif", ".tiff")):
            report["rasters"].append(_raster(path))
    print(json.dumps(report, ensure_ascii=False))
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
