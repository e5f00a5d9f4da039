"""City packs: one declarative file (JSON or TOML) that describes a city's data.

A pack names the city's layer files (or the cleaning functions in
:mod:`gis_planning.data.sources` that produce them), how their columns map onto the schemas,
the working CRS, dated indicator tables with their key, source, licence and ``estimated`` flag,
and the population groups the analyses work on. Everything a map or export says about a place
(source, licence, date, description, group labels) comes from the pack, never from the core.

The smallest pack names one layer::

    {"city": "Bochum", "layers": {"stadtteile": "stadtteile.gpkg"}}

A full one (relative paths are taken from the pack's folder)::

    {"city": "Köln", "crs": "EPSG:25832",
     "layers": {
       "stadtteile": {"path": "Stadtteil.shp",
                      "columns": {"STT_NR": "stadtteil_nr", "STT_NAME": "stadtteil"},
                      "source": "Stadt Köln, Offene Daten", "licence": "CC BY 3.0 DE",
                      "date": "2015"},
       "kitas": {"path": "kitas.geojson", "columns": {"tags/name": "name"}}},
     "tables": {
       "bevoelkerung": {"path": "bevoelkerung_2012.csv", "unit": "stadtteile",
                        "key": {"raum_id": "stadtteil_nr"}, "date": "2012-12-31",
                        "source": "Stadt Köln", "licence": "CC BY 3.0 DE",
                        "estimated": false}},
     "groups": {
       "auslaender": {"label": "Ausländerinnen und Ausländer", "table": "bevoelkerung",
                      "count": "auslaender", "total": "einwohner"}},
     "confidential": []}

:func:`read_pack` checks every key and type and refuses unknown ones with one line that names
the key and suggests the close match (:class:`PackError`).

Examples
--------
>>> pack = pack_from_dict({"city": "Bochum", "layers": {"stadtteile": "st.gpkg"}},
...                       folder=".")
>>> pack.city, pack.layers["stadtteile"].path.name
('Bochum', 'st.gpkg')
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import LayerError
from .._names import suggest

__all__ = [
    "SHIPPED_PACKS",
    "BudgetSpec",
    "CityPack",
    "GroupSpec",
    "LayerSpec",
    "PackError",
    "TableSpec",
    "UnitSpec",
    "pack_from_dict",
    "pack_path",
    "read_pack",
]

#: Top-level folder with the shipped cities' data and packs (``layers/<city>/pack.json``).
LAYERS_DIR = Path(__file__).resolve().parents[2] / "layers"

#: Shipped packs by name (``--city essen``).
SHIPPED_PACKS = ("essen", "berlin")

#: Text shown where a layer or table has no metadata.
NOT_GIVEN = "nicht angegeben"


class PackError(LayerError):
    """A city pack (or catalogue file) cannot be read: unknown key, wrong type, bad name."""


@dataclass(frozen=True)
class LayerSpec:
    """Where one layer comes from, how its columns map, and what to say about it."""

    name: str
    path: Path | None = None
    loader: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    layer: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    crs: str | None = None
    schema: str | None = None
    format: str | None = None
    label: str = ""
    source: str = ""
    licence: str = ""
    date: str = ""
    description: str = ""
    method: str = ""
    synthetic: bool = False
    confidential: bool = False


@dataclass(frozen=True)
class TableSpec:
    """One dated version of an indicator table."""

    name: str
    path: Path | None = None
    loader: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    unit: str | None = "stadtteile"
    cells: str | None = None
    key: Mapping[str, str] = field(default_factory=dict)
    columns: Mapping[str, str] = field(default_factory=dict)
    label: str = ""
    date: str = ""
    source: str = ""
    licence: str = ""
    estimated: bool = False
    description: str = ""
    method: str = ""

    @property
    def unit_key(self) -> str | None:
        """The unit layer's id column the table joins on (``None`` for city-level tables)."""
        if self.unit is None:
            return None
        return next(iter(self.key.values())) if self.key else None


@dataclass(frozen=True)
class GroupSpec:
    """A population group: its label and where its counts (or shares) are."""

    name: str
    label: str
    table: str
    count: str | None = None
    total: str | None = None
    share: str | None = None
    bezirk_table: str | None = None
    description: str = ""

    @property
    def share_column(self) -> str:
        """Column with the group's share in per cent (computed when the table lacks it)."""
        return self.share or f"{self.name}_anteil_prozent"


@dataclass(frozen=True)
class ComparisonSpec:
    """Two shares of the same units at two dates (e.g. census 2011 vs register 2016)."""

    name: str
    label: str
    first: Mapping[str, str]
    second: Mapping[str, str]
    names: tuple[str, str] = ("vorher", "nachher")
    note: str = ""


@dataclass(frozen=True)
class SitingSpec:
    """Defaults of ``gis-planning site``: where demand comes from."""

    demand_cells: str | None = None
    demand_column: str | None = None
    demand_label: str = ""


@dataclass(frozen=True)
class UnitSpec:
    """The analysis unit: which polygon layer, and what users call one of it."""

    layer: str = "stadtteile"
    label: str = "Stadtteil"
    label_plural: str = "Stadtteile"


@dataclass(frozen=True)
class BudgetSpec:
    """Defaults of the budget formula a city agreed on (``gis-planning budget``)."""

    total: int | None = None
    weights: Mapping[str, float] = field(default_factory=dict)
    source: str = ""
    method: str = ""


@dataclass(frozen=True)
class CityPack:
    """A city's data, read from a pack file (see the module docstring)."""

    city: str
    layers: Mapping[str, LayerSpec]
    tables: Mapping[str, tuple[TableSpec, ...]] = field(default_factory=dict)
    groups: Mapping[str, GroupSpec] = field(default_factory=dict)
    crs: str | None = None
    unit: UnitSpec = field(default_factory=UnitSpec)
    bezirk_label: str = "Stadtbezirk"
    confidential: tuple[str, ...] = ()
    budget: BudgetSpec | None = None
    comparisons: Mapping[str, ComparisonSpec] = field(default_factory=dict)
    siting: SitingSpec = field(default_factory=SitingSpec)
    description: str = ""
    path: Path | None = None

    @property
    def folder(self) -> Path | None:
        return None if self.path is None else self.path.parent

    def files(self) -> list[Path]:
        """Every file the pack names (never to be overwritten by an output)."""
        out = [] if self.path is None else [self.path]
        out += [s.path for s in self.layers.values() if s.path is not None]
        out += [f for s in self.layers.values() if s.path is not None and s.path.is_dir()
                for f in s.path.rglob("*") if f.is_file()]
        out += [t.path for versions in self.tables.values() for t in versions
                if t.path is not None]
        return out


# --------------------------------------------------------------------------- reading

_TOP_KEYS = {
    "city": str, "crs": str, "layers": dict, "tables": dict, "groups": dict,
    "confidential": list, "unit": dict, "bezirk_label": str, "budget": dict,
    "description": str, "extends": str, "comparisons": dict, "siting": dict,
}
_LAYER_KEYS = {
    "path": str, "loader": str, "options": dict, "layer": (str, type(None)), "columns": dict,
    "crs": str, "schema": str, "format": str, "label": str, "source": str, "licence": str,
    "date": str,
    "description": str, "method": str, "synthetic": bool, "confidential": bool,
}
_TABLE_KEYS = {
    "path": str, "loader": str, "options": dict, "unit": (str, type(None)), "cells": str,
    "key": dict,
    "columns": dict, "label": str, "date": str, "source": str, "licence": str,
    "estimated": bool, "description": str, "method": str,
}
_GROUP_KEYS = {
    "label": str, "table": str, "count": str, "total": str, "share": str,
    "bezirk_table": str, "description": str,
}
_UNIT_KEYS = {"layer": str, "label": str, "label_plural": str}
_COMPARISON_KEYS = {"label": str, "first": dict, "second": dict, "names": list, "note": str}
_SHARE_KEYS = {"table": str, "column": str}
_SITING_KEYS = {"demand": dict}
_DEMAND_KEYS = {"cells": str, "column": str, "label": str}

#: File formats of census grid cells a layer may name (``"format"``).
CELL_FORMATS = ("gridtiler", "zensus2011", "zensus2022")
_BUDGET_KEYS = {"total": int, "weights": dict, "source": str, "method": str}

_TYPE_NAMES = {str: "Text", dict: "Objekt {…}", list: "Liste […]", bool: "true/false",
               int: "ganze Zahl", type(None): "null"}
_LOADER = re.compile(r"^[a-z][a-z0-9_]*:[a-z_][a-z0-9_]*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _type_text(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " oder ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)


class _Reader:
    def __init__(self, where: str, folder: Path) -> None:
        self.where = where
        self.folder = folder

    def fail(self, text: str) -> PackError:
        return PackError(f"{self.where}: {text}")

    def keys(self, obj: Mapping[str, Any], allowed: Mapping[str, Any], at: str) -> None:
        for key, value in obj.items():
            if key not in allowed:
                close = suggest(str(key), allowed)
                hint = f" – meinten Sie {close[0]!r}?" if close else ""
                raise self.fail(
                    f"unbekannter Schlüssel {at}{key!r}{hint} Erlaubt: {', '.join(allowed)}."
                )
            kind = allowed[key]
            if kind is int and isinstance(value, bool):
                ok = False
            else:
                ok = isinstance(value, kind)
            if not ok:
                raise self.fail(
                    f"{at}{key!r} muss {_type_text(kind)} sein, nicht {json.dumps(value)[:40]}."
                )

    def mapping_of_str(self, obj: Mapping[str, Any], at: str) -> dict[str, str]:
        for k, v in obj.items():
            if not isinstance(v, str) or not v:
                raise self.fail(f"{at}{k!r} muss ein Spaltenname (Text) sein, nicht "
                                f"{json.dumps(v)[:40]}.")
        return dict(obj)

    def path(self, text: str) -> Path:
        p = Path(os.path.expanduser(text))
        return p if p.is_absolute() else self.folder / p

    def loader(self, text: str, at: str) -> str:
        if not _LOADER.match(text):
            raise self.fail(
                f"{at}'loader' muss 'modul:funktion' aus gis_planning.data.sources sein "
                f"(z. B. 'essen:load_kitas'), nicht {text!r}."
            )
        return text


def _layer(r: _Reader, name: str, value: Any, known: Mapping[str, Any]) -> LayerSpec:
    at = f"layers.{name}."
    if isinstance(value, str):
        value = {"path": value}
    if not isinstance(value, dict):
        raise r.fail(f"'layers.{name}' muss ein Dateipfad (Text) oder ein Objekt sein.")
    r.keys(value, _LAYER_KEYS, at)
    schema = value.get("schema")
    if name not in known and schema is None:
        close = suggest(name, known)
        hint = f" – meinten Sie {close[0]!r}?" if close else ""
        raise r.fail(
            f"unbekannte Ebene 'layers.{name}'{hint} Bekannt: {', '.join(known)}; eine weitere "
            f"Ebene braucht \"schema\" (z. B. \"gebiete\")."
        )
    if schema is not None and schema not in known:
        close = suggest(schema, known)
        hint = f" – meinten Sie {close[0]!r}?" if close else ""
        raise r.fail(f"{at}'schema' {schema!r} ist unbekannt{hint}")
    if ("path" in value) == ("loader" in value):
        raise r.fail(f"'layers.{name}' braucht genau eines von 'path' (Datei) oder 'loader'.")
    fmt = value.get("format")
    if fmt is not None:
        if fmt not in CELL_FORMATS:
            close = suggest(fmt, CELL_FORMATS)
            hint = f" – meinten Sie {close[0]!r}?" if close else ""
            raise r.fail(f"{at}'format' {fmt!r} ist unbekannt{hint} Erlaubt: "
                         f"{', '.join(CELL_FORMATS)} (Zensus-Gitterzellen).")
        if (schema or name) != "zellen":
            raise r.fail(f"{at}'format' gilt nur für Gitterzellen (\"schema\": \"zellen\").")
    return LayerSpec(
        name=name,
        path=r.path(value["path"]) if "path" in value else None,
        loader=r.loader(value["loader"], at) if "loader" in value else None,
        options=dict(value.get("options", {})),
        layer=value.get("layer"),
        columns=r.mapping_of_str(value.get("columns", {}), f"{at}columns."),
        crs=value.get("crs"),
        schema=schema,
        format=fmt,
        **{k: value.get(k, "") for k in ("label", "source", "licence", "date",
                                         "description", "method")},
        synthetic=bool(value.get("synthetic", False)),
        confidential=bool(value.get("confidential", False)),
    )


def _table(r: _Reader, name: str, value: Any, layers: Mapping[str, LayerSpec], i: int | None
           ) -> TableSpec:
    layer_names = set(layers)
    at = f"tables.{name}." if i is None else f"tables.{name}[{i}]."
    if isinstance(value, str):
        value = {"path": value}
    if not isinstance(value, dict):
        raise r.fail(f"'{at[:-1]}' muss ein Dateipfad (Text), ein Objekt oder eine Liste "
                     f"von Objekten (mehrere Stände) sein.")
    r.keys(value, _TABLE_KEYS, at)
    if sum(k in value for k in ("path", "loader", "cells")) != 1:
        raise r.fail(f"'{at[:-1]}' braucht genau eines von 'path' (Datei), 'loader' oder "
                     f"'cells' (Summe von Gitterzellen).")
    unit = value.get("unit", "stadtteile")
    cells = value.get("cells")
    if cells is not None:
        if cells not in layers:
            close = suggest(cells, layers)
            hint = f" – meinten Sie {close[0]!r}?" if close else ""
            raise r.fail(f"{at}'cells' nennt die Ebene {cells!r}, die das Pack nicht hat{hint}")
        if (layers[cells].schema or cells) != "zellen":
            raise r.fail(f"{at}'cells': die Ebene {cells!r} ist keine Zellenebene "
                         f"(\"schema\": \"zellen\").")
        if unit is None:
            raise r.fail(f"{at}'cells' braucht eine Einheit ('unit'), auf die summiert wird.")
    if unit is not None and unit not in layer_names:
        close = suggest(unit, layer_names)
        hint = f" – meinten Sie {close[0]!r}?" if close else ""
        raise r.fail(f"{at}'unit' nennt die Ebene {unit!r}, die das Pack nicht hat{hint}")
    key = r.mapping_of_str(value.get("key", {}), f"{at}key.")
    if unit is not None and not key:
        default_id = {"stadtteile": "stadtteil_nr", "stadtbezirke": "bezirk",
                      "jobcenter": "jobcenter"}.get(unit)
        if default_id is None:
            raise r.fail(f"{at}'key' fehlt: welche Spalte der Tabelle passt zu welcher "
                         f"Spalte der Ebene {unit!r}? z. B. \"key\": {{\"id\": \"gebiet_id\"}}.")
        key = {default_id: default_id}
    if len(key) > 1:
        raise r.fail(f"{at}'key' darf genau eine Spalte zuordnen, nicht {len(key)}.")
    return TableSpec(
        name=name,
        path=r.path(value["path"]) if "path" in value else None,
        loader=r.loader(value["loader"], at) if "loader" in value else None,
        options=dict(value.get("options", {})),
        unit=unit, key=key, cells=cells,
        columns=r.mapping_of_str(value.get("columns", {}), f"{at}columns."),
        **{k: value.get(k, "") for k in ("label", "date", "source", "licence",
                                         "description", "method")},
        estimated=bool(value.get("estimated", False)),
    )


def _group(r: _Reader, name: str, value: Any, tables: Mapping[str, Any]) -> GroupSpec:
    at = f"groups.{name}."
    if not isinstance(value, dict):
        raise r.fail(f"'groups.{name}' muss ein Objekt sein, z. B. {{\"label\": \"…\", "
                     f"\"table\": \"bevoelkerung\", \"count\": \"…\", \"total\": \"…\"}}.")
    r.keys(value, _GROUP_KEYS, at)
    for need in ("label", "table"):
        if need not in value:
            raise r.fail(f"{at}{need!r} fehlt.")
    if value["table"] not in tables:
        close = suggest(value["table"], tables)
        hint = f" – meinten Sie {close[0]!r}?" if close else ""
        raise r.fail(f"{at}'table' nennt die Tabelle {value['table']!r}, die das Pack nicht "
                     f"hat{hint}")
    if "count" in value and "total" not in value:
        raise r.fail(f"{at}'total' fehlt: zu 'count' gehört die Spalte der Gesamtzahl "
                     f"(z. B. \"einwohner\").")
    if "count" not in value and "share" not in value:
        raise r.fail(f"{at} braucht 'count' und 'total' (Anzahlen) oder 'share' (Anteil in %).")
    bt = value.get("bezirk_table")
    if bt is not None and bt not in tables:
        close = suggest(bt, tables)
        hint = f" – meinten Sie {close[0]!r}?" if close else ""
        raise r.fail(f"{at}'bezirk_table' nennt die Tabelle {bt!r}, die das Pack nicht hat{hint}")
    return GroupSpec(name=name, label=value["label"], table=value["table"],
                     count=value.get("count"), total=value.get("total"),
                     share=value.get("share"), bezirk_table=bt,
                     description=value.get("description", ""))


def pack_from_dict(
    spec: Mapping[str, Any],
    *,
    folder: str | os.PathLike,
    where: str = "Pack",
    known_layers: Mapping[str, Any] | None = None,
    path: str | os.PathLike | None = None,
) -> CityPack:
    """Build a :class:`CityPack` from parsed JSON/TOML, checking every key and type.

    ``folder`` resolves relative paths; ``known_layers`` are the layer names that need no
    ``schema`` key (default: the core schemas).
    """
    if known_layers is None:
        from .schema import SCHEMAS

        known_layers = SCHEMAS
    r = _Reader(where, Path(folder))
    if not isinstance(spec, Mapping):
        raise r.fail("die Datei muss ein Objekt {…} enthalten.")
    r.keys(spec, _TOP_KEYS, "")
    if "extends" in spec:
        spec = _extended(spec, Path(folder), where)
    if "city" not in spec:  # catalogue files of earlier versions could leave it out
        spec = {**spec, "city": "Stadt"}
    if not spec["city"].strip():
        raise r.fail("'city' ist leer; geben Sie den Namen der Stadt an.")
    if "layers" not in spec or not spec["layers"]:
        raise r.fail("'layers' fehlt oder ist leer; nennen Sie mindestens die Datei der "
                     "Stadtteile: \"layers\": {\"stadtteile\": \"stadtteile.gpkg\"}.")
    layers = {n: _layer(r, n, v, known_layers) for n, v in spec["layers"].items()}
    tables: dict[str, tuple[TableSpec, ...]] = {}
    for name, value in spec.get("tables", {}).items():
        if not _NAME.match(name):
            raise r.fail(f"Tabellenname {name!r}: nur Kleinbuchstaben, Ziffern und _ .")
        if name in layers:
            raise r.fail(f"Tabelle {name!r} heißt wie eine Ebene; wählen Sie einen anderen "
                         f"Namen.")
        if isinstance(value, list):
            if not value:
                raise r.fail(f"'tables.{name}' ist eine leere Liste.")
            versions = [_table(r, name, v, layers, i) for i, v in enumerate(value)]
        else:
            versions = [_table(r, name, value, layers, None)]
        dates = [v.date for v in versions]
        if len(versions) > 1 and (not all(dates) or len(set(dates)) != len(dates)):
            raise r.fail(f"'tables.{name}': mehrere Stände brauchen je ein eigenes 'date'.")
        tables[name] = tuple(sorted(versions, key=lambda v: _date_key(v.date)))
    groups = {n: _group(r, n, v, tables) for n, v in spec.get("groups", {}).items()}
    for name in groups:
        if not _NAME.match(name):
            raise r.fail(f"Gruppenname {name!r}: nur Kleinbuchstaben, Ziffern und _ .")
    secret = spec.get("confidential", [])
    for n in secret:
        if not isinstance(n, str):
            raise r.fail("'confidential' muss eine Liste von Ebenennamen sein, z. B. "
                         "[\"kitas\"].")
        if n not in layers:
            close = suggest(n, layers)
            hint = f" – meinten Sie {close[0]!r}?" if close else ""
            raise r.fail(f"'confidential' nennt die Ebene {n!r}, die das Pack nicht hat{hint}")
    unit = spec.get("unit", {})
    r.keys(unit, _UNIT_KEYS, "unit.")
    unit_spec = UnitSpec(**unit)
    if "unit" in spec and unit_spec.layer not in layers:
        raise r.fail(f"'unit.layer' nennt {unit_spec.layer!r}, die das Pack nicht hat.")
    budget = None
    if "budget" in spec:
        r.keys(spec["budget"], _BUDGET_KEYS, "budget.")
        weights = spec["budget"].get("weights", {})
        for k, v in weights.items():
            if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
                raise r.fail(f"budget.weights.{k} muss eine Zahl ≥ 0 sein.")
        budget = BudgetSpec(total=spec["budget"].get("total"), weights=dict(weights),
                            source=spec["budget"].get("source", ""),
                            method=spec["budget"].get("method", ""))
    comparisons = {}
    for cname, value in spec.get("comparisons", {}).items():
        at = f"comparisons.{cname}."
        if not isinstance(value, dict):
            raise r.fail(f"'comparisons.{cname}' muss ein Objekt sein.")
        r.keys(value, _COMPARISON_KEYS, at)
        for need in ("label", "first", "second"):
            if need not in value:
                raise r.fail(f"{at}{need!r} fehlt.")
        for side in ("first", "second"):
            r.keys(value[side], _SHARE_KEYS, f"{at}{side}.")
            if set(value[side]) != {"table", "column"}:
                raise r.fail(f"{at}{side} braucht 'table' und 'column'.")
            if value[side]["table"] not in tables:
                raise r.fail(f"{at}{side}.table {value[side]['table']!r} ist keine Tabelle des "
                             f"Packs.")
        names = tuple(value.get("names", ("vorher", "nachher")))
        if len(names) != 2 or not all(isinstance(n, str) for n in names):
            raise r.fail(f"{at}'names' muss zwei Texte nennen, z. B. [\"2011\", \"2016\"].")
        comparisons[cname] = ComparisonSpec(cname, value["label"], dict(value["first"]),
                                            dict(value["second"]), names,
                                            value.get("note", ""))
    siting = SitingSpec()
    if "siting" in spec:
        r.keys(spec["siting"], _SITING_KEYS, "siting.")
        demand = spec["siting"].get("demand", {})
        r.keys(demand, _DEMAND_KEYS, "siting.demand.")
        if "cells" in demand and demand["cells"] not in layers:
            raise r.fail(f"siting.demand.cells nennt die Ebene {demand['cells']!r}, die das "
                         f"Pack nicht hat.")
        siting = SitingSpec(demand.get("cells"), demand.get("column"), demand.get("label", ""))
    crs = spec.get("crs")
    if crs is not None:
        try:
            import pyproj

            parsed = pyproj.CRS.from_user_input(crs)
        except Exception:  # pyproj raises CRSError and ValueError subclasses
            raise r.fail(f"'crs' {crs!r} ist kein bekanntes Koordinatensystem; geben Sie "
                         f"einen EPSG-Code an, z. B. \"EPSG:25832\".") from None
        if parsed.is_geographic:
            raise r.fail(f"'crs' {crs!r} ist geografisch (Grad); Abstände und Flächen "
                         f"brauchen ein metrisches System, z. B. \"EPSG:25832\" (UTM 32N) "
                         f"oder \"EPSG:25833\" (UTM 33N).")
    return CityPack(
        city=spec["city"].strip(), layers=layers, tables=tables, groups=groups, crs=crs,
        unit=unit_spec, bezirk_label=spec.get("bezirk_label", "Stadtbezirk"),
        confidential=tuple(secret), budget=budget, description=spec.get("description", ""),
        comparisons=comparisons, siting=siting,
        path=None if path is None else Path(path),
    )


def _date_key(text: str) -> tuple:
    """Sort key of a date text: ISO dates, '30.09.2016', years; unknown texts first."""
    t = text.strip()
    m = re.match(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", t)
    if m:
        return (1, int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0))
    m = re.match(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})", t)
    if m:
        return (1, int(m.group(3)), int(m.group(2)), int(m.group(1)))
    m = re.search(r"(\d{4})", t)
    if m:
        return (1, int(m.group(1)), 0, 0)
    return (0, t)


def _absolute(spec: Mapping[str, Any], folder: Path) -> dict[str, Any]:
    """Return ``spec`` with the relative file paths of layers and tables made absolute."""
    out = dict(spec)

    def fix(value: Any) -> Any:
        if isinstance(value, str):
            p = Path(os.path.expanduser(value))
            return str(p if p.is_absolute() else folder / p)
        if isinstance(value, dict) and isinstance(value.get("path"), str):
            return {**value, "path": fix(value["path"])}
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value

    for member in ("layers", "tables"):
        if isinstance(out.get(member), dict):
            out[member] = {k: fix(v) for k, v in out[member].items()}
    return out


def _extended(spec: Mapping[str, Any], folder: Path, where: str, seen: tuple = ()
              ) -> dict[str, Any]:
    """Merge a pack that ``extends`` another one (a shipped city or a pack file)."""
    base_name = spec["extends"]
    target = base_name if base_name.lower() in SHIPPED_PACKS else str(folder / base_name)
    base_path = pack_path(target)
    if base_path.resolve() in seen:
        raise PackError(f"{where}: 'extends' bildet einen Kreis ({base_name!r}).")
    base = _load_spec(base_path)
    base = _absolute(base, base_path.parent)
    if "extends" in base:
        base = _extended(base, base_path.parent, f"Pack-Datei {str(base_path)!r}",
                         (*seen, base_path.resolve()))
    child = _absolute(spec, folder)
    merged = {**base, **{k: v for k, v in child.items() if k != "extends"}}
    for member in ("layers", "tables", "groups"):
        merged[member] = {**base.get(member, {}), **child.get(member, {})}
    merged["confidential"] = list(dict.fromkeys([*base.get("confidential", []),
                                                 *child.get("confidential", [])]))
    merged.pop("extends", None)
    return merged


def _load_spec(p: Path) -> dict[str, Any]:
    where = f"Pack-Datei {str(p)!r}"
    try:
        raw = p.read_bytes()
    except OSError as exc:
        from ._csv import os_reason

        raise PackError(f"{where}: nicht lesbar ({os_reason(exc)}).") from None
    try:
        if p.suffix.lower() == ".toml":
            import tomllib

            spec = tomllib.loads(raw.decode("utf-8"))
        else:
            spec = json.loads(raw.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        kind = "TOML" if p.suffix.lower() == ".toml" else "JSON"
        raise PackError(
            f"{where}: kein gültiges {kind} ({first}). Beispiel: "
            '{"city": "Bochum", "layers": {"stadtteile": "stadtteile.gpkg"}}.'
        ) from None
    if not isinstance(spec, dict):
        raise PackError(f"{where}: die Datei muss ein Objekt {{…}} enthalten.")
    return spec


def pack_path(name_or_path: str | os.PathLike) -> Path:
    """Return the pack file of a shipped city (``"essen"``) or the given path."""
    text = str(name_or_path)
    if text.lower() in SHIPPED_PACKS and not Path(text).exists():
        return LAYERS_DIR / text.lower() / "pack.json"
    p = Path(text)
    if p.is_dir():
        for cand in ("pack.json", "pack.toml"):
            if (p / cand).exists():
                return p / cand
    if not p.exists():
        close = suggest(text.lower(), SHIPPED_PACKS)
        hint = f" Meinten Sie {close[0]!r}?" if close else ""
        raise PackError(
            f"--city {text!r}: weder eine mitgelieferte Stadt ({', '.join(SHIPPED_PACKS)}) noch "
            f"eine vorhandene Pack-Datei.{hint}"
        )
    return p


def read_pack(path: str | os.PathLike) -> CityPack:
    """Read a pack file (``.json`` or ``.toml``); also today's catalogue JSON files.

    Raises
    ------
    PackError
        With one line naming the file, the key and the fix.
    """
    p = pack_path(path)
    where = f"Pack-Datei {str(p)!r}"
    spec = _load_spec(p)
    if "extends" in spec:
        if not isinstance(spec["extends"], str):
            raise PackError(f"{where}: 'extends' muss Text sein (eine Stadt wie \"essen\" oder "
                            f"eine Pack-Datei).")
        spec = _extended(spec, p.parent, where, (p.resolve(),))
    return pack_from_dict(spec, folder=p.parent, where=where, path=p)
