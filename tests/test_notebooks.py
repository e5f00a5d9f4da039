"""The notebooks tell stories with the library; their code cells must keep running."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_code_runs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    ns: dict = {}
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, "a notebook without code tells no story with the library"
    for cell in code:
        exec(compile("".join(cell["source"]), f"{path.name}", "exec"), ns)


def test_there_is_a_notebook():
    assert NOTEBOOKS
