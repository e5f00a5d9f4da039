"""Analysis results as named layers, beside the catalogue's input layers.

Exporters (GeoPackage, GeoJSON), the query engine and the atlas ask this module which results
exist for a catalogue and get each one as a frame. A result is computed from catalogue layers
on first use and cached per catalogue. Each result has a German label, a map group and
provenance, like a catalogue layer.

To add a result, write a function ``(catalog) -> DataFrame | GeoDataFrame`` and register it in
:data:`RESULTS` with a :class:`ResultSpec`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ._errors import InputError, LayerError
from .data.catalog import Catalog

__all__ = [
    "RESULTS",
    "ResultSpec",
    "all_frames",
    "available",
    "budget_table",
    "compute",
    "default_scenario",
    "hotspot_layer",
    "segregation_table",
    "siting",
    "stadtteil_statistik",
    "status_table",
]

log = logging.getLogger(__name__)

SEED_NOTE = "Stadt Essen, Vorlage 1846/2016/5 (13.12.2016)"
_SITING_METHOD = (
    "Maximal Covering (MCLP), 9 Standorte, mindestens einer je Bezirk, Fußweg-Radius 800 m "
    "(Luftlinie, EPSG:25832); Nachfrage: geschätzte Personen aus den 12 "
    "Hauptherkunftsländern auf 250-m-Raster; Kandidaten: Schulen, Kitas in Betrieb, "
    "bestehende Begegnungsorte (gesetzt); mit HiGHS beweisbar optimal gelöst."
)


@dataclass(frozen=True)
class ResultSpec:
    """A named analysis result.

    ``needs`` lists the catalogue layers it requires; ``essen_only`` marks results that use
    Essen's seed tables and exist only for the shipped Essen catalogue (unless the user
    supplies the table, see :func:`stadtteil_statistik`).
    """

    name: str
    label: str
    compute: Callable[[Catalog], pd.DataFrame]
    group: str = "Analyse"
    source: str = ""
    method: str = ""
    needs: tuple[str, ...] = ("stadtteile",)
    essen_only: bool = False
    estimated: bool = False


def _is_essen(cat: Catalog) -> bool:
    return cat.city == "Essen"


def stadtteil_statistik(cat: Catalog) -> gpd.GeoDataFrame:
    """Return the Stadtteil table (one row per Stadtteil) joined to the Stadtteil polygons.

    If the catalogue names a table ``stadtteil_statistik`` (``Catalog.tables``), that
    official table is used after validation; otherwise, for Essen, the documented small-area
    estimate of :mod:`gis_planning.analysis.estimates` (every value marked ``geschaetzt``).
    """
    from .analysis import estimates

    st = cat.load("stadtteile")
    user = getattr(cat, "tables", {}).get("stadtteil_statistik")
    if user is not None:
        from .data.io import read_csv_table

        table = read_csv_table(user)
        estimates.validate_stadtteil_table(table, stadtteile=st)
    elif _is_essen(cat):
        from .data.sources.essen import RAW_DIR

        quellen = pd.read_csv(Path(RAW_DIR) / "stadtteil_einwohner_quellen.csv",
                              dtype={"stadtteil_nr": str})
        ew = estimates.stadtteil_einwohner(quellen, st)
        table = estimates.stadtteil_schaetzung(ew, st)
    else:
        raise LayerError(
            "no Stadtteil statistics for this city: add a table 'stadtteil_statistik' "
            "(schema: gis_planning.analysis.estimates.STADTTEIL_SCHEMA) to the catalogue file."
        )
    cols = [c for c in table.columns if c not in ("stadtteil", "bezirk", "geometry")]
    out = st[["stadtteil_nr", "stadtteil", "bezirk", "geometry"]].merge(
        table[cols], on="stadtteil_nr", how="left", validate="one_to_one"
    )
    return gpd.GeoDataFrame(out, geometry="geometry", crs=st.crs)


def _jobcenter_zuordnung(cat: Catalog) -> gpd.GeoDataFrame:
    from .data.sources.essen_jobcenter import jobcenter_zuordnung

    return jobcenter_zuordnung(cat.load("stadtteile"))


def _jobcenter_audit(cat: Catalog) -> pd.DataFrame:
    from .data.sources.essen_jobcenter import jobcenter_audit

    return jobcenter_audit(cat.load("stadtteile"))


#: Group columns of the segregation results built on the Stadtteil table.
SEGREGATION_GROUPS = ("herkunft12_anzahl", "uebrige_anzahl")


def _segregation_input(cat: Catalog) -> gpd.GeoDataFrame:
    table = compute(cat, "stadtteil_statistik")
    table["uebrige_anzahl"] = table["einwohner"] - table["herkunft12_anzahl"]
    return table


def segregation_table(
    cat: Catalog, *, by: str | None = "bezirk", distance: float | None = None,
    n_simulations: int = 199, seed: int = 0,
) -> pd.DataFrame:
    """Global segregation indices of the 12-origin population, city-wide and per ``by``.

    Built on the Stadtteil table (estimated for Essen: the values inherit the estimate's
    assumptions, see the ``hinweis`` column). With ``n_simulations`` a seeded bootstrap
    interval and a permutation null are added.
    """
    from .analysis.segregation import global_indices

    data = _segregation_input(cat)
    out = global_indices(
        data, group="herkunft12_anzahl", total="einwohner", groups=list(SEGREGATION_GROUPS),
        by=by, distance=distance, n_simulations=n_simulations, seed=seed,
    )
    estimated = bool(data.get("geschaetzt", pd.Series([False])).any())
    out["hinweis"] = (
        "auf Basis geschätzter Stadtteilwerte" if estimated else "amtliche Stadtteilwerte"
    )
    return out.reset_index()


def _segregation_lokal(cat: Catalog) -> gpd.GeoDataFrame:
    from .analysis.segregation import local_indices

    data = _segregation_input(cat)
    loc = local_indices(data, groups=list(SEGREGATION_GROUPS))
    out = data[["stadtteil_nr", "stadtteil", "bezirk", "einwohner", "herkunft12_anzahl",
                "geometry"]].join(loc)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=data.crs)


def _analysis_source(cat: Catalog, source: str) -> pd.DataFrame:
    """Return a result or catalogue layer for an analysis; confidential layers are refused.

    Record-level analyses (one output row per record) would reveal confidential records, and
    pandas does not carry the confidential mark through joins, so the check is by schema.
    """
    if source in RESULTS:
        return compute(cat, source)
    if cat.schema(source).confidential:
        from ._errors import ConfidentialDataError

        raise ConfidentialDataError(
            f"layer {source!r} is confidential: analyses per record would reveal it. Use its "
            f"counts per Stadtteil instead (`gis-planning layers export {source} ...`)."
        )
    return cat.load(source)


def hotspot_layer(
    cat: Catalog,
    *,
    method: str = "gi",
    source: str = "stadtteil_statistik",
    column: str = "herkunft12_anzahl",
    denominator: str | None = "einwohner",
    weights: str = "queen",
    k: int = 8,
    distance: float | None = None,
    permutations: int | str = "auto",
    seed: int = 0,
    min_population: float = 300,
    smoothing: str | None = "eb",
    cell_size: float | None = None,
) -> gpd.GeoDataFrame:
    """Gi* (``method="gi"``) or local Moran (``"lisa"``) hotspots of ``column``.

    ``source`` is a result or catalogue layer with polygons whose rows carry their own data
    (Stadtteile, or a layer of real grid cells such as a census grid). With ``denominator``
    the rate ``column / denominator`` is analysed (empirical-Bayes smoothed with
    ``smoothing="eb"``) and units under ``min_population`` are reported "zu klein".
    ``permutations="auto"`` chooses a count with which a unit can reach FDR 5 % (see
    :func:`gis_planning.analysis.hotspots.auto_permutations`). ``cell_size`` (a grid filled
    from the polygon values) is refused: copied values are not independent observations.
    """
    from .analysis import hotspots

    if method not in ("gi", "lisa"):
        raise InputError(f"`method` must be 'gi' (Getis-Ord Gi*) or 'lisa' (local Moran), "
                         f"not {method!r}.")
    if cell_size is not None:
        raise InputError(
            "Hotspot-Tests auf einem Raster, das aus den Werten der Polygone gefüllt wird, "
            "sind nicht zulässig (--grid): jede Zelle erhielte eine flächenanteilige Kopie "
            "des Stadtteilwerts, und Kopien sind keine unabhängigen Beobachtungen. Der Test "
            "hielte sie für Bestätigungen und fände Hotspots, wo keine sind (auf Daten ohne "
            "räumliches Muster rund ein Drittel der Zellen). Testen Sie die Stadtteile selbst "
            "(ohne --grid) oder eine Schicht mit echten Zellwerten, z. B. ein Zensus-Gitter, "
            "über --layer."
        )
    frame = _analysis_source(cat, source)
    estimated = "geschaetzt" in frame and bool(frame["geschaetzt"].any())
    fn = hotspots.getis_ord if method == "gi" else hotspots.local_moran
    out = fn(
        frame, column, weights=weights, k=k, distance=distance, permutations=permutations,
        seed=seed, rate_denominator=denominator, population=denominator,
        min_population=min_population, smoothing=smoothing if denominator else None,
    )
    out["klasse"] = out["klasse"].astype(str)
    if estimated:
        out["hinweis"] = "auf Basis geschätzter Stadtteilwerte"
    return out


def status_table(
    cat: Catalog,
    *,
    source: str = "stadtteil_statistik",
    indicators: list[tuple[str, int, float]] | None = None,
    population: str | None = "einwohner",
    min_population: float = 300,
    weighted: bool = False,
    preset: str | None = None,
    status_indicators: list[str] | None = None,
    dynamik_indicators: list[str] | None = None,
    outliers: list[str] | None = None,
    id_column: str | None = None,
    frame: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Status index of ``source`` with ``indicators`` as ``(column, direction, weight)``.

    With ``preset="mss2021"`` the Berlin MSS 2021 method is used instead
    (:func:`gis_planning.analysis.status_index.mss_index`): ``status_indicators`` (default
    S1, S3, S4), ``dynamik_indicators`` (default D1, D3, D4), units under ``min_population``
    or listed in ``outliers`` (values of ``id_column``) get no index. ``frame`` replaces the
    catalogue layer (a table the user brought).
    """
    from .analysis.status_index import Indicator, mss_index, status_index

    if frame is None:
        frame = _analysis_source(cat, source)
    if preset is not None:
        idx = mss_index(frame, preset=preset, status_indicators=status_indicators,
                        dynamik_indicators=dynamik_indicators, population=population,
                        min_population=min_population, outliers=outliers or (),
                        id_column=id_column)
        out = frame.join(idx[[c for c in idx.columns if c not in frame.columns]])
        out.attrs["mss"] = idx.attrs["mss"]
        return out
    inds = [Indicator(c, d, w) for c, d, w in (indicators or
                                               [("herkunft12_anteil_prozent", 1, 1.0)])]
    from ._validate import require_columns

    require_columns(frame, [i.column for i in inds], name=source)
    idx = status_index(frame, inds, population=population, min_population=min_population,
                       weighted=weighted)
    out = frame.join(idx[[c for c in idx.columns if c not in frame.columns]])
    if "geschaetzt" in frame and bool(frame["geschaetzt"].any()):
        out["hinweis"] = "auf Basis geschätzter Stadtteilwerte"
    return out


def siting(
    cat: Catalog,
    *,
    model: str = "mclp",
    p: int | None = 9,
    radius: float = 800,
    cell_size: float = 250,
    per_bezirk: bool = True,
    hotspot_factor: float = 1.0,
    capacity: bool = False,
    time_limit: float | None = 120,
):
    """Solve a meeting-space scenario on the catalogue; return ``(SitingResult, demand)``.

    ``time_limit`` (seconds) bounds HiGHS; a stopped solve is reported with its gap
    (``summary.optimal`` False, ``summary.gap``).

    Demand: the Stadtteil table's 12-origin population on a ``cell_size`` grid (weighted by
    ``hotspot_factor`` in Gi* hotspots); candidates: :func:`planning.candidate_sites`.
    """
    from .planning import scenario as planning

    hotspots = compute(cat, "hotspots") if hotspot_factor != 1.0 else None
    demand = planning.demand_grid(compute(cat, "stadtteil_statistik"), cell_size=cell_size,
                                  hotspots=hotspots, hotspot_factor=hotspot_factor)
    boundary = cat.load("stadtteile").dissolve()[["geometry"]]
    result = planning.site_scenario(
        demand, planning.candidate_sites(cat), boundary=boundary, model=model, p=p,
        radius=radius, per_bezirk=per_bezirk, capacity=capacity, time_limit=time_limit,
    )
    return result, demand


def default_scenario(cat: Catalog):
    """Return ``(SitingResult, demand)`` of the default meeting-space scenario (cached).

    MCLP with 9 sites, at least one per Bezirk, walking radius 800 m, demand = estimated
    12-origin population on a 250 m grid, candidates = schools, Kitas in operation and
    existing meeting places (kept).
    """
    cache = cat._results
    if "_default_scenario" not in cache:
        cache["_default_scenario"] = siting(cat)
    return cache["_default_scenario"]


def budget_table(
    cat: Catalog,
    *,
    total: int = 1_000_000,
    weights: dict[str, float] | None = None,
    base_share: float = 0.0,
    radius: float = 800,
) -> pd.DataFrame:
    """The integration budget per Bezirk (see :func:`planning.budget_table`)."""
    from .planning import scenario as planning

    demand = planning.demand_grid(compute(cat, "stadtteil_statistik"))
    return planning.budget_table(
        compute(cat, "bezirk_statistik"), demand, planning.candidate_sites(cat),
        total=total, weights=weights, base_share=base_share, radius=radius,
    )


def _standorte(cat: Catalog) -> gpd.GeoDataFrame:
    result, _ = default_scenario(cat)
    out = result.sites.copy()
    out["abdeckung_anteil"] = result.summary.coverage_share
    return out


def _einzugsbereiche(cat: Catalog) -> gpd.GeoDataFrame:
    result, _ = default_scenario(cat)
    sites = result.sites[["standort_id", "name", "art", "bezirk", "stadtteil"]]
    return result.catchments.join(sites)


def _standort_zuordnung(cat: Catalog) -> gpd.GeoDataFrame:
    result, demand = default_scenario(cat)
    alloc = result.allocation.copy()
    alloc["cell_id"] = demand["cell_id"]
    alloc["bezirk"] = demand["bezirk"]
    ids = result.sites["standort_id"]
    alloc["standort_id"] = alloc["site"].map(ids)
    return alloc.drop(columns=["site"])


def _abdeckung(cat: Catalog) -> pd.DataFrame:
    from .planning.scenario import coverage_table

    result, demand = default_scenario(cat)
    return coverage_table(result, demand)


def _budget(cat: Catalog) -> pd.DataFrame:
    return budget_table(cat).reset_index()


def _seed_table(fn_name: str) -> Callable[[Catalog], pd.DataFrame]:
    def compute_(cat: Catalog) -> pd.DataFrame:
        from .data.sources import essen_seed as seed

        return getattr(seed, fn_name)()

    compute_.__name__ = f"seed_{fn_name}"
    return compute_


RESULTS: dict[str, ResultSpec] = {
    s.name: s
    for s in [
        ResultSpec(
            "stadtteil_statistik", "Stadtteil-Schätzung 30.09.2016 (geschätzt)",
            stadtteil_statistik, source=f"{SEED_NOTE}; Einwohnerzahlen je Stadtteil (Quellen "
            "siehe layers/essen/raw/stadtteil_einwohner_quellen.csv)",
            method="Kleinräumige Schätzung: Einwohner je Stadtteil aus der Quelle nächst 2016, "
            "auf die Bezirkssummen der Vorlage geeicht; genannte Stadtteil-Anteile eingehalten.",
            estimated=True,
        ),
        ResultSpec(
            "jobcenter_zuordnung", "JobCenter-Zuordnung je Stadtteil", _jobcenter_zuordnung,
            group="Grundlagen", source=f"{SEED_NOTE}, Quelle FB 56, Stand 05.10.2016",
            essen_only=True,
        ),
        ResultSpec(
            "jobcenter_audit", "Prüfbericht JobCenter-Listen", _jobcenter_audit,
            source=f"{SEED_NOTE}, Quelle FB 56", essen_only=True,
        ),
        ResultSpec(
            "segregation_indizes", "Segregationsindizes (Stadt und Bezirke)",
            lambda cat: segregation_table(cat), needs=("stadtteile",),
            source="berechnet aus der Stadtteil-Tabelle",
            method="Dissimilarität D (daneben der Erwartungswert bei Zufallsverteilung), "
            "Isolation, Exposition, Theil H, multigruppen-D; verzerrungskorrigierte "
            "95-%-Intervalle durch Testinversion (199 simulierte Pfade, seed=0, Überdeckung "
            "per Simulation geprüft); Indexwerte gleich PySAL segregation.",
            estimated=True,
        ),
        ResultSpec(
            "segregation_lokal", "Lokationsquotient und Entropie je Stadtteil",
            _segregation_lokal, source="berechnet aus der Stadtteil-Tabelle",
            method="Lokationsquotient LQ = Anteil im Stadtteil / Anteil in der Stadt; "
            "lokale Entropie der Gruppen.", estimated=True,
        ),
        ResultSpec(
            "hotspots", "Hotspots Gi* (12 Hauptherkunftsländer)",
            lambda cat: hotspot_layer(cat, method="gi"),
            source="berechnet aus der Stadtteil-Tabelle",
            method="Getis-Ord Gi* (binär, mit Selbstbezug), Queen-Nachbarschaft, bedingte "
            "Permutation (Anzahl so gewählt, dass ein Stadtteil FDR 5 % erreichen kann, "
            "seed=0), zweiseitig, Benjamini-Hochberg-q je Stadtteil, EB-geglättete Rate, "
            "unter 300 Einw. 'zu klein', ohne Nachbarn 'keine Nachbarn'.", estimated=True,
        ),
        ResultSpec(
            "lisa", "Lokales Moran's I (12 Hauptherkunftsländer)",
            lambda cat: hotspot_layer(cat, method="lisa"),
            source="berechnet aus der Stadtteil-Tabelle",
            method="Lokales Moran's I, zeilenstandardisierte Queen-Nachbarschaft, bedingte "
            "Permutation (Anzahl so gewählt, dass ein Stadtteil FDR 5 % erreichen kann, "
            "seed=0), FDR 5 %.", estimated=True,
        ),
        ResultSpec(
            "standorte", "Begegnungsräume: vorgeschlagene Standorte", _standorte,
            group="Planung", needs=("stadtteile",), source="berechnet (MCLP, HiGHS)",
            method=_SITING_METHOD, estimated=True,
        ),
        ResultSpec(
            "einzugsbereiche", "Begegnungsräume: Einzugsbereiche (800 m)", _einzugsbereiche,
            group="Planung", source="berechnet (MCLP, HiGHS)", method=_SITING_METHOD,
            estimated=True,
        ),
        ResultSpec(
            "standort_zuordnung", "Begegnungsräume: Zuordnung der Nachfragezellen",
            _standort_zuordnung, group="Planung", source="berechnet (MCLP, HiGHS)",
            method=_SITING_METHOD, estimated=True,
        ),
        ResultSpec(
            "abdeckung_bezirke", "Begegnungsräume: Abdeckung je Bezirk", _abdeckung,
            group="Planung", source="berechnet (MCLP, HiGHS)", method=_SITING_METHOD,
            estimated=True,
        ),
        ResultSpec(
            "budget", "Integrationsbudget je Bezirk (Vorschlag)", _budget, group="Planung",
            source=f"{SEED_NOTE}: Integrationsbudget 1.000.000 € (2017/2018)",
            method="Bedarfsformel: 50 % Personen aus den 12 Hauptherkunftsländern, 25 % "
            "Anteil Projektwohnungen (beides Vorlage), 25 % noch nicht erreichte Nachfrage; "
            "Rundung nach größtem Rest auf volle Euro.", essen_only=True,
        ),
        ResultSpec("bezirk_statistik", "Bezirksstatistik 30.09.2016",
                   _seed_table("bezirk_statistik"), source=f"{SEED_NOTE}, FB 12",
                   needs=(), essen_only=True),
        ResultSpec("betroffene_stadtteile", "Besonders betroffene Stadtteile",
                   _seed_table("betroffene_stadtteile"), source=f"{SEED_NOTE}, FB 12",
                   needs=(), essen_only=True),
        ResultSpec("jobcenter_verteilung", "SGB-II-Verteilung nach JobCenter 05.10.2016",
                   _seed_table("jobcenter_verteilung"), source=f"{SEED_NOTE}, FB 56",
                   needs=(), essen_only=True),
        ResultSpec("stadt_gesamt", "Gesamtstadt 30.09.2016", _seed_table("stadt_gesamt"),
                   source=f"{SEED_NOTE}, FB 12", needs=(), essen_only=True),
    ]
}

_NEEDS_STADTTEIL_TABLE = (
    "stadtteil_statistik", "segregation_indizes", "segregation_lokal", "hotspots", "lisa",
    "standorte", "einzugsbereiche", "standort_zuordnung", "abdeckung_bezirke",
)



def available(cat: Catalog) -> list[str]:
    """Return the names of the results that can be computed for ``cat``."""
    names = []
    for spec in RESULTS.values():
        if any(n not in cat.names() for n in spec.needs):
            continue
        if spec.essen_only and not _is_essen(cat):
            continue
        if spec.name in _NEEDS_STADTTEIL_TABLE and (
            not (_is_essen(cat) or "stadtteil_statistik" in getattr(cat, "tables", {}))
        ):
            continue
        names.append(spec.name)
    return names


def compute(cat: Catalog, name: str) -> pd.DataFrame:
    """Return result ``name`` for ``cat`` (computed once per catalogue, then copied)."""
    if name not in RESULTS:
        raise LayerError(f"unknown result {name!r}; known: {', '.join(RESULTS)}.")
    if name not in available(cat):
        raise LayerError(f"result {name!r} needs layers this catalogue lacks "
                         f"({', '.join(RESULTS[name].needs)}).")
    cache = cat._results  # held by the catalogue: results die with it
    if name not in cache:
        log.info("computing result %s", name)
        cache[name] = RESULTS[name].compute(cat)
    return cache[name].copy()


def all_frames(cat: Catalog, *, include_layers: bool = True) -> dict[str, pd.DataFrame]:
    """Return every catalogue layer (if ``include_layers``) and every available result.

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
