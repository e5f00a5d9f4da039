"""Atomic output files: write to a temporary file beside the target, fsync, then rename.

An interrupted write leaves either the old file or the new one, never a broken one. An existing
target is replaced only with ``overwrite=True``, and an output that is also an input is refused.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from ._errors import InputError, OutputExistsError

__all__ = ["atomic_path", "check_output_path"]


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
        If ``path`` is one of ``inputs`` or its folder does not exist.
    """
    target = Path(path)
    for src in inputs:
        with contextlib.suppress(OSError):
            if Path(src).resolve() == target.resolve():
                raise InputError(
                    f"output path {str(target)!r} is also an input; choose another output path."
                )
    if target.exists() and not overwrite:
        raise OutputExistsError(
            f"output {str(target)!r} exists; pass overwrite=True (CLI: --overwrite) to replace it."
        )
    if not target.parent.exists():
        raise InputError(
            f"the folder of output {str(target)!r} does not exist; create it first."
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


@contextlib.contextmanager
def atomic_path(
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success fsync it and rename it onto ``path``.

    The temporary file keeps the suffix of ``path`` so that format drivers chosen by suffix
    (GDAL, rasterio) work. On any exception the temporary file is removed and ``path`` is
    untouched.

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
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=f".tmp{''.join(target.suffixes)}", dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # let the writer create it (GDAL refuses some existing empty files)
    try:
        yield tmp
        if not tmp.exists():
            raise InputError(f"nothing was written for output {str(target)!r}.")
        _fsync_path(tmp)
        os.replace(tmp, target)
        with contextlib.suppress(OSError):
            dir_fd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    finally:
        if tmp.exists():
            if tmp.is_dir():
                import shutil

                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink()
