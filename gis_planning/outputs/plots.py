"""Static charts (matplotlib) for reports: the multiscale segregation profile.

Outputs do no analysis: :func:`segregation_profile_figure` draws the table of
:func:`gis_planning.analysis.lattice.segregation_profile`; :func:`save_figure` writes a figure
atomically (PNG, SVG or PDF by suffix).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from .._atomic import atomic_path
from .._errors import InputError
from .._validate import require_columns
from ..labels import fmt_number

__all__ = ["save_figure", "segregation_profile_figure"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def segregation_profile_figure(
    profile: pd.DataFrame,
    *,
    title: str | None = None,
    ax: Any = None,
) -> Any:
    """Line chart of spatial dissimilarity and isolation against the kernel bandwidth.

    Parameters
    ----------
    profile : pandas.DataFrame
        Result of :func:`gis_planning.analysis.lattice.segregation_profile` (index
        ``bandbreite_m``, columns ``dissimilarity``, ``isolation``, ``group_share``).
    title : str, optional
        Chart title (German); default "Segregationsprofil".
    ax : matplotlib Axes, optional
        Draw into these axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        Log-scaled bandwidth axis in metres, German labels and number format, the group's
        overall share as a dashed line (isolation's value without any segregation), and the
        source (``profile.attrs["quelle"]``, ``stand``) as a footnote.
    """
    require_columns(profile, ("dissimilarity", "isolation"), name="profile")
    if len(profile) == 0:
        raise InputError("das Segregationsprofil ist leer: es gibt keine Entfernungsstufen zu "
                         "zeichnen.")
    plt = _pyplot()
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.0, 4.2), dpi=120)
    else:
        fig = ax.figure
    h = profile.index.to_numpy(dtype=float)
    ax.plot(h, profile["dissimilarity"], marker="o", color="#b2182b",
            label="Dissimilarität D (räumlich)")
    ax.plot(h, profile["isolation"], marker="s", color="#2166ac",
            label="Isolation (räumlich)")
    if "group_share" in profile.columns:
        share = float(profile["group_share"].iloc[0])
        ax.axhline(share, color="#2166ac", linestyle="--", linewidth=1,
                   label=f"Anteil der Gruppe insgesamt ({fmt_number(100 * share, 1)} %)")
    ax.set_xscale("log")
    ax.set_xticks(h)
    ax.set_xticklabels([fmt_number(v, 0) for v in h])
    ax.minorticks_off()
    ax.set_xlabel("Bandbreite des Kerns (m)")
    ax.set_ylabel("Indexwert (0-1)")
    ax.set_ylim(0, max(1e-3, float(profile[["dissimilarity", "isolation"]].max().max())) * 1.15)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: fmt_number(v, 2)))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    ax.set_title(title or "Segregationsprofil")
    note = " · ".join(str(profile.attrs[k]) for k in ("quelle", "stand")
                      if k in profile.attrs)
    kernel = str(profile["kernel"].iloc[0]) if "kernel" in profile.columns else ""
    foot = f"Kern: {kernel}. {note}" if kernel else note
    if foot:
        fig.text(0.01, 0.01, foot, fontsize=7, color="#555555", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def save_figure(fig: Any, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write a matplotlib figure atomically; the format follows the suffix (.png, .svg, .pdf)."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".png", ".svg", ".pdf"):
        raise InputError(f"{str(path)!r}: Endung .png, .svg oder .pdf verwenden.")
    with atomic_path(path, overwrite=overwrite) as tmp:
        fig.savefig(tmp, format=suffix[1:], bbox_inches="tight")
    return Path(path)
