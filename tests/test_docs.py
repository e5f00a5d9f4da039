"""The documentation builds with warnings as errors (as ``make docs`` and CI build it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    out = tmp_path / "html"
    res = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS),
         str(out)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    cli_page = (out / "cli.html").read_text(encoding="utf-8")
    from gis_planning.cli import cli

    for name in cli.commands:  # the CLI reference is generated: every command is in it
        assert f"gis-planning {name}" in cli_page, name
    assert (out / "api.html").exists() and (out / "stadt_pack.html").exists()
    assert "extends" in (out / "stadt_pack.html").read_text(encoding="utf-8")
