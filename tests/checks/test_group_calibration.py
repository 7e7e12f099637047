"""Calibration within groups: planted calibrated and miscalibrated groups, the trade-off.

Each case draws every row's true probability ``p`` first and its outcome from
Bernoulli(p), so a model that reports ``p`` is calibrated within every group by
construction (true ECE 0), and one that reports ``p + shift`` for a group is off by
exactly ``shift`` in every bin of that group (true ECE = shift while ``p + shift`` stays
inside [0, 1]).
"""

from __future__ import annotations

import numpy as np
import pytest

from auditor.checks import CheckContext
from auditor.checks.group_calibration import (
    MAX_BINS,
    MIN_BIN_ROWS,
    bin_count,
    group_calibration,
    rank_bins,
)
from auditor.report.charts import render_chart
from auditor.verdict import decide
from tests.checks.factory import make_calibration_case, make_spec

CALIBRATION = {"check": "group_calibration", "sensitive": "g", "at_most": 0.05}
ERROR_RATES = {"metric": "equalized_odds_difference", "sensitive": "g", "at_most": 0.1}


_case = make_calibration_case


def _run(acceptance=(), **case):
    spec = make_spec(sensitive=("g",), acceptance=acceptance, evaluation={"bootstrap": 400})
    dataset, evaluation = _case(**case)
    findings = group_calibration(CheckContext(spec, dataset, evaluation))
    return spec, findings


def _groups(finding):
    return {r["group"]: r for r in finding.details["calibration_by_group"]}


def test_rank_bins_hold_equal_counts_whatever_the_ties():
    codes = np.array([0] * 450 + [1] * 150)
    scores = np.concatenate([np.repeat([0.2, 0.5, 0.9], 150), np.full(150, 0.3)])
    bins, k = rank_bins(scores, codes, 2)
    assert k.tolist() == [bin_count(450), bin_count(150)] == [4, 1]
    assert np.bincount(bins[codes == 0]).tolist() == [113, 112, 113, 112]
    assert (bins[codes == 1] == 0).all()
    assert bin_count(10 * MAX_BINS * MIN_BIN_ROWS) == MAX_BINS and bin_count(5) == 1


def test_calibrated_within_groups_with_unequal_base_rates():
    """Honest scores: small ECE in each group, intervals cover the true 0, criterion passes,
    and with both kinds of criterion declared the summary states the trade-off."""
    spec, findings = _run(acceptance=[CALIBRATION, ERROR_RATES])
    (f,) = findings
    assert f.id == "fairness.group_calibration.test.g" and f.sensitive == "g"
    groups = _groups(f)
    for name in ("A", "B"):
        g = groups[name]
        assert g["ece"] < 0.03, g
        assert g["ece_low"] <= 0.0 <= g["ece_high"], g  # the true ECE is 0
        assert g["bins"] == MAX_BINS
    assert f.value == pytest.approx(max(groups["A"]["ece"], groups["B"]["ece"]))
    assert f.ci[0] <= 0.0 <= f.ci[1] and f.ci[0] <= f.value <= f.ci[1]
    # the base rates differ by construction, and so (at one threshold) do the error rates
    trade = f.details["tradeoff"]
    assert trade["base_rates_differ"] and trade["base_rate_gap_low"] > 0.1
    assert trade["error_rate_gap"] > 0.1 and trade["both_declared"] and trade["stated"]
    assert trade["held_to"] == "both"
    a, b = groups["A"]["base_rate"], groups["B"]["base_rate"]
    assert (
        f"Here repaid = 1 is more common for B than for A (base rate {100 * b:.0f}% vs "
        f"{100 * a:.0f}%): a model cannot have both equal error rates and equally calibrated "
        "scores for both groups; this spec holds it to both" in f.summary
    ), f.summary
    outcomes, _ = decide(spec, findings)
    assert outcomes[0].status == "pass", outcomes[0].reason
    assert outcomes[1].status == "error"  # the fairness check did not run in this test


@pytest.mark.parametrize(
    "acceptance, held",
    [
        ([dict(ERROR_RATES), dict(CALIBRATION, severity="advisory")], "equal error rates"),
        ([dict(ERROR_RATES, severity="advisory"), CALIBRATION], "equally calibrated scores"),
        (
            [dict(ERROR_RATES, severity="advisory"), dict(CALIBRATION, severity="advisory")],
            "neither",
        ),
    ],
    ids=["error_rates_blocking", "calibration_blocking", "both_advisory"],
)
def test_the_tradeoff_says_what_the_spec_holds_the_model_to(acceptance, held):
    _, (f,) = _run(acceptance=acceptance, n=(1500, 1500))
    assert f"this spec holds it to {held}" in f.summary, f.summary


def test_no_tradeoff_sentence_when_only_one_kind_is_declared_and_nothing_is_broken():
    _, (f,) = _run(acceptance=[CALIBRATION])
    assert not f.details["tradeoff"]["stated"]
    assert "cannot have both" not in f.summary


def test_both_broken_states_the_tradeoff_without_criteria():
    """B's scores +0.15: calibration over the diagnostic bound (0.1) and error rates apart."""
    _, (f,) = _run(shift=0.15)
    trade = f.details["tradeoff"]
    assert trade["both_broken"] and not trade["both_declared"] and trade["stated"]
    assert "this spec holds it to neither" in f.summary
    assert f.status == "warn" and "recalibrate" in f.recommendation


def test_a_group_miscalibrated_by_015_sets_the_headline_and_fails_the_criterion():
    spec, findings = _run(acceptance=[CALIBRATION], shift=0.15)
    (f,) = findings
    groups = _groups(f)
    assert f.details["worst_group"] == "B"
    assert f.value == pytest.approx(groups["B"]["ece"])
    assert groups["B"]["ece_low"] <= 0.15 <= groups["B"]["ece_high"], groups["B"]
    assert f.ci[0] <= 0.15 <= f.ci[1] and f.ci[0] > 0.05
    assert groups["A"]["ece"] < 0.03
    assert f.summary.startswith("Scores for B are off from the observed rate of repaid = 1 by 0.1")
    outcomes, verdict = decide(spec, findings)
    assert outcomes[0].status == "fail" and outcomes[0].value == pytest.approx(f.value)
    assert verdict.status == "NOT READY"


def test_a_miscalibration_every_group_shares_is_not_called_a_difference_between_groups():
    """Every score 0.12 too high, in both groups: the worst group is off by about as much
    as the best, so the finding says so, its step recalibrates for everyone, and the
    verdict's "differences in treatment" step does not name the attribute."""
    spec, findings = _run(shift_all=0.12)
    (f,) = findings
    assert f.status == "warn" and f.value == pytest.approx(0.12, abs=0.02)
    assert f.details["shared_by_groups"] is True
    assert f.details["gap_ci"][0] <= 0 <= f.details["gap_ci"][1]
    assert "miscalibrated for everyone, not unequal between the groups" in f.summary
    assert "every group" in f.recommendation
    assert "different things for different groups" not in f.recommendation
    _, verdict = decide(spec, findings)
    assert f.recommendation in verdict.next_steps[0]
    assert not any("differences in treatment" in step for step in verdict.next_steps)


@pytest.mark.parametrize(
    "case",
    [
        {"shift": 0.15},  # B clearly worse than A
        # 30 rows of B: the gap's interval reaches 0, but A is well calibrated: not shared
        {"shift": 0.12, "n": (3000, 30)},
    ],
)
def test_one_group_miscalibrated_is_a_difference_between_groups(case):
    spec, findings = _run(**case)
    (f,) = findings
    assert f.status == "warn" and f.details["shared_by_groups"] is False
    if case.get("n") == (3000, 30):
        assert f.details["gap_ci"][0] <= 0  # uncertain, yet not called shared
    assert "miscalibrated for everyone" not in f.summary
    assert "different things for different groups" in f.recommendation
    _, verdict = decide(spec, findings)
    assert any("differences in treatment across g" in step for step in verdict.next_steps)


def test_a_tiny_extreme_group_does_not_set_the_headline():
    """12 rows of C with scores 0.6 off: listed as too small, the headline is A and B's."""
    spec, findings = _run(acceptance=[CALIBRATION], tiny=12)
    (f,) = findings
    groups = _groups(f)
    assert groups["C"]["inconclusive"] and groups["C"]["needed"] == 18
    assert groups["C"]["ece"] > 0.3  # extreme, yet
    assert f.value == pytest.approx(max(groups["A"]["ece"], groups["B"]["ece"]))
    assert f.value < 0.03
    assert f.ci[1] < 0.1 and f.details["worst_group"] in ("A", "B")
    assert groups["A"]["ece_low"] <= 0.0 and groups["B"]["ece_low"] <= 0.0  # truth: 0
    assert "Group C (12 rows, 18 more needed) is below the minimum of 30 rows" in f.summary
    assert "18 more rows of C" in f.recommendation
    outcomes, _ = decide(spec, findings)
    assert outcomes[0].status == "pass", outcomes[0].reason


def test_no_judgeable_group_is_inconclusive_with_no_figure():
    spec = make_spec(sensitive=("g",), acceptance=[CALIBRATION], evaluation={"bootstrap": 50})
    dataset, evaluation = _case(n=(20, 25))
    (f,) = group_calibration(CheckContext(spec, dataset, evaluation))
    assert f.status == "inconclusive" and f.value is None and f.recommendation
    outcomes, _ = decide(spec, [f])
    assert outcomes[0].status == "inconclusive"


def test_the_chart_draws_one_curve_per_group_with_the_small_group_labelled():
    _, (f,) = _run(tiny=12, n=(800, 800))
    chart = f.chart
    assert chart["kind"] == "group_calibration"
    assert [g["group"] for g in chart["groups"]] == ["A", "B", "C"]
    assert [g["inconclusive"] for g in chart["groups"]] == [False, False, True]
    for g in chart["groups"]:
        assert len(g["predicted"]) == len(g["observed"]) == len(g["counts"]) >= 1
        assert sum(g["counts"]) == g["n"]
    drawn = render_chart(chart)
    assert drawn is not None and drawn.note is None, drawn and drawn.note
    assert drawn.svg.startswith("<svg") and "too few to judge" in drawn.svg
    assert "perfect calibration" in drawn.svg


def test_without_scores_the_check_is_skipped():
    spec = make_spec(sensitive=("g",))
    dataset, evaluation = _case(n=(200, 200))
    evaluation.has_scores = False
    (f,) = group_calibration(CheckContext(spec, dataset, evaluation))
    assert f.status == "skipped" and f.id == "fairness.group_calibration"


@pytest.mark.parametrize("shift, truth", [(0.0, 0.0), (0.15, 0.15)], ids=["calibrated", "shifted"])
def test_group_intervals_cover_the_true_calibration_error(shift, truth):
    """40 seeded draws of 500 + 500 rows (5 bins a group): B's 95% interval covers its true
    ECE (0, or the planted shift) at least 36 times, and A's covers 0 as often."""
    spec = make_spec(sensitive=("g",), evaluation={"bootstrap": 200})
    covered = {"A": 0, "B": 0}
    for seed in range(40):
        dataset, evaluation = _case(seed=100 + seed, n=(500, 500), shift=shift)
        (f,) = group_calibration(CheckContext(spec, dataset, evaluation))
        groups = _groups(f)
        covered["A"] += groups["A"]["ece_low"] <= 0.0 <= groups["A"]["ece_high"]
        covered["B"] += groups["B"]["ece_low"] <= truth <= groups["B"]["ece_high"]
    assert covered["A"] >= 36 and covered["B"] >= 36, covered


def test_regression_is_skipped():
    from tests.checks.factory import make_other_case

    spec = make_spec("regression", sensitive=("sex",))
    (f,) = group_calibration(CheckContext(spec, *make_other_case("regression", n=200)))
    assert f.status == "skipped" and f.id == "fairness.group_calibration"
