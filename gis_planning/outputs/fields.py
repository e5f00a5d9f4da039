"""German names and labels of exported fields (GeoPackage, GeoJSON, QGIS aliases, print).

Part of :mod:`gis_planning.outputs.export` (which re-exports these names).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import geopandas as gpd
import pandas as pd

from ..labels import COLUMN_LABELS
from .styles import LayerStyle

__all__ = ["FIELD_LABELS", "FIELD_RENAMES", "field_label", "german_columns"]


#: English column names of the analysis results -> the German names they are exported under.
FIELD_RENAMES = {
    "value": "rate_analysiert",
    "gi": "gi_stern",
    "gi_p_norm": "gi_p_normal",
    "gi_p_sim": "gi_p_perm",
    "lisa_lag": "lisa_nachbarwert",
    "lisa_p_sim": "lisa_p_perm",
    "n_neighbours": "n_nachbarn",
    "scope": "gebiet",
    "level": "ebene",
    "n_units": "n_einheiten",
    "total": "gesamt",
    "group_total": "gruppe_gesamt",
    "group_share": "gruppe_anteil",
    "entropy": "entropie",
    "fixed": "gesetzt",
    "n_allocated": "n_zellen",
    "allocated_weight": "erreichte_nachfrage",
    "capacity": "kapazitaet_modell",
    "utilisation": "auslastung",
    "area_m2": "flaeche_m2",
    "weight": "nachfrage",
    "distance_m": "entfernung_m",
    "covered": "abgedeckt",
    "served_weight": "erreichte_nachfrage",
    "coverable": "abdeckbar",
    "cell_id": "zellen_id",
    "n_demand": "n_zellen",
    "total_weight": "nachfrage",
    "covered_weight": "erreicht",
    "uncovered_weight": "nicht_erreicht",
    "coverage_share": "anteil_erreicht",
    "n_sites": "n_standorte",
    "mean_distance": "mittlere_entfernung_m",
    "has_partial": "hat_teilweise",
    "incomplete_list": "liste_unvollstaendig",
}

#: Word parts of English index columns (``dissimilarity_ci_low`` -> ``dissimilaritaet_ki_unten``).
_WORD_RENAMES = (
    ("multi_dissimilarity", "multi_dissimilaritaet"), ("dissimilarity", "dissimilaritaet"),
    ("exposure", "exposition"), ("_ci_low", "_ki_unten"), ("_ci_high", "_ki_oben"),
    ("_null_mean", "_null_mittel"),
)

#: German labels (QGIS aliases, CSV headers in print) of exported fields that
#: :data:`gis_planning.labels.COLUMN_LABELS` does not name.
FIELD_LABELS = {
    "osm_id": "OSM-ID",
    "abgeleitet": "abgeleitet (nicht amtlich)",
    "stadt": "Stadt",
    "standorte": "Standorte",
    "n_teilweise": "davon teilweise zugeordnet",
    "hat_teilweise": "mit teilweise zugeordneten Einheiten",
    "liste_unvollstaendig": "Liste der Quelle unvollständig",
    "kita_id": "Kita-ID",
    "schul_id": "Schul-ID",
    "hausnummer": "Hausnummer",
    "plz": "Postleitzahl",
    "stadtteil_quelle_gedeutet": "Stadtteil laut Quelle (gedeutet)",
    "stadtteil_abweichung": "Stadtteil weicht von der Lage ab",
    "stadtteil_lage": "Stadtteil nach Lage",
    "ausserhalb": "außerhalb der Stadt",
    "schulform_quelle": "Schulform laut Quelle",
    "unterdrueckt": "unterdrückt (kleine Zahl)",
    "unterdrueckung": "Unterdrückung",
    "hinweis": "Hinweis",
    "anzahl_wert": "Anzahl (für die Klassen)",
    "geschaetzt": "geschätzt",
    "methode": "Methode",
    "quelle": "Quelle",
    "stand": "Stand",
    "einwohner_ausgang": "Einwohner (Ausgangswert)",
    "einwohner_jahr": "Jahr der Einwohnerzahl",
    "einwohner_quelle": "Quelle der Einwohnerzahl",
    "kennzahl": "Kennzahl",
    "wert": "Wert",
    "einheit": "Einheit",
    "bezug": "Bezug",
    "wie_gedruckt": "wie gedruckt",
    "n_jobcenter": "Anzahl JobCenter-Bereiche",
    "teilweise": "nur teilweise zugeordnet",
    "status": "Zuordnung (Code)",
    "befund": "Befund",
    "kandidaten": "Kandidaten",
    "detail": "Detail",
    "ebene": "Ebene",
    "n_einheiten": "Anzahl Einheiten",
    "gesamt": "Bevölkerung gesamt",
    "gruppe_gesamt": "Personen der Gruppe",
    "gruppe_anteil": "Anteil der Gruppe (0–1)",
    "gruppe": "Gruppe",
    "dissimilaritaet": "Dissimilarität D",
    "multi_dissimilaritaet": "Multigruppen-Dissimilarität",
    "exposition": "Exposition",
    "uebrige_anzahl": "übrige Personen",
    "entropie": "lokale Entropie",
    "rate_analysiert": "analysierte Rate (EB-geglättet, 0–1)",
    "gi_stern": "Gi*",
    "gi_p_normal": "p-Wert (Normalverteilung)",
    "gi_p_perm": "p-Wert (Permutation)",
    "lisa_nachbarwert": "Mittel der Nachbarn (räumlicher Lag)",
    "lisa_quadrant": "Quadrant (1 Hoch-Hoch, 2 Niedrig-Hoch, 3 Niedrig-Niedrig, 4 Hoch-Niedrig)",
    "lisa_p_perm": "p-Wert (Permutation)",
    "n_nachbarn": "Nachbarn",
    "standort_id": "Standort-ID",
    "besteht": "bestehender Ort",
    "vertraulich": "vertraulicher Standort",
    "kapazitaet": "Kapazität",
    "gesetzt": "gesetzt (bestehender Ort)",
    "n_zellen": "Anzahl Nachfragezellen",
    "erreichte_nachfrage": "erreichte Nachfrage (Personen)",
    "kapazitaet_modell": "Kapazität im Modell",
    "auslastung": "Auslastung",
    "abdeckung_anteil": "Abdeckung der Stadt (Anteil)",
    "flaeche_m2": "Fläche (m²)",
    "nachfrage": "Nachfrage (Personen)",
    "entfernung_m": "Entfernung zum Standort (m)",
    "abgedeckt": "im Radius erreicht",
    "abdeckbar": "von einem Kandidaten erreichbar",
    "zellen_id": "Zellen-ID",
    "zellen": "Anzahl Nachfragezellen",
    "anteil_erreicht": "Anteil erreicht",
    "nicht_erreicht": "nicht erreichte Nachfrage (Personen)",
    "n_standorte": "Anzahl Standorte",
    "mittlere_entfernung_m": "mittlere Entfernung (m)",
    "versorgung": "Versorgung",
    "ungedeckt": "nicht erreichte Nachfrage (Personen)",
    "anteil_ungedeckt": "Anteil an der nicht erreichten Nachfrage",
    "beitrag_ungedeckt": "Beitrag nicht erreichte Nachfrage",
    "sockel": "Sockelanteil",
    "bedarfsindex": "Bedarfsindex",
    "anteil_gesamt": "Anteil am Budget",
    "betrag_exakt": "Betrag (exakt, €)",
    "betrag": "Betrag (€)",
    "bezirk_label": "Stadtbezirk",
    "lon": "geographische Länge (°)",
    "lat": "geographische Breite (°)",
    "x": "Rechtswert",
    "y": "Hochwert",
}

_SUFFIX_LABELS = (
    ("_ki_unten", "{}: 95-%-Intervall, untere Grenze"),
    ("_ki_oben", "{}: 95-%-Intervall, obere Grenze"),
    ("_null_mittel", "{}: Mittel im Nullmodell"),
    ("_anteil_prozent", "Anteil {} (%)"),
    ("_anteil_gedruckt", "Anteil {} (wie gedruckt)"),
    ("_anzahl", "Anzahl {}"),
    ("_prozent", "{} (%)"),
    ("_p", "{}: p-Wert"),
)


def _words(text: str) -> str:
    words = text.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def field_label(column: str, extra: Mapping[str, str] | None = None) -> str:
    """Return the German label of an exported field (QGIS alias, table header).

    Looked up in ``extra`` (the city's own labels,
    :func:`gis_planning.results.column_labels`), then
    :data:`gis_planning.labels.COLUMN_LABELS`, then :data:`FIELD_LABELS`; otherwise built from
    the name's parts (``xyz_anteil_prozent`` -> "Anteil Xyz (%)",
    ``dissimilaritaet_ki_unten`` -> "Dissimilarität D: 95-%-Intervall, untere Grenze").

    >>> field_label("flaeche_km2"), field_label("isolation_ki_oben")
    ('Fläche (km²)', 'Isolation: 95-%-Intervall, obere Grenze')
    """
    if extra and column in extra:
        return extra[column]
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column]
    if column in FIELD_LABELS:
        return FIELD_LABELS[column]
    if column.lower() in FIELD_LABELS:
        return FIELD_LABELS[column.lower()]
    if column.startswith("lq_"):
        return f"Lokationsquotient ({field_label(column[3:], extra)})"
    for suffix, pattern in _SUFFIX_LABELS:
        if column.endswith(suffix) and len(column) > len(suffix):
            stem = column[: -len(suffix)]
            known = (extra or {}).get(stem) or COLUMN_LABELS.get(stem) or FIELD_LABELS.get(stem)
            if suffix in ("_anteil_prozent", "_anzahl", "_prozent", "_anteil_gedruckt"):
                return pattern.format(known or _words(stem))
            return pattern.format(known or field_label(stem, extra))
    return _words(column)


def _german_name(column: str) -> str:
    if column in FIELD_RENAMES:
        return FIELD_RENAMES[column]
    for old, new in _WORD_RENAMES:
        if old in column:
            column = column.replace(old, new)
    return column


def german_columns(frame: pd.DataFrame, style: LayerStyle | None = None
                   ) -> tuple[pd.DataFrame, LayerStyle | None]:
    """Return ``frame`` with English analysis columns renamed (:data:`FIELD_RENAMES`).

    A column is renamed only if the German name is not taken; the style's class and label
    columns follow the rename.
    """
    geom = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    taken = set(map(str, frame.columns))
    mapping = {}
    for col in map(str, frame.columns):
        new = _german_name(col)
        if col != geom and new != col and new not in taken:
            mapping[col] = new
            taken.add(new)
    if not mapping:
        return frame, style
    out = frame.rename(columns=mapping)
    if style is not None:
        changes = {k: mapping[v] for k in ("column", "label_column")
                   if (v := getattr(style, k)) in mapping}
        if changes:
            style = replace(style, **changes)
    return out, style
