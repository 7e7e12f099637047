"""Charts drawn once each; a render reports its stages."""

from __future__ import annotations

import pytest

from auditor.report.render import RENDER_STAGES, draw_charts, render_html, render_report
from tests.report.fixtures import make_results


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


@pytest.mark.parametrize("workers", [1, 2])
def test_a_render_reports_the_seconds_of_each_stage(tmp_path, workers):
    timings: dict = {}
    render_report(make_results("binary"), tmp_path, timings=timings, workers=workers)
    assert tuple(timings) == RENDER_STAGES
    assert all(t >= 0.0 for t in timings.values())
    assert (tmp_path / "report.pdf").stat().st_size > 0
