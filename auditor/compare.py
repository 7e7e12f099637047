"""The vendor's model against the in-house model, criterion by criterion.

Both models are judged on the same rows with the same bootstrap resamples (the weights
depend only on the seed, the split and its rows), so each criterion's difference (vendor
minus in-house) has a *paired* interval: the percentile interval of the differences of the
two findings' replicates. A difference whose interval excludes 0 says which model is
better on that criterion, in the direction the criterion's bound sets (``at_least``:
higher is better; ``at_most``: lower is better).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from auditor.judge import fmt_number
from auditor.types import CriterionOutcome, Finding, Spec, Verdict

VENDOR, CHALLENGER, NEITHER = "vendor", "in-house", "neither"


@dataclass(frozen=True)
class Audit:
    """What one model's audit produced."""

    findings: list[Finding]
    outcomes: list[CriterionOutcome]
    verdict: Verdict


def _side(outcome: CriterionOutcome) -> dict[str, Any]:
    return {
        "status": outcome.status,
        "value": outcome.value,
        "ci": list(outcome.ci) if outcome.ci else None,
    }


def _paired_interval(a: Finding | None, b: Finding | None, confidence: float):
    """The percentile interval of the paired replicate differences, or None."""
    from auditor.metrics import percentile_interval

    if a is None or b is None or a.replicates is None or b.replicates is None:
        return None
    ra, rb = np.asarray(a.replicates, dtype=np.float64), np.asarray(b.replicates, dtype=np.float64)
    if ra.shape != rb.shape:
        return None
    return percentile_interval(ra - rb, confidence)


def _better(criterion, difference: float | None, ci) -> str | None:
    """Which model the criterion prefers, when the paired interval excludes 0."""
    if difference is None or ci is None or criterion.direction is None:
        return None
    if len(criterion.bounds) > 1 or ci[0] <= 0.0 <= ci[1]:
        return NEITHER
    higher = criterion.direction == "at_least"
    return VENDOR if (difference > 0) == higher else CHALLENGER


def audit_in_house(
    spec: Spec, dataset, evaluation, vendor: Audit, *, progress=None
) -> dict[str, Any] | None:
    """Train, evaluate, check and judge the in-house model ``model.compare`` asks for, and
    compare it with the vendor's (None when the spec asks for no comparison)."""
    from auditor.challenger import challenger_label, obtain_challenger
    from auditor.checks import run_checks
    from auditor.evaluate import evaluate
    from auditor.verdict import decide

    challenger = obtain_challenger(spec, dataset, progress=progress)
    if challenger is None:
        return None
    if progress is not None:
        progress.status("in-house model: evaluate and check")
    theirs = evaluate(
        spec, dataset, challenger, progress=progress, learning_curve=False, drift=evaluation.drift
    )
    findings = run_checks(spec, dataset, theirs)
    outcomes, verdict = decide(spec, findings)
    out = compare(
        spec, vendor, Audit(findings, outcomes, verdict), label=challenger_label(spec, challenger)
    )
    out["kind"] = challenger.kind
    out["fingerprint"] = (challenger.info or {}).get("fingerprint")
    out["metrics"] = _metrics(findings)
    return out


def _metrics(findings: list[Finding]) -> dict[str, Any]:
    from auditor.results import metrics_table

    return metrics_table(findings)


def compare(spec: Spec, vendor: Audit, challenger: Audit, *, label: str) -> dict[str, Any]:
    """The comparison results.json records under ``comparison``.

    Parameters
    ----------
    spec : Spec
        The resolved spec (its criteria and confidence level).
    vendor, challenger : Audit
        Each model's findings, criterion outcomes and verdict.
    label : str
        How sentences name the in-house model ("the in-house model (mlp)").
    """
    from auditor.results import verdict_to_dict

    confidence = float(spec.evaluation.confidence)
    by_id_v = {f.id: f for f in vendor.findings}
    by_id_c = {f.id: f for f in challenger.findings}
    rows = []
    for c, ov, oc in zip(spec.acceptance, vendor.outcomes, challenger.outcomes, strict=True):
        fv, fc = by_id_v.get(ov.finding_id or ""), by_id_c.get(oc.finding_id or "")
        difference = None
        if ov.value is not None and oc.value is not None:
            difference = float(ov.value) - float(oc.value)
        same = fv is not None and fc is not None and fv.id == fc.id  # the same quantity
        ci = _paired_interval(fv, fc, confidence) if difference is not None and same else None
        rows.append(
            {
                "index": ov.index,
                "description": ov.description,
                "vendor": _side(ov),
                "challenger": _side(oc),
                "difference": difference,
                "ci": list(ci) if ci else None,
                "better": _better(c, difference, ci),
            }
        )
    return {
        "label": label,
        "verdict": verdict_to_dict(challenger.verdict),
        "criteria": rows,
        "summary": summary(vendor.verdict, challenger.verdict, rows, label),
    }


def summary(vendor: Verdict, challenger: Verdict, rows: list[dict[str, Any]], label: str) -> str:
    """One paragraph for a product manager: which is ready, and where each is better."""
    counts = {k: sum(r["better"] == k for r in rows) for k in (VENDOR, CHALLENGER, NEITHER)}
    ready = {
        (True, True): "Both models are ready",
        (True, False): f"Only the vendor's model is ready; {label} is {challenger.status}",
        (False, True): f"The vendor's model is {vendor.status}; {label}, trained on the same "
        "client data, is READY",
        (False, False): f"Neither is ready: the vendor's model is {vendor.status} and {label} "
        f"is {challenger.status}",
    }[(vendor.status == "READY", challenger.status == "READY")]
    parts = []
    if counts[CHALLENGER]:
        parts.append(f"{label} is clearly better on {counts[CHALLENGER]}")
    if counts[VENDOR]:
        parts.append(f"the vendor's model on {counts[VENDOR]}")
    if counts[NEITHER]:
        parts.append(f"neither is clearly better on {counts[NEITHER]}")
    judged = sum(counts.values())
    tail = f" Of {judged} criteria compared, " + ", ".join(parts) + "." if parts else ""
    return f"{ready}.{tail}"


def difference_text(row: dict[str, Any]) -> str:
    """'+0.031 (95% CI 0.010 to 0.052)' for a report table."""
    d = row.get("difference")
    if d is None:
        return "n/a"
    text = ("+" if d > 0 else "") + fmt_number(d)
    ci = row.get("ci")
    return text + (f" ({fmt_number(ci[0])} to {fmt_number(ci[1])})" if ci else "")
