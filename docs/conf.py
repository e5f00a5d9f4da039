"""Sphinx configuration of the gis_planning documentation (``make docs``).

Pages are MyST Markdown; the CLI reference is generated from click (sphinx-click), the API
reference from the numpydoc docstrings (autodoc + napoleon), the notebook rendered with its
stored outputs (myst-nb, not executed here). Warnings are errors (``-W``) in ``make docs`` and
in the test suite.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

project = "gis_planning"
author = "gis_planning"
copyright = "2026, gis_planning"
language = "de"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx_click",
]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "off"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "jupyter_execute"]

autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_typehints = "description"
autodoc_member_order = "bysource"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False

html_theme = "furo"
html_title = "gis_planning"
html_static_path: list[str] = []

# The notebook lives in notebooks/ (committed with its outputs); a copy is rendered here.
_NB = ROOT / "notebooks" / "essen_integrationsatlas.ipynb"
_GEN = Path(__file__).resolve().parent / "_generated"
_GEN.mkdir(exist_ok=True)
if _NB.exists():
    shutil.copyfile(_NB, _GEN / _NB.name)
