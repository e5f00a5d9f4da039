"""``gis-planning site``: place meeting spaces (Begegnungsräume) with HiGHS."""

from __future__ import annotations

from pathlib import Path

import click

from ._options import CatalogState, group_option, overwrite_option, pass_catalog
from ._tables import echo_table, write_frame

__all__ = ["site", "summary_line"]


def _pct(share: float) -> str:
    from ..labels import fmt_number

    return fmt_number(share * 100, 1, unit="%")


def summary_line(s) -> str:
    """The first line of ``site``: model, proof status with gap, and what the solution does.

    Optimality and the gap are part of the line itself (not a warning that ``-q`` hides).
    """
    from ..labels import fmt_number

    name = {"mclp": "MCLP", "lscp": "LSCP", "pmedian": "p-Median"}[s.model]
    if s.optimal:
        how = "beweisbar optimal (HiGHS)"
    else:
        why = {"time_limit": "Zeitlimit erreicht", "heuristic": "Näherungsverfahren"}.get(
            s.status, s.status)
        gap = _pct(s.gap) if s.gap == s.gap and s.gap < 10 else "unbekannt"
        how = f"heuristisch ({why}), Lücke zur beweisbaren Schranke höchstens {gap}"

    def m(value: float) -> str:
        return fmt_number(value, 0) + " m"

    if s.model == "pmedian":
        what = (f"{s.n_sites} Standorte; mittlere Entfernung {m(s.mean_distance)}, größte "
                f"{m(s.max_distance)} (nach Nachfrage gewichtet, Luftlinie)")
    elif s.model == "lscp":
        what = (f"{s.n_sites} Standorte erreichen alle erreichbare Nachfrage im Radius "
                f"{m(s.radius)}")
        if s.uncoverable_weight > 0:
            share = s.uncoverable_weight / s.total_weight if s.total_weight else float("nan")
            what += (f"; Nachfrage {fmt_number(s.uncoverable_weight, 0)} ({_pct(share)}) in "
                     f"{s.n_uncoverable} Zellen erreicht kein Kandidat im Radius")
        else:
            what += "; jede Nachfragezelle hat einen Kandidaten im Radius"
    else:
        what = (f"{s.n_sites} Standorte erreichen {_pct(s.coverage_share)} der Nachfrage im "
                f"Radius {m(s.radius)}")
        if s.uncoverable_weight > 0:
            what += (f" (von keinem Kandidaten erreichbar: "
                     f"{_pct(s.uncoverable_weight / s.total_weight)})")
    return f"{name}, {how}: {what}."


@click.command()
@click.option("--model", type=click.Choice(["mclp", "lscp", "pmedian"]), default="mclp",
              show_default=True, help="Maximal covering, set covering or p-median.")
@click.option("--p", "p", type=click.IntRange(1, 500), default=None,
              help="Number of sites (mclp, pmedian), existing places included; default: one "
              "per Bezirk.")
@click.option("--radius", type=click.FloatRange(min=1), default=800, show_default=True,
              help="Walking radius in metres.")
@click.option("--cell-size", type=click.FloatRange(min=25), default=250, show_default=True,
              help="Demand grid cell size in metres.")
@click.option("--per-bezirk/--no-per-bezirk", default=True, show_default=True,
              help="At least one site in every Bezirk.")
@click.option("--hotspot-factor", type=float, default=1.0, show_default=True,
              help="Multiply demand in Gi* hotspot Stadtteile by this factor.")
@click.option("--capacity", is_flag=True, help="Respect the candidates' 'kapazitaet'.")
@click.option("--time-limit", type=click.FloatRange(min=1), default=120, show_default=True,
              help="Zeitlimit für HiGHS in Sekunden; danach wird die beste Lösung mit ihrer "
              "Lücke als 'heuristisch' gemeldet.")
@click.option("--curve", "curve", type=click.IntRange(1, 200), default=None,
              help="Also print the coverage curve for p = 1..N with marginal gains.")
@click.option("--compare-p", type=click.IntRange(1, 500), default=None,
              help="Compare with a second scenario using this p.")
@click.option("--out-dir", type=click.Path(file_okay=False), default=None,
              help="Write standorte/einzugsbereiche/zuordnung GeoJSON and abdeckung CSV here.")
@click.option("--demand", "demand", default=None, metavar="gruppe|zellen[:SPALTE]",
              help="Demand: the group's counts per unit on a grid ('gruppe') or census grid "
              "cells ('zellen', 'zellen:sonstige_welt'); default: the city pack's choice.")
@group_option
@overwrite_option
@pass_catalog
def site(state: CatalogState, model: str, p: int | None, radius: float, cell_size: float,
         per_bezirk: bool, hotspot_factor: float, capacity: bool, time_limit: float,
         curve: int | None, compare_p: int | None, out_dir: str | None, demand: str | None,
         group: str | None, overwrite: bool) -> None:
    """Propose meeting-space sites among schools, Kitas and existing places.

    Solved with HiGHS (mixed-integer programmes; p-median by Benders cuts). The first line
    says whether the solution is proven optimal or "heuristisch" and how far from optimal
    it can be at most (when a time or size limit stopped the solver). Distances are
    straight-line metres in the city's working CRS. Demand: census grid cells where the city
    pack says so, else the group's persons per unit (estimated where the pack says so) on a
    grid (--demand). p-median reports mean and largest distance; it has no radius.

    \b
    Examples:
      gis-planning site --model mclp --p 9 --radius 800
      gis-planning site --p 12 --curve 20 --out-dir maps/standorte
      gis-planning site --model lscp --radius 1000
    """
    from ..planning.scenario import coverage_table
    from ..results import release_siting, siting

    cat = state.catalog
    names = ("standorte.geojson", "einzugsbereiche.geojson", "zuordnung.geojson",
             "abdeckung.csv")
    if out_dir:  # check the folder before solving, so a refusal writes nothing
        from .._atomic import check_output_folder

        check_output_folder(out_dir, overwrite=overwrite, names=names)
    kwargs = dict(group=group, demand=demand, model=model, p=p, radius=radius,
                  cell_size=cell_size, per_bezirk=per_bezirk, hotspot_factor=hotspot_factor,
                  capacity=capacity, time_limit=time_limit)
    result, cells = siting(cat, **kwargs)
    click.echo(summary_line(result.summary))
    click.echo(f"Nachfrage: {cells.attrs.get('nachfrage', {}).get('text', '')}")
    sites, areas, allocation = release_siting(cat, result, cells)
    echo_table(sites[["name", "art", "bezirk", "stadtteil", "allocated_weight"]])
    click.echo("")
    table = coverage_table(result, cells)
    echo_table(table)
    if curve:
        from ..planning.scenario import candidate_sites
        from ..planning.siting import coverage_curve

        click.echo("")
        cc = coverage_curve(cells, candidate_sites(cat), max_p=curve, radius=radius,
                            weight="nachfrage", fixed="besteht",
                            group="bezirk" if per_bezirk else None)
        echo_table(cc.reset_index()[["p", "covered_weight", "coverage_share",
                                      "marginal_gain"]])
    if compare_p:
        from ..planning.siting import compare_scenarios

        other, _ = siting(cat, **{**kwargs, "p": compare_p})
        click.echo("")
        echo_table(compare_scenarios(result, other,
                                     labels=(f"p={result.summary.n_sites}", f"p={compare_p}"))
                   .reset_index())
    if out_dir:  # the four files appear together or not at all
        from .._atomic import atomic_folder

        frames = [sites, areas, allocation, table]
        with atomic_folder(out_dir, overwrite=overwrite, names=names) as tmp:
            for f, n in zip(frames, names, strict=True):
                write_frame(f, tmp / n, overwrite=False)
        click.echo("geschrieben: " + ", ".join(str(Path(out_dir) / n) for n in names))
