"""The fairness catalogue: per-group rates and the across-group metrics built on them.

Two tables, each the one place its names live:

- :data:`GROUP_RATES`: what is measured in each group (selection rate, true positive rate,
  mean absolute error, ...), each a ratio of two *counts* of the group's rows. The counts
  come from summing per-row indicator columns (:func:`row_columns`), so the same
  definition serves fairlearn's MetricFrame (point values, :func:`rate_from_sums`), every
  bootstrap resample at once (resample weights times the columns) and the report.
- :data:`FAIRNESS_METRICS`: the figures a criterion can bound (demographic parity
  difference, equalized odds ratio, worst-group accuracy, ...), each an aggregate
  (difference, ratio or minimum) over groups of one or more rates, with the sentence that
  explains it to a non-specialist.

Validation, the fairness check, the verdict and the report all read these tables; the
schema's criterion-metric enum is generated from them (``auditor/spec/enums.py``).

Adding a fairness metric: one :class:`FairnessMetric` entry (and a :class:`GroupRate` if
it aggregates a new rate), one row in ``tests/metrics/test_fairness_catalogue.py``, and
``make schema``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from auditor.types import CLASSIFICATION, REGRESSION, Task

Aggregate = Literal["difference", "ratio", "min", "difference_to_reference", "ratio_to_reference"]
#: The aggregates that compare each group with a reference group (one value per group).
TO_REFERENCE: tuple[Aggregate, ...] = ("difference_to_reference", "ratio_to_reference")
ValueFormat = Literal["points", "percent", "number"]

# ------------------------------------------------------------------ per-row columns
#: The per-row indicator columns whose (weighted) sums give every classification count:
#: the row itself, a truly positive outcome, a predicted positive outcome, both, correct.
CLASSIFICATION_COLUMNS = ("n", "y", "p", "tp", "correct")
#: The same for regression: the row, its absolute error, its prediction, its true value.
REGRESSION_COLUMNS = ("n", "abs", "pred", "y")


def row_columns(task: str, y_true, y_pred, positive: int) -> np.ndarray:
    """(n, q) per-row columns (:data:`CLASSIFICATION_COLUMNS` or :data:`REGRESSION_COLUMNS`).

    Parameters
    ----------
    task : {"binary", "multiclass", "regression"}
    y_true, y_pred : array-like
        Encoded truth and decisions (class index) or values (regression).
    positive : int
        The class whose outcome fairness compares (one-vs-rest in multiclass tasks).
    """
    if task == "regression":
        y = np.asarray(y_true, dtype=np.float64)
        p = np.asarray(y_pred, dtype=np.float64)
        return np.column_stack([np.ones_like(y), np.abs(y - p), p, y])
    y = np.asarray(y_true).astype(int)
    p = np.asarray(y_pred).astype(int)
    yb, pb = (y == positive).astype(np.float64), (p == positive).astype(np.float64)
    return np.column_stack([np.ones_like(yb), yb, pb, yb * pb, (y == p).astype(np.float64)])


def counts(task: str, sums: np.ndarray) -> dict[str, np.ndarray]:
    """Named counts from summed columns ``sums`` (..., q): the numerators and denominators.

    Classification: ``n`` rows, ``pos``/``neg`` truly positive/negative, ``pp``/``pn``
    predicted positive/negative, ``tp``, ``fp``, ``fn``, ``tn`` and ``correct``.
    Regression: ``n``, ``abs`` (summed absolute error), ``pred`` and ``y`` (summed values).
    """
    if task == "regression":
        return dict(zip(REGRESSION_COLUMNS, (sums[..., j] for j in range(4)), strict=True))
    n, y, p, tp, correct = (sums[..., j] for j in range(5))
    return {
        "n": n,
        "pos": y,
        "neg": n - y,
        "pp": p,
        "pn": n - p,
        "tp": tp,
        "fp": p - tp,
        "fn": y - tp,
        "tn": n - y - p + tp,
        "correct": correct,
    }


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """The ratio num / den, NaN where the denominator is 0 (a rate of no rows is undefined)."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


# ------------------------------------------------------------------ per-group rates
@dataclass(frozen=True, kw_only=True)
class GroupRate:
    """One rate measured in each group: ``numerator / denominator`` of two counts.

    Attributes
    ----------
    name : str
        Catalogue name (``tpr``).
    label : str
        Plain-language name (``True positive rate``).
    short_label : str
        Column header of the groups table (``TPR``).
    tasks : tuple of str
        Tasks it is measured for.
    numerator, denominator : str
        Names of :func:`counts`.
    greater_is_better : bool or None
        Which way is favourable for the group; None when neither is (a base rate, a mean
        prediction): the report then points at the groups below the highest.
    description : str
        One sentence for a non-specialist.
    of_split : bool
        Whether the denominator counts the whole split's rows rather than the group's: a
        group's *share* of a split total (its share of all positive decisions,
        Aequitas's ``ppr``). The groups of a partition cover the split, so the total is
        the sum over its groups.
    """

    name: str
    label: str
    short_label: str
    tasks: tuple[Task, ...]
    numerator: str
    denominator: str
    greater_is_better: bool | None
    description: str
    of_split: bool = False

    @property
    def words(self) -> str:
        """The label inside a sentence (``true positive rate``)."""
        return self.label[:1].lower() + self.label[1:]

    @property
    def is_share(self) -> bool:
        """Whether the rate is a share of rows (shown as a percentage)."""
        return self.tasks == CLASSIFICATION


_RATES: list[GroupRate] = [
    GroupRate(
        name="base_rate",
        label="Base rate",
        short_label="base rate",
        tasks=CLASSIFICATION,
        numerator="pos",
        denominator="n",
        greater_is_better=None,
        description="The share of the group whose true outcome is the positive one.",
    ),
    GroupRate(
        name="selection_rate",
        label="Selection rate",
        short_label="selection rate",
        tasks=CLASSIFICATION,
        numerator="pp",
        denominator="n",
        greater_is_better=True,
        description="The share of the group the model predicts the positive outcome for.",
    ),
    GroupRate(
        name="accuracy",
        label="Accuracy",
        short_label="accuracy",
        tasks=CLASSIFICATION,
        numerator="correct",
        denominator="n",
        greater_is_better=True,
        description="The share of the group's decisions the model gets right.",
    ),
    GroupRate(
        name="tpr",
        label="True positive rate",
        short_label="TPR",
        tasks=CLASSIFICATION,
        numerator="tp",
        denominator="pos",
        greater_is_better=True,
        description="Of the group's truly positive cases, the share the model finds.",
    ),
    GroupRate(
        name="fpr",
        label="False positive rate",
        short_label="FPR",
        tasks=CLASSIFICATION,
        numerator="fp",
        denominator="neg",
        greater_is_better=False,
        description="Of the group's truly negative cases, the share the model flags.",
    ),
    GroupRate(
        name="fnr",
        label="False negative rate",
        short_label="FNR",
        tasks=CLASSIFICATION,
        numerator="fn",
        denominator="pos",
        greater_is_better=False,
        description="Of the group's truly positive cases, the share the model misses.",
    ),
    GroupRate(
        name="precision",
        label="Precision",
        short_label="precision",
        tasks=CLASSIFICATION,
        numerator="tp",
        denominator="pp",
        greater_is_better=True,
        description="Of the group's cases the model flags, the share that truly are positive.",
    ),
    GroupRate(
        name="tnr",
        label="True negative rate",
        short_label="TNR",
        tasks=CLASSIFICATION,
        numerator="tn",
        denominator="neg",
        greater_is_better=True,
        description="Of the group's truly negative cases, the share the model leaves unflagged.",
    ),
    GroupRate(
        name="npv",
        label="Negative predictive value",
        short_label="NPV",
        tasks=CLASSIFICATION,
        numerator="tn",
        denominator="pn",
        greater_is_better=True,
        description="Of the group's cases the model does not flag, the share that truly are "
        "negative.",
    ),
    GroupRate(
        name="fdr",
        label="False discovery rate",
        short_label="FDR",
        tasks=CLASSIFICATION,
        numerator="fp",
        denominator="pp",
        greater_is_better=False,
        description="Of the group's cases the model flags, the share that truly are negative.",
    ),
    GroupRate(
        name="for",
        label="False omission rate",
        short_label="FOR",
        tasks=CLASSIFICATION,
        numerator="fn",
        denominator="pn",
        greater_is_better=False,
        description="Of the group's cases the model does not flag, the share that truly are "
        "positive.",
    ),
    GroupRate(
        name="positive_share",
        label="Share of positive decisions",
        short_label="share of positives",
        tasks=CLASSIFICATION,
        numerator="pp",
        denominator="pp",
        greater_is_better=None,
        description="The group's share of all the positive decisions the model makes.",
        of_split=True,
    ),
    GroupRate(
        name="mean_target",
        label="Mean target",
        short_label="mean target",
        tasks=REGRESSION,
        numerator="y",
        denominator="n",
        greater_is_better=None,
        description="The group's average true value.",
    ),
    GroupRate(
        name="mean_prediction",
        label="Mean prediction",
        short_label="mean prediction",
        tasks=REGRESSION,
        numerator="pred",
        denominator="n",
        greater_is_better=None,
        description="The group's average predicted value.",
    ),
    GroupRate(
        name="mae",
        label="Mean absolute error",
        short_label="MAE",
        tasks=REGRESSION,
        numerator="abs",
        denominator="n",
        greater_is_better=False,
        description="The typical size of the model's error for the group.",
    ),
]
GROUP_RATES: dict[str, GroupRate] = {r.name: r for r in _RATES}


def rate_names(task: str) -> list[str]:
    """The rates measured in each group for ``task``, in catalogue order."""
    return [r.name for r in GROUP_RATES.values() if task in r.tasks]


def group_rates(task: str, sums: np.ndarray) -> dict[str, np.ndarray]:
    """Every rate of ``task`` (and the group size ``n``) from summed columns (..., G, q).

    The groups (axis -2) are those of one partition of the split, so a rate of the split's
    total (:attr:`GroupRate.of_split`) divides by the sum over them.
    """
    c = counts(task, sums)
    out = {"n": c["n"]}
    for name in rate_names(task):
        rate = GROUP_RATES[name]
        den = c[rate.denominator]
        if rate.of_split:
            den = np.sum(den, axis=-1, keepdims=True)
        out[name] = ratio(c[rate.numerator], den)
    return out


def rate_from_sums(
    task: str, name: str, sums: np.ndarray, total: np.ndarray | None = None
) -> float:
    """One rate (or ``n``) of one group from its summed columns (q,): MetricFrame's metric.

    ``total``: the split's summed columns (q,), the denominator of a rate of the split's
    total (:attr:`GroupRate.of_split`); without it the group is taken as the whole split.
    """
    c = counts(task, np.asarray(sums, dtype=np.float64))
    if name == "n":
        return float(c["n"])
    rate = GROUP_RATES[name]
    den = c[rate.denominator]
    if rate.of_split and total is not None:
        den = counts(task, np.asarray(total, dtype=np.float64))[rate.denominator]
    return float(ratio(c[rate.numerator], den))


# ------------------------------------------------------------------ across-group metrics
@dataclass(frozen=True, kw_only=True)
class FairnessMetric:
    """One across-group figure a criterion can bound.

    Attributes
    ----------
    name : str
        Catalogue name, as written in a spec (``equalized_odds_difference``).
    label : str
        Plain-language name (``Equalized odds difference``).
    rates : tuple of str
        The per-group rates it aggregates (:data:`GROUP_RATES`).
    aggregate : {"difference", "ratio", "min", "difference_to_reference", "ratio_to_reference"}
        Highest minus lowest group, lowest over highest, or the lowest group's rate; over
        several rates, the largest difference or the smallest ratio/minimum. The
        ``*_to_reference`` forms compare *each* group with the partition's reference group
        (its rate minus, or over, the reference's: Aequitas's disparities); a bound on them
        must hold for every judgeable group, so the figure is the group furthest on the
        wrong side (:func:`worst_group`).
    tasks : tuple of str
        Tasks it is computed for.
    sentence : str
        What the figure says, for a non-specialist. Placeholders: ``{outcome}`` (the
        positive outcome, "approved = 1"), ``{high}``/``{low}`` (the groups with the
        highest and lowest deciding rate), ``{high_rate}``/``{low_rate}`` (their rates),
        ``{value}`` (the figure) and ``{rate}`` (the deciding rate's words). Against a
        reference group, ``{high}`` is the group the figure is about and ``{low}`` the
        reference group.
    other_sentence : str
        For figures over several rates: a clause on the rate that did not decide
        (``{other_rate}``, ``{other_value}``).
    diagnostic : str or None
        The ``evaluation.diagnostics`` setting that bounds the figure when no criterion
        does (None: only a criterion judges it).
    description : str
        One sentence for a non-specialist.
    """

    name: str
    label: str
    rates: tuple[str, ...]
    aggregate: Aggregate
    tasks: tuple[Task, ...]
    sentence: str
    other_sentence: str = ""
    diagnostic: str | None
    description: str

    @property
    def bound_direction(self) -> Literal["at_least", "at_most"]:
        """How a bound on it is written: a gap ``at_most``, a ratio or floor ``at_least``.

        Against a reference group either bound (or both) may be written; this is the one
        the figure is shown against when a criterion gives none.
        """
        return (
            "at_most"
            if self.aggregate in ("difference", "difference_to_reference")
            else ("at_least")
        )

    @property
    def to_reference(self) -> bool:
        """Whether it compares each group with the partition's reference group."""
        return self.aggregate in TO_REFERENCE

    @property
    def on_shares(self) -> bool:
        """Whether it aggregates shares of rows (classification) rather than values."""
        return all(GROUP_RATES[r].is_share for r in self.rates)

    @property
    def value_range(self) -> tuple[float | None, float | None]:
        """The values it can take: shares, ratios and gaps of shares lie in 0..1."""
        if self.aggregate == "ratio_to_reference":
            return (0.0, None)
        if self.aggregate == "difference_to_reference":
            return (-1.0, 1.0) if self.on_shares else (None, None)
        if self.on_shares:
            return (0.0, 1.0)
        return (0.0, None) if self.aggregate == "difference" else (None, None)

    @property
    def unit_interval(self) -> bool:
        """Whether the figure lies between 0 and 1."""
        return self.value_range == (0.0, 1.0)

    @property
    def value_format(self) -> ValueFormat:
        """How the figure reads in a sentence: points of a gap, a percentage, a number."""
        if self.on_shares and self.aggregate in ("difference", "difference_to_reference"):
            return "points"
        if self.on_shares and self.aggregate == "min":
            return "percent"
        return "number"


_FAIRNESS: list[FairnessMetric] = [
    FairnessMetric(
        name="demographic_parity_difference",
        label="Demographic parity difference",
        rates=("selection_rate",),
        aggregate="difference",
        tasks=CLASSIFICATION,
        sentence="The model predicts {outcome} for {high} {value} more often than for {low} "
        "({high_rate} vs {low_rate})",
        diagnostic="max_fairness_difference",
        description="The gap between the highest and lowest group selection rates.",
    ),
    FairnessMetric(
        name="demographic_parity_ratio",
        label="Demographic parity ratio",
        rates=("selection_rate",),
        aggregate="ratio",
        tasks=CLASSIFICATION,
        sentence="The lowest selection rate ({low}, {low_rate}) is {value} times the highest "
        "({high}, {high_rate})",
        diagnostic="min_fairness_ratio",
        description="The lowest group selection rate over the highest (1 is parity).",
    ),
    FairnessMetric(
        name="equalized_odds_difference",
        label="Equalized odds difference",
        rates=("tpr", "fpr"),
        aggregate="difference",
        tasks=CLASSIFICATION,
        sentence="The {rate} of {high} is {value} higher than that of {low} "
        "({high_rate} vs {low_rate})",
        other_sentence="; the {other_rate} gap is {other_value}",
        diagnostic="max_fairness_difference",
        description="The larger of the true positive rate gap and the false positive rate "
        "gap between groups.",
    ),
    FairnessMetric(
        name="equalized_odds_ratio",
        label="Equalized odds ratio",
        rates=("tpr", "fpr"),
        aggregate="ratio",
        tasks=CLASSIFICATION,
        sentence="The {rate} of {low} ({low_rate}) is {value} times that of {high} ({high_rate})",
        other_sentence="; the {other_rate} ratio is {other_value}",
        diagnostic="min_fairness_ratio",
        description="The smaller of the true positive rate ratio and the false positive rate "
        "ratio between groups (1 is parity).",
    ),
    FairnessMetric(
        name="equal_opportunity_difference",
        label="Equal opportunity difference",
        rates=("tpr",),
        aggregate="difference",
        tasks=CLASSIFICATION,
        sentence="Among cases that truly are {outcome}, the model finds those of {high} "
        "{value} more often than those of {low} ({high_rate} vs {low_rate})",
        diagnostic="max_fairness_difference",
        description="The gap between the highest and lowest group true positive rates.",
    ),
    FairnessMetric(
        name="false_positive_rate_difference",
        label="False positive rate difference",
        rates=("fpr",),
        aggregate="difference",
        tasks=CLASSIFICATION,
        sentence="Among cases that truly are not {outcome}, the model wrongly flags those of "
        "{high} {value} more often than those of {low} ({high_rate} vs {low_rate})",
        diagnostic="max_fairness_difference",
        description="The gap between the highest and lowest group false positive rates.",
    ),
    FairnessMetric(
        name="worst_group_accuracy",
        label="Worst-group accuracy",
        rates=("accuracy",),
        aggregate="min",
        tasks=CLASSIFICATION,
        sentence="The least accurate group, {low}, gets {value} of decisions right",
        diagnostic=None,
        description="The accuracy of the group the model serves worst.",
    ),
    FairnessMetric(
        name="accuracy_difference",
        label="Accuracy difference",
        rates=("accuracy",),
        aggregate="difference",
        tasks=CLASSIFICATION,
        sentence="Accuracy differs by {value} between {high} ({high_rate}) and {low} ({low_rate})",
        diagnostic="max_fairness_difference",
        description="The gap between the highest and lowest group accuracies.",
    ),
    FairnessMetric(
        name="mae_difference",
        label="Difference in mean absolute error",
        rates=("mae",),
        aggregate="difference",
        tasks=REGRESSION,
        sentence="The typical error for {high} is {value} larger than for {low} "
        "(MAE {high_rate} vs {low_rate})",
        diagnostic=None,
        description="The gap between the largest and smallest group mean absolute errors.",
    ),
    FairnessMetric(
        name="mean_prediction_difference",
        label="Difference in mean prediction",
        rates=("mean_prediction",),
        aggregate="difference",
        tasks=REGRESSION,
        sentence="Average predictions for {high} are {value} higher than for {low} "
        "({high_rate} vs {low_rate})",
        diagnostic=None,
        description="The gap between the highest and lowest group average predictions.",
    ),
]


#: per aggregate against the reference: (name suffix, label suffix, sentence, description)
_REFERENCE_WORDS = {
    "ratio_to_reference": (
        "ratio",
        "ratio to the reference group",
        "The {words} of {{high}} is {{value}} times that of the reference group, {{low}} "
        "({{high_rate}} vs {{low_rate}})",
        "Each group's {words} over the reference group's (1 is parity; the four-fifths rule "
        "asks for at least 0.8).",
    ),
    "difference_to_reference": (
        "difference",
        "difference to the reference group",
        "The {words} of {{high}} differs by {{value}} from that of the reference group, "
        "{{low}} ({{high_rate}} vs {{low_rate}})",
        "Each group's {words} minus the reference group's (0 is parity).",
    ),
}


def _against_reference(rate: GroupRate, how: Aggregate) -> FairnessMetric:
    """A rate's difference or ratio against the reference group (generated, one per rate)."""
    suffix, label, sentence, description = _REFERENCE_WORDS[how]
    return FairnessMetric(
        name=f"{rate.name}_{suffix}_to_reference",
        label=f"{rate.label} {label}",
        rates=(rate.name,),
        aggregate=how,
        tasks=rate.tasks,
        sentence=sentence.format(words=rate.words),
        diagnostic=None,
        description=description.format(words=rate.words),
    )


# every classification rate against the reference group, as a difference and as a ratio
# (fairlearn's generated metrics: one table of rates times aggregations, expanded once)
_FAIRNESS += [
    _against_reference(rate, how)
    for rate in _RATES
    if rate.tasks == CLASSIFICATION
    for how in ("ratio_to_reference", "difference_to_reference")
]
FAIRNESS_METRICS: dict[str, FairnessMetric] = {m.name: m for m in _FAIRNESS}


def fairness_metric_names(task: str | None = None) -> list[str]:
    """Catalogued fairness metrics, optionally only those computed for ``task``.

    Examples
    --------
    >>> fairness_metric_names("regression")
    ['mae_difference', 'mean_prediction_difference']
    """
    return [m.name for m in FAIRNESS_METRICS.values() if task is None or task in m.tasks]


def largest_group(sizes: np.ndarray) -> int:
    """The default reference group: the largest (the first of equals, in label order)."""
    return int(np.argmax(np.asarray(sizes)))


def against_reference(
    metric: FairnessMetric, rates: dict[str, np.ndarray], reference: int
) -> np.ndarray:
    """Each group's rate minus, or over, the reference group's (..., G); NaN for the reference.

    Aequitas's disparities: ``fpr_disparity`` is a group's FPR over the reference group's.
    """
    r = rates[metric.rates[0]]
    ref = r[..., reference : reference + 1]
    out = r - ref if metric.aggregate == "difference_to_reference" else ratio(r, ref)
    out = np.array(out, dtype=np.float64)
    out[..., reference] = np.nan
    return out


def worst_group(values: np.ndarray, bounds) -> int | None:
    """The group whose value is furthest on the wrong side of ``bounds``, or None.

    The smallest margin against all of them: with "between 0.8 and 1.25", the group
    nearest to breaking either. None when no group has a value. ``bounds``:
    :class:`auditor.judge.Bound` values.
    """
    values = np.asarray(values, dtype=np.float64)
    valid = np.isfinite(values)
    if not valid.any():
        return None
    margins = np.full(values.shape, np.inf)
    for i in np.flatnonzero(valid):
        margins[i] = min(b.margin(float(values[i])) for b in bounds)
    return int(np.argmin(margins))


def _across(how: Aggregate, r: np.ndarray) -> np.ndarray:
    """One rate's across-group figure over the last axis (NaN groups ignored)."""
    hi, lo = np.fmax.reduce(r, axis=-1), np.fmin.reduce(r, axis=-1)
    if how == "difference":
        return hi - lo
    if how == "ratio":
        return ratio(lo, hi)
    return lo


def aggregate(
    metric: FairnessMetric,
    rates: dict[str, np.ndarray],
    mask: np.ndarray | None = None,
    *,
    reference: int | None = None,
) -> np.ndarray:
    """The across-group figure from per-group rates (..., G); ``mask`` keeps some groups.

    Against a reference group (``reference``: its index; default the largest group), the
    figure is the group furthest past the metric's usual bound direction: the largest
    difference, the smallest ratio. A criterion with other bounds picks its own group
    (:func:`worst_group`).
    """
    if metric.to_reference:
        if reference is None:
            reference = largest_group(np.atleast_2d(rates["n"])[0])
        values = against_reference(metric, rates, reference)
        if mask is not None:
            values = np.where(mask, values, np.nan)
        reduce = np.fmax if metric.bound_direction == "at_most" else np.fmin
        return reduce.reduce(values, axis=-1)
    values = [
        _across(metric.aggregate, rates[r] if mask is None else np.where(mask, rates[r], np.nan))
        for r in metric.rates
    ]
    if len(values) == 1:
        return values[0]
    stacked = np.stack(values)
    if metric.aggregate == "difference":
        return np.fmax.reduce(stacked, axis=0)
    return np.fmin.reduce(stacked, axis=0)


def rate_figure(rate: str, how: Aggregate, rates: dict[str, np.ndarray]) -> np.ndarray:
    """The across-group figure (``how``) of one per-group rate."""
    return _across(how, rates[rate])


def aggregate_interval(
    metric: FairnessMetric, replicates: np.ndarray, value: float | None, confidence: float
) -> tuple[float, float] | None:
    """Bootstrap interval of an across-group figure (see ``metrics.hull_interval``).

    A max-minus-min gap, a min/max ratio and a worst-group rate are biased by the max/min
    over noisy groups, so the hull of the percentile and basic intervals is used, clipped to
    the figure's range (:attr:`FairnessMetric.value_range`).
    """
    from auditor.metrics.bootstrap import hull_interval

    lower, upper = metric.value_range
    return hull_interval(replicates, value, confidence, lower=lower, upper=upper)
