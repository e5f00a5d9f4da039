"""Confidentiality is a property of data: nothing derived from a confidential layer leaves.

A planner's pack extends Essen, adds existing meeting places and marks point layers
confidential. Every command runs on it; every file it writes and every line it prints is
scanned for the confidential points' coordinates at any precision: plain numbers (degrees or
metres, any rounding), polyline-encoded coordinates in the atlas, and the centres of polygons
(a buffer or catchment drawn around a point gives the point back as its centroid).
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from scipy.spatial import cKDTree

from gis_planning import ConfidentialDataError
from gis_planning.cli import cli
from gis_planning.data.catalog import load_city
from gis_planning.outputs.webmap import decode_polyline

#: Geometries written to files reveal a point when a vertex or a polygon's centre lies this
#: close to it (a buffer's centroid is the point to far below a millimetre; a public layer
#: such as 10,000 census cells would meet some of 800 points by chance at a metre).
TOL_M, TOL_DEG = 0.05, 5e-7


class Finder:
    """Nearest confidential point of any coordinate pair, in metres and degrees."""

    def __init__(self, points: gpd.GeoDataFrame):
        self.m = cKDTree(shapely.get_coordinates(points.to_crs("EPSG:25832").geometry.array))
        self.deg = cKDTree(shapely.get_coordinates(points.to_crs("EPSG:4326").geometry.array))

    def hits(self, xy: np.ndarray, *, tol_deg: float = TOL_DEG, tol_m: float = TOL_M
             ) -> list[tuple[float, float]]:
        """Pairs (either axis order) within the tolerance of a confidential point."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        out = []
        for arr in (xy, xy[:, ::-1]):
            deg = (arr[:, 0] > 5) & (arr[:, 0] < 16) & (arr[:, 1] > 47) & (arr[:, 1] < 56)
            met = (arr[:, 0] > 250_000) & (arr[:, 0] < 500_000) & (arr[:, 1] > 5.6e6) & (
                arr[:, 1] < 5.8e6)
            for mask, tree, tol in ((deg, self.deg, tol_deg), (met, self.m, tol_m)):
                if mask.any():
                    d, _ = tree.query(arr[mask], p=np.inf)  # per-axis distance
                    out += [tuple(p) for p in arr[mask][d <= tol]]
        return out

    def hits_in_text(self, text: str) -> list[tuple[float, float]]:
        """Printed coordinate pairs that a confidential point rounds to, at any precision.

        A pair printed with ``d`` decimals reveals a point if the point rounds to it
        (per-axis distance at most half a unit of the last printed digit).
        """
        out = []
        for decimals, pairs in _numbers(text).items():
            tol = 0.5 * 10.0 ** -decimals + 1e-9
            # degrees need at least 4 decimals (about 10 m) to say where a point is
            out += self.hits(pairs, tol_deg=tol if decimals >= 4 else -1.0,
                             tol_m=tol if decimals <= 2 else TOL_M)
        return out


_NUM = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _numbers(text: str) -> dict[int, np.ndarray]:
    """Neighbouring number pairs of ``text`` by the decimals they are printed with."""
    found = _NUM.findall(text.replace(",", " , "))
    vals = [float(m) for m in found]
    decs = [len(m.split(".")[1].split("e")[0].split("E")[0]) if "." in m else 0 for m in found]
    out: dict[int, list] = {}
    for i in range(len(vals) - 1):
        out.setdefault(max(decs[i], decs[i + 1]), []).append((vals[i], vals[i + 1]))
    return {d: np.array(p, dtype=float) for d, p in out.items()}


def _geometry_points(gdf: gpd.GeoDataFrame) -> np.ndarray:
    geoms = gdf.geometry[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if geoms.empty:
        return np.empty((0, 2))
    parts = [shapely.get_coordinates(geoms.array),
             shapely.get_coordinates(geoms.centroid.array)]
    return np.vstack(parts)


def _html_points(text: str) -> np.ndarray:
    """Decode every polyline of the atlas (points and the shared polygon store)."""
    out = []
    for m in re.finditer(r'"d":\s*(\d+)[^{}]*?"xy":\s*"((?:[^"\\]|\\.)*)"', text):
        latlng = decode_polyline(json.loads(f'"{m.group(2)}"'), int(m.group(1)))
        out.append(latlng[:, ::-1])
    for m in re.finditer(r"gp\.store\((\{.*?\})\);", text, re.S):
        store = json.loads(m.group(1))
        for polygons in store["g"].values():
            for rings in polygons:
                for ring in rings:
                    ll = decode_polyline(ring, store["d"])[:, ::-1]
                    if len(ll):
                        out += [ll, ll.mean(axis=0, keepdims=True)]
    return np.vstack(out) if out else np.empty((0, 2))


def scan(path: Path, finder: Finder) -> list:
    raw = path.read_bytes()
    hits = []
    text = raw.decode("utf-8", errors="ignore")
    hits += finder.hits_in_text(text)
    if path.suffix == ".html":  # polyline-encoded with 5 decimals or more: rounding only
        hits += finder.hits(_html_points(text), tol_deg=6e-6, tol_m=-1.0)
    if path.suffix in (".gpkg", ".geojson"):
        import pyogrio

        for name in pyogrio.list_layers(path)[:, 0]:
            gdf = gpd.read_file(path, layer=name)
            if isinstance(gdf, gpd.GeoDataFrame) and gdf.crs is not None:
                hits += finder.hits(_geometry_points(gdf.to_crs("EPSG:25832")))
            hits += finder.hits_in_text(gdf.drop(columns="geometry",
                                                 errors="ignore").to_csv())
    if path.suffix == ".tif":
        import rasterio

        with rasterio.open(path) as ds:
            hits += finder.hits_in_text(json.dumps(ds.tags()))
    return hits


def test_scanner_finds_points_in_every_form(tmp_path, catalog):
    """The scan can fail: points, buffers and polyline-encoded markers are found."""
    from gis_planning.outputs.webmap import Atlas

    kitas = catalog.load("kitas").iloc[:20]
    finder = Finder(kitas)
    kitas.to_crs("EPSG:4326").to_file(tmp_path / "k.geojson")
    kitas.buffer(300).to_frame("geometry").to_file(tmp_path / "b.gpkg")
    atlas = Atlas(title="t", bounds=kitas, basemap=False)
    atlas.add_points(kitas, name="k")
    atlas.add_polygons(kitas.buffer(50).to_frame("geometry"), name="b")
    atlas.save(tmp_path / "a.html")
    for f in ("k.geojson", "b.gpkg", "a.html"):
        assert scan(tmp_path / f, finder), f
    assert finder.hits(np.array([[7.0, 51.0]])) == []
    x, y = shapely.get_coordinates(kitas.to_crs("EPSG:4326").geometry.array)[0]
    assert finder.hits_in_text(f"Lage: {x:.5f}, {y:.5f}")  # rounded to about a metre
    assert finder.hits_in_text(f"POINT ({y:.6f} {x:.6f})")  # swapped axes
    assert not finder.hits_in_text(f"{x:.2f}, {y:.2f}")  # a kilometre says nothing


@pytest.fixture(scope="module")
def planner(tmp_path_factory, catalog):
    """Essen plus three existing meeting places; begegnungsorte, kitas, schulen confidential."""
    d = tmp_path_factory.mktemp("vertraulich")
    st = catalog.load("stadtteile")
    pts = st.set_index("stadtteil").loc[["Schuir", "Altendorf", "Karnap"]]
    orte = gpd.GeoDataFrame(
        {"name": ["Treff Schuir", "Treff Altendorf", "Treff Karnap"], "typ": "Stadtteilbüro",
         "besteht": True},
        geometry=pts.representative_point().translate(37.3, -21.9).to_numpy(), crs=st.crs)
    orte.to_file(d / "orte.gpkg")
    for name, secret in (("nur_orte", ["begegnungsorte"]),
                         ("alle", ["begegnungsorte", "kitas", "schulen"])):
        (d / f"{name}.json").write_text(json.dumps({
            "city": "Essen", "extends": "essen", "confidential": secret,
            "layers": {"begegnungsorte": {"path": "orte.gpkg", "label": "Begegnungsorte",
                                          "source": "eigene Erhebung", "licence": "intern"}},
        }))
    return d


COMMANDS = [
    ["atlas", "-o", "{out}/atlas.html", "--no-basemap"],
    ["site", "--cell-size", "500", "--out-dir", "{out}/site"],
    ["site", "--model", "lscp", "--cell-size", "1000"],
    ["budget", "-o", "{out}/budget.csv"],
    ["export", "--gpkg", "{out}/alles.gpkg", "--geojson", "{out}/geojson"],
    ["query", "SELECT * FROM standorte", "-o", "{out}/standorte.geojson"],
    ["query", "SELECT * FROM einzugsbereiche", "-o", "{out}/einzugsbereiche.gpkg"],
    ["query", "SELECT * FROM standort_zuordnung", "-o", "{out}/zuordnung.csv"],
    ["query", "SELECT ST_AsText(ST_Centroid(geometry)) AS c FROM einzugsbereiche"],
    ["query", "SELECT * FROM begegnungsorte"],
    ["query", "SELECT * FROM kitas"],
    ["filter", "kitas", "--within", "bezirk = 'V'"],
    ["filter", "begegnungsorte", "-o", "{out}/orte.geojson"],
    ["layers", "export", "begegnungsorte", "--format", "gpkg", "-o", "{out}/orte.gpkg"],
    ["layers", "export", "kitas", "--format", "geojson", "-o", "{out}/kitas.geojson"],
    ["layers", "show", "begegnungsorte"],
    ["raster", "all", "--dir", "{out}/raster", "--cell-size", "500"],
]


@pytest.mark.slow
@pytest.mark.parametrize("pack", ["nur_orte", "alle"])
def test_every_command_keeps_confidential_points_inside(planner, pack, tmp_path):
    cat = load_city(planner / f"{pack}.json")
    secret = [n for n in cat.names() if cat.schema(n).confidential and n != "projektwohnungen"]
    points = gpd.GeoDataFrame(
        geometry=np.concatenate([cat.load_confidential_points(n).geometry.to_numpy()
                                 for n in secret]), crs=cat.crs)
    finder = Finder(points)
    out = tmp_path / "out"
    out.mkdir()
    runner = CliRunner()
    for args in COMMANDS:
        args = [a.format(out=out) for a in args]
        if "kitas" in args and "kitas" not in secret:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = runner.invoke(cli, ["--city", str(planner / f"{pack}.json"), *args])
        assert "Traceback" not in res.output, (args, res.output)
        if res.exit_code != 0:  # a refusal is fine, if it says why
            assert res.exit_code == 2 and "vertraulich" in res.output, (args, res.output)
        hits = finder.hits_in_text(res.output)
        assert not hits, f"{' '.join(args)} printed confidential coordinates {hits[:3]}"
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {"atlas.html", "alles.gpkg", "standorte.geojson"} <= {f.name for f in files}
    for f in files:
        hits = scan(f, finder)
        assert not hits, f"{f.relative_to(out)} reveals confidential points {hits[:3]}"
    # the existing places still shape the solution: named by their Stadtteil only
    sites = gpd.read_file(out / "standorte.geojson")
    hidden = sites[sites["name"] == "vertraulicher Standort"]
    assert {"Schuir", "Altendorf", "Karnap"} <= set(hidden["stadtteil"])
    assert hidden.geometry.isna().all() or hidden.geometry.is_empty.all()


def test_api_hands_out_counts_unless_asked(planner):
    cat = load_city(planner / "nur_orte.json")
    counts = cat.load("begegnungsorte")
    assert "anzahl_text" in counts and set(counts.geom_type) <= {"Polygon", "MultiPolygon"}
    assert counts["anzahl_text"].eq("< 5").sum() == 3
    points = cat.load_confidential_points("begegnungsorte")
    assert len(points) == 3
    with pytest.raises(ConfidentialDataError):
        points.to_crs("EPSG:4326").pipe(
            lambda g: __import__("gis_planning").write_layer(g, planner / "x.geojson"))
    flats = load_city("essen").load("projektwohnungen")
    assert "anzahl" in flats and len(flats) == 50
