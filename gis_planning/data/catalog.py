"""The layer catalogue: named layers with schema, German label, source, licence and date.

A :class:`Catalog` maps layer names to :class:`LayerSchema` entries and knows how to load each
layer, either from the shipped Essen data (cleaned by code from ``layers/essen/raw``) or from a
user's file. Another city brings its own files with :meth:`Catalog.from_paths` (or a JSON file
for the CLI's ``--catalog``); they are validated against the same schemas.

Examples
--------
>>> from gis_planning.data import catalog
>>> cat = catalog.default_catalog()
>>> "stadtteile" in cat.names()
True
>>> len(cat.load("stadtteile"))
50
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import geopandas as gpd

from .._errors import LayerError
from .._validate import ANALYSIS_CRS
from .io import read_file, validate_layer
from .schema import LayerSchema

__all__ = [
    "ESSEN_SCHEMAS",
    "LAYERS_DIR",
    "Catalog",
    "LayerSchema",
    "default_catalog",
    "load",
]

#: Top-level folder with input data and provenance.
LAYERS_DIR = Path(__file__).resolve().parents[2] / "layers"

ODBL = "© OpenStreetMap-Mitwirkende, ODbL 1.0"
DL_DE = "Stadt Essen, Datenlizenz Deutschland – Namensnennung 2.0 (dl-de/by-2-0)"
SEED = (
    "Stadt Essen, Vorlage 1846/2016/5 „Strategiekonzept Integration von Flüchtlingen“, "
    "13.12.2016"
)
SYNTHETIC_NOTE = "synthetisch / Demonstrationsdaten"

#: Layers the shipped Essen data has no source for; users bring them (catalogue JSON).
USER_ONLY_LAYERS = ("begegnungsorte",)


def _essen_loader(name: str) -> Callable[[], gpd.GeoDataFrame]:
    def load() -> gpd.GeoDataFrame:
        from .sources import essen

        if name in ("jobcenter", "projektwohnungen"):
            from .sources import essen_derived as derived

            return getattr(derived, f"essen_{name}")()
        return getattr(essen, f"load_{name}")()

    return load


ESSEN_SCHEMAS: dict[str, LayerSchema] = {
    s.name: s
    for s in [
        LayerSchema(
            "stadtteile", "Stadtteile", "Polygon",
            {"stadtteil_nr": "int", "stadtteil": "str", "bezirk": "int"},
            source="OpenStreetMap admin_level=10 (Stand etwa 2016); Gerschede abgeleitet",
            licence=ODBL, date="2016", id_column="stadtteil_nr",
            description="50 Stadtteile mit amtlicher Nummer 1-50 und Stadtbezirk 1-9.",
        ),
        LayerSchema(
            "stadtbezirke", "Stadtbezirke", "Polygon", {"bezirk": "int", "bezirk_roman": "str"},
            source="Stadt Essen, Open Data (Stadtbezirke)", licence=DL_DE, date="2024",
            id_column="bezirk", description="9 amtliche Stadtbezirke I-IX.",
        ),
        LayerSchema(
            "stadtgrenze", "Stadtgrenze", "Polygon", {},
            source="Stadt Essen, Open Data (Stadtgrenze)", licence=DL_DE, date="2024",
            description="Amtliche Stadtgrenze (210,27 km²).",
        ),
        LayerSchema(
            "jobcenter", "JobCenter-Bereiche", "Polygon",
            {"jobcenter": "str", "n_stadtteile": "int"},
            source=f"{SEED}, Quelle FB 56, Stand 05.10.2016; Geometrie aus den Stadtteilen",
            licence=f"{ODBL}; Angaben der Vorlage", date="2016-10-05", id_column="jobcenter",
            method="Stadtteile je JobCenter-Bereich aus der Vorlage zusammengefasst; "
            "„teilw.“ markiert, Lücken im Prüfbericht (jobcenter_audit).",
            description="JobCenter-Bereiche, abgeleitet aus der Stadtteil-Liste der Vorlage.",
        ),
        LayerSchema(
            "kitas", "Kitas", "Point",
            {"kita_id": "int", "name": "str", "stadtteil": "str", "in_betrieb": "bool"},
            required=("name",), source="Stadt Essen, Open Data (Kitas 2024/2025)",
            licence=DL_DE, date="2024/2025", id_column="kita_id",
            description="312 Kindertageseinrichtungen; 3 noch nicht eröffnete markiert.",
            check_stadtteil=True,
        ),
        LayerSchema(
            "schulen", "Schulen", "Point",
            {"schul_id": "int", "name": "str", "schulform": "str", "stadtteil": "str"},
            required=("name", "schulform"), source="Stadt Essen, Open Data (Schulen 2024/2025)",
            licence=DL_DE, date="2024/2025", id_column="schul_id",
            description="212 Schulen mit vereinheitlichter Schulform.",
            check_stadtteil=True,
        ),
        LayerSchema(
            "begegnungsorte", "Begegnungsorte", "Point",
            {"name": "str", "typ": "str", "kapazitaet": "float", "besteht": "bool"},
            required=("name",), source="eigene Datei der Nutzerin / des Nutzers",
            licence="nach Quelle", date="nach Quelle", group="Planung",
            description="Bestehende Treffpunkte (Bürgerbegegnungszentren, Stadtteilbüros): "
            "Name, Typ, optional Kapazität, optional 'besteht' (wird in jede Lösung gesetzt). "
            "Für Essen liegen nur Adressen ohne Koordinaten vor "
            "(layers/essen/raw/treffpunkte_adressen.csv); sie sind nicht geokodiert.",
            check_stadtteil=True,
        ),
        LayerSchema(
            "projektwohnungen", f"Projektwohnungen ({SYNTHETIC_NOTE})", "Point",
            {"bezirk": "int", "synthetisch": "bool", "hinweis": "str"},
            required=(), source=f"{SYNTHETIC_NOTE}: erzeugt mit festem Zufallsstartwert; "
            f"Verteilung auf die Bezirke nach den Anteilen der Vorlage ({SEED})",
            licence="synthetisch, frei nutzbar", date="2016-09-30",
            method="Anzahl je Bezirk nach dem Anteil Projektwohnungen (FB 12, 30.09.2016) mit "
            "Restgrößenverfahren; Lage gleichverteilt im Bezirk (seed=2016).",
            description="Synthetische Demonstrationsdaten. Echte Standorte sind vertraulich.",
            confidential=True, synthetic=True,
        ),
    ]
}


@dataclass
class Catalog:
    """Named layers, each with a schema and a way to load it.

    Parameters
    ----------
    schemas
        Layer name -> schema.
    sources
        Layer name -> file path or a zero-argument loader returning a GeoDataFrame.
    city
        City name shown in titles.
    """

    schemas: dict[str, LayerSchema]
    sources: dict[str, str | os.PathLike | Callable[[], gpd.GeoDataFrame]]
    city: str = "Essen"
    tables: dict[str, str | os.PathLike] = field(default_factory=dict)
    _cache: dict[str, gpd.GeoDataFrame] = field(default_factory=dict, repr=False)
    _results: dict[str, object] = field(default_factory=dict, repr=False)

    def names(self) -> list[str]:
        """Return the names of the layers that have a source."""
        return [n for n in self.schemas if n in self.sources]

    def schema(self, name: str) -> LayerSchema:
        """Return the schema of layer ``name``; unknown names raise with suggestions."""
        if name not in self.schemas:
            from .._names import suggest

            close = suggest(name, self.schemas)
            hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise LayerError(
                f"unknown layer {name!r}.{hint} Known layers: {', '.join(self.names())}."
            )
        return self.schemas[name]

    @cached_property
    def stadtteil_names(self) -> list[str] | None:
        if "stadtteile" not in self.sources:
            return None
        return self.load("stadtteile")["stadtteil"].tolist()

    def load(self, name: str) -> gpd.GeoDataFrame:
        """Load layer ``name`` validated and in the analysis CRS EPSG:25832."""
        schema = self.schema(name)
        if name not in self.sources:
            raise LayerError(
                f"layer {name!r} has no data in this catalogue; add a file for it "
                f"(e.g. Catalog.from_paths({{{name!r}: 'path'}}) or --catalog)."
            )
        if name not in self._cache:
            src = self.sources[name]
            if callable(src):
                gdf = src()
            else:
                gdf = read_file(src)
            names = None if name == "stadtteile" else self.stadtteil_names
            label = f"layer {name!r}" if callable(src) else f"layer {name!r} ({str(src)!r})"
            gdf = validate_layer(gdf, schema, name=label, stadtteil_names=names)
            gdf = gdf.to_crs(ANALYSIS_CRS)
            if schema.confidential:
                from ..privacy import mark_confidential

                mark_confidential(gdf, name)
            self._cache[name] = gdf
        return self._cache[name].copy()

    def load_path(self, path: str | os.PathLike, *, like: str | None = None) -> gpd.GeoDataFrame:
        """Load a user's file, validated against the schema of layer ``like`` if given."""
        gdf = read_file(path)
        if like is not None:
            gdf = validate_layer(
                gdf, self.schema(like), name=str(path), stadtteil_names=self.stadtteil_names
            )
        else:
            from .io import check_crs_plausible

            check_crs_plausible(gdf, name=str(path))
        return gdf.to_crs(ANALYSIS_CRS)

    @classmethod
    def from_paths(
        cls,
        paths: Mapping[str, str | os.PathLike],
        *,
        city: str = "Stadt",
        schemas: Mapping[str, LayerSchema] | None = None,
    ) -> Catalog:
        """Build a catalogue from a user's files, one per layer name."""
        base = dict(ESSEN_SCHEMAS if schemas is None else schemas)
        for name in paths:
            if name not in base:
                raise LayerError(
                    f"unknown layer {name!r} in the catalogue file; known: {', '.join(base)}."
                )
        return cls(schemas=base, sources=dict(paths), city=city)

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> Catalog:
        """Read ``{"city": "...", "layers": {"stadtteile": "file.gpkg", ...}}``.

        An optional ``"tables"`` member names non-spatial tables, e.g.
        ``{"stadtteil_statistik": "stadtteile_2016.csv"}`` (replaces the Essen estimate).
        An optional ``"confidential"`` member lists further layers whose points may leave
        the toolkit only aggregated, e.g. ``["kitas"]`` (``projektwohnungen`` always is).
        Relative paths are taken from the JSON file's folder.
        """
        p = Path(path)
        from .._atomic import register_input

        register_input(p)  # never overwrite the catalogue file with an output
        try:
            spec = json.loads(p.read_text(encoding="utf-8"))
            layers = spec["layers"]
            for member in (layers, spec.get("tables", {})):
                if not isinstance(member, dict) or not all(
                    isinstance(v, str) for v in member.values()
                ):
                    raise TypeError("'layers' and 'tables' map names to file paths")
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise LayerError(
                f"cannot read catalogue file {str(p)!r} ({exc}); it must be JSON like "
                '{"city": "Bochum", "layers": {"stadtteile": "stadtteile.gpkg"}}.'
            ) from None
        resolved = {k: (p.parent / v) for k, v in layers.items()}
        cat = cls.from_paths(resolved, city=spec.get("city", "Stadt"))
        cat.tables = {k: (p.parent / v) for k, v in spec.get("tables", {}).items()}
        secret = spec.get("confidential", [])
        if not isinstance(secret, list) or not all(isinstance(n, str) for n in secret):
            raise LayerError(
                f"catalogue file {str(p)!r}: 'confidential' must be a list of layer names, "
                'e.g. "confidential": ["kitas"].'
            )
        for layer in secret:
            cat.schemas[layer] = replace(cat.schema(layer), confidential=True)
        return cat


def default_catalog() -> Catalog:
    """Return the catalogue of the shipped Essen layers."""
    return Catalog(
        schemas=dict(ESSEN_SCHEMAS),
        sources={name: _essen_loader(name) for name in ESSEN_SCHEMAS
                 if name not in USER_ONLY_LAYERS},
        city="Essen",
    )


_DEFAULT: Catalog | None = None


def load(name: str) -> gpd.GeoDataFrame:
    """Load a layer of the shipped Essen catalogue by name."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = default_catalog()
    return _DEFAULT.load(name)
