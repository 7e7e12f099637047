"""The readiness report: results.json -> report.html and report.pdf.

``render_report(results, out_dir)`` is what ``auditor run`` and ``auditor report`` call;
``verify.verify_pdf(pdf, data=[...], model=...)`` is what ``auditor verify`` calls.
Importing this package is cheap: jinja2, weasyprint and matplotlib load on first use.
"""

from __future__ import annotations

from auditor.report.render import render_report

__all__ = ["render_report"]
