"""The drift catalogue: how a column of client data is compared with the development data.

Each column is summarised once as counts over common bins: the categories of a
categorical column (those of the reference, plus one bin for categories it never had),
or, for a numeric column, quantile bins of the reference (at most :data:`NUMERIC_BINS`,
plus one bin for missing values). From two count vectors every statistic follows:

- the *test* gives a p-value: Kolmogorov-Smirnov for numeric columns (its distribution,
  ``scipy.stats.kstwo``, at the effective sample size), Pearson's chi-square for categorical
  ones (``scipy.stats.chi2_contingency``); p-values across columns are controlled for the
  false-discovery rate with Benjamini-Hochberg (``scipy.stats.false_discovery_control``),
  so that 50 columns do not raise 2 false alarms by chance;
- the *effect size* a criterion bounds is the statistic the spec names
  (:data:`DRIFT_STATISTICS`): the Kolmogorov-Smirnov distance or the Wasserstein distance
  (in units of the reference's interquartile range) for numeric columns, Cramér's V or the
  population stability index for categorical ones.

Effect sizes get bootstrap intervals without touching the rows again: a Poisson bootstrap of
the rows sums, within each bin, to a Poisson draw of the bin's count, so resampling the
(B, bins) count matrices is the row bootstrap exactly. Binning at :data:`NUMERIC_BINS`
reference quantiles makes the Kolmogorov-Smirnov distance a lower bound of the exact one by
at most the largest bin's share (about 1/NUMERIC_BINS).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

ColumnKind = Literal["numeric", "categorical"]
NUMERIC_BINS = 100  # reference quantile bins of a numeric column
EPS = 1e-4  # share given to an empty bin in the population stability index (a usual choice)


@dataclass(frozen=True)
class Binned:
    """One column of both samples as counts over common bins.

    ``edges`` are the numeric bins' inner edges (None for a categorical column);
    ``labels`` the bins' names (categories, or "[a, b)" ranges); ``unseen`` marks the bins of
    values the reference never had (categories; none for numeric columns); the last numeric
    bin holds missing values.
    """

    kind: ColumnKind
    reference: np.ndarray  # (bins,) counts
    current: np.ndarray  # (bins,) counts
    labels: list[str]
    unseen: np.ndarray  # (bins,) bool
    edges: np.ndarray | None = None
    centers: np.ndarray | None = None  # numeric: where each bin's mass sits (pooled means)
    scale: float = 1.0  # numeric: the reference's interquartile range (Wasserstein's unit)


def _cdf_gap(ref: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """Largest gap between the two cumulative shares over the ordered bins, (..., bins)."""
    ref = ref / np.maximum(ref.sum(axis=-1, keepdims=True), 1e-12)
    cur = cur / np.maximum(cur.sum(axis=-1, keepdims=True), 1e-12)
    return np.abs(np.cumsum(ref - cur, axis=-1)).max(axis=-1)


def ks_distance(b: Binned, ref: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """The Kolmogorov-Smirnov distance over the ordered numeric bins (missing values apart)."""
    return _cdf_gap(ref[..., :-1], cur[..., :-1])


def wasserstein(b: Binned, ref: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """The Wasserstein distance between the binned distributions, in reference IQRs.

    Each bin's mass sits at the mean of the values (of both samples) that fell in it, so
    the distance is that of two discrete distributions on the same ordered points: the
    area between their cumulative shares, summed over the gaps between the points.
    """
    r = ref[..., :-1] / np.maximum(ref[..., :-1].sum(axis=-1, keepdims=True), 1e-12)
    c = cur[..., :-1] / np.maximum(cur[..., :-1].sum(axis=-1, keepdims=True), 1e-12)
    gaps = np.diff(b.centers)
    if gaps.size == 0:
        return np.zeros(np.shape(ref)[:-1])
    cumulative = np.abs(np.cumsum(r - c, axis=-1))[..., :-1]
    return (cumulative * gaps).sum(axis=-1) / max(b.scale, 1e-12)


def cramers_v(b: Binned, ref: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """Cramér's V of the 2 x bins table (0: the same shares, 1: no category in common)."""
    table = np.stack([ref, cur], axis=-2).astype(np.float64)  # (..., 2, bins)
    n = table.sum(axis=(-2, -1))
    rows = table.sum(axis=-1, keepdims=True)
    cols = table.sum(axis=-2, keepdims=True)
    expected = rows * cols / np.maximum(n, 1e-12)[..., None, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        chi2 = np.where(expected > 0, (table - expected) ** 2 / expected, 0.0).sum(axis=(-2, -1))
    used = (cols > 0).sum(axis=(-2, -1))
    k = np.maximum(np.minimum(used, 2) - 1, 1)
    return np.sqrt(chi2 / np.maximum(n, 1e-12) / k)


def psi(b: Binned, ref: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """The population stability index: sum of (c - r) * ln(c / r) over the bins' shares."""
    r = ref / np.maximum(ref.sum(axis=-1, keepdims=True), 1e-12)
    c = cur / np.maximum(cur.sum(axis=-1, keepdims=True), 1e-12)
    r, c = np.maximum(r, EPS), np.maximum(c, EPS)
    return ((c - r) * np.log(c / r)).sum(axis=-1)


@dataclass(frozen=True, kw_only=True)
class DriftStatistic:
    """One catalogued drift effect size.

    Attributes
    ----------
    name : str
        As written in a spec (``evaluation.drift.numeric: wasserstein``).
    label : str
        Plain-language name.
    kind : {"numeric", "categorical"}
        The columns it measures.
    effect : callable
        ``effect(binned, reference_counts, current_counts) -> (...)``; vectorised over
        leading axes (bootstrap resamples).
    value_range : (float, float or None)
        The values it can take.
    unit : str
        How its value reads in a sentence.
    """

    name: str
    label: str
    kind: ColumnKind
    effect: Callable[[Binned, np.ndarray, np.ndarray], np.ndarray]
    value_range: tuple[float, float | None]
    unit: str


_STATISTICS = [
    DriftStatistic(
        name="ks",
        label="Kolmogorov-Smirnov distance",
        kind="numeric",
        effect=ks_distance,
        value_range=(0.0, 1.0),
        unit="the largest gap between the two cumulative distributions",
    ),
    DriftStatistic(
        name="wasserstein",
        label="Wasserstein distance",
        kind="numeric",
        effect=wasserstein,
        value_range=(0.0, None),
        unit="how far values moved, in interquartile ranges of the development data",
    ),
    DriftStatistic(
        name="cramers_v",
        label="Cramér's V",
        kind="categorical",
        effect=cramers_v,
        value_range=(0.0, 1.0),
        unit="0 for the same category shares, 1 for no category in common",
    ),
    DriftStatistic(
        name="psi",
        label="Population stability index",
        kind="categorical",
        effect=psi,
        value_range=(0.0, None),
        unit="0.1 is usually read as a moderate shift, 0.25 as a large one",
    ),
]
DRIFT_STATISTICS: dict[str, DriftStatistic] = {s.name: s for s in _STATISTICS}


def statistic_names(kind: ColumnKind) -> list[str]:
    """The effect sizes catalogued for one kind of column."""
    return [s.name for s in DRIFT_STATISTICS.values() if s.kind == kind]


# ------------------------------------------------------------------ binning
def _linear_quantiles(ordered: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``np.quantile(values, q)`` (its default, linear method) of already sorted values."""
    h = (ordered.size - 1) * q
    low = np.floor(h).astype(np.int64)
    high = np.minimum(low + 1, ordered.size - 1)
    return ordered[low] + (h - low) * (ordered[high] - ordered[low])


def as_floats(values) -> np.ndarray:
    """``values`` as floating-point numbers; float32 is kept (it sorts in half the time)."""
    x = np.asarray(values)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def bin_numeric(reference: np.ndarray, current: np.ndarray) -> Binned:
    """Counts of both samples over the reference's quantile bins, plus a missing-value bin.

    Both samples are sorted once; quantiles, bin counts and each bin's sum (for its centre)
    are then read off the sorted values at the bin edges, which is several times faster than
    looking up a million unsorted values one by one.
    """
    ref, cur = as_floats(reference), as_floats(current)
    ref_ok, cur_ok = np.sort(ref[np.isfinite(ref)]), np.sort(cur[np.isfinite(cur)])
    if ref_ok.size:
        cuts = _linear_quantiles(ref_ok, np.linspace(0, 1, NUMERIC_BINS + 1)[1:-1])
        edges = np.unique(cuts)
        q1, q3 = _linear_quantiles(ref_ok, np.array([0.25, 0.75]))
        scale = float(q3 - q1) or float(np.std(ref_ok)) or 1.0
    else:
        edges, scale = np.array([]), 1.0
    bins = edges.size + 1

    def positions(ordered: np.ndarray) -> np.ndarray:
        """Where each bin starts and ends in ``ordered`` (bins + 1 positions)."""
        return np.concatenate([[0], np.searchsorted(ordered, edges, side="left"), [ordered.size]])

    def counts(values: np.ndarray, at: np.ndarray) -> np.ndarray:
        out = np.zeros(bins + 1)
        out[:bins] = np.diff(at)
        out[bins] = values.size - at[-1]  # missing
        return out

    def bin_sums(ordered: np.ndarray, at: np.ndarray) -> np.ndarray:
        running = np.concatenate([[0.0], np.cumsum(ordered, dtype=np.float64)])
        return np.diff(running[at])

    ref_at, cur_at = positions(ref_ok), positions(cur_ok)
    bounds = [-np.inf, *edges.tolist(), np.inf]
    labels = [f"[{bounds[i]:.4g}, {bounds[i + 1]:.4g})" for i in range(bins)] + ["missing"]
    sums = bin_sums(ref_ok, ref_at) + bin_sums(cur_ok, cur_at)
    sizes = np.diff(ref_at) + np.diff(cur_at)
    finite_bounds = np.clip(np.asarray(bounds), edges.min(initial=0.0), edges.max(initial=0.0))
    middles = (finite_bounds[:-1] + finite_bounds[1:]) / 2
    centers = np.where(sizes > 0, sums / np.maximum(sizes, 1), middles)
    return Binned(
        kind="numeric",
        reference=counts(ref, ref_at),
        current=counts(cur, cur_at),
        labels=labels,
        unseen=np.zeros(bins + 1, dtype=bool),
        edges=edges,
        centers=np.maximum.accumulate(centers),
        scale=scale,
    )


def bin_categorical(reference, current) -> Binned:
    """Counts per category (missing values are a category of their own)."""
    import pandas as pd

    ref = pd.Series(reference).astype("string").fillna("(missing)")
    cur = pd.Series(current).astype("string").fillna("(missing)")
    ref_counts = ref.value_counts()
    cur_counts = cur.value_counts()
    known = list(ref_counts.index)
    unseen = [c for c in cur_counts.index if c not in ref_counts.index]
    labels = [str(c) for c in [*known, *unseen]]
    return Binned(
        kind="categorical",
        reference=np.array([ref_counts.get(c, 0) for c in [*known, *unseen]], dtype=np.float64),
        current=np.array([cur_counts.get(c, 0) for c in [*known, *unseen]], dtype=np.float64),
        labels=labels,
        unseen=np.array([False] * len(known) + [True] * len(unseen)),
    )


# ------------------------------------------------------------------ tests and intervals
def p_value(b: Binned) -> float:
    """The drift test's p-value: Kolmogorov-Smirnov (numeric) or chi-square (categorical)."""
    from scipy import stats

    n_ref, n_cur = float(b.reference.sum()), float(b.current.sum())
    if n_ref == 0 or n_cur == 0:
        return float("nan")
    if b.kind == "numeric":
        d = float(_cdf_gap(b.reference, b.current))
        effective = n_ref * n_cur / (n_ref + n_cur)
        return float(stats.kstwobign.sf(d * np.sqrt(effective)))
    used = (b.reference + b.current) > 0
    if used.sum() < 2:
        return 1.0
    table = np.stack([b.reference[used], b.current[used]])
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def false_discovery(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (NaN stays NaN)."""
    from scipy import stats

    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = stats.false_discovery_control(p[ok], method="bh")
    return out


def effect_interval(
    statistic: DriftStatistic, b: Binned, *, resamples: int, confidence: float, seed: int
) -> tuple[float, tuple[float, float] | None]:
    """The effect size and its bootstrap interval (Poisson-resampled bin counts).

    A distance between two samples is biased away from 0 by resampling (a true 0 is never
    inside a percentile interval), so the interval is the hull of the percentile and basic
    intervals, clipped to the statistic's range, as for the across-group fairness figures.
    """
    from auditor.metrics.bootstrap import hull_interval

    value = float(statistic.effect(b, b.reference, b.current))
    if resamples <= 0:
        return value, None
    rng = np.random.default_rng(seed)
    ref = rng.poisson(b.reference, size=(resamples, b.reference.size)).astype(np.float64)
    cur = rng.poisson(b.current, size=(resamples, b.current.size)).astype(np.float64)
    low, high = statistic.value_range
    replicates = statistic.effect(b, ref, cur)
    return value, hull_interval(replicates, value, confidence, lower=low, upper=high)
