"""auditor: one YAML spec in; a trained or vendor model, its audit and a readiness report out.

The Python API (:mod:`auditor.api`) runs the command line's stages from Python::

    import auditor
    spec = auditor.validate("specs/loan-approval.yaml")
    result = auditor.run(spec_mapping, data={"train": frame}, model=fitted_estimator)
    result.verdict, result.criteria_frame(), result.exit_code
    auditor.report(result, out="report/")

Importing ``auditor`` loads no heavy library; each function imports what it needs.
"""

import sys as _sys
import types as _types

from auditor.api import AuditResult, ReportEntry, run, validate
from auditor.errors import (
    AuditorError,
    DataError,
    DeviceError,
    ExitCode,
    ModelFileError,
    SpecError,
    SpecErrors,
    UsageError,
)

__version__ = "0.1.0"

report = ReportEntry()


class _Package(_types.ModuleType):
    """``auditor``: its ``report`` stays the API's entry when the ``auditor.report``
    package is imported (the import's binding goes to the package in sys.modules alone)."""

    @property
    def report(self) -> ReportEntry:
        return self.__dict__["report"]

    @report.setter
    def report(self, value) -> None:
        if isinstance(value, ReportEntry):
            self.__dict__["report"] = value


_sys.modules[__name__].__class__ = _Package

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
