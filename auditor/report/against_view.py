"""Page two's comparison with the previous report (results.json ``against``), formatted.

The report names the previous report by the SHA-256 of its results.json, says whether the
intervals are paired (the same rows, resampled alike) or not, and gives one row per
criterion and headline metric: the previous value, this run's, the change with its
interval, and which way it went (better or worse only when the interval excludes 0).
"""

from __future__ import annotations

from typing import Any

DIRECTION_CSS = {"better": "pass", "worse": "fail"}


#: Splits whose headline metrics the PDF leaves to report.html (the criteria's stay).
DEVELOPMENT_SPLITS = ("train", "validation")


def against_view(results: dict[str, Any], medium: str = "html") -> dict[str, Any] | None:
    """The rows and words of the comparison with the previous report, or None (the PDF
    leaves the headline metrics of the development splits to report.html)."""
    from auditor.report.context import DASH, fmt, fmt_ci, fmt_signed

    against = results.get("against")
    if not isinstance(against, dict):
        return None
    rows, left = [], 0
    for r in against.get("rows") or []:
        if not isinstance(r, dict):
            continue
        if medium == "pdf" and r.get("kind") == "metric" and r.get("split") in DEVELOPMENT_SPLITS:
            left += 1
            continue
        direction = str(r.get("direction") or "not compared")
        rows.append(
            {
                "label": str(r.get("label") or ""),
                "criterion": r.get("kind") == "criterion",
                "previous": fmt(r.get("previous")),
                "current": fmt(r.get("current")),
                "change": fmt_signed(r.get("change")) if r.get("change") is not None else DASH,
                "ci": fmt_ci(r.get("ci")),
                "direction": direction if not r.get("reason") else str(r["reason"]),
                "css": DIRECTION_CSS.get(direction, ""),
            }
        )
    worse = sum(1 for r in rows if r["direction"] == "worse")
    better = sum(1 for r in rows if r["direction"] == "better")
    paired = bool(against.get("paired"))
    when = str(against.get("finished") or "")[:10]
    return {
        "sha256": str(against.get("sha256") or ""),
        "name": str(against.get("name") or ""),
        "when": when,
        "verdict": str(against.get("verdict") or ""),
        "paired": paired,
        "rows": rows,
        "left": left,
        "summary": _summary(better, worse, len(rows), paired),
    }


def _summary(better: int, worse: int, total: int, paired: bool) -> str:
    from auditor.words import count_words

    how = (
        "the same rows, resampled alike, so the intervals are paired"
        if paired
        else "other data or other resamples, so the intervals are unpaired (wider)"
    )
    if not better and not worse:
        return f"No figure changed clearly ({count_words(total, 'figure')} compared, on {how})."
    parts = []
    if better:
        parts.append(f"{better} clearly better")
    if worse:
        parts.append(f"{worse} clearly worse")
    return f"Of {count_words(total, 'figure')} compared, {' and '.join(parts)}, on {how}."
