"""Fairness across sensitive groups and their intersections, every figure with an interval.

What is measured comes from the fairness catalogue (:mod:`auditor.metrics.fairness`): the
per-group rates (fairlearn's MetricFrame gives their point values) and the across-group
metrics built on them, each with the sentence that explains it.

Intervals are vectorised: per-row indicator columns are summed per *cell* (the
intersection of every sensitive feature) for each resample, with one matrix product of the
(B, n) resample weights; every group of every partition is a union of cells, so its counts
in every resample follow without touching the rows again - fairlearn is never called
inside a resampling loop.

Which outcome is "positive": see :func:`auditor.checks.groups.positive_class`; selection
rate, TPR and FPR are one-vs-rest for that class, while accuracy uses every class.
Regression compares group MAE and group mean prediction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from auditor.checks.groups import partition_codes, positive_class, small_groups_text
from auditor.checks.registry import At, CheckContext, Measurement, register
from auditor.checks.text import ci_pair, ci_text, finite, num, pct, points
from auditor.metrics.fairness import (
    FAIRNESS_METRICS,
    GROUP_RATES,
    FairnessMetric,
    aggregate,
    aggregate_interval,
    fairness_metric_names,
    group_rates,
    rate_figure,
    rate_from_sums,
    rate_names,
    row_columns,
)
from auditor.types import Finding

MSG_NO_SENSITIVE = (
    "Fairness was not measured: the spec names no sensitive features (data.sensitive)."
)
MSG_NAME_SENSITIVE = (
    "Name the sensitive attributes in data.sensitive so that fairness can be measured."
)


# ------------------------------------------------------------------ fairlearn table
def _metric_frame(task: str, y_true, y_pred, codes: np.ndarray, labels, positive: int):
    """The fairlearn MetricFrame of every catalogued per-group rate (point estimates).

    Each rate is computed by the catalogue (:func:`auditor.metrics.fairness.rate_from_sums`)
    from the summed per-row columns of the group's rows. Classification rows are first
    compressed losslessly to their (group, truth, prediction) combinations with their counts
    as sample weights: MetricFrame then sees a few dozen weighted rows instead of every row
    (its per-call cost grows with the rows).
    """
    import pandas as pd
    from fairlearn.metrics import MetricFrame

    kinds = ["n", *rate_names(task)]
    if task == "regression":

        def value(kind):
            def fn(yt, yp):
                cols = row_columns(task, yt, yp, positive)
                return rate_from_sums(task, kind, cols.sum(axis=0))

            return fn

        return MetricFrame(
            metrics={k: value(k) for k in kinds},
            y_true=np.asarray(y_true, dtype=float),
            y_pred=np.asarray(y_pred, dtype=float),
            sensitive_features=np.asarray(labels, dtype=object)[codes],
        )
    y = np.asarray(y_true).astype(np.int64)
    p = np.asarray(y_pred).astype(np.int64)
    # one integer per row holds the class and whether it is the positive one
    packed_true = y * 2 + (y == positive)
    packed_pred = p * 2 + (p == positive)
    # one integer per (group, truth, prediction) combination; counted, never sorted
    width = int(max(packed_true.max(initial=0), packed_pred.max(initial=0))) + 1
    key = (np.asarray(codes, dtype=np.int64) * width + packed_true) * width + packed_pred
    tally = np.bincount(key, minlength=len(labels) * width * width)
    present = np.flatnonzero(tally)
    counts = tally[present]
    combos = np.stack([present // (width * width), (present // width) % width, present % width], 1)

    def weighted(kind):
        def fn(yt, yp, sample_weight):
            yt, yp, w = np.asarray(yt), np.asarray(yp), np.asarray(sample_weight, dtype=float)
            t, q, right = yt % 2, yp % 2, ((yt // 2) == (yp // 2)).astype(float)
            sums = w @ np.column_stack([np.ones_like(w), t, q, t * q, right])
            return rate_from_sums(task, kind, sums)

        return fn

    return MetricFrame(
        metrics={k: weighted(k) for k in kinds},
        y_true=combos[:, 1],
        y_pred=combos[:, 2],
        # a Series, not an array: fairlearn squeezes a one-row array to no dimensions
        sensitive_features=pd.Series(np.asarray(labels, dtype=object)[combos[:, 0]]),
        sample_params={k: {"sample_weight": counts} for k in kinds},
    )


# ------------------------------------------------------------------ one partition
@dataclass
class _Groups:
    """One partition (``sens``) of one split: per-group rates, resampled rates and sizes."""

    split: str
    sens: str
    labels: list[str]
    rates: dict[str, np.ndarray]  # point rates per group (G,)
    rep_rates: dict[str, np.ndarray] | None  # resampled rates (B, G); None without resamples
    small: np.ndarray  # groups below min_group_size
    needed: np.ndarray  # rows each group lacks
    table: list[dict[str, Any]]
    n: int  # rows of the split
    overall: dict[str, np.ndarray]  # rates over the whole split (1,)
    phrase: str  # how sentences name the split ("the test split")
    _chart_rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False)

    def chart_rows(self, rate: str, confidence: float) -> list[dict[str, Any]]:
        """Each group's ``rate`` with its interval (shared by the metrics built on it)."""
        from auditor.metrics import percentile_interval

        if rate not in self._chart_rows:
            rows = []
            for i, label in enumerate(self.labels):
                low = high = None
                if self.rep_rates is not None:
                    interval = percentile_interval(self.rep_rates[rate][:, i], confidence)
                    low, high = ci_pair(*(interval or (None, None))) or (None, None)
                rows.append(
                    {
                        "group": label,
                        "value": finite(self.rates[rate][i]),
                        "low": low,
                        "high": high,
                        "n": int(self.rates["n"][i]),
                        "inconclusive": bool(self.small[i]),
                    }
                )
            self._chart_rows[rate] = rows
        return [dict(row) for row in self._chart_rows[rate]]


def _group_table(task, labels, rates, small, needed) -> list[dict[str, Any]]:
    rows = []
    for i, label in enumerate(labels):
        row: dict[str, Any] = {"group": label, "n": int(rates["n"][i])}
        row.update({k: finite(rates[k][i]) for k in rate_names(task)})
        row.update(inconclusive=bool(small[i]), needed=int(needed[i]))
        rows.append(row)
    return rows


# ------------------------------------------------------------------ wording
def _deciding_rate(metric: FairnessMetric, rates: dict[str, np.ndarray]) -> str:
    """The per-group rate that sets the figure (equalized odds: the TPR or the FPR)."""
    if len(metric.rates) == 1:
        return metric.rates[0]
    figures = [finite(rate_figure(r, metric.aggregate, rates)) for r in metric.rates]
    valid = [(f, r) for f, r in zip(figures, metric.rates, strict=True) if f is not None]
    if not valid:
        return metric.rates[0]
    pick = max if metric.aggregate == "difference" else min
    return pick(valid, key=lambda t: t[0])[1]


@dataclass(frozen=True)
class _Extremes:
    """The rate that sets a figure and the groups with its highest and lowest value."""

    rate: str
    high: int
    low: int


def _extremes(metric: FairnessMetric, groups: _Groups) -> _Extremes:
    rate = _deciding_rate(metric, groups.rates)
    r = groups.rates[rate]
    valid = np.isfinite(r)
    high = int(np.nanargmax(np.where(valid, r, -np.inf))) if valid.any() else 0
    low = int(np.nanargmin(np.where(valid, r, np.inf))) if valid.any() else 0
    return _Extremes(rate, high, low)


def figure_text(metric: FairnessMetric, value: float | None) -> str:
    """The figure as its sentence says it: '14 points', '72%' or '0.81'."""
    if value is None:
        return num(value)
    return {"points": points, "percent": pct, "number": num}[metric.value_format](value)


def _rate_text(metric: FairnessMetric, value: float | None) -> str:
    return pct(value) if metric.on_shares else num(value)


def _interval_text(metric: FairnessMetric, value, ci, confidence: float) -> str:
    if metric.value_format == "percent" and ci:  # a rate, not a difference: percent
        return f" ({100 * confidence:g}% CI {pct(ci[0])} to {pct(ci[1])})"
    as_points = metric.value_format == "points" and value is not None
    return ci_text(ci, confidence, as_points=as_points)


def sentence(metric: FairnessMetric, groups: _Groups, value, ci, outcome, confidence) -> str:
    """What the figure says, from the metric's catalogue template, with its interval."""
    ext = _extremes(metric, groups)
    rate, r = ext.rate, groups.rates[ext.rate]
    words = {
        "outcome": outcome,
        "high": groups.labels[ext.high],
        "low": groups.labels[ext.low],
        "high_rate": _rate_text(metric, r[ext.high]),
        "low_rate": _rate_text(metric, r[ext.low]),
        "value": figure_text(metric, value),
        "rate": GROUP_RATES[rate].words,
    }
    tail = ""
    if metric.other_sentence:
        other = next(x for x in metric.rates if x != rate)
        other_value = finite(rate_figure(other, metric.aggregate, groups.rates))
        tail = metric.other_sentence.format(
            other_rate=GROUP_RATES[other].words, other_value=figure_text(metric, other_value)
        )
    where = f"across {groups.sens} on {groups.phrase}"
    core = metric.sentence.format(**words)
    return f"{core} {where}{_interval_text(metric, value, ci, confidence)}{tail}."


def _small_groups_words(ctx, metric, groups: _Groups, value, adequate) -> tuple[str, str]:
    """(summary addition, recommendation) when some groups are too small to judge."""
    labels, small, needed = groups.labels, groups.small, groups.needed
    text = " " + small_groups_text(labels, groups.rates["n"], needed, ctx.min_group_size)
    if adequate is not None:
        text += (
            " Leaving the small groups out does not change the figure."
            if value is not None and abs(adequate - value) < 1e-12
            else f" Over the groups large enough to judge it is {figure_text(metric, adequate)}."
        )
    worst = int(np.argmax(needed))
    where = f"across {groups.sens} on {groups.phrase}"
    recommendation = (
        f"Collect at least {int(needed[worst])} more rows of {labels[worst]}"
        + (" (and of the other small groups listed)" if int(small.sum()) > 1 else "")
        + f" - every group needs {ctx.min_group_size} - before judging fairness {where}."
    )
    return text, recommendation


# ------------------------------------------------------------------ the check
def fairness_splits(ctx: CheckContext) -> list[str]:
    """The splits fairness is measured on.

    The client's splits (test, holdout, audit files), and any a criterion names.
    """
    wanted = set(ctx.client_splits())
    wanted |= {c.split for c in ctx.criteria if c.kind == "fairness"}
    return [s for s in ctx.splits() if s in wanted]


def _criterion_bound(ctx: CheckContext, metric: str, split: str, sensitive: str) -> float | None:
    for c in ctx.criteria:
        if c.kind == "fairness" and c.metric == metric and c.split == split:
            if c.sensitive == sensitive:
                return c.bound
    return None


def _cell_sums(groups_frame, sensitive, cols, ctx: CheckContext, split: str):
    """Resampled column sums per cell (B, cells, q), or None without resamples.

    Rows are ordered by their cell (the intersection of every sensitive feature); the
    resample weights are i.i.d., so each cell's sums are one product of a contiguous slice
    of W with its rows' columns. Memory stays O(rows x columns) whatever the groups.
    """
    from auditor.metrics import resample_apply

    cell, cell_codes = partition_codes(groups_frame, sensitive)
    if ctx.resamples <= 0 or len(cols) == 0:
        return cell, cell_codes, None
    order = np.argsort(cell, kind="stable")
    bounds = np.searchsorted(cell[order], np.arange(len(cell_codes) + 1))
    sorted_cols = cols[order].astype(np.float32)

    def sums(w):
        return np.stack(
            [
                w[:, bounds[i] : bounds[i + 1]] @ sorted_cols[bounds[i] : bounds[i + 1]]
                for i in range(len(bounds) - 1)
            ],
            axis=1,
        ).astype(np.float64)

    return (
        cell,
        cell_codes,
        resample_apply(len(cols), sums, resamples=ctx.resamples, seed=ctx.seed(split, 1)),
    )


def _partition(ctx, split, e, cols, sens, columns, cell, n_cells, reps, overall) -> _Groups:
    task = ctx.task
    codes, labels = partition_codes(e.groups, columns)
    positive = positive_class(ctx) if task != "regression" else 0
    frame = _metric_frame(task, e.y_true, e.y_pred, codes, labels, positive)
    table = frame.by_group
    point = {k: np.array([float(table.loc[lab, k]) for lab in labels]) for k in table.columns}
    rep_rates = None
    if reps is not None:
        mapping = np.zeros((n_cells, len(labels)))
        mapping[cell, codes] = 1.0  # cell -> group (every row of a cell is in one group)
        rep_rates = group_rates(task, np.einsum("bcq,cg->bgq", reps, mapping))
    sizes = point["n"].astype(int)
    small = sizes < ctx.min_group_size
    needed = np.maximum(ctx.min_group_size - sizes, 0)
    return _Groups(
        split,
        sens,
        labels,
        point,
        rep_rates,
        small,
        needed,
        _group_table(task, labels, point, small, needed),
        len(cols),
        overall,
        ctx.phrase(split),
    )


@register(
    "fairness",
    "fairness",
    label="Fairness",
    description="Fairness figures by sensitive group and intersection, with intervals.",
)
def fairness(ctx: CheckContext) -> list[Finding]:
    """Fairness metrics across sensitive groups and intersections.

    Every catalogued fairness metric for the task, across each sensitive feature and
    intersection, on the test and holdout splits (and any a criterion names), with
    intervals; groups under ``evaluation.min_group_size`` make a figure inconclusive.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One per metric, split and partition: ``fairness.<metric>.<split>.<sensitive>``;
        one skipped finding without sensitive features.
    """
    if not ctx.dataset.sensitive:
        return ctx.skipped(
            "Fairness", MSG_NO_SENSITIVE, key="none", recommendation=MSG_NAME_SENSITIVE
        )
    task = ctx.task
    positive = positive_class(ctx) if task != "regression" else 0
    pos_label = str(ctx.evaluation.classes[positive]) if task != "regression" else ""
    out: list[Finding] = []
    for split in fairness_splits(ctx):
        e = ctx.evaluation.splits[split]
        cols = row_columns(task, e.y_true, e.y_pred, positive)
        cell, cell_codes, reps = _cell_sums(e.groups, list(ctx.dataset.sensitive), cols, ctx, split)
        overall = group_rates(task, cols.sum(axis=0)[None, :])
        for sens, columns in ctx.partitions():
            groups = _partition(
                ctx, split, e, cols, sens, columns, cell, len(cell_codes), reps, overall
            )
            for name in fairness_metric_names(task):
                out.append(_finding(ctx, FAIRNESS_METRICS[name], groups, pos_label))
    return out


def _measure(ctx: CheckContext, metric: FairnessMetric, groups: _Groups):
    """(value, interval, value over the judgeable groups only, replicates) of one metric."""
    value = finite(aggregate(metric, groups.rates))
    ci = reps = None
    if groups.rep_rates is not None:
        reps = aggregate(metric, groups.rep_rates)
        ci = aggregate_interval(metric, reps, value, ctx.confidence)
    adequate = None
    if groups.small.any() and (~groups.small).sum() >= 2:
        adequate = finite(aggregate(metric, groups.rates, mask=~groups.small))
    return value, ci, adequate, reps


def _finding(ctx: CheckContext, metric: FairnessMetric, groups: _Groups, pos_label: str) -> Finding:
    split, sens = groups.split, groups.sens
    value, ci, adequate, reps = _measure(ctx, metric, groups)
    ext = _extremes(metric, groups)
    high, low = groups.labels[ext.high], groups.labels[ext.low]
    summary = sentence(
        metric, groups, value, ci, f"{ctx.dataset.target} = {pos_label}", ctx.confidence
    )
    # judged against its diagnostic bound, if it has one (a criterion is judged by the verdict)
    bound = ctx.diagnostic(metric.diagnostic) if metric.diagnostic and value is not None else None
    status = "inconclusive" if value is None else "pass"
    if bound is not None:
        status = ctx.diagnose(value, bound)
    recommendation = ""
    if groups.small.any():
        status = "inconclusive"
        text, recommendation = _small_groups_words(ctx, metric, groups, value, adequate)
        summary += text
    elif status == "warn":
        recommendation = (
            f"Investigate why {low} and {high} are treated differently: check the "
            f"training labels for historical bias against a group, look for features that "
            f"act as proxies for {sens}, and agree a policy before adjusting decisions."
        )
    criterion_bound = _criterion_bound(ctx, metric.name, split, sens)
    return ctx.finding(
        At(metric.name, split, sens),
        status=status,
        measured=Measurement(value, ci, groups.n, bound, replicates=reps),
        title=f"{metric.label} across {sens} on {split}",
        summary=summary,
        recommendation=recommendation,
        details={
            "groups": groups.table,
            "rate": ext.rate,
            "label": metric.label,
            "adequate_value": adequate,
            "min_group_size": ctx.min_group_size,
            "highest_group": high,
            "lowest_group": low,
            "positive_class": pos_label or None,
        },
        chart={
            "kind": "group_bars",
            "metric": ext.rate,
            "rows": groups.chart_rows(ext.rate, ctx.confidence),
            "bound": criterion_bound if metric.aggregate == "min" else None,
            "reference": finite(groups.overall[ext.rate][0]),
            "title": f"{GROUP_RATES[ext.rate].label} by {sens} on {split}: "
            f"{metric.label.lower()} {figure_text(metric, value)}",
        },
    )
