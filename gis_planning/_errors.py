"""Exception types of gis_planning.

Every error a user can cause is one of these classes. They subclass built-ins so callers can
catch ``ValueError`` as usual, and the CLI turns any :class:`GISPlanningError` into one line on
stderr with exit code 2 instead of a traceback.
"""

from __future__ import annotations

__all__ = [
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
]


class GISPlanningError(Exception):
    """Base class of every error raised on purpose by gis_planning."""


class InputError(GISPlanningError, ValueError):
    """An input file or argument cannot be used as given."""


class CRSError(InputError):
    """A layer has no CRS, a CRS that does not fit its coordinates, or the wrong kind of CRS."""


class LayerError(InputError):
    """A layer name is unknown or a layer file cannot be read."""


class SchemaError(InputError):
    """Required columns are missing or have the wrong type."""


class GeometryError(InputError):
    """Geometries are missing, of the wrong type, or cannot be repaired."""


class NameMatchError(InputError):
    """A Stadtteil or Bezirk name does not match the reference list."""


class OutputExistsError(GISPlanningError, FileExistsError):
    """An output file exists and ``overwrite`` was not given."""


class ConfidentialDataError(GISPlanningError, PermissionError):
    """A confidential layer would leave the toolkit in a form that reveals locations."""


class OutputWriteError(GISPlanningError, OSError):
    """An output cannot be written: full disk, read-only folder or missing permission."""
