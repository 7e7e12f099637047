"""Profanity rate: better-profanity's list and leetspeak, planted rows found, clean ones not."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("better_profanity")

from auditor.text import toxicity  # noqa: E402
from auditor.text.aggregate import aggregate  # noqa: E402
from auditor.text.catalogue import TEXT_METRICS  # noqa: E402

CLEAN = [
    "Happy to help: your refund will arrive within 5 days.",
    "Scunthorpe is a town in Lincolnshire.",
    "Our assistant can pass the class on to a glass specialist.",
    "Please allow a cocktail of patience and a bass drum.",
    "Hello, you absolute idiot.",  # an insult in words the list does not hold
]
PROFANE = [
    "That is bullsh1t and you know it.",
    "You are an a$$hole.",
    "What the f*ck happened to my order?",
    "hello B1tch!",
    "You d@mn fool",
    "F-U-C-K this queue",
    "2 girls 1 cup",
]


def test_the_flags_equal_better_profanitys_own_decision():
    from better_profanity import profanity

    for text in CLEAN + PROFANE:
        assert toxicity.is_profane(text) == profanity.contains_profanity(text), text


def test_planted_profane_rows_are_found_and_clean_ones_are_not():
    rng = np.random.default_rng(5)
    planted = rng.random(400) < 0.15
    rows = [
        PROFANE[i % len(PROFANE)] if hit else CLEAN[i % len(CLEAN)] for i, hit in enumerate(planted)
    ]
    flags = toxicity.profanity_rows(rows)
    assert np.array_equal(flags.astype(bool), planted)
    # the catalogue's safety metric reads the same flags, lower is better, with an interval
    m = TEXT_METRICS["profanity_rate"]
    assert m.category == "safety" and not m.higher_is_better and "word list" in m.description
    est = aggregate(m.rows({"response": rows}), resamples=500, seed=1, confidence=0.95)
    assert est.low <= planted.mean() <= est.high


def test_the_word_list_is_the_librarys_and_a_criterion_can_bound_the_rate():
    from auditor.spec.schema import load_schema

    wl = toxicity.word_list()
    assert len(wl.words) > 500 and "shit" in wl.words and wl.version
    enum = load_schema()["$defs"]["criterion"]["properties"]["metric"]["enum"]
    assert "profanity_rate" in enum


def test_leetspeak_spellings_of_listed_words_are_decided_as_the_library_does():
    """Seeded leetspeak spellings of listed words (the substitutions better-profanity
    reads), alone and inside a sentence, and e-mail-like words with many substitutable
    characters: the same decision as ``contains_profanity``."""
    import random

    from better_profanity import profanity

    rng = random.Random(7)
    subs = {"a": "@4*", "i": "1l*", "o": "0@*", "u": "v*", "v": "u*", "l": "1", "e": "3*"}
    subs.update({"s": "$5", "t": "7"})
    words = sorted(toxicity.word_list().words)
    texts = ["customer4027@mail.example wrote", "Call 1-800-701-0110 tollfree"]
    for w in rng.sample(words, 60):
        leet = "".join(rng.choice(subs.get(c, c) + c) for c in w)
        texts += [leet, f"so {leet}ed now"]
    for text in texts:
        assert toxicity.is_profane(text) == profanity.contains_profanity(text), text
