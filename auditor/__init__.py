"""auditor: one YAML spec in; a trained or vendor model, its audit and a readiness report out.

The Python API (:mod:`auditor.api`) runs the command line's stages from Python::

    import auditor
    spec = auditor.validate("specs/loan-approval.yaml")
    result = auditor.run(spec_mapping, data={"train": frame}, model=fitted_estimator)
    result.verdict, result.criteria_frame(), result.exit_code
    auditor.report(result, out="report/")

``auditor.report`` is also the report package; calling it is :func:`auditor.api.report`.
Importing ``auditor`` loads no heavy library; each function imports what it needs.
"""

__version__ = "0.1.0"

import auditor.report as report  # noqa: E402 - callable: auditor.api.report
from auditor.api import AuditResult, run, validate  # noqa: E402
from auditor.errors import (  # noqa: E402
    AuditorError,
    DataError,
    DeviceError,
    ExitCode,
    ModelFileError,
    SpecError,
    SpecErrors,
    UsageError,
)

__all__ = [
    "AuditResult",
    "AuditorError",
    "DataError",
    "DeviceError",
    "ExitCode",
    "ModelFileError",
    "SpecError",
    "SpecErrors",
    "UsageError",
    "__version__",
    "report",
    "run",
    "validate",
]
