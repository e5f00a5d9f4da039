"""Property tests (hypothesis): loaders fail only with our errors; totals are preserved;
suppression never reveals a cell."""

from __future__ import annotations

import json
import warnings
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from gis_planning import GISPlanningError
from gis_planning.analysis.interpolate import area_interpolate
from gis_planning.data.catalog import default_catalog
from gis_planning.data.io import read_file, validate_layer
from gis_planning.privacy import release_table, suppress_counts

ESSEN_SCHEMAS = default_catalog().schemas

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
KITAS = replace(ESSEN_SCHEMAS["kitas"], check_stadtteil=True)
NAMES = ["Stadtkern", "Altendorf", "Altenessen-Süd", "Altenessen-Nord", "Rüttenscheid"]


def _load_quietly(path, schema=KITAS):
    """Read and validate; only GISPlanningError may come out (warnings are fine)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            gdf = read_file(path)
            validate_layer(gdf, schema, name=str(path), stadtteil_names=NAMES)
        except GISPlanningError as exc:
            assert str(exc) and "\n" not in str(exc).strip()


@SETTINGS
@given(data=st.binary(max_size=400),
       suffix=st.sampled_from([".geojson", ".gpkg", ".csv", ".shp", ".parquet", ".json"]))
def test_random_bytes_only_our_errors(tmp_path, data, suffix):
    p = tmp_path / f"zufall{suffix}"
    p.write_bytes(data)
    _load_quietly(p)


json_scalar = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                        st.floats(allow_nan=True, allow_infinity=True),
                        st.text(max_size=12))
json_value = st.recursive(json_scalar, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)
coord = st.one_of(st.floats(5, 16), st.floats(47, 56), st.floats(-1e7, 1e7),
                  st.floats(allow_nan=True, allow_infinity=True))
geometry = st.one_of(
    st.none(), json_value,
    st.builds(lambda x, y: {"type": "Point", "coordinates": [x, y]}, coord, coord),
    st.builds(lambda cs: {"type": "LineString", "coordinates": cs},
              st.lists(st.lists(coord, min_size=2, max_size=3), max_size=4)),
    st.builds(lambda cs: {"type": "Polygon", "coordinates": [cs]},
              st.lists(st.lists(coord, min_size=2, max_size=2), max_size=5)),
    st.builds(lambda t: {"type": t, "coordinates": []},
              st.sampled_from(["Point", "MultiPoint", "Banana", "GeometryCollection"])),
)

ESSEN_SCHEMAS = default_catalog().schemas
props = st.dictionaries(st.sampled_from(["kita_id", "name", "stadtteil", "in_betrieb", "x"]),
                        json_value, max_size=5)


@SETTINGS
@given(features=st.lists(st.builds(lambda g, p: {"type": "Feature", "geometry": g,
                                                 "properties": p}, geometry, props),
                         max_size=5),
       cut=st.one_of(st.none(), st.integers(0, 400)),
       crs=st.sampled_from([None, "urn:ogc:def:crs:EPSG::25832", "EPSG:99999", "quatsch"]))
def test_mutated_geojson_only_our_errors(tmp_path, features, cut, crs):
    doc = {"type": "FeatureCollection", "features": features}
    if crs is not None:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    text = json.dumps(doc, allow_nan=True)
    if cut is not None:
        text = text[:cut]
    p = tmp_path / "kitas.geojson"
    p.write_text(text, encoding="utf-8")
    _load_quietly(p)


cell = st.one_of(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8),
                 st.integers(-1000, 10**7).map(str), st.floats(allow_nan=True).map(str),
                 st.sampled_from(["7,1 %", "51,45", "6,96", "", "NaN", '"', "POINT (7 51.4)",
                                  "Altenessen", "Rüttenscheid"]))


@SETTINGS
@given(header=st.lists(st.sampled_from(["kita_id", "name", "stadtteil", "lon", "lat", "x", "y",
                                        "wkt", "epsg", "in_betrieb", "anzahl"]),
                       min_size=1, max_size=6),
       rows=st.lists(st.lists(cell, min_size=0, max_size=7), max_size=5),
       sep=st.sampled_from([",", ";", "\t"]),
       encoding=st.sampled_from(["utf-8", "cp1252", "utf-16"]))
def test_random_csv_only_our_errors(tmp_path, header, rows, sep, encoding):
    text = "\n".join([sep.join(header), *[sep.join(r) for r in rows]]) + "\n"
    p = tmp_path / "kitas.csv"
    p.write_bytes(text.encode(encoding, errors="replace"))
    _load_quietly(p)


# -- totals are preserved ----------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(nx=st.integers(1, 4), ny=st.integers(1, 4),
       values=st.lists(st.integers(0, 10_000), min_size=16, max_size=16),
       dx=st.floats(0, 99), dy=st.floats(0, 99), size=st.sampled_from([37.0, 50.0, 130.0]))
def test_area_interpolate_preserves_totals(nx, ny, values, dx, dy, size):
    src = gpd.GeoDataFrame(
        {"ew": [float(values[i * ny + j]) for i in range(nx) for j in range(ny)]},
        geometry=[shapely.box(i * 100, j * 100, (i + 1) * 100, (j + 1) * 100)
                  for i in range(nx) for j in range(ny)], crs="EPSG:25832")
    # target grid offset by (dx, dy), large enough to cover the sources
    cols = int(np.ceil((nx * 100 + dx) / size)) + 1
    rows = int(np.ceil((ny * 100 + dy) / size)) + 1
    tgt = gpd.GeoDataFrame(geometry=[
        shapely.box(-dx + a * size, -dy + b * size, -dx + (a + 1) * size, -dy + (b + 1) * size)
        for a in range(cols) for b in range(rows)], crs="EPSG:25832")
    out = area_interpolate(src, tgt, extensive=["ew"])
    assert out["ew"].sum() == pytest.approx(src["ew"].sum(), rel=1e-9, abs=1e-6)
    # only part of the targets: counts plus unallocated still add up
    part = tgt.iloc[: max(1, len(tgt) // 2)]
    out2, audit2 = area_interpolate(src, part, extensive=["ew"], audit=True)
    unalloc = audit2.unallocated
    col = "ew" if "ew" in unalloc else unalloc.select_dtypes("number").columns[-1]
    assert out2["ew"].sum() + unalloc[col].sum() == pytest.approx(
        src["ew"].sum(), rel=1e-9, abs=1e-6)


@settings(max_examples=30, deadline=None)
@given(xy=st.lists(st.tuples(st.floats(0, 300), st.floats(0, 200)), max_size=60))
def test_point_aggregation_preserves_totals(xy):
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(x + 0.5, y + 0.5) for x, y in xy],
                           crs="EPSG:25832")
    areas = gpd.GeoDataFrame(
        {"stadtteil": [f"S{i}{j}" for i in range(3) for j in range(2)],
         "bezirk": [i for i in range(3) for _ in range(2)]},
        geometry=[shapely.box(i * 100.3, j * 100.7, (i + 1) * 100.3, (j + 1) * 100.7)
                  for i in range(3) for j in range(2)], crs="EPSG:25832")
    tab = release_table(pts, areas, k=1)  # k=1: nothing suppressed
    inside = pts.within(areas.union_all()).sum()
    assert tab.loc[tab["ebene"] == "Stadtteil", "anzahl"].sum() == inside
    assert tab.loc[tab["ebene"] == "Bezirk", "anzahl"].sum() == inside
    assert tab.loc[tab["ebene"] == "Stadt", "anzahl"].item() == inside


# -- suppression never reveals a cell ------------------------------------------------------------

small_or_big = st.one_of(st.integers(0, 6), st.integers(0, 40))
tables = st.lists(st.lists(small_or_big, min_size=1, max_size=6), min_size=1, max_size=5)


def _independent_audit(values, groups, status, k, public_groups):
    """Feasible interval of every withheld term, from the shown numbers only (own LP)."""
    n = len(values)
    gids = sorted(set(groups))
    gtot = [sum(v for v, g in zip(values, groups, strict=True) if g == gg) for gg in gids]
    allv = list(values) + gtot + [sum(values)]
    st_all = list(status)
    unknown = [i for i, s in enumerate(st_all) if s != ""]
    col = {v: j for j, v in enumerate(unknown)}
    eqs = [(n + gi, [i for i in range(n) if groups[i] == g]) for gi, g in enumerate(gids)]
    eqs.append((n + len(gids), list(range(n, n + len(gids)))))
    a_rows, b = [], []
    for parent, children in eqs:
        row, rhs = np.zeros(len(unknown)), 0.0
        for v, sgn in [(parent, 1.0)] + [(c, -1.0) for c in children]:
            if v in col:
                row[col[v]] += sgn
            else:
                rhs -= sgn * allv[v]  # a shown value
        if row.any():
            a_rows.append(row)
            b.append(rhs)
    # the attacker's bounds are what the page shows: "< k" -> 1..k-1; a cell withheld as
    # "geheim" (secondary, or a small cell whose "< k" could not be protected) -> 0 or more.
    # (An earlier version also let the attacker know that a withheld value >= k is >= k; no
    # page says so, and with it a withheld zero or its complement came out "pinned".)
    bounds = [(1, k - 1) if st_all[v] == "primär" else (0, None) for v in unknown]
    out = {}
    for v, j in col.items():
        c = np.zeros(len(unknown))
        c[j] = 1
        lo = linprog(c, A_eq=np.array(a_rows) if a_rows else None, b_eq=b or None,
                     bounds=bounds, method="highs")
        hi = linprog(-c, A_eq=np.array(a_rows) if a_rows else None, b_eq=b or None,
                     bounds=bounds, method="highs")
        assert lo.status == 0  # the true values are feasible
        out[v] = (lo.fun, np.inf if hi.status == 3 else -hi.fun)
    return out, eqs


@settings(max_examples=80, deadline=None)
@given(table=tables, k=st.sampled_from([3, 5]), grouped=st.booleans())
@example(table=[[0], [1, 1, 1]], k=3, grouped=True)  # pinned only by a too-strong attacker
def test_suppression_never_reveals_a_cell(table, k, grouped):
    values = [v for row in table for v in row]
    groups = [g for g, row in enumerate(table) for _ in row] if grouped else [0] * len(values)
    counts = pd.Series(values, index=[f"c{i}" for i in range(len(values))])
    res = suppress_counts(counts, groups=pd.Series(groups, index=counts.index) if grouped
                          else None, k=k)
    cells, grp, tot = res.cells, res.groups, res.total
    # 1. primary: every 0 < n < k withheld and shown as "< k"; never a number for withheld
    for v, (_, r) in zip(values, cells.iterrows(), strict=True):
        if 0 < v < k:
            assert r["unterdrueckung"] != "" and pd.isna(r["anzahl"])
            assert r["anzahl_text"] in (f"< {k}", "geheim")
        if r["unterdrueckung"] == "":
            assert r["anzahl"] == v and r["anzahl_text"] == f"{v:,}".replace(",", ".")
        else:
            assert pd.isna(r["anzahl"]) and not any(ch.isdigit() for ch in
                                                    r["anzahl_text"].replace(f"< {k}", ""))
    status = [*cells["unterdrueckung"], *grp["unterdrueckung"], *tot["unterdrueckung"]]
    if not grouped:  # the one group total is the city total: public
        status[len(values)] = tot["unterdrueckung"].item()
    if sum(values) >= k:
        assert tot["unterdrueckung"].item() == ""
    intervals, eqs = _independent_audit(values, groups, status, k, not grouped)
    # 2. no sum has exactly one withheld term (no recomputation by subtraction)
    for parent, children in eqs:
        assert sum(status[v] != "" for v in [parent, *children]) != 1
    # 3. no withheld term is pinned down by the shown totals and the "< k" bounds
    for v, (lo, hi) in intervals.items():
        assert hi - lo >= 1 - 1e-6, (v, lo, hi, values, status)
