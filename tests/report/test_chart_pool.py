"""Charts drawn once each, before the renders, in parallel processes where it pays."""

from __future__ import annotations

import pytest

from auditor.report import chart_pool
from auditor.report.render import RENDER_STAGES, draw_charts, render_html, render_report
from tests.report.fixtures import make_results


def _requests(results):
    requests: dict = {}
    from auditor.report.context import MEDIA, build_context

    for medium in MEDIA:
        build_context(
            results,
            draw_chart=chart_pool.recorder(requests),
            spec_text="",
            attachments=[],
            medium=medium,
        )
    return requests


def test_parallel_drawing_gives_the_same_charts_as_drawing_here():
    results = make_results("binary", n_charts=12)
    requests = _requests(results)
    assert len(requests) >= chart_pool.PARALLEL_FROM
    here, forked = {}, {}
    assert chart_pool.draw_all(requests, here, workers=1) == 1
    assert chart_pool.draw_all(requests, forked, workers=2) == 2
    assert here.keys() == forked.keys() == requests.keys()
    for key in here:
        assert here[key] == forked[key], "the same SVG, drawn in a worker process"


def test_the_renders_draw_nothing_the_pool_did_not(monkeypatch):
    results = make_results("binary", n_charts=12)
    drawn: dict = {}
    draw_charts(results, spec_text="", attachments=[], drawn=drawn, workers=1)
    import auditor.report.charts as charts

    def must_not_draw(chart, **kwargs):
        raise AssertionError(f"drawn again: {chart.get('kind')}")

    monkeypatch.setattr(charts, "render_chart", must_not_draw)
    for medium in ("html", "pdf"):
        page = render_html(results, spec_text="", attachments=[], medium=medium, drawn=drawn)
        assert page.count('<svg class="chart-svg"') >= 1


def test_a_chart_that_cannot_be_drawn_is_a_note_in_either_path():
    bad = {"kind": "group_bars", "title": "broken", "rows": "not rows"}
    requests = {chart_pool.chart_key(bad, {}): (bad, {})}
    for workers in (1, 2):
        cache: dict = {}
        chart_pool.draw_all(requests, cache, workers=workers)
        (drawn,) = cache.values()
        assert drawn.svg is None and "could not be drawn" in drawn.note


@pytest.mark.parametrize("workers", [1, 2])
def test_a_render_reports_the_seconds_of_each_stage(tmp_path, workers):
    timings: dict = {}
    render_report(make_results("binary"), tmp_path, timings=timings, workers=workers)
    assert tuple(timings) == RENDER_STAGES
    assert all(t >= 0.0 for t in timings.values())
    assert (tmp_path / "report.pdf").stat().st_size > 0
