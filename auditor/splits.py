"""The split vocabulary: each split's role and how sentences, criteria and tables name it.

The four standard splits (train, validation, test, holdout) have fixed words. Audit files
(``data.audit``) are splits named by the spec, with a label for people ("client, 2026 Q3");
the development data (``data.reference``) is the split ``reference``; the rows a decision
threshold is chosen on for audit-only data are the split ``threshold``.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Literal

from auditor.types import SPLITS

Role = Literal["train", "validation", "test", "holdout", "audit", "reference", "threshold"]
#: Roles of the data a model is judged on as the client's (drift, fairness, fit figures),
#: the usual one first.
CLIENT_ROLE_ORDER: tuple[str, ...] = ("test", "holdout", "audit")
CLIENT_ROLES: frozenset[str] = frozenset(CLIENT_ROLE_ORDER)
#: Roles of the splits a fit figure (gap, baselines, suspicious scores) is judged on.
EVALUATED_ROLES: frozenset[str] = CLIENT_ROLES | {"validation"}
#: Split names a spec's audit files cannot take.
RESERVED: tuple[str, ...] = (*SPLITS, "reference", "threshold")


@dataclass(frozen=True, kw_only=True)
class SplitWords:
    """How one split is named.

    Attributes
    ----------
    name : str
        As written in a spec (``holdout``).
    adjective : str
        In "on the ... split" (``training``).
    phrase : str
        As a sentence names it (``the client holdout``).
    column : str
        As a table column heads it (``client holdout``).
    """

    name: str
    adjective: str
    phrase: str
    column: str


SPLIT_WORDS: dict[str, SplitWords] = {
    w.name: w
    for w in (
        SplitWords(
            name="train",
            adjective="training",
            phrase="the training split",
            column="training",
        ),
        SplitWords(
            name="validation",
            adjective="validation",
            phrase="the validation split",
            column="validation",
        ),
        SplitWords(name="test", adjective="test", phrase="the test split", column="test"),
        SplitWords(
            name="holdout",
            adjective="holdout",
            phrase="the client holdout",
            column="client holdout",
        ),
    )
}


def words(split: str | None, label: str | None = None) -> SplitWords:
    """The words of a split; an audit or reference split is named by its ``label``."""
    name = str(split or "")
    if name in SPLIT_WORDS:
        return SPLIT_WORDS[name]
    shown = label or name
    phrase = f"the {shown}" if shown.endswith("data") else f"the {shown} data"
    return SplitWords(name=name, adjective=shown, phrase=phrase, column=shown)


def split_phrase(split: str | None, label: str | None = None) -> str:
    """'the training split', 'the client holdout', 'the client, 2026 Q3 data'."""
    return words(split, label).phrase


def split_adjective(split: str | None, label: str | None = None) -> str:
    """'training' (as in "on the training split")."""
    return words(split, label).adjective


def split_column(split: str | None, label: str | None = None) -> str:
    """'training', 'client holdout' (table headers)."""
    return words(split, label).column


def bootstrap_seed(seed: int, split: str, purpose: int) -> int:
    """The bootstrap seed of one split and purpose, from ``evaluation.seed``.

    Deterministic and distinct per split and purpose; every check and text metric draws
    from it.
    """
    return int(seed) * 1_000_003 + split_number(split) * 101 + purpose


def split_number(split: str) -> int:
    """A stable number per split name, for seeds: the standard splits keep their index."""
    if split in SPLITS:
        return SPLITS.index(split)
    return 4 + zlib.crc32(split.encode("utf-8")) % 9973
