"""Audit-only data: a vendor's model on the client's files, no split, compared with the
development data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from auditor.pipeline import run
from auditor.spec import load_spec

SPEC = {
    "version": 1,
    "name": "client-audit-test",
    "objective": {"task": "binary", "target": "approved", "positive": 1},
    "data": {
        "audit": [
            {"path": "data/client_q3.csv", "label": "client, 2026 Q3"},
            {"path": "data/client_q4.csv", "label": "client, 2026 Q4"},
        ],
        "reference": {"path": "data/vendor_development.csv"},
        "generate": {"example": "loan", "rows": 1500, "seed": 5},
        "id_column": "applicant_id",
        "exclude": ["application_date", "branch_id"],
        "sensitive": ["sex"],
    },
    "model": {
        "vendor": {
            "format": "skops",
            "path": "data/scorecard.skops",
            "trusted_types": ["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"],
            "example": "loan-scorecard",
        }
    },
    "evaluation": {
        "bootstrap": 100,
        "threshold": {"strategy": "best_f1", "chosen_on": {"split": "client_q3", "fraction": 0.25}},
    },
    "acceptance": [
        {"metric": "roc_auc", "at_least": 0.6},
        {"metric": "f1", "split": "client_q4", "at_least": 0.5},
        {"check": "domain_classifier", "at_most": 0.7},
        {"check": "performance_shift", "metric": "roc_auc", "split": "client_q4", "at_most": 0.5},
        {"check": "feature_drift", "split": "client_q4", "at_most": 0.5, "severity": "advisory"},
    ],
    "report": {"output": "runs"},
}


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    folder = tmp_path_factory.mktemp("audit_only")
    spec_file = folder / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(SPEC, sort_keys=False), encoding="utf-8")
    outcome = run(spec_file, out=folder / "out", quiet=True)
    return spec_file, outcome, json.loads((folder / "out" / "results.json").read_text())


def test_criteria_default_to_the_first_audit_file():
    spec = load_spec(_written(SPEC), check_data=False)
    assert spec.acceptance[0].split == "client_q3"
    assert [a.name for a in spec.data.audit] == ["client_q3", "client_q4"]
    assert (
        spec.acceptance[0]
        .describe(spec.split_labels)
        .startswith("ROC-AUC on the client, 2026 Q3 data")
    )


def _written(values) -> Path:
    import tempfile

    folder = Path(tempfile.mkdtemp())
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    return path


def test_every_audit_file_is_a_split_and_nothing_is_split_or_trained(audited):
    _, outcome, results = audited
    assert outcome.exit_code in (0, 1, 3)
    roles = results["data"]["split_roles"]
    assert roles == {
        "client_q3": "audit",
        "client_q4": "audit",
        "threshold": "threshold",
        "reference": "reference",
    }
    assert set(results["evaluation"]["metrics"]) == {"client_q3", "client_q4", "reference"}
    assert results["data"]["split_labels"]["client_q4"] == "client, 2026 Q4"


def test_the_threshold_rows_are_left_out_of_the_audited_rows(audited):
    _, _, results = audited
    split = results["data"]["split"]
    assert split["threshold_rows"] == {"from": "client_q3", "rows": 75, "fraction": 0.25}
    assert split["sizes"]["client_q3"] == 300 - 75 and split["sizes"]["threshold"] == 75
    assert results["evaluation"]["threshold_info"]["chosen_on"] == "threshold"
    assert results["evaluation"]["metrics"]["client_q3"]["f1"]["n"] == 225


def test_findings_that_need_training_are_reported_once_as_not_applicable(audited):
    _, _, results = audited
    for check in (
        "overfitting",
        "generalization_gap",
        "learning_curve",
        "train_test_overlap",
        "single_feature_leakage",
    ):
        found = [f for f in results["findings"] if f["check"] == check]
        assert len(found) == 1 and found[0]["status"] == "skipped", check


def test_every_criterion_is_decided_and_the_vendor_is_compared_with_its_own_data(audited):
    _, _, results = audited
    assert all(c["status"] != "error" for c in results["criteria"]), results["criteria"]
    shift = next(
        f for f in results["findings"] if f["id"] == "drift.performance_shift.roc_auc.client_q4"
    )
    # the vendor scores its own development rows far better than the client's
    assert shift["value"] > 0.05 and shift["ci"][0] > 0
    drift = [f for f in results["findings"] if f["check"] == "feature_drift"]
    assert {f["split"] for f in drift} == {"client_q3", "client_q4"}


def test_the_report_says_which_rows_chose_the_threshold(audited):
    _, outcome, _ = audited
    html = (outcome.out_dir / "report.html").read_text(encoding="utf-8")
    assert "set aside to choose the decision threshold and are not audited" in html
    assert "client, 2026 Q3" in html
