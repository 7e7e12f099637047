"""The checks stage: ``run_checks(spec, dataset, evaluation) -> list[Finding]``.

Every registered check runs (diagnostics run even when no criterion asks for them; their
findings count as advisory until the verdict marks those a blocking criterion covers). A
check that raises becomes one Finding with status 'error' and the message - never a crash
of the run.
"""

from __future__ import annotations

from typing import Any

from auditor.checks import data, fairness, fit, performance  # noqa: F401 - registers the checks
from auditor.checks.registry import (
    CHECK_FAILED,
    CHECKS,
    UNKNOWN_CHECK,
    Check,
    CheckContext,
    UnknownCheckError,
    criterion_checks,
    get_check,
    register,
)
from auditor.results import jsonable
from auditor.types import Dataset, Evaluation, Finding, Spec

__all__ = [
    "CHECKS",
    "CHECK_FAILED",
    "UNKNOWN_CHECK",
    "Check",
    "CheckContext",
    "UnknownCheckError",
    "criterion_checks",
    "finding_to_dict",
    "get_check",
    "metrics_table",
    "register",
    "run_checks",
]


def run_checks(spec: Spec, dataset: Dataset, evaluation: Evaluation) -> list[Finding]:
    """Run every registered check; a failing check yields an 'error' finding."""
    ctx = CheckContext(spec=spec, dataset=dataset, evaluation=evaluation)
    findings: list[Finding] = []
    for check in CHECKS.values():
        try:
            findings.extend(check.fn(ctx))
        except Exception as exc:  # noqa: BLE001 - a broken check must not end the audit
            findings.append(
                Finding(
                    id=f"{check.category}.{check.name}.error",
                    check=check.name,
                    category=check.category,
                    status="error",
                    title=f"{check.name} could not run",
                    summary=CHECK_FAILED.format(
                        name=check.name, error=f"{type(exc).__name__}: {exc}"
                    ),
                    recommendation="This is a defect in auditor or an unexpected data shape; "
                    "report it with the spec and the message.",
                )
            )
    return findings


FINDING_FIELDS = (
    "id",
    "check",
    "category",
    "status",
    "title",
    "summary",
    "value",
    "ci",
    "threshold",
    "direction",
    "recommendation",
    "metric",
    "split",
    "sensitive",
    "n",
    "details",
    "chart",
    "advisory",
)


def finding_to_dict(f: Finding) -> dict[str, Any]:
    """A Finding as a JSON-safe dict (floats, None for NaN, lists for tuples and arrays)."""
    out = {name: jsonable(getattr(f, name)) for name in FINDING_FIELDS}
    if out["ci"] is not None and (len(out["ci"]) != 2 or None in out["ci"]):
        out["ci"] = None
    return out


def metrics_table(findings: list[Finding]) -> dict[str, dict[str, dict[str, Any]]]:
    """{split: {metric: {value, low, high, n}}} from the performance findings."""
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for f in findings:
        if f.check != "performance" or f.metric is None or f.split is None:
            continue
        low, high = f.ci if f.ci else (None, None)
        table.setdefault(f.split, {})[f.metric] = jsonable(
            {"value": f.value, "low": low, "high": high, "n": f.n}
        )
    return table
