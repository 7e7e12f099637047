"""The metric registry: name -> how it is computed, where it applies, which way is better.

Every metric is computed from *weighted sums* of per-row columns (see
:mod:`auditor.metrics.weighted`), so one implementation serves both the point estimate
(every weight 1) and all bootstrap resamples at once (a matrix of resample weights).

The classification rates (precision, recall, F1) are generated from one table of
(numerator, denominator) pairs and averaging rules instead of being written out one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

UNKNOWN_METRIC = "Unknown metric {name!r}. Available metrics: {available}."
NOT_APPLICABLE = "The metric {name!r} does not apply to {task} tasks; it applies to: {tasks}."

Direction = Literal["higher", "lower"]


class UnknownMetricError(ValueError):
    """A metric name that is not in the registry (or does not apply to the task)."""


@dataclass(frozen=True)
class Metric:
    """One registered metric.

    Attributes
    ----------
    name : str
        Registry name, as written in a spec (``f1``).
    label : str
        Plain-language name for the report (``F1 score``).
    tasks : tuple of str
        Tasks the metric applies to.
    direction : {"higher", "lower"}
        Which way is better.
    unit_interval : bool
        Whether the value lies in 0..1.
    needs_scores : bool
        Whether it needs probabilities/scores rather than only hard predictions.
    compute : callable
        ``compute(sums) -> ndarray (B,)`` from a :class:`auditor.metrics.weighted.Sums`.
    description : str
        One sentence for a non-specialist.
    """

    name: str
    label: str
    tasks: tuple[str, ...]
    direction: Direction
    unit_interval: bool
    needs_scores: bool
    compute: Callable[[Any], np.ndarray]
    description: str

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher"

    def applies_to(self, task: str, *, has_scores: bool = True) -> bool:
        return task in self.tasks and (has_scores or not self.needs_scores)


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with 0 where den == 0 (scikit-learn's zero_division=0)."""
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
        raise ValueError(kind)  # pragma: no cover - table below is fixed

    return compute


def _task_average(rate: str) -> Callable:
    """Binary: the positive class; multiclass: the macro average."""
    positive, macro = _average("positive", rate), _average("macro", rate)
    return lambda s: positive(s) if s.task == "binary" else macro(s)


_LABELS = {"precision": "Precision", "recall": "Recall", "f1": "F1 score"}
_RATE_TEXT = {
    "precision": "of the cases the model flags, the share that really are positive",
    "recall": "of the real positive cases, the share the model finds",
    "f1": "the balance of precision and recall",
}
# (metric name, rate, averaging, label suffix, tasks)
_GENERATED = [
    ("precision", "precision", None, "", ("binary", "multiclass")),
    ("recall", "recall", None, "", ("binary", "multiclass")),
    ("f1", "f1", None, "", ("binary", "multiclass")),
    ("f1_macro", "f1", "macro", " (macro average)", ("binary", "multiclass")),
    ("f1_weighted", "f1", "weighted", " (weighted average)", ("binary", "multiclass")),
]


# ------------------------------------------------------------------ other metrics
def _accuracy(s) -> np.ndarray:
    return _div(s["tp"].sum(axis=1), s["n"])


def _balanced_accuracy(s) -> np.ndarray:
    recall = _div(s["tp"], s["y"])
    support = s["y"] > 0
    return _div((recall * support).sum(axis=1), support.sum(axis=1))


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


def _pr_auc(s) -> np.ndarray:
    return s.ranking()[1]


_CLS = ("binary", "multiclass")
_REG = ("regression",)

METRICS: dict[str, Metric] = {}


def _register(metric: Metric) -> None:
    if metric.name in METRICS:  # pragma: no cover - guards the tables above
        raise ValueError(f"metric {metric.name!r} registered twice")
    METRICS[metric.name] = metric


_register(
    Metric(
        "accuracy",
        "Accuracy",
        _CLS,
        "higher",
        True,
        False,
        _accuracy,
        "The share of decisions the model gets right.",
    )
)
_register(
    Metric(
        "balanced_accuracy",
        "Balanced accuracy",
        _CLS,
        "higher",
        True,
        False,
        _balanced_accuracy,
        "Accuracy averaged over the classes, so a rare class counts as much as a common one.",
    )
)
for _name, _rate, _avg, _suffix, _tasks in _GENERATED:
    _register(
        Metric(
            _name,
            _LABELS[_rate] + _suffix,
            _tasks,
            "higher",
            True,
            False,
            _task_average(_rate) if _avg is None else _average(_avg, _rate),
            f"{_LABELS[_rate]}{_suffix}: {_RATE_TEXT[_rate]}.",
        )
    )
_register(
    Metric(
        "roc_auc",
        "ROC-AUC",
        _CLS,
        "higher",
        True,
        True,
        _roc_auc,
        "How well the scores rank positive cases above negative ones (0.5 is chance, 1 is "
        "perfect).",
    )
)
_register(
    Metric(
        "pr_auc",
        "PR-AUC (average precision)",
        _CLS,
        "higher",
        True,
        True,
        _pr_auc,
        "Average precision over all thresholds; sensitive to how well rare positives are found.",
    )
)
_register(
    Metric(
        "log_loss",
        "Log loss",
        _CLS,
        "lower",
        False,
        True,
        _mean_of("logloss"),
        "How surprised the model is by the true answers; lower is better.",
    )
)
_register(
    Metric(
        "brier",
        "Brier score",
        _CLS,
        "lower",
        False,
        True,
        _mean_of("brier"),
        "Mean squared error of the predicted probabilities; lower is better.",
    )
)
_register(
    Metric(
        "ece",
        "Expected calibration error",
        _CLS,
        "lower",
        True,
        True,
        _ece,
        "How far predicted probabilities are from observed frequencies; lower is better.",
    )
)
_register(
    Metric(
        "mae",
        "Mean absolute error",
        _REG,
        "lower",
        False,
        False,
        _mean_of("abs"),
        "The typical size of a prediction error, in the target's unit.",
    )
)
_register(
    Metric(
        "rmse",
        "Root mean squared error",
        _REG,
        "lower",
        False,
        False,
        _rmse,
        "The size of prediction errors, with large errors weighing more.",
    )
)
_register(
    Metric(
        "r2",
        "R²",
        _REG,
        "higher",
        False,
        False,
        _r2,
        "The share of the target's variation the model explains (1 is perfect, 0 is no better "
        "than the mean).",
    )
)
_register(
    Metric(
        "mape",
        "Mean absolute percentage error",
        _REG,
        "lower",
        False,
        False,
        _mean_of("ape"),
        "The typical prediction error as a fraction of the true value.",
    )
)


def metric_names(task: str | None = None, *, has_scores: bool = True) -> list[str]:
    """Registered metric names, optionally only those applicable to ``task``."""
    return [
        m.name
        for m in METRICS.values()
        if task is None or m.applies_to(task, has_scores=has_scores)
    ]


def get_metric(name: str) -> Metric:
    """The registered metric called ``name``; a helpful error listing the names otherwise."""
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
