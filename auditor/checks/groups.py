"""Sensitive groups shared by the data and fairness checks: codes, the compared class, sizes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from auditor.words import count_words

if TYPE_CHECKING:  # pragma: no cover
    from auditor.checks.registry import CheckContext

SMALL_SHOWN = 4  # small groups named one by one in a summary; the rest are counted


def positive_class(ctx: CheckContext) -> int:
    """Index of the class whose outcome fairness compares.

    Binary tasks use the positive class. Multiclass tasks use ``objective.positive`` when
    it names a class, else the least frequent class in the training split (usually the
    class of interest, e.g. the most urgent triage level).
    """
    if ctx.task == "binary":
        return 1
    classes = [str(c) for c in ctx.evaluation.classes]
    wanted = ctx.spec.objective.positive
    if wanted is not None and str(wanted) in classes:
        return classes.index(str(wanted))
    y_train = ctx.dataset.y.get("train")
    if y_train is None:
        y_train = ctx.evaluation.splits[next(iter(ctx.evaluation.splits))].y_true
    counts = np.bincount(np.asarray(y_train).astype(int), minlength=len(classes))
    return int(np.argmin(counts))


def partition_codes(frame, columns: list[str]) -> tuple[np.ndarray, list[str]]:
    """Group code per row and group labels ('female & 18-30') for a set of sensitive columns."""
    import pandas as pd

    code = np.zeros(len(frame), dtype=np.int64)
    for col in columns:
        c, _ = pd.factorize(frame[col].astype(str), sort=True)
        code = code * (int(c.max(initial=0)) + 1) + c
    uniq, inverse = np.unique(code, return_inverse=True)
    first = np.zeros(len(uniq), dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(code))[::-1]
    labels = [" & ".join(str(frame[col].iloc[i]) for col in columns) for i in first]
    return inverse, labels


def small_groups_text(labels, sizes, needed, minimum: int) -> str:
    """'2 groups have fewer than 30 rows and cannot be judged: a (25 rows, 5 more needed), ...'."""
    small = [i for i in np.argsort(-np.asarray(needed), kind="stable") if needed[i] > 0]
    shown = [
        f"{labels[i]} ({count_words(int(sizes[i]), 'row')}, {int(needed[i]):,} more needed)"
        for i in small[:SMALL_SHOWN]
    ]
    rest = len(small) - len(shown)
    listed = ", ".join(shown) + (f" and {rest} more" if rest > 0 else "")
    if len(small) == 1:
        return (
            f"Group {listed} is below the minimum of {count_words(minimum, 'row')}, so it "
            "cannot be judged."
        )
    return (
        f"{count_words(len(small), 'group')} have fewer than {count_words(minimum, 'row')} and "
        f"cannot be judged: {listed}."
    )


def collect_rows_step(labels, needed, minimum: int, sens: str) -> str:
    """The one step for groups too small to judge, worded alike by every check that asks.

    'Collect at least 1 more row of south (and of the other small groups listed) - every
    group needs 30 - before judging fairness across clinic.' The split is left out: the
    group sizes checks and the fairness figures of every split then give one step, which
    names the findings it comes from.
    """
    needed = np.asarray(needed)
    worst = int(np.argmax(needed))
    others = int((needed > 0).sum()) > 1
    return (
        f"Collect at least {count_words(int(needed[worst]), 'more row')} of {labels[worst]}"
        + (" (and of the other small groups listed)" if others else "")
        + f" - every group needs {minimum} - before judging fairness across {sens}."
    )
