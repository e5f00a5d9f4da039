"""CLI commands over the analysis results (segregation, hotspots, siting, budget)."""

import io
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from gis_planning import InputError, results
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
    assert bad.exit_code == 2 and "nur als .csv" in bad.output


def test_segregation_lokal_geojson(run, tmp_path):
    out = tmp_path / "lq.geojson"
    assert run("segregation", "--lokal", "-o", str(out)).exit_code == 0
    got = gpd.read_file(out)
    assert len(got) == 50 and "lq_herkunft12_anzahl" in got


def test_hotspots_result_has_q_values_and_german_classes(catalog):
    hs = results.compute(catalog, "hotspots")
    assert len(hs) == 50 and hs["gi_q"].between(0, 1).all()
    allowed = {"Hotspot (signifikant, FDR 5 %)", "Kältepunkt (signifikant, FDR 5 %)",
               "nicht signifikant", "zu klein (< 300 Einw.)"}
    assert set(hs["klasse"]) <= allowed
    # a class is significant exactly when its q-value is at most 5 %
    sig = hs["klasse"].str.contains("signifikant, FDR")
    assert (hs.loc[sig, "gi_q"] <= 0.05).all() and (hs.loc[~sig, "gi_q"] > 0.05).all()
    assert (hs["hinweis"] == "auf Basis geschätzter Stadtteilwerte").all()


def test_hotspots_cli(run, tmp_path):
    res = run("hotspots")
    assert res.exit_code == 0, res.output
    assert "gi_q" in res.output and "nicht signifikant" in res.output
    # the summary says how p was obtained and what the smallest attainable q is
    assert ("Inferenz: bedingte Permutation (4.999 Ziehungen); 50 getestete Einheiten; "
            "kleinster erreichbarer q-Wert 0,0100") in res.output
    out = tmp_path / "lisa.geojson"
    res = run("hotspots", "--method", "lisa", "--permutations", "999", "-o", str(out))
    assert res.exit_code == 0, res.output
    assert "kleinster erreichbarer q-Wert 0,0500" in res.output
    got = gpd.read_file(out)
    assert {"lisa_i", "lisa_q", "lisa_q_min", "lisa_p_methode", "klasse", "rate_ki_unten",
            "rate_ki_oben"} <= set(got.columns) and len(got) == 50
    bad = run("hotspots", "--weights", "distance")
    assert bad.exit_code == 2 and "--distance" in bad.output
    # 199 permutations for 50 Stadtteile: the best q is 50/200 = 0.25, so it is refused
    bad = run("hotspots", "--permutations", "199")
    assert bad.exit_code == 2 and "--permutations 999 oder mehr" in bad.output
    res = run("hotspots", "--permutations", "0")
    assert res.exit_code == 0 and "Normalapproximation" in res.output


def test_hotspots_on_a_grid_of_copied_polygon_values_are_refused(run, catalog):
    with pytest.raises(InputError, match="keine unabhängigen Beobachtungen"):
        results.hotspot_layer(catalog, cell_size=2000, weights="distance", distance=2500)
    res = run("hotspots", "--grid", "500", "--weights", "distance", "--distance", "1000")
    assert res.exit_code == 2 and "Zensus-Gitter" in res.output


def test_hotspots_on_a_layer_of_real_cells(tmp_path):
    """A polygon layer whose rows are real cells with their own counts is tested."""
    from gis_planning.data.catalog import Catalog
    from gis_planning.data.schema import SCHEMAS, LayerSchema

    rng = np.random.default_rng(0)
    n = 12
    r, c = np.divmod(np.arange(n * n), n)
    cells = gpd.GeoDataFrame(
        {"zelle": [f"z{i}" for i in range(n * n)], "einwohner": rng.integers(400, 900, n * n)},
        geometry=shapely.box(360_000 + c * 100, 5_700_000 + r * 100, 360_100 + c * 100,
                             5_700_100 + r * 100), crs="EPSG:25832")
    share = np.where((r > 7) & (c > 7), 0.5, 0.15)
    cells["gruppe"] = rng.binomial(cells["einwohner"], share)
    cells.to_file(tmp_path / "gitter.gpkg")
    schema = LayerSchema("zensus_gitter", "Zensus-Gitter (Test)", "Polygon",
                         {"zelle": "str", "einwohner": "int", "gruppe": "int"},
                         source="Test", licence="-", date="2022")
    cat = Catalog.from_paths({"zensus_gitter": tmp_path / "gitter.gpkg"},
                             schemas={**SCHEMAS, "zensus_gitter": schema})
    out = results.hotspot_layer(cat, source="zensus_gitter", column="gruppe",
                                denominator="einwohner", smoothing=None)
    assert len(out) == n * n and out["klasse"].str.startswith("Hotspot").sum() >= 4


def test_atlas_shows_hotspots_with_q_values():
    from gis_planning.outputs.atlas import build_atlas
    from gis_planning.outputs.webmap import layer_group_names

    atlas = build_atlas(basemap=False)
    assert any("Hotspots Gi*" in n for n in layer_group_names(atlas)["Analyse"])
    html = atlas.render(mode="cdn")
    assert "q-Wert (FDR)" in html and "Hotspot (signifikant, FDR 5 %)" in html


def test_status_cli(run, tmp_path):
    res = run("status")
    assert res.exit_code == 0, res.output
    assert "status_class" in res.output and "Stadtkern" in res.output
    out = tmp_path / "status.geojson"
    assert run("status", "--indicator", "herkunft12_anteil_prozent:+1:2", "-o",
               str(out)).exit_code == 0
    got = gpd.read_file(out)
    assert set(got["status_class"].dropna()) <= {"hoch", "mittel", "niedrig", "sehr niedrig"}
    bad = run("status", "--indicator", "nope:+1")
    assert bad.exit_code == 2 and "'nope'" in bad.output
    bad = run("status", "--indicator", "herkunft12_anteil_prozent:2")
    assert bad.exit_code == 2 and "Richtung muss +1 oder -1" in bad.output


def test_siting_demand_from_the_group_keeps_the_seed_total(catalog):
    _, demand = results.siting(catalog, demand="gruppe", cell_size=500)
    assert demand["nachfrage"].sum() == pytest.approx(21287)  # seed's 12-origin total kept
    assert "geschätzte Personen (12 Hauptherkunftsländer)" in demand.attrs["nachfrage"]["text"]
    with pytest.raises(InputError, match="keine Spalte 'nirgends'"):
        results.siting(catalog, demand="zellen:nirgends")


def test_default_siting_scenario(catalog):
    sites = results.compute(catalog, "standorte")
    assert len(sites) == 9 and sorted(sites["bezirk"]) == list(range(1, 10))  # one per Bezirk
    assert sites.crs.to_epsg() == 25832
    cover = results.compute(catalog, "abdeckung_bezirke")
    alloc = results.compute(catalog, "standort_zuordnung")
    per_bezirk, city = cover.iloc[:-1], cover.iloc[-1]
    assert city["bezirk"] == "Stadt" and len(per_bezirk) == 9
    assert per_bezirk["covered_weight"].sum() == pytest.approx(alloc["served_weight"].sum())
    assert city["covered_weight"] == pytest.approx(alloc["served_weight"].sum())
    assert city["coverage_share"] == pytest.approx(
        city["covered_weight"] / city["total_weight"])
    assert per_bezirk["mean_distance"].min() <= city["mean_distance"]
    assert city["mean_distance"] <= per_bezirk["mean_distance"].max()
    # default demand for Essen: Zensus 2011 persons of nationality group "Sonstige Welt"
    cells = catalog.load("zensus2011")
    assert alloc["weight"].sum() == pytest.approx(cells["sonstige_welt"].sum())
    assert "Zensus 2011" in results.meta(catalog, "standorte")["method"]
    # every covered demand cell lies within 800 m of its site
    assert (alloc.loc[alloc["covered"], "distance_m"] <= 800 + 1e-6).all()
    areas = results.compute(catalog, "einzugsbereiche")
    assert len(areas) == 9 and areas.geom_type.isin(["Polygon", "MultiPolygon"]).all()


def test_site_cli(run, tmp_path):
    res = run("site", "--model", "mclp", "--p", "9", "--radius", "800", "--curve", "10",
              "--output-dir", str(tmp_path / "s"))
    assert res.exit_code == 0, res.output
    assert "optimal" in res.output and "zuwachs" in res.output
    assert len(gpd.read_file(tmp_path / "s" / "standorte.geojson")) == 9
    assert len(pd.read_csv(tmp_path / "s" / "abdeckung.csv")) == 10  # 9 Bezirke + Stadt
    res = run("site", "--model", "mclp", "--p", "3")
    assert res.exit_code == 2 and "p" in res.output  # 3 sites cannot serve 9 Bezirke


def test_site_quiet_with_output_dir_prints_nothing(run, tmp_path):
    res = run("-q", "site", "--cell-size", "1000", "--compare-p", "10", "--output-dir",
              str(tmp_path / "q"))
    assert res.exit_code == 0 and res.output == ""
    assert len(gpd.read_file(tmp_path / "q" / "standorte.geojson")) == 9
    res = run("site", "--cell-size", "1000", "--out-dir", str(tmp_path / "alt"))  # hidden alias
    assert res.exit_code == 0 and "geschrieben: " in res.output
    assert (tmp_path / "alt" / "abdeckung.csv").is_file()
    assert "--out-dir" not in run("site", "--help").output


def test_site_curve_and_scenarios_report_progress(run, monkeypatch):
    from gis_planning.cli._options import CatalogState

    seen = []

    def progress(self, iterable, *, desc="", total=None, unit="Schritt"):
        seen.append((desc, total, unit))
        return iter(iterable)

    monkeypatch.setattr(CatalogState, "progress", progress)
    res = run("site", "--cell-size", "1000", "--curve", "10", "--compare-p", "10")
    assert res.exit_code == 0, res.output
    assert ("Szenarien", 2, "Szenario") in seen and ("Abdeckungskurve", 2, "p") in seen
    quiet = run("-q", "site", "--cell-size", "1000", "--curve", "10")
    assert quiet.exit_code == 0 and "Nachfrage:" not in quiet.output  # summaries: not with -q


def test_budget_sums_exactly(run, catalog, tmp_path):
    table = results.budget_table(catalog, total=1_000_000)
    assert table["betrag"].sum() == 1_000_000
    assert (table["betrag"] - table["betrag_exakt"]).abs().max() < 1
    # Bezirk I has the largest 12-origin count and project-flat share in the seed
    assert table["betrag"].idxmax() == 1
    res = run("budget", "--total", "1000000")
    assert res.exit_code == 0 and "Summe: 1.000.000 €" in res.output
    res = run("budget", "--total", "999", "--weight", "herkunft12=1", "-o",
              str(tmp_path / "b.csv"))
    assert res.exit_code == 0
    assert pd.read_csv(tmp_path / "b.csv")["betrag"].sum() == 999
    import io

    res = CliRunner().invoke(cli, ["-q", "budget", "--total", "999", "-o", "-"])
    assert res.exit_code == 0 and res.stderr == ""
    assert pd.read_csv(io.StringIO(res.stdout))["betrag"].sum() == 999
    bad = run("budget", "--weight", "herkunft12")
    assert bad.exit_code == 2 and "TERM=GEWICHT" in bad.output


def test_atlas_has_index_table_and_planning_layers():
    from gis_planning.outputs.atlas import build_atlas
    from gis_planning.outputs.webmap import layer_group_names

    atlas = build_atlas(basemap=False)
    assert any(t == "Segregationsindizes (12 Hauptherkunftsländer)" for t, _ in atlas.tables)
    html = dict(atlas.tables)["Segregationsindizes (12 Hauptherkunftsländer)"]
    assert html.count("<tr>") == 11  # header + city + 9 Bezirke
    assert "Bezirk IX" in html and "geschätzter Stadtteilwerte" in html
    planung = layer_group_names(atlas)["Planung"]
    assert "Begegnungsräume (Vorschlag)" in planung
    assert any("Einzugsbereiche" in n for n in planung)
    assert any("9 Standorte erreichen" in t for _, t in atlas.sources)


def test_existing_meeting_places_are_kept(tmp_path, catalog):
    """A user's begegnungsorte flagged 'besteht' are forced into every solution."""
    from gis_planning.data.catalog import Catalog

    st = catalog.load("stadtteile")
    pt = st.loc[st.stadtteil == "Schuir"].representative_point().iloc[0]  # low demand
    orte = gpd.GeoDataFrame({"name": ["Treff Schuir"], "typ": ["Bürgerzentrum"],
                             "besteht": [True]}, geometry=[pt], crs=st.crs)
    orte.to_file(tmp_path / "orte.gpkg")
    # a planner's pack: the shipped city plus their own meeting places
    (tmp_path / "pack.json").write_text(
        '{"city": "Essen", "extends": "essen", "layers": {"begegnungsorte": "orte.gpkg"}}')
    cat = Catalog.from_file(tmp_path / "pack.json")
    assert cat.load("begegnungsorte")["stadtteil"].tolist() == ["Schuir"]
    result, _ = results.siting(cat, p=9, per_bezirk=False)
    assert "Treff Schuir" in set(result.sites["name"])
    assert result.sites.loc[result.sites["name"] == "Treff Schuir", "fixed"].all()
    assert result.summary.optimal and len(result.sites) == 9


def test_pmedian_scenario_runs(catalog):
    result, _ = results.siting(catalog, model="pmedian", p=9, cell_size=1000)
    assert result.summary.optimal and len(result.sites) == 9
    assert sorted(result.sites["bezirk"]) == list(range(1, 10))


def test_conflicting_or_ignored_options_are_refused(run, tmp_path):
    res = run("segregation", "--lokal", "--distance", "500")
    assert res.exit_code == 2 and "--lokal" in res.output
    res = run("segregation", "--distance", "-5")
    assert res.exit_code == 2
    res = run("hotspots", "--grid", "0")
    assert res.exit_code == 2
    (tmp_path / "sd").mkdir()
    (tmp_path / "sd" / "zuordnung.geojson").write_text("{}")
    res = run("site", "--cell-size", "1000", "--out-dir", str(tmp_path / "sd"))
    assert res.exit_code == 2 and "--overwrite" in res.output
    assert sorted(p.name for p in (tmp_path / "sd").iterdir()) == ["zuordnung.geojson"]


def test_theil_h_with_an_absent_group_in_a_scope():
    from shapely.geometry import box

    from gis_planning.analysis.segregation import global_indices

    cells = gpd.GeoDataFrame(
        {"a": [8, 2, 5, 5], "b": [2, 8, 5, 5], "c": [0, 0, 4, 6], "bz": [1, 1, 2, 2]},
        geometry=[box(i, 0, i + 1, 1) for i in range(4)], crs="EPSG:25832")
    cells["t"] = cells[["a", "b", "c"]].sum(axis=1)
    out = global_indices(cells, group="a", total="t", groups=["a", "b", "c"], by="bz")
    two = global_indices(cells[cells.bz == 1], group="a", total="t", groups=["a", "b"])
    # in Bezirk 1 group c is absent: 0 * ln(1/0) = 0, so H equals H without c (not NaN)
    assert out.loc[1, "theil_h"] == pytest.approx(two.loc["Stadt", "theil_h"])
    assert out.loc[1, "theil_h"] > 0
    assert list(out.index) == ["Stadt", 1, 2]  # Bezirke sorted as numbers


def test_segregation_bandwidth_below_the_stadtteil_spacing_is_refused(run, catalog):
    # no two Stadtteil centroids lie within 500 m: the "spatial" run used to equal the
    # aspatial one byte for byte
    res = run("segregation", "--distance", "500")
    assert res.exit_code == 2
    assert "kleinste Abstand" in res.output and "mindestens --distance 1020" in res.output
    table = results.segregation_table(catalog, distance=3500, n_simulations=0)
    assert (table["bandwidth_m"] == 3500).all() and (table["kernel"] == "triangular").all()
    flat = results.segregation_table(catalog, n_simulations=0)
    assert not np.allclose(table["dissimilarity"], flat["dissimilarity"])
    assert (flat["dissimilarity_random"] > 0).all()  # expected D under random allocation


def test_site_summary_line_is_honest_and_survives_quiet(run):
    res = run("-q", "site", "--model", "pmedian", "--p", "9", "--cell-size", "1000")
    assert res.exit_code == 0, res.output
    first = res.output.splitlines()[0]
    assert first.startswith("p-Median, beweisbar optimal (HiGHS): 9 Standorte; mittlere "
                            "Entfernung")
    assert "größte" in first and "Radius" not in first
    res = run("-q", "site", "--model", "lscp", "--radius", "800", "--cell-size", "1000")
    first = res.output.splitlines()[0]
    assert first.startswith("LSCP, beweisbar optimal") and "erreicht kein Kandidat" in first
    helptext = run("site", "--help").output
    assert "Solved to proven optimality" not in helptext and "heuristisch" in helptext


# -- one voice: --group, -q, -o -, German help -------------------------------------------------

def test_status_on_a_second_group_of_the_pack(run, tmp_path):
    out = tmp_path / "status_nd.geojson"
    res = run("status", "--group", "nichtdeutsche", "-o", str(out))
    assert res.exit_code == 0, res.output
    got = gpd.read_file(out)
    # the index of the second group is built on its own table (Zensus 2011) and share
    assert "z_nichtdeutsche_anteil_prozent" in got and "z_herkunft12_anteil_prozent" not in got
    assert len(got) == 50 and got["status_index"].notna().sum() > 40
    first = run("status", "-o", str(tmp_path / "status.geojson"))
    assert first.exit_code == 0, first.output
    assert "z_herkunft12_anteil_prozent" in gpd.read_file(tmp_path / "status.geojson")
    bad = run("status", "--group", "gibtsnicht")
    assert bad.exit_code == 2 and "gibtsnicht" in bad.output
    bad = run("status", "--group", "nichtdeutsche", "--preset", "mss2021")
    assert bad.exit_code == 2 and "--group" in bad.output


@pytest.mark.parametrize("args", [
    ("segregation", "--simulations", "9", "-o", "{tmp}/seg.csv"),
    ("segregation", "--lokal", "-o", "{tmp}/lq.geojson"),
    ("hotspots", "--group", "nichtdeutsche", "-o", "{tmp}/hs.geojson"),
    ("status", "-o", "{tmp}/status.geojson"),
])
def test_quiet_prints_nothing_when_writing_a_file(args, tmp_path):
    args = [a.format(tmp=tmp_path) for a in args]
    res = CliRunner().invoke(cli, ["-q", *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert res.stdout == "" and res.stderr == ""
    assert (tmp_path / args[-1].rsplit("/", 1)[-1]).stat().st_size > 0
    # without -q the same command says what it wrote
    loud = CliRunner().invoke(cli, [*args, "--overwrite"], catch_exceptions=False)
    assert loud.exit_code == 0 and "geschrieben:" in loud.stdout


def test_output_dash_writes_csv_or_geojson_to_stdout(tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli, ["segregation", "--simulations", "0", "-o", "-"],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.stderr
    table = pd.read_csv(io.StringIO(res.stdout))
    assert len(table) == 10 and table.loc[0, "scope"] == "Stadt"
    assert "geschrieben" not in res.stdout
    res = runner.invoke(cli, ["hotspots", "--group", "nichtdeutsche", "-o", "-"],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)  # only GeoJSON on stdout; the summary went to stderr
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 50
    assert "crs" not in doc  # RFC 7946: WGS84 without a crs member
    lon, lat = doc["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 6.8 < lon < 7.2 and 51.3 < lat < 51.6
    assert "Inferenz:" in res.stderr
    got = gpd.read_file(io.StringIO(res.stdout))
    assert "gi_q" in got and got.crs.to_epsg() == 4326
    res = runner.invoke(cli, ["-q", "status", "--group", "nichtdeutsche", "-o", "-"],
                        catch_exceptions=False)
    assert res.exit_code == 0 and res.stderr == ""
    assert len(json.loads(res.stdout)["features"]) == 50


def test_output_dash_still_runs_the_privacy_guard(monkeypatch):
    from gis_planning import privacy
    from gis_planning.cli import _tables

    seen = []
    monkeypatch.setattr(privacy, "guard", lambda frame, what="": seen.append(what))
    _tables.write_frame(pd.DataFrame({"a": [1]}), "-", overwrite=False)
    assert seen == ["Ausgabe auf die Standardausgabe"]


_ENGLISH = re.compile(r"\b(the|and|with|of|write|writes|file|default|instead|random|seed "
                      r"for|per unit|local|also|units|column|layer|table|for none)\b")


@pytest.mark.parametrize("command", ["segregation", "hotspots", "status"])
def test_help_has_no_english_words(run, command):
    text = run(command, "--help").output
    # click's own frame (usage line, section title, the --help line) is not ours
    body = text.split("Optionen:", 1)
    head, options = body[0], body[1]
    head = "\n".join(line for line in head.splitlines() if not line.startswith("Aufruf:")
                     and not line.strip().startswith("gis-planning"))
    options = "\n".join(line for line in options.splitlines() if "--help" not in line)
    options = re.sub(r"^\s*(-\w, )?--[\w-]+( [A-Z|\[\]:]+)?", "", options, flags=re.M)
    # option names and choices quoted in the text (--layer, 'auto') are names, not words
    found = _ENGLISH.findall(re.sub(r"--[\w-]+|\[[\w|]+\]", "", head + "\n" + options))
    assert not found, f"English in '{command} --help': {found}"
    assert "Beispiele:" in text and "Standard" in text


def test_library_loops_report_progress_through_the_callable():
    from shapely.geometry import box

    from gis_planning.analysis._permutation import permutation_pvalues
    from gis_planning.analysis.segregation import global_indices
    from gis_planning.analysis.weights import as_weights

    calls = []

    def spy(iterable, *, desc="", total=None, unit=""):
        calls.append((desc, total, unit))
        return iterable

    cells = gpd.GeoDataFrame(
        {"a": [8, 2, 5, 5], "t": [10, 10, 10, 10], "bz": [1, 1, 2, 2]},
        geometry=[box(i, 0, i + 1, 1) for i in range(4)], crs="EPSG:25832")
    global_indices(cells, group="a", total="t", by="bz", n_simulations=9, seed=0,
                   progress=spy)
    assert calls == [("Simulationen", 3, "Gebiet")]
    calls.clear()
    global_indices(cells, group="a", total="t", by="bz", progress=spy)
    assert calls == []  # nothing slow to report without simulations
    grid = gpd.GeoDataFrame(geometry=[box(x, y, x + 1, y + 1) for x in range(6)
                                      for y in range(6)], crs="EPSG:25832")
    w = as_weights(grid, "queen")
    values = np.arange(36, dtype=float)
    plain = permutation_pvalues(values, w, permutations=99, method="direct")
    seen = permutation_pvalues(values, w, permutations=99, method="direct", progress=spy)
    assert calls and calls[0][0] == "Permutationen"
    np.testing.assert_array_equal(plain, seen)  # progress never changes the result
