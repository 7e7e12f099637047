"""What drives the model, on a known model: a planted proxy, a noise column, a planted dip.

The "model" is a fixed function of the raw columns (no training): its score rises with
``income``, jumps for one ``zip`` code (a proxy), dips for ``age`` around 50 (a planted
violation of an increasing effect) and ignores ``noise``. The importance and partial
dependence are measured by :func:`auditor.importance.model_drivers` exactly as the
evaluate stage does, through ``predictor.predict(dataset, split)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.checks import drivers as drivers_checks
from auditor.checks.registry import CHECKS, CheckContext
from auditor.importance import NO_RESCORING, model_drivers
from auditor.metrics import decisions
from auditor.types import Dataset, Evaluation, SplitEval
from auditor.verdict import decide
from tests.checks.factory import make_spec


class RawModel:
    """A model of the raw columns: income up, zip 'Z1' up, a dip of age near 50."""

    kind = "trained"
    has_scores = True
    info: dict = {}
    history: list = []

    def __init__(self, *, zip_weight: float = 1.5):
        self.zip_weight = zip_weight

    def predict(self, dataset, split):
        f = dataset.frames[split]
        z = (
            1.2 * (f["income"].to_numpy() - 50.0) / 10.0
            + self.zip_weight * (f["zip"].to_numpy() == "Z1")
            - 1.5 * np.exp(-(((f["age"].to_numpy() - 50.0) / 4.0) ** 2))
            - 0.4
        )
        return 1.0 / (1.0 + np.exp(-z))


def make_case(seed: int = 0, n: int = 3000, *, zip_weight: float = 1.5, criteria=()):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "income": rng.normal(50, 10, n).round(1),
            "age": rng.integers(20, 80, n),
            "zip": rng.choice(["Z1", "Z2", "Z3"], n),
            "noise": rng.normal(0, 1, n),
        }
    )
    model = RawModel(zip_weight=zip_weight)
    features = list(frame.columns)
    types = {c: "categorical" if c == "zip" else "numeric" for c in features}
    probe = Dataset(
        task="binary",
        target="y",
        frames={"test": frame},
        X={},
        y={"test": np.zeros(n, dtype=np.int64)},
        groups={},
        feature_columns=features,
        column_types=types,
        feature_names=features,
        classes=[0, 1],
    )
    scores = model.predict(probe, "test")
    y = (rng.random(n) < scores).astype(np.int64)
    frame["y"] = y
    dataset = Dataset(
        task="binary",
        target="y",
        frames={"test": frame},
        X={},
        y={"test": y},
        groups={"test": pd.DataFrame(index=range(n))},
        feature_columns=features,
        column_types=types,
        feature_names=features,
        classes=[0, 1],
        split_roles={"test": "test"},
    )
    spec = make_spec(sensitive=(), acceptance=criteria)
    notes: dict = {}
    found = model_drivers(
        spec,
        dataset,
        model,
        scores={"test": scores},
        threshold=0.5,
        metric="roc_auc",
        notes=notes,
    )
    evaluation = Evaluation(
        task="binary",
        classes=[0, 1],
        splits={
            "test": SplitEval(
                y_true=y,
                scores=scores,
                y_pred=decisions("binary", scores, 0.5),
                groups=dataset.groups["test"],
            )
        },
        threshold=0.5,
        primary_metric="roc_auc",
        notes=notes,
        drivers=found,
    )
    return spec, dataset, evaluation


def run(spec, dataset, evaluation, *names):
    ctx = CheckContext(spec=spec, dataset=dataset, evaluation=evaluation)
    out = []
    for name in names:
        out += CHECKS[name].fn(ctx.for_check(CHECKS[name]))
    return out


def test_proxy_drives_the_model_and_noise_covers_zero():
    criteria = [{"check": "feature_importance", "feature": "zip", "at_most": 0.01}]
    spec, dataset, evaluation = make_case(criteria=criteria)
    table = evaluation.drivers.importance["roc_auc"]
    value, low, high = table["zip"]
    assert low > 0.01, table["zip"]
    n_value, n_low, n_high = table["noise"]
    assert n_low <= 0.0 <= n_high, table["noise"]
    findings = run(spec, dataset, evaluation, "feature_importance")
    outcomes, _ = decide(spec, findings)
    assert outcomes[0].status == "fail", outcomes[0].reason
    zip_finding = next(f for f in findings if f.details.get("feature") == "zip")
    assert zip_finding.summary.startswith("'zip' drives the model")
    assert "the spec allows at most 0.01" in zip_finding.summary
    summary = next(f for f in findings if "feature" not in f.details)
    assert summary.chart["kind"] == "metric_intervals"
    assert [r["label"] for r in summary.chart["rows"]][:1] == ["income"]


def test_a_proxy_the_model_ignores_passes():
    criteria = [{"check": "feature_importance", "feature": "zip", "at_most": 0.01}]
    spec, dataset, evaluation = make_case(zip_weight=0.0, criteria=criteria)
    outcomes, _ = decide(spec, run(spec, dataset, evaluation, "feature_importance"))
    assert outcomes[0].status == "pass", outcomes[0].reason


def test_monotone_violation_found_and_monotone_feature_passes():
    criteria = [
        {"check": "monotone_increasing", "feature": "age", "at_most": 0.02},
        {"check": "monotone_increasing", "feature": "income", "at_most": 0.02},
        {"check": "monotone_decreasing", "feature": "income", "at_most": 0.02},
    ]
    spec, dataset, evaluation = make_case(criteria=criteria)
    findings = run(spec, dataset, evaluation, "monotone_increasing", "monotone_decreasing")
    outcomes, _ = decide(spec, findings)
    assert [o.status for o in outcomes] == ["fail", "pass", "fail"], [o.reason for o in outcomes]
    age = next(f for f in findings if f.details.get("feature") == "age")
    assert age.value > 0.05 and age.ci[0] > 0.02, (age.value, age.ci)
    income_up = next(
        f for f in findings if f.details.get("feature") == "income" and f.check.endswith("ing")
    )
    assert income_up.value == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    ("feature", "k", "status"),
    [("income", 1, "pass"), ("zip", 2, "pass"), ("noise", 2, "fail"), ("zip", 1, "fail")],
)
def test_top_drivers(feature, k, status):
    criteria = [{"check": "driver_rank", "feature": feature, "at_most": k}]
    spec, dataset, evaluation = make_case(criteria=criteria)
    outcomes, _ = decide(spec, run(spec, dataset, evaluation, "driver_rank"))
    assert outcomes[0].status == status, outcomes[0].reason


def test_largest_violation_is_the_largest_fall_after_a_peak():
    curves = np.array([[0.1, 0.3, 0.2, 0.25, 0.05, 0.4], [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]])
    assert drivers_checks.largest_violation(curves, "increasing").tolist() == pytest.approx(
        [0.25, 0.0]
    )
    assert drivers_checks.largest_violation(curves, "decreasing")[1] == pytest.approx(0.5)


def test_a_predictions_file_cannot_be_rescored():
    spec, dataset, evaluation = make_case()
    model = RawModel()
    model.kind = "vendor:predictions"
    notes: dict = {}
    scores = {"test": evaluation.splits["test"].scores}
    assert (
        model_drivers(
            spec, dataset, model, scores=scores, threshold=0.5, metric="roc_auc", notes=notes
        )
        is None
    )
    assert notes["drivers"] == NO_RESCORING
    evaluation.drivers, evaluation.notes = None, notes
    criteria = [{"check": "driver_rank", "feature": "zip", "at_most": 2}]
    spec = make_spec(sensitive=(), acceptance=criteria)
    findings = run(spec, dataset, evaluation, "feature_importance", "driver_rank")
    assert {f.status for f in findings} == {"skipped"}
    assert "cannot be scored again" in findings[0].summary
    outcomes, _ = decide(spec, findings)
    assert outcomes[0].status != "pass"


def test_an_unknown_feature_is_skipped_with_the_features_listed():
    criteria = [{"check": "driver_rank", "feature": "zipcode", "at_most": 2}]
    spec, dataset, evaluation = make_case(criteria=criteria)
    findings = run(spec, dataset, evaluation, "driver_rank")
    assert findings[0].status == "skipped" and "income" in findings[0].summary
