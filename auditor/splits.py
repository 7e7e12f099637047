"""The split vocabulary: each split's name and how sentences, criteria and tables say it."""

from __future__ import annotations

from dataclasses import dataclass


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


def _words(split: str | None) -> SplitWords:
    name = str(split or "")
    return SPLIT_WORDS.get(name) or SplitWords(
        name=name, adjective=name, phrase=f"the {name} split", column=name
    )


def split_phrase(split: str | None) -> str:
    """'the training split', 'the client holdout'."""
    return _words(split).phrase


def split_adjective(split: str | None) -> str:
    """'training' (as in "on the training split")."""
    return _words(split).adjective


def split_column(split: str | None) -> str:
    """'training', 'client holdout' (table headers)."""
    return _words(split).column
