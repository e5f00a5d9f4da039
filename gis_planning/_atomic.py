"""Atomic outputs: files and whole folders appear complete or not at all.

An interrupted write (an exception, Ctrl-C, a full disk, even ``kill -9``) leaves either the
old output or the new one, never a broken or mixed one. An existing target is replaced only
with ``overwrite=True``; without it the write is *exclusive*: of two processes writing one
path at the same time one succeeds and the other is refused ("existiert bereits"), no result
is lost. An output that is also an input is refused.

How it works
------------
:func:`atomic_path` creates a hidden temporary folder beside the target
(``.<name>.<random>.<pid>.gp-tmp``) and yields ``<that folder>/<name>``, so the writer sees the
real file name and suffix (GDAL and rasterio choose drivers by suffix). After the writer returns
the result is fsynced and moved onto the target in one step:

* without ``overwrite``: ``renameat2(RENAME_NOREPLACE)`` (Linux; elsewhere a hard link for
  files, a lock on the parent folder for folders), which fails if the target appeared in the
  meantime;
* with ``overwrite``: :func:`os.replace` for files, ``renameat2(RENAME_EXCHANGE)`` for folders
  (the old folder is swapped out in one step and then deleted).

:func:`atomic_folder` does the same for multi-file outputs (``export --geojson``,
``site --output-dir``, ``raster all``): the writer fills an empty temporary folder, which is
swapped in whole, with a hidden list of its files (:data:`MANIFEST`). ``overwrite`` replaces
the whole set, so no file of an earlier output stays behind; a folder holding files that no
earlier output of gis-planning wrote is never replaced (they would be deleted).

A process killed mid-write leaves only the hidden temporary folder; the next write to the same
target removes such folders of processes that no longer run (and puts back an old folder a
killed swap had moved aside). A full disk, a read-only folder or a missing permission end in a
one-line :class:`~gis_planning._errors.OutputWriteError` and leave nothing behind.

Inputs: every file read by :func:`gis_planning.data.io.read_file` is registered with
:func:`register_input`; :func:`check_output_path` refuses to write onto a registered input (or
onto any path passed in ``inputs=``), and :func:`check_output_folder` refuses to replace a
folder that holds one.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from ._errors import InputError, OutputExistsError, OutputWriteError

__all__ = [
    "MANIFEST",
    "TMP_SUFFIX",
    "atomic_folder",
    "atomic_path",
    "check_output_folder",
    "check_output_path",
    "forget_inputs",
    "register_input",
    "registered_inputs",
    "stale_temporaries",
]

#: Suffix of the hidden temporary folders created beside outputs.
TMP_SUFFIX = ".gp-tmp"

#: Hidden file in a folder written by :func:`atomic_folder`: the list of its files.
MANIFEST = ".gis-planning-ausgabe.json"

_INPUTS: set[str] = set()

#: The shipped input data (``layers/``): never an output, with or without ``--overwrite``.
SHIPPED_LAYERS = Path(__file__).resolve().parents[1] / "layers"


def _key(path: str | os.PathLike) -> str:
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError):  # pragma: no cover - unresolvable path
        return str(Path(path).absolute())


def register_input(path: str | os.PathLike) -> None:
    """Remember ``path`` as an input of this process; outputs onto it will be refused."""
    _INPUTS.add(_key(path))
    p = Path(path)
    if p.suffix.lower() == ".shp":  # the sidecars are inputs too
        for ext in (".dbf", ".shx", ".prj", ".cpg"):
            _INPUTS.add(_key(p.with_suffix(ext)))


def registered_inputs() -> frozenset[str]:
    """Return the resolved paths registered with :func:`register_input`."""
    return frozenset(_INPUTS)


def forget_inputs() -> None:
    """Forget every registered input (e.g. in a notebook that wants to rewrite a source)."""
    _INPUTS.clear()


def _same_file(a: Path, b: Path) -> bool:
    with contextlib.suppress(OSError):
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    return _key(a) == _key(b)


def _q(path: Path | str) -> str:
    return f"'{path}'"


def check_output_path(
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
) -> Path:
    """Return ``path`` as a :class:`Path` after checking it may be written.

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``overwrite`` is false.
    InputError
        If ``path`` is one of ``inputs`` or a file registered as input
        (:func:`register_input`), or its folder does not exist.
    """
    target = Path(path)
    if str(path) == "" or target.name in ("", ".", ".."):
        raise InputError(f"Ausgabepfad {str(path)!r} nennt keine Datei; geben Sie einen "
                         f"Dateinamen an.")
    for src in [*inputs, *_INPUTS]:
        if _same_file(Path(src), target):
            raise InputError(
                f"Ausgabe {_q(target)} ist zugleich eine Eingabe; wählen Sie einen anderen "
                f"Ausgabepfad."
            )
    resolved = Path(_key(target))
    if resolved == SHIPPED_LAYERS or SHIPPED_LAYERS in resolved.parents:
        raise InputError(
            f"{str(target)!r} liegt in den mitgelieferten Eingangsdaten (layers/); Ausgaben "
            f"gehören woanders hin, z. B. nach maps/."
        )
    if target.exists() and not overwrite:
        kind = "Ordner" if target.is_dir() else "Datei"
        raise OutputExistsError(
            f"{kind} {_q(target)} existiert bereits; mit --overwrite ersetzen oder einen "
            f"anderen Namen wählen."
        )
    if not target.parent.is_dir():
        raise InputError(
            f"Der Ordner der Ausgabe {_q(target)} existiert nicht (oder ist eine Datei); "
            f"legen Sie ihn zuerst an oder wählen Sie einen anderen Pfad."
        )
    return target


def _manifest_names(folder: Path) -> set[str]:
    with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return {str(n) for n in data.get("dateien", [])}
    return set()


def _foreign_entries(folder: Path, names: Iterable[str]) -> list[str]:
    """Entries of ``folder`` that neither an earlier output (manifest) nor ``names`` own."""
    own = _manifest_names(folder) | set(names) | {MANIFEST}
    tmp = re.compile(rf"^\..+\.[^.]+\.\d+{re.escape(TMP_SUFFIX)}$")
    return sorted(p.name for p in folder.iterdir() if p.name not in own and not tmp.match(p.name))


def _inputs_inside(folder: Path, inputs: Iterable[str | os.PathLike]) -> list[str]:
    root = _key(folder)
    return sorted(str(p) for p in {*map(_key, inputs), *_INPUTS}
                  if p == root or p.startswith(root + os.sep))


def check_output_folder(
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
    names: Iterable[str] = (),
) -> Path:
    """Return ``path`` after checking that :func:`atomic_folder` may write a set there.

    Allowed: a new folder (its parent must exist), an existing empty folder, or with
    ``overwrite`` a folder holding only files of an earlier output of gis-planning (listed in
    its :data:`MANIFEST`) or files named in ``names`` (the files of the new set).

    Raises
    ------
    OutputExistsError
        The folder exists and is not empty, and ``overwrite`` is false; or it holds files no
        earlier output wrote (they would be deleted).
    InputError
        The path is a file, its parent does not exist, or the folder holds an input.
    """
    target = Path(path)
    if str(path) == "" or target.name in ("", ".", ".."):
        raise InputError(f"Ausgabeordner {str(path)!r} nennt keinen Ordner; geben Sie einen "
                         f"Ordnernamen an.")
    if target.exists() and not target.is_dir():
        raise InputError(f"{_q(target)} ist eine Datei, kein Ordner; geben Sie einen Ordner an.")
    if not target.parent.is_dir():
        raise InputError(
            f"Der übergeordnete Ordner von {_q(target)} existiert nicht; legen Sie ihn zuerst "
            f"an oder wählen Sie einen anderen Pfad."
        )
    hit = _inputs_inside(target, inputs)
    if hit:
        raise InputError(
            f"Ausgabeordner {_q(target)} enthält die Eingabe {_q(hit[0])}; wählen Sie einen "
            f"anderen Ausgabeordner."
        )
    if target.is_dir():
        try:
            entries = [p.name for p in target.iterdir()]
        except OSError as exc:
            raise _write_error(exc, target) from None
        if entries and not overwrite:
            raise OutputExistsError(
                f"Ordner {_q(target)} existiert bereits und ist nicht leer; mit --overwrite "
                f"ersetzen oder einen anderen Ordner wählen."
            )
        if entries:
            foreign = _foreign_entries(target, names)
            if foreign:
                shown = ", ".join(foreign[:3]) + (", …" if len(foreign) > 3 else "")
                raise OutputExistsError(
                    f"Ordner {_q(target)} enthält {len(foreign)} Datei(en), die nicht von "
                    f"gis-planning stammen ({shown}); --overwrite ersetzt den ganzen Ordner und "
                    f"würde sie löschen. Verschieben Sie sie oder wählen Sie einen eigenen "
                    f"Ordner für diese Ausgabe."
                )
    return target


# ----------------------------------------------------------------------------- errors


_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
_FULL_TEXT = ("no space left on device", "disk quota exceeded", "disk full")
_RO_TEXT = ("read-only file system",)
_PERM_TEXT = ("permission denied", "operation not permitted")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _write_problem(exc: BaseException) -> str | None:
    """Return "voll", "schreibgeschuetzt" or "rechte" if ``exc`` is such a write failure."""
    for e in _chain(exc):
        code = e.errno if isinstance(e, OSError) else None  # GDAL's CPLE codes are no errno
        text = str(e).lower()
        if code in _FULL or any(t in text for t in _FULL_TEXT):
            return "voll"
        if code == errno.EROFS or any(t in text for t in _RO_TEXT):
            return "schreibgeschuetzt"
        if code in (errno.EACCES, errno.EPERM) or any(t in text for t in _PERM_TEXT):
            return "rechte"
    return None


def _nearly_full(folder: Path) -> bool:
    """Whether less than 64 kB are free where ``folder`` lies (a write there may be cut)."""
    with contextlib.suppress(OSError, AttributeError):
        st = os.statvfs(folder)
        return st.f_bavail * st.f_frsize < 65536
    return False


def _disk_full(folder: Path) -> bool:
    """Whether the file system of ``folder`` is full: under 1 MiB free, or 64 kB do not fit.

    GDAL often reports a full disk only as "Cannot write feature"; this asks the disk.
    """
    with contextlib.suppress(OSError, AttributeError):
        st = os.statvfs(folder)
        if st.f_bavail * st.f_frsize < 2**20:
            return True
    probe = folder / ".platzprobe"
    try:
        with open(probe, "wb") as fh:  # atomic: not a file (a probe, deleted at once)
            fh.write(b"\0" * 65536)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        return exc.errno in _FULL
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    return False


def _write_error(exc: BaseException, target: Path, *, kept: bool = False,
                 tmp_dir: Path | None = None) -> BaseException:
    """Turn a full disk / read-only folder / missing permission into one German line."""
    from ._errors import GISPlanningError

    problem = _write_problem(exc)
    if (problem is None and tmp_dir is not None and not isinstance(exc, GISPlanningError)
            and _disk_full(tmp_dir)):
        problem = "voll"
    if problem is None:
        return exc
    folder = target.parent
    left = " Die bisherige Ausgabe ist unverändert." if kept else ""
    if problem == "voll":
        return OutputWriteError(
            f"Kein Platz mehr auf dem Datenträger von {_q(folder)}: {_q(target.name)} wurde "
            f"nicht geschrieben (nichts zurückgelassen).{left} Schaffen Sie Platz oder wählen "
            f"Sie einen anderen Ort für die Ausgabe."
        )
    if problem == "schreibgeschuetzt":
        return OutputWriteError(
            f"Der Ordner {_q(folder)} ist schreibgeschützt (nur lesbares Dateisystem): "
            f"{_q(target.name)} wurde nicht geschrieben.{left} Wählen Sie einen beschreibbaren "
            f"Ordner für die Ausgabe."
        )
    return OutputWriteError(
        f"Keine Schreibberechtigung für den Ordner {_q(folder)}: {_q(target.name)} wurde nicht "
        f"geschrieben.{left} Wählen Sie einen anderen Ordner oder lassen Sie sich Schreibrechte "
        f"geben."
    )


# ----------------------------------------------------------------------------- renames


_AT_FDCWD = -100
_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2
_UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, getattr(errno, "ENOTSUP", errno.EINVAL),
                getattr(errno, "EOPNOTSUPP", errno.EINVAL)}

try:
    _renameat2_fn = ctypes.CDLL(None, use_errno=True).renameat2
    _renameat2_fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                              ctypes.c_uint]
    _renameat2_fn.restype = ctypes.c_int
except (AttributeError, OSError, TypeError):  # pragma: no cover - not Linux / old glibc
    _renameat2_fn = None


def _renameat2(src: Path, dst: Path, flags: int) -> bool:
    """``renameat2(src, dst, flags)``; return False where the system does not support it."""
    if _renameat2_fn is None:  # pragma: no cover - not Linux
        return False
    if _renameat2_fn(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flags) == 0:
        return True
    err = ctypes.get_errno()
    if err in _UNSUPPORTED:
        return False
    raise OSError(err, os.strerror(err), str(dst))


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``folder`` (cooperating writers only; no-op elsewhere)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _exists_error(target: Path) -> OutputExistsError:
    kind = "Ordner" if target.is_dir() else "Datei"
    return OutputExistsError(
        f"{kind} {_q(target)} existiert bereits (eben von einem anderen Vorgang geschrieben); "
        f"mit --overwrite ersetzen oder einen anderen Namen wählen."
    )


def _move_new(tmp: Path, target: Path) -> None:
    """Move ``tmp`` to ``target``, failing if ``target`` exists (an empty folder is replaced)."""
    if target.is_dir() and tmp.is_dir():
        with contextlib.suppress(FileNotFoundError):
            try:
                target.rmdir()  # an empty folder the user made for the output
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                    raise _exists_error(target) from None
                raise
    try:
        if _renameat2(tmp, target, _RENAME_NOREPLACE):
            return
    except FileExistsError:
        raise _exists_error(target) from None
    except OSError as exc:
        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise _exists_error(target) from None
        raise
    if tmp.is_file():
        try:
            os.link(tmp, target)  # atomic exclusive create
        except FileExistsError:
            raise _exists_error(target) from None
        except OSError:  # no hard links here: fall back to the lock
            pass
        else:
            os.unlink(tmp)
            return
    with _folder_lock(target.parent):
        if target.exists():
            raise _exists_error(target)
        os.rename(tmp, target)


def _swap_folder(tmp: Path, target: Path, aside: Path) -> None:
    """Replace the folder ``target`` by ``tmp``; the old one ends up at ``aside`` (deleted)."""
    if _renameat2(tmp, target, _RENAME_EXCHANGE):
        os.rename(tmp, aside)  # tmp now holds the old folder
        return
    os.rename(target, aside)  # pragma: no cover - no renameat2: two steps (see stale cleanup)
    os.rename(tmp, target)  # pragma: no cover


def _fsync_path(path: Path) -> None:
    if path.is_dir():
        for child in path.rglob("*"):
            if child.is_file():
                _fsync_path(child)
            elif child.is_dir():
                _fsync_dir(child)
        _fsync_dir(path)
        return
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        dir_fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def stale_temporaries(folder: str | os.PathLike, *, name: str | None = None) -> list[Path]:
    """Return the temporary folders in ``folder`` left by killed writers (of ``name`` only)."""
    pattern = re.compile(
        rf"^\.{re.escape(name) if name else '.+'}\.[^.]+\.(\d+){re.escape(TMP_SUFFIX)}$"
    )
    out = []
    with contextlib.suppress(OSError):
        for child in Path(folder).iterdir():
            m = pattern.match(child.name)
            if m and child.is_dir() and not _pid_alive(int(m.group(1))):
                out.append(child)
    return sorted(out)


_ASIDE = ".alt"


def _clean_stale(target: Path) -> None:
    """Remove temporaries of killed writes to ``target``; restore an old folder moved aside."""
    for stale in stale_temporaries(target.parent, name=target.name):
        aside = stale / _ASIDE
        if aside.is_dir() and not target.exists():  # killed between the two renames
            with contextlib.suppress(OSError):
                os.rename(aside, target)
        shutil.rmtree(stale, ignore_errors=True)


def _make_tmp(target: Path) -> Path:
    try:
        return Path(tempfile.mkdtemp(
            prefix=f".{target.name}.", suffix=f".{os.getpid()}{TMP_SUFFIX}", dir=target.parent
        ))
    except OSError as exc:
        raise _write_error(exc, target, kept=target.exists()) from None


def _write_manifest(folder: Path) -> None:
    names = sorted(p.name for p in folder.iterdir() if p.name != MANIFEST)
    text = json.dumps({"erstellt_von": "gis-planning", "dateien": names}, ensure_ascii=False,
                      indent=1)
    (folder / MANIFEST).write_text(text + "\n", encoding="utf-8")  # atomic: in a temp folder


def _finish(tmp: Path, target: Path, tmp_dir: Path, *, overwrite: bool,
            inputs: Iterable[str | os.PathLike]) -> None:
    """Move the finished ``tmp`` (file or folder) onto ``target``."""
    if not tmp.exists():
        raise InputError(f"Für die Ausgabe {_q(target)} wurde nichts geschrieben.")
    if tmp.is_dir():  # a folder is a set: it carries the list of its files
        _write_manifest(tmp)
        names = [p.name for p in tmp.iterdir()]
        if target.exists():  # re-check now: files may have appeared while we wrote
            check_output_folder(target, overwrite=overwrite, inputs=inputs, names=names)
    elif target.is_dir():
        raise InputError(f"Ausgabe {_q(target)} ist ein Ordner; geben Sie einen Dateinamen an.")
    _fsync_path(tmp)
    if _nearly_full(tmp_dir):  # some libraries (libtiff) only print a full disk and go on
        raise OSError(errno.ENOSPC, "No space left on device", str(target))
    if not overwrite or not target.exists():
        _move_new(tmp, target)
    elif tmp.is_dir():
        _swap_folder(tmp, target, tmp_dir / _ASIDE)
    else:
        os.replace(tmp, target)
    _fsync_dir(target.parent)


@contextlib.contextmanager
def _atomic(target: Path, *, overwrite: bool, inputs: list, folder_set: bool
            ) -> Iterator[Path]:
    _clean_stale(target)
    existed = target.exists()
    tmp_dir = _make_tmp(target)
    tmp = tmp_dir / target.name
    try:
        try:
            if folder_set:
                tmp.mkdir()
            yield tmp
            _finish(tmp, target, tmp_dir, overwrite=overwrite, inputs=inputs)
        except Exception as exc:  # GDAL, rasterio and pyogrio wrap OS errors in their own
            err = _write_error(exc, target, kept=existed, tmp_dir=tmp_dir)
            if err is exc:
                raise
            raise err from None
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


@contextlib.contextmanager
def atomic_path(
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
) -> Iterator[Path]:
    """Yield a temporary path for ``path``; on success fsync it and move it onto ``path``.

    The temporary path has the same file name as ``path`` (inside a hidden temporary folder
    beside it) so that format drivers chosen by suffix (GDAL, rasterio) work. The writer may
    create a file or a folder there. On any exception the temporary folder is removed and
    ``path`` is untouched. Temporary folders of killed earlier writes to ``path`` are removed.

    Without ``overwrite`` the final move is exclusive: if ``path`` appeared while the writer
    ran (another process), :class:`~gis_planning._errors.OutputExistsError` is raised and the
    other result stays. A full disk, read-only folder or missing permission raise
    :class:`~gis_planning._errors.OutputWriteError` (one German line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_path(out) as tmp:
    ...     _ = tmp.write_text("hallo")
    >>> out.read_text()
    'hallo'
    """
    inputs = list(inputs)
    target = check_output_path(path, overwrite=overwrite, inputs=inputs)
    with _atomic(target, overwrite=overwrite, inputs=inputs, folder_set=False) as tmp:
        yield tmp


@contextlib.contextmanager
def atomic_folder(
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
    names: Iterable[str] = (),
) -> Iterator[Path]:
    """Yield an empty temporary folder; on success swap it in whole as the folder ``path``.

    Parameters
    ----------
    path
        The output folder. New, empty, or (with ``overwrite``) an earlier output of
        gis-planning (see :func:`check_output_folder`).
    overwrite
        Replace an existing set: afterwards the folder holds exactly the new files.
    inputs
        Inputs that must not lie inside the folder (registered inputs are checked too).
    names
        File names of the new set, if known up front: lets an existing folder written by an
        older version (no :data:`MANIFEST`) be replaced when it holds only these.

    Notes
    -----
    The writer puts every file into the yielded folder. Afterwards a :data:`MANIFEST` listing
    them is added, everything is fsynced, and the folder replaces ``path`` in one rename
    (``RENAME_EXCHANGE`` for an existing folder, ``RENAME_NOREPLACE`` for a new one). An error
    anywhere leaves ``path`` as it was.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "satz"
    >>> with atomic_folder(out) as tmp:
    ...     _ = (tmp / "a.csv").write_text("x\\n1\\n")
    >>> sorted(p.name for p in out.iterdir())
    ['.gis-planning-ausgabe.json', 'a.csv']
    """
    inputs = list(inputs)
    target = check_output_folder(path, overwrite=overwrite, inputs=inputs, names=names)
    with _atomic(target, overwrite=overwrite, inputs=inputs, folder_set=True) as tmp:
        yield tmp
