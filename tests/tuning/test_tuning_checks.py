"""The tuning checks: the search's findings, the gain on unseen rows with a paired interval.

Ground truth is planted in the predictions: the 'chosen' model's scores carry a stronger
signal than the 'untuned' one's (a real gain), or both carry the same signal with
independent small noise (no gain); the gain's interval must tell them apart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.checks import CheckContext
from auditor.checks.tuning import tuning_gain, tuning_search
from auditor.metrics import decisions
from auditor.report.charts import render_chart
from auditor.types import Dataset, Evaluation, SplitEval
from tests.checks.factory import make_spec
from tests.tuning.tuning_data import fabricated_outcome


def _split(y, scores):
    return SplitEval(y_true=y, scores=scores, y_pred=decisions("binary", scores, 0.5), groups=None)


def _case(*, gain: bool, n=3000, seed=0, kept=False, importance=None):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    signal = np.where(y == 1, 1.0, -1.0)
    common = rng.normal(0, 1.6, n)
    if gain:  # the chosen model sees the signal more clearly
        chosen = 1 / (1 + np.exp(-(signal + 0.6 * common)))
        untuned = 1 / (1 + np.exp(-(signal + common)))
    else:  # the same model up to a little independent noise
        chosen = 1 / (1 + np.exp(-(signal + common + rng.normal(0, 0.05, n))))
        untuned = 1 / (1 + np.exp(-(signal + common + rng.normal(0, 0.05, n))))
    dataset = Dataset(
        task="binary",
        target="y",
        frames={"test": pd.DataFrame(index=range(n))},
        X={"test": np.zeros((n, 1))},
        y={"train": y, "test": y},
        groups={},
        feature_columns=[],
        column_types={},
        feature_names=[],
        classes=[0, 1],
    )
    evaluation = Evaluation(
        task="binary",
        classes=[0, 1],
        splits={"test": _split(y, chosen)},
        threshold=0.5,
        primary_metric="roc_auc",
        tuning=fabricated_outcome(kept=kept, importance=importance),
        untuned={} if kept else {"test": _split(y, untuned)},
    )
    return dataset, evaluation


def _ctx(dataset, evaluation):
    return CheckContext(make_spec(evaluation={"bootstrap": 400}), dataset, evaluation)


def test_a_planted_gain_is_found_with_an_interval_above_zero():
    f = tuning_gain(_ctx(*_case(gain=True)))[0]
    assert f.id == "tuning.tuning_gain.roc_auc.test"
    assert f.status == "pass" and f.value > 0.02
    assert f.ci[0] > 0 and f.ci[0] <= f.value <= f.ci[1]
    assert "a real gain" in f.summary and "never read" in f.summary


def test_no_planted_gain_is_within_noise():
    f = tuning_gain(_ctx(*_case(gain=False)))[0]
    assert f.ci[0] <= 0 <= f.ci[1]
    assert f.status == "warn"
    assert "within noise" in f.summary and f.recommendation


def test_the_gain_interval_is_paired():
    """On the same resamples the difference's interval is far narrower than unpaired."""
    from auditor.metrics import Rows, bootstrap_rows

    dataset, evaluation = _case(gain=False)
    f = tuning_gain(_ctx(dataset, evaluation))[0]
    e = evaluation.untuned["test"]
    alone = bootstrap_rows(
        Rows("binary", e.y_true, e.scores, e.y_pred, n_classes=2),
        ["roc_auc"],
        resamples=400,
        confidence=0.95,
        seed=1,
    )["roc_auc"]
    assert (f.ci[1] - f.ci[0]) < 0.25 * (alone.ci[1] - alone.ci[0])


def test_a_search_that_kept_the_spec_gained_exactly_nothing():
    """The audited model is the spec's own configuration: a gain of 0, decided, not an error."""
    findings = tuning_gain(_ctx(*_case(gain=True, kept=True)))
    assert [(f.id, f.status, f.value, f.ci) for f in findings] == [
        ("tuning.tuning_gain.roc_auc.test", "warn", 0.0, (0.0, 0.0))
    ]
    assert "kept it" in findings[0].summary and "exactly 0" in findings[0].summary
    search, _ = tuning_search(_ctx(*_case(gain=True, kept=True)))
    assert "kept the spec's own configuration: roc_auc 0.740, against 0.780 for the best" in (
        search.summary
    )


def test_without_tuning_neither_check_reports():
    dataset, evaluation = _case(gain=True)
    evaluation.tuning, evaluation.untuned = None, {}
    ctx = _ctx(dataset, evaluation)
    assert tuning_search(ctx) == [] and tuning_gain(ctx) == []


def test_the_search_finding_names_counts_choice_and_draws_its_history():
    imp = {"training.learning_rate": 0.7, "model.architecture": 0.3}
    search, importance = tuning_search(_ctx(*_case(gain=True, importance=imp)))
    assert search.id == "tuning.search"
    assert "ran 4 trials (1 pruned, 1 failed)" in search.summary
    assert "chose trial 2 (architecture linear, learning_rate 0.02)" in search.summary
    rows = search.details["best_trials"]
    assert [r["trial"] for r in rows] == [2, 0, "spec's own"]
    chart = search.chart
    assert chart["states"] == ["complete", "pruned", "complete", "failed"]
    assert chart["best_so_far"] == [0.70, 0.70, 0.78, 0.78]
    drawn = render_chart(chart)
    assert drawn.note is None and "pruned trial" in drawn.svg and "failed trial" in drawn.svg
    assert importance.status == "pass" and "'training.learning_rate' explains 70%" in (
        importance.summary
    )
    assert render_chart(importance.chart).note is None


def test_importance_not_estimated_says_why():
    _, importance = tuning_search(_ctx(*_case(gain=True)))
    assert importance.status == "skipped" and "at least 4 are needed" in importance.summary


@pytest.mark.parametrize("rows", [250_000])
def test_a_tuned_run_keeps_row_by_row_draws_on_large_splits(rows):
    """The gain is paired with the model's estimates: no per-run draws for a tuned run."""
    dataset, evaluation = _case(gain=True, n=200)
    assert not _ctx(dataset, evaluation).cell_draws(rows)
    evaluation.untuned = {}
    assert _ctx(dataset, evaluation).cell_draws(rows)
