"""Aggregates of per-row text figures with bootstrap intervals.

The resample weights are :func:`auditor.metrics.bootstrap.resample_apply`'s (Poisson(1)
counts per row, seeded per chunk), so a text figure is resampled exactly like a tabular
one. A mean figure is ``W @ values / W.sum``; a corpus figure (BLEU, chrF) sums the rows'
sufficient statistics under each resample's weights, ``W @ stats``, and recomputes the
score from the sum - sacrebleu's own paired bootstrap, with weights instead of drawn
indices. A pass rate is the mean of the per-row indicator ``value >= threshold`` (or
``<=`` for a figure where lower is better).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from auditor.metrics.bootstrap import percentile_interval, resample_apply


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
    if corpus is None:
        point = float(values.mean())

        def fn(w):
            return (w @ values) / np.maximum(w.sum(axis=1), 1.0)
    else:
        point = corpus(values.sum(axis=0))

        def fn(w):
            sums = w.astype(np.float64) @ values
            return np.array([corpus(s) for s in sums])

    reps = resample_apply(n, fn, resamples=resamples, seed=seed) if resamples else None
    return _estimate(point, reps, n, confidence)


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
