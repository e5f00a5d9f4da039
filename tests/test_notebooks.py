"""The notebooks tell stories with the library: committed with outputs, and they keep running.

The committed notebook is checked as it is (outputs for the code cells, inline plots,
German tables, the offline atlas embedded, no machine paths); a fresh execution in a real
kernel (nbclient, as ``tools/run_notebooks.py`` does) must run without error and give the
same kinds of output.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
sys.path.insert(0, str(ROOT / "tools"))

import run_notebooks  # noqa: E402


def _outputs(nb: dict) -> list[dict]:
    return [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]


def _check_outputs(nb: dict, name: str) -> None:
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, "a notebook without code tells no story with the library"
    assert all(c.get("outputs") for c in code), f"{name}: a code cell without output"
    assert not [o for o in _outputs(nb) if o["output_type"] == "error"]
    data = [o.get("data", {}) for o in _outputs(nb)]
    images = [d for d in data if "image/png" in d]
    assert len(images) >= 10, f"{name}: {len(images)} inline plots"
    html = "".join("".join(d.get("text/html", "")) for d in data)
    assert "gis-planning-tabelle" in html and "67.297" in html  # German numbers in tables
    assert "Gesamtbevölkerung" in html and "Anteil" in html  # German column labels
    assert "<iframe srcdoc=" in html and "Integrationsatlas Essen" in html
    assert "leaflet" in html.lower()
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html  # offline, no CDN
    text = json.dumps(nb, ensure_ascii=False)
    for pattern in (*run_notebooks.MACHINE_PATTERNS, str(ROOT)):
        assert pattern not in text, f"{name}: output names {pattern!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_has_clean_outputs(path):
    _check_outputs(json.loads(path.read_text(encoding="utf-8")), path.name)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes_in_a_kernel(path):
    pytest.importorskip("nbclient", reason="nbclient (test extra) not installed")
    nb = run_notebooks.execute(path)
    assert not run_notebooks.machine_paths(nb)
    _check_outputs(json.loads(json.dumps(nb)), path.name)


def test_cleaning_removes_paths_and_renumbers():
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    cell = new_code_cell("x", execution_count=7, outputs=[
        new_output("stream", name="stderr", text=f"{ROOT}/gis_planning/x.py:1: Warnung"),
        new_output("stream", name="stdout", text=f"Datei {ROOT}/maps/a.html"),
        new_output("execute_result", data={"text/plain": "<X at 0x7f3a2b1c4d50>"},
                   execution_count=7)])
    nb = run_notebooks.clean(new_notebook(cells=[cell]))
    out = nb.cells[0].outputs
    assert [o["output_type"] for o in out] == ["stream", "execute_result"]
    assert out[0]["text"] == "Datei ./maps/a.html"
    assert out[1]["data"]["text/plain"] == "<X at 0x…>"
    assert nb.cells[0].execution_count == 1 and out[1]["execution_count"] == 1
    dirty = new_notebook(cells=[new_code_cell("y", outputs=[
        new_output("stream", name="stdout", text="/home/planerin/essen.gpkg")])])
    assert run_notebooks.machine_paths(dirty) == ["Zelle 0: '/home/'"]
    nbformat.validate(nb)


def test_there_is_a_notebook():
    assert NOTEBOOKS
