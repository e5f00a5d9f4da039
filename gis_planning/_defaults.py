"""Constants the command line needs before any heavy module is imported."""

from __future__ import annotations

__all__ = ["DEFAULT_K"]

#: Counts below this are never shown as numbers (confidential layers, suppression).
DEFAULT_K = 5
