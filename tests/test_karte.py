"""Printed maps: vector PDF / PNG pages checked with poppler (text, fonts, images, colours)."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from pdf_util import pdf_info, pdf_png, pdf_text, poppler

from gis_planning.cli import cli
from gis_planning.data.catalog import load_city
from gis_planning.outputs import karte

MUSTER = Path(__file__).parent / "data" / "musterstadt" / "pack.json"
TODAY = dt.date(2026, 12, 2)


def blend(colour: str, alpha: float) -> np.ndarray:
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], float)
    return alpha * rgb + (1 - alpha) * 255


def has_colour(img: np.ndarray, rgb: np.ndarray, tol: float = 6, min_pixels: int = 20) -> bool:
    close = (np.abs(img.astype(float) - rgb) <= tol).all(axis=2)
    return int(close.sum()) >= min_pixels


@pytest.fixture(scope="module")
def bezirk_pdf(catalog, tmp_path_factory):
    path = tmp_path_factory.mktemp("karte") / "bezirkswerte.pdf"
    karte.render_map(catalog, "bezirkswerte", path, today=TODAY)
    return path


def test_pdf_is_a_vector_a4_page_with_title_legend_scale_sources(bezirk_pdf, catalog):
    info = pdf_info(bezirk_pdf)
    assert info["Pages"].strip() == "1"
    w, h = (float(v) for v in info["Page size"].split("pts")[0].split("x"))
    assert (round(w), round(h)) == (842, 595)  # A4 landscape
    images = subprocess.run([poppler("pdfimages"), "-list", str(bezirk_pdf)],
                            capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(images) == 2  # header lines only: no raster image, all vector
    fonts = subprocess.run([poppler("pdffonts"), str(bezirk_pdf)], capture_output=True,
                           text=True, check=True).stdout
    assert "DejaVuSans" in fonts and "Type 3" not in fonts
    text = pdf_text(bezirk_pdf)
    layer = karte.map_layer(catalog, "bezirkswerte")
    flat = " ".join(text.split())
    assert layer.label in flat
    assert "Integrationsatlas Essen · Stand 30.09.2016" in flat
    for label in layer.style.classification.labels:
        assert label in flat, label
    assert "natürliche Brüche (Fisher-Jenks)" in flat
    assert "Maßstab ca. 1 :" in flat and "\nN\n" in text
    assert "dl-de/by-2-0" in flat and "ODbL" in flat  # Bezirke and Stadtteile drawn
    assert "Vorlage 1846/2016/5" in flat
    assert "erstellt am 02.12.2026" in flat and "ohne Hintergrundkarte" in flat
    assert "Bezirkswert: gilt für den ganzen Bezirk" in flat


def test_pdf_colours_are_the_atlas_classes(bezirk_pdf, catalog):
    img = pdf_png(bezirk_pdf, dpi=40)
    layer = karte.map_layer(catalog, "bezirkswerte")
    style = layer.style
    for colour in style.classification.colors:
        assert has_colour(img, blend(colour, style.fill_opacity)), colour
    white = (img == 255).all(axis=2).mean()
    assert 0.4 < white < 0.9  # a drawn page, not a blank one


def test_scale_bar_denominator_from_printed_width():
    fig = karte.new_figure("A4")
    ax = fig.add_axes((0.1, 0.1, 100 / 297, 100 / 210))  # 100 mm x 100 mm
    karte.fit_extent(ax, (0, 0, 10_000, 10_000), width_mm=100, height_mm=100, pad=0)
    length, denominator = karte.scale_bar(ax, width_mm=100)
    assert denominator == 100_000  # 10 km on 100 mm
    assert length == 2000  # the nice length below a quarter of the width
    karte.fit_extent(ax, (0, 0, 10_000, 1_000), width_mm=200, height_mm=100, pad=0)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    assert (x1 - x0) / (y1 - y0) == pytest.approx(2.0)  # same scale in x and y


def test_png_of_points_in_one_bezirk(catalog, tmp_path):
    from PIL import Image

    path = karte.render_map(catalog, "kitas", tmp_path / "kitas_v.png", bezirk="V", dpi=100,
                            today=TODAY)
    img = np.asarray(Image.open(path).convert("RGB"))
    assert abs(img.shape[0] - 827) <= 1 and abs(img.shape[1] - 1169) <= 1  # A4 at 100 dpi
    kita = next(c.color for c in karte.map_layer(catalog, "kitas").style.categories
                if c.value is True)
    assert has_colour(img, blend(kita, 1.0), tol=10, min_pixels=50)
    pdf = karte.render_map(catalog, "kitas", tmp_path / "kitas_v.pdf", bezirk="Bezirk V",
                           paper="A3", today=TODAY)
    info = pdf_info(pdf)
    w, h = (float(v) for v in info["Page size"].split("pts")[0].split("x"))
    assert (round(w), round(h)) == (1191, 842)  # A3 landscape
    flat = " ".join(pdf_text(pdf).split())
    assert "Bezirk V · Integrationsatlas Essen" in flat
    assert "Karnap" in flat  # unit names of the Bezirk as context
    assert "Kettwig" not in flat  # nothing outside it
    assert "Stadtgrenze:" not in flat  # not drawn for one Bezirk, so not listed


def test_confidential_layer_prints_only_counts(catalog, tmp_path):
    path = karte.render_map(catalog, "projektwohnungen", tmp_path / "pw.pdf", today=TODAY)
    flat = " ".join(pdf_text(path).split())
    assert "je Stadtteil" in flat and "unterdrückt" in flat
    assert "Synthetische Demonstrationsdaten" in flat
    layer = karte.map_layer(catalog, "projektwohnungen_anzahl")
    assert set(layer.frame.geom_type) <= {"Polygon", "MultiPolygon"}


@pytest.mark.filterwarnings("ignore:.*außerhalb von Musterstadt:UserWarning")
def test_another_city(tmp_path):
    cat = load_city(MUSTER)
    path = karte.render_map(cat, "hotspots", tmp_path / "m.pdf", today=TODAY)
    flat = " ".join(pdf_text(path).split())
    assert "Integrationsatlas Musterstadt" in flat and "Essen" not in flat
    assert "Nordbezirk" in flat and "CC BY 4.0" in flat
    assert karte.bezirk_code(cat, "Südbezirk") == "03"
    assert karte.bezirk_code(cat, "3") == "03"


def test_cli_karte(tmp_path):
    runner = CliRunner()
    out = tmp_path / "k.pdf"
    res = runner.invoke(cli, ["karte", "bezirkswerte", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "Karte geschrieben" in res.output and out.exists()
    res = runner.invoke(cli, ["karte", "bezirkswerte", "-o", str(out)])
    assert res.exit_code == 2 and "overwrite" in res.output
    res = runner.invoke(cli, ["karte", "kitaz", "-o", str(tmp_path / "x.pdf")])
    assert res.exit_code == 2 and "Meinten Sie 'kitas'" in res.output
    res = runner.invoke(cli, ["karte", "kitas", "--bezirk", "XX", "-o", str(tmp_path / "x.pdf")])
    assert res.exit_code == 2 and "--bezirk 'XX'" in res.output and "Bezirk IX" in res.output
    res = runner.invoke(cli, ["karte", "kitas", "-o", str(tmp_path / "x.svg")])
    assert res.exit_code == 2 and ".pdf oder .png" in res.output
    res = runner.invoke(cli, ["karte", "budget", "-o", str(tmp_path / "x.pdf")])
    assert res.exit_code == 2 and "ohne Geometrie" in res.output
    assert not (tmp_path / "x.pdf").exists()
    res = runner.invoke(cli, ["karte", "--liste"])
    assert res.exit_code == 0 and "bezirkswerte" in res.output.split()
    assert "budget" not in res.output.split()
