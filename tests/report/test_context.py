"""What the templates display: formatting and plain-language assembly."""

from __future__ import annotations

import pytest

from auditor.report.context import (
    build_context,
    business_impact,
    criteria_rows,
    details_tables,
    fmt,
    fmt_ci,
    fmt_signed,
    lead_sentence,
    waiver_rows,
)
from tests.report.fixtures import make_results


@pytest.mark.parametrize("value, shown", [
    (None, "\u2014"), (True, "yes"), (1200, "1,200"), (0.0, "0"), (0.7654, "0.765"),
    (12.0, "12"), (812.25, "812.2"), (19280.0, "19,280"), (0.00012, "0.00012"),
    (float("nan"), "n/a"), ("text", "text"), (-0.04, "-0.040"),
])
def test_fmt(value, shown):
    assert fmt(value) == shown


def test_fmt_ci_and_signed():
    assert fmt_ci([0.7371, 0.7929]) == "0.737 \u2013 0.793"
    assert fmt_ci(None) == "\u2014" and fmt_ci([None, 1.0]) == "\u2014"
    assert fmt_signed(0.015) == "+0.015" and fmt_signed(-0.04) == "-0.040"


def test_criteria_rows_mark_waived_inconclusive_and_expired():
    results = make_results("binary")
    rows = criteria_rows(results["criteria"], "2026-11-21")
    words = [r["status"]["word"] for r in rows]
    assert words == ["PASS", "INCONCLUSIVE", "FAIL", "PASS", "WAIVED", "FAIL", "PASS"]
    assert rows[2]["bound"] == "\u2264 0.100" and rows[2]["margin_bad"]
    assert rows[5]["waiver_expired"] and not rows[4]["waiver_expired"]
    assert rows[1]["confidence"]


def test_waiver_rows_say_who_why_until_and_flag_expired():
    results = make_results("binary")
    rows = waiver_rows(results["criteria"], "2026-11-21")
    assert [(r["approver"], r["expires"], r["expired"]) for r in rows] == [
        ("Dana Whitfield (Head of Product)", "2027-03-31", False),
        ("Sam Ortega (Credit risk)", "2026-01-31", True)]
    assert rows[1]["state"].startswith("EXPIRED")


def test_business_impact_from_findings_only_when_costs_declared():
    impact = business_impact(make_results("binary"))
    assert impact["unit"] == "EUR"
    assert [(r["split"], r["wrong"], r["cost"]) for r in impact["rows"]] == [
        ("test", "110", "19,280"), ("client holdout", "131", "23,840")]
    assert business_impact(make_results("multiclass")) is None


def test_lead_sentence_states_what_was_found():
    fs = [{"status": "pass", "summary": "All good."},
          {"status": "warn", "summary": "Income is often missing."}]
    assert lead_sentence("data", fs).startswith("No data check failed, but 1 of 2 need")
    assert "Income is often missing." in lead_sentence("data", fs)
    fs.append({"status": "fail", "summary": "Leak."})
    assert lead_sentence("fit", fs) == "1 of 3 fit checks failed. Most important: Leak."
    assert lead_sentence("fairness", []) == "No fairness checks were run."


def test_details_tables_are_generic_and_bounded():
    tables, facts = details_tables({
        "groups": [{"group": f"g{i}", "n": i, "inconclusive": i < 3} for i in range(50)],
        "columns": {"a": 0.5, "b": 0.25},
        "many": {f"k{i}": i for i in range(20)},
        "min_group_size": 30})
    assert tables[0]["columns"] == ["group", "n", "inconclusive"]
    assert len(tables[0]["rows"]) == 40 and tables[0]["more"] == 10
    assert tables[0]["rows"][0]["flagged"] and not tables[0]["rows"][5]["flagged"]
    assert len(tables[1]["rows"]) == 20
    assert {"cells": ["columns", "a 0.500; b 0.250"], "flagged": False} in facts
    assert {"cells": ["min group size", "30"], "flagged": False} in facts


def test_context_sections_follow_categories_and_page_size_is_whitelisted():
    results = make_results("binary", n_charts=0)
    results["spec"]["report"]["page_size"] = "A4; } body { display: none"
    ctx = build_context(results, draw_chart=lambda chart: None, spec_text="", attachments=[])
    assert [s["key"] for s in ctx["sections"]] == ["data", "fit", "performance", "fairness"]
    assert ctx["page_size"] == "A4"
    fair = ctx["sections"][3]
    assert [f["sensitive"] for f in fair["intersections"]] == ["sex&age_band"]
