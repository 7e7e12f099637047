"""Planted ground truth, one row per case: (data with a known effect, check, expected status)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from auditor.checks import run_checks
from auditor.verdict import decide
from tests.checks.factory import make_binary_case, make_spec, overfit_history, steady_history

DP = {
    "metric": "demographic_parity_difference",
    "sensitive": "sex",
    "split": "test",
    "at_most": 0.10,
}
EOPP = {
    "metric": "equal_opportunity_difference",
    "sensitive": "sex",
    "split": "test",
    "at_most": 0.10,
}
TOO_GOOD = {"check": "suspicious_score", "metric": "roc_auc", "split": "test", "at_most": 0.99}
OVERFIT = {"check": "overfitting", "at_most": 0.02}
BEATS_MAJORITY = {
    "check": "baseline_improvement",
    "metric": "roc_auc",
    "split": "test",
    "at_least": 0.02,
}

# (case id, case kwargs, criteria, finding id, expected finding status, expected criterion status)
CASES = [
    (
        "planted_gap",
        dict(gap=0.15),
        [DP],
        "fairness.demographic_parity_difference.test.sex",
        "warn",
        "fail",
    ),
    (
        "unbiased",
        dict(gap=0.0),
        [DP],
        "fairness.demographic_parity_difference.test.sex",
        "pass",
        "pass",
    ),
    (
        "unbiased_eopp",
        dict(gap=0.0),
        [EOPP],
        "fairness.equal_opportunity_difference.test.sex",
        "pass",
        "pass",
    ),
    (
        "tiny_group",
        dict(gap=0.0, tiny=("other", 12)),
        [DP],
        "fairness.demographic_parity_difference.test.sex",
        "inconclusive",
        "inconclusive",
    ),
    (
        "leak_single_feature",
        dict(leak=True),
        [{"check": "single_feature_leakage", "at_most": 0.95}],
        "fit.single_feature_leakage",
        "warn",
        "fail",
    ),
    (
        "leak_too_good",
        dict(leak=True),
        [TOO_GOOD],
        "fit.suspicious_score.roc_auc.test",
        "warn",
        "fail",
    ),
    (
        "honest_not_too_good",
        dict(),
        [TOO_GOOD],
        "fit.suspicious_score.roc_auc.test",
        "pass",
        "pass",
    ),
    (
        "overfitting",
        dict(history=overfit_history(8)),
        [OVERFIT],
        "fit.overfitting",
        "warn",
        "fail",
    ),
    (
        "no_overfitting",
        dict(history=steady_history()),
        [OVERFIT],
        "fit.overfitting",
        "pass",
        "pass",
    ),
    (
        "majority_underfits",
        dict(majority=True),
        [BEATS_MAJORITY],
        "fit.baseline_improvement.roc_auc.test",
        "warn",
        "fail",
    ),
    (
        "real_model_beats_majority",
        dict(),
        [BEATS_MAJORITY],
        "fit.baseline_improvement.roc_auc.test",
        "pass",
        "pass",
    ),
]


@pytest.mark.parametrize(
    "case, kwargs, criteria, finding_id, finding_status, criterion_status",
    CASES,
    ids=[c[0] for c in CASES],
)
def test_planted_case(case, kwargs, criteria, finding_id, finding_status, criterion_status):
    spec = make_spec(acceptance=criteria)
    dataset, evaluation = make_binary_case(seed=3, **kwargs)
    findings = run_checks(spec, dataset, evaluation)
    assert not [f.id for f in findings if f.status == "error"]
    by_id = {f.id: f for f in findings}
    assert by_id[finding_id].status == finding_status, by_id[finding_id].summary
    outcomes, verdict = decide(spec, findings)
    assert outcomes[0].status == criterion_status, outcomes[0].reason
    assert outcomes[0].finding_id == finding_id
    if criterion_status != "pass":
        assert verdict.status == "NOT READY" and verdict.blockers and verdict.next_steps


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_parity_gap_lies_in_its_interval(seed):
    spec = make_spec(acceptance=[DP])
    dataset, evaluation = make_binary_case(
        seed=seed, gap=0.15, sizes={"train": 1000, "validation": 500, "test": 3000}
    )
    f = {f.id: f for f in run_checks(spec, dataset, evaluation)}[
        "fairness.demographic_parity_difference.test.sex"
    ]
    assert f.ci[0] <= 0.15 <= f.ci[1]
    assert abs(f.value - 0.15) < 0.05
    outcomes, _ = decide(spec, [f])
    assert outcomes[0].status == "fail" and outcomes[0].margin < 0


def test_tiny_group_states_rows_needed_and_never_passes():
    spec = make_spec(acceptance=[DP])
    dataset, evaluation = make_binary_case(seed=4, tiny=("other", 12))
    findings = run_checks(spec, dataset, evaluation)
    f = {f.id: f for f in findings}["fairness.demographic_parity_difference.test.sex"]
    other = [g for g in f.details["groups"] if g["group"] == "other"][0]
    assert other["n"] == 12 and other["needed"] == 18 and other["inconclusive"]
    assert "other (12 rows, 18 more needed)" in f.summary
    assert f.recommendation.startswith("Collect at least 18 more rows of other")
    size = {f.id: f for f in findings}["data.group_size.test.sex"]
    assert size.status == "warn" and size.value == 12
    assert "Group other (12 rows, 18 more needed) is below the minimum of 30" in size.summary


def test_tiny_group_fails_when_the_large_groups_already_fail():
    spec = make_spec(acceptance=[DP])
    dataset, evaluation = make_binary_case(seed=4, gap=0.3, tiny=("other", 12))
    outcomes, _ = decide(spec, run_checks(spec, dataset, evaluation))
    assert outcomes[0].status == "fail" and "large enough" in outcomes[0].reason


def test_leak_trips_both_leakage_checks_with_the_leaky_feature_named():
    spec = make_spec()
    findings = {f.id: f for f in run_checks(spec, *make_binary_case(seed=5, leak=True))}
    leak = findings["fit.single_feature_leakage"]
    assert leak.details["suspects"][0] == "leak" and leak.value > 0.99
    assert findings["fit.suspicious_score.roc_auc.test"].status == "warn"
    honest = {f.id: f for f in run_checks(spec, *make_binary_case(seed=5))}
    assert honest["fit.single_feature_leakage"].status == "pass"


@pytest.mark.parametrize("k", [5, 8, 12])
def test_overfitting_flags_the_epoch_it_starts(k):
    spec = make_spec()
    f = {f.id: f for f in run_checks(spec, *make_binary_case(seed=1, history=overfit_history(k)))}[
        "fit.overfitting"
    ]
    assert f.details["lowest_epoch"] == k and f.details["rising_from"] == k + 1
    assert f.chart["kind"] == "loss_curve" and f.chart["rising_from"] == k + 1
    assert f"epoch {k + 1}" in f.chart["title"]


def test_unbiased_data_passes_every_fairness_criterion():
    criteria = [
        DP,
        EOPP,
        {"metric": "demographic_parity_ratio", "sensitive": "sex", "at_least": 0.8},
        {"metric": "equalized_odds_difference", "sensitive": "sex", "at_most": 0.12},
    ]
    spec = make_spec(acceptance=criteria)
    dataset, evaluation = make_binary_case(
        seed=7, gap=0.0, sizes={"train": 1000, "validation": 500, "test": 4000}
    )
    outcomes, verdict = decide(spec, run_checks(spec, dataset, evaluation))
    assert [o.status for o in outcomes] == ["pass"] * 4, [o.reason for o in outcomes]


@pytest.mark.parametrize(
    "expires, waived, verdict_status",
    [
        (
            (dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=30)).isoformat(),
            True,
            "CONDITIONAL",
        ),
        ((dt.datetime.now(dt.timezone.utc).date()).isoformat(), True, "CONDITIONAL"),
        ("2020-01-01", False, "NOT READY"),
    ],
)
def test_waiver_valid_vs_expired(expires, waived, verdict_status):
    criterion = dict(
        DP,
        waiver={
            "reason": "Policy review pending",
            "approver": "Head of Product",
            "expires": expires,
        },
    )
    spec = make_spec(acceptance=[criterion])
    outcomes, verdict = decide(spec, run_checks(spec, *make_binary_case(seed=3, gap=0.15)))
    assert outcomes[0].status == "fail" and outcomes[0].waived is waived
    # the planted gap also makes other (diagnostic) fairness findings warn -> CONDITIONAL at best
    assert verdict.status == verdict_status
    if not waived:
        assert "expired" in outcomes[0].reason


def test_require_confidence_is_inconclusive_only_when_the_estimate_meets_the_bound():
    spec = make_spec(acceptance=[{"metric": "accuracy", "at_least": 0.5}])
    findings = run_checks(spec, *make_binary_case(seed=3))
    acc = {f.id: f for f in findings}["performance.accuracy.test"]
    lo, hi = acc.ci
    below, above = (lo + acc.value) / 2, (acc.value + hi) / 2  # inside the interval
    cases = [
        (below, "inconclusive"),  # the estimate meets it, the interval reaches past it
        (above, "fail"),  # the estimate itself misses it: not "more data is needed"
        (lo - 0.01, "pass"),
        (hi + 0.01, "fail"),
    ]
    for bound, expected in cases:
        s = make_spec(
            acceptance=[{"metric": "accuracy", "at_least": bound, "require": "confidence"}]
        )
        outcomes, verdict = decide(s, findings)
        assert outcomes[0].status == expected, (bound, acc.value, acc.ci)
        if expected != "pass":
            assert verdict.status == "NOT READY"
        if expected == "inconclusive":
            # the next step is a number: the rows that would clear the bound
            reach, room = acc.value - lo, acc.value - bound
            rows = int(np.ceil(acc.n * (reach / room) ** 2))
            assert f"about {rows:,} rows (now {acc.n:,})" in outcomes[0].reason
            assert any(f"about {rows:,} rows" in step for step in verdict.next_steps)


def test_statuses_are_deterministic_under_the_seed():
    spec = make_spec(acceptance=[DP])
    a = [(f.id, f.status, f.value) for f in run_checks(spec, *make_binary_case(seed=11, gap=0.1))]
    b = [(f.id, f.status, f.value) for f in run_checks(spec, *make_binary_case(seed=11, gap=0.1))]
    assert a == b
    assert np.all(
        [s in ("pass", "warn", "fail", "inconclusive", "error", "skipped") for _, s, _ in a]
    )
