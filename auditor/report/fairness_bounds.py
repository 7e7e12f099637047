"""Where a fairness bound falls on a per-group chart, worked out from results alone.

The fairness checks chart one rate per group (``group_bars``) but judge an across-group
figure: a gap (highest minus lowest), a ratio (lowest over highest) or the worst group's
accuracy. A reader cannot see "difference at most 0.10" on bars of selection rates, so the
report translates the bound into a line on the groups' own scale, placed so that the groups
beyond the line are exactly the ones that break the bound:

- a difference: the best-treated group's rate minus the bound when a higher rate is
  favourable (selection rate, true positive rate, accuracy): groups below the line are
  more than the bound behind the best group; plus the bound when a lower rate is better
  (false positive rate, error, mean absolute error): groups above the line are more than
  the bound worse than the best group;
- a ratio: the highest rate times the bound (groups below it get less than, say, 80% of
  the highest group), or, when a lower rate is better, the lowest rate divided by the bound
  (groups above it have more than 1.25 times the lowest group's rate);
- worst-group accuracy: the bound itself; groups below it break it.

The figure is max-minus-min or min-over-max, so "some group is beyond the line" holds
exactly when the figure breaks the bound, whichever side is drawn; the side only decides
which groups are pointed at, and it points at the groups that are worse off.

The bound comes from the acceptance criterion about the finding (``criteria[i].finding_id``)
when there is one, else from the finding's own diagnostic limit (``threshold``). The checks
never need to know the criteria for this.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from auditor.metrics.fairness import FAIRNESS_METRICS, GROUP_RATES

# what each fairness metric aggregates, and which way each per-group rate is better, come
# from the fairness catalogue; a rate with no natural good side (a base rate, a mean
# prediction) is drawn like a favourable one: the groups below the highest are pointed at.
DIFFERENCE_METRICS = frozenset(
    m for m, f in FAIRNESS_METRICS.items() if f.aggregate == "difference"
)
RATIO_METRICS = frozenset(m for m, f in FAIRNESS_METRICS.items() if f.aggregate == "ratio")
FLOOR_METRICS = frozenset(m for m, f in FAIRNESS_METRICS.items() if f.aggregate == "min")
LOWER_IS_BETTER = frozenset(r for r, g in GROUP_RATES.items() if g.greater_is_better is False)
RATE_WORDS = {r: g.words for r, g in GROUP_RATES.items()}
EXPECTED_DIRECTION = {m: f.bound_direction for m, f in FAIRNESS_METRICS.items()}
_EPS = 1e-12  # a group exactly on the line does not break the bound


@dataclass(frozen=True)
class BoundLine:
    """A bound as a line on a per-group chart.

    ``at`` is the line's position on the groups' scale; groups whose value lies on the
    ``beyond`` side of it ("below" or "above") break the bound. ``rule`` says so in plain
    words ("more than 0.10 below the highest group"); ``source`` is "criterion" or
    "diagnostic"; ``bound`` and ``metric`` are the bound as written and what it bounds.
    """

    at: float
    beyond: Literal["below", "above"]
    rule: str
    source: Literal["criterion", "diagnostic"]
    bound: float
    metric: str
    criterion: int | None = None  # the criterion's number on page one (1-based)

    @property
    def label(self) -> str:
        """The legend entry: what the line means and where it is."""
        who = (
            (
                f"criterion {self.criterion}"
                if self.criterion is not None
                else "acceptance criterion"
            )
            if self.source == "criterion"
            else "diagnostic limit"
        )
        return f"{who}: {self.rule} (line at {_value(self.at)})"

    def breaks(self, value: float | None) -> bool:
        """Whether a group with this value is beyond the line."""
        if value is None or not math.isfinite(value):
            return False
        return value < self.at - _EPS if self.beyond == "below" else value > self.at + _EPS

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "label": self.label}


def _value(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def _bound_text(b: float) -> str:
    """0.1 -> '0.10' (as a policy is written), 0.125 -> '0.125', 120 -> '120'."""
    if abs(b) < 10 and abs(round(b, 2) - b) < 1e-9:
        return f"{b:.2f}"
    return f"{b:,.4g}"


def _percent(b: float) -> str:
    return f"{100 * b:.3g}%"


def line_for(
    metric: str,
    bound: float,
    rows: list[dict[str, Any]],
    rate: str,
    *,
    source: Literal["criterion", "diagnostic"] = "diagnostic",
    criterion: int | None = None,
) -> BoundLine | None:
    """The line for ``metric`` bounded by ``bound``, over the chart's ``rows`` of ``rate``.

    Returns None when the metric is not a fairness metric this module knows, or when no
    group has a value to place the line against.
    """
    try:
        b = float(bound)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(b):
        return None
    values = [
        float(r["value"])
        for r in rows
        if r.get("value") is not None and math.isfinite(float(r["value"]))
    ]
    lower_better = rate in LOWER_IS_BETTER
    words = RATE_WORDS.get(rate, rate.replace("_", " "))
    common = {"source": source, "bound": b, "metric": metric, "criterion": criterion}
    if metric in FLOOR_METRICS:
        return BoundLine(at=b, beyond="below", rule=f"{words} below {_bound_text(b)}", **common)
    if not values:
        return None
    best = min(values) if lower_better else max(values)
    if metric in DIFFERENCE_METRICS:
        return _difference_line(b, best, lower_better, common)
    if metric in RATIO_METRICS:
        return _ratio_line(b, best, lower_better, common)
    return None


def _difference_line(
    b: float, best: float, lower_better: bool, common: dict[str, Any]
) -> BoundLine:
    """A gap bound: the bound away from the best-treated group, on the worse side."""
    if lower_better:
        return BoundLine(
            at=best + b,
            beyond="above",
            rule=f"more than {_bound_text(b)} above the lowest group",
            **common,
        )
    return BoundLine(
        at=best - b,
        beyond="below",
        rule=f"more than {_bound_text(b)} below the highest group",
        **common,
    )


def _ratio_line(
    b: float, best: float, lower_better: bool, common: dict[str, Any]
) -> BoundLine | None:
    """A ratio bound: the best rate times (or divided by) the bound; None unless positive."""
    if b <= 0:
        return None
    if lower_better:  # lowest / highest >= b  <=>  every group <= lowest / b
        return BoundLine(
            at=best / b,
            beyond="above",
            rule=f"more than {1 / b:.3g} times the lowest group (ratio below {_bound_text(b)})",
            **common,
        )
    return BoundLine(
        at=best * b, beyond="below", rule=f"below {_percent(b)} of the highest group", **common
    )


def fairness_bound_line(
    finding: dict[str, Any], criteria: list[dict[str, Any]]
) -> BoundLine | None:
    """The bound line for a fairness finding's group chart, or None.

    The acceptance criterion about the finding (``finding_id``) gives the bound and the
    metric it bounds; without one, the finding's own diagnostic ``threshold`` does. A
    criterion whose direction does not fit its metric (a difference "at least") is not
    drawn, rather than drawn on the wrong side.
    """
    chart = finding.get("chart")
    if not isinstance(chart, dict) or chart.get("kind") != "group_bars":
        return None
    rows = [r for r in chart.get("rows") or [] if isinstance(r, dict)]
    rate = str(chart.get("metric") or "")
    for c in criteria:
        if not isinstance(c, dict) or c.get("finding_id") != finding.get("id"):
            continue
        crit = c.get("criterion") or {}
        metric = str(crit.get("metric") or finding.get("metric") or "")
        bound = c.get("bound")
        if bound is None:
            bound = crit.get("at_least", crit.get("at_most"))
        direction = (
            "at_least"
            if "at_least" in crit
            else "at_most"
            if "at_most" in crit
            else EXPECTED_DIRECTION.get(metric)
        )
        if bound is None or direction != EXPECTED_DIRECTION.get(metric):
            continue
        index = c.get("index")
        line = line_for(
            metric,
            bound,
            rows,
            rate,
            source="criterion",
            criterion=index + 1 if isinstance(index, int) else None,
        )
        if line is not None:
            return line
    metric = str(finding.get("metric") or "")
    threshold = finding.get("threshold")
    if threshold is None:
        return None
    direction = finding.get("direction")
    if direction is not None and direction != EXPECTED_DIRECTION.get(metric):
        return None
    return line_for(metric, threshold, rows, rate, source="diagnostic")


def with_bound_line(finding: dict[str, Any], criteria: list[dict[str, Any]]) -> dict[str, Any]:
    """The finding with its group chart carrying ``bound_line`` (a copy; the finding itself,
    as saved in results.json, is left unchanged). Other findings are returned as they are."""
    line = fairness_bound_line(finding, criteria)
    if line is None:
        return finding
    out = dict(finding)
    out["chart"] = {**finding["chart"], "bound_line": line.as_dict()}
    return out
