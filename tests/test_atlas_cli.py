"""One voice of the output commands (atlas, raster, export, karte, steckbrief): German help,
one option vocabulary (older spellings hidden but working), nothing printed with ``-q``."""

from __future__ import annotations

import re

import pyogrio
import pytest
from click.testing import CliRunner

from gis_planning.cli import cli

COMMANDS = [
    ["atlas"], ["raster"], ["raster", "flats"], ["raster", "population"],
    ["raster", "anteil"], ["raster", "gitter-hotspots"], ["raster", "distance"],
    ["raster", "all"], ["export"], ["karte"], ["steckbrief"],
]

#: English words that must not appear in the help we write (click's own lines are removed).
ENGLISH = re.compile(r"\b(the|and|with|of|write|writes|written|file|files|default|output|"
                     r"folder|layer|layers|each|from|only|without|give|surfaces)\b")
#: Older spellings: still accepted, never shown.
HIDDEN = ("--out ", "--dir ", "--gpkg", "--geojson")


def _own_help(text: str) -> str:
    """The help text without click's own parts (usage line, headers, --help, [default: …]),
    option names and file names of the examples."""
    lines = [line for line in text.splitlines()
             if not line.startswith(("Aufruf:", "Optionen:", "Befehle:"))
             and "--help" not in line and "Diese Hilfe zeigen" not in line]
    text = "\n".join(lines)
    text = re.sub(r"\[(default|required)[^\]]*\]", "", text)
    return re.sub(r"(?<!\w)--?[\w-]+|\S+\.(html|tif|gpkg|qgz|pdf|png)\b", "", text)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_is_german_and_shows_one_spelling(command):
    res = CliRunner().invoke(cli, [*command, "--help"])
    assert res.exit_code == 0, res.output
    text = _own_help(res.output)
    assert not ENGLISH.findall(text), (command, ENGLISH.findall(text), text)
    assert "Beispiel" in text or command == ["raster"]
    assert not any(old in res.output for old in HIDDEN), res.output
    if command in (["atlas"], ["export"], ["karte"], ["steckbrief"]) or (
            command[0] == "raster" and command not in (["raster"], ["raster", "all"])):
        assert "-o, --output" in res.output
    if command == ["raster", "all"]:
        assert "--output-dir ORDNER" in res.output


def test_quiet_prints_nothing_on_success(tmp_path):
    runner = CliRunner()
    runs = [
        ["raster", "distance", "-o", str(tmp_path / "d.tif"), "--cell-size", "500"],
        ["export", "-o", str(tmp_path / "e.gpkg"), "--output-dir", str(tmp_path / "gj"),
         "--layer", "kitas", "--no-project"],
        ["karte", "kitas", "-o", str(tmp_path / "k.png"), "--dpi", "50"],
        ["steckbrief", "--bezirk", "III", "-o", str(tmp_path / "s.pdf")],
        ["atlas", "-o", str(tmp_path / "a.html"), "--no-basemap", "--cdn"],
    ]
    for args in runs:
        res = runner.invoke(cli, ["-q", *args])
        assert res.exit_code == 0, (args, res.output)
        assert res.output == "", (args, res.output)
    assert (tmp_path / "d.tif").exists() and (tmp_path / "a.html").exists()
    assert [n for n, _ in pyogrio.list_layers(tmp_path / "e.gpkg")] == ["kitas", "layer_styles"]
    # without -q the same command says what it wrote, in German numbers
    res = runner.invoke(cli, ["raster", "distance", "-o", str(tmp_path / "d2.tif"),
                              "--cell-size", "500"])
    assert res.exit_code == 0 and re.search(r"entfernung -> .*d2\.tif \(2 Bänder", res.output)


def test_older_spellings_still_work(tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli, ["-q", "export", "--gpkg", str(tmp_path / "e.gpkg"),
                              "--geojson", str(tmp_path / "gj"), "--layer", "kitas",
                              "--no-project"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "e.gpkg").exists() and (tmp_path / "gj" / "kitas.geojson").exists()
    res = runner.invoke(cli, ["-q", "karte", "kitas", "--out", str(tmp_path / "k.png"),
                              "--dpi", "50"])
    assert res.exit_code == 0 and (tmp_path / "k.png").exists(), res.output


def test_progress_reaches_the_library(monkeypatch, tmp_path):
    """`-v` passes the CLI's progress bar to the library: one step per layer / section."""
    from gis_planning.cli._options import CatalogState

    seen = []

    def progress(self, iterable, *, desc="", total=None, unit="Schritt"):
        seen.append((desc, total, unit))
        return iter(iterable)

    monkeypatch.setattr(CatalogState, "progress", progress)
    res = CliRunner().invoke(cli, ["export", "-o", str(tmp_path / "e.gpkg"), "--layer",
                                   "kitas", "--layer", "stadtteile", "--no-project"])
    assert res.exit_code == 0, res.output
    assert ("Ebenen laden", 2, "Ebene") in seen and ("GeoPackage schreiben", 2, "Ebene") in seen


def test_no_standard_output_for_files(tmp_path):
    runner = CliRunner()
    for args in (["atlas", "-o", "-"], ["raster", "distance", "-o", "-"],
                 ["export", "-o", "-"], ["karte", "kitas", "-o", "-"]):
        res = runner.invoke(cli, args)
        assert res.exit_code == 2 and "-o/--output" in res.output, (args, res.output)
