"""The one exception tree. The CLI turns any AuditorError into one line and an exit code.

Every user-facing error carries where it happened: the file, the line and column (when
known) and the JSON path of the spec field (when it concerns the spec). ``str(error)``
is the one line the user sees, for example::

    specs/loan.yaml:14:7: acceptance[2].at_most: must be a number, got 'high'
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ExitCode(enum.IntEnum):
    """Documented, stable exit codes of the ``auditor`` command."""

    READY = 0
    NOT_READY = 1
    INVALID_INPUT = 2  # spec, data or model file invalid, or bad usage
    CONDITIONAL = 3
    SIGNATURE_INVALID = 4  # verify: a signature is broken or the PDF changed after it
    SIGNATURE_UNTRUSTED = 5  # verify: signatures intact, a signer's certificate not trusted
    TRACKING_FAILED = 6  # run --mlflow: the report is written, MLflow could not take the run
    INTERNAL = 70  # a bug in auditor itself (EX_SOFTWARE); never a user's fault


MAX_REASON = 200


def one_line(error: BaseException | str) -> str:
    """A library's error (or text) as one short line for a user-facing message."""
    text = " ".join(str(error).split())
    if not text and isinstance(error, BaseException):
        text = type(error).__name__
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def format_path(path: tuple | list) -> str:
    """Render a JSON path such as ('acceptance', 2, 'at_most') as ``acceptance[2].at_most``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass
class Location:
    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    path: tuple = ()

    def __str__(self) -> str:
        parts = []
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            parts.append(where)
        if self.path:
            parts.append(format_path(self.path))
        return ": ".join(parts)


class AuditorError(Exception):
    """Base of every error auditor raises on purpose."""

    exit_code: ExitCode = ExitCode.INVALID_INPUT

    def __init__(self, message: str, location: Location | None = None):
        super().__init__(message)
        self.message = message
        self.location = location or Location()

    def __str__(self) -> str:
        where = str(self.location)
        return f"{where}: {self.message}" if where else self.message


class SpecError(AuditorError):
    """The spec file is malformed, violates the schema or a cross-field rule."""


class SpecErrors(SpecError):
    """Several spec errors found at once (schema validation collects them all)."""

    def __init__(self, errors: list[SpecError]):
        self.errors = errors
        super().__init__(errors[0].message, errors[0].location)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class DataError(AuditorError):
    """A data file is missing, unreadable, empty, or lacks what the spec needs."""


class ModelFileError(AuditorError):
    """A vendor model or predictions file is missing, unreadable or refused."""


class DeviceError(AuditorError):
    """The requested accelerator is not present."""


class UsageError(AuditorError):
    """The command line is wrong."""
