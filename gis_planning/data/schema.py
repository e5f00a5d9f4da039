"""The schema of a layer: what it must hold and where it comes from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["LayerSchema"]


@dataclass(frozen=True)
class LayerSchema:
    """What a layer must hold, and where it comes from.

    Attributes
    ----------
    name
        Layer name used everywhere (CLI, tables, file names).
    label
        German label shown to users.
    geometry_type
        ``"Polygon"`` or ``"Point"`` (multi-part allowed), ``None`` for tables.
    columns
        Column name -> kind (``"int"``, ``"float"``, ``"str"``, ``"bool"``).
    required
        Columns a user's file must have (default: all of ``columns``).
    source, licence, date, method
        Provenance shown in ``layers show``, map source boxes and export metadata.
    id_column
        Column whose values must be unique.
    confidential
        The layer's points may leave the toolkit only aggregated (counts with suppression).
    synthetic
        The data is generated for demonstration; every output says so.
    group
        Map group: ``"Grundlagen"``, ``"Analyse"`` or ``"Planung"``.
    """

    name: str
    label: str
    geometry_type: str | None
    columns: Mapping[str, str]
    source: str
    licence: str
    date: str
    description: str = ""
    method: str = ""
    required: tuple[str, ...] | None = None
    id_column: str | None = None
    confidential: bool = False
    synthetic: bool = False
    group: str = "Grundlagen"
    check_stadtteil: bool = False

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(self.columns) if self.required is None else self.required

    def as_dict(self) -> dict:
        """Return the schema as plain data (for JSON / metadata)."""
        return {
            "name": self.name,
            "label": self.label,
            "geometry_type": self.geometry_type,
            "columns": dict(self.columns),
            "source": self.source,
            "licence": self.licence,
            "date": self.date,
            "description": self.description,
            "method": self.method,
            "confidential": self.confidential,
            "synthetic": self.synthetic,
            "group": self.group,
        }
