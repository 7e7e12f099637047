"""Which numeric columns an outlier rule may judge: one rule for the data checks and the
preprocessing (``data.preprocessing.outliers``), fitted on the training rows.

Tukey's IQR fence and the z-score are made for continuous measurements. A count or an
ordinal score (chronic conditions, prior claims, pain 0-10) has a legitimate tail that they
would flag wholesale, and a column piled up on one value (two equal quartiles) would put a
fence on that value. Such columns are left alone. Only numpy (and the numpy-only drift
metrics) is imported here, so that both ``auditor.checks.data`` and
``auditor.data.preprocess`` can share it cheaply.
"""

from __future__ import annotations

import numpy as np

from auditor.metrics.drift import as_floats

__all__ = [
    "DISCRETE_MAX_VALUES",
    "NOT_SCREENED",
    "not_screened_reason",
    "screenable",
    "skew_adjusted_fences",
]

# A numeric column with at most this many distinct whole-number values is count-like or an
# ordinal score (chronic conditions, prior claims, pain 0-10): its tail is legitimate data,
# and Tukey's IQR fence (made for continuous measurements) would flag it wholesale.
DISCRETE_MAX_VALUES = 20
NOT_SCREENED = {
    "discrete": "count-like or ordinal (at most {k} distinct whole numbers)",
    "constant_iqr": "piled up on one value (two training quartiles are equal)",
    "empty": "no numeric values in the training split",
}


def skew_adjusted_fences(train, factor: float):
    """Lower and upper outlier fences per column (Kimber's semi-interquartile fences).

    ``Q1 - 2k (Q2 - Q1)`` and ``Q3 + 2k (Q3 - Q2)``: for a symmetric column exactly Tukey's
    ``Q1 - k IQR`` and ``Q3 + k IQR`` (0.7% of normal data lies beyond them), while a
    right-skewed one (incomes, durations, amounts) gets a longer upper fence, so its natural
    tail (~4.5% beyond Tukey's fence for exponential data, just under a 5% bound) is not
    mistaken for data errors (~3% beyond these fences).
    """
    q = train.quantile([0.25, 0.5, 0.75])  # one pass over each column, not three
    q1, q2, q3 = q.iloc[0], q.iloc[1], q.iloc[2]
    return q1 - 2 * factor * (q2 - q1), q3 + 2 * factor * (q3 - q2)


def screenable(values) -> str | None:
    """Why a numeric training column is not screened for outliers (None: it is).

    Parameters
    ----------
    values : array-like
        The column's training values as numbers (NaN and infinities are ignored).

    Returns
    -------
    str or None
        A key of :data:`NOT_SCREENED` (``"discrete"``, ``"constant_iqr"``, ``"empty"``),
        or None when the column is continuous enough for an outlier rule.
    """
    x = as_floats(values)  # float32 kept: it sorts in half the time
    x = np.sort(x[np.isfinite(x)])  # one sort gives the distinct values and the quartiles
    if x.size == 0:
        return "empty"
    distinct = x[np.r_[True, x[1:] != x[:-1]]]
    if distinct.size <= DISCRETE_MAX_VALUES and np.all(distinct == np.round(distinct)):
        return "discrete"
    q1, q2, q3 = np.quantile(x, [0.25, 0.5, 0.75])
    if q2 - q1 <= 0 or q3 - q2 <= 0:  # a fence would sit on a quartile
        return "constant_iqr"
    return None


def not_screened_reason(reason: str) -> str:
    """The plain-language sentence part for a :func:`screenable` reason key."""
    return NOT_SCREENED[reason].format(k=DISCRETE_MAX_VALUES)
