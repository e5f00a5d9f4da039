"""QML generation: renderers, exact class bounds, categories, dashes, aliases."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from gis_planning._errors import InputError
from gis_planning.outputs.qml import (
    MISSING_LABEL,
    geometry_kind,
    metadata_qmd,
    qgis_color,
    style_qml,
)
from gis_planning.outputs.styles import KITA_CATEGORIES, LayerStyle, classify, style_for

POLY = {"Polygon", "MultiPolygon"}


def _root(text: str) -> ET.Element:
    assert text.startswith("<!DOCTYPE qgis")
    return ET.fromstring(text.split("\n", 1)[1])


def _opts(layer: ET.Element) -> dict[str, str]:
    return {o.get("name"): o.get("value") for o in layer.iter("Option") if o.get("name")}


def test_qgis_color():
    assert qgis_color("#ff8000") == "255,128,0,255"
    assert qgis_color("#f80", 0.0) == "255,136,0,0"
    assert qgis_color("#000000", 0.75) == "0,0,0,191"
    with pytest.raises(InputError, match="Hex-Farbe"):
        qgis_color("red")


def test_geometry_kind():
    assert geometry_kind(POLY) == "polygon"
    assert geometry_kind({"Point"}) == "point"
    with pytest.raises(InputError, match="nur Punkte"):
        geometry_kind({"Point", "Polygon"})


def test_graduated_exact_bounds_colours_labels():
    values = pd.Series([1.0, 2.0, 2.5, 7.0, 8.0, 9.5, 20.0, 21.0], name="anteil")
    frame = pd.DataFrame({"anteil": values})
    cls = classify(values, scheme="Quantiles", k=4, unit="%")
    style = LayerStyle(kind="graduated", column="anteil", classification=cls,
                       fill_opacity=0.75)
    root = _root(style_qml(style, geometry_types=POLY, frame=frame))
    rend = root.find("renderer-v2")
    assert rend.get("type") == "graduatedSymbol"
    assert rend.get("attr") == "anteil"
    ranges = rend.findall("ranges/range")
    assert len(ranges) == cls.k == 4
    lowers = [float(r.get("lower")) for r in ranges]
    uppers = [float(r.get("upper")) for r in ranges]
    assert uppers == list(cls.bins)
    assert lowers == [1.0, *cls.bins[:-1]]
    assert [r.get("label") for r in ranges] == list(cls.labels)
    # every value falls in the class mapclassify gives it (QGIS: first range lo <= v <= hi)
    for v in values:
        first = next(i for i, (lo, hi) in enumerate(zip(lowers, uppers, strict=True))
                     if lo <= v <= hi)
        assert cls.colors[first] == cls.color_of(v)
    fills = [_opts(s.find("layer"))["color"] for s in rend.findall("symbols/symbol")]
    assert fills == [qgis_color(c, 0.75) for c in cls.colors]


def test_graduated_missing_values_get_grey_class():
    frame = pd.DataFrame({"anzahl_wert": [np.nan, 6.0, 9.0, 30.0, np.nan]})
    style = style_for("projektwohnungen_anzahl", frame)
    root = _root(style_qml(style, geometry_types=POLY, frame=frame))
    rend = root.find("renderer-v2")
    assert rend.get("attr").startswith('coalesce("anzahl_wert"')
    ranges = rend.findall("ranges/range")
    assert len(ranges) == style.classification.k + 1
    assert ranges[0].get("label") == MISSING_LABEL
    grey = _opts(rend.findall("symbols/symbol")[0].find("layer"))["color"]
    assert grey.startswith("204,204,204")


def test_categorized_bool_values_as_qgis_compares_them():
    style = LayerStyle(kind="categorized", column="in_betrieb", categories=KITA_CATEGORIES)
    root = _root(style_qml(style, geometry_types={"Point"}))
    rend = root.find("renderer-v2")
    assert rend.get("type") == "categorizedSymbol"
    cats = rend.findall("categories/category")
    assert [c.get("value") for c in cats] == ["true", "false"]
    assert [c.get("label") for c in cats] == ["in Betrieb", "noch nicht eröffnet"]
    sym = rend.findall("symbols/symbol")[0]
    assert sym.get("type") == "marker"
    classes = [layer.get("class") for layer in sym.findall("layer")]
    assert classes == ["SimpleMarker", "FontMarker"]
    assert _opts(sym.findall("layer")[1])["chr"] == "K"
    assert root.find("layerGeometryType").text == "0"


def test_single_dashed_outline_and_labels_and_aliases():
    frame = pd.DataFrame({"bezirk_roman": ["I"], "bezirk": [1]})
    style = style_for("stadtbezirke", frame)
    text = style_qml(style, geometry_types=POLY, frame=frame,
                     aliases={"bezirk": "Stadtbezirk"},
                     metadata={"title": "Stadtbezirke", "licence": "dl-de/by-2-0"})
    root = _root(text)
    assert root.get("labelsEnabled") == "1"
    assert root.find("labeling/settings/text-style").get("fieldName") == "bezirk_roman"
    sym = root.find("renderer-v2/symbols/symbol")
    fill, line = sym.findall("layer")
    assert _opts(fill)["style"] == "no"  # no fill, outline only
    assert _opts(fill)["outline_style"] == "no"
    lo = _opts(line)
    assert line.get("class") == "SimpleLine"
    assert lo["use_custom_dash"] == "1"
    assert lo["customdash"] == "1.56;1.04"  # "6 4" px * 0.26 mm
    assert lo["line_width"] == "0.572"  # 2.2 px
    assert lo["line_color"] == qgis_color("#1f3b73")
    alias = root.find("aliases/alias")
    assert (alias.get("field"), alias.get("name")) == ("bezirk", "Stadtbezirk")
    assert root.find("resourceMetadata/license").text == "dl-de/by-2-0"


def test_label_column_missing_disables_labels_and_none_style_is_single():
    root = _root(style_qml(None, geometry_types=POLY, frame=pd.DataFrame({"x": [1]})))
    assert root.find("renderer-v2").get("type") == "singleSymbol"
    assert root.get("labelsEnabled") == "0"
    style = LayerStyle(label_column="fehlt")
    root = _root(style_qml(style, geometry_types=POLY, frame=pd.DataFrame({"x": [1]})))
    assert root.get("labelsEnabled") == "0" and root.find("labeling") is None


def test_invalid_styles_raise():
    with pytest.raises(InputError, match="Stil mit Klassen braucht"):
        style_qml(LayerStyle(kind="graduated"), geometry_types=POLY)
    with pytest.raises(InputError, match="Stil mit Kategorien braucht"):
        style_qml(LayerStyle(kind="categorized"), geometry_types=POLY)
    with pytest.raises(InputError, match="unbekannte Stilart"):
        style_qml(LayerStyle(kind="heatmap"), geometry_types=POLY)


def test_metadata_qmd_rights_licence_history_and_stand():
    meta = {"title": "Stadtteile", "abstract": "50 Stadtteile", "identifier": "stadtteile",
            "source": "OpenStreetMap", "licence": "© OpenStreetMap-Mitwirkende, ODbL 1.0",
            "date": "2016-09-30", "method": "abgeleitet", "group": "Grundlagen"}
    root = _root(metadata_qmd(meta))
    assert root.tag == "qgis" and root.findtext("title") == "Stadtteile"
    assert root.findtext("abstract") == "50 Stadtteile"
    assert [r.text for r in root.findall("rights")] == [
        "Quelle: OpenStreetMap", "© OpenStreetMap-Mitwirkende, ODbL 1.0"]
    assert root.findtext("license") == meta["licence"]
    assert [h.text for h in root.findall("history")] == [
        "Quelle: OpenStreetMap", "Methode: abgeleitet", "Stand: 2016-09-30"]
    period = root.find("extent/temporal/period")
    assert (period.findtext("start"), period.findtext("end")) == (
        "2016-09-30T00:00:00", "2016-09-30T23:59:59")
    for date, start, end in (("30.09.2016", "2016-09-30", "2016-09-30"),
                             ("2024/2025", "2024-01-01", "2025-12-31"),
                             ("2011-02", "2011-02-01", "2011-02-28")):
        p = _root(metadata_qmd({"date": date})).find("extent/temporal/period")
        assert p.findtext("start")[:10] == start and p.findtext("end")[:10] == end
    assert _root(metadata_qmd({"date": "etwa 2016"})).find("extent/temporal") is None
    kw = {k.get("vocabulary"): [w.text for w in k] for k in root.findall("keywords")}
    assert kw == {"gis_planning": ["Grundlagen"], "Stand": ["2016-09-30"]}
