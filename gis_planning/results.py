"""Analysis results as named layers, beside the catalogue's layers and indicator tables.

Exporters (GeoPackage, GeoJSON), the query engine and the atlas ask this module which results
exist for a catalogue (:func:`available`) and get each one as a frame (:func:`compute`), with
its German label, provenance and method (:func:`meta`). A result is computed from catalogue
layers and tables on first use and cached per catalogue. The pack's indicator tables count as
results too: :func:`compute` returns them joined to their unit polygons.

Every text a result carries is built from the catalogue: the group's label
(``catalog.group()``), the table's date, source and estimate flag, the unit's name. Nothing
here knows a city.

To add a result, write a function ``(catalog) -> DataFrame | GeoDataFrame`` and register it in
:data:`RESULTS` with a :class:`ResultSpec`.

This stays one module (about 800 lines) on purpose: it is the registry, and each recipe sits
beside its :class:`ResultSpec` entry and its method text, so one file shows everything a
result is; the computations themselves live in ``analysis/`` and ``planning/``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import InputError, LayerError
from .data.catalog import Catalog
from .labels import fmt_date

__all__ = [
    "RESULTS",
    "ResultSpec",
    "all_frames",
    "available",
    "bezirk_values",
    "budget_table",
    "budget_weights",
    "column_labels",
    "comparison",
    "compute",
    "default_scenario",
    "demand_for",
    "estimate_note",
    "hotspot_layer",
    "meta",
    "release_siting",
    "segregation_table",
    "siting",
    "siting_scenarios",
    "status_table",
    "style_context",
]

log = logging.getLogger(__name__)

Text = Callable[[Catalog], str]


@dataclass(frozen=True)
class ResultSpec:
    """A named analysis result.

    ``label``, ``source`` and ``method`` are functions of the catalogue, so every text names
    the city's own group, unit and table. ``needs`` lists the layers it requires;
    ``needs_group`` that it needs a group with counts per unit, ``needs_candidates`` that it
    needs candidate sites (schools, Kitas or meeting places).
    """

    name: str
    label: Text
    compute: Callable[[Catalog], pd.DataFrame]
    group: str = "Analyse"
    source: Text = lambda cat: ""
    method: Text = lambda cat: ""
    needs: tuple[str, ...] = ("stadtteile",)
    needs_group: bool = True
    needs_candidates: bool = False


# --------------------------------------------------------------------------- context texts
def _group_table(cat: Catalog, group: str | None = None) -> dict:
    return cat.table_meta(cat.group(group).table)


def estimate_note(cat: Catalog, group: str | None = None) -> str | None:
    """The note every result built on an estimated table carries (``None`` if not estimated)."""
    tm = _group_table(cat, group)
    if not tm["estimated"]:
        return None
    return f"auf Basis geschätzter {cat.unit.label}werte"


def _from_table(cat: Catalog, group: str | None = None) -> str:
    tm = _group_table(cat, group)
    kind = "Schätzung" if tm["estimated"] else "Stand"
    return (f"berechnet aus „{tm['label']}“ ({kind} {fmt_date(tm['date'])}; "
            f"Quelle: {tm['source']})")


def _p_default(cat: Catalog) -> int:
    return len(cat.bezirk_labels())


def _siting_method(cat: Catalog) -> str:
    _, demand = default_scenario(cat)
    text = demand.attrs.get("nachfrage", {}).get("text", "")
    return (
        f"Maximal Covering (MCLP), {_p_default(cat)} Standorte, mindestens einer je Bezirk, "
        f"Fußweg-Radius 800 m (Luftlinie, {cat.crs}); Nachfrage: {text}; Kandidaten: "
        f"Schulen, Kitas in Betrieb, bestehende Begegnungsorte (gesetzt); mit HiGHS "
        f"gelöst."
    )


# --------------------------------------------------------------------------- segregation
def _segregation_input(cat: Catalog, group: str | None = None) -> tuple[gpd.GeoDataFrame, list]:
    g = cat.group(group)
    table = cat.group_frame(g.name, what="Segregationsindizes")
    rest = f"uebrige_{g.total}" if g.total != "einwohner" else "uebrige_anzahl"
    table[rest] = table[g.total] - table[g.count]
    return table, [g.count, rest]


def segregation_table(
    cat: Catalog, *, group: str | None = None, by: str | None = "bezirk",
    distance: float | None = None, n_simulations: int = 199, seed: int = 0,
    progress: Callable[..., Iterable] | None = None,
) -> pd.DataFrame:
    """Global segregation indices of ``group``, city-wide and per ``by``.

    Built on the group's unit table (estimated where the pack says so: the ``hinweis`` column
    then names the estimate). With ``n_simulations`` a seeded interval and a null are added;
    ``progress`` wraps the simulation loop.
    """
    from .analysis.segregation import global_indices

    g = cat.group(group)
    data, groups = _segregation_input(cat, g.name)
    out = global_indices(
        data, group=g.count, total=g.total, groups=groups,
        by=by, distance=distance, n_simulations=n_simulations, seed=seed, progress=progress,
    )
    tm = _group_table(cat, g.name)
    note = estimate_note(cat, g.name)
    out["hinweis"] = note or f"amtliche Werte je {cat.unit.label} ({tm['label']}, " \
                             f"Stand {fmt_date(tm['date'])})"
    out["gruppe"] = g.label
    return out.reset_index()


def _segregation_lokal(cat: Catalog) -> gpd.GeoDataFrame:
    from .analysis.segregation import local_indices

    g = cat.group()
    data, groups = _segregation_input(cat)
    loc = local_indices(data, groups=groups)
    keep = [c for c in ("stadtteil_nr", "stadtteil", "bezirk", g.total, g.count, "geometry")
            if c in data]
    out = data[keep].join(loc)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=data.crs)


# --------------------------------------------------------------------------- hotspots, status
def _analysis_source(cat: Catalog, source: str) -> pd.DataFrame:
    """Return a result, table or layer for an analysis; confidential layers are refused.

    Record-level analyses (one output row per record) would reveal confidential records, and
    pandas does not carry the confidential mark through joins, so the check is by schema.
    """
    if source in RESULTS or source in cat.table_names():
        return compute(cat, source)
    if cat.schema(source).confidential:
        from ._errors import ConfidentialDataError

        raise ConfidentialDataError(
            f"die Ebene {source!r} ist vertraulich: eine Auswertung je Datensatz würde sie "
            f"offenlegen. Nutzen Sie die Anzahlen je {cat.unit.label} "
            f"(`gis-planning layers export {source} ...`)."
        )
    return cat.load(source)


def hotspot_layer(
    cat: Catalog,
    *,
    method: str = "gi",
    group: str | None = None,
    source: str | None = None,
    column: str | None = None,
    denominator: str | None = "",
    weights: str = "queen",
    k: int = 8,
    distance: float | None = None,
    permutations: int | str = "auto",
    seed: int = 0,
    min_population: float = 300,
    smoothing: str | None = "eb",
    cell_size: float | None = None,
    progress: Callable[..., Iterable] | None = None,
) -> gpd.GeoDataFrame:
    """Gi* (``method="gi"``) or local Moran (``"lisa"``) hotspots of a group's share.

    By default the group's count over its total per analysis unit (EB-smoothed rate); units
    under ``min_population`` are reported "zu klein". ``source``/``column``/``denominator``
    select another polygon result, table or layer whose rows carry their own data (units, or
    a layer of real grid cells such as a census grid). ``permutations="auto"`` chooses a
    count with which a unit can reach FDR 5 % (see
    :func:`gis_planning.analysis.hotspots.auto_permutations`). ``cell_size`` (a grid filled
    from the polygon values) is refused: copied values are not independent observations.
    """
    from .analysis import hotspots

    if method not in ("gi", "lisa"):
        raise InputError(f"--method muss 'gi' (Getis-Ord Gi*) oder 'lisa' (lokales Moran's I) "
                         f"sein, nicht {method!r}.")
    if cell_size is not None:
        raise InputError(
            "Hotspot-Tests auf einem Raster, das aus den Werten der Polygone gefüllt wird, "
            "sind nicht zulässig (--grid): jede Zelle erhielte eine flächenanteilige Kopie "
            "des Werts ihrer Einheit, und Kopien sind keine unabhängigen Beobachtungen. Der "
            "Test hielte sie für Bestätigungen und fände Hotspots, wo keine sind (auf Daten "
            "ohne räumliches Muster rund ein Drittel der Zellen). Testen Sie die Einheiten "
            "selbst (ohne --grid) oder eine Schicht mit echten Zellwerten, z. B. ein "
            "Zensus-Gitter, über --layer."
        )
    note = None
    if source is None:
        g = cat.group(group)
        frame = cat.group_frame(g.name, what="Die Hotspot-Analyse")
        column = column or g.count
        denominator = g.total if denominator == "" else denominator
        note = estimate_note(cat, g.name)
    else:
        frame = _analysis_source(cat, source)
        if column is None:
            raise InputError("--column fehlt: welche Spalte von --layer soll getestet werden?")
        denominator = None if denominator == "" else denominator
    fn = hotspots.getis_ord if method == "gi" else hotspots.local_moran
    out = fn(
        frame, column, weights=weights, k=k, distance=distance, permutations=permutations,
        seed=seed, rate_denominator=denominator, population=denominator,
        min_population=min_population, smoothing=smoothing if denominator else None,
        progress=progress,
    )
    out["klasse"] = out["klasse"].astype(str)
    if note:
        out["hinweis"] = note
    return out


def status_table(
    cat: Catalog,
    *,
    source: str | None = None,
    indicators: list[tuple[str, int, float]] | None = None,
    population: str | None = None,
    min_population: float = 300,
    weighted: bool = False,
    preset: str | None = None,
    status_indicators: list[str] | None = None,
    dynamik_indicators: list[str] | None = None,
    outliers: list[str] | None = None,
    id_column: str | None = None,
    frame: pd.DataFrame | None = None,
    group: str | None = None,
) -> gpd.GeoDataFrame:
    """Status index of ``source`` with ``indicators`` as ``(column, direction, weight)``.

    Default: the unit table of ``group`` (default: the first group) and its share as the one
    indicator. With
    ``preset="mss2021"`` the Berlin MSS 2021 method is used instead
    (:func:`gis_planning.analysis.status_index.mss_index`): ``status_indicators`` (default
    S1, S3, S4), ``dynamik_indicators`` (default D1, D3, D4), units under ``min_population``
    or listed in ``outliers`` (values of ``id_column``) get no index. ``frame`` replaces the
    catalogue table (a table the user brought).
    """
    from ._validate import require_columns
    from .analysis.status_index import Indicator, mss_index, status_index

    note = None
    default: list[tuple[str, int, float]] = []
    if frame is None and source is None and preset is None:
        g = cat.group(group)
        frame = cat.group_frame(g.name, what="Der Statusindex")
        population = population or g.total
        note = estimate_note(cat, g.name)
        default = [(g.share_column, 1, 1.0)]
    elif frame is None:
        if source is None:
            raise InputError("--preset mss2021 braucht eine Tabelle mit den Indikatoren: "
                             "--layer TABELLE oder --table DATEI.")
        frame = _analysis_source(cat, source)
    if population is None and "einwohner" in frame:
        population = "einwohner"
    if preset is not None:
        idx = mss_index(frame, preset=preset, status_indicators=status_indicators,
                        dynamik_indicators=dynamik_indicators, population=population,
                        min_population=min_population, outliers=outliers or (),
                        id_column=id_column)
        out = frame.join(idx[[c for c in idx.columns if c not in frame.columns]])
        out.attrs["mss"] = idx.attrs["mss"]
        return out
    inds = [Indicator(c, d, w) for c, d, w in (indicators or default)]
    if not inds:
        raise InputError("--indicator fehlt: nennen Sie mindestens eine Spalte, z. B. "
                         "--indicator anteil_prozent:+1.")
    require_columns(frame, [i.column for i in inds], name=source or "Tabelle")
    idx = status_index(frame, inds, population=population, min_population=min_population,
                       weighted=weighted)
    out = frame.join(idx[[c for c in idx.columns if c not in frame.columns]])
    if note:
        out["hinweis"] = note
    return out


# --------------------------------------------------------------------------- siting, budget
def demand_for(cat: Catalog, *, demand: str | None = None, group: str | None = None,
               cell_size: float = 250, hotspot_factor: float = 1.0) -> gpd.GeoDataFrame:
    """Demand cells for siting: from census grid cells or from the group's unit table.

    ``demand``: ``None`` (the pack's ``siting.demand``, else the group), ``"gruppe"`` (the
    group's counts per unit moved to a ``cell_size`` grid), ``"zellen"`` or
    ``"zellen:SPALTE"`` (real grid cells of the pack's cell layer, summed to ``cell_size``).
    ``attrs["nachfrage"]["text"]`` says in German which demand was used.
    """
    from .planning import scenario

    spec = cat.pack.siting
    if demand is None:
        demand = "zellen" if spec.demand_cells else "gruppe"
    if demand == "gruppe" or (group is not None and demand is None):
        g = cat.group(group)
        table = cat.group_frame(g.name, what="Die Standortplanung")
        hotspots = hotspot_layer(cat, group=g.name) if hotspot_factor != 1.0 else None
        out = scenario.demand_grid(table, column=g.count, cell_size=cell_size,
                                   hotspots=hotspots, hotspot_factor=hotspot_factor)
        tm = cat.table_meta(g.table)
        est = "geschätzte " if tm["estimated"] else ""
        out.attrs["nachfrage"] = {
            "text": f"{est}Personen ({g.label}) je {cat.unit.label}, flächengewichtet auf "
                    f"{cell_size:g}-m-Zellen verteilt ({tm['label']}, Stand "
                    f"{fmt_date(tm['date'])})", "geschaetzt": bool(tm["estimated"])}
        return out
    kind, _, column = demand.partition(":")
    if kind != "zellen":
        raise InputError(f"--demand muss 'gruppe', 'zellen' oder 'zellen:SPALTE' sein, nicht "
                         f"{demand!r}.")
    layer = spec.demand_cells or next(
        (n for n in cat.names() if cat.kind(n) == "zellen"), None)
    if layer is None:
        raise InputError(f"--demand {demand!r}: {cat.city} hat keine Gitterzellen; nutzen Sie "
                         f"--demand gruppe.")
    if hotspot_factor != 1.0:
        raise InputError("--hotspot-factor gilt nur für --demand gruppe (Hotspots je "
                         f"{cat.unit.label}).")
    cells = cat.load(layer)
    column = column or spec.demand_column or "personen"
    if column not in cells:
        counts = [c for c in cells.columns if pd.api.types.is_integer_dtype(cells[c])]
        raise InputError(f"--demand zellen:{column}: die Zellen haben keine Spalte {column!r}; "
                         f"möglich: {', '.join(counts)}.")
    out = scenario.demand_from_cells(cells, cat.load(cat.unit.layer), column=column,
                                     cell_size=int(max(cell_size, 100)))
    label = (spec.demand_label if spec.demand_column == column and spec.demand_label
             else f"{column} der Gitterzellen ({cat.schema(layer).label})")
    out.attrs["nachfrage"] = {
        "text": f"{label}, summiert auf {int(max(cell_size, 100))}-m-Zellen; "
                f"Quelle: {cat.schema(layer).source}, Stand {fmt_date(cat.schema(layer).date)}",
        "geschaetzt": False}
    return out


def siting(
    cat: Catalog,
    *,
    group: str | None = None,
    demand: str | None = None,
    model: str = "mclp",
    p: int | None = None,
    radius: float = 800,
    cell_size: float = 250,
    per_bezirk: bool = True,
    hotspot_factor: float = 1.0,
    capacity: bool = False,
    time_limit: float | None = 120,
):
    """Solve a meeting-space scenario on the catalogue; return ``(SitingResult, demand)``.

    Demand: :func:`demand_for` (census cells where the pack says so, else the group's counts
    per unit on a ``cell_size`` grid, weighted by ``hotspot_factor`` in Gi* hotspots);
    candidates: :func:`planning.scenario.candidate_sites`. ``p`` defaults to the number of
    Bezirke (one new place per Bezirk). ``time_limit`` (seconds) bounds HiGHS; a stopped
    solve is reported with its gap (``summary.optimal`` False, ``summary.gap``).
    """
    from .planning import scenario

    if group is not None and demand is None:
        demand = "gruppe"
    demand = demand_for(cat, demand=demand, group=group, cell_size=cell_size,
                        hotspot_factor=hotspot_factor)
    boundary = cat.load(cat.unit.layer).dissolve()[["geometry"]]
    if p is None and model in ("mclp", "pmedian"):
        p = _p_default(cat)
    result = scenario.site_scenario(
        demand, scenario.candidate_sites(cat), boundary=boundary, model=model, p=p,
        radius=radius, per_bezirk=per_bezirk, capacity=capacity, time_limit=time_limit,
    )
    return result, demand


def siting_scenarios(
    cat: Catalog,
    ps: Sequence[int | None],
    *,
    progress: Callable[..., Iterable] | None = None,
    **options,
) -> list:
    """Solve one scenario per number of sites in ``ps``; return ``[(SitingResult, demand), ...]``.

    ``options`` are those of :func:`siting` (without ``p``). Each scenario is one solve of up
    to ``time_limit`` seconds; ``progress`` (e.g. the CLI's bar) is called as
    ``progress(iterable, desc=..., total=..., unit=...)`` around the loop.
    """
    steps = list(ps)
    loop = steps if progress is None else progress(steps, desc="Szenarien", total=len(steps),
                                                   unit="Szenario")
    return [siting(cat, **{**options, "p": p}) for p in loop]


def default_scenario(cat: Catalog):
    """Return ``(SitingResult, demand)`` of the default meeting-space scenario (cached).

    MCLP with one site per Bezirk (at least one in each), walking radius 800 m, demand = the
    first group's counts on a 250 m grid, candidates = schools, Kitas in operation and
    existing meeting places (kept).
    """
    cache = cat._results
    if "_default_scenario" not in cache:
        cache["_default_scenario"] = siting(cat)
    return cache["_default_scenario"]


def bezirk_values(cat: Catalog, group: str | None = None) -> pd.DataFrame:
    """Return the group's value per Bezirk: official Bezirk figures or unit sums.

    Columns ``bezirk``, the group's count and total (or its share) and its share column;
    ``attrs["quelle"]`` says where the figures come from.
    """
    g = cat.group(group)
    level = cat.group_level(g.name)
    if g.bezirk_table or level == "stadtbezirke":
        name = g.bezirk_table or g.table
        t = cat.table(name)
        cols = [c for c in ("bezirk", g.count, g.total, g.share_column) if c and c in t]
        out = t[cols].copy()
        if g.count and g.total and g.share_column not in out:
            out[g.share_column] = 100.0 * out[g.count] / out[g.total].where(out[g.total] > 0)
        tm = cat.table_meta(name)
        out.attrs["quelle"] = f"{tm['label']} ({tm['source']}, Stand {fmt_date(tm['date'])})"
        out.attrs["estimated"] = tm["estimated"]
        return out
    if level != cat.unit.layer or not g.count:
        raise LayerError(f"die Gruppe {g.name!r} hat keine Werte je Bezirk oder je "
                         f"{cat.unit.label}.")
    t = cat.group_frame(g.name)
    out = t.groupby("bezirk", as_index=False)[[g.count, g.total]].sum()
    out[g.share_column] = 100.0 * out[g.count] / out[g.total].where(out[g.total] > 0)
    tm = cat.table_meta(g.table)
    out.attrs["quelle"] = (f"Summe der Werte je {cat.unit.label} aus „{tm['label']}“ "
                           f"({tm['source']}, Stand {fmt_date(tm['date'])})")
    out.attrs["estimated"] = False  # sums of an estimate raked to totals are those totals
    if tm["estimated"]:
        out.attrs["quelle"] += "; die Stadtteilwerte sind geschätzt"
    return out


def budget_weights(cat: Catalog) -> dict[str, float]:
    """The pack's budget weights, or the first group 3/4 and uncovered demand 1/4."""
    if cat.pack.budget and cat.pack.budget.weights:
        return dict(cat.pack.budget.weights)
    return {cat.group().name: 0.75, "ungedeckt": 0.25}


def budget_table(
    cat: Catalog,
    *,
    total: int | None = None,
    weights: dict[str, float] | None = None,
    base_share: float = 0.0,
    radius: float = 800,
) -> pd.DataFrame:
    """The integration budget per Bezirk (see :func:`planning.scenario.budget_table`).

    Terms are group names (their counts or shares per Bezirk, :func:`bezirk_values`) and
    ``ungedeckt`` (demand not within ``radius`` of an existing meeting place).
    """
    from .planning import scenario

    weights = dict(weights or budget_weights(cat))
    if total is None:
        total = (cat.pack.budget.total if cat.pack.budget and cat.pack.budget.total
                 else 1_000_000)
    allowed = [*cat.group_names(), "ungedeckt"]
    terms = pd.DataFrame(index=pd.Index(list(cat.bezirk_labels()), name="bezirk"))
    for term in weights:
        if term == "ungedeckt":
            continue
        if term not in cat.group_names():
            from ._names import suggest

            close = suggest(term, allowed)
            hint = f" Meinten Sie {close[0]!r}?" if close else ""
            raise InputError(f"--weight {term!r}: unbekannter Term.{hint} Erlaubt: "
                             f"{', '.join(allowed)}.")
        g = cat.group(term)
        vals = bezirk_values(cat, term).set_index("bezirk")
        col = g.count if g.count else g.share_column
        terms[term] = vals[col].reindex(terms.index).astype(float)
    demand = demand_for(cat)
    return scenario.budget_table(
        terms, demand, scenario.candidate_sites(cat),
        total=total, weights=weights, base_share=base_share, radius=radius,
    )


#: Name shown for a chosen site that comes from a confidential layer.
CONFIDENTIAL_SITE = "vertraulicher Standort"


def release_siting(cat: Catalog, result, demand: gpd.GeoDataFrame
                   ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return ``(sites, catchments, allocation)`` of a solution in the form that may leave.

    Sites from a confidential layer (e.g. existing meeting places the pack marks
    confidential) keep their Stadtteil, Bezirk, kind and served demand, but lose name and
    location (empty geometry); their catchments are left out. The cell allocation would
    outline a confidential site's catchment (and its distances locate it), so when the
    solution holds one, the allocation is released only as sums per analysis unit.
    """
    from . import privacy

    sites = result.sites.copy()
    secret = (sites["vertraulich"].astype(bool) if "vertraulich" in sites
              else pd.Series(False, index=sites.index))
    catchments = result.catchments.join(
        sites[["standort_id", "name", "art", "bezirk", "stadtteil"]])
    alloc = result.allocation.copy()
    alloc["cell_id"] = demand["cell_id"]
    alloc["bezirk"] = demand["bezirk"]
    alloc["standort_id"] = alloc["site"].map(sites["standort_id"])
    alloc = alloc.drop(columns=["site"])
    for frame in (sites, catchments, alloc):
        frame.attrs = {}
    if not secret.any():
        return sites, catchments, alloc
    sites.loc[secret, "name"] = CONFIDENTIAL_SITE
    sites["geometry"] = sites.geometry.where(~secret, None)
    if "kapazitaet" in sites:
        sites.loc[secret, "kapazitaet"] = np.nan
    catchments = catchments.loc[~catchments.index.isin(sites.index[secret])].copy()
    alloc["stadtteil"] = demand["stadtteil"]
    per_unit = alloc.groupby(["bezirk", "stadtteil"], as_index=False).agg(
        nachfrage=("weight", "sum"), erreicht=("served_weight", "sum"),
        zellen=("weight", "size"))
    per_unit["anteil_erreicht"] = per_unit["erreicht"] / per_unit["nachfrage"].where(
        per_unit["nachfrage"] > 0)
    units = cat.load(cat.unit.layer)[["stadtteil", "geometry"]]
    alloc = gpd.GeoDataFrame(units.merge(per_unit, on="stadtteil"), geometry="geometry",
                             crs=units.crs)
    alloc["hinweis"] = (f"je {cat.unit.label} zusammengefasst: die Lösung enthält "
                        f"vertrauliche Standorte")
    for frame in (sites, catchments, alloc):
        privacy.guard(frame, what="Standortplanung")
    return sites, catchments, alloc


def _standorte(cat: Catalog) -> gpd.GeoDataFrame:
    result, demand = default_scenario(cat)
    out, _, _ = release_siting(cat, result, demand)
    out["abdeckung_anteil"] = result.summary.coverage_share
    return out


def _einzugsbereiche(cat: Catalog) -> gpd.GeoDataFrame:
    result, demand = default_scenario(cat)
    return release_siting(cat, result, demand)[1]


def _standort_zuordnung(cat: Catalog) -> gpd.GeoDataFrame:
    result, demand = default_scenario(cat)
    return release_siting(cat, result, demand)[2]


def _abdeckung(cat: Catalog) -> pd.DataFrame:
    from .planning.scenario import coverage_table

    result, demand = default_scenario(cat)
    return coverage_table(result, demand)


def _budget(cat: Catalog) -> pd.DataFrame:
    return budget_table(cat).reset_index()


def _budget_method(cat: Catalog) -> str:
    if cat.pack.budget and cat.pack.budget.method:
        return cat.pack.budget.method
    w = budget_weights(cat)
    s = sum(w.values()) or 1.0
    parts = [f"{round(100 * v / s)} % "
             + ("noch nicht erreichte Nachfrage" if k == "ungedeckt" else cat.group(k).label)
             for k, v in w.items()]
    return "Bedarfsformel: " + ", ".join(parts) + "; Rundung nach größtem Rest auf volle Euro."


def _budget_source(cat: Catalog) -> str:
    if cat.pack.budget and cat.pack.budget.source:
        return cat.pack.budget.source
    return _from_table(cat)


def _gi_method(cat: Catalog) -> str:
    return (f"Getis-Ord Gi* (binär, mit Selbstbezug), Queen-Nachbarschaft, bedingte "
            f"Permutation (Anzahl so gewählt, dass ein {cat.unit.label} FDR 5 % erreichen "
            f"kann, seed=0), zweiseitig, Benjamini-Hochberg-q je {cat.unit.label}, "
            f"EB-geglättete Rate, unter 300 Einw. 'zu klein', ohne Nachbarn 'keine "
            f"Nachbarn'.")


RESULTS: dict[str, ResultSpec] = {
    s.name: s
    for s in [
        ResultSpec(
            "segregation_indizes", lambda cat: "Segregationsindizes (Stadt und Bezirke)",
            lambda cat: segregation_table(cat), source=_from_table,
            method=lambda cat: "Dissimilarität D (daneben der Erwartungswert bei "
            "Zufallsverteilung), Isolation, Exposition, Theil H, multigruppen-D; "
            "verzerrungskorrigierte 95-%-Intervalle durch Testinversion (199 simulierte Pfade, "
            "seed=0, Überdeckung per Simulation geprüft); Indexwerte gleich PySAL segregation.",
        ),
        ResultSpec(
            "segregation_lokal",
            lambda cat: f"Lokationsquotient und Entropie je {cat.unit.label}",
            _segregation_lokal, source=_from_table,
            method=lambda cat: f"Lokationsquotient LQ = Anteil im {cat.unit.label} / Anteil "
            f"in der Stadt; lokale Entropie der Gruppen.",
        ),
        ResultSpec(
            "hotspots", lambda cat: f"Hotspots Gi* ({cat.group().label})",
            lambda cat: hotspot_layer(cat, method="gi"), source=_from_table,
            method=_gi_method,
        ),
        ResultSpec(
            "lisa", lambda cat: f"Lokales Moran's I ({cat.group().label})",
            lambda cat: hotspot_layer(cat, method="lisa"), source=_from_table,
            method=lambda cat: "Lokales Moran's I, zeilenstandardisierte Queen-Nachbarschaft, "
            f"bedingte Permutation (Anzahl so gewählt, dass ein {cat.unit.label} FDR 5 % "
            "erreichen kann, seed=0), FDR 5 %.",
        ),
        ResultSpec(
            "standorte", lambda cat: "Begegnungsräume: vorgeschlagene Standorte", _standorte,
            group="Planung", source=lambda cat: "berechnet (MCLP, HiGHS)",
            method=_siting_method, needs_candidates=True,
        ),
        ResultSpec(
            "einzugsbereiche", lambda cat: "Begegnungsräume: Einzugsbereiche (800 m)",
            _einzugsbereiche, group="Planung", source=lambda cat: "berechnet (MCLP, HiGHS)",
            method=_siting_method, needs_candidates=True,
        ),
        ResultSpec(
            "standort_zuordnung", lambda cat: "Begegnungsräume: Zuordnung der Nachfragezellen",
            _standort_zuordnung, group="Planung",
            source=lambda cat: "berechnet (MCLP, HiGHS)", method=_siting_method,
            needs_candidates=True,
        ),
        ResultSpec(
            "abdeckung_bezirke", lambda cat: "Begegnungsräume: Abdeckung je Bezirk",
            _abdeckung, group="Planung", source=lambda cat: "berechnet (MCLP, HiGHS)",
            method=_siting_method, needs_candidates=True,
        ),
        ResultSpec(
            "budget", lambda cat: "Integrationsbudget je Bezirk (Vorschlag)", _budget,
            group="Planung", source=_budget_source, method=_budget_method,
            needs_candidates=True,
        ),
    ]
}


def comparison(cat: Catalog, name: str) -> pd.DataFrame:
    """Two shares of the same units (a pack ``comparisons`` entry) and their change in points.

    Returns the units' polygons with ``anteil_<a>_prozent``, ``anteil_<b>_prozent``,
    ``veraenderung_pp`` (b minus a) and the pack's ``hinweis`` (e.g. that census and register
    count differently).
    """
    from .analysis.aggregate import compare_shares

    c = cat.pack.comparisons[name]
    sides = []
    for side in (c.first, c.second):
        spec = cat.table_spec(side["table"])
        t = cat.table(side["table"])
        if side["column"] not in t:
            raise LayerError(f"Vergleich {name!r}: Tabelle {side['table']!r} hat keine Spalte "
                             f"{side['column']!r}.")
        sides.append((spec, t.set_index(spec.unit_key)[side["column"]]))
    (spec_a, a), (spec_b, b) = sides
    if spec_a.unit != spec_b.unit:
        raise LayerError(f"Vergleich {name!r}: beide Tabellen brauchen dieselbe Einheit "
                         f"({spec_a.unit!r} und {spec_b.unit!r}).")
    table = compare_shares(a, b, names=c.names, note=c.note)
    units = cat.load(spec_a.unit)
    keep = [x for x in (spec_a.unit_key, "stadtteil", "bezirk_roman", "bezirk_name") if x in units]
    out = units[[*dict.fromkeys(keep), "geometry"]].merge(
        table, left_on=spec_a.unit_key, right_index=True, how="inner")
    out = out[[col for col in out.columns if col != "geometry"] + ["geometry"]]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=units.crs)


def _has_candidates(cat: Catalog) -> bool:
    return any(n in cat.names() for n in ("schulen", "kitas", "begegnungsorte"))


def available(cat: Catalog) -> list[str]:
    """Return the names of the tables and results that can be computed for ``cat``."""
    names = [*cat.table_names(), *cat.pack.comparisons]
    has_group = bool(cat.unit_groups()) and cat.group().name in cat.unit_groups()
    for spec in RESULTS.values():
        if any(n not in cat.names() for n in spec.needs):
            continue
        if spec.needs_group and not has_group:
            continue
        if spec.needs_candidates and not _has_candidates(cat):
            continue
        names.append(spec.name)
    return names


def meta(cat: Catalog, name: str) -> dict[str, object]:
    """Return label, source, date, licence, method, estimated, map group of a result/table."""
    if name in cat.table_names():
        tm = cat.table_meta(name)
        group = "Grundlagen" if not any(g.table == name for g in cat.pack.groups.values()) \
            else "Analyse"
        return {**tm, "group": group}
    if name in cat.pack.comparisons:
        c = cat.pack.comparisons[name]
        a, b = cat.table_meta(c.first["table"]), cat.table_meta(c.second["table"])
        return {
            "name": name, "label": c.label, "group": "Analyse",
            "source": f"{a['label']} ({a['source']}, Stand {fmt_date(a['date'])}); "
                      f"{b['label']} ({b['source']}, Stand {fmt_date(b['date'])})",
            "date": f"{fmt_date(a['date'])} und {fmt_date(b['date'])}",
            "licence": "; ".join(dict.fromkeys([a["licence"], b["licence"]])),
            "method": f"Veränderung in Prozentpunkten ({c.names[1]} minus {c.names[0]}). "
                      f"{c.note}",
            "estimated": bool(a["estimated"] or b["estimated"]), "description": c.note,
        }
    if name not in RESULTS:
        raise LayerError(f"unbekanntes Ergebnis {name!r}; bekannt: "
                         f"{', '.join(available(cat))}.")
    spec = RESULTS[name]
    estimated = False
    date = ""
    if spec.needs_group and cat.pack.groups:
        tm = _group_table(cat)
        estimated, date = bool(tm["estimated"]), tm["date"]
    return {
        "name": name, "label": spec.label(cat), "source": spec.source(cat),
        "method": spec.method(cat), "date": date, "licence": "", "estimated": estimated,
        "group": spec.group, "description": "",
    }


def compute(cat: Catalog, name: str) -> pd.DataFrame:
    """Return result or table ``name`` for ``cat`` (computed once per catalogue, copied)."""
    if name in cat.table_names():
        return cat.unit_table(name)
    if name in cat.pack.comparisons:
        return comparison(cat, name)
    if name not in RESULTS:
        raise LayerError(f"unbekanntes Ergebnis {name!r}; bekannt: "
                         f"{', '.join(available(cat))}.")
    if name not in available(cat):
        spec = RESULTS[name]
        need = [n for n in spec.needs if n not in cat.names()]
        why = (f"die Ebene(n) {', '.join(need)}" if need else
               "Schulen, Kitas oder Begegnungsorte" if spec.needs_candidates
               and not _has_candidates(cat) else
               f"eine Gruppe mit Anzahlen je {cat.unit.label} (\"groups\" in der Pack-Datei)")
        raise LayerError(f"das Ergebnis {name!r} braucht {why}, die {cat.city} nicht hat.")
    cache = cat._results  # held by the catalogue: results die with it
    if name not in cache:
        log.info("berechne %s", name)
        cache[name] = RESULTS[name].compute(cat)
    return cache[name].copy()


def all_frames(cat: Catalog, *, include_layers: bool = True) -> dict[str, pd.DataFrame]:
    """Return every catalogue layer (if ``include_layers``), table and available result.

    Confidential layers are included as loaded (marked confidential): the caller must pass
    them through :func:`gis_planning.privacy.release` or :func:`~gis_planning.privacy.guard`.
    """
    frames: dict[str, pd.DataFrame] = {}
    if include_layers:
        for name in cat.names():
            frames[name] = cat.load(name)
    for name in available(cat):
        frames[name] = compute(cat, name)
    return frames


def style_context(cat: Catalog, group: str | None = None):
    """Return the :class:`~gis_planning.outputs.styles.StyleContext` of ``cat``'s group."""
    from .data.pack import NOT_GIVEN
    from .outputs.styles import StyleContext

    synthetic = tuple(n for n in cat.names() if cat.schema(n).synthetic)
    base = {"unit_label": cat.unit.label, "unit_plural": cat.unit.label_plural,
            "synthetic": synthetic}
    cells = tuple(n for n in cat.names() if cat.kind(n) == "zellen")
    cell_tables = {t for t, v in cat.pack.tables.items() if v[-1].cells in cells}
    cell_group = next((x for x in cat.pack.groups.values() if x.table in cell_tables), None)
    if cell_group is not None:
        base.update(cell_layers=cells, cell_share=f"{cell_group.count}_anteil_prozent",
                    cell_label=cell_group.label)
    if not cat.pack.groups:
        return StyleContext(**base)
    g = cat.group(group)
    tm = cat.table_meta(g.table)
    return StyleContext(
        group_label=g.label, date="" if tm["date"] == NOT_GIVEN else fmt_date(tm["date"]),
        estimated=bool(tm["estimated"]), count_column=g.count or "anzahl",
        share_column=g.share_column,
        group_tables=tuple(dict.fromkeys(cat.group(n).table for n in cat.unit_groups())),
        **base,
    )


def column_labels(cat: Catalog) -> dict[str, str]:
    """German labels of the city's own columns: its groups' counts and shares, its unit."""
    out = {
        "stadtteil": cat.unit.label,
        "stadtteil_nr": f"{cat.unit.label}-Nr.",
        "bezirk": cat.pack.bezirk_label,
        "bezirk_label": cat.pack.bezirk_label,
    }
    for g in cat.pack.groups.values():
        if g.count:
            out[g.count] = f"Personen ({g.label})"
            out[f"lq_{g.count}"] = f"Lokationsquotient ({g.label})"
        out[g.share_column] = f"Anteil {g.label} (%)"
    for c in cat.pack.comparisons.values():
        for name in c.names:
            out[f"anteil_{name}_prozent"] = f"Anteil {name} (%)"
    if cat.pack.comparisons:
        out["veraenderung_pp"] = "Veränderung (Prozentpunkte)"
    return out
