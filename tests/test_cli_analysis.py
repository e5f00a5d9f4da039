"""CLI commands over the analysis results (segregation, hotspots, siting, budget)."""

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

from gis_planning import results
from gis_planning.cli import cli


@pytest.fixture
def run():
    runner = CliRunner()
    return lambda *a: runner.invoke(cli, list(a), catch_exceptions=False)


def test_segregation_table_reproduces_seed_totals(catalog):
    table = results.segregation_table(catalog, n_simulations=0)
    city = table.set_index("scope").loc["Stadt"]
    assert city["total"] == 588875 and city["group_total"] == 21287  # seed Bezirk sums
    assert (table["hinweis"] == "auf Basis geschätzter Stadtteilwerte").all()
    assert 0 <= city["dissimilarity"] <= 1
    assert len(table) == 10


def test_segregation_cli_prints_and_writes(run, tmp_path):
    res = run("segregation", "--simulations", "9")
    assert res.exit_code == 0, res.output
    assert "dissimilarity" in res.output and "588.875" in res.output
    out = tmp_path / "seg.csv"
    assert run("segregation", "--simulations", "0", "-o", str(out)).exit_code == 0
    assert len(pd.read_csv(out)) == 10
    bad = run("segregation", "-o", str(tmp_path / "seg.geojson"))
    assert bad.exit_code == 2 and "only be written as .csv" in bad.output


def test_segregation_lokal_geojson(run, tmp_path):
    out = tmp_path / "lq.geojson"
    assert run("segregation", "--lokal", "-o", str(out)).exit_code == 0
    got = gpd.read_file(out)
    assert len(got) == 50 and "lq_herkunft12_anzahl" in got
