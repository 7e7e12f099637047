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


#: Checks that read the domain classifiers, which may still be training on their thread
#: when the checks begin (``evaluate(..., settle=False)``): they run last, and their
#: findings take their place in the catalogue's order.
READS_DOMAIN = frozenset({"domain_classifier"})


def run_checks(spec: Spec, dataset: Dataset, evaluation: Evaluation) -> list[Finding]:
    """Run every registered check of the spec's task; a failing check yields an 'error' finding.

    The findings come in the catalogue's order. When this returns, every drift result of
    ``evaluation`` has its domain classifier (:func:`auditor.evaluate.settle_drift`).
    """
    from auditor.evaluate import settle_drift
    from auditor.metrics.bootstrap import kept_weights

    shared = CheckContext(spec=spec, dataset=dataset, evaluation=evaluation)
    checks = [check for check in CHECKS.values() if spec.task in check.tasks]
    found: dict[str, list[Finding]] = {}
    with kept_weights():  # paired resamples: each split's weights drawn once for all checks
        for check in sorted(checks, key=lambda c: c.name in READS_DOMAIN):  # stable
            if check.name in READS_DOMAIN:
                settle_drift(evaluation)
            found[check.name] = _run_one(shared.for_check(check))
    settle_drift(evaluation)
    return [finding for check in checks for finding in found[check.name]]


def _run_one(ctx: CheckContext) -> list[Finding]:
    """The check's findings, or one 'error' finding saying why it could not run."""
    check = ctx.check
    try:
        return list(check.fn(ctx))
    except Exception as exc:  # noqa: BLE001 - a broken check must not end the audit
        return [
            ctx.finding(
                check.name,
                "error",
                status="error",
                title=f"{check.name} could not run",
                summary=CHECK_FAILED.format(name=check.name, error=f"{type(exc).__name__}: {exc}"),
                recommendation=MSG_REPORT_DEFECT,
            )
        ]
