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


@pytest.mark.parametrize(
    "value, shown",
    [
        (None, "\u2014"),
        (True, "yes"),
        (1200, "1,200"),
        (0.0, "0"),
        (0.7654, "0.765"),
        (12.0, "12"),
        (812.25, "812.2"),
        (19280.0, "19,280"),
        (0.00012, "0.00012"),
        (float("nan"), "n/a"),
        ("text", "text"),
        (-0.04, "-0.040"),
    ],
)
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
        ("Sam Ortega (Credit risk)", "2026-01-31", True),
    ]
    assert rows[1]["state"].startswith("EXPIRED")


def test_business_impact_from_findings_only_when_costs_declared():
    impact = business_impact(make_results("binary"))
    assert impact["unit"] == "EUR"
    assert [(r["split"], r["wrong"], r["cost"]) for r in impact["rows"]] == [
        ("test", "110", "19,280"),
        ("client holdout", "131", "23,840"),
    ]
    assert business_impact(make_results("multiclass")) is None


def test_lead_sentence_states_what_was_found():
    fs = [
        {"status": "pass", "summary": "All good."},
        {"status": "warn", "summary": "Income is often missing."},
    ]
    assert lead_sentence("data", fs).startswith("No data check failed, but 1 of 2 need")
    assert "Income is often missing." in lead_sentence("data", fs)
    fs.append({"status": "fail", "summary": "Leak."})
    assert lead_sentence("fit", fs) == "1 of 3 fit checks failed. Most important: Leak."
    assert lead_sentence("fairness", []) == "No fairness checks were run."
    # skipped checks are not "passed": the section says they were not measured, and why
    none = [{"status": "skipped", "summary": "No development data were declared."}] * 3
    assert lead_sentence("drift", none) == "Not measured: No development data were declared."
    some = [{"status": "pass", "summary": "Close."}, none[0]]
    assert (
        lead_sentence("drift", some) == "The one drift check passed (1 not measured here). Close."
    )


def test_details_tables_are_generic_and_bounded():
    tables, facts = details_tables(
        {
            "groups": [{"group": f"g{i}", "n": i, "inconclusive": i < 3} for i in range(50)],
            "columns": {"a": 0.5, "b": 0.25},
            "many": {f"k{i}": i for i in range(20)},
            "min_group_size": 30,
        }
    )
    assert tables[0]["columns"] == ["group", "n", "inconclusive"]
    assert len(tables[0]["rows"]) == 40 and tables[0]["more"] == 10
    assert tables[0]["rows"][0]["flagged"] and not tables[0]["rows"][5]["flagged"]
    assert len(tables[1]["rows"]) == 20
    assert {"cells": ["columns", "a 0.500; b 0.250"], "flagged": False} in facts
    assert {"cells": ["min group size", "30"], "flagged": False} in facts


def test_a_section_with_no_findings_is_shown_only_if_every_audit_has_it():
    results = make_results("binary", n_charts=0)
    results["findings"] = [
        f for f in results["findings"] if f["category"] not in ("drift", "tuning")
    ]
    ctx = build_context(results, draw_chart=lambda chart, **kw: None, spec_text="", attachments=[])
    assert [s["key"] for s in ctx["sections"]] == ["data", "fit", "performance", "fairness"]


def test_context_sections_follow_categories_and_page_size_is_whitelisted():
    results = make_results("binary", n_charts=0)
    results["spec"]["report"]["page_size"] = "A4; } body { display: none"
    ctx = build_context(results, draw_chart=lambda chart, **kw: None, spec_text="", attachments=[])
    keys = [s["key"] for s in ctx["sections"]]
    assert keys == ["data", "drift", "fit", "performance", "fairness", "tuning"]
    assert ctx["page_size"] == "A4"
    fair = ctx["sections"][keys.index("fairness")]
    tables = {t["feature"]: t for t in fair["group_tables"]}
    assert "sex&age_band" in tables and tables["sex&age_band"]["title"].startswith(
        "Intersections of sex & age_band"
    )
    # one groups table per feature, not one per metric: the blocks point to it
    assert all(t["title"] != "groups" for v in fair["findings"] for t in v["tables"])
    assert any(v["tables_above"] for v in fair["blocks"])


def test_a_finding_a_criterion_is_about_shows_the_criterions_status_and_bound():
    results = make_results("binary", n_charts=0)
    crit = next(c for c in results["criteria"] if c["status"] == "fail")
    finding = next(f for f in results["findings"] if f["category"] == "fairness")
    crit["finding_id"] = finding["id"]
    finding["status"] = "warn"  # the diagnostic's own reading, milder than the criterion's
    ctx = build_context(results, draw_chart=lambda chart, **kw: None, spec_text="", attachments=[])
    section = next(s for s in ctx["sections"] if s["key"] == finding["category"])
    view = next(v for v in section["findings"] if v["id"] == finding["id"])
    assert view["status"]["word"] == "FAIL" and view["criterion"] == crit["index"] + 1
    row = next(r for r in section["matrix"]["rows"] if crit["index"] + 1 in r["criteria"])
    assert any(c and c["status"]["word"] == "FAIL" for c in row["cells"])
    assert not section["lead"].startswith("No ")  # the section says something failed


def test_check_matrix_has_a_row_per_check_and_a_column_per_split():
    from auditor.report.context import check_matrix, finding_view, row_label

    findings = [
        {
            "id": f"data.missing_rate.{s}",
            "split": s,
            "status": st,
            "value": v,
            "title": f"Missing values in {s}",
            "threshold": 0.2,
            "direction": "at_most",
        }
        for s, st, v in (("test", "warn", 0.25), ("train", "pass", 0.1))
    ]
    findings.append(
        {
            "id": "data.train_test_overlap.test",
            "split": "test",
            "status": "pass",
            "value": 0,
            "title": "Rows shared by train and test",
        }
    )
    findings.append(
        {
            "id": "data.summary",
            "split": None,
            "status": "pass",
            "value": 7200,
            "title": "Rows and columns",
        }
    )
    views = [finding_view(f, None) | {"in_table": True} for f in findings]
    m = check_matrix(views, findings)
    assert m["splits"] == ["training", "test"]
    labels = [r["label"] for r in m["rows"]]
    assert labels == ["Missing values", "Rows shared by train and each split", "Rows and columns"]
    missing = m["rows"][0]
    assert [c["value"] for c in missing["cells"]] == ["0.100", "0.250"]
    assert [c["status"]["word"] for c in missing["cells"]] == ["PASS", "WARN"]
    assert missing["bound"] == "\u2264 0.200"
    assert m["rows"][1]["cells"][0] is None  # no overlap check on the training split
    assert m["rows"][2]["span"]["value"] == "7,200"
    assert row_label("Accuracy on the holdout split", "holdout") == "Accuracy"


def test_a_text_metric_per_segment_is_one_row_with_a_column_per_segment():
    from auditor.report.context import check_matrix, finding_view

    def text(split, value, group=None):
        seg = f".channel.{group}" if group else ""
        return {
            "id": f"text.groundedness.pass_rate.{split}{seg}",
            "check": "text",
            "category": "text",
            "split": split,
            "sensitive": "channel" if group else None,
            "status": "fail" if value < 0.7 else "pass",
            "value": value,
            "title": f"Groundedness: share at least 4 on {split}"
            + (f" (channel {group})" if group else ""),
            "details": {"group": group, "pass_at": 4.0},
        }

    one = [text("q4", 0.8), text("q4", 0.66, "app"), text("q4", 0.89, "chat")]
    views = [finding_view(f, None) | {"in_table": True} for f in one]
    m = check_matrix(views, one)
    assert m["splits"] == ["q4", "channel: app", "channel: chat"]
    assert [r["label"] for r in m["rows"]] == ["Groundedness: share at least 4"]
    assert [c["value"] for c in m["rows"][0]["cells"]] == ["0.800", "0.660", "0.890"]
    assert m["rows"][0]["cells"][1]["status"]["word"] == "FAIL"
    # two audit files: each segment column names its split too, and a segment missing
    # from one split leaves that cell empty
    two = [*one, text("q3", 0.7), text("q3", 0.75, "app")]
    views = [finding_view(f, None) | {"in_table": True} for f in two]
    m = check_matrix(views, two)
    assert m["splits"] == ["q3", "q3, channel: app", "q4", "q4, channel: app", "q4, channel: chat"]
    assert len(m["rows"]) == 1
    assert [c and c["value"] for c in m["rows"][0]["cells"]] == [
        "0.700",
        "0.750",
        "0.800",
        "0.660",
        "0.890",
    ]


def test_appendix_sums_up_every_unshown_warning_once_per_check():
    from auditor.report.context import row_key

    results = make_results("binary", n_charts=0)
    base = next(f for f in results["findings"] if f["category"] == "fairness")
    for split in ("test", "holdout"):  # one fairness diagnostic warning on two splits
        results["findings"].append(
            base
            | {
                "id": f"fairness.demo_ratio.{split}.region",
                "split": split,
                "status": "warn",
                "advisory": True,
                "sensitive": "region",
                "title": f"Demo ratio across region on {split}",
                "summary": f"Region ratio is low on {split}.",
            }
        )
    ctx = build_context(results, draw_chart=lambda chart, **kw: None, spec_text="", attachments=[])
    details = ctx["appendix"]["details"]
    region = [d for d in details if d["title"] == "Demo ratio across region"]
    assert len(region) == 1
    assert region[0]["splits"] == ["test", "client holdout"]
    assert region[0]["summary"] == "Region ratio is low on test."
    unshown = [
        v
        for s in ctx["sections"]
        for v in s["findings"]
        if not v["block"] and v["in_table"] and v["status"]["word"] != "PASS"
    ]
    assert unshown, "the fixture has warnings that are only listed"
    assert len(details) == len(
        {(s["key"], v["row_key"]) for s in ctx["sections"] for v in s["findings"] if v in unshown}
    )
    by_id = {f["id"]: f for f in results["findings"]}
    for view in unshown:
        f = by_id[view["id"]]
        assert view["row_key"] == row_key(f)
        assert any(
            d["title"] in view["title"] or view["title"].startswith(d["title"]) for d in details
        ), view["title"]
