"""``gis-planning site``: place meeting spaces (Begegnungsräume) with HiGHS."""

from __future__ import annotations

from pathlib import Path

import click

from ._options import (
    CatalogState,
    group_option,
    output_dir_option,
    overwrite_option,
    pass_catalog,
)
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
              show_default=True,
              help="Modell: größte Abdeckung (mclp), alle abdecken (lscp) oder kürzeste Wege "
              "(pmedian).")
@click.option("--p", "p", type=click.IntRange(1, 500), default=None,
              help="Zahl der Standorte (mclp, pmedian), bestehende Orte eingerechnet; "
              "Standard: einer je Bezirk.")
@click.option("--radius", type=click.FloatRange(min=1), default=800, show_default=True,
              help="Fußweg-Radius in Metern (Luftlinie).")
@click.option("--cell-size", type=click.FloatRange(min=25), default=250, show_default=True,
              help="Kantenlänge der Nachfrage-Zellen in Metern.")
@click.option("--per-bezirk/--no-per-bezirk", default=True, show_default=True,
              help="Mindestens ein Standort in jedem Bezirk.")
@click.option("--hotspot-factor", type=float, default=1.0, show_default=True,
              help="Nachfrage in Stadtteilen, die Gi* als Hotspot zeigt, mit diesem Faktor "
              "gewichten.")
@click.option("--capacity", is_flag=True,
              help="Die Spalte 'kapazitaet' der Kandidaten als Obergrenze beachten.")
@click.option("--time-limit", type=click.FloatRange(min=1), default=120, show_default=True,
              help="Zeitlimit für HiGHS in Sekunden; danach wird die beste Lösung mit ihrer "
              "Lücke als 'heuristisch' gemeldet.")
@click.option("--curve", "curve", type=click.IntRange(1, 200), default=None, metavar="N",
              help="Zusätzlich die Abdeckungskurve für p = 1 … N mit dem Zuwachs je "
              "Standort ausgeben (ein Modell je p: dauert).")
@click.option("--compare-p", type=click.IntRange(1, 500), default=None, metavar="P",
              help="Mit einem zweiten Szenario mit P Standorten vergleichen.")
@output_dir_option("Ordner für standorte, einzugsbereiche und zuordnung (GeoJSON) und "
                   "abdeckung (CSV).", aliases=("--out-dir",))
@click.option("--demand", "demand", default=None, metavar="gruppe|zellen[:SPALTE]",
              help="Nachfrage: Personen der Gruppe je Einheit auf einem Raster ('gruppe') "
              "oder Zensus-Gitterzellen ('zellen', 'zellen:sonstige_welt'); Standard: die "
              "Wahl des Stadt-Packs.")
@group_option
@overwrite_option
@pass_catalog
def site(state: CatalogState, model: str, p: int | None, radius: float, cell_size: float,
         per_bezirk: bool, hotspot_factor: float, capacity: bool, time_limit: float,
         curve: int | None, compare_p: int | None, output_dir: str | None, demand: str | None,
         group: str | None, overwrite: bool) -> None:
    """Standorte für Begegnungsräume unter Schulen, Kitas und bestehenden Orten vorschlagen.

    Gelöst mit HiGHS (gemischt-ganzzahlige Programme; p-Median über Benders-Schnitte). Die
    erste Zeile sagt, ob die Lösung beweisbar optimal ist oder "heuristisch" und wie weit sie
    höchstens vom Optimum entfernt ist (wenn ein Zeit- oder Größenlimit den Löser gestoppt
    hat). Entfernungen sind Luftlinien-Meter im Arbeits-Koordinatensystem der Stadt.
    Nachfrage: Zensus-Gitterzellen, wo der Stadt-Pack das sagt, sonst die Personen der Gruppe
    je Einheit (geschätzt, wo der Pack das sagt) auf einem Raster (--demand). Der p-Median
    nennt mittlere und größte Entfernung; er hat keinen Radius. Mit --output-dir gehen die
    Ergebnisse in Dateien, und -q gibt nur Fehler aus.

    \b
    Beispiele:
      gis-planning site --model mclp --p 9 --radius 800
      gis-planning site --p 12 --curve 20 --output-dir maps/standorte
      gis-planning site --model lscp --radius 1000
    """
    from ..planning.scenario import coverage_table
    from ..results import release_siting, siting, siting_scenarios

    cat = state.catalog
    names = ("standorte.geojson", "einzugsbereiche.geojson", "zuordnung.geojson",
             "abdeckung.csv")
    if output_dir:  # check the folder before solving, so a refusal writes nothing
        from .._atomic import check_output_folder

        check_output_folder(output_dir, overwrite=overwrite, names=names)
    # the result itself goes to the console unless it goes to files (then -q silences it)
    emit = state.say if output_dir else state.result
    show = not (output_dir and state.quiet)
    kwargs = dict(group=group, demand=demand, model=model, p=p, radius=radius,
                  cell_size=cell_size, per_bezirk=per_bezirk, hotspot_factor=hotspot_factor,
                  capacity=capacity, time_limit=time_limit)
    if compare_p:
        (result, cells), (other, _) = siting_scenarios(cat, [p, compare_p],
                                                       progress=state.progress, **kwargs)
    else:
        result, cells = siting(cat, **kwargs)
    emit(summary_line(result.summary))
    state.say(f"Nachfrage: {cells.attrs.get('nachfrage', {}).get('text', '')}")
    sites, areas, allocation = release_siting(cat, result, cells)
    table = coverage_table(result, cells)
    if show:
        echo_table(sites[["name", "art", "bezirk", "stadtteil", "allocated_weight"]]
                   .rename(columns={"allocated_weight": "nachfrage"}))
        emit("")
        echo_table(table)
    if curve:
        from ..planning.scenario import candidate_sites
        from ..planning.siting import coverage_curve

        cc = coverage_curve(cells, candidate_sites(cat), max_p=curve, radius=radius,
                            weight="nachfrage", fixed="besteht",
                            group="bezirk" if per_bezirk else None, progress=state.progress)
        if show:
            emit("")
            echo_table(cc.reset_index()[["p", "covered_weight", "coverage_share",
                                          "marginal_gain"]].rename(columns=_CURVE_HEADERS))
    if compare_p and show:
        from ..planning.siting import compare_scenarios

        emit("")
        echo_table(compare_scenarios(result, other,
                                     labels=(f"p={result.summary.n_sites}", f"p={compare_p}"))
                   .rename(columns={"difference": "differenz"})
                   .rename_axis("kennzahl").reset_index())
    if output_dir:  # the four files appear together or not at all
        from .._atomic import atomic_folder

        frames = [sites, areas, allocation, table]
        with atomic_folder(output_dir, overwrite=overwrite, names=names) as tmp:
            for f, n in zip(frames, names, strict=True):
                write_frame(f, tmp / n, overwrite=False)
        state.say("geschrieben: " + ", ".join(str(Path(output_dir) / n) for n in names))


#: German headers of the printed coverage curve (the columns of the frame stay as they are).
_CURVE_HEADERS = {"covered_weight": "abgedeckt", "coverage_share": "anteil",
                  "marginal_gain": "zuwachs"}
