"""Cleaning the raw Berlin open-data files into catalogue layers and tables.

Every known defect listed in ``layers/berlin/PROVENANCE.md`` is handled here, in code, and is
visible in the result (flag columns) and as one German warning per defect, never fixed by
editing the raw files:

* Mixed CRS: the LOR shapefiles are EPSG:25833, ``bezirksgrenzen`` is EPSG:4326 (reprojected),
  the two GeoJSONs carry a legacy ``crs`` member (EPSG:25833) that is honoured and checked:
  the points must land in Berlin.
* Mixed encodings: the LOR ``.dbf`` are UTF-8 (``.cpg``), ``bezirksgrenzen.dbf`` is cp1252
  without ``.cpg`` (GDAL reads its language driver byte; the names are checked against the
  official list), the 30.06.2022 CSV is UTF-8 with BOM, CRLF and ``;``.
* Codes are text with leading zeros everywhere (``01100101``, ``011001``, ``0110``, ``01``); the
  ALKIS Bezirk code ``001`` is turned into ``01``.
* Duplicate names (PLR "Schloßstraße", BZR "Heerstraße"): codes are unique and are the keys.
* ``GROESSE_M2`` disagrees slightly with the geometry: areas come from the geometry.
* Kitas: 1 Bezirk attribute disagrees with the polygon (``abweichung_art``), 93 Kitas at 46
  locations share their exact coordinates (``gleiche_lage``), places are text (parsed).
* Schools: ``08K09`` (source Bezirk Neukölln, point in Treptow-Köpenick) and ``08B05`` (school
  number of Neukölln, point and Bezirk text Mitte) are flagged in ``abweichung_art``; private
  schools' type is read from ``schulart``.
* Population: the converter's ``*_percentage`` columns are not taken (shares are computed by
  the toolkit); in the 30.06.2022 CSV the en dash "–" is the official sign for "nothing" and
  is read as 0, also for the two uninhabited Planungsräume.

All layers are returned in Berlin's analysis CRS EPSG:25833 (ETRS89 / UTM 33N).

The module stays one piece (about 890 lines): it is the list of Berlin's defects above, each
handled by a short loader that shares the raw-file helpers, the code checks and the
Planungsraum join; one file per layer would repeat those helpers or import them all back.
"""

from __future__ import annotations

import re
import warnings
from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..._atomic import register_input
from ..._errors import InputError, LayerError
from ..io import read_file

__all__ = [
    "BEVOELKERUNG_STAENDE",
    "BEZIRK_NAMES",
    "CRS",
    "RAW_DIR",
    "SCHULART_SCHULFORM",
    "SCHULFORM_STUFE",
    "load_bevoelkerung",
    "load_bezirksregionen",
    "load_kitas",
    "load_prognoseraeume",
    "load_schulen",
    "load_stadtbezirke",
    "load_stadtgrenze",
    "load_stadtteile",
]

#: Folder with the raw files as found (copied byte-for-byte from shared/data/berlin).
RAW_DIR = Path(__file__).resolve().parents[3] / "layers" / "berlin" / "raw"

#: Analysis CRS of Berlin: ETRS89 / UTM zone 33N.
CRS = "EPSG:25833"

#: Dates (Stand) of the population tables, oldest first.
BEVOELKERUNG_STAENDE = ("2022-06-30", "2022-12-31")

#: Official names of Berlin's twelve Bezirke by their two-digit code.
BEZIRK_NAMES = {
    "01": "Mitte",
    "02": "Friedrichshain-Kreuzberg",
    "03": "Pankow",
    "04": "Charlottenburg-Wilmersdorf",
    "05": "Spandau",
    "06": "Steglitz-Zehlendorf",
    "07": "Tempelhof-Schöneberg",
    "08": "Neukölln",
    "09": "Treptow-Köpenick",
    "10": "Marzahn-Hellersdorf",
    "11": "Lichtenberg",
    "12": "Reinickendorf",
}

#: Normalised school form -> school level (the level vocabulary of Essen's SCHULFORM_STUFE).
SCHULFORM_STUFE = {
    "Grundschule": "Primarstufe",
    "Integrierte Sekundarschule": "Sekundarstufe I und II",
    "Gemeinschaftsschule": "Sekundarstufe I und II",
    "Gymnasium": "Sekundarstufe I und II",
    "Waldorfschule": "Sekundarstufe I und II",
    "Förderschule": "Förderschule",
    "Berufliche Schule": "Berufsbildend",
    "sonstige": "sonstige",
}

#: Source ``schulart`` -> normalised school form; anything else becomes "sonstige".
SCHULART_SCHULFORM = {
    "Grundschule": "Grundschule",
    "Integrierte Sekundarschule": "Integrierte Sekundarschule",
    "Gemeinschaftsschule": "Gemeinschaftsschule",
    "Gymnasium": "Gymnasium",
    "Freie Waldorfschule": "Waldorfschule",
    'Förderschwerp. "Geistige Entwicklung"': "Förderschule",
    'Förderschwerp. "Lernen"': "Förderschule",
    'Förderschwerp. "Lernen"u."Geistige Entwickl."': "Förderschule",
    "Förderschwerp. einschl. beruflichem Teil": "Förderschule",
    "Übrige Förderschwerpunkte": "Förderschule",
    "Berufsschule": "Berufliche Schule",
    "Berufsschule mit sonderpäd. Aufgaben": "Berufliche Schule",
    "Berufsfachschule": "Berufliche Schule",
    "Fachschule": "Berufliche Schule",
    "Oberstufenzentrum": "Berufliche Schule",
    "Kombinierte berufliche Schule": "Berufliche Schule",
    "Kombinierte allg./berufl. Schule": "Berufliche Schule",
}

#: Berlin's extent in EPSG:25833 with a margin of a few km (x_min, y_min, x_max, y_max).
_BERLIN_BOUNDS = (365_000.0, 5_795_000.0, 421_000.0, 5_842_000.0)

_PLR = "lor_planungsraeume_2021.shp"
_BZR = "lor_bezirksregionen_2021.shp"
_PGR = "lor_prognoseraeume_2021.shp"
_BEZIRKE = "bezirksgrenzen.shp"
_KITAS = "kindertagesstaetten.geojson"
_SCHULEN = "schulen.geojson"
_T1 = "berlin-lor-population-2022-02-t1-planning-areas.csv"
_T2 = "berlin-lor-population-2022-02-t2-planning-areas.csv"
_EWR_2022_06 = "einwohnerbestand_06-2022_plr.csv"

_ALTER = ("unter_6", "6_15", "15_18", "18_27", "27_45", "45_55", "55_65", "65_plus")


def _raw(name: str, raw_dir: Path | None) -> Path:
    return Path(raw_dir or RAW_DIR) / name


def _key(raw_dir: Path | None) -> Path:
    return Path(raw_dir or RAW_DIR).resolve()


def _warn(message: str, *, stacklevel: int = 3) -> None:
    """One German line per defect, attributed to the caller of the public loader."""
    warnings.warn(message, UserWarning, stacklevel=stacklevel)


def _text(s: pd.Series) -> pd.Series:
    """Source text stripped; missing stays missing."""
    return s.astype(str).str.strip()


def _geometry_last(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    name = gdf.geometry.name
    return gdf[[c for c in gdf.columns if c != name] + [name]]


def _area_km2(gdf: gpd.GeoDataFrame) -> pd.Series:
    return (gdf.area / 1e6).round(3)


def _polygons(gdf: gpd.GeoDataFrame, path: Path) -> gpd.GeoSeries:
    """Return valid polygon geometries in EPSG:25833 (repairs, if any, keep the polygon part)."""
    geom = gdf.geometry.to_crs(CRS)
    bad = ~geom.is_valid
    if bad.any():
        fixed = geom[bad].make_valid().apply(
            lambda g: shapely.union_all(
                [p for p in getattr(g, "geoms", [g]) if p.geom_type in ("Polygon",
                                                                        "MultiPolygon")]
            )
        )
        geom = geom.copy()
        geom[bad] = fixed
        _warn(f"{path.name}: {int(bad.sum())} ungültige Polygone mit make_valid repariert.")
    return geom


def _check_unique(codes: pd.Series, path: Path, column: str) -> None:
    dup = codes[codes.duplicated()]
    if not dup.empty:
        raise LayerError(
            f"{path.name}: Spalte {column} enthält doppelte Schlüssel ({', '.join(dup[:5])}); "
            f"jede Fläche braucht einen eigenen Schlüssel. Datei aus der Quelle neu laden."
        )


def _check_codes(codes: pd.Series, path: Path, column: str, digits: int) -> None:
    bad = ~codes.str.fullmatch(rf"\d{{{digits}}}").fillna(False).astype(bool)
    if bad.any():
        raise LayerError(
            f"{path.name}: Spalte {column} muss {digits}-stellige Schlüssel als Text enthalten, "
            f"gefunden z. B. {codes[bad].iloc[0]!r}. Datei unverändert aus der Quelle übernehmen."
        )


# --- LOR polygons ---------------------------------------------------------------------------

@cache
def _lor(level: str, raw_dir: Path) -> gpd.GeoDataFrame:
    """Read one LOR shapefile with codes as text (UTF-8 ``.dbf`` with ``.cpg``)."""
    name, id_col, name_col, digits = {
        "plr": (_PLR, "PLR_ID", "PLR_NAME", 8),
        "bzr": (_BZR, "BZR_ID", "BZR_NAME", 6),
        "pgr": (_PGR, "PGR_ID", "PGR_NAME", 4),
    }[level]
    path = raw_dir / name
    gdf = read_file(path)  # GDAL keeps character fields as text: leading zeros stay
    codes = _text(gdf[id_col])
    _check_codes(codes, path, id_col, digits)
    _check_unique(codes, path, id_col)
    bez = _text(gdf["BEZ"])
    wrong = codes.str[:2] != bez
    if wrong.any():
        raise LayerError(
            f"{path.name}: {int(wrong.sum())} Flächen, deren {id_col} nicht mit ihrem BEZ "
            f"beginnt (z. B. {codes[wrong].iloc[0]}); die LOR-Hierarchie ist verletzt."
        )
    out = gpd.GeoDataFrame(
        {"nr": codes, "name": _text(gdf[name_col]), "bezirk": bez},
        geometry=_polygons(gdf, path).to_numpy(),
        crs=CRS,
    )
    out["flaeche_km2"] = _area_km2(out)
    return out.sort_values("nr").reset_index(drop=True)


def _duplicate_names(names: pd.Series, path: Path, what: str) -> None:
    counts = names.value_counts()
    dup = counts[counts > 1]
    if not dup.empty:
        listed = ", ".join(f"„{n}“ {c}-mal" for n, c in dup.items())
        _warn(
            f"{path.name}: {what}-Namen mehrfach vergeben ({listed}); über den Schlüssel "
            f"verknüpfen, nicht über den Namen.",
            stacklevel=4,
        )


def _names_by_code(level: str, raw_dir: Path) -> dict[str, str]:
    t = _lor(level, raw_dir)
    return dict(zip(t["nr"], t["name"], strict=True))


def _lookup(codes: pd.Series, names: dict[str, str], path: Path, what: str) -> pd.Series:
    out = codes.map(names)
    if out.isna().any():
        raise LayerError(
            f"{path.name}: {int(out.isna().sum())} Planungsräume ohne {what} gleichen Schlüssels "
            f"(z. B. {codes[out.isna()].iloc[0]}); die LOR-Dateien müssen denselben Stand haben."
        )
    return out.astype(str)


@cache
def _stadtteile_cached(raw_dir: Path) -> gpd.GeoDataFrame:
    plr = _lor("plr", raw_dir)
    path = raw_dir / _PLR
    bzr_nr = plr["nr"].str[:6]
    pgr_nr = plr["nr"].str[:4]
    out = gpd.GeoDataFrame(
        {
            "stadtteil_nr": plr["nr"],
            "stadtteil": plr["name"],
            "bezirk": plr["bezirk"],
            "bezirksregion_nr": bzr_nr,
            "bezirksregion": _lookup(bzr_nr, _names_by_code("bzr", raw_dir), path,
                                     "Bezirksregion"),
            "prognoseraum_nr": pgr_nr,
            "prognoseraum": _lookup(pgr_nr, _names_by_code("pgr", raw_dir), path,
                                    "Prognoseraum"),
            "flaeche_km2": plr["flaeche_km2"],
        },
        geometry=plr.geometry,
        crs=CRS,
    )
    return out


def load_stadtteile(*, raw_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Return the 542 LOR Planungsräume (Stand 01.01.2021) as analysis units, EPSG:25833.

    Parameters
    ----------
    raw_dir
        Folder with the raw files; default ``layers/berlin/raw``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per Planungsraum, sorted by code: ``stadtteil_nr`` (PLR_ID, 8 digits as
        text), ``stadtteil`` (PLR_NAME), ``bezirk`` ("01".."12"), ``bezirksregion_nr`` (6
        digits), ``bezirksregion``, ``prognoseraum_nr`` (4 digits), ``prognoseraum``,
        ``flaeche_km2`` (from the geometry), valid polygons.

    Raises
    ------
    LayerError
        A code is not text with the expected digits, not unique, or the hierarchy is broken.

    Notes
    -----
    The LOR codes are hierarchical: Bezirk = ``PLR_ID[:2]``, Prognoseraum = ``PLR_ID[:4]``,
    Bezirksregion = ``PLR_ID[:6]``; the names of the upper levels come from the BZR and PGR
    files of the same Stand. ``GROESSE_M2`` of the source is not used (it sums to
    891.118 km², the geometry to 890.665 km²). The name "Schloßstraße" occurs twice
    (04300414, 06100102): join on ``stadtteil_nr``, never on the name (a warning says so).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # the duplicate name "Schloßstraße"
    ...     st = load_stadtteile()
    >>> len(st), st.crs.to_string()
    (542, 'EPSG:25833')
    >>> row = st.set_index("stadtteil_nr").loc["01100101"]
    >>> row["bezirk"], row["prognoseraum_nr"], row["bezirksregion_nr"]
    ('01', '0110', '011001')
    """
    out = _stadtteile_cached(_key(raw_dir)).copy()
    _duplicate_names(out["stadtteil"], _raw(_PLR, raw_dir), "Planungsraum")
    return out


def load_bezirksregionen(*, raw_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Return the 143 LOR Bezirksregionen (Stand 01.01.2021), EPSG:25833.

    Columns ``bezirksregion_nr`` (BZR_ID, 6 digits as text), ``bezirksregion`` (BZR_NAME),
    ``prognoseraum_nr`` (``BZR_ID[:4]``), ``bezirk`` ("01".."12"), ``flaeche_km2`` (from the
    geometry). The name "Heerstraße" occurs twice (042002, 052005); a warning says so.
    """
    t = _lor("bzr", _key(raw_dir))
    out = gpd.GeoDataFrame(
        {
            "bezirksregion_nr": t["nr"],
            "bezirksregion": t["name"],
            "prognoseraum_nr": t["nr"].str[:4],
            "bezirk": t["bezirk"],
            "flaeche_km2": t["flaeche_km2"],
        },
        geometry=t.geometry,
        crs=CRS,
    ).copy()
    _duplicate_names(out["bezirksregion"], _raw(_BZR, raw_dir), "Bezirksregion")
    return out


def load_prognoseraeume(*, raw_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Return the 58 LOR Prognoseräume (Stand 01.01.2021), EPSG:25833.

    Columns ``prognoseraum_nr`` (PGR_ID, 4 digits as text), ``prognoseraum`` (PGR_NAME),
    ``bezirk`` ("01".."12"), ``flaeche_km2`` (from the geometry).
    """
    t = _lor("pgr", _key(raw_dir))
    return gpd.GeoDataFrame(
        {
            "prognoseraum_nr": t["nr"],
            "prognoseraum": t["name"],
            "bezirk": t["bezirk"],
            "flaeche_km2": t["flaeche_km2"],
        },
        geometry=t.geometry,
        crs=CRS,
    ).copy()


@cache
def _stadtbezirke_cached(raw_dir: Path) -> gpd.GeoDataFrame:
    path = raw_dir / _BEZIRKE
    # read_file works here: the .dbf has no .cpg, but GDAL honours its language driver byte
    # 0x57 (cp1252). The names are checked below so that a reader that falls back to another
    # encoding ("NeukÃ¶lln", "Neuk\ufffdlln") fails loudly instead of publishing mojibake.
    gdf = read_file(path)
    ags = _text(gdf["Gemeinde_s"])
    _check_codes(ags, path, "Gemeinde_s", 3)
    bezirk = ags.str[1:]
    names = _text(gdf["Gemeinde_n"])
    wrong = names != bezirk.map(BEZIRK_NAMES)
    if wrong.any():
        raise LayerError(
            f"{path.name}: Bezirksname {names[wrong].iloc[0]!r} zu Schlüssel "
            f"{ags[wrong].iloc[0]} passt nicht zur amtlichen Liste; die .dbf ist cp1252 "
            f"kodiert: eine Datei {path.with_suffix('.cpg').name} mit dem Inhalt 1252 "
            f"daneben legen oder SHAPE_ENCODING=CP1252 setzen."
        )
    _check_unique(bezirk, path, "Gemeinde_s")
    out = gpd.GeoDataFrame(
        {"bezirk": bezirk, "bezirk_name": names},
        geometry=_polygons(gdf, path).to_numpy(),  # EPSG:4326 -> EPSG:25833
        crs=CRS,
    )
    out["flaeche_km2"] = _area_km2(out)
    return _geometry_last(out.sort_values("bezirk").reset_index(drop=True))


def load_stadtbezirke(*, raw_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Return the 12 Bezirke (ALKIS, Geoportal Berlin), reprojected to EPSG:25833.

    Columns ``bezirk`` ("01".."12", from the ALKIS code ``Gemeinde_s`` "001".."012"),
    ``bezirk_name`` (``Gemeinde_n``, decoded from cp1252: "Neukölln"), ``flaeche_km2``.

    Notes
    -----
    The file is EPSG:4326 (the LOR files are EPSG:25833); its polygons agree with the
    dissolved Planungsräume of each Bezirk to within 0.003 km².
    """
    return _stadtbezirke_cached(_key(raw_dir)).copy()


def load_stadtgrenze(*, raw_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Return Berlin's boundary as one polygon: the union of the 542 Planungsräume, EPSG:25833.

    Columns ``stadt`` ("Berlin"), ``flaeche_km2`` (890.665 km²).
    """
    st = _stadtteile_cached(_key(raw_dir))
    union = shapely.union_all(st.geometry.to_numpy())
    out = gpd.GeoDataFrame({"stadt": ["Berlin"]}, geometry=[union], crs=CRS)
    out["flaeche_km2"] = _area_km2(out)
    return _geometry_last(out)


# --- points ---------------------------------------------------------------------------------

_CRS_MEMBER = re.compile(rb'"crs"\s*:\s*\{[^{}]*"properties"\s*:\s*\{[^{}]*"name"\s*:\s*"([^"]+)"')


def _read_points(path: Path) -> tuple[gpd.GeoDataFrame, tuple[str, ...]]:
    """Read a GeoJSON with a legacy ``crs`` member and check that the points lie in Berlin.

    GDAL honours the pre-RFC-7946 member ``"crs": "urn:ogc:def:crs:EPSG::25833"``. A reader
    that ignores it declares EPSG:4326 for metre coordinates; that case is caught here and
    the member's CRS is set instead; the note is returned for the public loader to warn.
    """
    gdf = read_file(path)
    notes: list[str] = []
    with path.open("rb") as fh:
        head = fh.read(4096)
    m = _CRS_MEMBER.search(head)
    if m is not None:
        declared = m.group(1).decode("ascii", "replace")
        code = declared.rsplit(":", 1)[-1]
        member = f"EPSG:{code}" if code.isdigit() else declared
        if gdf.crs is None or str(gdf.crs.to_epsg()) != code:
            notes.append(
                f"{path.name}: das crs-Element der Datei ({declared}) wurde beim Lesen "
                f"übergangen; die Koordinaten werden als {member} gelesen."
            )
            gdf = gdf.set_crs(member, allow_override=True)
    pts = gdf.to_crs(CRS)
    x, y = pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()
    lo_x, lo_y, hi_x, hi_y = _BERLIN_BOUNDS
    outside = ~((x >= lo_x) & (x <= hi_x) & (y >= lo_y) & (y <= hi_y))
    if outside.all():
        raise LayerError(
            f"{path.name}: keine der {len(pts)} Koordinaten liegt in Berlin (z. B. "
            f"{x[0]:.0f}, {y[0]:.0f} in {CRS}); das Koordinatensystem der Datei prüfen."
        )
    return pts, tuple(notes)


def _assign_plr(points: gpd.GeoDataFrame, raw_dir: Path) -> gpd.GeoDataFrame:
    """Add ``stadtteil_nr``, ``stadtteil`` and ``bezirk`` of the Planungsraum each point is in.

    A point on a shared border gets the Planungsraum with the lower code; a point in no
    Planungsraum keeps missing values (reported by the public loader).
    """
    st = _stadtteile_cached(raw_dir)[["stadtteil_nr", "stadtteil", "bezirk", "geometry"]]
    joined = gpd.sjoin(points[["geometry"]], st, how="left", predicate="intersects")
    joined = joined.sort_values("stadtteil_nr", kind="stable")
    joined = joined[~joined.index.duplicated(keep="first")].reindex(points.index)
    out = points.drop(columns=points.geometry.name)
    for c in ("stadtteil_nr", "stadtteil", "bezirk"):
        out[c] = joined[c].astype(str)
    return gpd.GeoDataFrame(out, geometry=points.geometry, crs=points.crs)


def _warn_outside(points: gpd.GeoDataFrame, path: Path) -> None:
    missing = points["stadtteil_nr"].isna()
    if missing.any():
        _warn(
            f"{path.name}: {int(missing.sum())} Punkte liegen in keinem Planungsraum "
            f"(außerhalb Berlins); sie bleiben ohne stadtteil_nr erhalten.",
            stacklevel=4,
        )


def _street(street: pd.Series, number: pd.Series, extra: pd.Series | None = None) -> pd.Series:
    parts = [street.fillna(""), number.fillna("")]
    hnr = parts[1].astype(str).str.strip()
    if extra is not None:
        hnr = hnr + extra.fillna("").astype(str).str.strip()
    return (parts[0].astype(str).str.strip() + " " + hnr).str.strip()


@cache
def _kitas_cached(
    raw_dir: Path,
) -> tuple[gpd.GeoDataFrame, tuple[str, ...], tuple[str, ...]]:
    path = raw_dir / _KITAS
    raw, notes = _read_points(path)
    _check_unique(_text(raw["e_nr"]), path, "e_nr")
    platz_text = _text(raw["e_platz"])
    plaetze = pd.to_numeric(platz_text.where(platz_text.str.fullmatch(r"\d+").fillna(False)
                                             .astype(bool)), errors="coerce").astype("Int64")
    pts = gpd.GeoDataFrame(
        {
            "kita_id": _text(raw["e_nr"]),
            "name": _text(raw["e_name"]),
            "traeger": _text(raw["t_name"]),
            "traeger_art": _text(raw["t_art"]),
            "art": _text(raw["e_art"]),
            "plaetze": plaetze,
            "strasse": _street(raw["e_strasse"], raw["e_hnr"], raw["e_zusatz"]),
            "plz": _text(raw["e_plz"]),
            "ort": _text(raw["e_ort"]),
            "bezirk_quelle": _text(raw["e_bez"]),
            "bezirk_nr_quelle": _text(raw["e_bez_nr"]),
        },
        geometry=raw.geometry.to_numpy(),
        crs=CRS,
    )
    out = _assign_plr(pts, raw_dir)
    differs = (out["bezirk_nr_quelle"] != out["bezirk"]) | (
        out["bezirk_quelle"] != out["bezirk"].map(BEZIRK_NAMES)
    )
    differs &= out["bezirk"].notna()
    out["bezirk_abweichung"] = differs.astype(bool)
    out["abweichung_art"] = np.where(differs, "anderer Bezirk", "")
    xy = pd.Series(list(zip(out.geometry.x.round(3), out.geometry.y.round(3), strict=True)),
                   index=out.index)
    out["gleiche_lage"] = xy.duplicated(keep=False).to_numpy()
    return _geometry_last(out), tuple(platz_text[plaetze.isna()].tolist()), notes


def load_kitas(*, raw_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Return the 2,880 Kitas (Tageseinrichtungen, Geoportal Berlin, Dec 2022), EPSG:25833.

    Parameters
    ----------
    raw_dir
        Folder with the raw files; default ``layers/berlin/raw``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``kita_id`` (e_nr, 8 digits as text), ``name``, ``traeger`` (t_name),
        ``traeger_art`` (t_art), ``art`` (e_art), ``plaetze`` (Int64, parsed from the text
        ``e_platz``), ``strasse`` ("e_strasse e_hnr" + e_zusatz), ``plz``, ``ort``,
        ``bezirk_quelle`` (e_bez, the source's Bezirk name), ``bezirk_nr_quelle``
        (e_bez_nr), then from the Planungsraum the point lies in: ``stadtteil_nr``,
        ``stadtteil``, ``bezirk``; flags ``bezirk_abweichung`` (bool), ``abweichung_art``
        ("anderer Bezirk" or "") and ``gleiche_lage`` (bool).

    Notes
    -----
    ``gleiche_lage`` is True for every Kita whose coordinates (to the millimetre) equal
    another Kita's: 93 Kitas at 46 locations (45 pairs, one triple), i.e. 47 points more than
    locations. ``abweichung_art`` flags Kita Hausburg (02051140: source Bezirk 02
    Friedrichshain-Kreuzberg, point in 03 Pankow). Places that are not a whole number become
    <NA> and are reported (none in the Dec 2022 file). Each finding is one warning.
    """
    cached, bad, notes = _kitas_cached(_key(raw_dir))
    out = cached.copy()
    path = _raw(_KITAS, raw_dir)
    for note in notes:
        _warn(note)
    _warn_outside(out, path)
    if bad:
        _warn(f"{path.name}: {len(bad)} Platzzahlen (e_platz) sind keine ganze Zahl "
              f"(z. B. {bad[0]!r}); plaetze bleibt dort leer.")
    n_diff = int(out["bezirk_abweichung"].sum())
    if n_diff:
        ex = out.loc[out["bezirk_abweichung"]].iloc[0]
        _warn(f"{path.name}: Bezirksangabe passt bei {n_diff} Kita(s) nicht zur Lage "
              f"(z. B. {ex['kita_id']} {ex['name']}: {ex['bezirk_quelle']}, liegt in "
              f"{BEZIRK_NAMES.get(ex['bezirk'], ex['bezirk'])}); markiert in abweichung_art.")
    same = out["gleiche_lage"]
    if same.any():
        n_loc = len(set(zip(out.geometry.x[same], out.geometry.y[same], strict=True)))
        _warn(f"{path.name}: {int(same.sum())} Kitas an {n_loc} Standorten teilen sich exakt "
              f"die Koordinaten; markiert in gleiche_lage.")
    return out


@cache
def _schulen_cached(raw_dir: Path) -> tuple[gpd.GeoDataFrame, tuple[str, ...]]:
    path = raw_dir / _SCHULEN
    raw, notes = _read_points(path)
    bsn = _text(raw["bsn"])
    _check_unique(bsn, path, "bsn")
    schulart = _text(raw["schulart"])
    form = schulart.map(SCHULART_SCHULFORM).fillna("sonstige").astype(str)
    pts = gpd.GeoDataFrame(
        {
            "schul_id": bsn,
            "name": _text(raw["name"]),
            "schulform": form,
            "schulstufe": form.map(SCHULFORM_STUFE).astype(str),
            "traeger": _text(raw["traeger"]),
            "schulart": schulart,
            "schultyp": _text(raw["schultyp"]),
            "strasse": _street(raw["strasse"], raw["hausnr"]),
            "plz": _text(raw["plz"]),
            "bezirk_quelle": _text(raw["bezirk"]),
        },
        geometry=raw.geometry.to_numpy(),
        crs=CRS,
    )
    out = _assign_plr(pts, raw_dir)
    inside = out["bezirk"].notna()
    other_text = inside & (out["bezirk_quelle"] != out["bezirk"].map(BEZIRK_NAMES))
    other_nr = inside & ~other_text & (out["schul_id"].str[:2] != out["bezirk"])
    out["abweichung_art"] = np.select(
        [other_text.to_numpy(), other_nr.to_numpy()],
        ["anderer Bezirk", "Schulnummer aus anderem Bezirk"],
        default="",
    )
    out["bezirk_abweichung"] = (other_text | other_nr).to_numpy()
    return _geometry_last(out), notes


def load_schulen(*, raw_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Return the 902 schools (Geoportal Berlin, Oct 2023), EPSG:25833, with school form.

    Parameters
    ----------
    raw_dir
        Folder with the raw files; default ``layers/berlin/raw``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``schul_id`` (bsn, e.g. "01B01"), ``name``, ``schulform`` (one of
        :data:`SCHULFORM_STUFE`'s keys), ``schulstufe``, ``traeger`` ("öffentlich" or
        "privat"), ``schulart`` and ``schultyp`` (source texts), ``strasse`` ("strasse
        hausnr"), ``plz``, ``bezirk_quelle`` (the source's Bezirk name), then from the
        Planungsraum the point lies in: ``stadtteil_nr``, ``stadtteil``, ``bezirk``; flags
        ``abweichung_art`` and ``bezirk_abweichung`` (bool).

    Notes
    -----
    ``schulform`` is read from ``schulart`` (:data:`SCHULART_SCHULFORM`), because the
    source's ``schultyp`` lumps all 208 private schools into "Privatschule". Vocational
    types (OSZ, Berufs-, Berufsfach-, Fachschule, combined vocational schools) become
    "Berufliche Schule"; every Förderschwerpunkt "Förderschule"; the 13 private "Kombinierte
    allgemein bildende Schule" have no single type and become "sonstige". Integrierte
    Sekundar- and Gemeinschaftsschulen are given "Sekundarstufe I und II" because each leads
    to the Abitur (own upper level or a partner school), as Essen's Gesamtschule; not every
    one has its own upper level, and Gemeinschaftsschulen also teach the Primarstufe. No
    school of the Weiterbildung (Kolleg, Abendgymnasium) is in the file.

    ``abweichung_art`` is "anderer Bezirk" where the source's Bezirk name disagrees with the
    point (08K09 Röntgen-Schule: Neukölln, lies in Treptow-Köpenick) and "Schulnummer aus
    anderem Bezirk" where only the first two digits of the school number do (08B05
    Carl-Legien-Schule, "Schulbetrieb an 01B04", lies in Mitte). Each is one warning.
    """
    cached, notes = _schulen_cached(_key(raw_dir))
    out = cached.copy()
    path = _raw(_SCHULEN, raw_dir)
    for note in notes:
        _warn(note)
    _warn_outside(out, path)
    texts = {
        "anderer Bezirk": ("Bezirksangabe", lambda r: r.bezirk_quelle),
        "Schulnummer aus anderem Bezirk": (
            "Bezirk der Schulnummer", lambda r: BEZIRK_NAMES.get(r.schul_id[:2], r.schul_id)),
    }
    for art, (what, source) in texts.items():
        rows = out[out["abweichung_art"] == art]
        if not rows.empty:
            listed = "; ".join(
                f"{r.schul_id} {r.name}: {source(r)}, liegt in {BEZIRK_NAMES.get(r.bezirk)}"
                for r in rows.itertuples())
            _warn(f"{path.name}: {what} passt bei {len(rows)} Schule(n) nicht zur Lage "
                  f"({listed}); markiert in abweichung_art.")
    return out


# --- population -----------------------------------------------------------------------------

def _read_csv_text(path: Path, *, sep: str = ",") -> pd.DataFrame:
    """Read a CSV with every column as text.

    ``io.read_csv_table`` cannot be used here: it guesses dtypes, so the PLR codes
    ``01100101`` would lose their leading zero, and it reads ``;`` files with decimal commas.
    ``utf-8-sig`` drops the BOM of the 30.06.2022 file; pandas accepts its CRLF line ends.
    """
    if not path.exists():
        raise LayerError(f"Datei {str(path)!r} fehlt. Rohdaten nach {path.parent} kopieren.")
    df = pd.read_csv(path, sep=sep, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    register_input(path)
    return df.apply(lambda c: c.str.strip())


def _counts(df: pd.DataFrame, columns: dict[str, str], path: Path, *,
            dash_is_zero: bool = False) -> pd.DataFrame:
    """Convert the source count columns to Int64, raising on anything that is not a count."""
    out = {}
    for src, dst in columns.items():
        if src not in df.columns:
            raise LayerError(f"{path.name}: Spalte {src!r} fehlt; die Datei hat "
                             f"{', '.join(df.columns)}.")
        text = df[src]
        if dash_is_zero:
            text = text.replace("–", "0")
        ok = text.str.fullmatch(r"\d+")
        if not ok.all():
            bad = text[~ok].iloc[0]
            raise LayerError(f"{path.name}: Spalte {src!r} enthält {bad!r}, keine Anzahl; "
                             f"Datei unverändert aus der Quelle übernehmen.")
        out[dst] = pd.array(text.astype("int64"), dtype="Int64")
    return pd.DataFrame(out, index=df.index)


def _plr_key(codes: pd.Series, path: Path, column: str, raw_dir: Path) -> pd.Series:
    codes = codes.astype(str)
    _check_codes(codes, path, column, 8)
    _check_unique(codes, path, column)
    known = set(_lor("plr", raw_dir)["nr"])
    missing = sorted(known - set(codes))
    extra = sorted(set(codes) - known)
    if missing or extra:
        raise LayerError(
            f"{path.name}: passt nicht zu den 542 Planungsräumen 2021 ({len(missing)} ohne "
            f"Zeile, z. B. {missing[:1]}; {len(extra)} unbekannte Schlüssel, z. B. {extra[:1]})."
        )
    return codes


_T1_COLUMNS = {
    "inhabitants": "einwohner",
    "inhabitants_foreigners": "auslaender",
    "inhabitants_germans": "deutsche",
    "inhabitants_with_migration_background": "migrationshintergrund",
    "inhabitants_germans_with_migration_background": "deutsche_mit_migrationshintergrund",
}
_T2_COLUMNS = {
    "inhabitants_age_below_6": "alter_unter_6",
    "inhabitants_age_6_15": "alter_6_15",
    "inhabitants_age_15_18": "alter_15_18",
    "inhabitants_age_18_27": "alter_18_27",
    "inhabitants_age_27_45": "alter_27_45",
    "inhabitants_age_45_55": "alter_45_55",
    "inhabitants_age_55_65": "alter_55_65",
    "inhabitants_age_above_65": "alter_65_plus",
    "inhabitants_female": "weiblich",
}
_JASCHA_COLUMNS = {
    "Gesamt": "einwohner",
    "ausländer": "auslaender",
    "unter6": "alter_unter_6",
    "6-15": "alter_6_15",
    "15-18": "alter_15_18",
    "18-27": "alter_18_27",
    "27-45": "alter_27_45",
    "45-55": "alter_45_55",
    "55-65": "alter_55_65",
    "65undmehr": "alter_65_plus",
    "weiblich": "weiblich",
}
_AGE = [f"alter_{a}" for a in _ALTER]


@cache
def _bevoelkerung_2022_12(raw_dir: Path) -> tuple[pd.DataFrame, tuple[str, ...]]:
    p1, p2 = raw_dir / _T1, raw_dir / _T2
    t1, t2 = _read_csv_text(p1), _read_csv_text(p2)
    k1 = _plr_key(t1["id"], p1, "id", raw_dir)
    k2 = _plr_key(t2["id"], p2, "id", raw_dir)
    a = _counts(t1, _T1_COLUMNS, p1).set_axis(k1)
    b = _counts(t2, {"inhabitants": "einwohner", "inhabitants_foreigners": "auslaender",
                     **_T2_COLUMNS}, p2).set_axis(k2).reindex(a.index)
    problems = []
    for col in ("einwohner", "auslaender"):
        n = int((a[col] != b[col]).sum())
        if n:
            problems.append(f"{col} in T1 und T2 verschieden in {n} Planungsräumen")
    df = a.join(b[_T2_COLUMNS.values()])
    checks = {
        "Deutsche + Ausländer ≠ Einwohner": df["deutsche"] + df["auslaender"] != df["einwohner"],
        "Migrationshintergrund ≠ Ausländer + Deutsche mit Migrationshintergrund":
            df["migrationshintergrund"]
            != df["auslaender"] + df["deutsche_mit_migrationshintergrund"],
        "Altersgruppen ≠ Einwohner": df[_AGE].sum(axis=1) != df["einwohner"],
    }
    problems += [f"{k} in {int(v.sum())} Planungsräumen" for k, v in checks.items() if v.any()]
    df = df[["einwohner", "auslaender", "deutsche", "migrationshintergrund",
             "deutsche_mit_migrationshintergrund", *_AGE, "weiblich"]]
    return df, tuple(f"{p1.name}/{p2.name}: {p}" for p in problems)


@cache
def _bevoelkerung_2022_06(raw_dir: Path) -> tuple[pd.DataFrame, tuple[str, ...]]:
    path = raw_dir / _EWR_2022_06
    raw = _read_csv_text(path, sep=";")
    key = _plr_key(raw["PLR-ID"], path, "PLR-ID", raw_dir)
    df = _counts(raw, _JASCHA_COLUMNS, path, dash_is_zero=True).set_axis(key)
    df["deutsche"] = df["einwohner"] - df["auslaender"]
    problems = []
    if (df["deutsche"] < 0).any():
        problems.append(f"mehr Ausländer als Einwohner in {int((df['deutsche'] < 0).sum())} "
                        f"Planungsräumen")
    wrong = df[_AGE].sum(axis=1) != df["einwohner"]
    if wrong.any():
        problems.append(f"Altersgruppen ≠ Einwohner in {int(wrong.sum())} Planungsräumen")
    df = df[["einwohner", "auslaender", "deutsche", *_AGE, "weiblich"]]
    return df, tuple(f"{path.name}: {p}" for p in problems)


def load_bevoelkerung(*, stand: str = "2022-12-31",
                      raw_dir: Path | None = None) -> pd.DataFrame:
    """Return inhabitants per Planungsraum (Einwohnerregister, main residence) at one date.

    Parameters
    ----------
    stand
        Date of the table, one of :data:`BEVOELKERUNG_STAENDE` ("2022-06-30", "2022-12-31").
    raw_dir
        Folder with the raw files; default ``layers/berlin/raw``.

    Returns
    -------
    pandas.DataFrame
        542 rows sorted by ``stadtteil_nr`` (8 digits as text) with Int64 counts:
        ``einwohner``, ``auslaender``, ``deutsche``, for 2022-12-31 also
        ``migrationshintergrund`` and ``deutsche_mit_migrationshintergrund``, then
        ``alter_unter_6``, ``alter_6_15``, ``alter_15_18``, ``alter_18_27``, ``alter_27_45``,
        ``alter_45_55``, ``alter_55_65``, ``alter_65_plus``, ``weiblich``. No shares.

    Raises
    ------
    InputError
        ``stand`` is not one of the two dates.
    LayerError
        A file is missing, a count is not a number or the codes do not match the 542 PLR.

    Notes
    -----
    2022-12-31: sheets T1 and T2 of the Amt für Statistik Berlin-Brandenburg report SB A I 16
    – hj 2/22 as converted to CSV by the open-data-product project; the converter's
    ``*_percentage`` columns are not taken (its shares of the empty PLR are 0.0, a hidden
    division by zero). 2022-06-30: table T2 of SB A I 16 – hj 1/22 as extracted by hand
    (UTF-8 with BOM, CRLF, ``;``, PLR code in the last column); it has no migration
    background, so those two columns are absent (not empty) and ``deutsche`` is
    ``einwohner - auslaender`` (Germans and foreigners add up to the total in the register
    statistics: 542/542 rows on 2022-12-31). Its en dash "–" is the Amt's sign for "nothing"
    (genau null): it stands in single cells where the age groups still add up to the total,
    and in every cell of the two uninhabited PLR 03400831 Pankower Tor and 06200418 Landweg,
    which have 0 inhabitants in the 2022-12-31 table too; it is read as 0 everywhere. The
    consistency checks (Germans + foreigners, migration background, age groups) are re-run
    at each load; failures are warnings. A warning also names the PLR with fewer than 300
    inhabitants, whose shares need a minimum-population rule.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # the 5 Planungsräume under 300 inhabitants
    ...     bev = load_bevoelkerung(stand="2022-12-31")
    >>> int(bev["einwohner"].sum()), int(bev["auslaender"].sum())
    (3850809, 900144)
    >>> load_bevoelkerung(stand="2023-12-31")
    Traceback (most recent call last):
    ...
    gis_planning._errors.InputError: Bevölkerungsstand '2023-12-31' gibt es für Berlin ...
    """
    if stand not in BEVOELKERUNG_STAENDE:
        raise InputError(
            f"Bevölkerungsstand {stand!r} gibt es für Berlin nicht; vorhanden sind "
            f"{' und '.join(BEVOELKERUNG_STAENDE)}."
        )
    key = _key(raw_dir)
    reader = _bevoelkerung_2022_12 if stand == "2022-12-31" else _bevoelkerung_2022_06
    df, problems = reader(key)
    for p in problems:
        _warn(f"{p}; die Tabelle wurde trotzdem geladen, Werte prüfen.")
    small = df[df["einwohner"] < 300]
    if not small.empty:
        empty = small.index[small["einwohner"] == 0]
        _warn(
            f"Bevölkerung {stand}: {len(small)} Planungsräume haben weniger als 300 "
            f"Einwohner, davon {len(empty)} keine ({', '.join(empty)}); Anteile dort nur mit "
            f"Mindestbevölkerung auswerten."
        )
    out = df.rename_axis("stadtteil_nr").reset_index()
    out["stadtteil_nr"] = out["stadtteil_nr"].astype(str)
    return out.sort_values("stadtteil_nr").reset_index(drop=True)
