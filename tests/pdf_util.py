"""Read PDFs back with poppler-utils (pdftotext, pdftoppm, pdfinfo) for the print tests.

Set ``GIS_PLANNING_REQUIRE_REAL_CLIENTS=1`` (CI does) to turn missing poppler tools into a
failure instead of a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

__all__ = ["pdf_info", "pdf_png", "pdf_text", "poppler"]


def poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("GIS_PLANNING_REQUIRE_REAL_CLIENTS") == "1":
            pytest.fail(f"poppler-utils required ({tool} not found)")
        pytest.skip(f"{tool} (poppler-utils) not installed")
    return path


def pdf_text(path: Path) -> str:
    return subprocess.run([poppler("pdftotext"), str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def pdf_png(path: Path, dpi: int = 40) -> np.ndarray:
    from PIL import Image

    stem = path.with_suffix("")
    subprocess.run([poppler("pdftoppm"), "-png", "-r", str(dpi), "-singlefile", str(path),
                    str(stem)], check=True)
    return np.asarray(Image.open(f"{stem}.png").convert("RGB"))


def pdf_info(path: Path) -> dict[str, str]:
    out = subprocess.run([poppler("pdfinfo"), str(path)], capture_output=True, text=True,
                         check=True).stdout
    return dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
