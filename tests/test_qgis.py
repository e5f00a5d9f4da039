"""Real QGIS (PyQGIS under the system Python) loads every exported file with its style.

``tests/qgis_check.py`` runs under ``/usr/bin/python3`` (the venv cannot import ``qgis``) and
prints what QGIS sees as JSON. Skipped only where PyQGIS is missing, and never when
``GIS_PLANNING_REQUIRE_REAL_CLIENTS=1`` (CI).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gis_planning.data.catalog import load_city
from gis_planning.outputs import export, qgis_project, raster, raster_style
from gis_planning.outputs.qml import MISSING_LABEL

pytestmark = pytest.mark.qgis

SYSTEM_PYTHON = os.environ.get("GIS_PLANNING_QGIS_PYTHON", "/usr/bin/python3")
CHECK = Path(__file__).with_name("qgis_check.py")


def _qgis_available() -> str | None:
    """Return None if PyQGIS imports under the system Python, else the reason."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    try:
        proc = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], env=env,
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run {SYSTEM_PYTHON}: {exc}"
    if proc.returncode != 0:
        return f"{SYSTEM_PYTHON} cannot import qgis: {proc.stderr.strip().splitlines()[-1:]}"
    return None


@pytest.fixture(scope="module")
def qgis_python():
    reason = _qgis_available()
    if reason is not None:
        if os.environ.get("GIS_PLANNING_REQUIRE_REAL_CLIENTS") == "1":
            pytest.fail(f"PyQGIS required (GIS_PLANNING_REQUIRE_REAL_CLIENTS=1): {reason}")
        pytest.skip(f"PyQGIS not available: {reason}")
    return SYSTEM_PYTHON


def _run_check(python: str, paths: list[Path]) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    proc = subprocess.run([python, str(CHECK), *map(str, paths)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = [x for x in proc.stdout.splitlines() if x.startswith("{")][-1]
    return json.loads(line)


@pytest.fixture(scope="module")
def exported(catalog, zensus_catalog, tmp_path_factory):
    out = tmp_path_factory.mktemp("qgis")
    layers = export.export_layers(catalog)
    export.write_gpkg(layers, out / "essen.gpkg")
    qgis_project.write_qgis_project(layers, out / "essen.gpkg", title="Integrationsatlas Essen",
                                    crs=catalog.crs)
    files = export.write_geojson_dir(layers, out / "geojson")
    rasters = {}
    for name in raster.SURFACES:
        surface = raster.catalog_surface(zensus_catalog, name, cell_size=250)  # a flats grid
        rasters[name] = (surface, raster.write_cog(surface, out / f"{name}.tif"))
    return layers, out / "essen.gpkg", files, rasters


@pytest.fixture(scope="module")
def report(qgis_python, exported):
    _, gpkg, files, rasters = exported
    class_files = sorted(gpkg.parent.glob("*_klasse.tif"))
    paths = [gpkg, *[f for f in files if f.suffix in (".geojson", ".csv")],
             *[p for _, p in rasters.values()], *class_files, gpkg.with_suffix(".qgz")]
    return _run_check(qgis_python, paths)


def _expected(layer: export.ExportLayer) -> tuple[str, int, list[str] | None]:
    style = layer.style
    if style is None or style.kind == "single":
        return "singleSymbol", 1, None
    if style.kind == "categorized":
        return "categorizedSymbol", len(style.categories), [c.label for c in style.categories]
    labels = list(style.classification.labels)
    if layer.frame[style.column].isna().any():
        labels = [MISSING_LABEL, *labels]
    return "graduatedSymbol", len(labels), labels


def _check_vector(row: dict, layer: export.ExportLayer, crs: str) -> None:
    assert row["valid"], row
    assert row["features"] == len(layer.frame), layer.name
    if not layer.spatial:
        assert not row["spatial"] and row["crs"] is None, layer.name
        return
    assert row["crs"] == crs, layer.name
    renderer, classes, labels = _expected(layer)
    assert row["renderer"] == renderer, layer.name
    assert row["classes"] == classes, layer.name
    if labels is not None:
        assert row["legend"] == labels, layer.name
    assert row["drawn"] == row["features"], f"{layer.name}: features without a symbol"
    if layer.style is not None and layer.style.kind == "graduated":
        colors = list(layer.style.classification.colors)
        assert row["colors"][-len(colors):] == colors, layer.name
    if layer.style is not None and layer.style.label_column:
        assert row["labels_enabled"], layer.name


def test_qgis_loads_geopackage_with_default_styles(report, exported):
    layers, gpkg, _, _ = exported
    rows = {r["layer"]: r for r in report["vectors"] if r["source"] == str(gpkg)}
    assert sorted(rows) == sorted(x.name for x in layers)
    for layer in layers:
        _check_vector(rows[layer.name], layer, "EPSG:25832")
        meta = rows[layer.name]["metadata"]  # read by QGIS 3.22 from gpkg_metadata (QMD)
        assert meta["licenses"] == [layer.metadata["licence"]], layer.name
        assert rows[layer.name]["rights"] and not rows[layer.name].get("qmd_sidecar")
    assert rows["stadtteile"]["aliases"]["stadtteil"] == "Stadtteil"
    assert rows["kitas"]["title"] == "Kitas"
    assert "projektwohnungen" not in rows  # points never leave


def test_qgis_loads_geojson_with_sidecar_styles(report, exported):
    layers, _, _, _ = exported
    rows = {r["layer"]: r for r in report["vectors"] if "geojson" in Path(r["source"]).parts}
    assert len(rows) == len(layers)
    for layer in layers:
        _check_vector(rows[layer.name], layer, "EPSG:4326")
        assert rows[layer.name]["qmd_sidecar"], layer.name  # default metadata from .qmd
        assert rows[layer.name]["metadata"]["licenses"] == [layer.metadata["licence"]]


def _blend(colour: str, alpha: float) -> tuple[int, int, int]:
    rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    return tuple(round(alpha * c + (1 - alpha) * 255) for c in rgb)


def _has_colour(colours: dict[str, int], rgb: tuple[int, int, int], tol: int = 6) -> bool:
    for name in colours:
        got = [int(name[i:i + 2], 16) for i in (1, 3, 5)]
        if all(abs(a - b) <= tol for a, b in zip(got, rgb, strict=True)):
            return True
    return False


def _check_project(row: dict, layers: list[export.ExportLayer]) -> None:
    assert row["read"], row
    assert row["crs"] in ("EPSG:25832",)
    by_label = {x.label: x for x in layers}
    assert sorted(row["layers"]) == sorted(by_label)
    groups = [g["group"] for g in row["tree"]]
    assert groups == [g for g in qgis_project.PROJECT_GROUPS if any(x.group == g for x in layers)]
    for g in row["tree"]:
        want = [(x.label, x.visible) for x in layers if x.group == g["group"]]
        assert [(c["layer"], c["visible"]) for c in g["children"]] == want
    assert row["custom_order"]
    for label, lrow in row["layers"].items():
        layer = by_label[label]
        assert lrow["valid"], label
        assert lrow["features"] == len(layer.frame), label
        assert lrow["metadata"]["title"] == layer.label
        assert lrow["metadata"]["licenses"] == [layer.metadata["licence"]], label
        assert lrow["metadata"]["rights"] and lrow["attribution"], label
        fields = [f for f in lrow["fields"] if f != "fid"]
        assert sorted(lrow["aliases"]) == sorted(fields), label
        if layer.spatial:
            renderer, classes, _ = _expected(layer)
            assert (lrow["renderer"], lrow["classes"]) == (renderer, classes), label
            assert lrow["drawn"] == lrow["features"], label
    render = row["render"]
    assert not render["errors"]
    assert render["non_white_share"] > 0.25, render
    choropleth = next(x for x in layers if x.name == export.BEZIRK_LAYER)
    style = choropleth.style
    for colour in style.classification.colors:
        assert _has_colour(render["colours"], _blend(colour, style.fill_opacity)), colour
    assert Path(render["png"]).stat().st_size > 10_000


def test_qgis_opens_project_styled_with_metadata_and_renders(report, exported):
    layers, gpkg, _, _ = exported
    rows = [r for r in report["projects"] if r["source"] == str(gpkg.with_suffix(".qgz"))]
    assert len(rows) == 1
    row = rows[0]
    assert row["title"] == "Integrationsatlas Essen"
    _check_project(row, layers)
    assert row["render"]["rendered_layers"] == [
        "Stadtgrenze", "Stadtbezirke", "Stadtteile",
        next(x.label for x in layers if x.name == export.BEZIRK_LAYER)]
    assert row["drawing_order"][:2] == ["Kitas", "Schulen"]
    kitas = row["layers"]["Kitas"]
    assert kitas["metadata"]["temporal"] == [["2024-01-01", "2025-12-31"]]
    assert "Stand: 2024/2025" in kitas["metadata"]["history"]


def test_qgis_project_of_another_city(qgis_python, tmp_path):
    cat = load_city(Path(__file__).parent / "data" / "musterstadt" / "pack.json")
    with pytest.warns(UserWarning, match="außerhalb"):
        layers = export.export_layers(cat)
    export.write_gpkg(layers, tmp_path / "m.gpkg")
    qgz = qgis_project.write_qgis_project(layers, tmp_path / "m.gpkg", title="Musterstadt",
                                          crs=cat.crs)
    report = _run_check(qgis_python, [qgz])
    _check_project(report["projects"][0], layers)


def test_qgis_loads_rasters(report, exported):
    _, _, _, rasters = exported
    rows = {Path(r["source"]).stem: r for r in report["rasters"]}
    classes = {raster_style.class_raster_name(surface, band): (surface, band)
               for surface, _ in rasters.values() for band in raster_style.class_bands(surface)}
    assert sorted(rows) == sorted([*rasters, *classes])
    for name, (surface, _) in rasters.items():
        row = rows[name]
        style = raster_style.band_style(surface, 0)
        assert row["renderer"] == "singlebandpseudocolor", name  # never a red/green composite
        assert row["band"] == 1
        assert [c[2] for c in row["classes"]] == list(style.colors), name
        assert [c[1] for c in row["classes"]] == list(style.labels), name
        assert row["metadata"]["title"] == surface.tags["title"], name
    for name, (surface, band) in classes.items():
        row = rows[name]
        assert row["valid"] and row["bands"] == 1, name
        assert row["data_types"] == [1], name  # Byte
        assert row["color_interpretation"] == ["Palette"], name
        assert row["renderer"] == "paletted", name
        codes = raster_style.class_bands(surface)[band]
        style = raster_style.band_style(surface, band)
        assert [c[1] for c in row["classes"]] == list(codes.values()), name
        assert [c[2] for c in row["classes"]] == list(style.colors), name
        assert row["legend"] == list(codes.values())
    for name, (surface, _) in rasters.items():
        row = rows[name]
        assert row["valid"], row
        assert row["crs"] == str(surface.grid.crs)  # census-cell surfaces: EPSG:3035
        assert row["bands"] == len(surface.bands)
        assert (row["width"], row["height"]) == (surface.grid.width, surface.grid.height)
        assert row["pixel_size"] == [250.0, 250.0]
        assert row["nodata"] == [raster.NODATA] * len(surface.bands)
        for got, desc in zip(row["band_names"], surface.bands, strict=True):
            assert desc in got


def test_check_script_reports_invalid_files(qgis_python, tmp_path):
    bad = tmp_path / "kaputt.gpkg"
    bad.write_bytes(b"not a geopackage")
    tif = tmp_path / "kaputt.tif"
    tif.write_bytes(b"II*\x00garbage")
    rep = _run_check(qgis_python, [bad, tif])
    assert rep["vectors"] == [{"source": str(bad), "layer": None, "valid": False}]
    assert rep["rasters"][0]["valid"] is False


def test_skip_logic_requires_qgis_in_ci(monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "SYSTEM_PYTHON", "/nonexistent/python3")
    assert "not found" in _qgis_available()
