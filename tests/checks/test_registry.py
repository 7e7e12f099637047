"""The check registry, error containment, JSON helpers and the results schema."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema
import pytest

from auditor.checks import (
    CHECK_FAILED,
    CHECKS,
    UNKNOWN_CHECK,
    UnknownCheckError,
    criterion_checks,
    get_check,
    run_checks,
)
from auditor.checks.fairness import FAIRNESS_METRICS
from auditor.metrics import METRICS
from auditor.results import finding_to_dict, metrics_table, outcome_to_dict, verdict_to_dict
from auditor.types import CATEGORIES, CHART_KINDS
from auditor.verdict import blocking_findings, decide
from tests.checks.factory import make_binary_case, make_spec, overfit_history

ROOT = Path(__file__).parents[2]
SPEC_SCHEMA = json.loads((ROOT / "schemas" / "spec.schema.json").read_text())
RESULTS_SCHEMA = json.loads((ROOT / "schemas" / "results.schema.json").read_text())


def test_schema_check_enum_equals_the_criterion_checks():
    enum = SPEC_SCHEMA["$defs"]["criterion"]["properties"]["check"]["enum"]
    assert sorted(enum) == sorted(criterion_checks())


def test_schema_criterion_metric_enum_equals_metric_fairness_and_text_registries():
    from auditor.text.catalogue import TEXT_METRICS

    enum = SPEC_SCHEMA["$defs"]["criterion"]["properties"]["metric"]["enum"]
    assert sorted(enum) == sorted([*METRICS, *FAIRNESS_METRICS, *TEXT_METRICS])


def test_every_check_is_registered_once_with_a_category_and_description():
    for name, check in CHECKS.items():
        assert check.name == name and check.category in CATEGORIES and check.description


def test_unknown_check_lists_the_available_ones():
    with pytest.raises(UnknownCheckError) as err:
        get_check("leakage")
    assert str(err.value) == UNKNOWN_CHECK.format(name="leakage", available=", ".join(CHECKS))


def test_a_check_that_raises_becomes_an_error_finding(monkeypatch):
    from auditor.checks import registry

    def broken(ctx):
        raise RuntimeError("boom")

    entry = registry.CHECKS["outliers"]
    monkeypatch.setitem(registry.CHECKS, "outliers", dataclasses.replace(entry, fn=broken))
    spec = make_spec(acceptance=[{"check": "outliers", "split": "train", "at_most": 0.1}])
    findings = run_checks(
        spec, *make_binary_case(seed=0, sizes={"train": 300, "validation": 200, "test": 200})
    )
    errors = [f for f in findings if f.status == "error"]
    assert len(errors) == 1 and errors[0].summary == CHECK_FAILED.format(
        name="outliers", error="RuntimeError: boom"
    )
    outcomes, verdict = decide(spec, findings)
    assert outcomes[0].status == "error" and "boom" in outcomes[0].reason
    assert verdict.status == "NOT READY"


@pytest.fixture(scope="module")
def full_run():
    spec = make_spec(
        acceptance=[
            {"metric": "f1", "at_least": 0.5},
            {"metric": "demographic_parity_difference", "sensitive": "sex", "at_most": 0.1},
            {"metric": "roc_auc", "split": "holdout", "at_least": 0.6},
        ],
        evaluation={"costs": {"false_positive": 5, "false_negative": 1}},
    )
    dataset, evaluation = make_binary_case(seed=2, gap=0.15, history=overfit_history(6))
    findings = run_checks(spec, dataset, evaluation)
    outcomes, verdict = decide(spec, findings)
    return spec, dataset, evaluation, findings, outcomes, verdict


def test_every_finding_is_complete_and_json_safe(full_run):
    *_, findings, outcomes, verdict = full_run
    resolver_schema = dict(RESULTS_SCHEMA)
    finding_schema = {"$ref": "#/$defs/finding", "$defs": resolver_schema["$defs"]}
    criterion_schema = {"$ref": "#/$defs/criterion", "$defs": resolver_schema["$defs"]}
    ids = [f.id for f in findings]
    assert len(ids) == len(set(ids))
    for f in findings:
        d = finding_to_dict(f)
        json.dumps(d, allow_nan=False)
        jsonschema.validate(d, finding_schema)
        assert f.summary.endswith(".") and not f.summary[0].islower(), f.id
        if f.status in ("warn", "fail", "inconclusive"):
            assert f.recommendation, f.id
        if f.chart is not None:
            assert f.chart["kind"] in CHART_KINDS and f.chart["title"], f.id
    for o in outcomes:
        jsonschema.validate(outcome_to_dict(o), criterion_schema)
    json.dumps(verdict_to_dict(verdict), allow_nan=False)


def test_curves_are_downsampled(full_run):
    *_, findings, _, _ = full_run
    for f in findings:
        if f.chart and f.chart["kind"] in ("roc", "pr"):
            assert len(f.chart.get("fpr", f.chart.get("recall"))) <= 200
        if f.chart and f.chart["kind"] == "residuals":
            assert len(f.chart["residual"]) <= 2000


def test_metrics_table_and_missing_holdout(full_run):
    *_, findings, outcomes, _ = full_run
    table = metrics_table(findings)
    assert set(table) == {"train", "validation", "test"}
    cell = table["test"]["f1"]
    assert (
        set(cell) == {"value", "low", "high", "n"} and cell["low"] <= cell["value"] <= cell["high"]
    )
    holdout = outcomes[2]
    assert holdout.status == "error" and "no holdout" in holdout.reason


def test_blocking_criteria_mark_their_findings_not_advisory(full_run):
    *_, findings, outcomes, _ = full_run
    blocking = blocking_findings(outcomes)
    by_id = {f.id: finding_to_dict(f, advisory=f.id not in blocking) for f in findings}
    assert by_id[outcomes[0].finding_id]["advisory"] is False
    assert by_id["performance.accuracy.test"]["advisory"] is True


def test_expected_cost_per_thousand_matches_a_hand_count(full_run):
    _, _, evaluation, findings, _, _ = full_run
    f = {f.id: f for f in findings}["performance.expected_cost.test"]
    e = evaluation.splits["test"]
    fp = int(((e.y_pred == 1) & (e.y_true == 0)).sum())
    fn = int(((e.y_pred == 0) & (e.y_true == 1)).sum())
    n = len(e.y_true)
    assert f.value == pytest.approx(1000 * (5 * fp + 1 * fn) / n)
    assert f.details["false_positives_per_1000"] == pytest.approx(1000 * fp / n)
    assert f.ci[0] <= f.value <= f.ci[1]


def test_results_document_validates_against_the_schema(full_run, tmp_path):
    from auditor.results import build_results
    from auditor.types import Spec

    spec, dataset, evaluation, findings, outcomes, verdict = full_run
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text("version: 1\n")
    spec = Spec(path=spec_file, values=spec.values)

    class Stub:
        kind = "trained"
        has_scores = True
        info = {"fingerprint": "0" * 64, "device": "cpu", "device_name": "cpu", "precision": "fp32"}
        history = evaluation.history

    dataset.split_info = {"strategy": "stratified", "seed": 0, "sizes": {"train": 2000}}
    results = build_results(
        spec, dataset, Stub(), evaluation, findings, outcomes, verdict, timings={"checks": 1.0}
    )
    jsonschema.validate(results, RESULTS_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**results, "extra": 1}, RESULTS_SCHEMA)
