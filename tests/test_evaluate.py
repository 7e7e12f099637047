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


# ------------------------------------------------------------------ partial vendor predictions
def _holdout_only_vendor(tmp_path, *, acceptance, threshold=None):
    """A real predictions-file vendor that scores only the client holdout (and the test rows).

    Scores are planted: informative for the holdout (the label plus noise) so that its
    criteria can be judged against a known answer.
    """
    import pandas as pd

    from auditor.vendor_models import load_vendor_model
    from tests.vendor_models.vendor_helpers import build_dataset, vendor_settings

    dataset = build_dataset("loan", 500, 3)
    rng = np.random.default_rng(0)
    rows = []
    for split in ("test", "holdout"):
        frame = dataset.frames[split]
        y = dataset.y[split]
        rows.append(
            pd.DataFrame(
                {
                    "applicant_id": frame["applicant_id"].to_numpy(),
                    "score": np.clip(0.25 + 0.5 * y + rng.normal(0, 0.15, len(y)), 0, 1).round(6),
                }
            )
        )
    pd.concat(rows).to_csv(tmp_path / "preds.csv", index=False)
    evaluation = {"learning_curve": {"enabled": False}}
    if threshold:
        evaluation["threshold"] = threshold
    spec = make_spec(
        acceptance=acceptance,
        evaluation=evaluation,
        data={"id_column": "applicant_id"},
        sensitive=("sex", "age_band"),
    )
    spec.path = tmp_path / "spec.yaml"
    spec.values["model"] = {"vendor": vendor_settings(format="predictions", path="preds.csv")}
    spec.positions[("evaluation", "threshold", "strategy")] = (12, 5)
    spec.positions[("model", "vendor", "path")] = (20, 5)
    predictor = load_vendor_model(spec, dataset)
    assert predictor.covers(dataset, "holdout") and not predictor.covers(dataset, "train")
    return spec, dataset, predictor


def test_uncovered_splits_are_skipped_and_explained(tmp_path):
    from auditor.checks import run_checks
    from auditor.verdict import decide

    acceptance = [
        {"metric": "roc_auc", "split": "holdout", "at_least": 0.8},
        {"metric": "roc_auc", "split": "validation", "at_least": 0.8},
        {
            "metric": "demographic_parity_difference",
            "sensitive": "sex",
            "split": "train",
            "at_most": 0.5,
        },
        {"check": "generalization_gap", "metric": "roc_auc", "split": "test", "at_most": 0.05},
    ]
    spec, dataset, predictor = _holdout_only_vendor(tmp_path, acceptance=acceptance)
    ev = evaluate(spec, dataset, predictor)
    assert sorted(ev.splits) == ["holdout", "test"]
    assert set(ev.notes["uncovered_splits"]) == {"train", "validation"}
    assert "do not cover every row of the training split" in ev.notes["uncovered_splits"]["train"]
    findings = run_checks(spec, dataset, ev)
    assert not [f.id for f in findings if f.status == "error"]
    by_id = {f.id: f for f in findings}
    assert by_id["performance.coverage.validation"].status == "skipped"
    assert "no performance, fairness or fit figure" in by_id["performance.coverage.train"].summary
    assert not [f for f in findings if f.check == "performance" and f.split == "train"]
    assert by_id["performance.roc_auc.holdout"].value > 0.9  # planted informative scores
    assert "do not cover every row of the training split" in (
        by_id["fit.generalization_gap"].summary
    )
    outcomes, verdict = decide(spec, findings)
    assert [o.status for o in outcomes] == ["pass", "error", "error", "error"]
    assert "do not cover every row of the validation split" in outcomes[1].reason
    assert "do not cover every row of the training split" in outcomes[2].reason
    assert "training split" in outcomes[3].reason
    assert verdict.status == "NOT READY"


def test_threshold_on_an_uncovered_validation_split_is_a_located_spec_error(tmp_path):
    from auditor.evaluate import VALIDATION_NOT_COVERED

    spec, dataset, predictor = _holdout_only_vendor(
        tmp_path, acceptance=[], threshold={"strategy": "best_f1"}
    )
    with pytest.raises(SpecError) as err:
        evaluate(spec, dataset, predictor)
    assert err.value.message == VALIDATION_NOT_COVERED.format(strategy="best_f1")
    assert err.value.location.line == 12


def test_a_vendor_covering_no_split_is_a_model_file_error(tmp_path):
    from auditor.errors import ModelFileError
    from auditor.evaluate import NONE_COVERED

    spec, dataset, predictor = _holdout_only_vendor(tmp_path, acceptance=[])
    predictor.covers = lambda ds, split: False
    with pytest.raises(ModelFileError) as err:
        evaluate(spec, dataset, predictor)
    assert err.value.message == NONE_COVERED.format(splits="train, validation, test, holdout")
    assert err.value.location.line == 20


# ------------------------------------------------------------------ real training, planted fit
def _noisy_frame(n, seed=1):
    """One informative feature, nine noise features, labels 25% noisy: easy to memorise."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(10)})
    frame["sex"] = rng.choice(["f", "m"], n)
    frame["y"] = (frame["x0"] + rng.normal(0, 1, n) > 0).astype(int)
    return frame


FIT_CASES = [
    # (case, rows, hidden layers, epochs, expected status of both fit checks)
    ("big_network_little_data", 300, [64, 64], 15, "warn"),
    # the honest counterpart (a planted steady history passes in tests/checks/test_planted.py)
    pytest.param("small_network_ample_data", 3000, [8], 15, "pass", marks=pytest.mark.slow),
]


@pytest.mark.parametrize(
    "case, rows, hidden, epochs, expected",
    FIT_CASES,
    ids=["big_network_little_data", "small_network_ample_data"],
)
def test_trained_model_overfitting_is_detected(tmp_path, case, rows, hidden, epochs, expected):
    """Really trained (no planted history): a big net on little data trips both fit checks."""
    from pathlib import Path

    from auditor.checks import run_checks
    from auditor.data import build_dataset
    from auditor.spec.defaults import apply_defaults
    from auditor.train import train_model
    from auditor.types import Spec

    _noisy_frame(rows).to_csv(tmp_path / "train.csv", index=False)
    values = {
        "version": 1,
        "name": "fit",
        "objective": {"task": "binary", "target": "y"},
        "data": {"train": "train.csv", "sensitive": ["sex"]},
        "model": {"hidden": hidden},
        "training": {
            "epochs": epochs,
            "batch_size": 32,
            "learning_rate": 0.01,
            "device": "cpu",
            "seed": 0,
            "early_stopping": {"patience": 1000},
        },
        "evaluation": {"bootstrap": 200, **OFF},
    }
    spec = Spec(path=Path(tmp_path) / "spec.yaml", values=apply_defaults(values))
    dataset = build_dataset(spec)
    ev = evaluate(spec, dataset, train_model(spec, dataset))
    found = {f.id: f for f in run_checks(spec, dataset, ev)}
    over = found["fit.overfitting"]
    gap = found["fit.generalization_gap.roc_auc.validation"]
    assert over.status == expected, over.summary
    assert gap.status == expected, gap.summary
    if expected == "warn":
        assert over.details["rising_from"] is not None
        assert f"epoch {over.details['rising_from']}" in over.summary
        assert gap.ci is not None and gap.ci[0] > 0  # the whole interval shows a real gap
