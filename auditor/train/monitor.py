"""Validation figures the training loop can watch: the loss, or a metric by name.

A small, self-contained registry (scikit-learn metrics on the validation split) so the
engine does not depend on the evaluation stage. Names match the schema's metric names.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MSG_UNKNOWN_MONITOR = (
    "unknown early-stopping metric {name!r} for a {task} task; available: {available}"
)


def _labels(task: str, scores: np.ndarray) -> np.ndarray:
    if task == "binary":
        return (scores >= 0.5).astype(np.int64)
    return scores.argmax(axis=1)


def _cls(fn_name: str, *, by_task: bool = False, **kwargs: Any):
    """A scikit-learn label metric; ``by_task``: the positive class (binary), else macro."""

    def fn(task, y, s):
        import sklearn.metrics as m

        extra = {} if not by_task or task == "binary" else {"average": "macro"}
        return float(getattr(m, fn_name)(y, _labels(task, s), **kwargs, **extra))

    return fn


def _roc_auc(task, y, s):
    from sklearn.metrics import roc_auc_score

    if len(np.unique(y)) < 2:
        return float("nan")
    if task == "binary":
        return float(roc_auc_score(y, s))
    if len(np.unique(y)) < s.shape[1]:
        return float("nan")
    return float(roc_auc_score(y, s, multi_class="ovr"))


def _pr_auc(task, y, s):
    from sklearn.metrics import average_precision_score

    if task == "binary":
        return float(average_precision_score(y, s))
    onehot = np.eye(s.shape[1])[y]
    return float(average_precision_score(onehot, s, average="macro"))


def _log_loss(task, y, s):
    eps = 1e-7
    if task == "binary":
        p = np.clip(s, eps, 1 - eps)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    p = np.clip(s[np.arange(len(y)), y], eps, 1.0)
    return float(-np.mean(np.log(p)))


def _brier(task, y, s):
    if task == "binary":
        return float(np.mean((s - y) ** 2))
    return float(np.mean(np.sum((s - np.eye(s.shape[1])[y]) ** 2, axis=1)))


def _ece(task, y, s, bins: int = 10):
    conf = s if task == "binary" else s.max(axis=1)
    hit = y if task == "binary" else (s.argmax(axis=1) == y)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            total += sel.mean() * abs(np.mean(hit[sel]) - np.mean(conf[sel]))
    return float(total)


def _mae(task, y, s):
    return float(np.mean(np.abs(y - s)))


def _rmse(task, y, s):
    return float(np.sqrt(np.mean((y - s) ** 2)))


def _r2(task, y, s):
    denom = np.sum((y - y.mean()) ** 2)
    return float(1 - np.sum((y - s) ** 2) / denom) if denom > 0 else float("nan")


def _mape(task, y, s):
    return float(np.mean(np.abs(y - s) / np.maximum(np.abs(y), 1e-8)))


CLS, REG = ("binary", "multiclass"), ("regression",)
# name -> (tasks, higher_is_better, fn(task, y_true, scores) -> float)
MONITORS: dict[str, tuple[tuple[str, ...], bool, Any]] = {
    "accuracy": (CLS, True, _cls("accuracy_score")),
    "balanced_accuracy": (CLS, True, _cls("balanced_accuracy_score")),
    "precision": (CLS, True, _cls("precision_score", by_task=True, zero_division=0)),
    "recall": (CLS, True, _cls("recall_score", by_task=True, zero_division=0)),
    "f1": (CLS, True, _cls("f1_score", by_task=True, zero_division=0)),
    "f1_macro": (CLS, True, _cls("f1_score", average="macro", zero_division=0)),
    "f1_weighted": (CLS, True, _cls("f1_score", average="weighted", zero_division=0)),
    "roc_auc": (CLS, True, _roc_auc),
    "pr_auc": (CLS, True, _pr_auc),
    "log_loss": (CLS, False, _log_loss),
    "brier": (CLS, False, _brier),
    "ece": (CLS, False, _ece),
    "mae": (REG, False, _mae),
    "rmse": (REG, False, _rmse),
    "r2": (REG, True, _r2),
    "mape": (REG, False, _mape),
}

DEFAULT_METRIC = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2"}


def monitor_names(task: str) -> list[str]:
    return ["loss"] + [n for n, (tasks, _, _) in MONITORS.items() if task in tasks]


def check_monitor(name: str, task: str) -> None:
    """Raise ValueError (with the available names) for a metric the task cannot watch."""
    if name != "loss" and (name not in MONITORS or task not in MONITORS[name][0]):
        raise ValueError(
            MSG_UNKNOWN_MONITOR.format(
                name=name, task=task, available=", ".join(monitor_names(task))
            )
        )


def higher_is_better(name: str) -> bool:
    return False if name == "loss" else MONITORS[name][1]


def metric_value(name: str, task: str, y_true: np.ndarray, scores: np.ndarray) -> float:
    """The metric on the validation split (``scores`` as ``Predictor.predict`` returns them)."""
    return MONITORS[name][2](task, y_true, scores)
