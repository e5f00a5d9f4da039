"""Berlin, the second shipped city: every command runs on its pack, nothing says Essen.

Berlin's analysis unit is the LOR Planungsraum (542 inside 12 Bezirke, codes as text with
leading zeros), its CRS EPSG:25833, its groups "Ausländerinnen und Ausländer" and
"Einwohnerinnen und Einwohner mit Migrationshintergrund" from the register tables of
30.06.2022 and 31.12.2022 (the later one is the default).
"""

from __future__ import annotations

import re
import warnings

import pytest
from click.testing import CliRunner
from scan_util import essen_texts_in

from gis_planning import results
from gis_planning.cli import cli
from gis_planning.data.catalog import load_city


@pytest.fixture(scope="module")
def berlin():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the data's own defects, reported by the loaders
        cat = load_city("berlin")
        for name in cat.names():
            cat.load(name)
        cat.table("bevoelkerung")
    return cat


def test_pack_units_and_groups(berlin):
    st = berlin.load("stadtteile")
    assert len(st) == 542 and st.crs.to_epsg() == 25833
    assert st["stadtteil_nr"].str.len().eq(8).all() and st["bezirk"].str.len().eq(2).all()
    assert berlin.unit.label_plural == "Planungsräume"
    assert berlin.group_names() == ["auslaender", "migrationshintergrund"]
    assert berlin.table_dates("bevoelkerung") == ["2022-06-30", "2022-12-31"]
    assert berlin.table("bevoelkerung")["einwohner"].sum() == 3_850_809
    with pytest.warns(UserWarning, match="weniger als 300 Einwohner"):
        old = berlin.table("bevoelkerung", date="2022-06-30")
    assert old["auslaender"].sum() == 863_095
    labels = berlin.bezirk_labels()
    assert labels["08"] == "Neukölln" and len(labels) == 12


def test_bezirk_values_are_the_provenance_shares(berlin):
    bz = results.bezirk_values(berlin).set_index("bezirk")
    share = bz["auslaender_anteil_prozent"].round(1)
    assert share["01"] == 36.7 and share["09"] == 14.8 and share["08"] == 27.6


def test_default_siting_places_one_site_per_bezirk(berlin):
    sites = results.compute(berlin, "standorte")
    assert len(sites) == 12 and sorted(sites["bezirk"]) == sorted(berlin.bezirk_labels())


@pytest.mark.slow
def test_every_command_runs_on_berlin_and_nothing_mentions_essen(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    commands = [
        ["atlas", "-o", str(out / "atlas.html"), "--no-basemap"],
        ["segregation", "--simulations", "19", "-o", str(out / "seg.csv")],
        ["segregation", "--group", "migrationshintergrund", "--simulations", "0"],
        ["hotspots", "-o", str(out / "hot.gpkg")],
        ["hotspots", "--method", "lisa", "--group", "migrationshintergrund"],
        ["status", "-o", str(out / "status.geojson")],
        ["site", "--cell-size", "500", "--out-dir", str(out / "site")],
        ["budget", "-o", str(out / "budget.csv")],
        ["export", "--gpkg", str(out / "berlin.gpkg"), "--geojson", str(out / "geojson")],
        ["raster", "all", "--dir", str(out / "raster"), "--cell-size", "250"],
        ["query", "SELECT bezirk, sum(auslaender) AS a FROM bevoelkerung GROUP BY bezirk",
         "-o", str(out / "q.csv")],
        ["filter", "kitas", "--within", "bezirk = '08'", "-o", str(out / "kitas08.geojson")],
        ["layers", "show", "kitas"],
    ]
    runner = CliRunner()
    for args in commands:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = runner.invoke(cli, ["--city", "berlin", *args], catch_exceptions=False)
        assert res.exit_code == 0, (args, res.output)
        assert not re.search(r"\bEssen\b|Schätzung", res.output), args
    html = (out / "atlas.html").read_text(encoding="utf-8")
    assert "<title>Integrationsatlas Berlin</title>" in html
    assert "Anteil Ausländerinnen und Ausländer je Planungsraum" in html
    assert (out / "raster" / "entfernung.tif").exists()  # no census cells for Berlin yet
    assert essen_texts_in(out) == []
