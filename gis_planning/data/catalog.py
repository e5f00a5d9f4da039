"""The layer catalogue of one city: layers, dated indicator tables and population groups.

A :class:`Catalog` is built from a city pack (:mod:`gis_planning.data.pack`): it loads each
layer (from a file with a column mapping, or from the city's cleaning code in
:mod:`gis_planning.data.sources`), validates it against its schema
(:data:`gis_planning.data.schema.SCHEMAS`), moves it to the pack's working CRS and completes
the hierarchy from the data (a Stadtteil's Bezirk from the Bezirk polygons, a point's Stadtteil
and Bezirk by spatial join, points outside the city flagged). Tables are joined to their unit
by their key; shares are computed from counts.

The module stays one piece (about 870 lines) because it is essentially the one class
:class:`Catalog`, whose loading, table and group methods call each other; splitting the class
across modules would scatter one object's state without making any part shorter to read.

Examples
--------
>>> from gis_planning.data import catalog
>>> cat = catalog.default_catalog()
>>> "stadtteile" in cat.names()
True
>>> len(cat.load("stadtteile"))
50
>>> cat.group().label
'12 Hauptherkunftsländer'
"""

from __future__ import annotations

import importlib
import logging
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._errors import LayerError, SchemaError
from .._names import suggest
from .io import read_file, validate_layer
from .pack import (
    LAYERS_DIR,
    NOT_GIVEN,
    CityPack,
    GroupSpec,
    LayerSpec,
    PackError,
    TableSpec,
    pack_from_dict,
    read_pack,
)
from .schema import SCHEMAS, LayerSchema

__all__ = [
    "LAYERS_DIR",
    "SCHEMAS",
    "Catalog",
    "LayerSchema",
    "default_catalog",
    "load",
    "load_city",
]

log = logging.getLogger(__name__)

#: Layers whose rows are polygons that partition the city (hierarchy levels).
_AREA_LAYERS = ("stadtteile", "stadtbezirke")


def _call_loader(text: str, options: Mapping[str, Any], where: str) -> Any:
    module_name, _, func_name = text.partition(":")
    try:
        module = importlib.import_module(f"gis_planning.data.sources.{module_name}")
    except ModuleNotFoundError:
        raise PackError(
            f"{where}: 'loader' {text!r}: es gibt kein Modul {module_name!r} in "
            f"gis_planning/data/sources/."
        ) from None
    fn = getattr(module, func_name, None)
    if not callable(fn):
        raise PackError(f"{where}: 'loader' {text!r}: {module_name} hat keine Funktion "
                        f"{func_name!r}.")
    try:
        return fn(**options)
    except TypeError as exc:
        if "unexpected keyword" in str(exc) or "positional argument" in str(exc):
            raise PackError(f"{where}: 'options' {dict(options)} passen nicht zu {text!r} "
                            f"({exc}).") from None
        raise


def _nested(frame: pd.DataFrame, source: str) -> pd.Series | None:
    """Return the values of ``a/b`` (key ``b`` inside column ``a``), or None if not present."""
    parent, _, child = source.partition("/")
    for flat in (source.replace("/", "_"), source.replace("/", "."), source.replace("/", ":")):
        if flat in frame.columns:
            return frame[flat]
    if parent not in frame.columns:
        return None

    def pick(value: Any) -> Any:
        if isinstance(value, str):
            import json

            try:
                value = json.loads(value)
            except ValueError:
                return None
        if isinstance(value, Mapping):
            out = value
            for part in child.split("/"):
                out = out.get(part) if isinstance(out, Mapping) else None
            return out
        return None

    return frame[parent].map(pick)


def map_columns(frame: pd.DataFrame, mapping: Mapping[str, str], *, where: str
                ) -> pd.DataFrame:
    """Rename ``frame``'s source columns to schema names (``{"STT_NR": "stadtteil_nr"}``).

    ``"tags/name"`` reads key ``name`` inside the column ``tags`` (JSON objects, as in OSM
    exports), or a flattened column ``tags_name`` / ``tags.name``. A missing source column
    raises :class:`PackError` with the columns the file has.
    """
    out = frame.copy()
    geom = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else None
    for source, target in mapping.items():
        if source == target:
            if source not in out.columns:
                raise PackError(f"{where}: Spalte {source!r} fehlt.")
            continue
        if source in out.columns:
            values = out[source]
            out = out.drop(columns=[source])
        elif "/" in source and (got := _nested(out, source)) is not None:
            values = got
        else:
            have = [str(c) for c in out.columns if c != geom]
            close = suggest(source, have)
            hint = f" Meinten Sie {close[0]!r}?" if close else ""
            raise PackError(
                f"{where}: die Spalte {source!r} (zugeordnet zu {target!r}) fehlt.{hint} "
                f"Vorhanden: {', '.join(have[:25])}."
            )
        if target in out.columns:
            out = out.rename(columns={target: f"{target}_quelle"})
        out[target] = values.to_numpy()
    if geom is not None:
        out = out[[c for c in out.columns if c != geom] + [geom]]
    return out


class Catalog:
    """The layers, tables and groups of one city, built from its pack.

    Parameters
    ----------
    pack
        The city pack (:func:`gis_planning.data.pack.read_pack`).
    schemas
        Layer kind -> schema (default: :data:`gis_planning.data.schema.SCHEMAS`).
    """

    def __init__(self, pack: CityPack, *, schemas: Mapping[str, LayerSchema] | None = None):
        if not pack.groups:
            pack = _infer_groups(pack)
        self.pack = pack
        self.base_schemas = dict(SCHEMAS if schemas is None else schemas)
        self._cache: dict[str, gpd.GeoDataFrame] = {}
        self._tables: dict[tuple[str, str], pd.DataFrame] = {}
        self._results: dict[str, object] = {}
        self.notes: list[str] = []
        if pack.path is not None:
            from .._atomic import register_input

            register_input(pack.path)
        for path in pack.files():
            from .._atomic import register_input

            register_input(path)

    def __repr__(self) -> str:
        return f"Catalog(city={self.city!r}, layers={self.names()}, tables={self.table_names()})"

    # ----------------------------------------------------------------- what is there
    @property
    def city(self) -> str:
        return self.pack.city

    @property
    def unit(self):
        """The analysis unit (:class:`~gis_planning.data.pack.UnitSpec`)."""
        return self.pack.unit

    @cached_property
    def crs(self) -> str:
        """The working CRS: the pack's, or the ETRS89/UTM zone of the city (32 or 33)."""
        if self.pack.crs:
            return self.pack.crs
        first = self.unit.layer if self.unit.layer in self.pack.layers else self.names()[0]
        raw = self._raw_layer(first)
        from .io import check_crs_plausible

        check_crs_plausible(raw, name=f"Ebene {first!r}")
        lon = float(raw.to_crs("EPSG:4326").union_all().centroid.x)
        crs = "EPSG:25833" if lon >= 12.0 else "EPSG:25832"
        log.info("Koordinatensystem nicht angegeben: %s (UTM-Zone der Stadt) gewählt", crs)
        return crs

    def names(self) -> list[str]:
        """Return the names of the layers the pack provides."""
        return list(self.pack.layers)

    def kind(self, name: str) -> str:
        """Return the layer kind (schema name) of layer ``name``."""
        return self.layer_spec(name).schema or name

    def layer_spec(self, name: str) -> LayerSpec:
        if name not in self.pack.layers:
            self._unknown_layer(name)
        return self.pack.layers[name]

    def _unknown_layer(self, name: str):
        known = self.names()
        close = suggest(name, known + self.table_names())
        hint = f" Meinten Sie {' oder '.join(map(repr, close))}?" if close else ""
        if name in self.base_schemas:
            raise LayerError(
                f"die Ebene {name!r} fehlt in den Daten von {self.city}; ergänzen Sie sie in "
                f"der Pack-Datei (\"layers\": {{\"{name}\": \"datei.gpkg\"}}).{hint}"
            )
        raise LayerError(
            f"unbekannte Ebene {name!r}.{hint} Vorhanden: {', '.join(known)}."
        )

    def schema(self, name: str) -> LayerSchema:
        """Return the schema of layer ``name`` with the pack's label, source, licence, date."""
        if name not in self.pack.layers:
            if name in self.base_schemas:
                return self.base_schemas[name]
            self._unknown_layer(name)
        spec = self.pack.layers[name]
        base = self.base_schemas[spec.schema or name]
        return replace(
            base,
            name=name,
            label=spec.label or base.label,
            source=spec.source or NOT_GIVEN,
            licence=spec.licence or NOT_GIVEN,
            date=spec.date or NOT_GIVEN,
            description=spec.description or base.description,
            method=spec.method or base.method,
            synthetic=spec.synthetic,
            confidential=base.confidential or spec.confidential
            or name in self.pack.confidential,
        )

    @property
    def schemas(self) -> dict[str, LayerSchema]:
        """Layer name -> schema with metadata, for every layer of the pack."""
        return {n: self.schema(n) for n in self.names()}

    def inputs(self) -> list[Path]:
        """Every file the pack names (outputs may never replace them)."""
        return self.pack.files()

    # ----------------------------------------------------------------- layers
    def _raw_layer(self, name: str) -> gpd.GeoDataFrame:
        spec = self.layer_spec(name)
        where = f"Ebene {name!r}" + (f" ({str(spec.path)!r})" if spec.path else "")
        if spec.loader:
            gdf = _call_loader(spec.loader, spec.options, where)
        elif spec.format:
            gdf = self._read_cells(spec, where)
        else:
            gdf = read_file(spec.path, layer=spec.layer, crs=spec.crs)
        if spec.crs and gdf.crs is None:
            gdf = gdf.set_crs(spec.crs)
        if spec.columns:
            gdf = map_columns(gdf, spec.columns, where=where)
        return gdf

    def _read_cells(self, spec: LayerSpec, where: str) -> gpd.GeoDataFrame:
        """Census grid cells from official files, kept where the cell centre is in the city."""
        from . import zensus

        options = dict(spec.options)
        try:
            if spec.format == "gridtiler":
                cells = zensus.read_gridtiler_tiles(spec.path, **options)
            elif spec.format == "zensus2011":
                cells = zensus.read_zensus2011_csv(spec.path, **options)
            else:
                cells = zensus.read_zensus2022_csv(spec.path, **options)
        except TypeError as exc:
            raise PackError(f"{where}: 'options' {options} passen nicht zum Format "
                            f"{spec.format!r} ({exc}).") from None
        if "stadtgrenze" in self.pack.layers:
            boundary = self.load("stadtgrenze")
        elif self.unit.layer in self.pack.layers:
            boundary = self.load(self.unit.layer).dissolve()[["geometry"]]
        else:
            raise PackError(f"{where}: Gitterzellen brauchen die Stadtgrenze oder die "
                            f"Ebene {self.unit.layer!r}, um die Zellen der Stadt zu wählen.")
        return zensus.cells_in_boundary(cells, boundary)

    @cached_property
    def stadtteil_names(self) -> list[str] | None:
        if self.unit.layer not in self.pack.layers:
            return None
        return self.load(self.unit.layer)["stadtteil"].astype(str).tolist()

    def load(self, name: str) -> gpd.GeoDataFrame:
        """Load layer ``name`` validated, in the working CRS, with its hierarchy completed.

        A confidential layer comes in the form it may leave the toolkit: counts per analysis
        unit with small counts suppressed (:func:`gis_planning.privacy.release`), never its
        points. Code that must work on the points themselves (and keeps them inside) asks for
        them with :meth:`load_confidential_points`.
        """
        if self.schema(name).confidential:
            return self.released(name)
        if name not in self._cache:
            self._cache[name] = self._load(name)
        return self._cache[name].copy()

    def load_confidential_points(self, name: str) -> gpd.GeoDataFrame:
        """Return the records of a confidential layer themselves, marked confidential.

        Opt-in for analyses that keep the points inside (siting with confidential existing
        places, the flats density raster, the counts of :meth:`released`). Every writer, the
        query engine and the atlas refuse a marked frame (:func:`gis_planning.privacy.guard`),
        and pandas does not keep the mark through joins: never write or join what this
        returns. Non-confidential layers are returned as by :meth:`load`.
        """
        if not self.schema(name).confidential:
            return self.load(name)
        if name not in self._cache:
            self._cache[name] = self._load(name)
        out = self._cache[name].copy()
        from ..privacy import mark_confidential

        return mark_confidential(out, name)

    def released(self, name: str) -> gpd.GeoDataFrame:
        """Counts per analysis unit of a confidential point layer, suppressed below 5."""
        from ..privacy import DEFAULT_K, release

        key = f"_released_{name}"
        if key not in self._results:
            points = self.load_confidential_points(name)
            if not set(points.geom_type.dropna()) <= {"Point", "MultiPoint"}:
                raise LayerError(
                    f"die vertrauliche Ebene {name!r} enthält Flächen; sie lässt sich nicht als "
                    f"Anzahl je {self.unit.label} veröffentlichen."
                )
            if self.unit.layer not in self.pack.layers:
                raise LayerError(
                    f"die vertrauliche Ebene {name!r} lässt sich nur als Anzahl je "
                    f"{self.unit.label} veröffentlichen; dazu fehlt die Ebene {self.unit.layer!r}."
                )
            out = release(points, self.load(self.unit.layer), k=DEFAULT_K)
            if self.schema(name).synthetic:
                out["hinweis"] = "synthetisch / Demonstrationsdaten"
            self._results[key] = out
        return self._results[key].copy()

    def _load(self, name: str) -> gpd.GeoDataFrame:
        spec = self.layer_spec(name)
        schema = self.schema(name)
        label = f"Ebene {name!r}" + (f" ({str(spec.path)!r})" if spec.path else "")
        gdf = self._raw_layer(name)
        is_unit = name == self.unit.layer
        names = None if is_unit or not schema.check_stadtteil else self.stadtteil_names
        aliases = self.stadtteil_aliases() if names is not None else None
        gdf = validate_layer(gdf, schema, name=label, stadtteil_names=names,
                             stadtteil_aliases=aliases)
        gdf = gdf.to_crs(self.crs)
        if schema.geometry_type == "Polygon" and "flaeche_km2" not in gdf \
                and self.kind(name) != "zellen":
            gdf["flaeche_km2"] = (gdf.area / 1e6).round(3)
        if self.kind(name) == "zellen":
            gdf = self._cell_shares(gdf, name)
        if is_unit:
            gdf = self._complete_unit(gdf, label)
        elif schema.geometry_type == "Point" and self.unit.layer in self.pack.layers:
            gdf = self._locate_points(gdf, name, label)
        if schema.confidential:
            from ..privacy import mark_confidential

            mark_confidential(gdf, name)
        return gdf

    def _cell_shares(self, cells: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
        """Each cell's share of the groups counted from it (``<count>_anteil_prozent``)."""
        out = cells.copy()
        tables = {t for t, versions in self.pack.tables.items() if versions[-1].cells == name}
        for g in self.pack.groups.values():
            if g.table in tables and g.count in out and g.total in out:
                total = out[g.total].astype(float)
                out[f"{g.count}_anteil_prozent"] = 100.0 * out[g.count] / total.where(total > 0)
        return out

    def _complete_unit(self, gdf: gpd.GeoDataFrame, label: str) -> gpd.GeoDataFrame:
        if "bezirk" in gdf:
            return gdf
        if "stadtbezirke" not in self.pack.layers:
            raise SchemaError(
                f"{label} hat keine Spalte 'bezirk', und das Pack nennt keine Ebene "
                f"'stadtbezirke', aus der sie abgeleitet werden könnte. Ordnen Sie die "
                f"Bezirks-Spalte zu (\"columns\": {{\"…\": \"bezirk\"}}) oder ergänzen Sie "
                f"die Stadtbezirke."
            )
        bz = self.load("stadtbezirke")[["bezirk", "geometry"]]
        inter = gpd.overlay(gdf[["stadtteil_nr", "geometry"]].reset_index(),
                            bz, how="intersection", keep_geom_type=True)
        inter["_a"] = inter.area
        best = inter.sort_values("_a", ascending=False).drop_duplicates("index")
        share = best.set_index("index")["_a"] / gdf.area
        out = gdf.copy()
        out["bezirk"] = best.set_index("index")["bezirk"].reindex(out.index)
        missing = out["bezirk"].isna()
        if missing.any():
            raise SchemaError(
                f"{label}: {int(missing.sum())} Einheiten liegen in keinem Stadtbezirk "
                f"(erste: {out.loc[missing, 'stadtteil'].iloc[0]!r}); prüfen Sie die "
                f"Koordinatensysteme beider Ebenen."
            )
        low = share.reindex(out.index) < 0.9
        self._note(
            f"{label}: Stadtbezirk aus den Bezirksgrenzen abgeleitet (größte Überlappung) für "
            f"{len(out)} Einheiten; {int(low.sum())} liegen zu weniger als 90 % in ihrem "
            f"Bezirk.", warn=bool(low.any()),
        )
        if pd.api.types.is_float_dtype(out["bezirk"]):
            out["bezirk"] = out["bezirk"].astype("int64")
        return out

    def _locate_points(self, gdf: gpd.GeoDataFrame, name: str, label: str
                       ) -> gpd.GeoDataFrame:
        units = self.load(self.unit.layer)[["stadtteil_nr", "stadtteil", "bezirk", "geometry"]]
        out = gdf.copy()
        have = [c for c in ("stadtteil_nr", "stadtteil", "bezirk") if c in out]
        need = [c for c in ("stadtteil_nr", "stadtteil", "bezirk") if c not in out]
        joined = gpd.sjoin(out[["geometry"]], units, how="left", predicate="intersects")
        joined = joined[~joined.index.duplicated(keep="first")]
        inside = joined["stadtteil_nr"].notna()
        for c in need:
            out[c] = joined[c].reindex(out.index)
        if "stadtteil_nr" in need and pd.api.types.is_float_dtype(out["stadtteil_nr"]):
            out["stadtteil_nr"] = out["stadtteil_nr"].astype("Int64")
        if "bezirk" in need and pd.api.types.is_float_dtype(out["bezirk"]):
            out["bezirk"] = out["bezirk"].astype("Int64")
        if "stadtteil" in have and "stadtteil_nr" in need:
            lage = joined["stadtteil"].reindex(out.index)
            differs = inside & (lage.astype(str) != out["stadtteil"].astype(str))
            if differs.any():
                out["stadtteil_lage"] = lage
                self._note(f"{label}: bei {int(differs.sum())} Punkten weicht der Stadtteil "
                           f"laut Datei von der Lage ab (Spalte 'stadtteil_lage').")
        if "ausserhalb" not in out:
            out["ausserhalb"] = ~inside.reindex(out.index).fillna(False).to_numpy()
        n_out = int(out["ausserhalb"].sum())
        if n_out:
            self._note(
                f"{label}: {n_out} von {len(out)} Punkten liegen außerhalb von {self.city}; "
                f"sie bleiben in Exporten (Spalte 'ausserhalb'), aber nicht in Analysen."
            )
        if "name" in out:
            empty = out["name"].isna() | (out["name"].astype(str).str.strip() == "")
            if empty.any():
                self._note(f"{label}: {int(empty.sum())} Punkte ohne Namen.")
        return out

    def _note(self, text: str, *, warn: bool = True) -> None:
        """Record a finding about the data; a warning, or an info log line (``warn=False``)."""
        if text not in self.notes:
            self.notes.append(text)
            if warn:
                warnings.warn(text, UserWarning, stacklevel=4)
            else:
                log.info(text)

    def stadtteil_aliases(self) -> dict[str, str] | None:
        """Old or short unit names of the city's cleaning code (``STADTTEIL_ALIASES``)."""
        spec = self.pack.layers.get(self.unit.layer)
        if spec is None or not spec.loader:
            return None
        module = importlib.import_module(
            f"gis_planning.data.sources.{spec.loader.partition(':')[0]}")
        aliases = getattr(module, "STADTTEIL_ALIASES", None)
        return dict(aliases) if aliases else None

    def load_path(self, path: str | os.PathLike, *, like: str | None = None
                  ) -> gpd.GeoDataFrame:
        """Load a user's file, validated against the schema of layer ``like`` if given."""
        gdf = read_file(path)
        if like is not None:
            gdf = validate_layer(
                gdf, self.schema(like), name=str(path), stadtteil_names=self.stadtteil_names
            )
        else:
            from .io import check_crs_plausible

            check_crs_plausible(gdf, name=str(path))
        return gdf.to_crs(self.crs)

    # ----------------------------------------------------------------- tables
    def table_names(self) -> list[str]:
        """Return the names of the pack's indicator tables."""
        return list(self.pack.tables)

    def table_dates(self, name: str) -> list[str]:
        """Return the dates (Stand) of table ``name``, oldest first."""
        return [t.date for t in self._versions(name)]

    def _versions(self, name: str) -> tuple[TableSpec, ...]:
        if name not in self.pack.tables:
            close = suggest(name, self.table_names() + self.names())
            hint = f" Meinten Sie {' oder '.join(map(repr, close))}?" if close else ""
            raise LayerError(
                f"unbekannte Tabelle {name!r}.{hint} Tabellen von {self.city}: "
                f"{', '.join(self.table_names()) or 'keine'}."
            )
        return self.pack.tables[name]

    def table_spec(self, name: str, *, date: str | None = None) -> TableSpec:
        """Return the version of table ``name`` at ``date`` (default: the latest)."""
        versions = self._versions(name)
        if date is None:
            return versions[-1]
        for v in versions:
            if v.date == date:
                return v
        raise LayerError(
            f"Tabelle {name!r} hat keinen Stand {date!r}; vorhanden: "
            f"{', '.join(v.date for v in versions)}."
        )

    def table(self, name: str, *, date: str | None = None) -> pd.DataFrame:
        """Return table ``name`` (one row per unit), key named like the unit's id column.

        Columns are renamed by the pack's mapping, counts of its groups made numeric and
        each group's share (per cent) computed from count and total where absent. Provenance
        is in ``attrs["gis_planning_table"]``.
        """
        spec = self.table_spec(name, date=date)
        cache_key = (name, spec.date)
        if cache_key not in self._tables:
            self._tables[cache_key] = self._read_table(spec)
        out = self._tables[cache_key].copy()
        out.attrs = dict(self._tables[cache_key].attrs)
        return out

    def _read_table(self, spec: TableSpec) -> pd.DataFrame:
        where = f"Tabelle {spec.name!r}" + (f" ({str(spec.path)!r})" if spec.path else "")
        src_key = next(iter(spec.key), None)
        if spec.cells:
            df = self._cells_to_unit(spec, where)
        elif spec.loader:
            df = _call_loader(spec.loader, spec.options, where)
        else:
            from .io import read_csv_table

            df = read_csv_table(spec.path, text_columns=[src_key] if src_key else ())
        if isinstance(df, gpd.GeoDataFrame):
            df = pd.DataFrame(df.drop(columns=df.geometry.name))
        mapping = dict(spec.columns)
        if src_key:
            mapping[src_key] = spec.key[src_key]
        if mapping:
            df = map_columns(df, mapping, where=where)
        if spec.unit is not None:
            df = self._align_key(df, spec, where)
        for g in self.pack.groups.values():
            if spec.name not in (g.table, g.bezirk_table):
                continue
            cols = [c for c in (g.count, g.total, g.share) if c]
            latest = self.pack.tables[spec.name][-1] is spec
            if not latest and any(c not in df for c in cols):
                continue  # an older date of the table may lack a group added later
            for c in cols:
                if c not in df:
                    have = [str(x) for x in df.columns]
                    close = suggest(c, have)
                    hint = f" Meinten Sie {close[0]!r}?" if close else ""
                    raise PackError(f"{where}: Gruppe {g.name!r} nennt die Spalte {c!r}, die "
                                    f"die Tabelle nicht hat.{hint}")
                if not pd.api.types.is_numeric_dtype(df[c]):
                    from .io import _coerce

                    df[c] = _coerce(df[c], "float", label=where, column=c, frame=df)
            if g.count and g.total:
                bad = (df[g.count] > df[g.total]).fillna(False)
                if bad.any():
                    row = df.loc[bad].iloc[0]
                    raise SchemaError(
                        f"{where}: Gruppe {g.name!r}: {g.count!r} ist größer als {g.total!r} "
                        f"(erste Zeile mit Schlüssel {row.get(spec.unit_key, '?')!r})."
                    )
                if g.share_column not in df:
                    total = df[g.total].astype(float)
                    df[g.share_column] = 100.0 * df[g.count].astype(float) / total.where(
                        total > 0)
        df.attrs["gis_planning_table"] = {
            "name": spec.name, "label": spec.label or spec.name, "date": spec.date or NOT_GIVEN,
            "source": spec.source or NOT_GIVEN, "licence": spec.licence or NOT_GIVEN,
            "estimated": spec.estimated, "unit": spec.unit, "method": spec.method,
            "description": spec.description,
        }
        return df

    def _cells_to_unit(self, spec: TableSpec, where: str) -> pd.DataFrame:
        """Sum a cell layer's counts per unit (cell centre rule) and note what is left out."""
        from ..analysis.aggregate import aggregate_cells

        cells = self.load(spec.cells)
        units = self.load(spec.unit)
        key = spec.unit_key
        skip = {"x_mp", "y_mp", "n_zellen"}
        columns = [c for c in cells.columns if c not in skip and c != cells.geometry.name
                   and pd.api.types.is_integer_dtype(cells[c])]
        out = aggregate_cells(cells, units, columns=columns, unit_id=key).reset_index()
        # one naming of shares in every table: <count>_anteil_prozent
        out = out.rename(columns={f"anteil_{c}_prozent": f"{c}_anteil_prozent" for c in columns})
        audit = out.attrs.get("audit", {})
        lost = audit.get("personen_ohne_einheit", 0)
        if lost:
            n_cells = int(audit.get("zellen_ohne_einheit", 0))
            self._note(f"{where}: {int(lost)} Personen in {n_cells} Zellen liegen in keiner "
                       f"Einheit von {spec.unit!r}.", warn=False)
        return out

    def _align_key(self, df: pd.DataFrame, spec: TableSpec, where: str) -> pd.DataFrame:
        key = spec.unit_key
        units = self.load(spec.unit)
        if key not in units:
            raise PackError(f"{where}: 'key' nennt die Spalte {key!r}, die die Ebene "
                            f"{spec.unit!r} nicht hat (vorhanden: "
                            f"{', '.join(c for c in units.columns if c != 'geometry')}).")
        if key not in df:
            raise PackError(f"{where}: Schlüsselspalte {key!r} fehlt.")
        if df[key].isna().any():
            pos = int(np.flatnonzero(df[key].isna().to_numpy())[0])
            raise SchemaError(f"{where}: Zeile {pos + 2} hat keinen Schlüssel in {key!r}.")
        ids = units[key]
        text_ids = ids.astype(str)
        got = df[key].map(lambda v: str(int(v)) if isinstance(v, float) and v % 1 == 0
                          else str(v).strip())
        if not got.isin(set(text_ids)).all() and text_ids.str.fullmatch(r"\d+").all():
            width = text_ids.str.len()
            if width.nunique() == 1:  # codes with leading zeros read as numbers elsewhere
                padded = got.str.zfill(int(width.iloc[0]))
                if padded.isin(set(text_ids)).sum() > got.isin(set(text_ids)).sum():
                    got = padded
                    self._note(f"{where}: Schlüssel mit führenden Nullen ergänzt "
                               f"(wie in {spec.unit!r}).", warn=False)
        dup = got.duplicated(keep=False)
        if dup.any():
            raise SchemaError(f"{where}: der Schlüssel {got[dup].iloc[0]!r} kommt mehrfach "
                              f"vor; eine Zeile je Einheit.")
        lookup = dict(zip(text_ids, ids, strict=True))
        unknown = ~got.isin(set(text_ids))
        if unknown.any():
            self._note(f"{where}: {int(unknown.sum())} Zeilen ohne passende Einheit in "
                       f"{spec.unit!r} (z. B. {got[unknown].iloc[0]!r}); sie werden nicht "
                       f"verwendet.")
        out = df.loc[~unknown].copy()
        out[key] = got[~unknown].map(lookup).to_numpy()
        missing = len(set(text_ids) - set(got))
        if missing:
            self._note(f"{where}: für {missing} Einheiten von {spec.unit!r} fehlt eine Zeile.")
        return out

    def unit_table(self, name: str, *, date: str | None = None) -> pd.DataFrame:
        """Return table ``name`` joined to its unit polygons (a GeoDataFrame), if it has one."""
        table = self.table(name, date=date)
        spec = self.table_spec(name, date=date)
        if spec.unit is None:
            return table
        key = spec.unit_key
        units = self.load(spec.unit)
        keep = list(dict.fromkeys(
            c for c in (key, "stadtteil", "bezirk", "bezirk_roman", "bezirk_name")
            if c in units and (c == key or c not in table)))
        cols = [c for c in table.columns if c not in keep or c == key]
        merged = units[[*keep, "geometry"]].merge(table[cols], on=key, how="inner",
                                                  validate="one_to_one")
        merged = merged[[c for c in merged.columns if c != "geometry"] + ["geometry"]]
        out = gpd.GeoDataFrame(merged, geometry="geometry", crs=units.crs)
        out.attrs = dict(table.attrs)
        return out

    def table_meta(self, name: str, *, date: str | None = None) -> dict[str, Any]:
        """Return label, date, source, licence, estimated, unit of table ``name``."""
        spec = self.table_spec(name, date=date)
        return {
            "name": name, "label": spec.label or name, "date": spec.date or NOT_GIVEN,
            "source": spec.source or NOT_GIVEN, "licence": spec.licence or NOT_GIVEN,
            "estimated": spec.estimated, "unit": spec.unit, "method": spec.method,
            "description": spec.description,
        }

    # ----------------------------------------------------------------- groups
    def group_names(self) -> list[str]:
        return list(self.pack.groups)

    def group(self, name: str | None = None) -> GroupSpec:
        """Return group ``name`` (default: the pack's first group)."""
        groups = self.pack.groups
        if name is None:
            if not groups:
                raise LayerError(
                    f"für {self.city} ist keine Bevölkerungsgruppe angegeben; ergänzen Sie in "
                    f"der Pack-Datei \"groups\" (z. B. {{\"auslaender\": {{\"label\": \"…\", "
                    f"\"table\": \"…\", \"count\": \"…\", \"total\": \"einwohner\"}}}})."
                )
            return next(iter(groups.values()))
        if name not in groups:
            close = suggest(name, groups)
            hint = f" Meinten Sie {' oder '.join(map(repr, close))}?" if close else ""
            raise LayerError(
                f"--group {name!r}: unbekannte Gruppe.{hint} Gruppen von {self.city}: "
                f"{', '.join(groups) or 'keine'}."
            )
        return groups[name]

    def group_level(self, name: str | None = None) -> str | None:
        """Return the unit layer the group's table is given for (``None``: city level)."""
        return self.table_spec(self.group(name).table).unit

    def group_frame(self, name: str | None = None, *, date: str | None = None,
                    what: str = "diese Auswertung") -> gpd.GeoDataFrame:
        """Return the unit table of group ``name`` (counts per analysis unit, with geometry).

        Raises if the group has no counts per analysis unit (e.g. only Bezirk shares).
        """
        g = self.group(name)
        level = self.group_level(g.name)
        if level != self.unit.layer or not (g.count and g.total):
            raise LayerError(
                f"{what} braucht Anzahlen je {self.unit.label}; die Gruppe {g.name!r} "
                f"({g.label}) liegt nur "
                + ("als Anteil vor" if not g.count else f"je {level} vor")
                + f". Wählen Sie eine andere Gruppe (--group: "
                f"{', '.join(self.unit_groups()) or 'keine'})."
            )
        return self.unit_table(g.table, date=date)

    def unit_groups(self) -> list[str]:
        """Groups with counts per analysis unit (usable by every analysis)."""
        return [n for n, g in self.pack.groups.items()
                if g.count and g.total and self.table_spec(g.table).unit == self.unit.layer]

    # ----------------------------------------------------------------- labels
    def bezirk_labels(self) -> dict[Any, str]:
        """Bezirk code -> label shown to users ("Bezirk V", "Mitte", or the code)."""
        if "stadtbezirke" in self.pack.layers:
            bz = self.load("stadtbezirke")
        else:
            bz = self.load(self.unit.layer).drop_duplicates("bezirk")
        out = {}
        for _, row in bz.iterrows():
            code = row["bezirk"]
            roman = row.get("bezirk_roman")
            name = row.get("bezirk_name")
            if isinstance(roman, str) and roman:
                out[code] = f"Bezirk {roman}"
            elif isinstance(name, str) and name:
                out[code] = name
            else:
                out[code] = f"{self.pack.bezirk_label} {code}"
        return out

    # ----------------------------------------------------------------- constructors
    @classmethod
    def from_pack(cls, pack: CityPack) -> Catalog:
        return cls(pack)

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> Catalog:
        """Read a city pack or catalogue file (``.json`` or ``.toml``)."""
        return cls(read_pack(path))

    from_json = from_file

    @classmethod
    def from_paths(
        cls,
        paths: Mapping[str, str | os.PathLike],
        *,
        city: str = "Stadt",
        crs: str | None = None,
        tables: Mapping[str, str | os.PathLike] | None = None,
        groups: Mapping[str, Mapping[str, str]] | None = None,
        schemas: Mapping[str, LayerSchema] | None = None,
    ) -> Catalog:
        """Build a catalogue from a user's files, one per layer name."""
        spec: dict[str, Any] = {"city": city, "layers": {k: str(v) for k, v in paths.items()}}
        if crs:
            spec["crs"] = crs
        if tables:
            spec["tables"] = {k: str(v) for k, v in tables.items()}
        if groups:
            spec["groups"] = {k: dict(v) for k, v in groups.items()}
        pack = pack_from_dict(spec, folder=Path.cwd(), where="Katalog",
                              known_layers=dict(SCHEMAS if schemas is None else schemas))
        return cls(pack, schemas=schemas)


def _infer_groups(pack: CityPack) -> CityPack:
    """Groups for catalogue files of earlier versions, which name no ``groups``.

    A unit table (CSV) with ``einwohner`` and ``<name>_anzahl`` columns gives one group per
    such column (label: the name), as earlier versions analysed them. Packs should say
    ``"groups"`` with a German label instead.
    """
    groups = {}
    for name, versions in pack.tables.items():
        spec = versions[-1]
        if spec.path is None or spec.unit != pack.unit.layer or spec.path.suffix.lower() != ".csv":
            continue
        try:
            header = spec.path.read_text(encoding="utf-8-sig", errors="replace").splitlines()[0]
        except (OSError, IndexError):
            continue
        cols = [c.strip().strip('"') for c in header.replace(";", ",").split(",")]
        if "einwohner" not in cols:
            continue
        for col in cols:
            if col.endswith("_anzahl") and col != "einwohner":
                g = col[: -len("_anzahl")]
                groups[g] = GroupSpec(name=g, label=g, table=name, count=col, total="einwohner")
    if groups:
        log.info("Gruppen aus den Tabellen abgeleitet (ältere Katalogdatei): %s; besser "
                 "\"groups\" mit Bezeichnung in der Pack-Datei angeben", ", ".join(groups))
        return replace(pack, groups=groups)
    return pack


def load_city(name_or_path: str | os.PathLike = "essen") -> Catalog:
    """Return the catalogue of a shipped city (``"essen"``, ``"berlin"``) or a pack file."""
    return Catalog.from_file(name_or_path)


def default_catalog() -> Catalog:
    """Return the catalogue of the shipped Essen data."""
    return load_city("essen")


_DEFAULT: Catalog | None = None


def load(name: str) -> gpd.GeoDataFrame:
    """Load a layer of the shipped Essen catalogue by name."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = default_catalog()
    return _DEFAULT.load(name)


#: Type of a layer loader in a city's cleaning code.
Loader = Callable[..., gpd.GeoDataFrame]
