"""Atomic outputs: temporary folder, fsync, rename; overwrite and input protection; SIGKILL."""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from gis_planning import InputError, OutputExistsError
from gis_planning._atomic import (
    TMP_SUFFIX,
    atomic_path,
    forget_inputs,
    registered_inputs,
    stale_temporaries,
)
from gis_planning.data.io import read_file, write_layer

PACKAGE = Path(__file__).resolve().parents[1] / "gis_planning"


def _pts(n=3):
    return gpd.GeoDataFrame({"name": [f"K{i}" for i in range(n)]},
                            geometry=[Point(362000 + i, 5701000) for i in range(n)],
                            crs="EPSG:25832")


def test_success_leaves_only_target(tmp_path):
    out = tmp_path / "a.txt"
    with atomic_path(out) as tmp:
        assert tmp.name == "a.txt" and tmp.parent != tmp_path  # same name, hidden folder
        assert tmp.parent.name.startswith(".a.txt.") and tmp.parent.name.endswith(TMP_SUFFIX)
        tmp.write_text("neu")
        assert not out.exists()
    assert out.read_text() == "neu"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_exception_keeps_old_file(tmp_path):
    out = tmp_path / "a.txt"
    out.write_text("alt")
    with pytest.raises(RuntimeError), atomic_path(out, overwrite=True) as tmp:
        tmp.write_text("halb")
        raise RuntimeError("abgebrochen")
    assert out.read_text() == "alt"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_overwrite_needed(tmp_path):
    out = tmp_path / "a.geojson"
    write_layer(_pts(), out)
    before = out.read_bytes()
    with pytest.raises(OutputExistsError, match="--overwrite"):
        write_layer(_pts(5), out)
    assert out.read_bytes() == before
    write_layer(_pts(5), out, overwrite=True)
    assert len(read_file(out)) == 5


def test_output_equal_to_input_refused(tmp_path):
    src = tmp_path / "kitas.gpkg"
    _pts().to_file(src)
    gdf = read_file(src)  # registers src as an input
    assert str(src.resolve()) in registered_inputs()
    with pytest.raises(InputError, match="is also an input"):
        write_layer(gdf, src, overwrite=True)
    with pytest.raises(InputError, match="is also an input"):
        write_layer(gdf, tmp_path / "." / "kitas.gpkg", overwrite=True)
    other = tmp_path / "x.geojson"
    with pytest.raises(InputError, match="is also an input"):
        write_layer(gdf, other, inputs=(other,))
    assert len(gpd.read_file(src)) == 3
    forget_inputs()
    write_layer(gdf, src, overwrite=True)  # allowed once forgotten


def test_missing_folder_and_empty_name(tmp_path):
    with pytest.raises(InputError, match="does not exist .or is a file.; create it"):
        write_layer(_pts(), tmp_path / "nein" / "a.geojson")
    with pytest.raises(InputError, match="names no file"), atomic_path(""):
        pass


def test_nothing_written_is_an_error(tmp_path):
    with pytest.raises(InputError, match="nothing was written"), atomic_path(tmp_path / "a"):
        pass
    assert list(tmp_path.iterdir()) == []


def test_directory_output_replaced(tmp_path):
    out = tmp_path / "geojson"
    for n in (1, 2):
        with atomic_path(out, overwrite=True) as tmp:
            tmp.mkdir()
            (tmp / f"{n}.geojson").write_text(str(n))
    assert [p.name for p in out.iterdir()] == ["2.geojson"]
    assert [p.name for p in tmp_path.iterdir()] == ["geojson"]


def test_stale_temporaries_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    stale = tmp_path / f".a.txt.abc123.{pid}{TMP_SUFFIX}"
    stale.mkdir()
    (stale / "a.txt").write_text("halb")
    alive = tmp_path / f".a.txt.def456.{os.getpid()}{TMP_SUFFIX}"
    alive.mkdir()
    assert stale_temporaries(tmp_path, name="a.txt") == [stale]
    with atomic_path(tmp_path / "a.txt") as tmp:
        tmp.write_text("ok")
    assert not stale.exists() and alive.exists()


# -- every writer in the package goes through atomic_path ------------------------------------

WRITE_METHODS = {"to_file", "to_csv", "to_parquet", "to_feather", "to_excel", "write_text",
                 "write_bytes", "savefig", "to_json", "to_html", "save"}


def _writes_a_file(call: ast.Call) -> bool:
    f = call.func
    name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
    has_target = bool(call.args) or any(k.arg in ("path", "path_or_buf", "fp", "filename")
                                        for k in call.keywords)
    if call.args and "devnull" in ast.unparse(call.args[0]):
        return False
    if name == "open":
        modes = [a.value for a in call.args[1:2] if isinstance(a, ast.Constant)]
        modes += [k.value.value for k in call.keywords
                  if k.arg == "mode" and isinstance(k.value, ast.Constant)]
        return any(isinstance(m, str) and set(m) & set("wax") for m in modes)
    return name in WRITE_METHODS and has_target and name != "save"


def _atomic_withs(tree: ast.AST) -> list[tuple[int, int]]:
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, ast.With):
            for item in node.items:
                c = item.context_expr
                if isinstance(c, ast.Call) and "atomic_path" in ast.unparse(c.func):
                    spans.append((node.lineno, node.end_lineno))
    return spans


def test_every_writer_uses_atomic_path():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "static" in path.parts:
            continue
        src = path.read_text(encoding="utf-8")
        tree = ast.parse(src)
        spans = _atomic_withs(tree)
        lines = src.splitlines()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _writes_a_file(node):
                line = lines[node.lineno - 1]
                if "atomic: not a file" in line or path.name == "_atomic.py":
                    continue
                if not any(a <= node.lineno <= b for a, b in spans):
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {line.strip()}")
    assert not offenders, "writes outside atomic_path:\n" + "\n".join(offenders)


# -- kill -9 during a large export -------------------------------------------------------------

CLI = [sys.executable, "-c", "from gis_planning.cli import main; main()"]


def _export(catalog: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [*CLI, "--catalog", str(catalog), "layers", "export", "kitas", "--format", "geojson",
         "-o", str(out), "--overwrite"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def big_catalog(tmp_path_factory):
    d = tmp_path_factory.mktemp("gross")
    rng = np.random.default_rng(7)
    n = 60_000
    gdf = gpd.GeoDataFrame(
        {"kita_id": np.arange(n), "name": [f"Kita {i}" for i in range(n)]},
        geometry=gpd.points_from_xy(rng.uniform(355000, 370000, n),
                                    rng.uniform(5695000, 5710000, n)),
        crs="EPSG:25832",
    )
    gdf.to_file(d / "kitas.gpkg", engine="pyogrio")
    gdf.iloc[:10].to_file(d / "klein.gpkg", engine="pyogrio")
    (d / "gross.json").write_text(json.dumps({"layers": {"kitas": "kitas.gpkg"}}))
    (d / "klein.json").write_text(json.dumps({"layers": {"kitas": "klein.gpkg"}}))
    return d


def test_kill_during_export_leaves_old_or_new(big_catalog, tmp_path):
    out = tmp_path / "kitas.geojson"
    ref = tmp_path / "ref"
    ref.mkdir()
    assert _export(big_catalog / "gross.json", ref / "kitas.geojson").wait(120) == 0
    new = (ref / "kitas.geojson").read_bytes()
    assert _export(big_catalog / "klein.json", out).wait(120) == 0
    old = out.read_bytes()
    assert old != new

    outcomes = []
    # None: kill early (while importing/loading); numbers: seconds after the temporary
    # folder appeared (the write is under way).
    for delay in (None, 0.0, 0.05, 0.2, 0.5):
        proc = _export(big_catalog / "gross.json", out)
        t0 = time.monotonic()
        if delay is None:
            time.sleep(0.4)
        else:
            while proc.poll() is None and not list(tmp_path.glob(f".*{TMP_SUFFIX}")):
                if time.monotonic() - t0 > 60:
                    break
                time.sleep(0.002)
            time.sleep(delay)
        finished = proc.poll() is not None
        if not finished:
            proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        data = out.read_bytes()
        assert data in (old, new), f"broken output after kill at {delay}"
        outcomes.append((delay, finished, data == new))
        visible = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
        assert visible == ["kitas.geojson", "ref"], visible  # nothing that looks like an output
        if data == new:  # restore the old file for the next round
            out.write_bytes(old)
    assert any(not fin for _, fin, _ in outcomes), outcomes  # at least one real kill
    # The next successful run removes what killed runs left behind.
    assert _export(big_catalog / "gross.json", out).wait(120) == 0
    assert out.read_bytes() == new
    assert not list(tmp_path.glob(f".*{TMP_SUFFIX}"))
    assert len(gpd.read_file(out)) == 60_000
