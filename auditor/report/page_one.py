"""The one chart of page one: the evidence behind the main blocker, or the main risk.

Page one decides: verdict, purpose, the criteria, one chart and what to do next. The chart
is the one a reader would ask for first:

- NOT READY: the first blocking criterion that is not met (unwaived), in the spec's order;
- CONDITIONAL: the first advisory criterion that is not met;
- READY: the criterion closest to its bound (the smallest margin as a share of the
  bound), the main risk.

A criterion that is not met but has no chart gives way to the next one not met (an
advisory one under a NOT READY verdict is headed as such, not as what makes it
conditional); when none of them has a chart, page one has none (a passing criterion's
chart would not explain a verdict that is not READY).

The chart is that criterion's finding's own (the same drawing as in its section, drawn
once: charts are cached by their data). A criterion whose finding has no chart gives way to
the next.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: How page one names the chart, by what it explains.
HEADINGS = {
    "blocker": "What blocks release",
    "advisory": "What makes it conditional",
    "risk": "The closest call",
    # not ready, and no unmet blocking criterion has a chart: an advisory one that has
    "advisory_too": "Also not met (advisory)",
}


def _ranked(criteria: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The criteria in the order page one looks for its chart, each with why."""
    open_ = [c for c in criteria if c.get("status") != "pass" and not c.get("waived")]
    blocking = [("blocker", c) for c in open_ if c.get("severity") == "blocking"]
    advisory = [("advisory", c) for c in open_ if c.get("severity") != "blocking"]
    if open_:  # not ready or conditional: only what is not met explains it
        return blocking + advisory
    passing = [c for c in criteria if c.get("status") == "pass"]
    passing.sort(key=_relative_margin)
    return [("risk", c) for c in passing]


def _relative_margin(c: dict[str, Any]) -> float:
    """A passing criterion's margin as a share of its bound, so that criteria in other
    units compare (a perplexity 155 below 400 is further from failing than a share 0.02
    below 0.04); a bound of 0 (nothing allowed) ranks after every other."""
    margin, bound = c.get("margin"), c.get("bound")
    if not isinstance(margin, (int, float)):
        return float("inf")
    if not isinstance(bound, (int, float)) or bound == 0:
        return 1e12 + float(margin)
    return float(margin) / abs(float(bound))


def main_chart(
    criteria: list[dict[str, Any]],
    findings: list[dict[str, Any]],
    draw_chart: Callable[..., Any],
) -> dict[str, Any] | None:
    """Page one's chart: {heading, criterion, number, why, svg, kind, title}, or None."""
    by_id = {str(f.get("id")): f for f in findings}
    ranked = _ranked(criteria)
    blocked = any(why == "blocker" for why, _ in ranked)
    for why, c in ranked:
        f = by_id.get(str(c.get("finding_id") or ""))
        chart = (f or {}).get("chart")
        if not isinstance(chart, dict):
            continue
        drawn = draw_chart(chart, compact=True)  # half the page wide, beside the steps
        if drawn is None or drawn.svg is None:
            continue
        return {
            "heading": HEADINGS["advisory_too" if why == "advisory" and blocked else why],
            "criterion": str(c.get("description") or ""),
            "number": int(c["index"]) + 1 if isinstance(c.get("index"), int) else None,
            "why": why,
            "svg": drawn.svg,
            "kind": drawn.kind,
            "title": str(chart.get("title") or ""),
        }
    return None
