"""The fairness bound drawn on the per-group charts: where the line goes, which groups are
marked beyond it, and where the bound comes from (criterion, else diagnostic limit)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from auditor.report import charts
from auditor.report.context import build_context
from auditor.report.fairness_bounds import (
    DIFFERENCE_METRICS,
    RATIO_METRICS,
    fairness_bound_line,
    line_for,
    with_bound_line,
)
from tests.report.fixtures import make_results


def _rows(values: dict[str, float], small: tuple[str, ...] = ()) -> list[dict]:
    return [
        {
            "group": g,
            "value": v,
            "low": v - 0.04,
            "high": v + 0.04,
            "n": 400,
            "inconclusive": g in small,
        }
        for g, v in values.items()
    ]


def _finding(
    metric: str,
    rate: str,
    values: dict[str, float],
    *,
    threshold=None,
    direction=None,
    fid: str = "fairness.x.test.sex",
    small=(),
) -> dict:
    return {
        "id": fid,
        "category": "fairness",
        "check": "fairness",
        "metric": metric,
        "status": "warn",
        "threshold": threshold,
        "direction": direction,
        "chart": {
            "kind": "group_bars",
            "title": "t",
            "metric": rate,
            "rows": _rows(values, small),
            "bound": None,
            "reference": None,
        },
    }


def _criterion(fid: str, metric: str, bound: float, *, index: int = 3) -> dict:
    side = "at_least" if metric in RATIO_METRICS or metric == "worst_group_accuracy" else "at_most"
    return {
        "index": index,
        "finding_id": fid,
        "bound": bound,
        "status": "fail",
        "criterion": {"metric": metric, "sensitive": "sex", "split": "test", side: bound},
    }


# the loan example's planted gap: women are approved at 48%, men at 66%
LOAN_SELECTION = {"female": 0.4818, "male": 0.6564}


def test_difference_line_sits_the_bound_below_the_highest_group():
    f = _finding(
        "demographic_parity_difference",
        "selection_rate",
        LOAN_SELECTION,
        threshold=0.1,
        direction="at_most",
    )
    line = fairness_bound_line(f, [_criterion(f["id"], "demographic_parity_difference", 0.1)])
    assert line.at == pytest.approx(0.6564 - 0.10) and line.beyond == "below"
    assert line.rule == "more than 0.10 below the highest group"
    assert line.source == "criterion" and line.criterion == 4
    assert line.label == "criterion 4: more than 0.10 below the highest group (line at 0.556)"
    assert line.breaks(0.4818) and not line.breaks(0.6564)


def test_difference_of_an_error_rate_points_at_the_groups_with_more_errors():
    # false positive rate, mean absolute error: lower is better, so the line sits the bound
    # above the best (lowest) group and the groups above it are marked
    f = _finding(
        "equalized_odds_difference",
        "fpr",
        {"a": 0.33, "b": 0.46, "c": 0.40},
        threshold=0.1,
        direction="at_most",
    )
    line = fairness_bound_line(f, [])
    assert line.at == pytest.approx(0.43) and line.beyond == "above"
    assert line.rule == "more than 0.10 above the lowest group"
    assert [g for g, v in {"a": 0.33, "b": 0.46, "c": 0.40}.items() if line.breaks(v)] == ["b"]
    mae = line_for("mae_difference", 250.0, _rows({"north": 760.0, "east": 1070.0}), "mae")
    assert mae.at == pytest.approx(1010.0) and mae.beyond == "above"
    assert mae.breaks(1070.0) and not mae.breaks(760.0)
    assert mae.rule == "more than 250 above the lowest group"
    tpr = line_for("equalized_odds_difference", 0.1, _rows({"a": 0.7, "b": 0.55}), "tpr")
    assert tpr.at == pytest.approx(0.6) and tpr.beyond == "below"


def test_ratio_line_is_the_bound_times_the_highest_group():
    f = _finding(
        "demographic_parity_ratio",
        "selection_rate",
        LOAN_SELECTION,
        threshold=0.8,
        direction="at_least",
    )
    line = fairness_bound_line(f, [])
    assert line.at == pytest.approx(0.8 * 0.6564) and line.beyond == "below"
    assert line.rule == "below 80% of the highest group" and line.source == "diagnostic"
    assert line.label.startswith("diagnostic limit: below 80% of the highest group")
    assert line.breaks(0.4818)  # 0.4818 / 0.6564 = 0.73 < 0.8
    # an error rate: the lowest group over the bound, the groups above it are marked
    fpr = line_for("equalized_odds_ratio", 0.8, _rows({"a": 0.30, "b": 0.40}), "fpr")
    assert fpr.at == pytest.approx(0.375) and fpr.beyond == "above" and fpr.breaks(0.40)
    assert fpr.rule == "more than 1.25 times the lowest group (ratio below 0.80)"


def test_worst_group_line_is_the_bound_itself():
    f = _finding("worst_group_accuracy", "accuracy", {"north": 0.81, "east": 0.74, "islands": 0.66})
    assert fairness_bound_line(f, []) is None  # no diagnostic limit, no criterion: no line
    line = fairness_bound_line(f, [_criterion(f["id"], "worst_group_accuracy", 0.70, index=0)])
    assert line.at == pytest.approx(0.70) and line.beyond == "below"
    assert line.rule == "accuracy below 0.70" and line.label.startswith("criterion 1:")
    assert line.breaks(0.66) and not line.breaks(0.74) and not line.breaks(0.70)


def test_without_a_criterion_the_diagnostic_threshold_is_drawn_and_a_criterion_wins():
    f = _finding(
        "demographic_parity_difference",
        "selection_rate",
        LOAN_SELECTION,
        threshold=0.1,
        direction="at_most",
    )
    other = _criterion("fairness.other.test.sex", "demographic_parity_difference", 0.05)
    diag = fairness_bound_line(f, [other])  # a criterion about another finding: ignored
    assert diag.source == "diagnostic" and diag.bound == 0.1
    assert diag.at == pytest.approx(0.5564)
    strict = fairness_bound_line(
        f, [other, _criterion(f["id"], "demographic_parity_difference", 0.2)]
    )
    assert strict.source == "criterion" and strict.at == pytest.approx(0.4564)
    assert not strict.breaks(0.4818)  # within 0.20 of the highest group
    # a bound on the wrong side for its metric is not drawn rather than drawn wrong
    assert fairness_bound_line({**f, "direction": "at_least"}, []) is None
    assert fairness_bound_line({**f, "threshold": None}, []) is None
    assert fairness_bound_line({**f, "chart": {"kind": "bars"}}, []) is None


@pytest.mark.parametrize("metric", sorted(DIFFERENCE_METRICS | RATIO_METRICS))
def test_some_group_is_beyond_the_line_exactly_when_the_figure_breaks_the_bound(metric):
    rng = np.random.default_rng(7)
    rates = (
        ["selection_rate", "tpr", "fpr", "accuracy"]
        if "mae" not in metric and "prediction" not in metric
        else (["mae"] if "mae" in metric else ["mean_prediction"])
    )
    checked = 0
    for _ in range(200):
        rate = rates[int(rng.integers(len(rates)))]
        k = int(rng.integers(2, 7))
        scale = 1000.0 if rate in ("mae", "mean_prediction") else 1.0
        values = rng.uniform(0.05, 0.95, k) * scale
        if metric in RATIO_METRICS:
            bound = float(rng.uniform(0.5, 0.95))
            breaks = values.min() / values.max() < bound
        else:
            bound = float(rng.uniform(0.01, 0.5)) * scale
            breaks = values.max() - values.min() > bound
        line = line_for(metric, bound, _rows({f"g{i}": v for i, v in enumerate(values)}), rate)
        assert any(line.breaks(v) for v in values) == breaks, (rate, values, bound)
        checked += breaks
    assert 20 < checked < 180  # both outcomes were exercised


def test_the_report_side_leaves_the_finding_unchanged():
    f = _finding(
        "demographic_parity_difference",
        "selection_rate",
        LOAN_SELECTION,
        threshold=0.1,
        direction="at_most",
    )
    out = with_bound_line(f, [])
    assert "bound_line" not in f["chart"] and out["chart"]["bound_line"]["beyond"] == "below"
    assert out["chart"]["bound_line"]["at"] == pytest.approx(0.5564)
    plain = {**f, "threshold": None}
    assert with_bound_line(plain, []) is plain  # nothing to draw: the finding as it is


# --------------------------------------------------------------------------- drawing
def _drawn(chart: dict):
    import matplotlib

    with matplotlib.rc_context(charts._RC):
        return charts.group_bars(chart)


def test_the_chart_draws_the_line_and_marks_the_groups_beyond_it():
    f = with_bound_line(
        _finding(
            "demographic_parity_difference",
            "selection_rate",
            {"female": 0.4818, "male": 0.6564, "other": 0.50},
            small=("other",),
        ),
        [_criterion("fairness.x.test.sex", "demographic_parity_difference", 0.1)],
    )
    fig = _drawn(f["chart"])
    ax = fig.axes[0]
    dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(dashed) == 1 and dashed[0].get_xdata()[0] == pytest.approx(0.5564)
    bars = dict(zip(["female", "male", "other"], ax.patches, strict=True))  # in row order
    # female: beyond the line, cross-hatched with a heavy outline; male: plain; the small
    # group keeps its "too few" hatching and gets the heavy outline as it is beyond too
    assert bars["female"].get_hatch() == "xx" and bars["female"].get_linewidth() > 1.2
    assert bars["male"].get_hatch() is None and bars["male"].get_linewidth() < 1.2
    assert bars["other"].get_hatch() == "///" and bars["other"].get_linewidth() > 1.2
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[0] == "criterion 4: more than 0.10 below the highest group (line at 0.556)"
    assert "beyond the line: breaks the bound" in legend
    assert "too few rows to judge, beyond the line" in legend


def test_the_svg_shows_the_line_where_the_numbers_say():
    f = with_bound_line(
        _finding(
            "worst_group_accuracy", "accuracy", {"north": 0.81, "east": 0.74, "islands": 0.66}
        ),
        [_criterion("fairness.x.test.sex", "worst_group_accuracy", 0.7)],
    )
    svg = charts.render_chart(f["chart"]).svg
    assert "criterion 4: accuracy below 0.70 (line at 0.7)" in svg
    assert "beyond the line: breaks the bound" in svg
    # the dashed bound line is vertical, and sits where 0.7 falls between the x tick labels
    # (each tick label carries its x position)
    ticks = {
        float(m.group(2)): float(m.group(1))
        for m in re.finditer(r'<text[^>]*\bx="([-0-9.]+)"[^>]*>(0\.[0-9]+|0)</text>', svg)
    }
    (v0, x0), (v1, x1) = min(ticks.items()), max(ticks.items())
    assert v0 < 0.7 < v1, ticks
    xs = [
        float(m.group(1))
        for m in re.finditer(
            r'<path d="M ([-0-9.]+) [-0-9.]+\s+L \1 [-0-9.]+\s*"[^>]*stroke-dasharray', svg
        )
    ]
    expected = x0 + (x1 - x0) * (0.7 - v0) / (v1 - v0)
    assert any(abs(x - expected) < 1.0 for x in xs), (xs, expected)


def test_the_report_draws_the_criterion_bound_on_the_fairness_chart():
    results = make_results("binary")
    drawn: list[dict] = []
    build_context(
        results, draw_chart=lambda chart, **kw: drawn.append(chart), spec_text="", attachments=[]
    )
    crit = next(c for c in results["criteria"] if c["criterion"].get("sensitive"))
    fair = [c for c in drawn if c.get("kind") == "group_bars"]
    assert fair and all("bound_line" in c for c in fair)
    first = fair[0]
    highest = max(r["value"] for r in first["rows"])
    assert first["bound_line"]["at"] == pytest.approx(highest - crit["bound"])
    assert first["bound_line"]["source"] == "criterion"
    assert first["bound_line"]["criterion"] == crit["index"] + 1
    # results.json's findings stay as the checks wrote them
    assert all("bound_line" not in (f.get("chart") or {}) for f in results["findings"])
