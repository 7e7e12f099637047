"""Every check runs without error on multiclass and regression evaluations too."""

from __future__ import annotations

import pytest

from auditor.checks import run_checks
from auditor.metrics import metric_names
from auditor.results import finding_to_dict, metrics_table
from auditor.verdict import decide
from tests.checks.factory import make_other_case, make_spec


@pytest.mark.parametrize(
    "task, criteria",
    [
        (
            "multiclass",
            [
                {"metric": "f1_macro", "at_least": 0.3},
                {"metric": "worst_group_accuracy", "sensitive": "sex&age", "at_least": 0.3},
                {"metric": "roc_auc", "split": "holdout", "at_least": 0.6},
            ],
        ),
        (
            "regression",
            [
                {"metric": "r2", "at_least": 0.5},
                {"metric": "mae_difference", "sensitive": "sex", "at_most": 1.0},
                {"check": "baseline_improvement", "metric": "r2", "at_least": 0.2},
            ],
        ),
    ],
)
def test_all_checks_run_for_the_task(task, criteria):
    spec = make_spec(task, sensitive=("sex", "age"), acceptance=criteria)
    dataset, evaluation = make_other_case(task, seed=1)
    findings = run_checks(spec, dataset, evaluation)
    assert not [(f.id, f.summary) for f in findings if f.status == "error"]
    table = metrics_table(findings)
    assert set(table) == {"train", "validation", "test", "holdout"}
    assert set(table["test"]) == set(metric_names(task))
    for f in findings:
        finding_to_dict(f)
    outcomes, verdict = decide(spec, findings)
    assert [o.status for o in outcomes] == ["pass"] * 3, [o.reason for o in outcomes]
    lc = {f.id: f for f in findings}["fit.learning_curve"]
    assert lc.details["more_data_helps"] is True  # planted: +0.05 per 10% more rows
    assert verdict.status in ("READY", "CONDITIONAL")
