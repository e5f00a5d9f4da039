"""Meeting spaces (Begegnungsräume) and the integration budget: the planning inputs.

This module prepares the inputs of the siting models of :mod:`gis_planning.planning.siting` and the
budget formula of :mod:`gis_planning.planning.budget`: demand is a group's count per unit
(e.g. persons of a group per Stadtteil) moved to a regular grid (optionally weighted up in
hotspots), candidates are
schools, Kitas in operation and the user's existing meeting places (``begegnungsorte``;
places flagged ``besteht`` are forced into the solution). :mod:`gis_planning.results` runs
them on a catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import InputError
from ..data.catalog import Catalog
from .siting import SitingResult, coverage_by_group, locate

__all__ = [
    "budget_table",
    "candidate_sites",
    "coverage_table",
    "demand_from_cells",
    "demand_grid",
    "site_scenario",
]



def demand_grid(
    table: gpd.GeoDataFrame,
    *,
    cell_size: float = 250,
    column: str,
    hotspots: gpd.GeoDataFrame | None = None,
    hotspot_factor: float = 1.0,
) -> gpd.GeoDataFrame:
    """Return demand cells: ``column`` of the Stadtteil ``table`` moved to a square grid.

    Counts are moved by area-weighted interpolation (totals kept). With ``hotspot_factor``
    other than 1, the weight in Stadtteile that ``hotspots`` (a Gi* result with
    ``stadtteil_nr`` and ``klasse``) classes as hotspots is multiplied by it. Each cell gets
    the ``bezirk`` and ``stadtteil`` its representative point lies in.
    """
    from ..analysis.grid import grid
    from ..analysis.interpolate import area_interpolate

    if column not in table:
        raise InputError(f"Spalte {column!r} fehlt in der Stadtteil-Tabelle; möglich: "
                         f"{', '.join(c for c in table.columns if c != 'geometry')}.")
    source = table[["stadtteil_nr", "stadtteil", "bezirk", column, "geometry"]].copy()
    if hotspot_factor != 1.0:
        if hotspot_factor <= 0:
            raise InputError("Der Hotspot-Faktor (--hotspot-factor) muss größer als 0 sein "
                             "(1 = keine Gewichtung).")
        if hotspots is None:
            raise InputError("Der Hotspot-Faktor (--hotspot-factor) braucht ein Gi*-Ergebnis "
                             "(Hotspots).")
        hs = hotspots.set_index("stadtteil_nr")["klasse"]
        is_hot = source["stadtteil_nr"].map(hs).astype(str).str.startswith("Hotspot")
        source[column] = source[column] * np.where(is_hot, hotspot_factor, 1.0)
    cells = grid(source, cell_size=cell_size, clip=True)
    moved = area_interpolate(source, cells, extensive=[column])
    moved = moved[moved[column] > 0].rename(columns={column: "nachfrage"})
    pts = moved.set_geometry(moved.representative_point())
    joined = gpd.sjoin(pts[["geometry"]], source[["stadtteil", "bezirk", "geometry"]],
                       how="left", predicate="within")
    joined = joined[~joined.index.duplicated()]
    moved["bezirk"] = (joined["bezirk"].astype("Int64")
                       if pd.api.types.is_numeric_dtype(joined["bezirk"]) else joined["bezirk"])
    moved["stadtteil"] = joined["stadtteil"]
    return moved


def demand_from_cells(
    cells: gpd.GeoDataFrame,
    stadtteile: gpd.GeoDataFrame,
    *,
    column: str = "personen",
    cell_size: int | None = None,
) -> gpd.GeoDataFrame:
    """Return demand cells from census grid cells (real counts instead of the estimate).

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        Census cells with official ids (``gitter_id``), ``x_mp``/``y_mp`` and ``column``
        (e.g. a city's ``zensus2011`` layer: ``personen``, ``nichtdeutsche``,
        ``sonstige_welt``).
    stadtteile : geopandas.GeoDataFrame
        Stadtteile (``stadtteil``, ``bezirk``); the result is in their CRS.
    column : str, default "personen"
        Count used as demand (persons or a group).
    cell_size : int, optional
        Sum the cells to this size first (e.g. 250) to make the model smaller.

    Returns
    -------
    geopandas.GeoDataFrame
        Same shape as :func:`demand_grid`: one row per cell with demand > 0, ``nachfrage``,
        ``bezirk`` and ``stadtteil`` (of the Stadtteil the cell centre lies in, else the
        nearest one),
        ``gitter_id``, the cell square as geometry; ``attrs["nachfrage"]`` names the column,
        cell size and source.
    """
    from ..analysis.lattice import coarsen_cells, lattice_positions
    from ..data.zensus import GRID_CRS

    if column not in cells.columns:
        raise InputError(f"Die Zellen haben keine Spalte {column!r} für die Nachfrage.")
    own = lattice_positions(cells.iloc[:1])[2] if len(cells) else 100
    src = cells
    if cell_size is not None and int(cell_size) != own:
        src = coarsen_cells(cells, int(cell_size), columns=[column])
    size = int(cell_size or own)
    half = size / 2
    x = src["x_mp"].to_numpy(dtype=float)
    y = src["y_mp"].to_numpy(dtype=float)
    squares = gpd.GeoSeries(shapely.box(x - half, y - half, x + half, y + half), crs=GRID_CRS)
    centres = gpd.GeoSeries(shapely.points(x, y), crs=GRID_CRS).to_crs(stadtteile.crs)
    out = gpd.GeoDataFrame({"gitter_id": src["gitter_id"].to_numpy(),
                            "nachfrage": src[column].to_numpy(dtype=float)},
                           geometry=squares.to_crs(stadtteile.crs).to_numpy(),
                           crs=stadtteile.crs)
    joined = gpd.sjoin(gpd.GeoDataFrame(geometry=centres.to_numpy(), crs=stadtteile.crs),
                       stadtteile[["stadtteil", "bezirk", "geometry"]], how="left",
                       predicate="within")
    joined = joined[~joined.index.duplicated()]
    miss = joined["stadtteil"].isna().to_numpy()
    if miss.any():  # centre just outside (cut boundary cells): the nearest Stadtteil
        near = gpd.sjoin_nearest(
            gpd.GeoDataFrame(geometry=centres.to_numpy()[miss], crs=stadtteile.crs),
            stadtteile[["stadtteil", "bezirk", "geometry"]], how="left")
        near = near[~near.index.duplicated()]
        joined.loc[joined.index[miss], "stadtteil"] = near["stadtteil"].to_numpy()
        joined.loc[joined.index[miss], "bezirk"] = near["bezirk"].to_numpy()
    bez = joined["bezirk"]
    out["bezirk"] = (bez.astype("Int64") if pd.api.types.is_numeric_dtype(bez) else bez
                     ).to_numpy()
    out["stadtteil"] = joined["stadtteil"].to_numpy()
    out = out[out["nachfrage"] > 0].reset_index(drop=True)
    out["cell_id"] = out["gitter_id"]
    out.attrs["nachfrage"] = {
        "spalte": column, "zellgroesse_m": size,
        "quelle": cells.attrs.get("quelle", ""), "stand": cells.attrs.get("stand", ""),
        "text": f"{column} aus {size}-m-Zensuszellen",
    }
    return out


def candidate_sites(cat: Catalog) -> gpd.GeoDataFrame:
    """Return candidate sites: schools, Kitas in operation and existing meeting places.

    Columns: ``standort_id``, ``name``, ``art`` (Schule / Kita / meeting-place type),
    ``bezirk``, ``stadtteil``, ``besteht`` (an existing meeting place that must stay),
    ``kapazitaet`` (NaN if unknown), ``vertraulich`` (from a confidential layer: such a site
    may shape a solution, but results name only its Stadtteil). If any candidate is
    confidential, the frame is marked confidential (:func:`gis_planning.privacy.guard`
    refuses to write it); :func:`gis_planning.results.release_siting` gives the releasable
    form of a solution.
    """
    parts = []
    secret = []

    def points(name: str) -> gpd.GeoDataFrame:
        if cat.schema(name).confidential:
            secret.append(name)
            frame = cat.load_confidential_points(name)
            return frame.assign(vertraulich=True)
        return cat.load(name).assign(vertraulich=False)

    if "schulen" in cat.names():
        s = points("schulen")
        parts.append(s.assign(art="Schule: " + s["schulform"].astype(str), besteht=False,
                              standort_id="schule-" + s.index.astype(str)))
    if "kitas" in cat.names():
        k = points("kitas")
        if "in_betrieb" in k:
            k = k[k["in_betrieb"]]
        parts.append(k.assign(art="Kita", besteht=False,
                              standort_id="kita-" + k.index.astype(str)))
    if "begegnungsorte" in cat.names():
        b = points("begegnungsorte")
        exists = b["besteht"].astype(bool) if "besteht" in b else pd.Series(True, index=b.index)
        parts.append(b.assign(art=b.get("typ", "Begegnungsort"), besteht=exists,
                              standort_id="ort-" + b.index.astype(str)))
    if not parts:
        raise InputError(f"keine Kandidaten für Standorte: {cat.city} braucht die Ebene "
                         f"schulen, kitas oder begegnungsorte.")
    parts = [p[~p["ausserhalb"].astype(bool)] if "ausserhalb" in p else p for p in parts]
    st = cat.load(cat.unit.layer)[["stadtteil", "bezirk", "geometry"]]
    cand = pd.concat([p[["standort_id", "name", "art", "besteht", "vertraulich", "geometry"]
                        + (["kapazitaet"] if "kapazitaet" in p else [])] for p in parts],
                     ignore_index=True)
    cand = gpd.GeoDataFrame(cand, geometry="geometry", crs=st.crs)
    joined = gpd.sjoin(cand, st, how="left", predicate="within")
    joined = joined[~joined.index.duplicated()].drop(columns="index_right")
    if joined["bezirk"].isna().any():
        near = gpd.sjoin_nearest(cand[joined["bezirk"].isna()], st, how="left")
        near = near[~near.index.duplicated()]
        joined.loc[near.index, ["stadtteil", "bezirk"]] = near[["stadtteil", "bezirk"]]
    if pd.api.types.is_float_dtype(joined["bezirk"]):
        joined["bezirk"] = joined["bezirk"].astype("int64")
    if "kapazitaet" not in joined:
        joined["kapazitaet"] = np.nan
    if secret:
        from ..privacy import mark_confidential

        mark_confidential(joined, "+".join(secret))
    return joined


def site_scenario(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    boundary: gpd.GeoDataFrame | None = None,
    model: str = "mclp",
    p: int | None = 9,
    radius: float = 800,
    per_bezirk: bool = True,
    capacity: bool = False,
    time_limit: float | None = 120,
) -> SitingResult:
    """Solve a siting model for :func:`demand_grid` cells and :func:`candidate_sites`.

    Defaults follow the strategy paper: one new meeting space per Bezirk is asked for
    (``p=9``, ``per_bezirk=True``), walking radius 800 m. Places with ``besteht`` stay.
    """
    opts: dict = {"weight": "nachfrage", "fixed": "besteht", "boundary": boundary,
                  "time_limit": time_limit}
    if model != "pmedian":  # p-median minimises distance; it has no service radius
        opts["radius"] = radius
    if per_bezirk:
        opts["group"] = "bezirk"
    if capacity:
        opts["capacity"] = "kapazitaet"
    if model in ("mclp", "pmedian"):
        if p is None:
            raise InputError(f"Das Modell {model} braucht --p (Zahl der Standorte).")
        opts["p"] = p
    if model == "lscp":
        opts["uncoverable"] = "drop"
    return locate(demand, candidates, model=model, **opts)


def coverage_table(result: SitingResult, demand: gpd.GeoDataFrame) -> pd.DataFrame:
    """Coverage of ``result`` per Bezirk and for the whole city (last row, ``bezirk`` "Stadt").

    Columns as :func:`gis_planning.planning.siting.coverage_by_group`: demand cells, total and
    covered
    demand weight, coverage share, sites serving the area, mean distance (m).
    """
    per = coverage_by_group(result, demand, group="bezirk").reset_index()
    alloc = result.allocation
    s = result.summary
    city = {
        "bezirk": "Stadt", "n_demand": len(demand), "total_weight": s.total_weight,
        "covered_weight": s.covered_weight, "uncovered_weight": s.total_weight - s.covered_weight,
        "coverage_share": s.coverage_share, "n_sites": s.n_sites,
        # as per Bezirk: weighted by the served demand of allocated cells only
        "mean_distance": float((alloc["served_weight"] * alloc["distance_m"])
                               .where(alloc["site"].notna(), 0.0).sum() / s.covered_weight)
        if s.covered_weight > 0 else float("nan"),
    }
    per["bezirk"] = per["bezirk"].astype(object)
    return pd.concat([per, pd.DataFrame([city])[per.columns]], ignore_index=True)


def budget_table(
    terms: pd.DataFrame,
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    total: int = 1_000_000,
    weights: Mapping[str, float],
    base_share: float = 0.0,
    radius: float = 800,
) -> pd.DataFrame:
    """Distribute the integration budget over the Bezirke by a transparent needs formula.

    ``terms`` has one row per Bezirk (index ``bezirk``) and one column per need term, e.g. a
    group's persons per Bezirk or a published share; the term ``ungedeckt`` is computed here:
    ``demand`` not within ``radius`` of an existing meeting place among ``candidates`` (with
    none known: all demand). The result sums exactly to ``total`` (largest-remainder rounding
    to whole euros) and shows each term (:func:`gis_planning.planning.budget.allocate_budget`).
    """
    from .budget import allocate_budget
    from .siting import coverage_matrix

    table = terms.copy()
    if "ungedeckt" in weights:
        existing = candidates[candidates["besteht"]]
        if len(existing):
            cov = coverage_matrix(demand, existing, radius=radius)
            covered = np.asarray(cov.sum(axis=1)).ravel() > 0
        else:
            covered = np.zeros(len(demand), dtype=bool)
        unc = demand.loc[~covered].groupby("bezirk")["nachfrage"].sum()
        table["ungedeckt"] = unc.reindex(table.index).fillna(0.0).astype(float)
    out = allocate_budget(table, total=total, weights=weights, base_share=base_share)
    out.index.name = "bezirk"
    return out
