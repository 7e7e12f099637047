"""The rendered report: page one, sections, attachments, layout, same numbers in HTML and PDF."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys

import pytest
from pypdf import PdfReader

from auditor.report.context import fmt, fmt_ci
from auditor.report.render import canonical_results, render_html, spec_document
from tests.report.fixtures import make_results

TASKS = ("binary", "multiclass", "regression")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _html_text(html: str) -> str:
    """Visible text of the HTML (tags dropped, entities of interest decoded)."""
    import html as htmllib

    body = re.sub(r"<svg.*?</svg>", " ", html, flags=re.S)
    body = re.sub(r"<style.*?</style>", " ", body, flags=re.S)
    return _norm(htmllib.unescape(re.sub(r"<[^>]+>", " ", body)))


def test_page_count_in_expected_range(binary_report):
    assert 8 <= binary_report.pages <= 30


def test_verdict_reason_and_every_criterion_appear_in_pdf(binary_report):
    text = binary_report.pdf_text
    verdict = binary_report.results["verdict"]
    assert "NOT READY" in text
    assert _norm(verdict["reason"])[:60] in text
    for c in binary_report.results["criteria"]:
        assert _norm(c["description"]) in text, c["description"]
    unbroken = text.replace("- ", "-")  # a line break after a hyphen extracts as "- "
    # page one lists the first steps without the findings they come from; report.html all
    from auditor.report.context import NEXT_STEPS_PDF, STEP_SOURCES

    for step in verdict["next_steps"][:NEXT_STEPS_PDF]:
        assert _norm(STEP_SOURCES.sub("", step)) in unbroken
    page = _html_text(binary_report.html).replace("- ", "-")
    for step in verdict["next_steps"]:
        assert _norm(step) in page


def test_page_one_is_the_sign_off_page(binary_report):
    reader = PdfReader(str(binary_report.out["pdf"]))
    first = _norm(reader.pages[0].extract_text())
    results = binary_report.results
    assert "NOT READY" in first
    assert _norm(results["spec"]["objective"]["purpose"])[:50] in first
    assert _norm(results["criteria"][0]["description"]) in first
    # the chart of the main blocker and what to do next, on page one itself
    assert "What blocks release" in first and "What to do next" in first
    assert 'class="chart main-chart"' in binary_report.html
    # sign-off block with the owner and every approver (may run onto page two)
    first_two = first + " " + _norm(reader.pages[1].extract_text())
    assert "Sign-off" in first_two
    for person in [results["spec"]["report"]["owner"], *results["spec"]["report"]["approvers"]]:
        assert person in first_two
    # waivers: who, why, until when; the expired one flagged
    assert "2026-01-31" in first_two and "EXPIRED" in first_two
    assert "Pilot with manual double-check of all rejections." in first_two
    # business impact (costs declared for binary): wrong decisions and cost per 1,000
    assert "Wrong decisions per 1,000" in first_two
    assert "19,280" in first_two


def test_running_header_and_page_x_of_y(binary_report):
    reader = PdfReader(str(binary_report.out["pdf"]))
    n = len(reader.pages)
    third = _norm(reader.pages[2].extract_text())
    assert f"page 3 of {n}" in third
    assert "loan-approval" in third and "NOT READY" in third


def test_the_pdf_outline_leads_to_every_section(binary_report):
    """The PDF has no contents page: its outline (bookmarks) names each section's page;
    report.html keeps a contents list."""
    reader = PdfReader(str(binary_report.out["pdf"]))

    def flat(items):
        for item in items:
            if isinstance(item, list):
                yield from flat(item)
            else:
                yield item

    pages = {item.title: reader.get_destination_page_number(item) for item in flat(reader.outline)}
    for title in ("Data", "Fit", "Performance", "Fairness", "Appendix"):
        assert title in pages, sorted(pages)
    order = [pages[t] for t in ("Data", "Fit", "Performance", "Fairness", "Appendix")]
    assert order == sorted(order) and order[0] >= 1, "sections start after page one"
    assert 'id="contents"' in binary_report.html


def test_attachments_are_byte_equal_to_the_run_files(binary_report):
    reader = PdfReader(str(binary_report.out["pdf"]))
    files = reader.attachments
    assert files["results.json"][0] == binary_report.results_path.read_bytes()
    spec_bytes = spec_document(binary_report.results).encode()
    assert files["spec.yaml"][0] == spec_bytes
    # and their SHA-256 are printed in the appendix
    for data in (binary_report.results_path.read_bytes(), spec_bytes):
        sha = hashlib.sha256(data).hexdigest()
        assert sha in binary_report.html
        assert sha[:40] in binary_report.pdf_text.replace(" ", "")


def test_outputs_are_written_atomically_and_small(binary_report):
    out_dir = binary_report.out["pdf"].parent
    assert sorted(p.name for p in out_dir.iterdir()) == ["report.html", "report.pdf"]
    assert binary_report.out["pdf"].stat().st_size < 2_000_000
    assert binary_report.out["pdf"].read_bytes().startswith(b"%PDF-")


def test_html_and_pdf_show_the_same_numbers(binary_report):
    html_text = _html_text(binary_report.html)
    pdf = binary_report.pdf_text
    checked = 0
    for c in binary_report.results["criteria"]:
        for shown in (fmt(float(c["value"])), fmt_ci(c["ci"])):
            if shown == "\u2014":
                continue
            assert shown in html_text, shown
            assert shown in pdf, shown
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("task", TASKS)
def test_every_section_renders_for_each_task(render_task, task):
    rendered = render_task(task)
    text = rendered.pdf_text
    for section in (
        "Acceptance criteria",
        "Data",
        "Fit",
        "Performance",
        "Fairness",
        "Appendix",
        "Documentation map",
        "spec.yaml",  # the resolved spec: attached to the PDF, printed by report.html
        "Intersections",
    ):
        assert section in text, section
    # each section opens with one sentence saying what it found
    for lead in re.findall(r'<p class="lead">(.*?)</p>', rendered.html, flags=re.S):
        assert lead.strip()
    # data, drift (the fixture has client data to compare), fit, performance, fairness, the
    # hyperparameter search (the fixture is a tuned run) and the appendix
    assert len(re.findall(r'<p class="lead">', rendered.html)) == 7
    assert "Hyperparameter search" in text
    # every chart kind the run produced is drawn at least once, as an inline SVG
    kinds = {f["chart"]["kind"] for f in rendered.results["findings"] if f.get("chart")}
    for kind in kinds:
        assert f'data-kind="{kind}"' in rendered.html, kind
    assert rendered.html.count('<svg class="chart-svg"') >= len(kinds)
    assert "could not be drawn" not in rendered.html
    # every finding is listed: its check's row (title without the split) in its section's
    # table, or its metric in the metrics table
    from auditor.report.context import row_label

    shown = _html_text(rendered.html).replace("_", " ")
    for f in rendered.results["findings"]:
        label = row_label(_norm(f["title"]), str(f.get("split") or ""))
        assert label.replace("_", " ")[:30] in shown, f["title"]
    assert rendered.out["pdf"].stat().st_size < 2_000_000


def test_multiclass_and_regression_specific_content(render_task):
    multi = render_task("multiclass")
    assert "medium" in multi.pdf_text and "Macro F1" in multi.pdf_text
    assert "Business impact" not in multi.pdf_text  # no costs declared
    reg = render_task("regression")
    assert "Mean absolute error" in reg.pdf_text and "actual - predicted" in reg.html


def test_model_card_and_annex_iv_map_in_appendix(binary_report):
    text = binary_report.pdf_text
    for item in (
        "Intended use",
        "Factors",
        "Evaluation data",
        "Training data",
        "Quantitative analyses",
        "Ethical considerations",
        "Caveats",
        "General description",
        "Risk management",
        "Post-market",
    ):
        assert item in text, item


def test_page_size_follows_the_spec(render_task, binary_report):
    letter = render_task("multiclass")
    box = PdfReader(str(letter.out["pdf"])).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)
    box = PdfReader(str(binary_report.out["pdf"])).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


def test_without_a_results_file_the_canonical_json_is_embedded(render_task):
    rendered = render_task("multiclass")
    embedded = PdfReader(str(rendered.out["pdf"])).attachments["results.json"][0]
    assert embedded == canonical_results(rendered.results)


def test_ready_verdict_renders_green_without_blockers():
    html = render_html(
        make_results("regression", verdict="READY", n_charts=0), spec_text="", attachments=[]
    )
    assert '<div class="banner ready">' in html
    assert "What blocks release" not in html and "NOT READY" not in html


def test_pickle_warning_on_page_one():
    html = render_html(
        make_results("binary", n_charts=0, pickle_loaded=True), spec_text="", attachments=[]
    )
    page_one = html.split('<nav class="toc"')[0]
    assert "a pickle file was loaded" in page_one
    html = render_html(make_results("binary", n_charts=0), spec_text="", attachments=[])
    assert "a pickle file was loaded" not in html


def test_verdict_banner_reads_without_colour():
    for status, icon in (("READY", "\u2714"), ("CONDITIONAL", "\u26a0"), ("NOT READY", "\u2716")):
        html = render_html(
            make_results("multiclass", verdict=status, n_charts=0), spec_text="", attachments=[]
        )
        banner = re.search(r'<div class="banner ([a-z-]+)">(.*?)</div>', html, flags=re.S)
        assert banner is not None
        assert icon in banner.group(2) and status in banner.group(2)


def test_unknown_chart_kind_and_malformed_chart_do_not_crash():
    results = make_results("binary", n_charts=2)
    results["findings"][0]["chart"] = {"kind": "sankey", "title": "A new kind of chart"}
    results["findings"][1]["chart"] = {"kind": "roc", "title": "Broken", "fpr": [0, 1]}
    results["findings"].append(
        {
            "id": "ethics.new_check",
            "check": "new_check",
            "category": "ethics",
            "status": "warn",
            "title": "A new check",
            "summary": "A check from a newer version.",
            "details": {"weird": [[1, 2]], "rate": 0.5},
        }
    )
    html = render_html(results, spec_text="", attachments=[])
    assert "This chart (sankey) is not supported" in html
    assert "This chart (roc) could not be drawn" in html
    # a new category gets a section of its own, generically
    assert 'id="sec-ethics"' in html and "A check from a newer version." in html


def test_partial_results_still_render():
    html = render_html(
        {"verdict": {"status": "NOT READY", "reason": "No criteria."}}, spec_text="", attachments=[]
    )
    assert "No criteria." in html and "declares no acceptance criteria" in html


def test_importing_the_report_package_is_cheap():
    code = (
        "import sys, auditor.report, auditor.report.verify; "
        "heavy = [m for m in ('weasyprint', 'matplotlib', 'jinja2', 'torch', 'pypdf') "
        "if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


VENDOR_NOTES = [
    "the vendor model reads the sensitive column(s) 'sex'",
    "labels only: no scores, so ROC, PR and calibration are not measured",
    "unpickled <b>from</b> vendor.pkl",
]


def _vendor_results(*, pickle_loaded: bool) -> dict:
    results = make_results("binary", n_charts=0, pickle_loaded=pickle_loaded)
    results["model"]["kind"] = "vendor:pickle" if pickle_loaded else "vendor:skops"
    results["model"]["info"] = {
        "format": "pickle" if pickle_loaded else "skops",
        "estimator": "sklearn.pipeline.Pipeline",
        "notes": list(VENDOR_NOTES),
    }
    return results


@pytest.mark.parametrize("pickle_loaded", [True, False])
def test_vendor_model_notes_in_the_appendix_and_on_page_one_after_a_pickle(pickle_loaded):
    html = render_html(_vendor_results(pickle_loaded=pickle_loaded), spec_text="", attachments=[])
    page_one, rest = html.split('<nav class="toc"', 1)
    appendix = rest[rest.index('id="appendix"') :]
    assert "The model and the environment" in appendix
    assert "sklearn.pipeline.Pipeline" in appendix
    for note in (
        "the vendor model reads the sensitive column(s) &#39;sex&#39;",
        "labels only: no scores",
        "unpickled &lt;b&gt;from&lt;/b&gt; vendor.pkl",
    ):
        assert note in appendix, note
        assert (note in page_one) is pickle_loaded, note


def test_no_id_is_defined_twice_in_the_page():
    """Charts share markers and hatches (matplotlib names them by content): each chart's
    ids carry its number, so the page never defines one twice and every reference resolves."""
    from collections import Counter

    from auditor.report.render import render_html
    from tests.report.fixtures import make_results

    html = render_html(make_results("binary", n_charts=40), spec_text="", attachments=[])
    ids = Counter(re.findall(r'\bid="([^"]+)"', html))
    assert ids and not [i for i, n in ids.items() if n > 1]
    refs = set(re.findall(r'(?:url\(#|href="#)([^")]+)', html))
    assert refs and refs <= set(ids)
