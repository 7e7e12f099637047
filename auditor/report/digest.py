"""Which findings a section shows in full, and which charts it draws.

A run can produce well over a hundred findings (every metric on every split, every
fairness metric over every group and intersection). The report lists them all in each
section's table, but shows in full, most important first, only:

- findings an acceptance criterion is about, then failures, inconclusive results and
  warnings (in the fairness section, whose summary table already gives every metric's
  value, interval, limit and status per split, warnings are not repeated in full);
- of the passing findings, the first of each kind (check and chart kind), preferring the
  test split, then the client holdout; performance curves (ROC, PR, calibration,
  confusion matrix) once for the test split and once for the client holdout. These
  examples are the HTML report's (``examples=True``), where they can be expanded; the PDF
  shows a passing finding as its row in the table, not as a block, even when a criterion
  is about it (page one's criteria table gives its figure, interval and bound), unless it
  is the hyperparameter search (its trials and history are the evidence of the chosen
  values); its fairness section shows in full only what a criterion is about, failures
  and inconclusive results, with one chart per sensitive feature (the first, most
  important, finding's).

A chart identical to one already drawn (several fairness metrics chart the same selection
rates) is not drawn twice: a finding the verdict depends on points to it (or gets its own
chart when its criterion draws a different bound line over the same figures), any other is
left to the section's table. A section draws at most ``MAX_CHARTS_PER_SECTION`` charts, so
the report stays readable, small and fast to render whatever the run produced. Everything
left out stays in results.json (embedded in the PDF).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_CHARTS_PER_SECTION = 12
CURVE_KINDS = frozenset({"roc", "pr", "calibration", "confusion_matrix", "residuals"})
COMPACT_KINDS = frozenset({"metric_intervals"})
# charts whose finding's table holds what they do not draw (the trials' option values):
# shown full width with the table even when the finding passes, in the PDF too (what the
# search tried is the evidence of the chosen values)
WITH_TABLE_KINDS = frozenset({"optimization_history"})
CURVE_SPLITS = frozenset({"test", "holdout"})  # curves are drawn once for each of these
PRIORITY = {"fail": 1, "error": 1, "inconclusive": 2, "warn": 3, "pass": 4, "skipped": 5}
SPLIT_ORDER = {"test": 0, "holdout": 1, "validation": 2, "train": 3}


@dataclass
class Plan:
    """How one finding is shown: ``block`` (in full, below the table) and its chart:
    "draw", "same" (identical to the chart of ``same_as``), "omitted" or None."""

    finding: dict[str, Any]
    block: bool
    chart: str | None = None
    same_as: str = ""
    in_table: bool = True
    compact: bool = False  # a passing finding shown as an example: half width
    example: bool = False  # shown in full only as a passing example (HTML: collapsed)


def chart_signature(chart: dict[str, Any], *, with_bound: bool = True) -> str:
    """The chart's data without its title: equal signatures draw the same picture.
    ``with_bound=False`` also leaves out the bound line the report adds to fairness charts
    (fairness_bounds): the same groups' figures, whatever limit is drawn over them."""
    skip = {"title"} if with_bound else {"title", "bound_line"}
    return json.dumps(
        {k: v for k, v in chart.items() if k not in skip}, sort_keys=True, default=str
    )


def priority(finding: dict[str, Any], linked: set[str]) -> int:
    if finding.get("id") in linked:
        return 0
    return PRIORITY.get(str(finding.get("status")), 4)


def in_metrics_table(finding: dict[str, Any], metrics: dict[str, Any]) -> bool:
    """A passing per-metric finding that the metrics table already shows."""
    metric, split = finding.get("metric"), finding.get("split")
    return bool(
        finding.get("category") == "performance"
        and metric
        and split
        and (
            not finding.get("chart")
            or (finding.get("chart") or {}).get("kind") == "metric_intervals"
        )
        and isinstance(metrics.get(split), dict)
        and metric in metrics[split]
    )


def plan_section(
    findings: list[dict[str, Any]],
    *,
    linked: set[str],
    metrics: dict[str, Any] | None = None,
    max_charts: int = MAX_CHARTS_PER_SECTION,
    examples: bool = True,
) -> list[Plan]:
    """The section's findings, most important first, each with how it is shown.

    ``examples=False`` (the PDF) shows no passing finding in full, except a fairness one
    a criterion is about (its feature's chart) and the search: it is its row in the
    section's table.
    """
    metrics = metrics or {}
    order = sorted(
        range(len(findings)),
        key=lambda i: (
            priority(findings[i], linked),
            SPLIT_ORDER.get(str(findings[i].get("split")), 4),
            i,
        ),
    )
    plans: list[Plan] = []
    kinds_seen: set[tuple[str, ...]] = set()
    curves_seen: set[tuple[str, ...]] = set()
    charts = _ChartBudget(max_charts)
    charted: set[str] = set()  # the PDF: sensitive features whose one chart is drawn
    for i in order:
        f = findings[i]
        rank = priority(f, linked)
        chart = f.get("chart") if isinstance(f.get("chart"), dict) else None
        plan = _plan_finding(f, rank, chart, metrics, kinds_seen, curves_seen)
        fairness = f.get("category") == "fairness"
        with_table = (chart or {}).get("kind") in WITH_TABLE_KINDS  # the search's trials
        # the PDF: a passing finding is its row in the table, even a criterion's (page
        # one's criteria table has its figure, interval and bound), and so is a fairness
        # warning; a fairness criterion keeps its block (its feature's chart)
        row_only = (
            rank >= PRIORITY["warn"]
            if fairness
            else rank >= PRIORITY["pass"] or f.get("status") == "pass"
        )
        if not examples and row_only:
            plan.block = plan.block and with_table  # the search keeps its trials
        plan.example = plan.block and rank >= PRIORITY["pass"]
        feature = str(f.get("sensitive") or "")
        if not examples and fairness and feature in charted:
            chart = None  # the PDF draws one chart per sensitive feature
        if plan.block and chart is not None:
            charts.assign(plan, chart, rank)
            if plan.chart == "draw" and fairness:
                charted.add(feature)
        plans.append(plan)
    if plans and not any(p.block for p in plans) and examples:
        # nothing stood out: still show the most important finding with its evidence
        first = plans[0]
        first.block, first.in_table = True, True
        if isinstance(first.finding.get("chart"), dict) and max_charts > 0:
            first.chart = "draw"
    return plans


def _kind(
    f: dict[str, Any], chart: dict[str, Any] | None, kinds_seen: set, curves_seen: set
) -> tuple[str, ...]:
    """The finding's kind for "first of each kind": check and chart kind (curves: and split)."""
    kind: tuple[str, ...] = (str(f.get("check")), str((chart or {}).get("kind")))
    if (chart or {}).get("kind") in CURVE_KINDS:
        # curves: once for the test split and once for the client holdout; another
        # split's curve only when neither of those has one
        if f.get("split") in CURVE_SPLITS:
            kind += (str(f.get("split")),)
            curves_seen.add(kind[:2])
        elif kind[:2] in curves_seen:
            kinds_seen.add(kind)
    return kind


def _plan_finding(
    f: dict[str, Any],
    rank: int,
    chart: dict[str, Any] | None,
    metrics: dict[str, Any],
    kinds_seen: set,
    curves_seen: set,
) -> Plan:
    """How one finding is shown, before its chart is assigned; records its kind as seen."""
    kind = _kind(f, chart, kinds_seen, curves_seen)
    fairness = f.get("category") == "fairness"
    # the fairness summary table gives every warning's numbers; only what the verdict
    # depends on, failures and inconclusive results are shown in full there
    important = rank <= (2 if fairness else 3)
    if fairness and rank >= 3 and any(seen[:2] == kind[:2] for seen in kinds_seen):
        # fairness warnings and passes: table only, once their kind of check and chart has
        # an example above (calibration by group, say, still gets its one picture)
        kind += (str(f.get("id")),)
        kinds_seen.add(kind)
    # a passing finding is shown in full only as the example of its chart; warnings
    # and worse also for their details and recommendation
    first_of_kind = kind not in kinds_seen and (
        chart is not None
        or (rank < 4 and (bool(f.get("details")) or bool(f.get("recommendation"))))
    )
    kinds_seen.add(kind)
    quiet = rank >= 4 and in_metrics_table(f, metrics)
    block = (important or first_of_kind) and not quiet
    # passing examples, and charts of a few numbers (a metric per split), are drawn
    # half width, two side by side
    chart_kind = (chart or {}).get("kind")
    compact = block and (rank >= 4 or chart_kind in COMPACT_KINDS)
    return Plan(
        finding=f,
        block=block,
        in_table=not quiet,
        compact=compact and chart_kind not in WITH_TABLE_KINDS,
    )


class _ChartBudget:
    """The charts a section has drawn: each picture once, at most ``max_charts``."""

    def __init__(self, max_charts: int) -> None:
        self.max_charts = max_charts
        self.drawn: dict[str, str] = {}
        self.drawn_data: set[str] = set()  # the same figures, perhaps under another bound line
        self.n_drawn = 0

    def assign(self, plan: Plan, chart: dict[str, Any], rank: int) -> None:
        """Draw the chart, point to the same one above, omit it, or leave it to the table."""
        f = plan.finding
        signature = chart_signature(chart)
        data = chart_signature(chart, with_bound=False)
        if data in self.drawn_data and rank >= 2:
            plan.block = False  # its figures are drawn above; its numbers are in the table
        elif signature in self.drawn:
            plan.chart, plan.same_as = "same", self.drawn[signature]
        elif self.n_drawn < self.max_charts:
            # a criterion's finding gets its own chart when its bound line differs
            plan.chart = "draw"
            self.drawn[signature] = str(f.get("title") or f.get("id"))
            self.drawn_data.add(data)
            self.n_drawn += 1
        else:
            plan.chart = "omitted"
