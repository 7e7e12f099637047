"""What the training loop watches on the validation split: the loss, or a catalogued metric.

The metrics are the performance catalogue's (:mod:`auditor.metrics.performance`), computed
as point estimates by the same code that computes them for the audit, so early stopping
and the report can never disagree on a value.
"""

from __future__ import annotations

import numpy as np

from auditor.metrics.bootstrap import point_metrics
from auditor.metrics.performance import METRICS, decisions, metric_names
from auditor.metrics.weighted import Rows

LOSS = "loss"
DECISION_THRESHOLD = 0.5  # binary decisions while training (the audit chooses its own)
MSG_UNKNOWN_MONITOR = (
    "unknown early-stopping metric {name!r} for a {task} task; available: {available}"
)


def monitor_names(task: str) -> list[str]:
    """What early stopping can watch for ``task``: the loss, then the task's metrics."""
    return [LOSS, *metric_names(task)]


def check_monitor(name: str, task: str) -> None:
    """Raise ValueError (with the available names) for a metric the task cannot watch."""
    if name not in monitor_names(task):
        raise ValueError(
            MSG_UNKNOWN_MONITOR.format(
                name=name, task=task, available=", ".join(monitor_names(task))
            )
        )


def higher_is_better(name: str) -> bool:
    """Whether a higher value of the watched figure is better (never for the loss)."""
    return False if name == LOSS else METRICS[name].greater_is_better


def metric_value(name: str, task: str, y_true: np.ndarray, scores: np.ndarray) -> float:
    """The metric on the validation split (``scores`` as ``Predictor.predict`` returns them)."""
    scores = np.asarray(scores, dtype=np.float64)
    n_classes = scores.shape[1] if task == "multiclass" else None
    rows = Rows(
        task,
        np.asarray(y_true),
        scores,
        decisions(task, scores, DECISION_THRESHOLD),
        n_classes=n_classes,
    )
    return point_metrics(rows, [name])[name]
