"""report.html drawn and filled in a forked child beside the PDF's layout; the PDF's charts
as images answered from memory."""

from __future__ import annotations

import gc
import os

import pytest

from auditor.report import forked
from auditor.report import render as render_mod
from tests.report.conftest import pdf_text
from tests.report.fixtures import make_results

needs_fork = pytest.mark.skipif(not forked.can_fork(), reason="this platform cannot fork")


@needs_fork
def test_the_childs_bytes_are_the_work_done_in_a_child():
    parent = os.getpid()
    with forked.Beside(lambda: str(os.getpid()).encode()) as job:
        assert job.forked
        child = int(job.result())
    assert child != parent


def test_without_fork_the_work_is_done_here_when_asked():
    calls = []

    def work():
        calls.append(os.getpid())
        return b"page"

    job = forked.Beside(work, fork=False)
    assert not job.forked and calls == []
    assert job.result() == b"page" and calls == [os.getpid()]


@needs_fork
def test_a_child_that_fails_is_redone_here_and_its_error_raised_here():
    parent = os.getpid()

    def work():
        if os.getpid() != parent:
            raise RuntimeError("in the child")
        return b"done here"

    with forked.Beside(work) as job:
        assert job.result() == b"done here"

    def always():
        raise ValueError("bad chart data")

    with forked.Beside(always) as job, pytest.raises(ValueError, match="bad chart data"):
        job.result()


@needs_fork
def test_a_child_whose_result_is_never_asked_for_is_stopped():
    import time

    def slow():
        time.sleep(60)
        return b""

    with forked.Beside(slow) as job:
        process = job._process
        assert process.is_alive()
    assert not process.is_alive()


@needs_fork
def test_a_forked_render_writes_the_same_report_html_as_one_process(tmp_path):
    results = make_results("binary", n_charts=12)
    one = render_mod.render_report(results, tmp_path / "one", workers=1)
    two = render_mod.render_report(results, tmp_path / "two", workers=2)
    html = one["html"].read_bytes()
    assert html == two["html"].read_bytes()
    assert html.count(b'<svg class="chart-svg"') >= 12  # inline in the page


def test_the_pdfs_charts_are_images_its_fetcher_answers_from_memory(tmp_path, monkeypatch):
    made = []
    real = render_mod.make_url_fetcher

    def spy(images=None):
        made.append((dict(images or {}), real(images)))
        return made[-1][1]

    monkeypatch.setattr(render_mod, "make_url_fetcher", spy)
    results = make_results("binary", n_charts=8)
    render_mod.render_report(results, tmp_path, workers=1)
    ((images, fetcher),) = made
    assert images, "the PDF's page showed no chart"
    assert all(url.startswith("auditor-chart:") for url in images)
    assert all(svg.startswith(b"<svg") for svg in images.values())
    asked = [url for url in fetcher.requested if url.startswith("auditor-chart:")]
    assert sorted(asked) == sorted(images), "every chart drawn into the PDF, each once"
    assert not fetcher.refused
    # a chart's words are still text in the PDF (WeasyPrint draws the SVG's <text>)
    import re

    words = {
        w.strip()
        for svg in images.values()
        for w in re.findall(r"<text[^>]*>([^<]{6,})</text>", svg.decode())
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
