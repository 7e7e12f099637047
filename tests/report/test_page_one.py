"""Page one's chart: the evidence of the main blocker, else of the main risk."""

from __future__ import annotations

from auditor.report.charts import ChartSVG
from auditor.report.page_one import main_chart


def _criterion(i, status, finding, *, severity="blocking", margin=0.1, waived=False, bound=1.0):
    return {
        "bound": bound,
        "index": i,
        "description": f"criterion {i}",
        "status": status,
        "severity": severity,
        "margin": margin,
        "finding_id": finding,
        "waived": waived,
    }


def _finding(fid, chart=True):
    return {"id": fid, "chart": {"kind": "group_bars", "title": fid} if chart else None}


def _draw(chart, **kwargs):
    assert kwargs == {"compact": True}, "drawn half wide, beside the steps"
    return ChartSVG(kind=chart["kind"], title=chart["title"], svg=f"<svg>{chart['title']}</svg>")


FINDINGS = [_finding("a"), _finding("b"), _finding("c"), _finding("plain", chart=False)]


def test_the_first_unmet_blocking_criterion_explains_not_ready():
    criteria = [
        _criterion(0, "pass", "a", margin=0.001),
        _criterion(1, "fail", "b", severity="advisory"),
        _criterion(2, "fail", "c"),
    ]
    chart = main_chart(criteria, FINDINGS, _draw)
    assert chart["why"] == "blocker" and chart["number"] == 3 and "c" in chart["svg"]
    assert chart["heading"] == "What blocks release"


def test_a_waived_failure_blocks_nothing_so_the_advisory_one_is_shown():
    criteria = [
        _criterion(0, "fail", "a", waived=True),
        _criterion(1, "fail", "b", severity="advisory"),
    ]
    chart = main_chart(criteria, FINDINGS, _draw)
    assert chart["why"] == "advisory" and chart["number"] == 2
    assert chart["heading"] == "What makes it conditional"


def test_not_ready_without_a_blockers_chart_heads_the_advisory_one_as_such():
    criteria = [_criterion(0, "fail", "plain"), _criterion(1, "fail", "b", severity="advisory")]
    chart = main_chart(criteria, FINDINGS, _draw)
    assert chart["number"] == 2 and chart["heading"] == "Also not met (advisory)"


def test_ready_shows_the_closest_call():
    criteria = [
        _criterion(0, "pass", "a", margin=0.30),
        _criterion(1, "pass", "b", margin=0.004),
        _criterion(2, "pass", "c", margin=0.05),
    ]
    chart = main_chart(criteria, FINDINGS, _draw)
    assert chart["why"] == "risk" and chart["number"] == 2
    assert chart["heading"] == "The closest call"


def test_a_criterion_without_a_chart_gives_way_and_none_gives_no_chart():
    criteria = [_criterion(0, "fail", "plain"), _criterion(1, "fail", "a")]
    assert main_chart(criteria, FINDINGS, _draw)["number"] == 2
    assert main_chart([_criterion(0, "fail", "plain")], FINDINGS, _draw) is None
    assert main_chart([], FINDINGS, _draw) is None


def test_a_verdict_that_is_not_ready_never_shows_a_passing_criterions_chart():
    criteria = [_criterion(0, "pass", "a", margin=0.001), _criterion(1, "fail", "plain")]
    assert main_chart(criteria, FINDINGS, _draw) is None


def test_the_closest_call_compares_margins_as_shares_of_their_bounds():
    criteria = [
        _criterion(0, "pass", "a", margin=155.0, bound=400.0),  # perplexity: 39 % of room
        _criterion(1, "pass", "b", margin=0.02, bound=0.04),  # a share: 50 % of room
        _criterion(2, "pass", "c", margin=0.0, bound=0.0),  # nothing allowed, none found
    ]
    assert main_chart(criteria, FINDINGS, _draw)["number"] == 1
