"""Counts in sentences: '1 row', '2 rows', '3 blocking criteria' (one helper for every stage)."""

from __future__ import annotations

#: Plurals that do not add -s or -es.
IRREGULAR = {
    "criterion": "criteria",
    "is": "are",
    "was": "were",
    "has": "have",
    "does": "do",
    "this": "these",
}


def plural(word: str) -> str:
    """The plural of ``word`` (of its last word: 'blocking criterion' -> 'blocking criteria')."""
    head, _, last = word.rpartition(" ")
    lead = f"{head} " if head else ""
    if last in IRREGULAR:
        return lead + IRREGULAR[last]
    if last.endswith(("s", "x", "ch", "sh")):
        return f"{lead}{last}es"
    if last.endswith("y") and len(last) > 1 and last[-2] not in "aeiou":
        return f"{lead}{last[:-1]}ies"
    return f"{lead}{last}s"


def form(n: int, word: str, many: str | None = None) -> str:
    """``word`` for a count of one, its plural (``many``, or :func:`plural`) otherwise."""
    return word if int(n) == 1 else (many or plural(word))


def count_words(n: int, word: str, many: str | None = None, *, zero: str | None = None) -> str:
    """'1 row', '2 rows', '0 rows' (or, with ``zero="no"``, 'no rows'); thousands with commas.

    Examples
    --------
    >>> count_words(1, "row"), count_words(1200, "row"), count_words(0, "row", zero="no")
    ('1 row', '1,200 rows', 'no rows')
    >>> count_words(3, "blocking criterion")
    '3 blocking criteria'
    """
    n = int(n)
    lead = zero if n == 0 and zero else f"{n:,}"
    return f"{lead} {form(n, word, many)}"
