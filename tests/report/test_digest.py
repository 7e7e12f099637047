"""Which findings a section shows in full, and which charts it draws."""

from __future__ import annotations

from auditor.report.digest import chart_signature, plan_section


def _f(fid, status="pass", check="c", chart=None, split="test", **kw):
    return {"id": fid, "status": status, "check": check, "chart": chart, "split": split,
            "category": kw.pop("category", "fairness"), "title": fid, **kw}


def _chart(value, title="t"):
    return {"kind": "bars", "title": title, "labels": ["a"], "values": [value]}


def test_important_first_and_first_of_each_kind_in_full():
    findings = [
        _f("pass.train", chart=_chart(1), split="train"),
        _f("pass.test", chart=_chart(2)),
        _f("warn", status="warn", chart=_chart(3)),
        _f("fail", status="fail", chart=_chart(4)),
        _f("linked", chart=_chart(5)),
        _f("inconclusive", status="inconclusive"),
    ]
    plans = plan_section(findings, linked={"linked"})
    assert [p.finding["id"] for p in plans] == ["linked", "fail", "inconclusive", "warn",
                                                 "pass.test", "pass.train"]
    shown = {p.finding["id"]: p.block for p in plans}
    assert shown == {"linked": True, "fail": True, "inconclusive": True, "warn": True,
                     "pass.test": False, "pass.train": False}


def test_passing_findings_of_a_new_kind_are_shown_once_preferring_test():
    findings = [_f("roc.train", check="curves", chart={"kind": "roc", "auc": 0.7},
                   split="train"),
                _f("roc.test", check="curves", chart={"kind": "roc", "auc": 0.8}),
                _f("roc.holdout", check="curves", chart={"kind": "roc", "auc": 0.9},
                   split="holdout")]
    plans = plan_section(findings, linked=set())
    assert [(p.finding["id"], p.block, p.chart) for p in plans] == [
        ("roc.test", True, "draw"), ("roc.holdout", False, None), ("roc.train", False, None)]


def test_identical_charts_are_drawn_once_and_charts_are_capped():
    same = [_f(f"w{i}", status="warn", chart=_chart(1, title=f"title {i}")) for i in range(3)]
    plans = plan_section(same, linked=set())
    assert [p.chart for p in plans] == ["draw", "same", "same"]
    assert plans[1].same_as == "w0"
    assert chart_signature(_chart(1, "a")) == chart_signature(_chart(1, "b"))
    many = [_f(f"w{i}", status="warn", chart=_chart(i)) for i in range(20)]
    plans = plan_section(many, linked=set(), max_charts=5)
    assert [p.chart for p in plans].count("draw") == 5
    assert [p.chart for p in plans].count("omitted") == 15
    assert all(p.block for p in plans)


def test_per_metric_findings_in_the_metrics_table_are_not_repeated():
    metrics = {"test": {"f1": {"value": 0.8}}}
    findings = [_f("f1.test", category="performance", metric="f1"),
                _f("f1.test.linked", category="performance", metric="f1"),
                _f("auc.test", category="performance", metric="roc_auc")]
    plans = {p.finding["id"]: p for p in plan_section(findings, linked={"f1.test.linked"},
                                                        metrics=metrics)}
    assert not plans["f1.test"].in_table and not plans["f1.test"].block
    assert plans["f1.test.linked"].in_table and plans["f1.test.linked"].block
    assert plans["auc.test"].in_table
