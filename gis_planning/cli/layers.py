"""``gis-planning layers``: list, show and export catalogue layers.

What the commands list and show is their result (:meth:`CatalogState.result`); the note of an
export goes through :meth:`CatalogState.say` (not with ``-q``; on stderr with ``-o -``).
"""

from __future__ import annotations

import click

from ..labels import fmt_date, fmt_int, fmt_number
from ._options import CatalogState, output_option, overwrite_option, pass_catalog

__all__ = ["layers"]


@click.group()
def layers() -> None:
    """Ebenen, Tabellen und Gruppen der Stadt auflisten, beschreiben und exportieren.

    \b
    Beispiele:
      gis-planning layers list
      gis-planning layers show kitas
      gis-planning layers export schulen --format geojson -o schulen.geojson
    """


@layers.command("list")
@pass_catalog
def list_layers(state: CatalogState) -> None:
    """Ebenen, Tabellen und Gruppen der Stadt mit ihrer Bezeichnung auflisten.

    Vertrauliche und synthetische Ebenen sind markiert; die Gruppen sind die Werte für
    --group der Analysen.

    \b
    Beispiel:
      gis-planning layers list
      gis-planning --city berlin layers list
    """
    cat = state.catalog
    state.result(f"Stadt: {cat.city} (Koordinatensystem {cat.crs}, Einheit: "
               f"{cat.unit.label_plural})")
    width = max(len(n) for n in [*cat.names(), *cat.table_names(), *cat.group_names()])
    state.result("Ebenen:")
    for name in cat.names():
        s = cat.schema(name)
        flags = []
        if s.confidential:
            flags.append("vertraulich")
        if s.synthetic:
            flags.append("synthetisch")
        extra = f"  [{', '.join(flags)}]" if flags else ""
        state.result(f"  {name:<{width}}  {s.label}{extra}")
    if cat.table_names():
        state.result("Tabellen:")
        for name in cat.table_names():
            m = cat.table_meta(name)
            est = ", geschätzt" if m["estimated"] else ""
            dates = ", ".join(fmt_date(d) for d in cat.table_dates(name))
            state.result(f"  {name:<{width}}  {m['label']} (Stand {dates}{est})")
    if cat.group_names():
        state.result("Gruppen (--group):")
        for name in cat.group_names():
            g = cat.group(name)
            state.result(f"  {name:<{width}}  {g.label} (Tabelle {g.table})")


@layers.command("show")
@click.argument("name", required=False)
@pass_catalog
def show_layer(state: CatalogState, name: str | None) -> None:
    """Schema, Anzahl, Quelle, Lizenz, Koordinatensystem und Ausdehnung von NAME zeigen.

    NAME ist eine Ebene oder eine Tabelle der Stadt. Ohne NAME: das Schema jeder Art von
    Ebene, die ein Stadt-Pack nennen kann (Spalten, Pflichtspalten, Geometrie).

    \b
    Beispiele:
      gis-planning layers show kitas
      gis-planning layers show stadtteil_statistik
      gis-planning layers show
    """
    cat = state.catalog
    if name is None:
        from ..data.layer_info import describe_schema
        from ..data.schema import SCHEMAS

        for kind, schema in SCHEMAS.items():
            state.result(f"{kind} ({schema.label}):")
            for k, v in describe_schema(schema).items():
                state.result(f"  {k}: {v}")
        state.result("Tabellen (\"tables\" in der Pack-Datei): eine Zeile je Einheit, Schlüssel "
                   "\"key\" zur Spalte der Einheit (z. B. stadtteil_nr), Anzahlen der Gruppen "
                   "als Zahlen; Anteile werden aus Anzahl und Gesamtzahl berechnet.")
        return
    if name in cat.table_names():
        from ..data.layer_info import describe_table

        info = describe_table(cat, name)
    else:
        from ..data.layer_info import describe_layer

        info = describe_layer(cat, name)
    for key, value in info.items():
        if isinstance(value, dict):
            state.result(f"{key}:")
            for k, v in value.items():
                state.result(f"  {k}: {v}")
        elif isinstance(value, float):
            state.result(f"{key}: {fmt_number(value, 1)}")
        else:
            state.result(f"{key}: {value}")


_FORMATS = ("geojson", "gpkg", "csv")


@layers.command("export")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default=None,
              help="Format der Ausgabe: geojson (RFC 7946, WGS84), gpkg (GeoPackage im "
              "Koordinatensystem der Stadt) oder csv (Geometrie als WKT in WGS84, Spalte "
              "'epsg' = 4326). Standard: nach der Endung der Datei, bei -o - geojson.")
@output_option("Ausgabedatei; '-' schreibt GeoJSON (oder mit --format csv die CSV-Datei) "
               "auf die Standardausgabe.", required=True)
@overwrite_option
@pass_catalog
def export_layer(state: CatalogState, name: str, fmt: str | None, output: str,
                 overwrite: bool) -> None:
    """Ebene NAME als GeoJSON, GeoPackage oder CSV-Datei exportieren.

    Vertrauliche Ebenen (Projektwohnungen) verlassen das Werkzeug nur als Anzahl je
    Stadtteil, kleine Anzahlen unterdrückt. Eine CSV-Ausgabe nennt ihr Koordinatensystem
    (Spalte 'epsg'), so dass `gis-planning check` sie wieder liest.

    \b
    Beispiele:
      gis-planning layers export schulen --format geojson -o schulen.geojson
      gis-planning layers export kitas -o kitas.csv
      gis-planning layers export stadtteile -o - > stadtteile.geojson
    """
    from ..data.io import write_layer
    from ..data.layer_info import exportable

    to_stdout = output == "-"
    if fmt is None:
        suffix = "geojson" if to_stdout else click.format_filename(output).rpartition(".")[2]
        fmt = {"json": "geojson"}.get(suffix.lower(), suffix.lower())
        if fmt not in _FORMATS:
            raise click.BadParameter(
                f"das Format ist aus {output!r} nicht zu erkennen; geben Sie --format "
                f"geojson, gpkg oder csv an oder eine Datei mit der Endung .geojson, .gpkg "
                f"oder .csv.", param_hint="--format")
    if to_stdout and fmt == "gpkg":
        raise click.BadParameter("ein GeoPackage lässt sich nicht auf die Standardausgabe "
                                 "schreiben; geben Sie eine Datei an (-o ebene.gpkg) oder "
                                 "--format geojson.", param_hint="-o")
    gdf = exportable(state.catalog, name)
    if to_stdout:
        import tempfile
        from pathlib import Path

        state.stdout_is_data()
        with tempfile.TemporaryDirectory(prefix="gis-planning-") as tmp:
            path = write_layer(gdf, Path(tmp) / f"{name}.{fmt}", fmt=fmt, layer=name)
            click.echo(path.read_text(encoding="utf-8"), nl=False)
        state.say(f"geschrieben: Standardausgabe ({name}, {fmt_int(len(gdf))} Objekte, {fmt})")
        return
    path = write_layer(gdf, output, fmt=fmt, layer=name, overwrite=overwrite)
    state.say(f"geschrieben: {path} ({name}, {fmt_int(len(gdf))} Objekte)")
