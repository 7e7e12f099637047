"""Property tests over the whole metric registry (scikit-learn's test_common habit)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as skm

from auditor.metrics import (
    METRICS,
    UNKNOWN_METRIC,
    Rows,
    UnknownMetricError,
    check_applicable,
    get_metric,
    metric_names,
    point_metrics,
)

SCHEMA = json.loads((Path(__file__).parents[2] / "schemas" / "spec.schema.json").read_text())

EXPECTED = [
    "accuracy",
    "balanced_accuracy",
    "mcc",
    "precision",
    "recall",
    "f1",
    "f1_macro",
    "f1_weighted",
    "roc_auc",
    "pr_auc",
    "log_loss",
    "brier",
    "ece",
    "mae",
    "rmse",
    "r2",
    "mape",
]


def _binary(seed=0, n=700):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = np.round(np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1), 2)  # rounded: ties
    return y, p, (p >= 0.5).astype(int)


def _multiclass(seed=0, n=700, k=4):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    proba = rng.dirichlet(np.ones(k), n)
    proba[np.arange(n), y] += 0.4
    proba /= proba.sum(axis=1, keepdims=True)
    return y, proba, proba.argmax(axis=1)


def _regression(seed=0, n=700):
    rng = np.random.default_rng(seed)
    y = rng.normal(5, 3, n)
    return y, y + rng.normal(0, 1.5, n)


def _sklearn(task, name, y, scores, pred):
    avg = "binary" if task == "binary" else "macro"
    k = None if task != "multiclass" else scores.shape[1]
    table = {
        "accuracy": lambda: skm.accuracy_score(y, pred),
        "balanced_accuracy": lambda: skm.balanced_accuracy_score(y, pred),
        "mcc": lambda: skm.matthews_corrcoef(y, pred),
        "precision": lambda: skm.precision_score(y, pred, average=avg),
        "recall": lambda: skm.recall_score(y, pred, average=avg),
        "f1": lambda: skm.f1_score(y, pred, average=avg),
        "f1_macro": lambda: skm.f1_score(y, pred, average="macro"),
        "f1_weighted": lambda: skm.f1_score(y, pred, average="weighted"),
        "roc_auc": lambda: (
            skm.roc_auc_score(y, scores)
            if task == "binary"
            else skm.roc_auc_score(y, scores, multi_class="ovr")
        ),
        "pr_auc": lambda: (
            skm.average_precision_score(y, scores)
            if task == "binary"
            else skm.average_precision_score(np.eye(k)[y], scores)
        ),
        "log_loss": lambda: skm.log_loss(y, scores),
        "brier": lambda: skm.brier_score_loss(y, scores),
        "ece": lambda: _naive_ece(task, y, scores),
        "mae": lambda: skm.mean_absolute_error(y, scores),
        "rmse": lambda: skm.root_mean_squared_error(y, scores),
        "r2": lambda: skm.r2_score(y, scores),
        "mape": lambda: skm.mean_absolute_percentage_error(y, scores),
    }
    return table[name]()


def _naive_ece(task, y, scores):
    if task == "binary":
        conf, hit = scores, (y == 1).astype(float)
    else:
        conf, hit = scores.max(axis=1), (scores.argmax(axis=1) == y).astype(float)
    total = 0.0
    for b in range(10):
        lo, hi = b / 10, (b + 1) / 10
        inside = (conf >= lo) & ((conf < hi) if b < 9 else (conf <= hi))
        if inside.any():
            total += inside.sum() / len(y) * abs(hit[inside].mean() - conf[inside].mean())
    return total


def test_registry_has_exactly_the_documented_names():
    assert list(METRICS) == EXPECTED


def test_schema_metric_enum_equals_registry():
    assert SCHEMA["$defs"]["metric"]["enum"] == list(METRICS)


def test_unknown_metric_names_the_available_ones():
    with pytest.raises(UnknownMetricError) as err:
        get_metric("f2")
    assert str(err.value) == UNKNOWN_METRIC.format(name="f2", available=", ".join(METRICS))


def test_not_applicable_metric_is_refused():
    with pytest.raises(UnknownMetricError, match="does not apply to regression"):
        check_applicable("roc_auc", "regression")


@pytest.mark.parametrize("name", EXPECTED)
def test_every_metric_is_fully_described(name):
    m = get_metric(name)
    assert m.label and m.description.endswith(".")
    assert m.direction in ("higher", "lower")
    assert set(m.tasks) <= {"binary", "multiclass", "regression"} and m.tasks


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_point_estimates_equal_scikit_learn(task):
    if task == "regression":
        y, pred = _regression()
        scores = pred
    else:
        y, scores, pred = _binary() if task == "binary" else _multiclass()
    names = metric_names(task)
    assert names  # every task has metrics
    ours = point_metrics(Rows(task, y, scores, pred), names)
    for name in names:
        assert ours[name] == pytest.approx(_sklearn(task, name, y, scores, pred), abs=1e-9), name


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_properties_over_registry(task):
    """Range, direction and invariance to row order for every applicable metric."""
    if task == "regression":
        y, pred = _regression(seed=3)
        scores = pred
    else:
        y, scores, pred = _binary(seed=3) if task == "binary" else _multiclass(seed=3)
    names = metric_names(task)
    rows = Rows(task, y, scores, pred)
    values = point_metrics(rows, names)
    perm = np.random.default_rng(9).permutation(len(y))
    shuffled = point_metrics(Rows(task, y[perm], scores[perm], pred[perm]), names)
    for name in names:
        m = get_metric(name)
        assert np.isfinite(values[name]), name
        assert values[name] == pytest.approx(shuffled[name], abs=1e-12), name
        if m.unit_interval:
            assert 0.0 <= values[name] <= 1.0, name
    # a perfect prediction is at least as good as this one, for every metric
    if task == "regression":
        perfect = point_metrics(Rows(task, y, y, y), names)
    elif task == "binary":
        perfect = point_metrics(Rows(task, y, y.astype(float), y), names)
    else:
        perfect = point_metrics(Rows(task, y, np.eye(scores.shape[1])[y], y), names)
    for name in names:
        better = (
            perfect[name] >= values[name]
            if get_metric(name).greater_is_better
            else perfect[name] <= values[name]
        )
        assert better, name


def test_labels_only_predictors_get_only_label_metrics():
    names = metric_names("binary", has_scores=False)
    assert "roc_auc" not in names and "accuracy" in names and "f1" in names


@pytest.mark.parametrize("seed", range(5))
def test_rank_auc_is_scikit_learns_roc_auc_with_ties_and_nan_with_one_class(seed):
    from sklearn.metrics import roc_auc_score

    from auditor.metrics import rank_auc

    rng = np.random.default_rng(seed)
    y = (rng.random(400) < 0.3).astype(int)
    scores = np.round(rng.random(400) + 0.4 * y, 1)  # coarse: many ties across the classes
    assert rank_auc(y, scores) == pytest.approx(roc_auc_score(y, scores), abs=1e-12)
    assert rank_auc(y, -scores) == pytest.approx(1 - roc_auc_score(y, scores), abs=1e-12)
    assert np.isnan(rank_auc(np.ones(5, dtype=int), np.arange(5.0)))
