"""Execute the notebooks and store them with their outputs, free of machine paths.

Usage (from the repository root, with the project's virtual environment)::

    .venv/bin/python tools/run_notebooks.py notebooks/*.ipynb          # execute and write
    .venv/bin/python tools/run_notebooks.py --check notebooks/*.ipynb  # execute, write nothing

Each notebook runs top to bottom in a fresh ``python3`` kernel (nbclient) with the repository
root as working directory. Before it is written, the outputs are cleaned: warnings on stderr
are dropped (they name source files), the repository root, the virtual environment and the
home folder are replaced by ``.``, ``<venv>`` and ``~``, execution counts are renumbered from
1 and timing metadata removed, so a re-run changes the file only where a result changed.
``tests/test_notebooks.py`` runs the same execution and checks the committed file.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Text that would show a machine's folders in a committed output.
MACHINE_PATTERNS = ("/work/", "/home/", "/root/", "/tmp/", "site-packages", "\\Users\\")


def _clean_text(text: str) -> str:
    prefix = str(Path(sys.prefix))
    for path, short in ((str(ROOT), "."), (prefix, "<venv>"), (str(Path.home()), "~")):
        text = text.replace(path, short)
    return re.sub(r"at 0x[0-9a-f]{6,}", "at 0x…", text)


def clean(nb):
    """Return a copy of notebook ``nb`` with outputs free of machine paths and timings."""
    nb = copy.deepcopy(nb)
    count = 0
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = count
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                continue
            if "execution_count" in out:
                out["execution_count"] = count
            if out.get("output_type") == "stream":
                out["text"] = _clean_text(out["text"])
            for key, value in list(out.get("data", {}).items()):
                if isinstance(value, str) and not key.startswith("image/"):
                    out["data"][key] = _clean_text(value)
            kept.append(out)
        cell.outputs = kept
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                 "name": "python3"}
    return nb


def machine_paths(nb) -> list[str]:
    """Outputs that still name a machine's folders (empty list: none)."""
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            texts = [out.get("text", "")] + [v for k, v in out.get("data", {}).items()
                                               if isinstance(v, str) and not
                                               k.startswith("image/")]
            for text in texts:
                for pattern in MACHINE_PATTERNS:
                    if pattern in text:
                        found.append(f"Zelle {i}: {pattern!r}")
    return found


def execute(path: Path, *, timeout: int = 900):
    """Run notebook ``path`` in a fresh kernel; return the cleaned, executed notebook."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    return clean(nb)


def main(argv: list[str] | None = None) -> int:
    import nbformat

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true",
                        help="execute only; write nothing (exit 1 on machine paths)")
    args = parser.parse_args(argv)
    status = 0
    for path in args.notebooks:
        nb = execute(path)
        left = machine_paths(nb)
        if left:
            print(f"{path}: Ausgaben nennen Rechnerpfade: {', '.join(left)}", file=sys.stderr)
            status = 1
        if not args.check:
            nbformat.write(nb, path)
            print(f"{path}: ausgeführt und geschrieben")
    return status


if __name__ == "__main__":
    sys.exit(main())
