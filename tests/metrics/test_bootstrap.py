"""The vectorised bootstrap against a naive resampling loop, and its coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from auditor.metrics import (
    Rows,
    bootstrap_metrics,
    draw_weights,
    metric_names,
    percentile_interval,
    resample_apply,
)
from auditor.metrics.weighted import _auc_ap_exact, _auc_ap_grouped, _ranking


def test_weights_have_poisson_mean_and_variance():
    w = draw_weights(np.random.default_rng(0), 200, 5000)
    assert w.shape == (200, 5000) and w.dtype == np.float32
    assert w.mean() == pytest.approx(1.0, abs=0.005)
    assert w.var() == pytest.approx(1.0, abs=0.01)
    assert set(np.unique(w)) <= {0, 1, 2, 3, 4, 5}


def test_same_seed_same_intervals_and_chunking_is_bounded():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    p = rng.random(300)
    seen = []

    def fn(w):
        seen.append(w.shape)
        return w.sum(axis=1)

    out = resample_apply(300, fn, resamples=50, seed=3, max_cells=300 * 7)
    assert all(s[0] * s[1] <= 300 * 7 for s in seen) and out.shape == (50,)
    a = bootstrap_metrics(
        "binary", y, p, (p > 0.5).astype(int), ["roc_auc"], resamples=100, confidence=0.9, seed=5
    )
    b = bootstrap_metrics(
        "binary", y, p, (p > 0.5).astype(int), ["roc_auc"], resamples=100, confidence=0.9, seed=5
    )
    assert a["roc_auc"].ci == b["roc_auc"].ci


def test_no_resamples_means_no_interval():
    y = np.array([0, 1, 0, 1])
    est = bootstrap_metrics(
        "binary",
        y,
        np.array([0.1, 0.9, 0.4, 0.6]),
        y,
        ["accuracy"],
        resamples=0,
        confidence=0.95,
        seed=0,
    )
    assert est["accuracy"].value == 1.0 and est["accuracy"].ci is None


def _naive(task, y, scores, pred, name, resamples, seed):
    rng = np.random.default_rng(seed)
    fns = {
        "accuracy": lambda yy, ss, pp: skm.accuracy_score(yy, pp),
        "f1": lambda yy, ss, pp: skm.f1_score(yy, pp),
        "roc_auc": lambda yy, ss, pp: skm.roc_auc_score(yy, ss),
        "pr_auc": lambda yy, ss, pp: skm.average_precision_score(yy, ss),
        "log_loss": lambda yy, ss, pp: skm.log_loss(yy, ss, labels=[0, 1]),
        "mae": lambda yy, ss, pp: skm.mean_absolute_error(yy, pp),
        "r2": lambda yy, ss, pp: skm.r2_score(yy, pp),
    }
    out = []
    for _ in range(resamples):
        idx = rng.integers(0, len(y), len(y))
        out.append(fns[name](y[idx], scores[idx], pred[idx]))
    return np.array(out)


@pytest.mark.parametrize("name", ["accuracy", "f1", "roc_auc", "pr_auc", "log_loss", "mae", "r2"])
def test_intervals_agree_with_a_naive_resampling_loop(name):
    rng = np.random.default_rng(11)
    n, resamples = 500, 500
    if name in ("mae", "r2"):
        task = "regression"
        y = rng.normal(0, 2, n)
        scores = pred = y + rng.normal(0, 1, n)
    else:
        task = "binary"
        y = rng.integers(0, 2, n)
        scores = 1 / (1 + np.exp(-(1.2 * (2 * y - 1) + rng.normal(0, 1.5, n))))
        pred = (scores >= 0.5).astype(int)
    ours = bootstrap_metrics(
        task, y, scores, pred, [name], resamples=resamples, confidence=0.95, seed=2
    )[name]
    naive = _naive(task, y, scores, pred, name, resamples, seed=4)
    lo, hi = percentile_interval(naive, 0.95)
    width = hi - lo
    # Monte-Carlo error of a 2.5% percentile from 500 resamples is about 12% of the width.
    assert abs(ours.low - lo) < 0.25 * width, (ours.low, lo)
    assert abs(ours.high - hi) < 0.25 * width, (ours.high, hi)
    assert np.std(ours.replicates) == pytest.approx(np.std(naive), rel=0.15)


def test_grouped_ranking_matches_exact_ranking_closely():
    rng = np.random.default_rng(5)
    n = 20000
    y = rng.integers(0, 2, n)
    s = rng.normal(size=n) + y
    r = _ranking(s, y == 1, max_groups=256)
    assert not r.grouped_exact
    w = draw_weights(rng, 5, n)
    exact_auc, exact_ap = _auc_ap_exact(w, r)
    grouped_auc, grouped_ap = _auc_ap_grouped(w, r)
    assert np.max(np.abs(exact_auc - grouped_auc)) < 1 / (2 * 256)
    assert np.max(np.abs(exact_ap - grouped_ap)) < 0.01


def test_large_binary_intervals_use_shifted_groups_and_stay_centred():
    rng = np.random.default_rng(8)
    n = 30000
    y = rng.integers(0, 2, n)
    s = 1 / (1 + np.exp(-(rng.normal(size=n) + y)))
    est = bootstrap_metrics(
        "binary",
        y,
        s,
        (s > 0.5).astype(int),
        ["roc_auc", "pr_auc"],
        resamples=200,
        confidence=0.95,
        seed=1,
    )
    for name, ref in (
        ("roc_auc", skm.roc_auc_score(y, s)),
        ("pr_auc", skm.average_precision_score(y, s)),
    ):
        assert est[name].value == pytest.approx(ref, abs=1e-12)
        assert est[name].low < ref < est[name].high
        assert abs(np.mean(est[name].replicates) - ref) < 0.003


def _phi(x):
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def test_coverage_of_95_percent_intervals():
    """In 100 seeded draws the 95% interval covers the population value >= 90 times."""
    mu, flip = 1.0, 0.2
    true_auc, true_acc = _phi(mu / math.sqrt(2)), 1 - flip
    covered_auc = covered_acc = 0
    rng = np.random.default_rng(2024)
    for draw in range(100):
        n = 500
        y = rng.integers(0, 2, n)
        s = rng.normal(size=n) + mu * y
        pred = np.where(rng.random(n) < flip, 1 - y, y)
        est = bootstrap_metrics(
            "binary",
            y,
            1 / (1 + np.exp(-s)),
            pred,
            ["roc_auc", "accuracy"],
            resamples=300,
            confidence=0.95,
            seed=draw,
        )
        covered_auc += est["roc_auc"].low <= true_auc <= est["roc_auc"].high
        covered_acc += est["accuracy"].low <= true_acc <= est["accuracy"].high
    assert covered_auc >= 90 and covered_acc >= 90, (covered_auc, covered_acc)


def test_every_metric_bootstraps_for_every_task():
    rng = np.random.default_rng(0)
    n = 400
    cases = {
        "binary": (rng.integers(0, 2, n), rng.random(n)),
        "multiclass": (rng.integers(0, 3, n), rng.dirichlet(np.ones(3), n)),
        "regression": (rng.normal(size=n) + 3, rng.normal(size=n) + 3),
    }
    for task, (y, scores) in cases.items():
        pred = (
            scores
            if task == "regression"
            else ((scores > 0.5).astype(int) if task == "binary" else scores.argmax(axis=1))
        )
        est = bootstrap_metrics(
            task, y, scores, pred, metric_names(task), resamples=60, confidence=0.9, seed=1
        )
        for name, e in est.items():
            assert e.n == n and e.replicates.shape == (60,)
            assert e.low <= e.high, (task, name)
            assert Rows(task, y, scores, pred).n == n


def test_results_do_not_depend_on_the_number_of_threads():
    def fn(w):
        return w.sum(axis=1)

    one = resample_apply(1000, fn, resamples=64, seed=9, max_cells=1000 * 8, workers=1)
    two = resample_apply(1000, fn, resamples=64, seed=9, max_cells=1000 * 8, workers=2)
    assert np.array_equal(one, two)


def test_grouped_path_spread_matches_a_naive_loop():
    """Above RANK_GROUPS distinct scores the resamples use score groups; same spread."""
    from auditor.metrics.weighted import RANK_GROUPS

    rng = np.random.default_rng(21)
    n = 2 * RANK_GROUPS
    y = rng.integers(0, 2, n)
    s = 1 / (1 + np.exp(-(rng.normal(size=n) + 0.8 * y)))
    ours = bootstrap_metrics(
        "binary", y, s, (s > 0.5).astype(int), ["roc_auc"], resamples=400, confidence=0.95, seed=3
    )["roc_auc"]
    naive = _naive("binary", y, s, (s > 0.5).astype(int), "roc_auc", 200, seed=5)
    assert np.std(ours.replicates) == pytest.approx(np.std(naive), rel=0.2)
    # centred like the naive loop (median difference within ~4 Monte-Carlo standard errors)
    assert abs(np.median(ours.replicates) - np.median(naive)) < 0.5 * np.std(naive)


def test_hull_interval_reflects_a_biased_percentile_interval():
    from auditor.metrics import hull_interval, percentile_interval

    rng = np.random.default_rng(0)
    symmetric = rng.normal(0.3, 0.05, 20_000)
    assert hull_interval(symmetric, 0.3, 0.95) == pytest.approx(
        percentile_interval(symmetric, 0.95), abs=0.003
    )
    # replicates biased upward of the point (a max - min gap): the low end is reflected
    biased = 0.1 + np.abs(rng.normal(0.05, 0.03, 20_000))
    lo, hi = percentile_interval(biased, 0.95)
    low, high = hull_interval(biased, 0.12, 0.95)
    assert high == hi and low == pytest.approx(2 * 0.12 - hi) and low < lo
    assert hull_interval(biased, 0.02, 0.95, lower=0.0)[0] == 0.0  # a gap is never negative
    assert hull_interval(biased, 0.9, 0.95, upper=1.0)[1] == 1.0
    assert hull_interval(np.array([np.nan]), 0.1, 0.95) is None
    assert hull_interval(biased, None, 0.95) == (lo, hi)


def test_kept_weights_are_the_weights_drawn_afresh_and_drawn_once(monkeypatch):
    """Inside kept_weights, a seed's counts are drawn once; every layout (a model's and a
    baseline's order of the same rows) gets exactly the weights it would have drawn."""
    import auditor.metrics.bootstrap as bs

    n, resamples = 5000, 300
    rng = np.random.default_rng(4)
    orders = [None, rng.permutation(n), rng.permutation(n)]
    values = rng.normal(size=n)

    def weighted_means(order):
        laid = values if order is None else values[order]
        return bs.resample_apply(
            n,
            lambda w: w @ laid / w.sum(axis=1),
            resamples=resamples,
            seed=9,
            max_cells=400_000,
            order=order,
        )

    fresh = [weighted_means(o) for o in orders]
    drawn = []
    counts = bs._counts
    monkeypatch.setattr(bs, "_counts", lambda *a: drawn.append(a[1:]) or counts(*a))
    with bs.kept_weights():
        kept = [weighted_means(o) for o in orders]
        assert len(drawn) == 4  # 300 resamples in chunks of 80: drawn for the first only
        weighted_means(None)
        assert len(drawn) == 4
    for a, b in zip(fresh, kept, strict=True):
        np.testing.assert_array_equal(a, b)
    weighted_means(None)  # outside: nothing kept
    assert len(drawn) == 8
    assert bs._kept is None


def test_kept_weights_stay_within_their_bound(monkeypatch):
    import auditor.metrics.bootstrap as bs

    monkeypatch.setattr(bs, "KEPT_WEIGHT_BYTES", 2 * 1000 * 200)
    with bs.kept_weights():
        for seed in range(4):
            bs.resample_apply(1000, lambda w: w.sum(axis=1), resamples=200, seed=seed)
        assert [key[0] for key in bs._kept] == [2, 3]  # the two most recent seeds
        bs.resample_apply(10_000, lambda w: w.sum(axis=1), resamples=200, seed=7)
        assert [key[0] for key in bs._kept] == [2, 3]  # too large to keep
