"""The verdict on hand-made findings: one row per situation."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from auditor.errors import ExitCode
from auditor.results import outcome_to_dict
from auditor.types import Finding
from auditor.verdict import blocking_findings, decide, describe
from tests.checks.factory import make_spec

TODAY = dt.date(2026, 6, 1)


def perf(metric="f1", split="test", value=0.85, ci=(0.80, 0.90), status="pass"):
    return Finding(
        id=f"performance.{metric}.{split}",
        check="performance",
        category="performance",
        status=status,
        title=metric,
        summary="Measured.",
        value=value,
        ci=ci,
        metric=metric,
        split=split,
        n=1000,
    )


def fair(value=0.05, ci=(0.02, 0.08), status="pass", sensitive="sex", adequate=None):
    return Finding(
        id=f"fairness.demographic_parity_difference.test.{sensitive}",
        check="fairness",
        category="fairness",
        status=status,
        title="dp",
        summary="Measured.",
        value=value,
        ci=ci,
        metric="demographic_parity_difference",
        split="test",
        sensitive=sensitive,
        details={"adequate_value": adequate},
    )


def diag(status="pass"):
    return Finding(
        id="fit.overfitting",
        check="overfitting",
        category="fit",
        status=status,
        title="loss",
        summary="Measured.",
        value=0.0,
        recommendation="Stop earlier.",
    )


F1 = {"metric": "f1", "at_least": 0.80}
DP = {"metric": "demographic_parity_difference", "sensitive": "sex", "at_most": 0.10}

# (case, criteria, findings, expected outcome statuses, expected verdict)
CASES = [
    ("all_pass", [F1, DP], [perf(), fair(), diag()], ["pass", "pass"], "READY"),
    ("blocking_fail", [F1], [perf(value=0.7, ci=(0.65, 0.75))], ["fail"], "NOT READY"),
    ("advisory_fail", [dict(F1, severity="advisory")], [perf(value=0.7)], ["fail"], "CONDITIONAL"),
    ("diagnostic_warns", [F1], [perf(), diag("warn")], ["pass"], "CONDITIONAL"),
    (
        "covered_warning_is_not_a_diagnostic",
        [{"check": "overfitting", "at_most": 0.5}],
        [diag("warn")],
        ["pass"],
        "READY",
    ),
    ("group_too_small", [DP], [fair(status="inconclusive")], ["inconclusive"], "NOT READY"),
    (
        "small_group_but_large_groups_fail",
        [DP],
        [fair(status="inconclusive", adequate=0.2)],
        ["fail"],
        "NOT READY",
    ),
    ("holdout_missing", [dict(F1, split="holdout")], [perf()], ["error"], "NOT READY"),
    ("not_applicable", [{"metric": "rmse", "at_most": 1.0}], [perf()], ["error"], "NOT READY"),
    (
        "intersection_in_any_order",
        [dict(DP, sensitive="age & sex")],
        [fair(sensitive="sex&age")],
        ["pass"],
        "READY",
    ),
    ("unknown_sensitive", [dict(DP, sensitive="race")], [fair()], ["error"], "NOT READY"),
    (
        "worst_partition_is_judged",
        [{"metric": "demographic_parity_difference", "at_most": 0.10}],
        [fair(0.05), fair(0.12, sensitive="age")],
        ["fail"],
        "NOT READY",
    ),
    (
        "confidence_straddles",
        [dict(F1, require="confidence")],
        [perf(value=0.82, ci=(0.78, 0.86))],
        ["inconclusive"],
        "NOT READY",
    ),
    (
        "confidence_holds",
        [dict(F1, require="confidence")],
        [perf(value=0.85, ci=(0.81, 0.9))],
        ["pass"],
        "READY",
    ),
    (
        "both_bounds",
        [{"metric": "f1", "at_least": 0.5, "at_most": 0.8}],
        [perf(value=0.85)],
        ["fail"],
        "NOT READY",
    ),
    (
        "waived",
        [dict(F1, waiver={"reason": "pilot", "approver": "PM", "expires": "2026-06-01"})],
        [perf(value=0.7)],
        ["fail"],
        "READY",
    ),
    (
        "expired_waiver",
        [dict(F1, waiver={"reason": "pilot", "approver": "PM", "expires": "2026-05-31"})],
        [perf(value=0.7)],
        ["fail"],
        "NOT READY",
    ),
    ("no_criteria", [], [perf()], [], "READY"),
]


@pytest.mark.parametrize(
    "case, criteria, findings, statuses, verdict", CASES, ids=[c[0] for c in CASES]
)
def test_verdict_table(case, criteria, findings, statuses, verdict):
    task = "binary"
    spec = make_spec(task, acceptance=criteria)
    outcomes, v = decide(spec, findings, today=TODAY)
    assert [o.status for o in outcomes] == statuses, [o.reason for o in outcomes]
    assert v.status == verdict, v.reason
    assert v.reason.endswith(".") and v.next_steps
    assert (
        v.exit_code
        == {
            "READY": ExitCode.READY,
            "CONDITIONAL": ExitCode.CONDITIONAL,
            "NOT READY": ExitCode.NOT_READY,
        }[verdict]
    )
    if verdict == "NOT READY":
        assert v.blockers
    for o in outcomes:
        d = outcome_to_dict(o)
        assert isinstance(d["ci"], (list, type(None)))
        if o.status != "pass":
            assert o.reason


def test_margin_is_signed_and_reasons_explain():
    spec = make_spec(acceptance=[F1, DP])
    outcomes, _ = decide(spec, [perf(value=0.75), fair(value=0.04)], today=TODAY)
    assert outcomes[0].margin == pytest.approx(-0.05) and outcomes[1].margin == pytest.approx(0.06)
    assert outcomes[0].reason == "measured 0.75, bound 0.80"


def test_waiver_is_shown_and_reason_names_the_approver():
    c = dict(
        F1, waiver={"reason": "pilot only", "approver": "Head of Product", "expires": "2026-12-31"}
    )
    outcomes, verdict = decide(make_spec(acceptance=[c]), [perf(value=0.7)], today=TODAY)
    assert outcomes[0].waived and outcomes[0].waiver["approver"] == "Head of Product"
    assert "Head of Product" in outcomes[0].reason and "waived" in verdict.reason


def test_blocking_criteria_mark_findings_not_advisory():
    f1, d, dp = perf(), diag(), fair()
    spec = make_spec(acceptance=[F1, dict(DP, severity="advisory")])
    outcomes, _ = decide(spec, [f1, d, dp], today=TODAY)
    assert blocking_findings(outcomes) == {f1.id}  # the advisory criterion's finding is not


def test_decide_changes_nothing_it_is_given():
    findings = [perf(value=0.7), diag("warn"), fair(value=0.3, status="warn")]
    before = [dataclasses.replace(f) for f in findings]
    decide(make_spec(acceptance=[F1, DP]), findings, today=TODAY)
    assert findings == before


@pytest.mark.parametrize(
    "criterion, text",
    [
        (F1, "F1 score on the test split is at least 0.80"),
        (DP, "Demographic parity difference across sex on the test split is at most 0.10"),
        (
            {"metric": "roc_auc", "split": "holdout", "at_least": 0.7, "require": "confidence"},
            "ROC-AUC on the client holdout is at least 0.70 (the whole confidence interval)",
        ),
        (
            {
                "check": "generalization_gap",
                "metric": "accuracy",
                "split": "validation",
                "at_most": 0.05,
            },
            "Generalization gap in Accuracy between the training and validation splits is at most "
            "0.05",
        ),
        (
            {
                "metric": "equal_opportunity_difference",
                "sensitive": "sex&age_band",
                "at_most": 0.15,
            },
            "Equal opportunity difference across sex and age_band on the test split is at most "
            "0.15",
        ),
    ],
)
def test_plain_words(criterion, text):
    full = make_spec(acceptance=[criterion]).acceptance[0]
    assert describe(full) == text


def test_next_steps_come_from_the_failing_findings():
    f = dataclasses.replace(fair(value=0.2, status="warn"), recommendation="Investigate the gap.")
    _, v = decide(make_spec(acceptance=[DP]), [f], today=TODAY)
    assert v.next_steps[0] == "Investigate the gap. (from: dp)"  # names its finding


def test_fairness_diagnostics_make_one_step_naming_each_attribute_once():
    def warn(metric, sensitive, lo, hi):
        return dataclasses.replace(
            fair(value=0.2, status="warn", sensitive=sensitive),
            id=f"fairness.{metric}.test.{sensitive}",
            metric=metric,
            details={"lowest_group": lo, "highest_group": hi},
            recommendation=f"Investigate why {lo} and {hi} are treated differently.",
        )

    findings = [
        warn("demographic_parity_difference", "sex", "female", "male"),
        warn("equalized_odds_difference", "sex", "male", "female"),
        warn("demographic_parity_difference", "age", "18-29", "60+"),
        warn("equalized_odds_difference", "age", "30-44", "60+"),
        warn("demographic_parity_difference", "sex&age", "female & 18-29", "male & 60+"),
        diag("warn"),
    ]
    _, v = decide(make_spec(acceptance=[]), findings, today=TODAY)
    assert v.status == "CONDITIONAL"
    plain = [s.split(" (from: ")[0] for s in v.next_steps]
    fairness_steps = [s for s in plain if "treatment" in s or "treated" in s]
    assert fairness_steps == [
        "Investigate the differences in treatment across sex (female vs male), age (18-29 vs "
        "60+) and sex&age (female & 18-29 vs male & 60+): check the training labels for "
        "historical bias against a group, look for features that act as proxies for these "
        "attributes, and agree a policy before adjusting decisions."
    ]
    assert "Stop earlier." in plain
    # a failed criterion on sex keeps its own step; the others are listed once, after it
    _, v = decide(make_spec(acceptance=[DP]), findings, today=TODAY)
    assert v.next_steps[0].startswith("Investigate why female and male are treated differently.")
    assert v.next_steps[1].startswith(
        "Fairness diagnostics also warn across age (18-29 vs 60+) and sex&age (female & 18-29 "
        "vs male & 60+):"
    )
