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
    true_negative_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, confusion_matrix, mean_absolute_error, precision_score

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


def _cm(y, p):
    """(tn, fp, fn, tp) of one group, by scikit-learn."""
    return confusion_matrix(y, p, labels=[0, 1]).ravel()


# The reference of every per-group rate (point values), by fairlearn or scikit-learn;
# ``p_all``: the split's decisions, for a group's share of all positive decisions.
RATE_REFERENCES = {
    "base_rate": lambda y, p, p_all: float(np.mean(y)),
    "selection_rate": lambda y, p, p_all: selection_rate(y, p),
    "accuracy": lambda y, p, p_all: accuracy_score(y, p),
    "tpr": lambda y, p, p_all: true_positive_rate(y, p),
    "fpr": lambda y, p, p_all: false_positive_rate(y, p),
    "fnr": lambda y, p, p_all: false_negative_rate(y, p),
    "precision": lambda y, p, p_all: precision_score(y, p, zero_division=np.nan),
    "tnr": lambda y, p, p_all: true_negative_rate(y, p),
    "npv": lambda y, p, p_all: _cm(y, p)[0] / (_cm(y, p)[0] + _cm(y, p)[2]),
    "fdr": lambda y, p, p_all: _cm(y, p)[1] / (_cm(y, p)[1] + _cm(y, p)[3]),
    "for": lambda y, p, p_all: _cm(y, p)[2] / (_cm(y, p)[0] + _cm(y, p)[2]),
    "positive_share": lambda y, p, p_all: float(np.sum(p == 1) / np.sum(p_all == 1)),
    "mean_target": lambda y, p, p_all: float(np.mean(y)),
    "mean_prediction": lambda y, p, p_all: float(np.mean(p)),
    "mae": lambda y, p, p_all: mean_absolute_error(y, p),
}


def _to_reference(rate: str, how: str):
    """A reference disparity by hand from the reference rates: each group's rate minus, or
    over, the largest group's; the figure is the largest difference or the smallest ratio."""

    def reference(y, p, g):
        labels = sorted(set(g))
        values = {lab: RATE_REFERENCES[rate](y[g == lab], p[g == lab], p) for lab in labels}
        ref = max(labels, key=lambda lab: (np.sum(g == lab), -labels.index(lab)))
        others = [values[lab] for lab in labels if lab != ref]
        if how == "ratio_to_reference":
            return min(v / values[ref] for v in others)
        return max(v - values[ref] for v in others)

    return reference


REFERENCES.update(
    {
        name: _to_reference(m.rates[0], m.aggregate)
        for name, m in FAIRNESS_METRICS.items()
        if m.to_reference
    }
)


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
        expected = RATE_REFERENCES[name](y[inside], p[inside], p)
        assert rates[name][i] == pytest.approx(expected, abs=1e-12), (name, label)
        # the one-group form MetricFrame is given computes the same number
        total = sums.sum(axis=0)
        assert rate_from_sums(task, name, sums[i], total) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("name", list(FAIRNESS_METRICS))
def test_metric_properties_are_consistent(name):
    metric = FAIRNESS_METRICS[name]
    assert set(metric.rates) <= set(GROUP_RATES), "every rate it aggregates is catalogued"
    for task in metric.tasks:
        assert set(metric.rates) <= set(rate_names(task)), "its rates exist for its tasks"
    differences = ("difference", "difference_to_reference")
    assert metric.bound_direction == ("at_most" if metric.aggregate in differences else "at_least")
    if metric.on_shares and not metric.to_reference:
        assert metric.value_range == (0.0, 1.0)
    if metric.to_reference:
        assert metric.name == f"{metric.rates[0]}_{metric.aggregate}" and metric.diagnostic is None
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


# A hand-computed table in Aequitas's definitions (``aequitas.group`` / ``aequitas.bias``:
# tpr = tp/(tp+fn), tnr = tn/(tn+fp), fpr = fp/(fp+tn), fnr = fn/(fn+tp), precision =
# tp/(tp+fp), npv = tn/(tn+fn), fdr = fp/(fp+tp), for = fn/(fn+tn), pprev (our selection
# rate) = pp/n, prev (our base rate) = pos/n, ppr (our positive share) = pp / all pp; a
# disparity is a group's metric over the reference group's). Aequitas itself does not install
# beside the project's pins (it needs pandas < 3, or, in 1.0.0, another torch), so the
# figures are written out by hand. Groups as (tp, fp, fn, tn).
AEQUITAS_TABLE = {"a": (40, 10, 20, 30), "b": (30, 30, 10, 130)}
AEQUITAS_EXPECTED = {  # group a, group b (the reference), and a's disparity a / b
    "tpr": (40 / 60, 30 / 40),
    "tnr": (30 / 40, 130 / 160),
    "fpr": (10 / 40, 30 / 160),
    "fnr": (20 / 60, 10 / 40),
    "precision": (40 / 50, 30 / 60),
    "npv": (30 / 50, 130 / 140),
    "fdr": (10 / 50, 30 / 60),
    "for": (20 / 50, 10 / 140),
    "selection_rate": (50 / 100, 60 / 200),
    "base_rate": (60 / 100, 40 / 200),
    "accuracy": (70 / 100, 160 / 200),
    "positive_share": (50 / 110, 60 / 110),
}


def _table_rows():
    y, p, g = [], [], []
    for group, (tp, fp, fn, tn) in AEQUITAS_TABLE.items():
        for truth, decision, k in ((1, 1, tp), (0, 1, fp), (1, 0, fn), (0, 0, tn)):
            y += [truth] * k
            p += [decision] * k
            g += [group] * k
    return np.array(y), np.array(p), np.array(g)


@pytest.mark.parametrize("rate", sorted(AEQUITAS_EXPECTED))
def test_rates_and_disparities_match_a_hand_computed_aequitas_table(rate):
    y, p, g = _table_rows()
    labels, rates, _ = _catalogue_rates("binary", y, p, g)
    assert labels == ["a", "b"]
    a, b = AEQUITAS_EXPECTED[rate]
    assert rates[rate] == pytest.approx([a, b], abs=1e-12)
    ratio_metric = FAIRNESS_METRICS[f"{rate}_ratio_to_reference"]
    diff_metric = FAIRNESS_METRICS[f"{rate}_difference_to_reference"]
    # b is the largest group, so the default reference; naming it gives the same figures
    for reference in (None, 1):
        ratio = float(aggregate(ratio_metric, rates, reference=reference))
        assert ratio == pytest.approx(a / b, abs=1e-12)
        diff = float(aggregate(diff_metric, rates, reference=reference))
        assert diff == pytest.approx(a - b, abs=1e-12)
    # against a as the reference, b's disparity is the inverse
    assert float(aggregate(ratio_metric, rates, reference=0)) == pytest.approx(b / a, abs=1e-12)
