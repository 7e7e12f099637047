"""Charts: one per kind, titles that state the finding, bounded size whatever the data."""

from __future__ import annotations

import numpy as np
import pytest

from auditor.report import charts
from auditor.report.charts import CHARTS, render_chart
from auditor.types import CHART_KINDS
from tests.report.fixtures import make_results


def _examples() -> dict[str, dict]:
    found: dict[str, dict] = {}
    for task in ("binary", "regression"):
        for f in make_results(task, n_charts=40)["findings"]:
            if f.get("chart"):
                found.setdefault(f["chart"]["kind"], f["chart"])
    return found


EXAMPLES = _examples()


def test_registry_covers_exactly_the_chart_contract():
    assert set(CHARTS) == set(CHART_KINDS)
    assert charts.get_chart_names() == sorted(CHART_KINDS)
    assert set(EXAMPLES) == set(CHART_KINDS)


@pytest.mark.parametrize("kind", sorted(CHART_KINDS))
def test_each_kind_draws_an_inline_svg_with_its_title(kind):
    chart = dict(EXAMPLES[kind], title="Stated & <escaped>")
    drawn = render_chart(chart)
    assert drawn is not None and drawn.note is None
    svg = drawn.svg
    assert svg.startswith("<svg") and "<?xml" not in svg and "<!DOCTYPE" not in svg
    assert "<style" not in svg and "<image" not in svg and "<script" not in svg
    assert "Stated &amp; &lt;escaped&gt;" in svg
    assert 'class="chart-svg"' in svg and "viewBox" in svg
    assert len(svg) < 60_000


def test_same_chart_gives_the_same_svg():
    chart = EXAMPLES["loss_curve"]
    assert render_chart(chart).svg == render_chart(chart).svg


def test_unknown_kind_is_a_note_not_an_error():
    drawn = render_chart({"kind": "sankey", "title": "x"})
    assert drawn.svg is None
    assert drawn.note == charts.UNKNOWN_KIND.format(kind="sankey")
    assert render_chart(None) is None
    bad = render_chart({"kind": "histogram", "title": "x", "edges": [0, 1], "counts": [1, 2]})
    assert bad.svg is None and "could not be drawn" in bad.note


def test_dollar_signs_are_text_not_mathtext():
    drawn = render_chart(
        {
            "kind": "bars",
            "title": "Income $50k-$100k is rare",
            "labels": ["$50k", "$100k"],
            "values": [0.2, 0.8],
            "xlabel": "$",
        }
    )
    assert drawn.svg is not None and "Income $50k-$100k is rare" in drawn.svg


@pytest.mark.parametrize("n", [200_000])
def test_charts_summarise_large_data(n):
    rng = np.random.default_rng(0)
    x = np.sort(rng.random(n))
    big = [
        {"kind": "roc", "title": "big", "fpr": x.tolist(), "tpr": np.sqrt(x).tolist(), "auc": 0.8},
        {
            "kind": "residuals",
            "title": "big",
            "predicted": rng.random(n).tolist(),
            "residual": rng.normal(size=n).tolist(),
        },
        {
            "kind": "loss_curve",
            "title": "big",
            "epochs": list(range(1, 5001)),
            "train": rng.random(5000).tolist(),
            "validation": rng.random(5000).tolist(),
            "best_epoch": 10,
            "rising_from": 11,
        },
        {
            "kind": "histogram",
            "title": "big",
            "edges": np.linspace(0, 1, 5001).tolist(),
            "counts": rng.integers(0, 9, 5000).tolist(),
            "xlabel": "x",
        },
        {
            "kind": "group_bars",
            "title": "big",
            "metric": "accuracy",
            "bound": 0.7,
            "reference": None,
            "rows": [
                {
                    "group": f"g{i}",
                    "value": 0.8,
                    "low": 0.7,
                    "high": 0.9,
                    "n": i,
                    "inconclusive": i < 30,
                }
                for i in range(500)
            ],
        },
    ]
    for chart in big:
        drawn = render_chart(chart)
        assert drawn.svg is not None, drawn.note
        assert len(drawn.svg) < 150_000, (chart["kind"], len(drawn.svg))
