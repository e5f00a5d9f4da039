"""gis_planning: a GIS planning toolkit for German cities (first city: Essen).

The curated public API is importable from the package; heavy modules load on first use, so
``import gis_planning`` and the command line stay fast.

Examples
--------
>>> import gis_planning as gp
>>> cat = gp.default_catalog()
>>> len(cat.load("kitas"))
312
"""

from __future__ import annotations

import importlib
import logging

from ._errors import (
    ConfidentialDataError,
    CRSError,
    GeometryError,
    GISPlanningError,
    InputError,
    LayerError,
    NameMatchError,
    OutputExistsError,
    OutputWriteError,
    SchemaError,
)
from ._validate import ANALYSIS_CRS

__version__ = "0.1.0"

#: Public name -> module that defines it (loaded on first access).
_LAZY = {
    "Catalog": "data.catalog",
    "LayerSchema": "data.schema",
    "default_catalog": "data.catalog",
    "read_file": "data.io",
    "write_layer": "data.io",
    "build_atlas": "outputs.atlas",
    "Atlas": "outputs.webmap",
    "area_interpolate": "analysis.interpolate",
    "global_indices": "analysis.segregation",
    "local_indices": "analysis.segregation",
    "getis_ord": "analysis.hotspots",
    "local_moran": "analysis.hotspots",
    "queen_weights": "analysis.weights",
    "knn_weights": "analysis.weights",
    "distance_band_weights": "analysis.weights",
    "solve_mclp": "planning.siting",
    "solve_lscp": "planning.siting",
    "solve_pmedian": "planning.siting",
    "allocate_budget": "planning.budget",
    "release": "privacy",
    "filter_layer": "query",
}

__all__ = [
    "ANALYSIS_CRS",
    "CRSError",
    "ConfidentialDataError",
    "GISPlanningError",
    "GeometryError",
    "InputError",
    "LayerError",
    "NameMatchError",
    "OutputExistsError",
    "OutputWriteError",
    "SchemaError",
    "__version__",
    *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gis_planning' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


logging.getLogger(__name__).addHandler(logging.NullHandler())
