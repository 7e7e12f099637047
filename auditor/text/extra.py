"""The optional ``text`` extra (sacrebleu, rouge-score): imported lazily, one clear error."""

from __future__ import annotations

import importlib
from types import ModuleType

from auditor.errors import AuditorError

MSG_NEEDS_TEXT = (
    "{what} needs {package}, which is not installed: pip install 'auditor[text]' "
    "(make venv installs it)"
)


class MissingExtraError(AuditorError):
    """An optional library a declared text metric needs is absent (exit code 2)."""


def require(module: str, package: str, *, what: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(MSG_NEEDS_TEXT.format(what=what, package=package)) from None
