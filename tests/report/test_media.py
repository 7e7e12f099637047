"""The two media of one report: report.html has everything, the PDF the pages one signs.

The PDF shows a finding that passes everywhere as its row in the section's table (a
fairness one a criterion is about keeps its block: its feature's chart), folds long tables'
rows that pass everywhere into one sentence, holds the fairness group tables for the first
split only, and attaches the resolved spec instead of printing it; report.html keeps every
passing example (collapsed, expandable), every row and split, and prints the spec.
A chart both show is drawn once.
"""

from __future__ import annotations

import json
import re

from auditor.report.context import FOLD_ROWS_OVER, build_context, fold_passing_rows
from auditor.report.render import render_html
from tests.report.fixtures import make_results


def _context(results, medium):
    return build_context(
        results,
        draw_chart=lambda chart, **kw: None,
        spec_text="SPEC",
        attachments=[],
        medium=medium,
    )


def _blocks(ctx):
    return {v["id"]: v for s in ctx["sections"] for v in s["blocks"]}


def test_the_pdf_shows_no_passing_example_that_html_shows_collapsed():
    results = make_results("binary")
    html, pdf = _context(results, "html"), _context(results, "pdf")
    examples = [v for v in _blocks(html).values() if v["example"]]
    assert examples, "the fixture has passing examples"
    assert all(v["status"]["word"] == "PASS" and v["criterion"] is None for v in examples)
    shown = _blocks(pdf)
    # the search is the one passing finding the PDF shows in full: its trials and history
    # are the evidence of the chosen values, and their table is not left to report.html
    assert [i for i in (v["id"] for v in examples) if i in shown] == ["tuning.search"]
    search = shown["tuning.search"]
    assert search["tables"] and not search["tables_in_html"]
    # failures, warnings and what a criterion is about are in both, except a passing
    # criterion outside fairness: the PDF gives it as its table row (page one has its figure)
    judged = {c["finding_id"] for c in results["criteria"] if c.get("finding_id")}
    judged |= {f["id"] for f in results["findings"] if f.get("advisory") is False}
    passed = {
        f["id"]
        for f in results["findings"]
        if f["id"] in judged and f["status"] == "pass" and f["category"] != "fairness"
    }
    kept = [v for v in _blocks(html).values() if not v["example"]]
    assert passed and passed <= {v["id"] for v in kept}, "a passing criterion outside fairness"
    assert all((v["id"] in shown) != (v["id"] in passed) for v in kept)
    rows = {r["anchor"] for s in pdf["sections"] for r in s["matrix"]["rows"]}
    assert not {v["anchor"] for v in kept if v["id"] in passed} & rows  # no link to a gap
    page = render_html(results, spec_text="SPEC", attachments=[])
    assert page.count('<details class="finding example') == len(examples)


def test_the_pdf_attaches_the_resolved_spec_and_report_html_prints_it():
    results = make_results("binary")
    spec_text = "name: a-spec-line-only-the-html-prints"
    attached = [
        {
            "key": "spec",
            "name": "spec.yaml",
            "sha256": "ab" * 32,
            "description": "The resolved spec: every setting the audit used (report.html "
            "prints it).",
        }
    ]
    page = render_html(results, spec_text=spec_text, attachments=attached)
    printed = render_html(results, spec_text=spec_text, attachments=attached, medium="pdf")
    assert spec_text in page and spec_text not in printed
    assert "Resolved spec" in page and "Resolved spec" not in printed
    assert "spec.yaml" in printed and "report.html prints it" in printed


def test_a_chart_both_media_show_is_drawn_once():
    import auditor.report.charts as charts

    drawn: dict = {}
    calls = []
    original = charts.render_chart

    def counting(chart, **kwargs):
        calls.append(json.dumps(chart, sort_keys=True, default=str) + str(sorted(kwargs.items())))
        return original(chart, **kwargs)

    results = make_results("binary", n_charts=12)
    charts.render_chart = counting
    try:
        html = render_html(results, spec_text="", attachments=[], drawn=drawn)
        pdf = render_html(results, spec_text="", attachments=[], medium="pdf", drawn=drawn)
    finally:
        charts.render_chart = original
    assert calls and len(calls) == len(set(calls)) == len(drawn)
    # each page numbers its own ids: the cached drawings were not renumbered twice
    for page in (html, pdf):
        assert not re.search(r'id="c\d+-c\d+-', page)


def _row(label, words, *, criteria=(), anchor=""):
    cells = [{"status": {"word": w}} for w in words]
    return {
        "label": label,
        "cells": cells,
        "span": None,
        "criteria": list(criteria),
        "anchor": anchor,
    }


def test_a_long_table_folds_only_rows_that_pass_everywhere_and_no_criterion_names():
    rows = [_row(f"passing {i}", ["PASS", "PASS"]) for i in range(FOLD_ROWS_OVER)]
    rows += [
        _row("warned", ["PASS", "WARN"]),
        _row("judged", ["PASS", "PASS"], criteria=[3]),
        _row("shown below", ["PASS", "PASS"], anchor="f-x"),
        {**_row("one figure", []), "span": {"status": {"word": "PASS"}}},
    ]
    matrix = {"rows": list(rows), "folded": []}
    fold_passing_rows(matrix)
    assert [r["label"] for r in matrix["rows"]] == ["warned", "judged", "shown below"]
    assert matrix["folded"] == [f"passing {i}" for i in range(FOLD_ROWS_OVER)] + ["one figure"]
    short = {"rows": rows[:FOLD_ROWS_OVER], "folded": []}
    fold_passing_rows(short)  # a table that is not long keeps every row
    assert len(short["rows"]) == FOLD_ROWS_OVER and not short["folded"]


def test_the_pdf_group_tables_hold_the_first_split_and_html_every_split():
    results = make_results("binary")
    fairness = [f for f in results["findings"] if f["category"] == "fairness" and f.get("split")]
    results["findings"] += [  # the same figures measured on the client holdout too
        {**f, "id": f["id"].replace(".test", ".holdout"), "split": "holdout"}
        for f in fairness
        if f["split"] == "test"
    ]
    html, pdf = _context(results, "html"), _context(results, "pdf")

    def first_table(ctx):
        fairness = next(s for s in ctx["sections"] if s["key"] == "fairness")
        return fairness["group_tables"][0]

    assert len({r["cells"][1] for r in first_table(html)["rows"]}) > 1
    # the PDF: one split, named in the title; each group once, its rates with their ratios
    table = first_table(pdf)
    assert "(test)" in table["title"] and "split" not in table["columns"]
    groups = [r["cells"][0] for r in table["rows"]]
    assert len(groups) == len(set(groups)) == len(first_table(html)["rows"]) // 2


def test_a_section_none_of_whose_checks_ran_is_one_sentence_in_the_pdf():
    results = make_results("binary")
    results["findings"] = [f for f in results["findings"] if f["category"] != "drift"] + [
        {
            "id": f"drift.{name}",
            "check": name,
            "category": "drift",
            "status": "skipped",
            "title": f"Drift check {name}",
            "summary": "Client data were not compared with development data.",
            "details": {},
        }
        for name in ("feature_drift", "domain_classifier")
    ]
    html, pdf = _context(results, "html"), _context(results, "pdf")

    def drift(ctx):
        return next(s for s in ctx["sections"] if s["key"] == "drift")

    assert drift(pdf)["only_skipped"] and not drift(html)["only_skipped"]
    assert not any(r["title"].startswith("Drift check") for r in pdf["appendix"]["details"])
    printed = render_html(results, spec_text="", attachments=[], medium="pdf")
    section = printed[printed.index('id="sec-drift"') :]
    section = section[: section.index("</section>")]
    assert "Drift check feature_drift" not in section and 'class="lead"' in section
