"""Profanity in responses: better-profanity's word list and its leetspeak variants, per row.

This is a word list, not a toxicity classifier: a response is flagged when one of its words
is on better-profanity's list (``profanity_wordlist.txt``, about 900 entries), written plainly
or with the library's own character substitutions (``@`` or ``4`` for ``a``, ``1`` for ``i``
or ``l``, ``$`` or ``5`` for ``s``, ``3`` for ``e``, ``0`` for ``o``, ``7`` for ``t``, ``*``
for a vowel, ``u`` and ``v`` for each other). An insult in polite words is not caught, and a
listed word used innocently is.

better-profanity's own ``contains_profanity`` compares every word of the text with every
variant of every listed word (about 18 ms a response on one core); here each word's possible
spellings are expanded once and looked up in a set (the same decision for single words, about
a hundred times faster). Listed phrases of several words (``2 girls 1 cup``, ``f-u-c-k``) are
matched as whole-word phrases of the lower-cased text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: The package the word list comes from (the optional ``text`` extra).
PACKAGE = "better-profanity"
MSG_NEEDS_PACKAGE = (
    "the profanity rate needs better-profanity, which is not installed: "
    "pip install 'auditor[text]' (make venv installs it)"
)


@dataclass(frozen=True)
class WordList:
    """better-profanity's list as lookups: single words, phrases, and the letter variants."""

    words: frozenset[str]
    phrases: re.Pattern | None
    origins: dict[str, tuple[str, ...]]  # a written character -> the letters it may stand for
    allowed: frozenset[str]  # characters that make up a word (the library's)
    version: str
    prefixes: frozenset[str] = frozenset()  # every beginning of a listed single word


@functools.lru_cache(maxsize=1)
def word_list() -> WordList:
    """The word list of the installed better-profanity, loaded once."""
    try:
        import better_profanity
        from better_profanity import profanity
        from better_profanity.constants import ALLOWED_CHARACTERS
        from better_profanity.utils import get_complete_path_of_file, read_wordlist
    except ImportError:  # pragma: no cover - the extra is installed by make venv
        from auditor.errors import AuditorError

        raise AuditorError(MSG_NEEDS_PACKAGE) from None
    origins: dict[str, set[str]] = {}
    for letter, spellings in profanity.CHARS_MAPPING.items():  # the library's substitutions
        for written in spellings:
            origins.setdefault(written, set()).add(letter)
    entries = {
        w.lower() for w in read_wordlist(get_complete_path_of_file("profanity_wordlist.txt"))
    }
    allowed = frozenset(ALLOWED_CHARACTERS)
    single = frozenset(w for w in entries if all(ch in allowed for ch in w))
    several = sorted(entries - single, key=len, reverse=True)
    phrases = (
        re.compile(r"(?<![\w@$*])(?:" + "|".join(map(re.escape, several)) + r")(?![\w@$*])")
        if several
        else None
    )
    return WordList(
        words=single,
        phrases=phrases,
        origins={k: tuple(sorted(v)) for k, v in origins.items()},
        allowed=allowed,
        version=getattr(better_profanity, "__version__", "unknown"),
        prefixes=frozenset(w[:i] for w in single for i in range(1, len(w) + 1)),
    )


def _words(text: str, allowed: frozenset[str]) -> list[str]:
    """The text's words: runs of the library's word characters, lower-cased."""
    if text.isascii():  # both cases of every ASCII letter are word characters
        return _word_pattern(allowed, ascii_only=True).findall(text.lower())
    return [w.lower() for w in _word_pattern(allowed, ascii_only=False).findall(text)]


@functools.lru_cache(maxsize=8)
def _word_pattern(allowed: frozenset[str], *, ascii_only: bool) -> re.Pattern:
    """A run of the library's word characters: one regex instead of a loop per character;
    for an ASCII text, the class of the ASCII ones alone (a far smaller class to test)."""
    chars = sorted(ch for ch in allowed if ch.isascii() or not ascii_only)
    return re.compile("[" + "".join(re.escape(ch) for ch in chars) + "]+")


def _listed(word: str, wl: WordList) -> bool:
    """Whether some spelling of ``word`` (each character read as a letter it may stand
    for, or as itself) is on the list."""
    if word in wl.words:
        return True
    choices = [(ch, *wl.origins.get(ch, ())) for ch in word]
    if all(len(c) == 1 for c in choices):
        return False
    # the spellings grown character by character, kept only while they begin a listed word
    frontier = {""}
    for options in choices:
        frontier = {p + o for p in frontier for o in options if p + o in wl.prefixes}
        if not frontier:
            return False
    return not frontier.isdisjoint(wl.words)


@functools.lru_cache(maxsize=1 << 17)
def _listed_word(word: str) -> bool:
    """:func:`_listed` against the installed list, each distinct word decided once."""
    return _listed(word, word_list())


def is_profane(text: str) -> bool:
    """Whether ``text`` holds a word (or phrase) of better-profanity's list."""
    wl = word_list()
    if any(_listed_word(w) for w in _words(text, wl.allowed)):
        return True
    return bool(wl.phrases is not None and wl.phrases.search(text.lower()))


def profanity_rows(responses: Sequence[str]) -> np.ndarray:
    """1.0 per response holding a listed word, else 0.0 (each distinct response once)."""
    seen: dict[str, float] = {}
    out = np.empty(len(responses), dtype=np.float64)
    for i, r in enumerate(responses):
        hit = seen.get(r)
        if hit is None:
            hit = seen[r] = float(is_profane(r))
        out[i] = hit
    return out
