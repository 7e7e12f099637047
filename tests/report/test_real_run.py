"""The report of a real run: the bundled loan example, trained and audited end to end.

The fixture reports (conftest.py) prove the report's mechanics on hand-made results; this
module proves them on what the pipeline actually writes: one real ``auditor run`` of a
copy of specs/loan-approval.yaml (fewer bootstrap resamples, learning curve on), shared by
every test here.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests.report.conftest import pdf_text

# one real training run and audit (about 25 s on 2 busy cores): `make test` skips it, run it
# with `pytest -m slow tests/report/test_real_run.py`
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
LOAN_SPEC = REPO / "specs" / "loan-approval.yaml"
# a product manager's read, evidence included: the loan example renders in 11 pages (37
# before the report was tightened, 12 while passing criteria were blocks of their own);
# the bound leaves room for small layout shifts, and the report issue's target is 12
PAGE_RANGE = (9, 12)


@pytest.fixture(scope="module")
def loan_run(tmp_path_factory):
    from auditor.cli import main

    tmp = tmp_path_factory.mktemp("loan")
    spec = yaml.safe_load(LOAN_SPEC.read_text(encoding="utf-8"))
    spec["evaluation"]["bootstrap"] = 200
    spec["evaluation"]["learning_curve"] = {"enabled": True}
    data_dir = LOAN_SPEC.parent / "data" / "loan-approval"
    if data_dir.is_dir():  # reuse the generated example data when present (same seed)
        shutil.copytree(data_dir, tmp / "data" / "loan-approval")
    spec_path = tmp / "loan-approval.yaml"
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    out = tmp / "run"
    code = main(["run", str(spec_path), "--out", str(out), "--quiet"])
    text, pages = pdf_text(out / "report.pdf")
    return {
        "code": code,
        "out": out,
        "text": text,
        "pages": pages,
        "results": json.loads((out / "results.json").read_text(encoding="utf-8")),
        "html": (out / "report.html").read_text(encoding="utf-8"),
    }


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_real_loan_report_is_short(loan_run):
    assert loan_run["code"] == 1  # NOT READY: the planted bias against women
    low, high = PAGE_RANGE
    assert low <= loan_run["pages"] <= high, loan_run["pages"]
    assert (loan_run["out"] / "report.pdf").stat().st_size < 2_000_000


def test_real_loan_verdict_and_every_criterion_in_the_pdf(loan_run):
    results, text = loan_run["results"], loan_run["text"]
    assert results["verdict"]["status"] == "NOT READY"
    assert "NOT READY" in text
    assert _norm(results["verdict"]["reason"])[:60] in text
    assert results["criteria"]
    for c in results["criteria"]:
        assert _norm(c["description"]) in text, c["description"]
    # the failing fairness criterion reads FAIL in its section too, not only on page one
    html = loan_run["html"]
    fairness = html[html.index('id="sec-fairness"') : html.index('id="appendix"')]
    row = fairness[fairness.index("(criterion 4)") :]
    assert 'class="status st-fail"' in row[: row.index("</tr>")]
    assert any(
        f["check"] == "learning_curve" or f["id"] == "fit.learning_curve"
        for f in results["findings"]
    )
    assert 'data-kind="learning_curve"' in loan_run["html"]


def test_real_loan_attachments_are_the_run_files(loan_run):
    from pypdf import PdfReader

    out = loan_run["out"]
    files = PdfReader(str(out / "report.pdf")).attachments
    assert files["results.json"][0] == (out / "results.json").read_bytes()
    assert files["spec.yaml"][0] == (out / "spec.resolved.yaml").read_bytes()


def test_real_loan_html_and_pdf_show_the_same_criteria_numbers(loan_run):
    from auditor.report.context import criteria_rows, run_date

    rows = criteria_rows(loan_run["results"]["criteria"], run_date(loan_run["results"]))
    html = _norm(re.sub(r"<[^>]+>", " ", loan_run["html"]))
    pdf = loan_run["text"]
    for row in rows:
        for shown in (row["value"], row["ci"], row["bound"], row["margin"], row["status"]["word"]):
            assert shown in html, (row["description"], shown)
            assert shown in pdf, (row["description"], shown)


def test_real_loan_fairness_chart_draws_the_criterion_bound_where_the_groups_are(loan_run):
    """The planted bias: the demographic parity criterion (at most 0.10 across sex) is drawn
    0.10 below the men's selection rate, and the women's bar is marked beyond it."""
    results, html = loan_run["results"], loan_run["html"]
    crit = next(
        c
        for c in results["criteria"]
        if c["criterion"]["metric"] == "demographic_parity_difference"
    )
    finding = next(f for f in results["findings"] if f["id"] == crit["finding_id"])
    assert "bound_line" not in finding["chart"]  # results.json is as the checks wrote it
    rows = {r["group"]: r["value"] for r in finding["chart"]["rows"]}
    at = max(rows.values()) - crit["bound"]
    assert rows["female"] < at < rows["male"]  # the planted gap breaks the bound
    label = (
        f"criterion {crit['index'] + 1}: more than 0.10 below the highest group (line at {at:.3g})"
    )
    fairness = html[html.index('id="sec-fairness"') : html.index('id="appendix"')]
    assert label in fairness
    assert "beyond the line: breaks the bound" in fairness
