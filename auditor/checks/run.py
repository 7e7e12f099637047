"""The checks stage: ``run_checks(spec, dataset, evaluation) -> list[Finding]``.

Every registered check whose tasks include the spec's runs (the tabular checks for binary,
multiclass and regression, the ``text_*`` checks for generated text; diagnostics run even
when no criterion asks for them, and their findings count as advisory unless a blocking
criterion is about them). A check that raises
becomes one Finding with status 'error' and the message - never a crash of the run.
"""

from __future__ import annotations

from auditor.checks.registry import CHECK_FAILED, CHECKS, CheckContext
from auditor.types import Dataset, Evaluation, Finding, Spec

MSG_REPORT_DEFECT = (
    "This is a defect in auditor or an unexpected data shape; report it with the spec and "
    "the message."
)


def run_checks(spec: Spec, dataset: Dataset, evaluation: Evaluation) -> list[Finding]:
    """Run every registered check of the spec's task; a failing check yields an 'error' finding."""
    shared = CheckContext(spec=spec, dataset=dataset, evaluation=evaluation)
    findings: list[Finding] = []
    for check in CHECKS.values():
        if spec.task not in check.tasks:
            continue
        ctx = shared.for_check(check)
        try:
            findings.extend(check.fn(ctx))
        except Exception as exc:  # noqa: BLE001 - a broken check must not end the audit
            findings.append(
                ctx.finding(
                    check.name,
                    "error",
                    status="error",
                    title=f"{check.name} could not run",
                    summary=CHECK_FAILED.format(
                        name=check.name, error=f"{type(exc).__name__}: {exc}"
                    ),
                    recommendation=MSG_REPORT_DEFECT,
                )
            )
    return findings
