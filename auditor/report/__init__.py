"""The readiness report: results.json -> report.html and report.pdf.

``render_report(results, out_dir)`` is what ``auditor run`` and ``auditor report`` call;
``verify.verify_pdf(pdf, data=[...], model=...)`` is what ``auditor verify`` calls.
Importing this package is cheap: jinja2, weasyprint and matplotlib load on first use.
"""

from __future__ import annotations

import sys
import types

from auditor.report.render import render_report

__all__ = ["render_report"]


class _CallablePackage(types.ModuleType):
    """``auditor.report(results, out=None)`` is the Python API's :func:`auditor.api.report`
    (rendering a report again), and ``auditor.report`` this package: the one name is both."""

    def __call__(self, results, out=None):
        from auditor.api import report

        return report(results, out)


sys.modules[__name__].__class__ = _CallablePackage
