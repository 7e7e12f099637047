"""The evaluate stage: threshold on validation only, baselines, learning curve."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from auditor.errors import SpecError
from auditor.evaluate import (
    MISSING_COSTS,
    choose_threshold,
    evaluate,
    primary_metric,
    threshold_candidates,
)
from tests.checks.factory import make_binary_case, make_spec

SIZES = {"train": 800, "validation": 600, "test": 600}
OFF = {"learning_curve": {"enabled": False}}


class Fixed:
    """A predictor returning stored scores per split."""

    kind = "trained"
    has_scores = True

    def __init__(self, scores, history=(), info=None):
        self.scores = scores
        self.history = list(history)
        self.info = info or {"best_epoch": 3, "stopped_early": True}

    def predict(self, dataset, split):
        return self.scores[split]


def _scores(dataset, seed=0, noise=1.0):
    rng = np.random.default_rng(seed)
    return {
        s: 1 / (1 + np.exp(-(2 * y - 1 + rng.normal(0, noise, len(y)))))
        for s, y in dataset.y.items()
    }


def test_threshold_candidates_count_tp_and_fp():
    y = np.array([1, 0, 1, 1, 0])
    s = np.array([0.9, 0.8, 0.8, 0.3, 0.1])
    t, tp, fp, pos, neg = threshold_candidates(y, s)
    assert t[0] > 0.9 and list(t[1:]) == [0.9, 0.8, 0.3, 0.1]
    assert list(tp) == [0, 1, 2, 3, 3] and list(fp) == [0, 0, 1, 1, 2] and (pos, neg) == (3, 2)


@pytest.mark.parametrize("strategy", ["best_f1", "min_cost"])
def test_threshold_is_chosen_on_validation_and_never_on_test(strategy):
    spec = make_spec(
        evaluation={
            "threshold": {"strategy": strategy},
            **OFF,
            "costs": {"false_positive": 1, "false_negative": 3},
        }
    )
    dataset, _ = make_binary_case(seed=1, sizes=SIZES, holdout=500)
    scores = _scores(dataset)
    ev = evaluate(spec, dataset, Fixed(scores))
    assert ev.threshold_info["chosen_on"] == "validation"
    # Brute force on validation gives the same optimum.
    y, s = dataset.y["validation"], scores["validation"]
    grid = np.unique(s)
    if strategy == "best_f1":
        best = max(f1_score(y, (s >= t).astype(int)) for t in grid)
        assert ev.threshold_info["validation_f1"] == pytest.approx(best)
    else:
        cost = [((s >= t) & (y == 0)).sum() * 1 + ((s < t) & (y == 1)).sum() * 3 for t in grid]
        assert ev.threshold_info["validation_cost_per_1000"] == pytest.approx(
            1000 * min(cost) / len(y)
        )
    # Scrambling the test split and the holdout (and their labels) changes nothing.
    for split in ("test", "holdout"):
        dataset.y[split] = 1 - dataset.y[split]
        scores[split] = scores[split][::-1].copy()
    assert evaluate(spec, dataset, Fixed(scores)).threshold == ev.threshold
    # Changing validation does.
    scores["validation"] = np.clip(scores["validation"] * 0.5, 0, 1)
    assert evaluate(spec, dataset, Fixed(scores)).threshold != ev.threshold


def test_fixed_threshold_and_decisions():
    spec = make_spec(evaluation={"threshold": {"strategy": "fixed", "value": 0.3}, **OFF})
    dataset, _ = make_binary_case(seed=2, sizes=SIZES)
    scores = _scores(dataset)
    ev = evaluate(spec, dataset, Fixed(scores))
    assert ev.threshold == 0.3 and ev.threshold_info["chosen_on"] is None
    assert np.array_equal(ev.splits["test"].y_pred, (scores["test"] >= 0.3).astype(int))
    assert ev.best_epoch == 3 and ev.stopped_early is True


def test_min_cost_without_costs_is_a_spec_error():
    spec = make_spec(evaluation={"threshold": {"strategy": "min_cost"}, **OFF})
    dataset, _ = make_binary_case(seed=2, sizes=SIZES)
    with pytest.raises(SpecError) as err:
        evaluate(spec, dataset, Fixed(_scores(dataset)))
    assert err.value.message == MISSING_COSTS


def test_baselines_majority_and_linear():
    spec = make_spec(evaluation={"learning_curve": {"enabled": False}})
    dataset, _ = make_binary_case(seed=3, sizes=SIZES)
    ev = evaluate(spec, dataset, Fixed(_scores(dataset)))
    assert ev.baselines["majority"]["test"]["roc_auc"] == pytest.approx(0.5)
    assert ev.baselines["linear"]["test"]["roc_auc"] > 0.6  # x1 carries signal
    assert ev.notes["learning_curve"].startswith("it is switched off")


def test_learning_curve_retrains_on_growing_fractions(monkeypatch):
    import auditor.train as train

    spec = make_spec(evaluation={"learning_curve": {"fractions": [0.25, 0.5, 1.0]}})
    dataset, _ = make_binary_case(seed=4, sizes=SIZES)
    scores = _scores(dataset, noise=0.5)
    calls = []

    def fake_train(spec_, dataset_, *, train_rows=None, progress=None):
        calls.append(np.asarray(train_rows))
        noise = 2.0 * (1 - len(train_rows) / len(dataset_.y["train"])) + 0.5
        return Fixed(_scores(dataset_, seed=len(train_rows), noise=noise))

    monkeypatch.setattr(train, "train_model", fake_train)
    ev = evaluate(spec, dataset, Fixed(scores))
    assert [len(c) for c in calls] == [200, 400]  # 100% reuses the audited model
    assert len(set(calls[0]) - set(calls[1])) == 0  # nested subsets
    assert [p["fraction"] for p in ev.learning_curve] == [0.25, 0.5, 1.0]
    vals = [p["validation"] for p in ev.learning_curve]
    assert vals[0] < vals[1] < vals[2]


def test_vendor_models_skip_the_learning_curve():
    spec = make_spec()
    dataset, _ = make_binary_case(seed=5, sizes=SIZES)
    vendor = Fixed(_scores(dataset))
    vendor.kind = "vendor:onnx"
    ev = evaluate(spec, dataset, vendor)
    assert ev.learning_curve == [] and "vendor" in ev.notes["learning_curve"]


def test_primary_metric_follows_the_spec_or_the_task():
    assert primary_metric(make_spec(), "binary") == "roc_auc"
    assert primary_metric(make_spec(), "binary", has_scores=False) == "f1"
    assert primary_metric(make_spec(evaluation={"metrics": ["f1", "accuracy"]}), "binary") == "f1"
    assert primary_metric(make_spec("regression"), "regression") == "r2"


def test_evaluate_then_checks_end_to_end():
    from auditor.checks import run_checks
    from auditor.verdict import decide

    spec = make_spec(
        acceptance=[{"metric": "roc_auc", "at_least": 0.7}],
        evaluation={"learning_curve": {"enabled": False}},
    )
    dataset, _ = make_binary_case(seed=6, sizes=SIZES)
    ev = evaluate(spec, dataset, Fixed(_scores(dataset, noise=0.8)))
    findings = run_checks(spec, dataset, ev)
    assert not [f for f in findings if f.status == "error"]
    outcomes, verdict = decide(spec, findings)
    assert outcomes[0].status == "pass"
    assert choose_threshold(spec, dataset, None)[1]["strategy"] == "fixed"
