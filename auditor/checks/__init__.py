"""The checks: every registered check, its registry and the stage that runs them all.

Importing this package registers every check (the tabular modules data, drift, fairness,
fit, performance, ... and the generated-text modules ``text_*``); :func:`run_checks` (in
:mod:`auditor.checks.run`) runs those whose tasks include the spec's.
"""

from auditor.checks import (  # noqa: F401 - registers them
    data,
    drift,
    drivers,
    fairness,
    fit,
    group_calibration,  # noqa: F401 - registers it (after fairness)
    lm_base,
    lm_fit,
    performance,
    segments,
    stability,
    text_counterfactual,
    text_judge,
    text_memorization,
    text_metrics,
    tuning,
)
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
from auditor.checks.run import run_checks

__all__ = [
    "CHECKS",
    "CHECK_FAILED",
    "UNKNOWN_CHECK",
    "Check",
    "CheckContext",
    "UnknownCheckError",
    "criterion_checks",
    "get_check",
    "register",
    "run_checks",
]
