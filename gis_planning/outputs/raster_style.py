"""QGIS styles for the GeoTIFF surfaces: every raster opens styled, class bands as classes.

:func:`write_raster_style` is called by :func:`gis_planning.outputs.raster.write_cog` for each
surface it writes (``surface.tif``) and writes beside it:

* ``surface.qml`` - QGIS loads it as the raster's default style: band 1 in classes with the
  atlas's colours (a continuous band as ``singlebandpseudocolor`` with discrete Fisher-Jenks
  classes of the ColorBrewer palette the atlas uses for the same kind of value; a class band
  as exact values with their category names);
* ``surface.qmd`` - its metadata (title, method, source, licence, Stand) for QGIS;
* for every **class band** (codes of categories, see :func:`class_bands`) an integer GeoTIFF
  ``surface_<band>.tif`` (Byte, nodata 255) with the category colours as its colour table and
  the category names (``surface_<band>.tif.aux.xml``), and its ``.qml`` (a ``paletted``
  renderer) and ``.qmd`` - so a class surface opens as named classes, never as a float band
  or a red/green composite. A GeoTIFF has one data type for all its bands, so the class
  bands of a surface that also holds continuous bands cannot be integer in the same file.

A band is a class band when its kind is ``"class"`` or its unit is ``"Klasse"``; its codes and
names come from the surface's tags: ``klassen_band<i>`` (1-based band number), else
``klassen_<name>`` where the band description starts with ``<name>`` (``klassen_gi`` for
"Gi*-Klasse"), else ``klassen`` when the surface has one class band; each tag reads
``"1=Hotspot; -1=Kältepunkt; 0=nicht signifikant; nodata=zu klein"``. Colours of known
categories (Gi*, local Moran) are the atlas's (:mod:`gis_planning.outputs.styles`); others get
a colour-blind-safe qualitative palette.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

import numpy as np

from .._atomic import atomic_path, check_output_path
from .._errors import InputError
from ..labels import fmt_number
from . import styles
from .qml import _DOCTYPE, _QGIS_VERSION, metadata_qmd

if TYPE_CHECKING:  # pragma: no cover
    from .raster import Surface

__all__ = [
    "CLASS_NODATA",
    "RasterClasses",
    "band_style",
    "class_bands",
    "class_raster_name",
    "raster_qml",
    "style_targets",
    "write_raster_style",
]

log = logging.getLogger(__name__)

#: Nodata value of the integer class GeoTIFFs (Byte).
CLASS_NODATA = 255

#: Colour-blind-safe qualitative colours (ColorBrewer Set2, then Dark2) for unknown classes.
QUALITATIVE = ("#66c2a5", "#fc8d62", "#8da0cb", "#e78ac3", "#a6d854", "#ffd92f", "#e5c494",
               "#b3b3b3", "#1b9e77", "#d95f02", "#7570b3", "#e7298a")

#: Sample size for the Fisher-Jenks classes of a continuous band (order statistics).
_SAMPLE = 4000


@dataclass(frozen=True)
class RasterClasses:
    """How one band is drawn: upper bounds (continuous) or codes (classes), colours, labels."""

    band: int
    kind: str  # "continuous" or "classes"
    values: tuple[float, ...]
    colors: tuple[str, ...]
    labels: tuple[str, ...]
    title: str = ""


def _slug(text: str) -> str:
    t = text.lower().translate(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss",
                                              "*": ""}))
    return re.sub(r"[^a-z0-9]+", "_", t).strip("_") or "klasse"


def _parse_codes(text: str) -> dict[int, str]:
    out: dict[int, str] = {}
    for part in str(text).split(";"):
        code, sep, label = part.partition("=")
        code = code.strip()
        if not sep or not re.fullmatch(r"[+-]?\d+", code):
            continue  # "nodata=..." and free text
        out[int(code)] = label.strip()
    return out


def class_bands(surface: Surface) -> dict[int, dict[int, str]]:
    """Return the class bands of ``surface``: 0-based band index -> {code: name}.

    See the module docstring for how a class band and its codes are recognised. A class
    band without a code table gets its codes from the data ("Klasse 1", ...).
    """
    idx = [i for i, (kind, unit) in enumerate(zip(surface.kinds, surface.units, strict=True))
           if kind == "class" or str(unit).strip().lower() == "klasse"]
    out: dict[int, dict[int, str]] = {}
    tags = {str(k): str(v) for k, v in surface.tags.items()}
    for i in idx:
        text = tags.get(f"klassen_band{i + 1}")
        if text is None:
            norm = re.sub(r"[^a-z0-9]", "", surface.bands[i].lower())
            for key, value in tags.items():
                suffix = key[len("klassen_"):] if key.startswith("klassen_") else ""
                if suffix and norm.startswith(re.sub(r"[^a-z0-9]", "", suffix.lower())):
                    text = value
                    break
        if text is None and len(idx) == 1:
            text = tags.get("klassen")
        codes = _parse_codes(text) if text else {}
        if not codes:
            data = surface.data[i]
            found = np.unique(data[np.isfinite(data)])
            codes = {int(v): f"Klasse {int(v)}" for v in found if float(v).is_integer()}
        out[i] = codes
    return out


def _known_colour(label: str) -> str | None:
    known = [*getattr(styles, "GI_CATEGORIES", ()), *getattr(styles, "LISA_CATEGORIES", ())]
    low = label.lower()
    for cat in known:
        name = str(cat.label).lower()
        if name.startswith(low) or low.startswith(name.split(" (")[0]):
            return cat.color
    return None


def _class_colours(codes: Mapping[int, str]) -> list[str]:
    colours, spare = [], iter(QUALITATIVE)
    for label in codes.values():
        colour = _known_colour(label)
        colours.append(colour if colour else next(spare, "#999999"))
    return colours


#: Palette (of :data:`gis_planning.outputs.styles.PALETTES`) per band unit, as in the atlas.
_UNIT_PALETTES = {"1/km²": "Purples", "m": "PuBu", "personen/km²": "YlOrRd", "%": "YlOrRd"}

#: Gi*/z classes: two-sided 1 % and 5 % bounds, colours of the atlas's hot and cold spots.
_Z_BOUNDS = (-2.576, -1.96, 1.96, 2.576)
_Z_COLOURS = ("#2c7fb8", "#a6bddb", "#f0f0f0", "#fc9272", "#d7301f")


def _continuous(values: np.ndarray, band: int, unit: str, title: str) -> RasterClasses:
    finite = np.sort(values[np.isfinite(values)].ravel())
    if finite.size == 0:
        return RasterClasses(band, "continuous", (0.0,), ("#cccccc",), ("keine Werte",), title)
    if unit.strip().lower() == "z":
        lo, hi = float(finite[0]), float(finite[-1])
        uppers = [b for b in _Z_BOUNDS if lo < b < hi] + [max(hi, _Z_BOUNDS[-1])]
        colors, labels, prev = [], [], lo
        for b in uppers:
            pos = int(np.searchsorted(_Z_BOUNDS, b, side="left"))
            colors.append(_Z_COLOURS[min(pos, len(_Z_COLOURS) - 1)])
            labels.append(f"{fmt_number(prev, 2)} – {fmt_number(b, 2)}")
            prev = b
        return RasterClasses(band, "continuous", tuple(uppers), tuple(colors), tuple(labels),
                             title)
    if finite.size > _SAMPLE:  # evenly spaced order statistics keep min and max
        finite = finite[np.linspace(0, finite.size - 1, _SAMPLE).round().astype(int)]
    import pandas as pd

    palette = _UNIT_PALETTES.get(unit.strip().lower(), "YlOrRd")
    decimals = 0 if float(np.nanmax(np.abs(finite))) >= 100 else 1
    cls = styles.classify(pd.Series(finite, name=title), scheme="NaturalBreaks", k=5,
                          palette=palette, decimals=decimals, unit=unit.strip())
    return RasterClasses(band, "continuous", tuple(cls.bins), tuple(cls.colors),
                         tuple(cls.labels), title)


def band_style(surface: Surface, band: int = 0) -> RasterClasses:
    """How band ``band`` (0-based) of ``surface`` is drawn (classes, colours, labels)."""
    if not 0 <= band < len(surface.bands):
        raise InputError(f"Band {band + 1} gibt es nicht; die Oberfläche hat "
                         f"{len(surface.bands)} Bänder.")
    classes = class_bands(surface)
    title = surface.bands[band]
    if band in classes:
        codes = classes[band]
        return RasterClasses(band, "classes", tuple(float(c) for c in codes),
                             tuple(_class_colours(codes)), tuple(codes.values()), title)
    return _continuous(surface.data[band], band, surface.units[band], title)


def _min_max_origin(parent: ET.Element) -> None:
    mmo = ET.SubElement(parent, "minMaxOrigin")
    for tag, text in (("limits", "None"), ("extent", "WholeRaster"),
                      ("statAccuracy", "Estimated"), ("cumulativeCutLower", "0.02"),
                      ("cumulativeCutUpper", "0.98"), ("stdDevFactor", "2")):
        ET.SubElement(mmo, tag).text = text


def raster_qml(style: RasterClasses, *, band: int | None = None, paletted: bool = False,
               opacity: float = 1.0) -> str:
    """Return the QML text of a raster style.

    Parameters
    ----------
    style
        From :func:`band_style`.
    band
        1-based band number in the file (default ``style.band + 1``).
    paletted
        Class bands: a ``paletted`` renderer (integer band with a colour table) instead of
        exact values on a float band (``singlebandpseudocolor``, ``colorRampType="EXACT"``).
    opacity
        Layer opacity (0-1).

    Notes
    -----
    Continuous bands use a ``DISCRETE`` colour ramp: QGIS gives a pixel the colour of the
    first item whose value is at least the pixel value, so the items are the class upper
    bounds and a value equal to a bound falls in the lower class, as in mapclassify and the
    atlas legend; the last item is ``inf``.
    """
    number = str(band if band is not None else style.band + 1)
    root = ET.Element("qgis", attrib={"version": _QGIS_VERSION,
                                      "styleCategories": "AllStyleCategories",
                                      "hasScaleBasedVisibilityFlag": "0", "minScale": "1e+08",
                                      "maxScale": "0"})
    pipe = ET.SubElement(root, "pipe")
    provider = ET.SubElement(pipe, "provider")
    ET.SubElement(provider, "resampling", enabled="false", maxOversampling="2",
                  zoomedInResamplingMethod="nearestNeighbour",
                  zoomedOutResamplingMethod="nearestNeighbour")
    values = list(style.values)
    if style.kind == "classes" and paletted:
        rend = ET.SubElement(pipe, "rasterrenderer", type="paletted", band=number,
                             opacity=repr(float(opacity)), alphaBand="-1", nodataColor="")
        ET.SubElement(rend, "rasterTransparency")
        _min_max_origin(rend)
        palette = ET.SubElement(rend, "colorPalette")
        for v, colour, label in zip(values, style.colors, style.labels, strict=True):
            ET.SubElement(palette, "paletteEntry", value=str(int(v)), alpha="255",
                          color=colour, label=label)
    else:
        exact = style.kind == "classes"
        lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
        rend = ET.SubElement(pipe, "rasterrenderer", type="singlebandpseudocolor",
                             band=number, opacity=repr(float(opacity)), alphaBand="-1",
                             classificationMin=repr(float(lo)),
                             classificationMax=repr(float(hi)), nodataColor="")
        ET.SubElement(rend, "rasterTransparency")
        _min_max_origin(rend)
        shader = ET.SubElement(ET.SubElement(rend, "rastershader"), "colorrampshader", attrib={
            "colorRampType": "EXACT" if exact else "DISCRETE", "classificationMode": "2"
            if exact else "1", "clip": "0", "minimumValue": repr(float(lo)),
            "maximumValue": repr(float(hi)), "labelPrecision": "2"})
        for i, (v, colour, label) in enumerate(zip(values, style.colors, style.labels,
                                                   strict=True)):
            last = i == len(values) - 1 and not exact
            ET.SubElement(shader, "item", alpha="255", color=colour, label=label,
                          value="inf" if last else repr(float(v)))
    ET.SubElement(pipe, "brightnesscontrast", brightness="0", contrast="0", gamma="1")
    ET.SubElement(pipe, "huesaturation", saturation="0", colorizeOn="0", colorizeRed="255",
                  colorizeGreen="128", colorizeBlue="128", colorizeStrength="100",
                  grayscaleMode="0", invertColors="0")
    ET.SubElement(pipe, "rasterresampler", maxOversampling="2")
    ET.SubElement(pipe, "resamplingStage").text = "resamplingFilter"
    ET.SubElement(root, "blendMode").text = "0"
    ET.indent(root)
    return _DOCTYPE + "\n" + ET.tostring(root, encoding="unicode") + "\n"


def class_raster_name(surface: Surface, band: int) -> str:
    """File stem of the integer GeoTIFF of class band ``band`` (0-based)."""
    return f"{Path(surface.name).name}_{_slug(surface.bands[band])}"


def _encoding(codes: Mapping[int, str]) -> int:
    """Offset added to the codes so they fit a Byte band (0-254; 255 is nodata)."""
    lo, hi = min(codes), max(codes)
    offset = -lo if lo < 0 else 0
    if hi + offset > 254:
        raise InputError(f"Klassencodes {lo}..{hi} passen nicht in ein Byte-Band (0–254).")
    return offset


def style_targets(surface: Surface, path: str | os.PathLike) -> list[Path]:
    """Every file :func:`write_raster_style` writes for ``surface`` at ``path``."""
    path = Path(path)
    out = [path.with_suffix(".qml"), path.with_suffix(".qmd")]
    for band, codes in class_bands(surface).items():
        if not codes:
            continue
        tif = path.with_name(class_raster_name(surface, band) + ".tif")
        out += [tif, tif.with_suffix(".qml"), tif.with_suffix(".qmd"),
                tif.with_name(tif.name + ".aux.xml")]
    return out


def _qmd(surface: Surface, title: str) -> str:
    t = surface.tags
    return metadata_qmd({
        "title": title, "identifier": surface.name,
        "abstract": str(t.get("method") or t.get("title") or ""),
        "source": str(t.get("quelle") or t.get("source") or ""),
        "licence": str(t.get("lizenz") or t.get("licence") or ""),
        "date": str(t.get("stand") or ""), "method": str(t.get("method") or ""),
    })


def _aux_xml(names: list[str]) -> str:
    root = ET.Element("PAMDataset")
    band = ET.SubElement(root, "PAMRasterBand", band="1")
    cats = ET.SubElement(band, "CategoryNames")
    for name in names:
        ET.SubElement(cats, "Category").text = name
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"


def _write_class_tif(surface: Surface, band: int, codes: Mapping[int, str], colours: list[str],
                     target: Path, *, overwrite: bool, inputs: list) -> None:
    import rasterio
    import rasterio.shutil
    from rasterio.io import MemoryFile

    offset = _encoding(codes)
    data = surface.data[band]
    out = np.full(data.shape, CLASS_NODATA, dtype="uint8")
    for code in codes:
        out[np.isfinite(data) & (data == code)] = code + offset
    profile = {"driver": "GTiff", "width": data.shape[1], "height": data.shape[0],
               "count": 1, "dtype": "uint8", "crs": surface.grid.crs,
               "transform": surface.grid.transform, "nodata": CLASS_NODATA}
    cmap = {i: (0, 0, 0, 0) for i in range(256)}
    for (code, _), colour in zip(codes.items(), colours, strict=True):
        cmap[code + offset] = (*(int(colour[j:j + 2], 16) for j in (1, 3, 5)), 255)
    tags = {k: str(v) for k, v in surface.tags.items()}
    tags.update(layer=target.stem, klassen="; ".join(
        f"{code + offset}={label}" for code, label in codes.items()),
        quelle_band=f"{surface.name}, Band {band + 1} ({surface.bands[band]})")
    if offset:
        tags["codeverschiebung"] = f"Wert = Klassencode + {offset}"
    with atomic_path(target, overwrite=overwrite, inputs=inputs) as tmp, MemoryFile() as mem:
        with mem.open(**profile) as ds:
            ds.write(out, 1)
            ds.write_colormap(1, cmap)
            ds.set_band_description(1, surface.bands[band])
            ds.update_tags(**tags)
            rasterio.shutil.copy(ds, tmp, driver="GTiff", COMPRESS="DEFLATE", TILED="YES")


def write_raster_style(
    surface: Surface,
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
) -> list[Path]:
    """Write the QGIS style files of the GeoTIFF ``path`` of ``surface`` (see module doc).

    Every target is checked first (with ``path`` itself), so a refusal writes nothing;
    each file is written atomically. Called by :func:`gis_planning.outputs.raster.write_cog`
    before it writes the GeoTIFF.

    Returns
    -------
    list of pathlib.Path
        The files written (``.qml``, ``.qmd``, class GeoTIFFs with ``.qml`` and
        ``.aux.xml``).
    """
    from ..privacy import guard

    guard(surface, what=f"Rasterdatei {str(path)!r}")
    inputs = list(inputs)
    path = Path(path)
    targets = style_targets(surface, path)
    for target in [path, *targets]:
        check_output_path(target, overwrite=overwrite, inputs=inputs)
    main = band_style(surface, 0)
    written = []

    def text(target: Path, content: str) -> None:
        with atomic_path(target, overwrite=overwrite, inputs=inputs) as tmp:
            tmp.write_text(content, encoding="utf-8")
        written.append(target)

    text(path.with_suffix(".qml"), raster_qml(main))
    text(path.with_suffix(".qmd"), _qmd(surface, str(surface.tags.get("title") or
                                                     surface.name)))
    for band, codes in class_bands(surface).items():
        if not codes:
            continue
        style = band_style(surface, band)
        offset = _encoding(codes)
        tif = path.with_name(class_raster_name(surface, band) + ".tif")
        _write_class_tif(surface, band, codes, list(style.colors), tif,
                         overwrite=overwrite, inputs=inputs)
        written.append(tif)
        names = [""] * (max(codes) + offset + 1)
        for code, label in codes.items():
            names[code + offset] = label
        text(tif.with_name(tif.name + ".aux.xml"), _aux_xml(names))
        shifted = RasterClasses(0, "classes", tuple(float(c + offset) for c in codes),
                                style.colors, style.labels, style.title)
        text(tif.with_suffix(".qml"), raster_qml(shifted, band=1, paletted=True))
        what = surface.tags.get("title") or surface.name
        text(tif.with_suffix(".qmd"), _qmd(surface, f"{surface.bands[band]} ({what})"))
    log.info("QGIS-Stil für %s: %d Dateien", path, len(written))
    return written
