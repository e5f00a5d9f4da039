"""Geometry for the web page: Google-polyline encoding and bounded coverage simplification.

Private helpers of :mod:`gis_planning.outputs.webmap` (re-exported there:
:func:`encode_polyline`, :func:`decode_polyline`).
"""

from __future__ import annotations

import math

import numpy as np
import shapely

__all__ = [
    "bounded_coverage_simplify",
    "decode_polygon",
    "decode_polyline",
    "encode_polygon",
    "encode_polyline",
    "rounding_error_m",
    "vertex_deviation",
]


def encode_polyline(latlng: np.ndarray, decimals: int) -> str:
    """Encode ``(n, 2)`` latitude/longitude pairs as a Google polyline string.

    Parameters
    ----------
    latlng
        Coordinates in degrees, latitude first.
    decimals
        Decimal places kept (5 = about 1 m).

    Returns
    -------
    str
        ASCII characters 63-126.

    Notes
    -----
    Each coordinate is rounded to an integer ``v = round(x * 10**decimals)``; the differences
    to the previous vertex are zig-zag encoded (``2v`` or ``-2v - 1``) and written in 5-bit
    groups, lowest first, each group plus 63, with bit 32 set on all but the last group.
    Rounding moves a vertex by at most half a unit per axis.
    """
    ints = np.round(np.asarray(latlng, dtype=float) * 10**decimals).astype(np.int64)
    deltas = np.diff(ints, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).ravel()
    out = []
    for v in deltas.tolist():
        v = ~(v << 1) if v < 0 else v << 1
        while v >= 0x20:
            out.append(chr((0x20 | (v & 0x1F)) + 63))
            v >>= 5
        out.append(chr(v + 63))
    return "".join(out)


def decode_polyline(text: str, decimals: int) -> np.ndarray:
    """Decode a Google polyline string into ``(n, 2)`` latitude/longitude pairs."""
    vals, i, n = [], 0, len(text)
    while i < n:
        shift = result = 0
        while True:
            b = ord(text[i]) - 63
            i += 1
            result |= (b & 0x1F) << shift
            shift += 5
            if b < 0x20:
                break
        vals.append(~(result >> 1) if result & 1 else result >> 1)
    arr = np.cumsum(np.asarray(vals, dtype=np.int64).reshape(-1, 2), axis=0)
    return arr / 10**decimals


def _polygon_parts(geom: shapely.Geometry) -> list[shapely.Polygon]:
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type == "Polygon":
        return [geom]
    if geom.geom_type == "MultiPolygon":
        return list(geom.geoms)
    if geom.geom_type == "GeometryCollection":
        return [p for g in geom.geoms for p in _polygon_parts(g)]
    return []


def encode_polygon(geom: shapely.Geometry, decimals: int) -> list[list[str]]:
    """Polygons -> rings -> polyline strings (latitude first, closing vertex dropped)."""
    out = []
    for poly in _polygon_parts(geom):
        rings = [poly.exterior, *poly.interiors]
        out.append([encode_polyline(np.asarray(r.coords)[:-1, ::-1], decimals) for r in rings])
    return out


def decode_polygon(parts: list[list[str]], decimals: int) -> shapely.Geometry:
    polys = []
    for rings in parts:
        coords = [decode_polyline(r, decimals)[:, ::-1] for r in rings]
        polys.append(shapely.Polygon(coords[0], coords[1:]))
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)



def rounding_error_m(decimals: int, latitude: float = 51.45) -> float:
    """Largest ground distance in metres that rounding to ``decimals`` moves a vertex."""
    half = 0.5 * 10.0**-decimals * 111_320.0
    return math.hypot(half, half * math.cos(math.radians(latitude)))


def vertex_deviation(original: np.ndarray, simplified: np.ndarray) -> float:
    """Largest distance of an original vertex from its simplified polygon's border.

    Equal to :func:`gis_planning.outputs.simplify.max_deviation` (discrete Hausdorff distance) when
    the simplified vertices are a subset of the original ones, as with
    ``shapely.coverage_simplify``; computed with an STRtree of border segments per polygon
    (``O(n log m)`` instead of GEOS's ``O(n m)``).
    """
    worst = 0.0
    for a, b in zip(original, simplified, strict=True):
        rings = shapely.get_rings(shapely.get_parts(b))
        coords, idx = shapely.get_coordinates(rings, return_index=True)
        same = idx[:-1] == idx[1:]
        segs = shapely.linestrings(np.stack([coords[:-1][same], coords[1:][same]], axis=1))
        _, dist = shapely.STRtree(segs).query_nearest(
            shapely.points(shapely.get_coordinates(a)), return_distance=True
        )
        worst = max(worst, float(dist.max(initial=0.0)))
    return worst


def bounded_coverage_simplify(geoms: np.ndarray, bound: float, *, steps: int = 8) -> np.ndarray:
    """``shapely.coverage_simplify`` with the largest tolerance found whose deviation <= bound.

    The tolerance (an area threshold of Visvalingam-Whyatt, not a distance) is bisected on a
    log scale between ``bound / 256`` and ``bound``; the deviation is not monotone in the
    tolerance, so the search keeps the largest tolerance seen to pass. With none passing, the
    polygons stay as they are.
    """
    best = geoms.copy()
    cand = shapely.coverage_simplify(geoms, bound)
    if vertex_deviation(geoms, cand) <= bound:
        return cand
    lo, hi = math.log(bound / 256), math.log(bound)
    for _ in range(steps):
        mid = (lo + hi) / 2
        cand = shapely.coverage_simplify(geoms, math.exp(mid))
        if vertex_deviation(geoms, cand) <= bound:
            best, lo = cand, mid
        else:
            hi = mid
    return best

