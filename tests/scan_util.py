"""Scanning outputs for texts that belong to another city (used by the city-pack tests)."""

from __future__ import annotations

import json
import re
from pathlib import Path

#: Texts that belong to Essen's data and must never appear in another city's outputs
#: (whole words: Berlin has a "Kita am Essener Park").
ESSEN_TEXTS = ("Essen", "1846/2016", "Hauptherkunftsländer", "Gerschede", "Vorlage 1846")
_PATTERNS = {w: re.compile(rf"(?<!\w){re.escape(w)}(?!\w)") for w in ESSEN_TEXTS}


def essen_texts_in(folder: Path, *, estimated_ok: bool = False) -> list[str]:
    """Every Essen text found in the files below ``folder`` (HTML, GPKG, GeoJSON, QML, CSV,
    GeoTIFF tags and band descriptions); with ``estimated_ok`` false also any estimate
    wording ("Schätzung", "geschätzt")."""
    found = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.suffix == ".tif":
            import rasterio

            with rasterio.open(path) as ds:
                data = json.dumps([ds.tags(), ds.descriptions,
                                   [ds.tags(b + 1) for b in range(ds.count)]],
                                  ensure_ascii=False).encode()
        text = data.decode("utf-8", errors="ignore")
        found += [f"{path.name}: {w}" for w, pat in _PATTERNS.items() if pat.search(text)]
        if not estimated_ok and ("Schätzung" in text or "geschätzt" in text):
            found.append(f"{path.name}: Schätzung (nothing here is estimated)")
    return found
