"""The fairness catalogue against fairlearn: one reference row per metric, and its rates."""

from __future__ import annotations

import numpy as np
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_negative_rate,
    false_positive_rate,
    mean_prediction,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, mean_absolute_error, precision_score

from auditor.metrics.fairness import (
    FAIRNESS_METRICS,
    GROUP_RATES,
    aggregate,
    group_rates,
    rate_from_sums,
    rate_names,
    row_columns,
)


def _frame(metric, y, p, groups):
    return MetricFrame(metrics=metric, y_true=y, y_pred=p, sensitive_features=groups)


# The reference of every catalogued fairness metric, computed by fairlearn on the same rows.
REFERENCES = {
    "demographic_parity_difference": lambda y, p, g: demographic_parity_difference(
        y, p, sensitive_features=g
    ),
    "demographic_parity_ratio": lambda y, p, g: demographic_parity_ratio(
        y, p, sensitive_features=g
    ),
    "equalized_odds_difference": lambda y, p, g: equalized_odds_difference(
        y, p, sensitive_features=g
    ),
    "equalized_odds_ratio": lambda y, p, g: equalized_odds_ratio(y, p, sensitive_features=g),
    "equal_opportunity_difference": lambda y, p, g: _frame(
        true_positive_rate, y, p, g
    ).difference(),
    "false_positive_rate_difference": lambda y, p, g: _frame(
        false_positive_rate, y, p, g
    ).difference(),
    "worst_group_accuracy": lambda y, p, g: _frame(accuracy_score, y, p, g).group_min(),
    "accuracy_difference": lambda y, p, g: _frame(accuracy_score, y, p, g).difference(),
    "mae_difference": lambda y, p, g: _frame(mean_absolute_error, y, p, g).difference(),
    "mean_prediction_difference": lambda y, p, g: _frame(mean_prediction, y, p, g).difference(),
}
# The reference of every per-group rate (point values), by fairlearn or scikit-learn.
RATE_REFERENCES = {
    "base_rate": lambda y, p: float(np.mean(y)),
    "selection_rate": lambda y, p: selection_rate(y, p),
    "accuracy": accuracy_score,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "precision": lambda y, p: precision_score(y, p, zero_division=np.nan),
    "mean_target": lambda y, p: float(np.mean(y)),
    "mean_prediction": lambda y, p: float(np.mean(p)),
    "mae": mean_absolute_error,
}


def _rows(task: str, seed: int = 0, n: int = 3000):
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    if task == "regression":
        y = rng.normal(10, 3, n)
        p = y + rng.normal(np.where(group == "a", 0.0, 1.5), np.where(group == "c", 3.0, 1.0))
        return y, p, group
    y = rng.integers(0, 2, n)
    lift = np.where(group == "a", 0.15, np.where(group == "b", 0.0, -0.1))
    p = (rng.random(n) < np.clip(0.35 + 0.3 * y + lift, 0, 1)).astype(int)
    return y, p, group


def _catalogue_rates(task: str, y, p, group):
    labels = sorted(set(group))
    cols = row_columns(task, y, p, 1)
    sums = np.stack([cols[group == g].sum(axis=0) for g in labels])
    return labels, group_rates(task, sums), sums


def test_every_catalogued_metric_has_a_reference_row():
    assert set(REFERENCES) == set(FAIRNESS_METRICS)
    assert set(RATE_REFERENCES) == set(GROUP_RATES)


@pytest.mark.parametrize("name", list(FAIRNESS_METRICS))
def test_metric_equals_fairlearn(name):
    metric = FAIRNESS_METRICS[name]
    task = metric.tasks[0]
    y, p, group = _rows(task)
    _, rates, _ = _catalogue_rates(task, y, p, group)
    ours = float(aggregate(metric, rates))
    assert ours == pytest.approx(REFERENCES[name](y, p, group), abs=1e-12)


@pytest.mark.parametrize("name", list(GROUP_RATES))
def test_rate_equals_its_reference_in_every_group(name):
    task = GROUP_RATES[name].tasks[0]
    y, p, group = _rows(task, seed=3)
    labels, rates, sums = _catalogue_rates(task, y, p, group)
    for i, label in enumerate(labels):
        inside = group == label
        expected = RATE_REFERENCES[name](y[inside], p[inside])
        assert rates[name][i] == pytest.approx(expected, abs=1e-12), (name, label)
        # the one-group form MetricFrame is given computes the same number
        assert rate_from_sums(task, name, sums[i]) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("name", list(FAIRNESS_METRICS))
def test_metric_properties_are_consistent(name):
    metric = FAIRNESS_METRICS[name]
    assert set(metric.rates) <= set(GROUP_RATES), "every rate it aggregates is catalogued"
    for task in metric.tasks:
        assert set(metric.rates) <= set(rate_names(task)), "its rates exist for its tasks"
    assert metric.bound_direction == ("at_most" if metric.aggregate == "difference" else "at_least")
    if metric.on_shares:
        assert metric.value_range == (0.0, 1.0)
    if metric.diagnostic is not None:
        from auditor.checks.registry import DIAGNOSTIC_DIRECTIONS

        assert DIAGNOSTIC_DIRECTIONS[metric.diagnostic] == metric.bound_direction


@pytest.mark.parametrize("name", list(FAIRNESS_METRICS))
def test_sentence_template_uses_only_the_documented_words(name):
    metric = FAIRNESS_METRICS[name]
    words = {
        "outcome": "y = 1",
        "high": "A",
        "low": "B",
        "high_rate": "60%",
        "low_rate": "40%",
        "value": "20 points",
        "rate": "true positive rate",
    }
    text = metric.sentence.format(**words)
    assert "{" not in text and ("A" in text or "B" in text)
    if len(metric.rates) > 1:
        tail = metric.other_sentence.format(other_rate="false positive rate", other_value="3")
        assert tail.startswith("; ") and "false positive rate" in tail
    else:
        assert metric.other_sentence == ""


def test_sentences_are_distinct():
    sentences = [m.sentence for m in FAIRNESS_METRICS.values()]
    assert len(set(sentences)) == len(sentences)
