"""Light web layers: topology-preserving coverage simplification, coordinate precision.

A polygon *coverage* (Stadtteile, Bezirke) is a set of polygons that share borders without gaps
or overlaps. Simplifying each polygon on its own moves the two copies of a shared border
differently and opens slivers; :func:`simplify_coverage` simplifies every shared edge once
(``shapely.coverage_simplify``, GEOS >= 3.12), so neighbours keep one border.
"""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import GeometryError, InputError
from .._validate import require_crs, require_projected, require_same_crs

__all__ = [
    "decimals_for_zoom",
    "geojson_size",
    "max_deviation",
    "round_coordinates",
    "simplify_coverage",
]

_EARTH_CIRCUMFERENCE_M = 40_075_016.686
_METRES_PER_DEGREE = _EARTH_CIRCUMFERENCE_M / 360.0


def _check_polygons(gdf: gpd.GeoDataFrame, name: str) -> None:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"die Ebene {name!r} muss eine Geodatentabelle (Flächen) sein, nicht "
                         f"{type(gdf).__name__}.")
    geoms = gdf.geometry.values
    bad = ~np.isin(shapely.get_type_id(geoms), [3, 6])  # Polygon, MultiPolygon
    if bad.any() or shapely.is_empty(geoms).any():
        raise GeometryError(
            f"die Ebene {name!r} darf nur nicht leere Flächen (Polygone) enthalten; die Zeilen "
            f"{list(gdf.index[bad | shapely.is_empty(geoms)][:5])} sind keine. Entfernen oder "
            f"reparieren Sie sie."
        )


def _simplify(geoms: np.ndarray, tolerance: float, simplify_boundary: bool) -> np.ndarray:
    if tolerance == 0:
        return geoms.copy()
    return shapely.coverage_simplify(geoms, tolerance, simplify_boundary=simplify_boundary)


def simplify_coverage(
    gdf: gpd.GeoDataFrame,
    *,
    tolerance: float | None = None,
    max_error: float | None = None,
    simplify_boundary: bool = True,
) -> gpd.GeoDataFrame:
    """Simplify a polygon coverage so that neighbours keep their shared borders.

    Parameters
    ----------
    gdf
        Polygons forming a coverage (no overlaps), in a projected CRS with metres
        (e.g. EPSG:25832).
    tolerance
        Simplification tolerance in metres, passed to ``shapely.coverage_simplify``
        (Visvalingam-Whyatt: vertices whose triangle area is below ``tolerance**2`` go).
    max_error
        Instead of ``tolerance``: the largest allowed Hausdorff distance in metres between
        each original and simplified polygon; the largest tolerance meeting it is searched.
    simplify_boundary
        Also simplify the outer boundary of the coverage (the city limit).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with simplified geometries, same index, columns and CRS.

    Raises
    ------
    CRSError
        ``gdf`` has no CRS or a geographic one.
    GeometryError
        Non-polygon or empty geometries.
    InputError
        Not exactly one of ``tolerance`` and ``max_error`` given, or a negative value.

    Warns
    -----
    UserWarning
        The input is not a valid coverage (overlaps or mismatched shared edges); the result
        may then have gaps or overlaps.

    Notes
    -----
    ``coverage_simplify`` simplifies each edge between two polygons once, so a border shared
    by two Stadtteile stays identical in both and no gap or overlap appears; the tolerance is
    an area-based (Visvalingam-Whyatt) threshold, not a distance bound. With ``max_error`` the
    tolerance ``t`` is bisected on ``[0, 8 * max_error]`` (20 steps) keeping the largest ``t``
    with ``max(H(original_i, simplified_i)) <= max_error``, where ``H`` is the discrete
    Hausdorff distance of :func:`max_deviation`; the bound therefore holds by construction.
    """
    _check_polygons(gdf, "gdf")
    require_projected(gdf, name="gdf")
    if (tolerance is None) == (max_error is None):
        raise InputError("Vereinfachung: genau eine Angabe nötig, Toleranz oder größte "
                         "Abweichung (beide in Metern).")
    value = tolerance if tolerance is not None else max_error
    assert value is not None
    if not math.isfinite(value) or value < 0:
        raise InputError(f"Toleranz der Vereinfachung: eine endliche Zahl von Metern, 0 oder "
                         f"größer, nicht {value!r}.")
    geoms = gdf.geometry.values
    if not shapely.coverage_is_valid(geoms):
        warnings.warn(
            "die Flächen bilden keine saubere Flächendeckung (Überlappungen oder gemeinsame "
            "Grenzen, deren Punkte nicht übereinstimmen); die vereinfachte Ebene kann Lücken "
            "oder Überlappungen haben. Prüfen Sie die Grenzen der Quelle.",
            UserWarning,
            stacklevel=2,
        )
    if tolerance is not None:
        out = _simplify(geoms, tolerance, simplify_boundary)
    else:
        assert max_error is not None
        best, lo, hi = geoms.copy(), 0.0, 8.0 * max_error
        for _ in range(20):
            mid = (lo + hi) / 2
            cand = _simplify(geoms, mid, simplify_boundary)
            if np.max(shapely.hausdorff_distance(geoms, cand), initial=0.0) <= max_error:
                best, lo = cand, mid
            else:
                hi = mid
        out = best
    result = gdf.copy()
    result[result.geometry.name] = gpd.GeoSeries(out, index=gdf.index, crs=gdf.crs)
    return result


def max_deviation(original: gpd.GeoDataFrame, simplified: gpd.GeoDataFrame) -> pd.Series:
    """Hausdorff distance in metres between each original and simplified geometry.

    Parameters
    ----------
    original, simplified
        Same index, same projected CRS (metres).

    Returns
    -------
    pandas.Series
        ``max_deviation_m`` per row, indexed like ``original``.

    Raises
    ------
    CRSError
        Missing, geographic or different CRSs.
    InputError
        The indexes differ.

    Notes
    -----
    Discrete Hausdorff distance (GEOS): ``max(max_{a in V(A)} d(a, B), max_{b in V(B)} d(b, A))``
    over the vertices ``V``. The simplified vertices are a subset of the original ones, so this
    is the largest distance of an original vertex from the simplified border.
    """
    require_projected(original, name="original")
    require_same_crs(("original", original), ("simplified", simplified))
    if not original.index.equals(simplified.index):
        raise InputError("Original und vereinfachte Ebene müssen dieselben Zeilen haben (gleicher "
                         "Index).")
    d = shapely.hausdorff_distance(original.geometry.values, simplified.geometry.values)
    return pd.Series(d, index=original.index, name="max_deviation_m")


def decimals_for_zoom(max_zoom: int, *, latitude: float = 51.45) -> int:
    """Decimal places of WGS84 degrees so rounding stays below half a pixel at ``max_zoom``.

    Parameters
    ----------
    max_zoom
        Highest web-map zoom level the layer is shown at (0-24).
    latitude
        Latitude in degrees (Essen: 51.45).

    Returns
    -------
    int
        Smallest ``d`` with ``111 320 m * 10**-d <= r / 2``.

    Notes
    -----
    Web Mercator ground resolution ``r = C cos(phi) / (256 * 2**z)`` metres per pixel with
    ``C = 40 075 016.7 m``; one unit in the ``d``-th decimal of a degree is at most
    ``C / 360 * 10**-d`` metres (along a meridian). Five decimals (1.1 m) suffice up to zoom 15
    in Essen, six (0.11 m) up to zoom 18.
    """
    if not 0 <= max_zoom <= 24:
        raise InputError(f"größte Zoomstufe {max_zoom!r}: erlaubt sind 0 bis 24.")
    res = _EARTH_CIRCUMFERENCE_M * math.cos(math.radians(latitude)) / (256 * 2**max_zoom)
    return max(0, math.ceil(math.log10(2 * _METRES_PER_DEGREE / res)))


def round_coordinates(gdf: gpd.GeoDataFrame, *, decimals: int) -> gpd.GeoDataFrame:
    """Round every coordinate to ``decimals`` places (shared vertices stay shared).

    Rounds vertex by vertex (no snapping or overlay), so equal vertices of neighbours stay
    equal. Repeated vertices created by rounding are removed; geometries that become invalid
    are repaired with ``make_valid`` and reported with a warning.
    """
    require_crs(gdf, name="gdf")
    geoms = shapely.transform(gdf.geometry.values, lambda xy: np.round(xy, decimals))
    geoms = shapely.remove_repeated_points(geoms)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        warnings.warn(
            f"Das Runden auf {decimals} Nachkommastellen machte {int(invalid.sum())} "
            f"Geometrien ungültig (Zeilen {list(gdf.index[invalid][:5])}); sie wurden "
            "repariert. Mehr Nachkommastellen vermeiden das.",
            UserWarning,
            stacklevel=2,
        )
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    result = gdf.copy()
    result[result.geometry.name] = gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs)
    return result


def geojson_size(gdf: gpd.GeoDataFrame, *, precision: int = 6) -> int:
    """Size in bytes (UTF-8) of ``gdf`` as GeoJSON in EPSG:4326 with ``precision`` decimals.

    Parameters
    ----------
    gdf
        Any layer with a CRS; reprojected to EPSG:4326 as the web map does.
    precision
        Decimal places of the coordinates (see :func:`decimals_for_zoom`).

    Returns
    -------
    int
        Bytes of ``gdf.to_json()`` after rounding, properties included.
    """
    require_crs(gdf, name="gdf")
    if not 0 <= precision <= 15:
        raise InputError(f"Nachkommastellen {precision!r}: erlaubt sind 0 bis 15.")
    wgs = gdf.to_crs("EPSG:4326")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        wgs = round_coordinates(wgs, decimals=precision)
    return len(wgs.to_json(drop_id=True).encode("utf-8"))
