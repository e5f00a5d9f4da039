"""Atomic output files: write to a temporary file beside the target, fsync, then rename.

An interrupted write (an exception, Ctrl-C, even ``kill -9``) leaves either the old file or the
new one, never a broken one. An existing target is replaced only with ``overwrite=True``, and an
output that is also an input is refused.

How it works: :func:`atomic_path` creates a hidden temporary folder beside the target
(``.<name>.<random>.<pid>.gp-tmp``) and yields ``<that folder>/<name>``, so the writer sees the
real file name and suffix (GDAL and rasterio choose drivers by suffix). After the writer returns
the file is fsynced, renamed onto the target with :func:`os.replace` (atomic on POSIX and
Windows within one file system) and the folder is fsynced. A process killed mid-write leaves
only the hidden temporary folder; the next write to the same target removes such folders of
processes that no longer run.

Inputs: every file read by :func:`gis_planning.data.io.read_file` is registered with
:func:`register_input`; :func:`check_output_path` refuses to write onto a registered input (or
onto any path passed in ``inputs=``), so an export can never replace its own source.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from ._errors import InputError, OutputExistsError

__all__ = [
    "TMP_SUFFIX",
    "atomic_path",
    "check_output_path",
    "forget_inputs",
    "register_input",
    "registered_inputs",
    "stale_temporaries",
]

#: Suffix of the hidden temporary folders created beside outputs.
TMP_SUFFIX = ".gp-tmp"

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
        raise InputError(f"output path {str(path)!r} names no file; give a file name.")
    for src in [*inputs, *_INPUTS]:
        if _same_file(Path(src), target):
            raise InputError(
                f"output path {str(target)!r} is also an input; choose another output path."
            )
    resolved = Path(_key(target))
    if resolved == SHIPPED_LAYERS or SHIPPED_LAYERS in resolved.parents:
        raise InputError(
            f"{str(target)!r} liegt in den mitgelieferten Eingangsdaten (layers/); Ausgaben "
            f"gehören woanders hin, z. B. nach maps/."
        )
    if target.exists() and not overwrite:
        raise OutputExistsError(
            f"output {str(target)!r} exists; pass overwrite=True (CLI: --overwrite) to replace it."
        )
    if not target.parent.is_dir():
        raise InputError(
            f"the folder of output {str(target)!r} does not exist (or is a file); create it "
            f"first or choose another path."
        )
    return target


def _fsync_path(path: Path) -> None:
    if path.is_dir():
        for child in path.rglob("*"):
            if child.is_file():
                _fsync_path(child)
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


@contextlib.contextmanager
def atomic_path(
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
) -> Iterator[Path]:
    """Yield a temporary path for ``path``; on success fsync it and rename it onto ``path``.

    The temporary path has the same file name as ``path`` (inside a hidden temporary folder
    beside it) so that format drivers chosen by suffix (GDAL, rasterio) work. The writer may
    create a file or a folder there. On any exception the temporary folder is removed and
    ``path`` is untouched. Temporary folders of killed earlier writes to ``path`` are removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_path(out) as tmp:
    ...     _ = tmp.write_text("hallo")
    >>> out.read_text()
    'hallo'
    """
    target = check_output_path(path, overwrite=overwrite, inputs=inputs)
    for stale in stale_temporaries(target.parent, name=target.name):
        shutil.rmtree(stale, ignore_errors=True)
    tmp_dir = Path(tempfile.mkdtemp(
        prefix=f".{target.name}.", suffix=f".{os.getpid()}{TMP_SUFFIX}", dir=target.parent
    ))
    tmp = tmp_dir / target.name
    try:
        yield tmp
        if not tmp.exists():
            raise InputError(f"nothing was written for output {str(target)!r}.")
        _fsync_path(tmp)
        if tmp.is_dir() and target.is_dir():
            old = tmp_dir / ".old"
            os.replace(target, old)
            os.replace(tmp, target)
        else:
            os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
