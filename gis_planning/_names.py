"""Normalising and matching place names (Stadtteil, Bezirk) against a reference list.

Names stay as they are in UTF-8 ("Überruhr-Hinsel"); only the *match key* is folded. A match key
ignores case, spaces, hyphens, dots and the spelling variants ä/ae, ö/oe, ü/ue, ß/ss, so
"Altenessen Süd", "altenessen-sued" and "Altenessen-Süd" are the same place.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["NameMatch", "match_key", "match_name", "match_names", "suggest"]

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def match_key(name: object) -> str:
    """Return the folded key used to compare place names.

    Examples
    --------
    >>> match_key("Altenessen Süd") == match_key("altenessen-sued")
    True
    """
    text = unicodedata.normalize("NFC", str(name)).casefold().translate(_FOLD)
    return re.sub(r"[\s\-‐‑–—_./,()']+", "", text)


@dataclass(frozen=True)
class NameMatch:
    """How a name given in a source relates to the reference list.

    ``kind`` is one of ``"exakt"`` (identical), ``"schreibweise"`` (same key: case, spaces,
    umlauts), ``"abgekuerzt"`` (a truncated form ending in '.' or a unique prefix),
    ``"alias"`` (a known alternative name), ``"tippfehler"`` (a unique close match) or
    ``"unbekannt"`` (no match; ``suggestions`` holds close candidates).
    """

    given: str
    matched: str | None
    kind: str
    suggestions: tuple[str, ...] = ()


def suggest(name: str, reference: Iterable[str], *, n: int = 3, cutoff: float = 0.6) -> list[str]:
    """Return up to ``n`` reference names close to ``name`` (difflib ratio on match keys)."""
    ref = list(dict.fromkeys(reference))
    keys = {match_key(r): r for r in ref}
    close = difflib.get_close_matches(match_key(name), list(keys), n=n, cutoff=cutoff)
    return [keys[k] for k in close]


def match_name(
    name: object,
    reference: Iterable[str],
    *,
    aliases: Mapping[str, str] | None = None,
    typo_cutoff: float = 0.85,
) -> NameMatch:
    """Match one ``name`` against ``reference`` names; never raises.

    Parameters
    ----------
    name
        The name as typed in a source.
    reference
        Official names.
    aliases
        Known alternative names (``{"Borbeck": "Borbeck-Mitte"}``), matched on their keys.
    typo_cutoff
        Minimum difflib ratio for accepting a single close match as a typo.
    """
    given = "" if name is None else str(name).strip()
    ref = list(dict.fromkeys(reference))
    if given in ref:
        return NameMatch(given, given, "exakt")
    key = match_key(given)
    by_key = {match_key(r): r for r in ref}
    if key in by_key:
        return NameMatch(given, by_key[key], "schreibweise")
    if aliases:
        alias_keys = {match_key(a): t for a, t in aliases.items()}
        if key in alias_keys:
            return NameMatch(given, alias_keys[key], "alias")
    if key and len(key) >= 4:
        prefixed = [r for k, r in by_key.items() if k.startswith(key)]
        if len(prefixed) == 1 and (given.endswith(".") or len(key) >= 6):
            return NameMatch(given, prefixed[0], "abgekuerzt")
    close = difflib.get_close_matches(key, list(by_key), n=3, cutoff=0.6)
    candidates = tuple(by_key[k] for k in close)
    if close and difflib.SequenceMatcher(None, key, close[0]).ratio() >= typo_cutoff:
        second = (
            difflib.SequenceMatcher(None, key, close[1]).ratio() if len(close) > 1 else 0.0
        )
        if second < typo_cutoff:
            return NameMatch(given, by_key[close[0]], "tippfehler", candidates)
    return NameMatch(given, None, "unbekannt", candidates)


def match_names(
    names: Iterable[object],
    reference: Iterable[str],
    *,
    aliases: Mapping[str, str] | None = None,
) -> list[NameMatch]:
    """Match every name of ``names``; see :func:`match_name`."""
    ref = list(dict.fromkeys(reference))
    cache: dict[object, NameMatch] = {}
    out = []
    for n in names:
        if n not in cache:
            cache[n] = match_name(n, ref, aliases=aliases)
        out.append(cache[n])
    return out
