""" "Did you mean ...?" for misspelled keys and names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, options: Iterable[str], *, cutoff: float | None = None) -> str | None:
    """The option closest to ``word`` (case-insensitive), or None when nothing is close.

    Examples
    --------
    >>> closest("trian", ["train", "holdout"])
    'train'
    >>> closest("zzz", ["train", "holdout"]) is None
    True
    """
    if not isinstance(word, str):
        return None
    options = [str(o) for o in options]
    lowered = {o.lower(): o for o in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    normalised = word.lower().replace("-", "_").replace(" ", "_")
    if normalised in lowered:
        return lowered[normalised]
    if cutoff is None:  # short words differ by a larger share for one typo: 'f2' ~ 'f1'
        cutoff = 0.5 if len(word) <= 4 else 0.6
    target = word.lower()
    best, best_key = None, None
    for option in lowered:
        ratio = difflib.SequenceMatcher(None, target, option).ratio()
        if ratio < cutoff:
            continue
        key = (ratio, _common_prefix(target, option))  # ties: the one that starts alike
        if best_key is None or key > best_key:
            best, best_key = option, key
    return lowered[best] if best is not None else None


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` or an empty string."""
    best = closest(word, options)
    return f" (did you mean '{best}'?)" if best is not None and best != word else ""
