import pytest

from gis_planning._names import match_key, match_name, suggest
from gis_planning.data.sources.essen import STADTTEIL_ALIASES

REF = ["Altenessen-Süd", "Altenessen-Nord", "Borbeck-Mitte", "Bergeborbeck",
       "Überruhr-Holthausen", "Überruhr-Hinsel", "Margarethenhöhe", "Stadtkern"]


@pytest.mark.parametrize(
    ("given", "matched", "kind"),
    [
        ("Stadtkern", "Stadtkern", "exakt"),
        ("Altenessen Süd", "Altenessen-Süd", "schreibweise"),
        ("altenessen-sued", "Altenessen-Süd", "schreibweise"),
        ("Überruhr-Holtha.", "Überruhr-Holthausen", "abgekuerzt"),
        ("Berbeborbeck", "Bergeborbeck", "tippfehler"),
        ("Borbeck", "Borbeck-Mitte", "alias"),
        ("Margaretenhöhe", "Margarethenhöhe", "alias"),
        ("Altenessen", None, "unbekannt"),
        ("Gotham", None, "unbekannt"),
    ],
)
def test_match_name(given, matched, kind):
    m = match_name(given, REF, aliases=STADTTEIL_ALIASES)
    assert (m.matched, m.kind) == (matched, kind)


def test_ambiguous_name_suggests_both():
    m = match_name("Altenessen", REF)
    assert set(m.suggestions) == {"Altenessen-Süd", "Altenessen-Nord"}


def test_match_key_keeps_values_distinct():
    assert match_key("Überruhr-Hinsel") != match_key("Überruhr-Holthausen")
    assert match_key("Straße") == match_key("strasse")


def test_suggest():
    assert suggest("Altenessen Sud", REF)[0] == "Altenessen-Süd"
