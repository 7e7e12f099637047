"""The verdict: acceptance criteria judged against the findings; READY, CONDITIONAL, NOT READY.

Measuring and judging are separate: checks measure (findings), this module judges. Each
criterion finds the finding it refers to (metric or check, split, sensitive feature) and
yields pass, fail, inconclusive (a group too small to judge; or ``require: confidence`` and
the interval straddles the bound) or error (no such finding: a metric that does not apply,
a holdout that does not exist, a check that could not run).

- NOT READY: a blocking criterion fails (unwaived), is inconclusive or is an error.
- CONDITIONAL: every blocking criterion holds, but an advisory criterion does not, or a
  diagnostic finding not covered by any criterion warns, fails or could not run.
- READY: otherwise.

A failed criterion with a waiver whose ``expires`` date is today or later (UTC) counts as
waived: shown, but not blocking. An expired waiver does not count.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from auditor.types import CriterionOutcome, Finding, Spec, Verdict

NO_FINDING = "nothing was measured for it: {why}"
SPLITLESS_CHECKS = {"overfitting", "single_feature_leakage", "learning_curve"}
CHECK_LABELS = {
    "generalization_gap": "Generalization gap",
    "suspicious_score": "Suspiciously high score",
    "single_feature_leakage": "Best single-feature score",
    "baseline_improvement": "Improvement over the trivial baseline",
    "overfitting": "Rise of the validation loss",
    "train_test_overlap": "Share of rows shared with training",
    "missing_rate": "Highest missing-value rate",
    "duplicate_rate": "Duplicate-row rate",
    "class_balance": "Share of the rarest class",
    "group_size": "Smallest group size",
    "outliers": "Highest outlier rate",
    "expected_cost": "Expected cost per 1,000 decisions",
}
SPLIT_NAMES = {
    "train": "training",
    "validation": "validation",
    "test": "test",
    "holdout": "holdout",
}


def _today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def _fmt(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    if float(x).is_integer() and abs(x) >= 10:
        return f"{x:,.0f}"
    return f"{x:.2f}" if abs(x) < 10 else f"{x:,.1f}"


def _labels(criterion: dict[str, Any]) -> str:
    from auditor.checks.fairness import FAIRNESS_METRICS
    from auditor.metrics import METRICS

    metric, check = criterion.get("metric"), criterion.get("check")
    if check:
        what = CHECK_LABELS.get(check, check.replace("_", " ").capitalize())
        if metric and metric in METRICS:
            what += f" in {METRICS[metric].label}"
        return what
    if metric in FAIRNESS_METRICS:
        return FAIRNESS_METRICS[metric].label
    if metric in METRICS:
        return METRICS[metric].label
    return str(metric)


def describe(criterion: dict[str, Any]) -> str:
    """Plain words: 'F1 score on the test split is at least 0.80'."""
    split = criterion.get("split", "test")
    where = f"on the {SPLIT_NAMES.get(split, split)} split"
    if criterion.get("check") == "generalization_gap":
        where = f"between the training and {SPLIT_NAMES.get(split, split)} splits"
    if criterion.get("check") in SPLITLESS_CHECKS:
        where = ""
    sens = criterion.get("sensitive")
    across = f" across {sens.replace('&', ' and ')}" if sens else ""
    bounds = []
    if criterion.get("at_least") is not None:
        bounds.append(f"at least {_fmt(criterion['at_least'])}")
    if criterion.get("at_most") is not None:
        bounds.append(f"at most {_fmt(criterion['at_most'])}")
    text = f"{_labels(criterion)}{across} {where}".replace("  ", " ").strip()
    text += f" is {' and '.join(bounds)}"
    if criterion.get("require") == "confidence":
        text += " (the whole confidence interval)"
    return text


# ------------------------------------------------------------------ matching
def _same_features(found: str | None, wanted: str) -> bool:
    """'sex&age_band' names the same intersection as 'age_band & sex'."""
    if found is None:
        return False
    return sorted(p.strip() for p in found.split("&")) == sorted(
        p.strip() for p in wanted.split("&")
    )


def _candidates(criterion: dict[str, Any], findings: list[Finding]) -> list[Finding]:
    from auditor.checks.fairness import FAIRNESS_METRICS

    metric, check = criterion.get("metric"), criterion.get("check")
    split, sens = criterion.get("split", "test"), criterion.get("sensitive")
    if check:
        pool = [f for f in findings if f.check == check]
        if metric and any(f.metric for f in pool):
            pool = [f for f in pool if f.metric == metric]
        if check not in SPLITLESS_CHECKS:
            # a check that could not run at all says why in one split-less finding
            pool = [f for f in pool if f.split == split] or [
                f for f in pool if f.split is None and f.status in ("skipped", "error")
            ]
        if sens:
            pool = [f for f in pool if _same_features(f.sensitive, sens)]
        return pool
    if metric in FAIRNESS_METRICS:
        pool = [
            f for f in findings if f.check == "fairness" and f.metric == metric and f.split == split
        ]
        return [f for f in pool if _same_features(f.sensitive, sens)] if sens else pool
    return [
        f for f in findings if f.check == "performance" and f.metric == metric and f.split == split
    ]


def _why_missing(criterion: dict[str, Any], findings: list[Finding], task: str) -> str:
    from auditor.checks.fairness import FAIRNESS_METRICS
    from auditor.metrics import METRICS

    metric, split = criterion.get("metric"), criterion.get("split", "test")
    check = criterion.get("check") or ("fairness" if metric in FAIRNESS_METRICS else "performance")
    broken = [f for f in findings if f.check == check and f.status == "error"]
    if broken:
        return broken[0].summary.rstrip(".")
    if metric in METRICS and task not in METRICS[metric].tasks:
        return f"{METRICS[metric].label} does not apply to a {task} model"
    if metric in FAIRNESS_METRICS and task not in FAIRNESS_METRICS[metric].tasks:
        return f"{FAIRNESS_METRICS[metric].label} does not apply to a {task} model"
    uncovered = [f for f in findings if f.check == "prediction_coverage" and f.split == split]
    if uncovered:
        return uncovered[0].details.get("reason") or uncovered[0].summary.rstrip(".")
    if not any(f.split == split for f in findings):
        if split == "holdout":
            return "there is no holdout split (data.holdout is not set)"
        return f"there is no {split} split"
    if criterion.get("sensitive"):
        return f"no sensitive feature or intersection is called {criterion['sensitive']!r}"
    if metric in METRICS and not criterion.get("check"):
        return (
            f"{METRICS[metric].label} was not computed on the {split} split "
            "(does the predictor give scores?)"
        )
    return "no check produced this measurement"


def _pick(criterion: dict[str, Any], pool: list[Finding]) -> Finding:
    """The finding a criterion judges; several (e.g. every sensitive feature): the worst one."""
    usable = [f for f in pool if f.value is not None]
    if len(pool) == 1 or not usable:
        return pool[0]
    if criterion.get("at_most") is not None:
        return max(usable, key=lambda f: f.value)
    return min(usable, key=lambda f: f.value)


# ------------------------------------------------------------------ judging
def _margin(value: float, criterion: dict[str, Any]) -> float:
    margins = []
    if criterion.get("at_least") is not None:
        margins.append(value - float(criterion["at_least"]))
    if criterion.get("at_most") is not None:
        margins.append(float(criterion["at_most"]) - value)
    return min(margins)


def _bound(criterion: dict[str, Any]) -> float | None:
    """The criterion's bound: ``at_least`` when set, else ``at_most``."""
    for key in ("at_least", "at_most"):
        if criterion.get(key) is not None:
            return float(criterion[key])
    return None


def judge(criterion: dict[str, Any], finding: Finding) -> tuple[str, str, float | None]:
    """(status, reason, margin) of one criterion against its finding."""
    if finding.status in ("error", "skipped"):
        return "error", f"the measurement could not be made: {finding.summary}", None
    value = finding.value
    if value is None or not math.isfinite(value):
        if finding.status == "inconclusive":
            return "inconclusive", finding.summary, None
        return "error", "the measured value is undefined", None
    margin = _margin(value, criterion)
    if finding.status == "inconclusive":
        adequate = finding.details.get("adequate_value") if finding.details else None
        if adequate is not None and _margin(float(adequate), criterion) < 0:
            return (
                "fail",
                f"already fails on the groups large enough to judge "
                f"({_fmt(adequate)}); smaller groups cannot make it pass",
                margin,
            )
        return "inconclusive", finding.summary, margin
    if criterion.get("require") == "confidence":
        if not finding.ci:
            return (
                "inconclusive",
                "the whole confidence interval must meet the bound, but no "
                "interval was computed (evaluation.bootstrap is 0)",
                margin,
            )
        ends = [_margin(end, criterion) for end in finding.ci]
        if min(ends) >= 0:
            return "pass", "", margin
        if max(ends) < 0:
            return (
                "fail",
                f"the whole interval {_fmt(finding.ci[0])} to {_fmt(finding.ci[1])} misses the "
                "bound",
                margin,
            )
        return (
            "inconclusive",
            f"the confidence interval {_fmt(finding.ci[0])} to "
            f"{_fmt(finding.ci[1])} straddles the bound {_fmt(_bound(criterion))}: more data "
            "is needed to be sure",
            margin,
        )
    if margin >= 0:
        return "pass", "", margin
    return "fail", f"measured {_fmt(value)}, bound {_fmt(_bound(criterion))}", margin


def _waiver_valid(waiver: dict[str, Any] | None, today: dt.date) -> bool:
    if not waiver:
        return False
    try:
        return dt.date.fromisoformat(str(waiver["expires"])) >= today
    except (KeyError, ValueError):
        return False


def evaluate_criteria(
    spec: Spec, findings: list[Finding], *, today: dt.date | None = None
) -> list[CriterionOutcome]:
    today = today or _today()
    task = spec["objective"]["task"]
    outcomes = []
    for i, c in enumerate(spec.values.get("acceptance") or []):
        pool = _candidates(c, findings)
        severity = c.get("severity", "blocking")
        waiver = c.get("waiver")
        if not pool:
            outcomes.append(
                CriterionOutcome(
                    index=i,
                    criterion=dict(c),
                    description=describe(c),
                    status="error",
                    severity=severity,
                    bound=_bound(c),
                    waiver=waiver,
                    reason=NO_FINDING.format(why=_why_missing(c, findings, task)),
                )
            )
            continue
        f = _pick(c, pool)
        status, reason, margin = judge(c, f)
        waived = status == "fail" and _waiver_valid(waiver, today)
        if status == "fail" and waiver and not waived:
            reason += f" (the waiver expired on {waiver.get('expires')})"
        elif waived:
            reason += (
                f" - waived by {waiver.get('approver')} until {waiver.get('expires')}: "
                f"{waiver.get('reason')}"
            )
        outcomes.append(
            CriterionOutcome(
                index=i,
                criterion=dict(c),
                description=describe(c),
                status=status,
                severity=severity,
                value=f.value,
                ci=tuple(f.ci) if f.ci else None,
                bound=_bound(c),
                margin=margin,
                reason=reason,
                finding_id=f.id,
                waiver=waiver,
                waived=waived,
            )
        )
    return outcomes


# ------------------------------------------------------------------ the verdict
def _step_for(o: CriterionOutcome, by_id: dict[str, Finding]) -> str:
    f = by_id.get(o.finding_id or "")
    if o.status == "error":
        return f"Make '{o.description}' measurable: {o.reason}."
    if f is not None and f.recommendation:
        return f.recommendation
    if o.status == "inconclusive":
        return (
            f"Collect more evaluation data so that '{o.description}' can be decided ({o.reason})."
        )
    return (
        f"Improve the model until '{o.description}' holds (measured {_fmt(o.value)}): better "
        "features, more training data or tuning; or revisit the bound with the stakeholders."
    )


def _fairness_step(judged: set[str], diagnostics: list[Finding]) -> str | None:
    """One step for every fairness diagnostic that warns, naming each attribute once.

    ``judged``: the attributes whose fairness criterion is not met (they have their own step,
    the finding's recommendation); the others are listed with the two groups furthest apart.
    """
    seen: dict[str, str] = {}
    for f in diagnostics:
        if f.category != "fairness" or f.status != "warn" or not f.sensitive:
            continue
        if f.sensitive in seen or any(_same_features(f.sensitive, s) for s in judged):
            continue
        lo, hi = (f.details or {}).get("lowest_group"), (f.details or {}).get("highest_group")
        seen[f.sensitive] = f"{f.sensitive} ({lo} vs {hi})" if lo and hi else f.sensitive
    if not seen:
        return None
    names = list(seen.values())
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    lead = (
        "Fairness diagnostics also warn across"
        if judged
        else "Investigate the differences in treatment across"
    )
    return (
        f"{lead} {listed}: check the training labels for historical bias against a group, "
        "look for features that act as proxies for these attributes, and agree a policy "
        "before adjusting decisions."
    )


def decide(
    spec: Spec, findings: list[Finding], *, today: dt.date | None = None
) -> tuple[list[CriterionOutcome], Verdict]:
    """Judge every acceptance criterion, then the verdict.

    Findings referred to by a blocking criterion are marked ``advisory = False``.
    """
    outcomes = evaluate_criteria(spec, findings, today=today)
    by_id = {f.id: f for f in findings}
    covered = {o.finding_id for o in outcomes if o.finding_id}
    for o in outcomes:
        if o.severity == "blocking" and o.finding_id in by_id:
            by_id[o.finding_id].advisory = False
    not_met = [o for o in outcomes if o.status != "pass" and not o.waived]
    blocking = [o for o in not_met if o.severity == "blocking"]
    advisory = [o for o in not_met if o.severity == "advisory"]
    diagnostics = [
        f for f in findings if f.id not in covered and f.status in ("warn", "fail", "error")
    ]
    words = {"fail": "fails", "inconclusive": "cannot be decided", "error": "could not be measured"}
    blockers = [
        f"{o.description}: {words[o.status]}"
        + (f" (measured {_fmt(o.value)})" if o.value is not None else "")
        + (f" - {o.reason}" if o.reason and o.status != "fail" else "")
        for o in blocking
    ]
    steps: list[str] = []
    for o in blocking + advisory:
        step = _step_for(o, by_id)
        if step not in steps:
            steps.append(step)
    advised = set()
    fairness_step_at = len(steps)
    for f in diagnostics:  # one step per kind of diagnostic: the report lists the others
        if f.category == "fairness" and f.status == "warn":
            fairness_step_at = min(fairness_step_at, len(steps))
            continue  # merged into one step below
        key = (f.check, f.metric)
        if f.recommendation and f.recommendation not in steps and key not in advised:
            steps.append(f.recommendation)
            advised.add(key)
    judged = {
        by_id[o.finding_id].sensitive
        for o in blocking + advisory
        if o.finding_id in by_id and by_id[o.finding_id].category == "fairness"
    }
    step = _fairness_step({s for s in judged if s}, diagnostics)
    if step:
        steps.insert(fairness_step_at, step)
    waived = [o for o in outcomes if o.waived]
    if blocking:
        first = blocking[0]
        status = "NOT READY"
        reason = (
            f"{len(blocking)} blocking criterion{'s are' if len(blocking) > 1 else ' is'} not met; "
            f"first: {first.description} {words[first.status]}."
        )
    elif advisory or diagnostics:
        status = "CONDITIONAL"
        parts = []
        if advisory:
            parts.append(
                f"{len(advisory)} advisory criterion{'s' if len(advisory) > 1 else ''} not met"
            )
        if diagnostics:
            parts.append(
                f"{len(diagnostics)} diagnostic{'s' if len(diagnostics) > 1 else ''} "
                "raised a warning"
            )
        reason = "Every blocking criterion is met, but " + " and ".join(parts) + "."
    else:
        status = "READY"
        reason = (
            "Every acceptance criterion is met and no diagnostic raised a warning."
            if outcomes
            else "No diagnostic raised a warning (the spec declares no acceptance criteria)."
        )
    if waived:
        reason = reason[:-1] + f" ({len(waived)} failure{'s' if len(waived) > 1 else ''} waived)."
    if status == "READY" and not steps:
        steps = ["Have the approvers review and sign this report."]
    return outcomes, Verdict(status=status, reason=reason, blockers=blockers, next_steps=steps[:10])
