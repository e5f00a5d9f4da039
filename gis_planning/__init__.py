"""gis_planning: a GIS planning toolkit for German cities (first city: Essen)."""

from __future__ import annotations

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
    SchemaError,
)
from ._validate import ANALYSIS_CRS

__version__ = "0.1.0"

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
    "SchemaError",
    "__version__",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
