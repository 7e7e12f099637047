"""The vendor's model against an in-house model: paired intervals on planted differences."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import yaml

from auditor.checks import run_checks
from auditor.compare import NEITHER, VENDOR, Audit, compare
from auditor.metrics import decisions
from auditor.types import SplitEval
from auditor.verdict import decide
from tests.checks.factory import make_binary_case, make_spec

ROOT = Path(__file__).resolve().parents[1]
CRITERIA = [{"metric": "accuracy", "at_least": 0.5}, {"metric": "brier", "at_most": 0.5}]


def _with_errors(evaluation, rng, error_rate: float):
    """The case's evaluation with a model that is wrong on ``error_rate`` of the rows."""
    splits = {}
    for name, e in evaluation.splits.items():
        wrong = rng.random(len(e.y_true)) < error_rate
        guess = np.where(wrong, 1 - e.y_true, e.y_true)
        scores = np.where(guess == 1, 0.8, 0.2)
        splits[name] = SplitEval(e.y_true, scores, decisions("binary", scores, 0.5), e.groups)
    return dataclasses.replace(evaluation, splits=splits)


def _audit(spec, dataset, evaluation) -> Audit:
    findings = run_checks(spec, dataset, evaluation)
    outcomes, verdict = decide(spec, findings)
    return Audit(findings, outcomes, verdict)


def test_the_paired_interval_covers_the_planted_difference():
    """Vendor wrong on 20% of rows, in-house on 30%: accuracy differs by 0.10 in the
    population; its 95% paired interval covers 0.10 in most of 40 seeded draws."""
    spec = make_spec(acceptance=CRITERIA, evaluation={"bootstrap": 300})
    covered, vendor_better = 0, 0
    for draw in range(40):
        dataset, evaluation = make_binary_case(
            seed=draw, sizes={"train": 300, "validation": 300, "test": 1000}
        )
        rng = np.random.default_rng(draw)
        vendor = _audit(spec, dataset, _with_errors(evaluation, rng, 0.2))
        in_house = _audit(spec, dataset, _with_errors(evaluation, rng, 0.3))
        row = compare(spec, vendor, in_house, label="the in-house model")["criteria"][0]
        covered += row["ci"][0] <= 0.10 <= row["ci"][1]
        vendor_better += row["better"] == VENDOR
    assert covered >= 34
    assert vendor_better >= 36  # a 10-point gap on 1,000 rows is clear nearly always


def test_equal_models_show_no_clear_difference_and_say_so():
    spec = make_spec(acceptance=CRITERIA, evaluation={"bootstrap": 300})
    dataset, evaluation = make_binary_case(seed=3)
    a = _audit(spec, dataset, evaluation)
    result = compare(spec, a, a, label="the in-house model")
    assert [r["better"] for r in result["criteria"]] == [NEITHER, NEITHER]
    assert all(r["difference"] == pytest.approx(0.0) for r in result["criteria"])
    assert result["summary"].endswith("neither is clearly better on 2.")


def test_a_run_with_a_linear_in_house_model(tmp_path):
    from auditor.pipeline import run

    values = yaml.safe_load((ROOT / "specs" / "vendor-audit.yaml").read_text())
    values["data"]["generate"]["rows"] = 1500
    for key in ("train", "holdout"):
        values["data"][key] = str(tmp_path / Path(values["data"][key]).name)
    values["model"]["vendor"]["path"] = str(tmp_path / "vendor.skops")
    values["model"]["compare"] = "linear"
    values["evaluation"]["bootstrap"] = 100
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    outcome = run(spec, out=tmp_path / "out", quiet=True)
    comparison = outcome.results["comparison"]
    assert comparison["label"] == "the in-house model (logistic regression)"
    assert len(comparison["criteria"]) == len(values["acceptance"])
    assert all(r["ci"] is not None for r in comparison["criteria"])
    assert comparison["verdict"]["status"] in ("READY", "CONDITIONAL", "NOT READY")
    html = (outcome.out_dir / "report.html").read_text(encoding="utf-8")
    assert "Against the in-house model (logistic regression)" in html
