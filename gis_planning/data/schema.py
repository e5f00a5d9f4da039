"""Layer schemas: what each kind of layer must hold (structure only, no city's metadata).

:data:`SCHEMAS` describes the layer kinds every city can bring. Source, licence, date and
description of a city's layers come from its pack (:mod:`gis_planning.data.pack`); the
catalogue merges them into the schema it hands out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["SCHEMAS", "LayerSchema"]


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
        Column name -> kind (``"int"``, ``"float"``, ``"str"``, ``"bool"``, or ``"id"``: a
        code kept as given, whole numbers or text such as ``"01100101"``).
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
    source: str = ""
    licence: str = ""
    date: str = ""
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


#: The layer kinds of the core, by layer name (structure only).
SCHEMAS: dict[str, LayerSchema] = {
    s.name: s
    for s in [
        LayerSchema(
            "stadtteile", "Stadtteile", "Polygon",
            {"stadtteil_nr": "id", "stadtteil": "str", "bezirk": "id"},
            required=("stadtteil_nr", "stadtteil"), id_column="stadtteil_nr",
        ),
        LayerSchema(
            "stadtbezirke", "Stadtbezirke", "Polygon",
            {"bezirk": "id", "bezirk_name": "str", "bezirk_roman": "str"},
            required=("bezirk",), id_column="bezirk",
        ),
        LayerSchema("stadtgrenze", "Stadtgrenze", "Polygon", {}),
        LayerSchema(
            "jobcenter", "JobCenter-Bereiche", "Polygon",
            {"jobcenter": "str", "n_stadtteile": "int"},
            required=("jobcenter",), id_column="jobcenter",
        ),
        LayerSchema(
            "gebiete", "Gebiete", "Polygon", {"gebiet_id": "id", "gebiet": "str"},
            required=("gebiet_id",), id_column="gebiet_id",
        ),
        LayerSchema(
            "zellen", "Zensus-Gitterzellen", "Polygon", {"gitter_id": "str", "personen": "int"},
            required=("gitter_id", "personen"), id_column="gitter_id",
            description="Bewohnte Gitterzellen (z. B. Zensus 2011/2022, 100 m) mit Personen "
            "und Gruppen; aufgenommen, wenn der Zellmittelpunkt in der Stadt liegt.",
        ),
        LayerSchema(
            "kitas", "Kitas", "Point",
            {"kita_id": "id", "name": "str", "stadtteil": "str", "in_betrieb": "bool"},
            required=("name",), id_column="kita_id", check_stadtteil=True,
        ),
        LayerSchema(
            "schulen", "Schulen", "Point",
            {"schul_id": "id", "name": "str", "schulform": "str", "stadtteil": "str"},
            required=("name", "schulform"), id_column="schul_id", check_stadtteil=True,
        ),
        LayerSchema(
            "begegnungsorte", "Begegnungsorte", "Point",
            {"name": "str", "typ": "str", "kapazitaet": "float", "besteht": "bool"},
            required=("name",), group="Planung", check_stadtteil=True,
            description="Bestehende Treffpunkte (Bürgerbegegnungszentren, Stadtteilbüros): "
            "Name, Typ, optional Kapazität, optional 'besteht' (wird in jede Lösung gesetzt).",
        ),
        LayerSchema(
            "projektwohnungen", "Projektwohnungen", "Point",
            {"bezirk": "id", "synthetisch": "bool", "hinweis": "str"},
            required=(), confidential=True,
            description="Wohnungen für Geflüchtete: vertraulich, nur als Anzahl je Einheit.",
        ),
    ]
}
