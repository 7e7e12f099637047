"""Charts drawn by a forked child beside the PDF's layout, streamed back, drawn here when
needed first; the PDF's charts as images its fetcher answers from memory."""

from __future__ import annotations

import gc
import os
import re

import pytest

from auditor.report import chart_pool
from auditor.report import render as render_mod
from auditor.report.charts import ChartSVG
from tests.report.conftest import pdf_text
from tests.report.fixtures import make_results

can_fork = "fork" in __import__("multiprocessing").get_all_start_methods()
needs_fork = pytest.mark.skipif(not can_fork, reason="this platform cannot fork")


def _requests(results):
    return render_mod.chart_requests(results, spec_text="", attachments=[])


@needs_fork
def test_a_forked_stream_draws_what_one_process_draws():
    requests = _requests(make_results("binary", n_charts=12))
    assert len(requests) >= 12
    here, beside = {}, {}
    with chart_pool.ChartStream(requests, here, workers=1) as one:
        assert not one.forked
        one.finish()
    with chart_pool.ChartStream(requests, beside, workers=2) as two:
        assert two.forked
        two.finish()
    assert here.keys() == beside.keys() == requests.keys()
    for key in here:
        assert here[key] == beside[key], "the same SVG, drawn in the child"


def _drawn_here(monkeypatch) -> list[str]:
    """Titles of the charts this process (not the child) draws from now on."""
    parent, seen = os.getpid(), []
    real = chart_pool._draw

    def counting(item):
        if os.getpid() == parent:
            seen.append(item[0].get("title"))
        return real(item)

    monkeypatch.setattr(chart_pool, "_draw", counting)
    return seen


@needs_fork
def test_the_child_draws_every_chart_and_this_process_none(monkeypatch):
    requests = _requests(make_results("binary", n_charts=12))
    drawn_here = _drawn_here(monkeypatch)
    cache: dict = {}
    with chart_pool.ChartStream(requests, cache, workers=2) as stream:
        last = list(requests)[-1]
        assert stream.get(last).svg  # asked for before the child reaches it: waited for
        stream.finish()
    assert drawn_here == []
    assert cache.keys() == requests.keys()


def test_the_child_sends_every_size_before_any_drawing(monkeypatch):
    requests = _requests(make_results("binary", n_charts=6))
    bad = {"kind": "group_bars", "title": "broken", "rows": "not rows"}
    requests[chart_pool.chart_key(bad, {})] = (bad, {})
    items = list(requests.items())

    class Pipe:
        sent: list = []

        def send(self, message):
            self.sent.append(message)

        def close(self):
            pass

    monkeypatch.setattr(chart_pool.os, "_exit", lambda code: None)  # run in this process
    chart_pool._stream(items, Pipe())
    sent = Pipe.sent
    n = len(items)
    assert [index for index, _ in sent[:n]] == list(range(n)), "first pass: in order"
    assert isinstance(sent[n - 1][1], ChartSVG) and "could not be drawn" in (sent[n - 1][1].note), (
        "a chart that cannot be built is its note at once"
    )
    sizes = {index: size for index, size in sent[: n - 1]}
    assert all(isinstance(size, chart_pool.Size) for size in sizes.values())
    drawings = sent[n:]
    assert [index for index, _ in drawings] == list(range(n - 1)), "then drawn, in order"
    for index, drawn in drawings:
        assert chart_pool._size_of(drawn) == pytest.approx(tuple(sizes[index]))
        assert sizes[index].width > 100 and sizes[index].height > 50  # points


def test_a_stand_in_is_the_charts_size_around_its_drawing():
    svg = chart_pool.stand_in(chart_pool.Size(460.8, 194.4), "auditor-chart:2").decode()
    assert 'viewBox="0 0 460.8 194.4"' in svg
    assert '<image width="460.8" height="194.4" href="auditor-chart:2"/>' in svg


@needs_fork
def test_a_child_that_dies_leaves_its_charts_to_this_process(monkeypatch):
    requests = _requests(make_results("binary", n_charts=8))
    parent = os.getpid()
    real = chart_pool._build

    def dies_in_child(item):
        if os.getpid() != parent:
            os._exit(3)
        return real(item)

    monkeypatch.setattr(chart_pool, "_build", dies_in_child)
    drawn_here = _drawn_here(monkeypatch)
    cache: dict = {}
    with chart_pool.ChartStream(requests, cache, workers=2) as stream:
        stream.finish()
    assert cache.keys() == requests.keys() and all(d.svg for d in cache.values())
    assert len(drawn_here) == len(requests)


def test_a_chart_that_cannot_be_drawn_is_a_note_in_either_path():
    bad = {"kind": "group_bars", "title": "broken", "rows": "not rows"}
    requests = {chart_pool.chart_key(bad, {}): (bad, {})}
    for workers in (1, 2):
        cache: dict = {}
        with chart_pool.ChartStream(requests, cache, workers=workers) as stream:
            stream.finish()
        (drawn,) = cache.values()
        assert drawn.svg is None and "could not be drawn" in drawn.note


@pytest.mark.parametrize("workers", [1, 2])
def test_a_pdf_chart_that_turns_out_a_note_is_a_note_in_the_pdf(tmp_path, workers):
    results = make_results("binary", n_charts=3)
    shown = next(f for f in results["findings"] if f.get("chart"))
    shown["chart"] = {"kind": "group_bars", "title": "broken chart", "rows": "not rows"}
    out = render_mod.render_report(results, tmp_path, workers=workers)
    text = pdf_text(out["pdf"])[0]
    assert "could not be drawn" in text.replace("\n", " ")


@pytest.mark.parametrize("workers", [1, 2])
def test_a_chart_that_fails_only_when_drawn_is_a_note_in_the_pdf(tmp_path, workers, monkeypatch):
    """Built (its size laid out), then failing to draw while the page is painted: the page
    is filled, laid out and painted again with the note."""
    from auditor.report import charts

    results = make_results("binary", n_charts=3)
    shown = next(f for f in results["findings"] if f.get("chart"))
    shown["chart"]["title"] = "fails when drawn"
    real = charts._to_svg

    def failing(figure):
        if any("fails when drawn" in t.get_text() for t in figure.texts):
            raise ValueError("no drawing")
        return real(figure)

    monkeypatch.setattr(charts, "_to_svg", failing)
    out = render_mod.render_report(results, tmp_path, workers=workers)
    text = pdf_text(out["pdf"])[0].replace("\n", " ")
    assert "could not be drawn" in text and "no drawing" in text


@needs_fork
def test_a_forked_render_writes_the_same_reports_as_one_process(tmp_path):
    results = make_results("binary", n_charts=12)
    one = render_mod.render_report(results, tmp_path / "one", workers=1)
    two = render_mod.render_report(results, tmp_path / "two", workers=2)
    html = one["html"].read_bytes()
    assert html == two["html"].read_bytes()
    assert html.count(b'<svg class="chart-svg"') >= 12  # inline in the page
    assert pdf_text(one["pdf"]) == pdf_text(two["pdf"])


def test_the_pdfs_charts_are_images_its_fetcher_answers_from_memory(tmp_path, monkeypatch):
    made = []
    real = render_mod.make_url_fetcher

    def spy(images=None):
        made.append((images, real(images)))
        return made[-1][1]

    monkeypatch.setattr(render_mod, "make_url_fetcher", spy)
    results = make_results("binary", n_charts=8)
    render_mod.render_report(results, tmp_path)
    ((images, fetcher),) = made
    assert images, "the PDF's page showed no chart"
    assert all(url.startswith("auditor-chart:") for url in images)
    asked = [url for url in fetcher.requested if url.startswith("auditor-chart:")]
    assert sorted(asked) == sorted(images), "every chart drawn into the PDF, each once"
    assert not fetcher.refused
    # a chart's words are still text in the PDF (WeasyPrint draws the SVG's <text>)
    svgs = [body() if callable(body) else body for body in images.values()]
    assert all(svg.startswith(b"<svg") for svg in svgs)
    words = {
        w.strip() for svg in svgs for w in re.findall(r"<text[^>]*>([^<]{6,})</text>", svg.decode())
    }
    assert words
    text = pdf_text(tmp_path / "report.pdf")[0].replace(" ", "")
    assert any(w.replace(" ", "") in text for w in words), sorted(words)[:5]


def test_a_render_leaves_the_garbage_collector_as_it_found_it(tmp_path):
    assert gc.get_freeze_count() == 0 and gc.isenabled()
    render_mod.render_report(make_results("binary", n_charts=2), tmp_path, workers=1)
    assert gc.get_freeze_count() == 0 and gc.isenabled()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        render_mod.render_report(make_results("binary", n_charts=2), tmp_path, workers=1)
        assert gc.get_freeze_count() > frozen // 2, "someone else's freeze left alone"
        gc.disable()
        render_mod.render_report(make_results("binary", n_charts=2), tmp_path, workers=1)
        assert not gc.isenabled(), "a collector someone paused stays paused"
    finally:
        gc.enable()
        gc.unfreeze()
