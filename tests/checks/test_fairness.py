"""Fairness: vectorised figures equal fairlearn's, intersections, multiclass and regression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    selection_rate,
    true_positive_rate,
)

from auditor.checks import CheckContext, run_checks
from auditor.checks.fairness import (
    FAIRNESS_METRICS,
    aggregate,
    fairness,
    group_rates,
    partition_codes,
    row_columns,
)
from auditor.types import Dataset, Evaluation, SplitEval
from tests.checks.factory import make_binary_case, make_spec


def _arrays(seed=0, n=3000):
    rng = np.random.default_rng(seed)
    sex = rng.choice(["f", "m"], n)
    age = rng.choice(["young", "mid", "old"], n, p=[0.3, 0.5, 0.2])
    y = rng.integers(0, 2, n)
    p = (rng.random(n) < np.where(sex == "m", 0.6, 0.45) * np.where(y == 1, 1.2, 0.8)).astype(int)
    return y, p, pd.DataFrame({"sex": sex, "age": age})


@pytest.mark.parametrize(
    "name, reference",
    [
        ("demographic_parity_difference", demographic_parity_difference),
        ("demographic_parity_ratio", demographic_parity_ratio),
        ("equalized_odds_difference", equalized_odds_difference),
        ("equalized_odds_ratio", equalized_odds_ratio),
    ],
)
def test_vectorised_point_equals_fairlearn(name, reference):
    y, p, groups = _arrays()
    codes, labels = partition_codes(groups, ["sex", "age"])
    cols = row_columns("binary", y, p, 1)
    spread = np.zeros((len(y), len(labels), cols.shape[1]))
    spread[np.arange(len(y)), codes] = cols
    rates = group_rates("binary", spread.sum(axis=0)[None])
    ours = aggregate(FAIRNESS_METRICS[name], rates)[0]
    theirs = reference(y, p, sensitive_features=np.asarray(labels, dtype=object)[codes])
    assert ours == pytest.approx(theirs, abs=1e-12)


def test_group_rates_equal_a_metric_frame():
    y, p, groups = _arrays(seed=1)
    codes, labels = partition_codes(groups, ["age"])
    cols = row_columns("binary", y, p, 1)
    sums = np.stack([cols[codes == g].sum(axis=0) for g in range(len(labels))])
    rates = group_rates("binary", sums)
    mf = MetricFrame(
        metrics={"sel": selection_rate, "tpr": true_positive_rate},
        y_true=y,
        y_pred=p,
        sensitive_features=groups["age"],
    )
    for i, label in enumerate(labels):
        assert rates["selection_rate"][i] == pytest.approx(mf.by_group.loc[label, "sel"])
        assert rates["tpr"][i] == pytest.approx(mf.by_group.loc[label, "tpr"])


def _case(task, seed=0, n=1500):
    rng = np.random.default_rng(seed)
    sex = rng.choice(["f", "m"], n)
    age = rng.choice(["a", "b"], n)
    if task == "multiclass":
        y = rng.integers(0, 3, n)
        proba = rng.dirichlet(np.ones(3), n)
        proba[np.arange(n), y] += 0.3 * (sex == "m")
        proba /= proba.sum(axis=1, keepdims=True)
        pred = proba.argmax(axis=1)
        classes = ["low", "mid", "urgent"]
    else:
        y = rng.normal(10, 2, n)
        proba = pred = y + rng.normal(0, np.where(sex == "m", 0.5, 2.0))
        classes = []
    groups = pd.DataFrame({"sex": sex, "age": age})
    splits = {"test": SplitEval(y_true=y, scores=proba, y_pred=pred, groups=groups)}
    ds = Dataset(
        task=task,
        target="y",
        frames={"test": groups},
        X={"test": np.zeros((n, 1))},
        y={"train": y, "test": y},
        groups={"test": groups},
        feature_columns=[],
        column_types={},
        feature_names=[],
        classes=classes,
        sensitive=["sex", "age"],
    )
    ev = Evaluation(
        task=task,
        classes=classes,
        splits=splits,
        primary_metric="f1_macro" if task == "multiclass" else "r2",
    )
    return ds, ev


def test_intersections_are_measured_and_named_with_ampersand():
    spec = make_spec("multiclass", sensitive=("sex", "age"))
    ds, ev = _case("multiclass")
    found = {f.id: f for f in fairness(CheckContext(spec, ds, ev))}
    f = found["fairness.accuracy_difference.test.sex&age"]
    assert f.sensitive == "sex&age" and len(f.details["groups"]) == 4
    assert {g["group"] for g in f.details["groups"]} == {"f & a", "f & b", "m & a", "m & b"}
    # objective.positive is not set, so the positive class is the least frequent class in
    # the training split (checks/groups.py positive_class): 'urgent' for these seeded data
    # (counts 527, 517, 456)
    counts = np.bincount(ds.y["train"].astype(int), minlength=len(ds.classes))
    assert (counts == counts.min()).sum() == 1, f"no single least frequent class: {counts}"
    assert f.details["positive_class"] == ds.classes[int(np.argmin(counts))]
    # accuracy parity is computed on every class: equals a hand count
    y, p = ev.splits["test"].y_true, ev.splits["test"].y_pred
    sex = ds.groups["test"]["sex"].to_numpy()
    acc = {s: float((y[sex == s] == p[sex == s]).mean()) for s in ("f", "m")}
    assert found["fairness.accuracy_difference.test.sex"].value == pytest.approx(
        abs(acc["m"] - acc["f"])
    )


def test_multiclass_positive_class_defaults_to_the_rarest_training_class():
    """Not the last, first or test-split class: the one least frequent in training."""
    spec = make_spec("multiclass", sensitive=("sex",))
    ds, ev = _case("multiclass")
    ds.y["train"] = np.array([0] * 50 + [1] * 20 + [2] * 80)  # 'mid' is the rarest
    f = fairness(CheckContext(spec, ds, ev))[0]
    assert f.details["positive_class"] == "mid"


def test_multiclass_positive_class_comes_from_the_spec_when_named():
    spec = make_spec("multiclass", sensitive=("sex",))
    spec.values["objective"]["positive"] = "mid"
    ds, ev = _case("multiclass")
    f = fairness(CheckContext(spec, ds, ev))[0]
    assert f.details["positive_class"] == "mid"


def test_regression_fairness_compares_mae_and_mean_prediction():
    spec = make_spec("regression", sensitive=("sex",))
    ds, ev = _case("regression")
    found = {f.metric: f for f in fairness(CheckContext(spec, ds, ev)) if f.sensitive == "sex"}
    assert set(found) == {"mae_difference", "mean_prediction_difference"}
    mae = found["mae_difference"]
    # planted: noise sd 2.0 for f vs 0.5 for m -> MAE gap about (2.0 - 0.5) * sqrt(2/pi) = 1.2
    assert mae.ci[0] <= 1.2 <= mae.ci[1] and mae.details["highest_group"] == "f"


def test_fairness_group_bars_carry_intervals_and_the_criterion_bound():
    spec = make_spec(
        acceptance=[{"metric": "worst_group_accuracy", "sensitive": "sex", "at_least": 0.7}]
    )
    found = {f.id: f for f in run_checks(spec, *make_binary_case(seed=1, gap=0.1))}
    chart = found["fairness.worst_group_accuracy.test.sex"].chart
    assert chart["kind"] == "group_bars" and chart["bound"] == 0.7
    for row in chart["rows"]:
        assert row["low"] <= row["value"] <= row["high"] and row["n"] > 0
    dp = found["fairness.demographic_parity_difference.test.sex"]
    assert dp.chart["metric"] == "selection_rate" and dp.chart["reference"] is not None
    assert set(dp.details["groups"][0]) == {
        "group",
        "n",
        "base_rate",
        "selection_rate",
        "accuracy",
        "tpr",
        "fpr",
        "fnr",
        "precision",
        "tnr",
        "npv",
        "fdr",
        "for",
        "positive_share",
        "inconclusive",
        "needed",
    }


def test_no_sensitive_features_is_skipped_not_an_error():
    spec = make_spec(sensitive=())
    ds, ev = make_binary_case(seed=0, sizes={"train": 300, "validation": 200, "test": 200})
    ds.sensitive = []
    found = fairness(CheckContext(spec, ds, ev))
    assert [f.status for f in found] == ["skipped"] and found[0].recommendation


# ------------------------------------------------------------------ interval coverage
def _gap_intervals(rates, n, draws, *, seed, resamples=300):
    """Percentile and shipped intervals of the demographic parity difference, per draw.

    Goes through the check's own path: per-row columns, resample weights, group rates,
    the across-group aggregate and ``aggregate_interval``.
    """
    from auditor.checks.fairness import aggregate_interval
    from auditor.metrics import percentile_interval, resample_apply

    metric = FAIRNESS_METRICS["demographic_parity_difference"]
    rates = np.asarray(rates)
    groups = np.repeat(np.arange(len(rates)), n)
    onehot = np.eye(len(rates))[groups]
    rng = np.random.default_rng(seed)
    out = []
    for draw in range(draws):
        pred = (rng.random(len(groups)) < rates[groups]).astype(int)
        cols = row_columns("binary", np.zeros_like(pred), pred, 1)
        point = group_rates("binary", onehot.T @ cols)
        value = float(aggregate(metric, point))
        spread = (onehot[:, :, None] * cols[:, None, :]).reshape(len(pred), -1)
        reps = resample_apply(
            len(pred),
            lambda w, c=spread: (w @ c).reshape(len(w), len(rates), -1),
            resamples=resamples,
            seed=draw,
        )
        replicates = aggregate(metric, group_rates("binary", reps))
        out.append(
            (
                percentile_interval(replicates, 0.95),
                aggregate_interval(metric, replicates, value, 0.95),
            )
        )
    return out


@pytest.mark.parametrize(
    "rates, n, percentile_at_most",
    [
        # eight groups, two of them 5 points off: max - min of noisy rates is biased upward
        ([0.45, 0.5, 0.5, 0.5, 0.55, 0.5, 0.5, 0.5], 150, 85),
        # no true gap: every replicate is > 0, so a percentile interval never covers 0
        ([0.5, 0.5], 200, 5),
        # a clear gap between two large groups: little bias, both intervals are fine
        ([0.4, 0.55], 300, 100),
    ],
    ids=["eight_groups_small_gap", "no_gap", "two_groups_clear_gap"],
)
def test_parity_gap_interval_covers_the_true_gap(rates, n, percentile_at_most):
    """In 100 seeded draws the shipped 95% interval covers the true gap >= 90 times."""
    true = max(rates) - min(rates)
    intervals = _gap_intervals(rates, n, 100, seed=7)
    shipped = sum(lo <= true <= hi for _, (lo, hi) in intervals)
    percentile = sum(lo <= true <= hi for (lo, hi), _ in intervals)
    assert shipped >= 90, (shipped, percentile)
    assert percentile <= percentile_at_most, percentile  # the bias the hull corrects
    assert all(lo >= 0 and hi <= 1 for _, (lo, hi) in intervals)
    # the hull contains the percentile interval, so it is never less conservative
    assert all(h[0] <= p[0] and h[1] >= p[1] for p, h in intervals)


def test_every_fairness_interval_contains_its_point_estimate():
    spec = make_spec(sensitive=("sex",))
    dataset, evaluation = make_binary_case(seed=11, gap=0.1)
    for f in fairness(CheckContext(spec, dataset, evaluation)):
        if f.ci is not None and f.value is not None:
            assert f.ci[0] <= f.value <= f.ci[1], (f.id, f.value, f.ci)


# ------------------------------------------------------------------ plain, specific summaries
def _small_cells_case(seed=5):
    """sex x age with two intersection cells far below min_group_size (30)."""
    rng = np.random.default_rng(seed)
    n = 1200
    sex = rng.choice(["f", "m"], n)
    age = rng.choice(["young", "mid", "old"], n)
    age[(sex == "f") & (age == "old")] = "mid"
    age[np.flatnonzero(sex == "f")[:12]] = "old"  # f & old: 12 rows
    age[(sex == "m") & (age == "young")] = "mid"
    age[np.flatnonzero(sex == "m")[:20]] = "young"  # m & young: 20 rows
    y = rng.integers(0, 2, n)
    p = (rng.random(n) < np.where(sex == "m", 0.65, 0.45)).astype(int)
    groups = pd.DataFrame({"sex": sex, "age": age})
    ds = Dataset(
        task="binary",
        target="approved",
        frames={},
        X={},
        y={"train": y, "test": y},
        groups={"test": groups},
        feature_columns=[],
        column_types={},
        feature_names=[],
        classes=[0, 1],
        sensitive=["sex", "age"],
    )
    ev = Evaluation(
        task="binary",
        classes=[0, 1],
        splits={"test": SplitEval(y_true=y, scores=p.astype(float), y_pred=p, groups=groups)},
    )
    return ds, ev


def test_intersection_findings_name_every_cell_too_small():
    spec = make_spec(sensitive=("sex", "age"))
    ds, ev = _small_cells_case()
    found = {f.id: f for f in fairness(CheckContext(spec, ds, ev))}
    for name, metric in FAIRNESS_METRICS.items():
        if "binary" not in metric.tasks or metric.to_reference:
            continue
        f = found[f"fairness.{name}.test.sex&age"]
        assert "2 groups have fewer than 30 rows" in f.summary, f.summary
        assert "f & old (12 rows, 18 more needed)" in f.summary
        assert "m & young (20 rows, 10 more needed)" in f.summary
        assert "The figure is over the groups large enough to judge" in f.summary
        # the judgeable groups decide: a warning needs no more rows; a pass that a small
        # group could overturn is inconclusive and asks for them
        if f.status == "warn":
            assert "more rows" not in f.recommendation and "Investigate" in f.recommendation
        elif f.status == "inconclusive":
            assert "18 more rows of f & old" in f.recommendation
        else:
            assert f.status == "pass" and f.recommendation == "", (name, f.status)
        # the headline is the figure over the groups that can be judged
        large = [g for g in f.details["groups"] if not g["inconclusive"]]
        assert f.details["adequate_value"] == f.value and len(large) == 4
        # the single features have no small group: no such sentence
        assert "fewer than" not in found[f"fairness.{name}.test.sex"].summary


def test_parity_over_large_enough_groups_is_stated_exactly():
    spec = make_spec(sensitive=("sex", "age"))
    ds, ev = _small_cells_case()
    found = {f.id: f for f in fairness(CheckContext(spec, ds, ev))}
    f = found["fairness.demographic_parity_difference.test.sex&age"]
    rates = [g["selection_rate"] for g in f.details["groups"] if not g["inconclusive"]]
    every = [g["selection_rate"] for g in f.details["groups"]]
    gap = max(rates) - min(rates)
    assert f.value == pytest.approx(gap) and f.details["adequate_value"] == f.value
    assert f.ci[0] <= f.value <= f.ci[1]
    assert f.summary.startswith("The model predicts") and f" {100 * gap:.0f} points " in f.summary
    wider = max(every) - min(every)
    assert f.details["value_with_small_groups"] == pytest.approx(wider)
    assert f"with the small groups it would read {100 * wider:.0f} points." in f.summary


def test_equalized_odds_summary_names_the_rate_and_the_groups():
    spec = make_spec(sensitive=("sex",))
    ds, ev = _small_cells_case()
    found = {f.id: f for f in fairness(CheckContext(spec, ds, ev))}
    f = found["fairness.equalized_odds_difference.test.sex"]
    rate = f.chart["metric"]
    assert rate in ("tpr", "fpr")
    rows = {r["group"]: r["value"] for r in f.chart["rows"]}
    assert f.value == pytest.approx(abs(rows["m"] - rows["f"]))  # the deciding rate's gap
    words = {"tpr": "true positive rate", "fpr": "false positive rate"}
    assert f"The {words[rate]} of m is" in f.summary and "than that of f" in f.summary
    other = "fpr" if rate == "tpr" else "tpr"
    assert "(95% CI" in f.summary and f"; the {words[other]} gap is" in f.summary
    ratio = found["fairness.equalized_odds_ratio.test.sex"]
    assert "times that of m" in ratio.summary and ratio.chart["metric"] in ("tpr", "fpr")
    other = "fpr" if ratio.chart["metric"] == "tpr" else "tpr"
    rows = {r["group"]: r[other] for r in ratio.details["groups"]}
    other_ratio = min(rows.values()) / max(rows.values())
    assert f"; the {words[other]} ratio is {other_ratio:.2f}." in ratio.summary
    assert other_ratio >= ratio.value


def test_fairness_summaries_are_distinct_and_grammatical():
    spec = make_spec(sensitive=("sex", "age"))
    ds, ev = _small_cells_case()
    summaries = [f.summary for f in fairness(CheckContext(spec, ds, ev))]
    assert len(set(summaries)) == len(summaries)
    assert not [s for s in summaries if " 1 points" in s or "by 1 points" in s]


def test_group_size_finding_lists_every_small_intersection_cell():
    from auditor.checks.data import group_size

    spec = make_spec(sensitive=("sex", "age"))
    ds, ev = _small_cells_case()
    found = {f.id: f for f in group_size(CheckContext(spec, ds, ev))}
    f = found["data.group_size.test.sex&age"]
    assert f.status == "warn" and f.value == 12
    assert "f & old (12 rows, 18 more needed), m & young (20 rows, 10 more needed)" in f.summary
    assert found["data.group_size.test.sex"].status == "pass"


def test_rates_of_a_split_with_one_combination_of_group_truth_and_prediction():
    """Every row in one group with the same truth and prediction: one weighted row for
    fairlearn (which once squeezed it to no dimensions and failed)."""
    from auditor.checks.fairness import _metric_frame

    ones = np.ones(25, dtype=int)
    frame = _metric_frame("binary", ones, ones, np.zeros(25, dtype=int), ["north"], 1)
    assert frame.by_group.loc["north", "n"] == 25
    assert frame.by_group.loc["north", "selection_rate"] == pytest.approx(1.0)
    assert frame.by_group.loc["north", "tpr"] == pytest.approx(1.0)
