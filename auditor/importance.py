"""What drives the model: permutation importance and partial dependence, in the evaluate stage.

Checks cannot call the model, so everything that needs fresh predictions is computed here,
once, and handed to the checks on ``Evaluation.drivers``:

- *permutation importance* of every raw feature column: on a seeded sample of at most
  :data:`SAMPLE_ROWS` rows of the first client split (test, else the holdout or the first
  audit file), the column is shuffled among the sample's rows :data:`REPEATS` times and the
  model scored again; a column is shuffled *before* preprocessing, so the one-hot columns
  of one categorical feature move together. The importance is the loss of the metric
  (the primary metric, and every metric a criterion on importance names), and its interval
  comes from the bootstrap machinery: the unshuffled and every shuffled scoring are measured
  under the same resample weights, so each resample gives an importance of its own;
- *partial dependence* of every numeric feature a monotone criterion names: the model's
  mean prediction (positive-class probability, or the predicted value) with the feature set
  to each of :data:`GRID` quantiles of its values, over :data:`PD_ROWS` of the sampled
  rows, with bootstrap replicates of the curve over those rows.

Every probe row goes to the predictor in one call, as a split of its own in a copy of the
dataset (``predictor.predict(dataset, split)`` reads the raw frame or the preprocessed
matrix, whichever the model takes). A vendor's predictions file scores only the rows it
was given, so it cannot be re-scored: the drivers are then skipped, with that reason.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from auditor.splits import CLIENT_ROLES
from auditor.types import Dataset, Predictor, Spec

SAMPLE_ROWS = 2_000  # rows of the client split the importance is measured on (seeded)
REPEATS = 5  # shuffles of each feature
RESAMPLES = 200  # bootstrap resamples of the importance (at most evaluation.bootstrap)
PD_ROWS = 500  # sampled rows each partial-dependence point averages over
GRID = 10  # quantiles of a feature the partial dependence is measured at
PROBE = "drivers_probe"  # the probe rows' split in the dataset copy

#: the checks whose criteria name a feature's importance (their metrics are measured too)
IMPORTANCE_CHECKS = ("feature_importance", "driver_rank")
#: the monotone checks: the direction the partial dependence must not go against
MONOTONE_CHECKS = {"monotone_increasing": "increasing", "monotone_decreasing": "decreasing"}
#: the checks a criterion's ``feature`` names the column of
FEATURE_CHECKS = (*IMPORTANCE_CHECKS, *MONOTONE_CHECKS)

NO_RESCORING = (
    "a vendor's predictions file gives one prediction per row it was sent, so the model "
    "cannot be scored again on rows with a feature shuffled"
)
NO_CLIENT_SPLIT = "there is no test, holdout or audit split with predictions to measure them on"
FAILED = "the model could not score the probe rows ({error})"


@dataclass
class Dependence:
    """One feature's partial dependence: the mean prediction at each grid value."""

    feature: str
    grid: list[float]
    curve: list[float]
    rows: int
    replicates: Any = field(default=None, repr=False)  # (B, grid) curves under resampling


@dataclass
class Drivers:
    """Permutation importance of every feature (and requested partial dependence)."""

    split: str
    rows: int
    repeats: int
    resamples: int
    metrics: list[str]
    features: list[str]
    baseline: dict[str, float]  # metric -> value on the unshuffled sample
    # metric -> feature -> (value, low, high); low/high None without resamples
    importance: dict[str, dict[str, tuple[float, float | None, float | None]]]
    dependence: dict[str, Dependence] = field(default_factory=dict)
    seconds: float = 0.0
    # metric -> (B, features) importance replicates (paired across features); never serialised
    replicates: dict[str, Any] = field(default_factory=dict, repr=False)


def _client_split(dataset: Dataset, scores: dict) -> str | None:
    for split in dataset.splits:
        if dataset.role(split) in CLIENT_ROLES and split in scores and split in dataset.y:
            if len(dataset.y[split]):
                return split
    return None


def _wanted(spec: Spec, primary: str, task: str, has_scores: bool) -> tuple[list[str], list[str]]:
    """(metrics to measure importance in, numeric features to draw partial dependence of)."""
    from auditor.metrics import METRICS

    metrics = [primary]
    monotone = []
    for c in spec.acceptance:
        if c.check in IMPORTANCE_CHECKS and c.metric in METRICS and c.metric not in metrics:
            if METRICS[c.metric].applies_to(task, has_scores=has_scores):
                metrics.append(c.metric)
        feature = getattr(c, "feature", None)
        if c.check in MONOTONE_CHECKS and feature and feature not in monotone:
            monotone.append(feature)
    return metrics, monotone


def _grid(values: np.ndarray) -> np.ndarray:
    """Distinct observed values at :data:`GRID` quantiles from 5% to 95% (missing ignored)."""
    x = values[np.isfinite(values)]
    if x.size == 0:
        return np.empty(0)
    return np.unique(np.quantile(x, np.linspace(0.05, 0.95, GRID), method="inverted_cdf"))


def _probe_rows(sample, features, pd_features, seed: int):
    """The probe frame: each feature shuffled REPEATS times, then each grid point set."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = len(sample)
    blocks, grids = [], {}
    for f in features:
        column = sample[f].to_numpy()
        for _ in range(REPEATS):
            block = sample.copy()
            block[f] = column[rng.permutation(n)]
            blocks.append(block)
    pd_sample = sample.iloc[: min(PD_ROWS, n)]
    for f in pd_features:
        grid = _grid(pd.to_numeric(sample[f], errors="coerce").to_numpy(dtype=np.float64))
        grids[f] = grid
        for value in grid:
            block = pd_sample.copy()
            try:  # keep the column's type (an integer column stays integer)
                block[f] = pd.Series(np.full(len(block), value)).astype(sample[f].dtype)
            except (TypeError, ValueError):
                block[f] = value
            blocks.append(block)
    return pd.concat(blocks, ignore_index=True), grids


def _score_probe(dataset: Dataset, predictor: Predictor, probe, y) -> np.ndarray:
    """The predictor's scores of the probe rows, as a split of a copy of the dataset."""
    X = {}
    if dataset.preprocessor is not None:
        from auditor.data.preprocess import transform_rows

        X[PROBE] = transform_rows(dataset.preprocessor, probe[dataset.feature_columns])
    copy = dataclasses.replace(
        dataset,
        frames={PROBE: probe},
        X=X,
        y={PROBE: y},
        groups={},
        split_roles={PROBE: "test"},
        split_labels={},
    )
    return np.asarray(predictor.predict(copy, PROBE))


def _importance(task, y, scores, threshold, metrics, blocks, k, *, resamples, confidence, seed):
    """Baseline values, {metric: {feature: (value, low, high)}} and (B, F) replicates."""
    from auditor.metrics import METRICS, Rows, bootstrap_rows
    from auditor.metrics.bootstrap import percentile_interval
    from auditor.metrics.performance import decisions

    def measure(s):
        rows = Rows(task, y, s, decisions(task, s, threshold), n_classes=k)
        return bootstrap_rows(rows, metrics, resamples=resamples, confidence=confidence, seed=seed)

    base = measure(scores)
    shuffled = [[measure(s) for s in repeats] for repeats in blocks]  # [feature][repeat]
    points, reps = {}, {}
    for m in metrics:
        sign = 1.0 if METRICS[m].greater_is_better else -1.0
        shuffled_value = np.array([np.mean([e[m].value for e in f]) for f in shuffled])
        points[m] = sign * (base[m].value - shuffled_value)
        if resamples > 0:
            perm = np.stack(
                [np.mean([e[m].replicates for e in f], axis=0) for f in shuffled], axis=1
            )
            reps[m] = sign * (base[m].replicates[:, None] - perm)  # (B, F)
    out = {}
    for m in metrics:
        out[m] = []
        for j in range(len(blocks)):
            ci = percentile_interval(reps[m][:, j], confidence) if m in reps else None
            low, high = ci if ci is not None else (None, None)
            out[m].append((float(points[m][j]), low, high))
    return {m: base[m].value for m in metrics}, out, reps


def model_drivers(
    spec: Spec,
    dataset: Dataset,
    predictor: Predictor,
    *,
    scores: dict[str, np.ndarray],
    threshold: float | None,
    metric: str,
    notes: dict,
    progress=None,
) -> Drivers | None:
    """Permutation importance (and partial dependence) on the first client split.

    Returns None, with ``notes["drivers"]`` saying why, when they cannot be measured.
    """
    if predictor.kind == "vendor:predictions":
        notes["drivers"] = NO_RESCORING
        return None
    split = _client_split(dataset, scores)
    features = [c for c in dataset.feature_columns if c in dataset.frames.get(split, {})]
    if split is None or not features:
        notes["drivers"] = NO_CLIENT_SPLIT
        return None
    if progress is not None:
        progress.status(f"drivers: shuffling {len(features)} features on {split}")
    start = time.perf_counter()
    task, settings = dataset.task, spec.evaluation
    seed = int(settings.seed) * 7_919 + 17
    y_all = np.asarray(dataset.y[split])
    rng = np.random.default_rng(seed)
    n = min(SAMPLE_ROWS, len(y_all))
    pick = np.sort(rng.choice(len(y_all), n, replace=False))
    sample = dataset.frames[split].iloc[pick].reset_index(drop=True)
    y, base_scores = y_all[pick], np.asarray(scores[split])[pick]
    metrics, pd_wanted = _wanted(spec, metric, task, bool(predictor.has_scores))
    numeric = [f for f in pd_wanted if dataset.column_types.get(f) == "numeric" and f in features]
    if task == "multiclass":
        numeric = []
    probe, grids = _probe_rows(sample, features, numeric, seed + 1)
    n_pd = min(PD_ROWS, n)
    shuffled_rows = len(features) * REPEATS * n
    y_probe = np.concatenate(
        [np.tile(y, len(features) * REPEATS), np.zeros(len(probe) - shuffled_rows, y.dtype)]
    )
    try:
        probe_scores = _score_probe(dataset, predictor, probe, y_probe)
    except Exception as exc:  # noqa: BLE001 - a model that cannot take the probe: say why
        notes["drivers"] = FAILED.format(error=f"{type(exc).__name__}: {exc}")
        return None
    k = len(dataset.classes) if task != "regression" else None
    blocks = [
        [probe_scores[(j * REPEATS + r) * n : (j * REPEATS + r + 1) * n] for r in range(REPEATS)]
        for j in range(len(features))
    ]
    resamples = min(int(settings.bootstrap), RESAMPLES)
    confidence = float(settings.confidence)
    baseline, importance, reps = _importance(
        task,
        y,
        base_scores,
        threshold,
        metrics,
        blocks,
        k,
        resamples=resamples,
        confidence=confidence,
        seed=seed + 2,
    )
    dependence = {}
    at = shuffled_rows
    for f in numeric:
        grid = grids[f]
        # the positive-class probability or the value (no multiclass partial dependence)
        block = probe_scores[at : at + len(grid) * n_pd].reshape(len(grid), n_pd)
        at += len(grid) * n_pd
        curve_reps = None
        if resamples > 0 and len(grid):
            from auditor.metrics.bootstrap import draw_weights

            w = draw_weights(np.random.default_rng(seed + 3), resamples, n_pd, dtype=np.float64)
            curve_reps = (w @ block.T) / np.maximum(w.sum(axis=1, keepdims=True), 1e-12)
        dependence[f] = Dependence(
            feature=f,
            grid=[float(v) for v in grid],
            curve=[float(v) for v in block.mean(axis=1)],
            rows=n_pd,
            replicates=curve_reps,
        )
    return Drivers(
        split=split,
        rows=n,
        repeats=REPEATS,
        resamples=resamples,
        metrics=metrics,
        features=features,
        baseline=baseline,
        importance={m: dict(zip(features, importance[m], strict=True)) for m in metrics},
        dependence=dependence,
        seconds=time.perf_counter() - start,
        replicates=reps,
    )
