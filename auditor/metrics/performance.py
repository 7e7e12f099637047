"""The performance-metric catalogue: the one place a metric's name and properties live.

Every stage reads this table: validation (which names a task accepts, the range a bound
must lie in), early stopping (point estimates), the checks (bootstrap intervals), the
verdict (labels, which way is better) and the report (labels for tables). The schema's
metric enums are generated from it (``auditor/spec/enums.py``).

Every metric is computed from *weighted sums* of per-row columns (see
:mod:`auditor.metrics.weighted`), so one implementation serves both the point estimate
(every weight 1) and all bootstrap resamples at once (a matrix of resample weights). The
classification rates (precision, recall, F1) are generated from one table of (numerator,
denominator) pairs and averaging rules instead of being written out one by one.

Adding a metric: one :class:`Metric` entry below, one row in
``tests/metrics/test_performance.py`` (its reference value), and ``make schema``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from auditor.types import CLASSIFICATION, REGRESSION, Task

UNKNOWN_METRIC = "Unknown metric {name!r}. Available metrics: {available}."
NOT_APPLICABLE = "The metric {name!r} does not apply to {task} tasks; it applies to: {tasks}."

Direction = Literal["higher", "lower"]


class UnknownMetricError(ValueError):
    """A metric name that is not in the catalogue (or does not apply to the task)."""


@dataclass(frozen=True, kw_only=True)
class Metric:
    """One catalogued performance metric.

    Attributes
    ----------
    name : str
        Catalogue name, as written in a spec (``f1``).
    label : str
        Plain-language name for sentences (``F1 score``).
    short_label : str
        Name for table rows (``F1``).
    tasks : tuple of str
        Tasks the metric applies to.
    greater_is_better : bool
        Whether a higher value is better.
    value_range : tuple of (float or None, float or None)
        The values the metric can take (None: unbounded); a criterion's bound outside it
        can never be decided.
    needs_scores : bool
        Whether it needs probabilities/scores rather than only hard predictions.
    compute : callable
        ``compute(sums) -> ndarray (B,)`` from a :class:`auditor.metrics.weighted.Sums`.
    description : str
        One sentence for a non-specialist.
    """

    name: str
    label: str
    short_label: str
    tasks: tuple[Task, ...]
    greater_is_better: bool
    value_range: tuple[float | None, float | None]
    needs_scores: bool
    compute: Callable[[Any], np.ndarray]
    description: str

    @property
    def direction(self) -> Direction:
        """``"higher"`` or ``"lower"``: which way is better."""
        return "higher" if self.greater_is_better else "lower"

    @property
    def unit_interval(self) -> bool:
        """Whether the metric is a share between 0 and 1."""
        return self.value_range == (0.0, 1.0)

    def applies_to(self, task: str, *, has_scores: bool = True) -> bool:
        """Whether the metric can be computed for ``task`` (labels only: ``has_scores``)."""
        return task in self.tasks and (has_scores or not self.needs_scores)


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """The ratio num / den, 0 where den == 0 (scikit-learn's zero_division=0)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den > 0)
    return out


# ------------------------------------------------------------------ classification rates
# name -> (numerator(sums) -> (B, K), denominator(sums) -> (B, K)); per class.
_RATES: dict[str, tuple[Callable, Callable]] = {
    "precision": (lambda s: s["tp"], lambda s: s["pred"]),
    "recall": (lambda s: s["tp"], lambda s: s["y"]),
    "f1": (lambda s: 2.0 * s["tp"], lambda s: s["y"] + s["pred"]),
}


def _present(s) -> np.ndarray:
    """Classes present in the truth or the predictions of each resample (B, K)."""
    return (s["y"] + s["pred"]) > 0


def _average(kind: str, rate: str) -> Callable:
    num_fn, den_fn = _RATES[rate]

    def compute(s) -> np.ndarray:
        per_class = _div(num_fn(s), den_fn(s))  # (B, K)
        if kind == "positive":
            return per_class[:, s.positive_index]
        if kind == "macro":
            present = _present(s)
            return _div((per_class * present).sum(axis=1), present.sum(axis=1))
        if kind == "weighted":
            support = s["y"]
            return _div((per_class * support).sum(axis=1), support.sum(axis=1))
        raise ValueError(kind)  # pragma: no cover - the table below is fixed

    return compute


def _task_average(rate: str) -> Callable:
    """Binary: the positive class; multiclass: the macro average."""
    positive, macro = _average("positive", rate), _average("macro", rate)
    return lambda s: positive(s) if s.task == "binary" else macro(s)


_RATE_LABELS = {"precision": "Precision", "recall": "Recall", "f1": "F1 score"}
_RATE_TEXT = {
    "precision": "of the cases the model flags, the share that really are positive",
    "recall": "of the real positive cases, the share the model finds",
    "f1": "the balance of precision and recall",
}


def _rate_metric(name: str, rate: str, average: str | None, short_label: str) -> Metric:
    """A precision/recall/F1 entry: ``average`` None = the positive class or macro by task."""
    suffix = f" ({average} average)" if average else ""
    return Metric(
        name=name,
        label=_RATE_LABELS[rate] + suffix,
        short_label=short_label,
        tasks=CLASSIFICATION,
        greater_is_better=True,
        value_range=(0.0, 1.0),
        needs_scores=False,
        compute=_task_average(rate) if average is None else _average(average, rate),
        description=f"{_RATE_LABELS[rate]}{suffix}: {_RATE_TEXT[rate]}.",
    )


# ------------------------------------------------------------------ other metrics
def _accuracy(s) -> np.ndarray:
    return _div(s["tp"].sum(axis=1), s["n"])


def _balanced_accuracy(s) -> np.ndarray:
    recall = _div(s["tp"], s["y"])
    support = s["y"] > 0
    return _div((recall * support).sum(axis=1), support.sum(axis=1))


def _mcc(s) -> np.ndarray:
    """Matthews correlation from the confusion counts (Gorodkin's K-class form)."""
    n = np.asarray(s["n"], dtype=np.float64)
    t, p = s["y"], s["pred"]  # (B, K) true and predicted counts per class
    correct = s["tp"].sum(axis=1)
    cov_tp = correct * n - (t * p).sum(axis=1)
    cov_pp = n * n - (p * p).sum(axis=1)
    cov_tt = n * n - (t * t).sum(axis=1)
    return _div(cov_tp, np.sqrt(cov_pp * cov_tt))


def _mean_of(column: str) -> Callable:
    return lambda s: _div(s[column], s["n"])


def _ece(s) -> np.ndarray:
    gap = np.abs(s["ece_gap"]).sum(axis=1)  # per bin: sum of (hit - confidence)
    return _div(gap, s["n"])


def _rmse(s) -> np.ndarray:
    return np.sqrt(_div(s["sq"], s["n"]))


def _r2(s) -> np.ndarray:
    n = np.asarray(s["n"], dtype=np.float64)
    ss_tot = s["y2"] - _div(s["y1"] ** 2, n)
    ss_res = np.asarray(s["sq"], dtype=np.float64)
    out = 1.0 - _div(ss_res, ss_tot)
    # scikit-learn's force_finite: constant truth gives 1 when perfect, else 0.
    flat = ss_tot <= 1e-12 * np.maximum(s["y2"], 1.0)
    return np.where(flat, np.where(ss_res <= 0, 1.0, 0.0), out)


def _roc_auc(s) -> np.ndarray:
    return s.ranking()[0]


def rank_auc(y: np.ndarray, scores: np.ndarray) -> float:
    """Unweighted binary ROC-AUC of ``scores`` for ``y == 1`` (NaN without both classes).

    The Mann-Whitney statistic from average ranks (a tie counts one half): the same value
    as scikit-learn's ``roc_auc_score``, at a tenth of its cost on a few thousand rows,
    for callers that score many permutations or features one at a time.
    """
    from scipy.stats import rankdata

    pos = np.asarray(y) == 1
    n1, n0 = int(pos.sum()), int((~pos).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _pr_auc(s) -> np.ndarray:
    return s.ranking()[1]


SHARE = (0.0, 1.0)
NON_NEGATIVE = (0.0, None)

_CATALOGUE: list[Metric] = [
    Metric(
        name="accuracy",
        label="Accuracy",
        short_label="Accuracy",
        tasks=CLASSIFICATION,
        greater_is_better=True,
        value_range=SHARE,
        needs_scores=False,
        compute=_accuracy,
        description="The share of decisions the model gets right.",
    ),
    Metric(
        name="balanced_accuracy",
        label="Balanced accuracy",
        short_label="Balanced accuracy",
        tasks=CLASSIFICATION,
        greater_is_better=True,
        value_range=SHARE,
        needs_scores=False,
        compute=_balanced_accuracy,
        description="Accuracy averaged over the classes, so a rare class counts as much as a "
        "common one.",
    ),
    Metric(
        name="mcc",
        label="Matthews correlation coefficient",
        short_label="MCC",
        tasks=CLASSIFICATION,
        greater_is_better=True,
        value_range=(-1.0, 1.0),
        needs_scores=False,
        compute=_mcc,
        description="The correlation between decisions and outcomes, using every cell of the "
        "confusion matrix (0 is chance, 1 is perfect); fair to rare classes.",
    ),
    _rate_metric("precision", "precision", None, "Precision"),
    _rate_metric("recall", "recall", None, "Recall"),
    _rate_metric("f1", "f1", None, "F1"),
    _rate_metric("f1_macro", "f1", "macro", "Macro F1"),
    _rate_metric("f1_weighted", "f1", "weighted", "Weighted F1"),
    Metric(
        name="roc_auc",
        label="ROC-AUC",
        short_label="ROC-AUC",
        tasks=CLASSIFICATION,
        greater_is_better=True,
        value_range=SHARE,
        needs_scores=True,
        compute=_roc_auc,
        description="How well the scores rank positive cases above negative ones (0.5 is "
        "chance, 1 is perfect).",
    ),
    Metric(
        name="pr_auc",
        label="PR-AUC (average precision)",
        short_label="PR-AUC",
        tasks=CLASSIFICATION,
        greater_is_better=True,
        value_range=SHARE,
        needs_scores=True,
        compute=_pr_auc,
        description="Average precision over all thresholds; sensitive to how well rare "
        "positives are found.",
    ),
    Metric(
        name="log_loss",
        label="Log loss",
        short_label="Log loss",
        tasks=CLASSIFICATION,
        greater_is_better=False,
        value_range=NON_NEGATIVE,
        needs_scores=True,
        compute=_mean_of("logloss"),
        description="How surprised the model is by the true answers; lower is better.",
    ),
    Metric(
        name="brier",
        label="Brier score",
        short_label="Brier score",
        tasks=CLASSIFICATION,
        greater_is_better=False,
        value_range=(0.0, 2.0),  # the multiclass Brier score reaches 2
        needs_scores=True,
        compute=_mean_of("brier"),
        description="Mean squared error of the predicted probabilities; lower is better.",
    ),
    Metric(
        name="ece",
        label="Expected calibration error",
        short_label="Calibration error (ECE)",
        tasks=CLASSIFICATION,
        greater_is_better=False,
        value_range=SHARE,
        needs_scores=True,
        compute=_ece,
        description="How far predicted probabilities are from observed frequencies; lower "
        "is better.",
    ),
    Metric(
        name="mae",
        label="Mean absolute error",
        short_label="Mean absolute error",
        tasks=REGRESSION,
        greater_is_better=False,
        value_range=NON_NEGATIVE,
        needs_scores=False,
        compute=_mean_of("abs"),
        description="The typical size of a prediction error, in the target's unit.",
    ),
    Metric(
        name="rmse",
        label="Root mean squared error",
        short_label="RMSE",
        tasks=REGRESSION,
        greater_is_better=False,
        value_range=NON_NEGATIVE,
        needs_scores=False,
        compute=_rmse,
        description="The size of prediction errors, with large errors weighing more.",
    ),
    Metric(
        name="r2",
        label="R²",
        short_label="R²",
        tasks=REGRESSION,
        greater_is_better=True,
        value_range=(None, 1.0),
        needs_scores=False,
        compute=_r2,
        description="The share of the target's variation the model explains (1 is perfect, "
        "0 is no better than the mean).",
    ),
    Metric(
        name="mape",
        label="Mean absolute percentage error",
        short_label="MAPE",
        tasks=REGRESSION,
        greater_is_better=False,
        value_range=NON_NEGATIVE,
        needs_scores=False,
        compute=_mean_of("ape"),
        description="The typical prediction error as a fraction of the true value.",
    ),
]

METRICS: dict[str, Metric] = {}
for _metric in _CATALOGUE:
    if _metric.name in METRICS:  # pragma: no cover - guards the table above
        raise ValueError(f"metric {_metric.name!r} catalogued twice")
    METRICS[_metric.name] = _metric

#: The metric a task's audit leads with (and training shows) when the spec names none.
DEFAULT_METRIC: dict[str, str] = {"binary": "roc_auc", "multiclass": "f1_macro", "regression": "r2"}
#: The same when the model gives labels only (no scores to rank).
LABELS_ONLY_DEFAULT_METRIC: dict[str, str] = {
    "binary": "f1",
    "multiclass": "f1_macro",
    "regression": "r2",
}


def metric_names(task: str | None = None, *, has_scores: bool = True) -> list[str]:
    """Catalogued metric names, optionally only those applicable to ``task``.

    Examples
    --------
    >>> metric_names("regression")
    ['mae', 'rmse', 'r2', 'mape']
    """
    return [
        m.name
        for m in METRICS.values()
        if task is None or m.applies_to(task, has_scores=has_scores)
    ]


def get_metric(name: str) -> Metric:
    """The catalogued metric called ``name``; a helpful error listing the names otherwise.

    Raises
    ------
    UnknownMetricError
        ``name`` is not in the catalogue.
    """
    try:
        return METRICS[name]
    except KeyError:
        raise UnknownMetricError(
            UNKNOWN_METRIC.format(name=name, available=", ".join(METRICS))
        ) from None


def check_applicable(name: str, task: str) -> Metric:
    """The metric, or an UnknownMetricError when it does not apply to ``task``."""
    metric = get_metric(name)
    if task not in metric.tasks:
        raise UnknownMetricError(
            NOT_APPLICABLE.format(name=name, task=task, tasks=", ".join(metric.tasks))
        )
    return metric


def default_metric(task: str, *, has_scores: bool = True, wanted: Sequence[str] = ()) -> str:
    """The first of ``wanted`` that applies to the task, else the task's default metric."""
    for name in wanted:
        if name in METRICS and METRICS[name].applies_to(task, has_scores=has_scores):
            return name
    return (DEFAULT_METRIC if has_scores else LABELS_ONLY_DEFAULT_METRIC)[task]


def decisions(task: str, scores: np.ndarray, threshold: float | None) -> np.ndarray:
    """Predicted class index (binary: score >= threshold) or predicted value."""
    if task == "binary":
        return (np.asarray(scores, dtype=float) >= threshold).astype(np.int64)
    if task == "multiclass":
        return np.asarray(scores).argmax(axis=1).astype(np.int64)
    return np.asarray(scores, dtype=np.float64)
