"""Comparison with a previous report (``--against``): changes with paired or unpaired
intervals, and criteria that bound the change (a regression gate).

Two models are simulated on the same 2,000 rows: the new one gets right every row the old
one gets right and 3% more, so the planted change in accuracy is known exactly; both are
resampled with the same bootstrap weights, as two runs on the same data are.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from auditor.against import (
    Against,
    change,
    decode_replicates,
    encode_replicates,
    load_previous,
    same_rows,
)
from auditor.errors import DataError
from auditor.metrics.bootstrap import draw_weights
from auditor.types import Finding
from auditor.verdict import NO_PREVIOUS, decide
from tests.checks.factory import make_spec

N, B, SEED = 2_000, 400, 11
BASIS = {"sources": [["train", "ab" * 32]], "split": {"seed": 7}, "bootstrap": {"seed": 0}}


def _correct() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SEED)
    old = rng.random(N) < 0.78
    new = old.copy()
    wrong = np.flatnonzero(~old)
    new[rng.choice(wrong, size=int(0.03 * N), replace=False)] = True
    return old, new


def _finding(correct: np.ndarray, weights: np.ndarray, fid="performance.accuracy.test"):
    replicates = weights @ correct / weights.sum(axis=1)
    lo, hi = np.quantile(replicates, [0.025, 0.975])
    return Finding(
        id=fid,
        check="performance",
        category="performance",
        status="pass",
        title="Accuracy on test",
        summary="Measured.",
        value=float(correct.mean()),
        ci=(float(lo), float(hi)),
        metric="accuracy",
        split="test",
        n=N,
        replicates=replicates,
    )


def _weights(seed: int = 0) -> np.ndarray:
    return draw_weights(np.random.default_rng(seed), B, N, dtype=np.float64)


def _results(findings, *, replicates=True, basis=BASIS) -> dict:
    return {
        "spec": {"name": "loan"},
        "run": {"finished": "2026-11-30T10:00:00+00:00"},
        "verdict": {"status": "READY"},
        "findings": [
            {"id": f.id, "value": f.value, "ci": list(f.ci), "check": f.check} for f in findings
        ],
        "basis": basis,
        "replicates": {f.id: encode_replicates(f.replicates) for f in findings}
        if replicates
        else {},
    }


@pytest.fixture
def runs(tmp_path):
    """(previous run's Previous, this run's finding, the exact planted change)."""
    old, new = _correct()
    weights = _weights()
    before, after = _finding(old, weights), _finding(new, weights)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_results([before])))
    return load_previous(path), after, float(new.mean() - old.mean())


def test_replicates_survive_results_json_as_float32():
    values = np.random.default_rng(0).normal(size=300)
    back = decode_replicates(encode_replicates(values))
    assert back.shape == values.shape
    np.testing.assert_allclose(back, values, rtol=1e-6)


def test_paired_change_finds_the_planted_gain_and_excludes_zero(runs):
    previous, after, planted = runs
    ch = change(after, previous, paired=True, confidence=0.95)
    assert ch.paired
    assert ch.value == pytest.approx(planted, abs=1e-12)
    assert ch.ci[0] <= planted <= ch.ci[1]
    assert ch.ci[0] > 0.0, "the same rows resampled alike: a 3-point gain is clearly a gain"


def test_unpaired_interval_is_wider_than_the_paired_one(runs):
    previous, after, planted = runs
    paired = change(after, previous, paired=True, confidence=0.95)
    unpaired = change(after, previous, paired=False, confidence=0.95)
    assert not unpaired.paired
    assert unpaired.value == pytest.approx(planted, abs=1e-12)
    assert unpaired.ci[0] <= planted <= unpaired.ci[1]
    width = lambda c: c.ci[1] - c.ci[0]  # noqa: E731
    assert width(unpaired) > 2 * width(paired)


def test_without_previous_replicates_the_intervals_give_a_normal_approximation(tmp_path):
    old, new = _correct()
    weights = _weights()
    before, after = _finding(old, weights), _finding(new, weights)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_results([before], replicates=False)))
    ch = change(after, load_previous(path), paired=True, confidence=0.95)
    assert not ch.paired, "without replicates nothing can be paired"
    se = np.hypot(*[(f.ci[1] - f.ci[0]) / (2 * 1.959964) for f in (before, after)])
    assert ch.ci[0] == pytest.approx(ch.value - 1.959964 * se, rel=1e-4)
    assert ch.ci[1] == pytest.approx(ch.value + 1.959964 * se, rel=1e-4)


def test_a_measurement_the_previous_report_lacks_has_no_change(runs):
    previous, after, _ = runs
    other = dataclasses.replace(after, id="performance.accuracy.holdout", split="holdout")
    ch = change(other, previous, paired=True, confidence=0.95)
    assert ch.value is None and "performance.accuracy.holdout" in ch.reason


def test_the_same_rows_are_recognised_by_their_basis(runs):
    previous, _, _ = runs
    assert same_rows(previous, BASIS)
    other = {**BASIS, "sources": [["train", "cd" * 32]]}
    assert not same_rows(previous, other)
    empty = dataclasses.replace(previous, basis={})
    assert not same_rows(empty, BASIS), "a report without a basis is never paired"


# ------------------------------------------------------------------ the regression gate
GATE = {"metric": "accuracy", "split": "test", "change": True, "at_least": -0.01}


@pytest.mark.parametrize(
    ("bound", "status"),
    [({"at_least": -0.01}, "pass"), ({"at_least": 0.06}, "fail"), ({"at_most": 0.0}, "fail")],
)
def test_a_change_criterion_judges_the_change_not_the_value(runs, bound, status):
    previous, after, planted = runs
    criterion = {"metric": "accuracy", "split": "test", "change": True, **bound}
    spec = make_spec(acceptance=[criterion])
    against = Against(previous, paired=True, confidence=0.95)
    (outcome,), _ = decide(spec, [after], against=against)
    assert outcome.status == status
    assert outcome.value == pytest.approx(planted, abs=1e-12)
    assert outcome.ci is not None and outcome.ci[0] > 0.0
    assert outcome.description.startswith("Change in accuracy on the test split against")


def test_require_confidence_applies_to_the_change_interval(runs):
    previous, after, planted = runs
    # the gain's interval reaches below planted - 0.005: the point passes, the interval not
    criterion = {**GATE, "at_least": planted - 0.005, "require": "confidence"}
    against = Against(previous, paired=True, confidence=0.95)
    (outcome,), _ = decide(make_spec(acceptance=[criterion]), [after], against=against)
    assert outcome.ci[0] < planted - 0.005 < outcome.value
    assert outcome.status == "inconclusive"


def test_a_change_criterion_without_a_previous_report_blocks_release(runs):
    _, after, _ = runs
    (outcome,), verdict = decide(make_spec(acceptance=[GATE]), [after])
    assert outcome.status == "error" and outcome.reason == NO_PREVIOUS
    assert verdict.status == "NOT READY"


def test_a_change_criterion_on_a_measurement_the_previous_report_lacks_is_an_error(runs):
    previous, after, _ = runs
    holdout = dataclasses.replace(after, id="performance.accuracy.holdout", split="holdout")
    criterion = {**GATE, "split": "holdout"}
    against = Against(previous, paired=True, confidence=0.95)
    spec = make_spec(acceptance=[criterion], data={"holdout": "h.csv"})
    (outcome,), _ = decide(spec, [holdout], against=against)
    assert outcome.status == "error"
    assert "the previous report has no performance.accuracy.holdout" in outcome.reason


# ------------------------------------------------------------------ reading it
def test_the_previous_report_may_be_named_by_its_folder(tmp_path, runs):
    previous, _, _ = runs
    again = load_previous(previous.path.parent)
    assert again.sha256 == previous.sha256 and len(again.sha256) == 64
    assert again.name == "loan" and again.verdict == "READY"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "does not exist"),
        ('{"verdict": {}}', "is not an auditor results.json"),
        ('{"findings": [], "replicates": {"a": "###"}}', "unreadable replicates for a"),
    ],
)
def test_an_unusable_previous_report_is_one_located_line(tmp_path, content, words):
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DataError) as e:
        load_previous(path)
    assert str(e.value).startswith("--against: the previous report")
    assert words in str(e.value)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(("content", "line"), [('{\n  "findings": [\n  oops', 3), ("[1, 2]", None)])
def test_a_previous_report_that_is_not_a_json_object_is_located_in_its_file(
    tmp_path, content, line
):
    from auditor.results import MSG_RESULTS_NOT_OBJECT

    path = tmp_path / "results.json"
    path.write_text(content)
    with pytest.raises(DataError) as e:
        load_previous(path)
    where = f"{path}:{line}:" if line else f"{path}: "
    assert str(e.value).startswith(where), str(e.value)
    assert "not a valid results.json" in str(e.value) and "\n" not in str(e.value)
    if line is None:
        assert str(e.value).endswith(MSG_RESULTS_NOT_OBJECT)
