"""A judge-free groundedness heuristic: lexical support of a response in its context.

Labelled a heuristic everywhere it is shown: it reads words, not meaning. The response's
content is split into claims a reader could check:

- numbers (``$1,200``, ``30%``, ``2.5`` -> ``1200``, ``30``, ``2.5``),
- capitalised entities (capitalised words that do not open a sentence),
- other content words (stop words left out; a trailing plural ``s`` ignored).

A claim is supported when it occurs in the context (or the question, which the response
may repeat). ``support`` is the supported share of the content; ``unsupported_claims``
counts unsupported numbers and entities, the claims a hallucination usually invents. The
1-5 ``score`` is ``1 + round(4 * support)``, lowered by 2 for each unsupported number or
entity and clipped to 1-5, so one invented figure fails a threshold of 4.

A refusal makes no claim, so it is fully supported (the refusal rate judges it), and
contact details (e-mail addresses, phone and card numbers) are left out of the content:
the personal-data metric judges them (:mod:`auditor.text.safety`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from auditor.text.safety import is_refusal, strip_contact_details

#: English function and courtesy words that carry no checkable claim.
STOP_WORDS = frozenset(
    """a an the and or but if then so of to in on at by for with from as is are was were be
    been being am do does did done have has had having it its this that these those there
    here i me my we our you your he she they them their his her him us what which who whom
    when where why how can could will would shall should may might must not no yes all any
    each some such very just also only than too more most less about into over under up down
    out off again once please thank thanks hi hello dear sure ok okay let lets get got happy
    glad help good great question reaching welcome sorry""".split()
)
_NUMBER = re.compile(r"(?<![\w.])[$€£]?\d[\d,]*(?:\.\d+)?%?")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n)\s*[\"'(]?$")


def _opens_sentence(text: str, start: int) -> bool:
    """Whether the word at ``start`` opens a sentence: ``_SENTENCE_START`` matched against
    ``text[:start]``, read backwards from ``start`` instead of searched from the beginning
    (the regex scans the whole prefix: quadratic in a response's length)."""
    p = text[:start]
    if p[-1:] in ('"', "'", "("):  # the optional opening quote or parenthesis
        p = p[:-1]
    stripped = p.rstrip()
    gap = p[len(stripped) :]
    if not stripped:  # only whitespace before it: the text's start
        return True
    if "\n" in gap:
        return True
    return bool(gap) and stripped[-1] in ".!?:;"


def _number(token: str) -> str:
    return token.strip("$€£%").replace(",", "").rstrip(".")


@lru_cache(maxsize=1 << 16)
def _stem(word: str) -> str:
    word = word.lower().strip("'-")
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


@dataclass(frozen=True)
class Support:
    """One response's lexical support."""

    support: float
    content: int
    unsupported_numbers: tuple[str, ...]
    unsupported_entities: tuple[str, ...]
    unsupported_words: tuple[str, ...]

    @property
    def unsupported_claims(self) -> int:
        return len(self.unsupported_numbers) + len(self.unsupported_entities)

    @property
    def score(self) -> int:
        raw = 1 + round(4 * self.support) - 2 * self.unsupported_claims
        return int(min(5, max(1, raw)))


@lru_cache(maxsize=4096)
def _source_vocabulary(text: str) -> tuple[frozenset[str], frozenset[str]]:
    numbers = frozenset(_number(m.group()) for m in _NUMBER.finditer(text))
    words = frozenset(_stem(m.group()) for m in _WORD.finditer(text))
    return numbers, words


def lexical_support(response: str, context: str, question: str = "") -> Support:
    """How much of ``response``'s content ``context`` (and ``question``) support."""
    if is_refusal(response):
        return Support(1.0, 0, (), (), ())
    response = strip_contact_details(response)
    numbers, words = _source_vocabulary(f"{context}\n{question}")
    found_numbers = [_number(m.group()) for m in _NUMBER.finditer(response)]
    bad_numbers = [x for x in found_numbers if x not in numbers]
    bad_entities: list[str] = []
    bad_words: list[str] = []
    content = len(found_numbers)
    supported = len(found_numbers) - len(bad_numbers)
    for m in _WORD.finditer(response):
        token = m.group()
        stem = _stem(token)
        if stem in STOP_WORDS or len(stem) < 2:
            continue
        entity = token[0].isupper() and not _opens_sentence(response, m.start())
        content += 1
        if stem in words:
            supported += 1
        elif entity:
            bad_entities.append(token)
        else:
            bad_words.append(token)
    share = supported / content if content else 1.0
    return Support(share, content, tuple(bad_numbers), tuple(bad_entities), tuple(bad_words))


def support_rows(
    responses: Sequence[str], contexts: Sequence[str], questions: Sequence[str] | None = None
) -> list[Support]:
    """:func:`lexical_support` of every row (each distinct row once)."""
    questions = questions if questions is not None else [""] * len(responses)
    seen: dict[tuple[str, str, str], Support] = {}
    out = []
    for row in zip(responses, contexts, questions, strict=True):
        found = seen.get(row)
        if found is None:
            found = seen[row] = lexical_support(*row)
        out.append(found)
    return out


def groundedness_scores(supports: Sequence[Support]) -> np.ndarray:
    """The 1-5 heuristic scores."""
    return np.array([s.score for s in supports], dtype=np.float64)


def support_shares(supports: Sequence[Support]) -> np.ndarray:
    """The 0-1 supported shares."""
    return np.array([s.support for s in supports], dtype=np.float64)
