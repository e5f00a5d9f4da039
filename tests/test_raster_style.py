"""QGIS styles beside every GeoTIFF: continuous classes, class bands, integer class files."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely

from gis_planning._errors import OutputExistsError
from gis_planning.outputs import raster, raster_style, styles

CRS = "EPSG:25832"


def _grid(n: int = 6, cell: float = 100.0) -> raster.RasterGrid:
    domain = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, n * cell, n * cell)], crs=CRS)
    return raster.raster_grid(domain, cell_size=cell)


def _class_surface(tags: dict | None = None) -> raster.Surface:
    g = _grid()
    z = np.linspace(-4, 4, 36).reshape(6, 6)
    code = np.where(z > 1.96, 1.0, np.where(z < -1.96, -1.0, 0.0))
    code[0, 0] = np.nan  # nodata: too small
    lisa = np.where(z > 1.96, 1.0, np.where(z < -1.96, 3.0, 0.0))
    return raster.Surface(
        "muster_hotspots", np.stack([z, code, lisa]), g,
        ("Gi*-z-Wert", "Gi*-Klasse", "LISA-Klasse"), ("z", "Klasse", "Klasse"),
        ("value", "value", "value"),
        tags if tags is not None else {
            "title": "Hotspots", "method": "Gi*",
            "klassen_gi": "1=Hotspot; -1=Kältepunkt; 0=nicht signifikant; nodata=zu klein",
            "klassen_lisa": "1=Hoch-Hoch; 2=Niedrig-Hoch; 3=Niedrig-Niedrig; "
                            "4=Hoch-Niedrig; 0=nicht signifikant"})


def _root(text: str) -> ET.Element:
    assert text.startswith("<!DOCTYPE qgis")
    return ET.fromstring(text.split("\n", 1)[1])


def test_class_bands_from_tags():
    s = _class_surface()
    bands = raster_style.class_bands(s)
    assert sorted(bands) == [1, 2]
    assert bands[1] == {1: "Hotspot", -1: "Kältepunkt", 0: "nicht signifikant"}
    assert bands[2][3] == "Niedrig-Niedrig" and len(bands[2]) == 5
    one = raster.Surface("k", s.data[1:2], s.grid, ("Klasse",), ("Klasse",), ("class",),
                         {"klassen": "1=A; -1=B; 0=C"})
    assert raster_style.class_bands(one) == {0: {1: "A", -1: "B", 0: "C"}}
    by_number = raster.Surface("k", s.data[:2], s.grid, ("z", "Klassen"), ("z", "Klasse"),
                               ("value", "value"), {"klassen_band2": "0=x; 1=y"})
    assert raster_style.class_bands(by_number) == {1: {0: "x", 1: "y"}}
    untagged = raster.Surface("k", s.data[1:2], s.grid, ("Klasse",), ("Klasse",), ("class",))
    assert raster_style.class_bands(untagged) == {
        0: {-1: "Klasse -1", 0: "Klasse 0", 1: "Klasse 1"}}


def test_class_colours_are_the_atlas_colours():
    style = raster_style.band_style(_class_surface(), 1)
    atlas = {c.label.split(" (")[0]: c.color for c in styles.GI_CATEGORIES}
    assert dict(zip(style.labels, style.colors, strict=True)) == {
        k: atlas[k] for k in ("Hotspot", "Kältepunkt", "nicht signifikant")}
    lisa = raster_style.band_style(_class_surface(), 2)
    lisa_atlas = {c.label: c.color for c in styles.LISA_CATEGORIES}
    assert all(lisa_atlas[label] == colour
               for label, colour in zip(lisa.labels, lisa.colors, strict=True))


def test_continuous_band_discrete_classes_match_classify():
    g = _grid()
    values = np.arange(36, dtype=float).reshape(6, 6) ** 2
    s = raster.Surface("d", values[None], g, ("Einwohner je km²",), ("Personen/km²",),
                       ("density",))
    style = raster_style.band_style(s, 0)
    import pandas as pd

    want = styles.classify(pd.Series(values.ravel()), k=5, palette="YlOrRd", decimals=0,
                           unit="Personen/km²")
    assert style.values == want.bins and style.colors == want.colors
    assert style.labels == want.labels
    root = _root(raster_style.raster_qml(style))
    rend = root.find("pipe/rasterrenderer")
    assert rend.get("type") == "singlebandpseudocolor" and rend.get("band") == "1"
    shader = rend.find("rastershader/colorrampshader")
    assert shader.get("colorRampType") == "DISCRETE"
    items = shader.findall("item")
    assert [i.get("color") for i in items] == list(want.colors)
    assert [float(i.get("value")) for i in items[:-1]] == list(want.bins[:-1])
    assert items[-1].get("value") == "inf"


def test_z_band_uses_significance_bounds():
    g = _grid()
    z = np.linspace(-4, 4, 36).reshape(6, 6)
    s = raster.Surface("z", z[None], g, ("Gi*-z-Wert",), ("z",), ("value",))
    style = raster_style.band_style(s, 0)
    assert style.values == (-2.576, -1.96, 1.96, 2.576, 4.0)
    assert style.colors[0] == "#2c7fb8" and style.colors[-1] == "#d7301f"


def test_write_cog_writes_styles_and_integer_class_files(tmp_path):
    s = _class_surface()
    path = raster.write_cog(s, tmp_path / "hot.tif")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([
        "hot.tif", "hot.qml", "hot.qmd",
        "muster_hotspots_gi_klasse.tif", "muster_hotspots_gi_klasse.qml",
        "muster_hotspots_gi_klasse.qmd", "muster_hotspots_gi_klasse.tif.aux.xml",
        "muster_hotspots_lisa_klasse.tif", "muster_hotspots_lisa_klasse.qml",
        "muster_hotspots_lisa_klasse.qmd", "muster_hotspots_lisa_klasse.tif.aux.xml"])
    main = _root((tmp_path / "hot.qml").read_text(encoding="utf-8"))
    assert main.find("pipe/rasterrenderer").get("type") == "singlebandpseudocolor"
    gi = tmp_path / "muster_hotspots_gi_klasse.tif"
    with rasterio.open(gi) as ds:
        assert ds.dtypes == ("uint8",) and ds.nodata == raster_style.CLASS_NODATA
        data = ds.read(1)
        cmap = ds.colormap(1)
        tags = ds.tags()
    code = s.band(1)
    # codes -1, 0, 1 are stored shifted by 1 (a Byte band has no negative values)
    assert tags["klassen"] == "2=Hotspot; 0=Kältepunkt; 1=nicht signifikant"
    assert "Klassencode + 1" in tags["codeverschiebung"]
    assert (data[np.isnan(code)] == 255).all()
    assert np.array_equal(data[np.isfinite(code)], (code[np.isfinite(code)] + 1).astype(int))
    assert cmap[2][:3] == (0xd7, 0x30, 0x1f) and cmap[0][:3] == (0x2c, 0x7f, 0xb8)
    qml = _root(gi.with_suffix(".qml").read_text(encoding="utf-8"))
    rend = qml.find("pipe/rasterrenderer")
    assert rend.get("type") == "paletted"
    entries = {e.get("value"): (e.get("label"), e.get("color"))
               for e in rend.findall("colorPalette/paletteEntry")}
    assert entries == {"2": ("Hotspot", "#d7301f"), "0": ("Kältepunkt", "#2c7fb8"),
                       "1": ("nicht signifikant", "#f0f0f0")}
    aux = ET.fromstring(gi.with_name(gi.name + ".aux.xml").read_text(encoding="utf-8"))
    assert [c.text for c in aux.iter("Category")] == [
        "Kältepunkt", "nicht signifikant", "Hotspot"]
    lisa = tmp_path / "muster_hotspots_lisa_klasse.tif"
    with rasterio.open(lisa) as ds:
        assert ds.tags()["klassen"].startswith("1=Hoch-Hoch")  # codes >= 0 kept
        assert "codeverschiebung" not in ds.tags()
    qmd = _root((tmp_path / "hot.qmd").read_text(encoding="utf-8"))
    assert qmd.findtext("title") == "Hotspots"
    assert path == tmp_path / "hot.tif"


def test_existing_style_file_refused_before_anything_is_written(tmp_path):
    s = _class_surface()
    (tmp_path / "muster_hotspots_lisa_klasse.qml").write_text("alt", encoding="utf-8")
    with pytest.raises(OutputExistsError):
        raster.write_cog(s, tmp_path / "hot.tif")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["muster_hotspots_lisa_klasse.qml"]
    raster.write_cog(s, tmp_path / "hot.tif", overwrite=True)
    assert (tmp_path / "muster_hotspots_lisa_klasse.qml").read_text(
        encoding="utf-8").startswith("<!DOCTYPE qgis")


def test_class_band_first_is_drawn_as_exact_classes(tmp_path):
    s = _class_surface()
    only = raster.Surface("k", s.data[1:2], s.grid, ("Gi*-Klasse",), ("Klasse",), ("value",),
                          {"klassen": s.tags["klassen_gi"]})
    raster.write_cog(only, tmp_path / "k.tif")
    root = _root((tmp_path / "k.qml").read_text(encoding="utf-8"))
    shader = root.find("pipe/rasterrenderer/rastershader/colorrampshader")
    assert shader.get("colorRampType") == "EXACT"
    assert [(float(i.get("value")), i.get("label")) for i in shader.findall("item")] == [
        (1.0, "Hotspot"), (-1.0, "Kältepunkt"), (0.0, "nicht signifikant")]
