"""Essen layers derived from the seed's tables (JobCenter areas, synthetic project flats)."""

from __future__ import annotations

import geopandas as gpd

from ..synthetic import synthetic_points_by_share

__all__ = ["essen_jobcenter", "essen_projektwohnungen"]


def essen_jobcenter() -> gpd.GeoDataFrame:
    """Return the JobCenter areas of the seed as a layer (dissolved Stadtteile)."""
    from . import essen_jobcenter as jobcenter
    from .essen import load_stadtteile

    return jobcenter.jobcenter_areas(load_stadtteile())


def essen_projektwohnungen(*, total: int = 500, seed: int = 2016) -> gpd.GeoDataFrame:
    """Return the synthetic project-flat layer for Essen (``synthetisch / Demonstrationsdaten``).

    ``total`` points are split over the 9 Bezirke by the seed's shares of project flats
    (FB 12, 30.09.2016) and placed uniformly at random in each Bezirk. The number 500 is a
    demonstration choice: the seed publishes shares, not counts.
    """
    from . import essen_seed as seed_tables
    from .essen import load_stadtbezirke, load_stadtteile

    bezirke = load_stadtbezirke().merge(
        seed_tables.bezirk_statistik()[["bezirk", "projektwohnungen_anteil_prozent"]],
        on="bezirk",
    )
    pts = synthetic_points_by_share(
        bezirke, "projektwohnungen_anteil_prozent", total=total, seed=seed, id_column="bezirk"
    )
    st = load_stadtteile()[["stadtteil_nr", "stadtteil", "geometry"]]
    joined = gpd.sjoin(pts, st, how="left", predicate="within").drop(columns="index_right")
    joined = joined[~joined.index.duplicated()]
    return joined[
        ["wohnung_id", "bezirk", "stadtteil_nr", "stadtteil", "synthetisch", "hinweis", "geometry"]
    ].reset_index(drop=True)
