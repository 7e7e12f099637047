"""Which findings a section shows in full, and which charts it draws."""

from __future__ import annotations

from auditor.report.digest import chart_signature, plan_section


def _f(fid, status="pass", check="c", chart=None, split="test", **kw):
    return {
        "id": fid,
        "status": status,
        "check": check,
        "chart": chart,
        "split": split,
        "category": kw.pop("category", "fairness"),
        "title": fid,
        **kw,
    }


def _chart(value, title="t"):
    return {"kind": "bars", "title": title, "labels": ["a"], "values": [value]}


def test_important_first_and_first_of_each_kind_in_full():
    findings = [
        _f("pass.train", chart=_chart(1), split="train", category="data"),
        _f("pass.test", chart=_chart(2), category="data"),
        _f("warn", status="warn", chart=_chart(3), category="data"),
        _f("fail", status="fail", chart=_chart(4), category="data"),
        _f("linked", chart=_chart(5), category="data"),
        _f("inconclusive", status="inconclusive", category="data"),
    ]
    plans = plan_section(findings, linked={"linked"})
    assert [p.finding["id"] for p in plans] == [
        "linked",
        "fail",
        "inconclusive",
        "warn",
        "pass.test",
        "pass.train",
    ]
    shown = {p.finding["id"]: p.block for p in plans}
    assert shown == {
        "linked": True,
        "fail": True,
        "inconclusive": True,
        "warn": True,
        "pass.test": False,
        "pass.train": False,
    }


def test_passing_findings_of_a_new_kind_are_shown_once_preferring_test():
    findings = [
        _f("roc.train", check="curves", chart={"kind": "roc", "auc": 0.7}, split="train"),
        _f("roc.test", check="curves", chart={"kind": "roc", "auc": 0.8}),
        _f("roc.holdout", check="curves", chart={"kind": "roc", "auc": 0.9}, split="holdout"),
    ]
    plans = plan_section(findings, linked=set())
    assert [(p.finding["id"], p.block, p.chart) for p in plans] == [
        ("roc.test", True, "draw"),
        ("roc.holdout", False, None),
        ("roc.train", False, None),
    ]


def test_identical_charts_are_drawn_once_and_charts_are_capped():
    same = [
        _f(f"w{i}", status="fail", chart=_chart(1, title=f"title {i}"), category="data")
        for i in range(3)
    ]
    plans = plan_section(same, linked=set())
    assert [p.chart for p in plans] == ["draw", "same", "same"]
    assert plans[1].same_as == "w0"
    assert chart_signature(_chart(1, "a")) == chart_signature(_chart(1, "b"))
    # a warning whose chart is already drawn is left to the table, not repeated
    warned = [
        _f("f", status="fail", chart=_chart(1), category="data"),
        _f("w", status="warn", chart=_chart(1, title="other"), category="data"),
    ]
    assert [(p.block, p.chart) for p in plan_section(warned, linked=set())] == [
        (True, "draw"),
        (False, None),
    ]
    many = [_f(f"w{i}", status="warn", chart=_chart(i), category="data") for i in range(20)]
    plans = plan_section(many, linked=set(), max_charts=5)
    assert [p.chart for p in plans].count("draw") == 5
    assert [p.chart for p in plans].count("omitted") == 15
    assert all(p.block for p in plans)


def test_per_metric_findings_in_the_metrics_table_are_not_repeated():
    metrics = {"test": {"f1": {"value": 0.8}}}
    findings = [
        _f("f1.test", category="performance", metric="f1"),
        _f("f1.test.linked", category="performance", metric="f1"),
        _f("auc.test", category="performance", metric="roc_auc"),
    ]
    plans = {
        p.finding["id"]: p
        for p in plan_section(findings, linked={"f1.test.linked"}, metrics=metrics)
    }
    assert not plans["f1.test"].in_table and not plans["f1.test"].block
    assert plans["f1.test.linked"].in_table and plans["f1.test.linked"].block
    assert plans["auc.test"].in_table


def test_fairness_shows_in_full_only_what_the_verdict_depends_on_and_failures():
    findings = [
        _f("dpd.sex", status="warn", chart=_chart(1)),
        _f("dpr.sex", status="warn", chart=_chart(2)),
        _f("eod.sex", status="pass", chart=_chart(3)),
        _f("dpd.age", status="inconclusive", chart=_chart(4)),
        _f("dpr.age", status="inconclusive", chart=_chart(4, title="same bars")),
        _f("crit", status="pass", chart=_chart(5)),
    ]
    plans = {p.finding["id"]: p for p in plan_section(findings, linked={"crit"})}
    assert {k for k, p in plans.items() if p.block} == {"crit", "dpd.age"}
    assert plans["dpr.age"].chart is None and plans["dpr.age"].in_table
    assert all(p.in_table for p in plans.values())
    # with nothing important, the most important finding is still shown with its chart
    quiet = plan_section(
        [_f("a", status="warn", chart=_chart(1)), _f("b", status="pass", chart=_chart(2))],
        linked=set(),
    )
    assert [(p.finding["id"], p.block, p.chart) for p in quiet] == [
        ("a", True, "draw"),
        ("b", False, None),
    ]


def test_curves_are_drawn_for_the_test_split_and_the_holdout_only():
    findings = [
        _f(
            f"roc.{s}",
            check="curves",
            chart={"kind": "roc", "auc": i},
            split=s,
            category="performance",
        )
        for i, s in enumerate(["train", "validation", "test", "holdout"])
    ]
    plans = {p.finding["id"]: p for p in plan_section(findings, linked=set())}
    assert {k for k, p in plans.items() if p.chart == "draw"} == {"roc.test", "roc.holdout"}
    assert plans["roc.test"].compact and not plans["roc.train"].block


def test_a_criterions_own_bound_line_gets_its_own_chart_other_lines_do_not():
    def bars(line_at):
        return {**_chart(4), "bound_line": {"at": line_at, "beyond": "below"}}

    findings = [
        _f("dpd.age", status="inconclusive", chart=bars(0.5)),
        _f("dpr.age", status="inconclusive", chart=bars(0.6)),
        _f("crit", status="fail", chart=bars(0.7)),
        _f("crit.same", status="fail", chart=bars(0.5)),
    ]
    plans = {p.finding["id"]: p for p in plan_section(findings, linked={"crit", "crit.same"})}
    # the verdict's findings: each drawn with its own line, or pointed at an identical chart
    assert plans["crit"].chart == "draw" and plans["crit.same"].chart == "draw"
    # the same figures under another diagnostic limit: left to the section's table
    assert not plans["dpd.age"].block and not plans["dpr.age"].block
    assert chart_signature(bars(0.5), with_bound=False) == chart_signature(
        bars(0.6), with_bound=False
    )
    again = plan_section(
        [
            _f("a", status="fail", chart=bars(0.5)),
            _f("b", status="fail", chart=bars(0.5), title="b"),
        ],
        linked={"a", "b"},
    )
    assert [p.chart for p in again] == ["draw", "same"]
