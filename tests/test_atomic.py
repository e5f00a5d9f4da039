"""Atomic outputs: temporary folder, fsync, rename; overwrite and input protection; SIGKILL."""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from gis_planning import InputError, OutputExistsError, OutputWriteError
from gis_planning._atomic import (
    MANIFEST,
    TMP_SUFFIX,
    atomic_folder,
    atomic_path,
    check_output_folder,
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
    with pytest.raises(InputError, match="zugleich eine Eingabe"):
        write_layer(gdf, src, overwrite=True)
    with pytest.raises(InputError, match="zugleich eine Eingabe"):
        write_layer(gdf, tmp_path / "." / "kitas.gpkg", overwrite=True)
    other = tmp_path / "x.geojson"
    with pytest.raises(InputError, match="zugleich eine Eingabe"):
        write_layer(gdf, other, inputs=(other,))
    assert len(gpd.read_file(src)) == 3
    forget_inputs()
    write_layer(gdf, src, overwrite=True)  # allowed once forgotten


def test_missing_folder_and_empty_name(tmp_path):
    with pytest.raises(InputError, match="existiert nicht .oder ist eine Datei.; legen Sie ihn"):
        write_layer(_pts(), tmp_path / "nein" / "a.geojson")
    with pytest.raises(InputError, match="nennt keine Datei"), atomic_path(""):
        pass


def test_nothing_written_is_an_error(tmp_path):
    with pytest.raises(InputError, match="wurde nichts geschrieben"), atomic_path(tmp_path / "a"):
        pass
    assert list(tmp_path.iterdir()) == []


def test_directory_output_replaced(tmp_path):
    out = tmp_path / "geojson"
    for n in (1, 2):
        with atomic_path(out, overwrite=True) as tmp:
            tmp.mkdir()
            (tmp / f"{n}.geojson").write_text(str(n))
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "2.geojson"]  # no stale 1
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
                if isinstance(c, ast.Call) and re.search(r"atomic_(path|folder)",
                                                         ast.unparse(c.func)):
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


# -- issue 14.5: exclusive writes, whole folders, clear write errors ---------------------------


def test_no_overwrite_is_exclusive(tmp_path):
    """A file that appears while the writer runs is kept; the late writer is refused."""
    out = tmp_path / "a.txt"
    with pytest.raises(OutputExistsError, match="existiert bereits .eben von einem anderen"):
        with atomic_path(out) as tmp:
            tmp.write_text("zweiter")
            out.write_text("erster")  # the other process finishes first
    assert out.read_text() == "erster"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    with pytest.raises(OutputExistsError, match="existiert bereits"):
        with atomic_folder(tmp_path / "satz") as tmp:
            (tmp / "x.csv").write_text("1")
            (tmp_path / "satz").mkdir()
            (tmp_path / "satz" / "fremd.txt").write_text("anderer")
    assert [p.name for p in (tmp_path / "satz").iterdir()] == ["fremd.txt"]


_RACER = """
import sys, time
from pathlib import Path
from gis_planning._atomic import atomic_path
from gis_planning._errors import OutputExistsError
out, me, other = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
try:
    with atomic_path(out) as tmp:           # both pass the up-front check ...
        tmp.write_text(me * 100000)
        (out.parent / f"bereit_{me}").touch()
        t0 = time.monotonic()
        while not (out.parent / f"bereit_{other}").exists() and time.monotonic() - t0 < 30:
            time.sleep(0.001)               # ... and finish at the same moment
except OutputExistsError as exc:
    print("abgelehnt:", exc)
    sys.exit(2)
print("geschrieben")
"""


@pytest.mark.slow
def test_two_racing_processes_one_wins_one_is_told(tmp_path):
    """Issue 14.6: two writers without --overwrite both succeeded and one result was lost."""
    for round_ in range(3):
        d = tmp_path / str(round_)
        d.mkdir()
        out = d / "ergebnis.txt"
        procs = [subprocess.Popen([sys.executable, "-c", _RACER, str(out), me, other],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for me, other in (("A", "B"), ("B", "A"))]
        res = []
        for p in procs:
            stdout, _ = p.communicate(timeout=60)
            res.append((p.returncode, stdout))
        codes = sorted(c for c, _ in res)
        assert codes == [0, 2], res
        winner = "A" if res[0][0] == 0 else "B"
        assert out.read_text() == winner * 100000  # the winner's result, whole
        loser = res[1][1] if winner == "A" else res[0][1]
        assert "existiert bereits" in loser
        assert sorted(p.name for p in d.iterdir()) == ["bereit_A", "bereit_B", "ergebnis.txt"]


def test_atomic_folder_replaces_the_whole_set(tmp_path):
    out = tmp_path / "satz"
    with atomic_folder(out) as tmp:
        for n in ("a.geojson", "b.geojson", "c.csv"):
            (tmp / n).write_text(n)
        assert not out.exists()
    assert json.loads((out / MANIFEST).read_text())["dateien"] == ["a.geojson", "b.geojson",
                                                                   "c.csv"]
    with pytest.raises(OutputExistsError, match="existiert bereits und ist nicht leer.*"
                                                "--overwrite"):
        check_output_folder(out)
    with atomic_folder(out, overwrite=True) as tmp:
        (tmp / "a.geojson").write_text("neu")
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "a.geojson"]  # b, c gone
    assert [p.name for p in tmp_path.iterdir()] == ["satz"]
    # an error keeps the old set, whole
    with pytest.raises(RuntimeError), atomic_folder(out, overwrite=True) as tmp:
        (tmp / "x.csv").write_text("halb")
        raise RuntimeError("abgebrochen")
    assert (out / "a.geojson").read_text() == "neu"
    assert [p.name for p in tmp_path.iterdir()] == ["satz"]
    # an empty folder made by the user is fine; files gis-planning did not write are not
    empty = tmp_path / "leer"
    empty.mkdir()
    with atomic_folder(empty) as tmp:
        (tmp / "a.csv").write_text("1")
    assert (empty / "a.csv").exists()
    (out / "eigene_notiz.txt").write_text("wichtig")
    with pytest.raises(OutputExistsError, match="1 Datei.en., die nicht von gis-planning "
                                                "stammen .eigene_notiz.txt."):
        with atomic_folder(out, overwrite=True) as tmp:
            (tmp / "a.geojson").write_text("neu")
    assert (out / "eigene_notiz.txt").read_text() == "wichtig"
    # a folder holding an input is never replaced
    src = tmp_path / "eingabe"
    src.mkdir()
    _pts().to_file(src / "kitas.gpkg")
    read_file(src / "kitas.gpkg")
    with pytest.raises(InputError, match="enthält die Eingabe"):
        check_output_folder(src, overwrite=True, names=["kitas.gpkg"])
    forget_inputs()
    with pytest.raises(InputError, match="ist eine Datei, kein Ordner"):
        check_output_folder(src / "kitas.gpkg")


def test_write_errors_are_one_german_line(tmp_path, monkeypatch):
    """Full disk, read-only folder, missing permission: clear message, nothing left."""
    import errno as errno_mod
    import tempfile

    out = tmp_path / "a.geojson"
    out.write_text("alt")
    cases = [
        (OSError(errno_mod.ENOSPC, "No space left on device"), "Kein Platz mehr"),
        (RuntimeError("Failed to write: No space left on device"), "Kein Platz mehr"),
        (OSError(errno_mod.EROFS, "Read-only file system"), "schreibgeschützt"),
        (PermissionError(errno_mod.EACCES, "Permission denied"), "Keine Schreibberechtigung"),
    ]
    for exc, pattern in cases:
        with pytest.raises(OutputWriteError, match=pattern) as info:
            with atomic_path(out, overwrite=True) as tmp:
                tmp.write_text("halb")
                raise exc
        msg = str(info.value)
        assert "\n" not in msg and "a.geojson" in msg and "bisherige Ausgabe ist unverändert" in msg
        assert out.read_text() == "alt" and [p.name for p in tmp_path.iterdir()] == ["a.geojson"]

    def no_right(*args, **kwargs):
        raise PermissionError(errno_mod.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkdtemp", no_right)
    with pytest.raises(OutputWriteError, match="Keine Schreibberechtigung für den Ordner"):
        write_layer(_pts(), tmp_path / "b.geojson")


def _namespace(script: str) -> subprocess.CompletedProcess:
    """Run ``script`` as root of a new user and mount namespace (tmpfs mounts of our own)."""
    try:
        res = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                              script], capture_output=True, text=True, timeout=120)
    except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"unshare not usable: {exc}")
    if "MOUNT_FAILED" in res.stdout or (res.returncode == 1 and "unshare" in res.stderr):
        pytest.skip(f"no tmpfs in a user namespace here: {res.stderr.strip()}")
    return res


_GP = f"{sys.executable} -c 'from gis_planning.cli import main; main()'"


@pytest.mark.parametrize("command", [
    "layers export kitas --format geojson -o {d}/kitas.geojson",
    pytest.param("export --geojson {d}/satz --layer kitas --layer stadtteile",
                 marks=pytest.mark.slow),
    "raster distance --cell-size 250 -o {d}/entfernung.tif",
    pytest.param("export --gpkg {d}/alles.gpkg --layer kitas --layer stadtteile",
                 marks=pytest.mark.slow),
    "query 'SELECT name, stadtteil FROM kitas' -o {d}/abfrage.csv",
    pytest.param("atlas --out {d}/atlas.html --no-basemap --cdn", marks=pytest.mark.slow),
])
def test_full_disk_one_line_nothing_left(tmp_path, command):
    """A 24 kB tmpfs fills up: one German line, exit 2, no file or temporary left."""
    d = tmp_path / "voll"
    d.mkdir()
    script = (f"mount -t tmpfs -o size=24k tmpfs {d} || {{ echo MOUNT_FAILED; exit 0; }}; "
              f"{_GP} {command.format(d=d)}; echo EXIT=$?; ls -A {d}")
    res = _namespace(script)
    lines = res.stderr.strip().splitlines()
    assert "EXIT=2" in res.stdout, (res.stdout, res.stderr)
    assert res.stdout.strip().splitlines()[-1] == "EXIT=2", res.stdout  # folder left empty
    assert "Traceback" not in res.stderr
    err = [ln for ln in lines if ln.startswith("Fehler:")]
    assert len(err) == 1 and "Kein Platz mehr auf dem Datenträger" in err[0], res.stderr


def test_read_only_folder_one_line(tmp_path):
    d = tmp_path / "nurlesen"
    d.mkdir()
    script = (f"mount -t tmpfs tmpfs {d} && mount -o remount,ro,bind {d} || "
              f"{{ echo MOUNT_FAILED; exit 0; }}; "
              f"{_GP} layers export kitas --format geojson -o {d}/kitas.geojson; echo EXIT=$?")
    res = _namespace(script)
    assert "EXIT=2" in res.stdout, (res.stdout, res.stderr)
    assert res.stderr.strip().splitlines() == [
        f"Fehler: Der Ordner '{d}' ist schreibgeschützt (nur lesbares Dateisystem): "
        f"'kitas.geojson' wurde nicht geschrieben. Wählen Sie einen beschreibbaren Ordner für "
        f"die Ausgabe."]


def test_missing_permission_one_line():
    import shutil
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="gp-rechte-"))
    try:
        if os.geteuid() == 0:  # root may write anywhere: run as nobody
            d.chmod(0o755)
            if shutil.which("setpriv") is None:
                pytest.skip("setpriv missing")
            prefix = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
        else:
            d.chmod(0o555)
            prefix = []
        res = subprocess.run([*prefix, *CLI, "layers", "export", "kitas", "--format",
                              "geojson", "-o", str(d / "kitas.geojson")],
                             capture_output=True, text=True, timeout=120)
        assert res.returncode == 2, res.stderr
        assert res.stderr.strip().splitlines()[-1] == (
            f"Fehler: Keine Schreibberechtigung für den Ordner '{d}': 'kitas.geojson' wurde "
            f"nicht geschrieben. Wählen Sie einen anderen Ordner oder lassen Sie sich "
            f"Schreibrechte geben.")
        assert list(d.iterdir()) == []
    finally:
        d.chmod(0o755)
        shutil.rmtree(d)


def _export_folder(catalog: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([*CLI, "--catalog", str(catalog), "export", "--geojson", str(out),
                             "--overwrite"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.slow
def test_kill_during_folder_export_leaves_old_or_new_set(big_catalog, tmp_path):
    """SIGKILL during `export --geojson DIR --overwrite`: the folder is the old set or the new
    set, file for file, never a mix; the next run cleans up."""
    out = tmp_path / "geojson"
    ref = tmp_path / "ref"
    assert _export_folder(big_catalog / "gross.json", ref).wait(180) == 0
    new = _snapshot(ref)
    assert _export_folder(big_catalog / "klein.json", out).wait(180) == 0
    old = _snapshot(out)
    assert old != new and set(old) == set(new)
    outcomes = []
    for delay in (None, 0.0, 0.1, 0.4):
        proc = _export_folder(big_catalog / "gross.json", out)
        t0 = time.monotonic()
        if delay is None:
            time.sleep(0.4)
        else:
            while proc.poll() is None and not list(tmp_path.glob(f".*{TMP_SUFFIX}")):
                if time.monotonic() - t0 > 90:
                    break
                time.sleep(0.002)
            time.sleep(delay)
        finished = proc.poll() is not None
        if not finished:
            proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        now = _snapshot(out)
        assert now in (old, new), f"mixed set after kill at {delay}: {sorted(now)}"
        outcomes.append((delay, finished, now == new))
        visible = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
        assert visible == ["geojson", "ref"], visible
        if now == new:
            assert _export_folder(big_catalog / "klein.json", out).wait(180) == 0
    assert any(not fin for _, fin, _ in outcomes), outcomes
    assert _export_folder(big_catalog / "gross.json", out).wait(180) == 0
    assert _snapshot(out) == new
    assert not list(tmp_path.glob(f".*{TMP_SUFFIX}"))


def test_site_out_dir_all_or_nothing(tmp_path, monkeypatch):
    """Issue 14.6: `site --out-dir` left a partial set when a later file failed."""
    from click.testing import CliRunner

    from gis_planning.cli import cli
    from gis_planning.data import io as io_mod

    real = io_mod.write_layer
    calls = {"n": 0}

    def third_fails(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("Schreibfehler")
        return real(*args, **kwargs)

    monkeypatch.setattr(io_mod, "write_layer", third_fails)  # write_frame imports it per call
    out = tmp_path / "standorte"
    res = CliRunner().invoke(cli, ["site", "--cell-size", "1000", "--out-dir", str(out)])
    assert isinstance(res.exception, RuntimeError)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_two_racing_cli_exports(tmp_path):
    """The CLI itself: two `layers export` to one path without --overwrite, three rounds."""
    for round_ in range(3):
        out = tmp_path / f"kitas_{round_}.geojson"
        procs = [subprocess.Popen([*CLI, "layers", "export", "kitas", "--format", "geojson",
                                   "-o", str(out)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        res = [(p.returncode, err) for p in procs for _, err in [p.communicate(timeout=120)]]
        assert sorted(c for c, _ in res) == [0, 2], res
        assert "existiert bereits" in next(err for c, err in res if c == 2)
        assert len(gpd.read_file(out)) == 312  # the winner's file, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"kitas_{i}.geojson" for i in range(3)]
