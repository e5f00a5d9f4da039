"""German labels and number formats: the one place user-facing text and formats come from."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "COLUMN_LABELS",
    "NumberFormat",
    "column_label",
    "esc",
    "fmt_date",
    "fmt_int",
    "fmt_number",
    "fmt_percent",
]

#: Column name -> German label (tooltips, legends, table headers, QGIS aliases).
COLUMN_LABELS = {
    "stadtteil": "Stadtteil",
    "stadtteil_nr": "Stadtteil-Nr.",
    "bezirk": "Stadtbezirk",
    "bezirk_roman": "Stadtbezirk",
    "bezirk_name": "Bezirksname",
    "flaeche_km2": "Fläche (km²)",
    "einwohner": "Einwohner",
    "nichtdeutsche_anteil_prozent": "Anteil nichtdeutsche Bevölkerung (%)",
    "projektwohnungen_anteil_prozent": "Anteil Projektwohnungen (%)",
    "jobcenter": "JobCenter-Bereich",
    "name": "Name",
    "traeger": "Träger",
    "betreuung": "Betreuung",
    "in_betrieb": "in Betrieb",
    "schulform": "Schulform",
    "schulstufe": "Schulstufe",
    "strasse": "Straße",
    "hausnummer": "Hausnummer",
    "plz": "Postleitzahl",
    "adresse": "Adresse",
    "betriebsstatus": "Status",
    "bezirk_label": "Stadtbezirk",
    "stadt": "Stadt",
    "stadtteile": "Stadtteile",
    "n_stadtteile": "Anzahl Stadtteile",
    "n_teilweise": "davon teilweise",
    "standorte": "Standorte",
    "teilweise": "nur teilweise zugeordnet",
    "hinweis": "Hinweis",
    "unterdrueckt": "unterdrückt",
    "anzahl": "Anzahl",
    "stadtteil_quelle": "Stadtteil laut Quelle",
    "abweichung_art": "Abweichung",
    "klasse": "Klasse",
    "rate_prozent": "Anteil (EB-geglättet)",
    "gi_z": "Gi*-z-Wert",
    "gi_q": "q-Wert (FDR)",
    "lisa_i": "lokales Moran's I",
    "lisa_q": "q-Wert (FDR)",
    "n_neighbours": "Nachbarn",
    "label": "Status",
    "anzahl_text": "Anzahl",
    "art": "Art",
    "erreicht": "erreichte Nachfrage (Personen)",
    "allocated_weight": "erreichte Nachfrage (Personen)",
    "status_label": "Zuordnung",
    "gebiet": "Gebiet",
    "dissimilarity": "Dissimilarität D",
    "d_intervall": "D 95-%-Intervall",
    "dissimilarity_random": "D zufällig",
    "isolation": "Isolation",
    "exposure": "Exposition",
    "theil_h": "Theil H",
    "gitter_id": "Gitterzelle",
    "personen": "Personen",
    "nichtdeutsche": "Nichtdeutsche",
    "sonstige_welt": "Staatsangehörigkeit Sonstige Welt",
    "n_zellen": "Gitterzellen",
    "anteil_nichtdeutsche_prozent": "Anteil Nichtdeutsche (%)",
    "anteil_sonstige_welt_prozent": "Anteil Staatsangehörigkeit Sonstige Welt (%)",
    "anteil_prozent": "Anteil (%)",
    "gi_klasse": "Gi*-Klasse",
    "lisa_klasse": "LISA-Klasse",
    "veraenderung_pp": "Veränderung (Prozentpunkte)",
    "bandbreite_m": "Bandbreite (m)",
}


@dataclass(frozen=True)
class NumberFormat:
    """A number format as a value: ``NumberFormat(1, "%")(7.14) == "7,1 %"``.

    Formatters given as ``NumberFormat`` (and :func:`fmt_int`, :func:`fmt_percent`) let the
    atlas keep the raw number in the page (for its queries) and format it there the same way.
    """

    decimals: int = 1
    unit: str = ""

    def __call__(self, value: float | None) -> str:
        return fmt_number(value, self.decimals, unit=self.unit)


def column_label(column: str, extra: Mapping[str, str] | None = None) -> str:
    """Return the German label of ``column`` (the column name itself if none is defined).

    ``extra`` (e.g. a city's group labels, :func:`gis_planning.results.column_labels`) is
    looked up first.
    """
    if extra and column in extra:
        return extra[column]
    return COLUMN_LABELS.get(column, column)


def esc(value: object) -> str:
    """HTML-escape any value for tooltips, popups, labels and legends."""
    return html.escape("" if value is None else str(value), quote=True)


def fmt_number(value: float | None, decimals: int = 1, *, unit: str = "") -> str:
    """Format a number the German way: ``1234.5 -> "1.234,5"``; missing -> ``"–"``.

    Examples
    --------
    >>> fmt_number(67297, 0)
    '67.297'
    >>> fmt_number(7.1, 1, unit="%")
    '7,1 %'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    try:
        import pandas as pd

        if pd.isna(value):
            return "–"
    except (TypeError, ValueError):
        pass
    text = f"{float(value):,.{decimals}f}".replace(",", "\u2009").replace(".", ",")
    text = text.replace("\u2009", ".")
    return f"{text} {unit}".rstrip() if unit else text


def fmt_int(value: float | None) -> str:
    """Format a whole number with a thousands point (``67297 -> "67.297"``)."""
    return fmt_number(value, 0)


def fmt_percent(value: float | None, decimals: int = 1) -> str:
    """Format a percentage (``7.1 -> "7,1 %"``)."""
    return fmt_number(value, decimals, unit="%")


def fmt_date(value: object) -> str:
    """Format an ISO date the German way (``"2016-09-30" -> "30.09.2016"``); others as given.

    Examples
    --------
    >>> fmt_date("2016-09-30"), fmt_date("2024/2025"), fmt_date("2011-05")
    ('30.09.2016', '2024/2025', '05/2011')
    """
    import re

    text = "" if value is None else str(value).strip()
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
    if m:
        return f"{m.group(3)}.{m.group(2)}.{m.group(1)}"
    m = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if m:
        return f"{m.group(2)}/{m.group(1)}"
    return text
