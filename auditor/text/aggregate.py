"""Aggregates of per-row text figures with bootstrap intervals.

The resample weights are :func:`auditor.metrics.bootstrap.resample_apply`'s (Poisson(1)
counts per row, seeded per chunk), so a text figure is resampled exactly like a tabular
one. A mean figure is ``W @ values / W.sum``; a corpus figure (BLEU, chrF) sums the rows'
sufficient statistics under each resample's weights, ``W @ stats``, and recomputes the
score from the sum - sacrebleu's own paired bootstrap, with weights instead of drawn
indices. A pass rate is the mean of the per-row indicator ``value >= threshold`` (or
``<=`` for a figure where lower is better).

Speed: most text figures take few distinct values per row (a pass indicator two, a 1-5
score a handful, a refusal flag two; the statistics of templated answers repeat). When the
rows hold at most one distinct value (or row of statistics) per :data:`LEVEL_FACTOR` rows,
the rows of each value are resampled together: their total weight is drawn as one
Poisson(count) number, which is exactly the distribution of the sum of ``count``
independent Poisson(1) row weights. The replicates then cost B x levels instead of
B x rows (the same bootstrap, a different random stream: the interval moves by
Monte-Carlo noise only). :func:`aggregate_gap` does the same for the difference of two
groups' figures, each group resampled on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from auditor.metrics.bootstrap import MAX_CELLS, percentile_interval, resample_apply

#: Rows per distinct value needed before the rows are resampled per value (see above).
LEVEL_FACTOR = 4
#: The random stream of per-value resampling (apart from the row weights' streams).
_LEVEL_STREAM = 104_723


@dataclass(frozen=True)
class TextEstimate:
    """A text figure: point value, percentile interval and the rows it is over."""

    value: float
    low: float | None
    high: float | None
    n: int

    @property
    def ci(self) -> tuple[float, float] | None:
        return None if self.low is None or self.high is None else (self.low, self.high)


def _estimate(value: float, replicates, n: int, confidence: float) -> TextEstimate:
    ci = None if replicates is None else percentile_interval(replicates, confidence)
    low, high = (None, None) if ci is None else ci
    return TextEstimate(float(value), low, high, n)


def levels(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The distinct values (rows of statistics) and their counts, or None when there are
    more than one per :data:`LEVEL_FACTOR` rows or a value is not finite."""
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[0]
    if n == 0 or not np.isfinite(values).all():
        return None
    if values.ndim == 1:
        found, counts = np.unique(values, return_counts=True)
    else:
        found, counts = np.unique(values, axis=0, return_counts=True)
    return (found, counts.astype(np.float64)) if len(found) * LEVEL_FACTOR <= n else None


def level_apply(counts: np.ndarray, fn, *, resamples: int, seed: int) -> np.ndarray:
    """``fn(weights)`` over chunks of (chunk, levels) weights, each Poisson(count): the
    total weight of a value's rows under the row-by-row Poisson bootstrap."""
    counts = np.asarray(counts, dtype=np.float64)
    k = max(len(counts), 1)
    chunk = max(1, min(resamples, MAX_CELLS // k))
    parts = []
    for c, start in enumerate(range(0, resamples, chunk)):
        size = min(chunk, resamples - start)
        rng = np.random.default_rng([int(seed), _LEVEL_STREAM, c])
        parts.append(fn(rng.poisson(counts, size=(size, len(counts))).astype(np.float64)))
    return np.concatenate(parts)


def _figure(corpus):
    """``figure(weights, values)``: the weighted mean, or the corpus score of the weighted
    sum of statistics, per resample."""
    if corpus is None:
        return lambda w, v: (w @ v) / np.maximum(w.sum(axis=1), 1.0)
    return lambda w, v: np.array([corpus(s) for s in w.astype(np.float64) @ v])


def _replicates(values: np.ndarray, corpus, *, resamples: int, seed: int):
    """The figure's bootstrap replicates (per value when the rows allow, else per row)."""
    figure = _figure(corpus)
    compact = levels(values)
    if compact is not None:
        found, counts = compact
        return level_apply(counts, lambda w: figure(w, found), resamples=resamples, seed=seed)
    return resample_apply(len(values), lambda w: figure(w, values), resamples=resamples, seed=seed)


def aggregate(
    values: np.ndarray,
    *,
    resamples: int,
    seed: int,
    confidence: float,
    corpus: Callable[[np.ndarray], float] | None = None,
) -> TextEstimate:
    """The mean of per-row ``values`` (n,), or with ``corpus`` the corpus score of per-row
    statistics ``values`` (n, k), with a percentile bootstrap interval."""
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[0]
    if n == 0:
        return TextEstimate(float("nan"), None, None, 0)
    point = float(values.mean()) if corpus is None else corpus(values.sum(axis=0))
    reps = _replicates(values, corpus, resamples=resamples, seed=seed) if resamples else None
    return _estimate(point, reps, n, confidence)


def aggregate_gap(
    group: np.ndarray,
    reference: np.ndarray,
    *,
    resamples: int,
    seed: int,
    confidence: float,
    corpus: Callable[[np.ndarray], float] | None = None,
) -> tuple[float, tuple[float, float] | None]:
    """A group's figure minus a reference group's, with a percentile interval.

    The two groups are disjoint rows, resampled independently (per value where each
    group's rows allow, else per row), so each replicate is the difference of two
    independent resamples. No interval without resamples or with an empty group.
    """
    group = np.asarray(group, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    figure = _figure(corpus)
    point = float(
        figure(np.ones((1, len(group))), group)[0]
        - figure(np.ones((1, len(reference))), reference)[0]
    )
    if not resamples or not len(group) or not len(reference):
        return point, None
    a = _replicates(group, corpus, resamples=resamples, seed=seed)
    b = _replicates(reference, corpus, resamples=resamples, seed=seed + 1)
    return point, percentile_interval(a - b, confidence)


def passes(values: np.ndarray, threshold: float, *, higher_is_better: bool = True) -> np.ndarray:
    """The per-row indicator of meeting ``threshold``."""
    values = np.asarray(values, dtype=np.float64)
    hit = values >= threshold if higher_is_better else values <= threshold
    return hit.astype(np.float64)


def pass_rate(
    values: np.ndarray,
    threshold: float,
    *,
    higher_is_better: bool = True,
    resamples: int,
    seed: int,
    confidence: float,
) -> TextEstimate:
    """The share of rows meeting ``threshold``, with its interval."""
    hit = passes(values, threshold, higher_is_better=higher_is_better)
    return aggregate(hit, resamples=resamples, seed=seed, confidence=confidence)
