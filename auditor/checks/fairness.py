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

from auditor.checks.groups import (
    collect_rows_step,
    partition_codes,
    positive_class,
    small_groups_text,
)
from auditor.checks.registry import At, CheckContext, Measurement, register
from auditor.checks.text import advice, ci_pair, ci_text, finite, num, pct, points
from auditor.criteria import same_features
from auditor.judge import Bound, judge
from auditor.metrics.fairness import (
    FAIRNESS_METRICS,
    GROUP_RATES,
    FairnessMetric,
    against_reference,
    aggregate,
    aggregate_interval,
    fairness_metric_names,
    group_rates,
    largest_group,
    rate_figure,
    rate_from_sums,
    rate_names,
    row_columns,
    worst_group,
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

    def sums_of(yt, yp, w):
        t, q, right = yt % 2, yp % 2, ((yt // 2) == (yp // 2)).astype(float)
        return w @ np.column_stack([np.ones_like(w), t, q, t * q, right])

    # the split's own sums: the denominator of a group's share of a split total
    total = sums_of(combos[:, 1], combos[:, 2], counts.astype(float))

    def weighted(kind):
        def fn(yt, yp, sample_weight):
            yt, yp, w = np.asarray(yt), np.asarray(yp), np.asarray(sample_weight, dtype=float)
            return rate_from_sums(task, kind, sums_of(yt, yp, w), total)

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
    reference: int = 0  # the reference group (disparities against it)
    reference_rule: str = ""  # why it is the reference ("named in data.reference_groups")
    _chart_rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False)

    @property
    def judgeable(self) -> np.ndarray:
        """The groups large enough to judge (at least ``min_group_size`` rows)."""
        return ~self.small

    @property
    def judged_rates(self) -> dict[str, np.ndarray]:
        """The point rates with the groups too small to judge left out (NaN)."""
        return {k: np.where(self.judgeable, v, np.nan) for k, v in self.rates.items()}

    def interval_of(self, rate: str, i: int, confidence: float) -> tuple[float, float] | None:
        """The percentile interval of group ``i``'s ``rate`` over the resamples."""
        from auditor.metrics import percentile_interval

        if self.rep_rates is None:
            return None
        return ci_pair(
            *(percentile_interval(self.rep_rates[rate][:, i], confidence) or (None,) * 2)
        )

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
    """The deciding rate and its highest and lowest groups, among the judgeable groups."""
    rates = groups.judged_rates if groups.judgeable.any() else groups.rates
    rate = _deciding_rate(metric, rates)
    r = rates[rate]
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
        other_value = finite(rate_figure(other, metric.aggregate, groups.judged_rates))
        tail = metric.other_sentence.format(
            other_rate=GROUP_RATES[other].words, other_value=figure_text(metric, other_value)
        )
    where = f"across {groups.sens} on {groups.phrase}"
    core = metric.sentence.format(**words)
    return f"{core} {where}{_interval_text(metric, value, ci, confidence)}{tail}."


def _small_groups_words(ctx, metric, groups: _Groups, value, everyone) -> tuple[str, str]:
    """(summary addition, collect-more-rows recommendation) when some groups are too small.

    ``value`` is the figure over the judgeable groups (the headline); ``everyone`` the
    figure the small groups would make of it at their own (unreliable) rates.
    """
    labels, needed = groups.labels, groups.needed
    text = " " + small_groups_text(labels, groups.rates["n"], needed, ctx.min_group_size)
    if value is not None:
        text += " The figure is over the groups large enough to judge"
        if everyone is not None and abs(everyone - value) > 1e-12:
            text += f"; with the small groups it would read {figure_text(metric, everyone)}."
        else:
            text += "."
    recommendation = collect_rows_step(labels, needed, ctx.min_group_size, groups.sens)
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
    if ctx.cell_draws(len(cols)):  # from cell totals (every column but regression's is 0/1)
        from auditor.metrics.cell_bootstrap import cell_replicates

        discrete = [0] if ctx.task == "regression" else range(cols.shape[1])
        reps = cell_replicates(
            cell,
            cols,
            len(cell_codes),
            resamples=ctx.resamples,
            seed=ctx.seed(split, 1),
            discrete=list(discrete),
        )
        return cell, cell_codes, reps
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
    reference, rule = reference_group(ctx, sens, columns, labels, sizes)
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
        reference,
        rule,
    )


RULE_NAMED = "named in data.reference_groups"
RULE_LARGEST = "the largest group"


def named_reference(named, sens: str, columns: list[str]) -> str | None:
    """The reference group ``data.reference_groups`` names for a partition, as its label.

    An intersection may be written in any order ("age_band&sex": "45-59 & male"); the label
    is returned in the partition's own column order ("male & 45-59").
    """
    for key, value in (named or {}).items():
        if not same_features(key, sens):
            continue
        keys = [k.strip() for k in str(key).split("&")]
        parts = [v.strip() for v in str(value).split("&")]
        if len(parts) != len(keys):
            return str(value)
        by_column = dict(zip(keys, parts, strict=True))
        return " & ".join(by_column[c] for c in columns)
    return None


def reference_group(ctx: CheckContext, sens, columns, labels, sizes) -> tuple[int, str]:
    """(index, rule) of a partition's reference group.

    The group ``data.reference_groups`` names for it; else the largest group (the stated
    rule: the most data, so the narrowest intervals for every comparison with it).
    """
    wanted = named_reference(ctx.spec.data.reference_groups, sens, columns)
    if wanted is not None and wanted in labels:
        return labels.index(wanted), RULE_NAMED
    return largest_group(sizes), RULE_LARGEST


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
            first = len(out)
            for name in fairness_metric_names(task):
                metric = FAIRNESS_METRICS[name]
                if metric.to_reference and not _criterion_bounds(ctx, name, split, sens):
                    continue  # only the disparities a criterion bounds become findings
                out.append(_finding(ctx, metric, groups, pos_label))
            if task != "regression" and len(out) > first:  # one compact table per partition
                out[first].details.update(_disparity_details(groups))
    return out


# ------------------------------------------------------------------ against the reference
#: The rates of the compact disparity table (each group's rate over the reference's).
DISPARITY_RATES = ("selection_rate", "tpr", "fpr", "fnr", "precision", "npv", "fdr", "for")


def _disparity_details(groups: _Groups) -> dict[str, Any]:
    """The reference group, the rule that chose it, and every group's rate ratios to it."""
    ref = groups.reference
    rows = []
    for i, label in enumerate(groups.labels):
        row: dict[str, Any] = {"group": label, "n": int(groups.rates["n"][i])}
        for rate in DISPARITY_RATES:
            r = groups.rates[rate]
            row[f"{GROUP_RATES[rate].short_label} ratio"] = (
                1.0 if i == ref else finite(r[i] / r[ref]) if r[ref] > 0 else None
            )
        row["inconclusive"] = bool(groups.small[i])
        rows.append(row)
    return {
        "reference_group": groups.labels[ref],
        "reference_rule": groups.reference_rule,
        "disparities": rows,
    }


def _reference_words(groups: _Groups) -> str:
    """'reference: male, the largest group' / 'reference: male, named in data.reference_groups'."""
    return f"reference: {groups.labels[groups.reference]}, {groups.reference_rule}"


@dataclass
class _Measured:
    """One metric measured over the judgeable groups, and what the small groups could do."""

    value: float | None
    ci: tuple[float, float] | None
    reps: np.ndarray | None
    everyone: float | None  # the figure with the small groups at their point rates
    could_be: list[float]  # figures the small groups could make it (their interval ends)
    per_group: list[dict[str, Any]] | None = None  # against a reference: each group's value
    headline: int | None = None  # against a reference: the group the value is about


def _criterion_bounds(ctx: CheckContext, metric: str, split: str, sensitive: str) -> list[Bound]:
    """Every bound the criteria on this metric, split and partition set."""
    return [
        b
        for c in ctx.criteria
        if c.kind == "fairness" and c.metric == metric and c.split == split
        if same_features(sensitive, c.sensitive or "")
        for b in c.bounds
    ]


def _ends(groups: _Groups, rate: str, i: int, confidence: float) -> list[float]:
    """A small group's ``rate`` at the ends of its interval (its point rate without one)."""
    interval = groups.interval_of(rate, i, confidence)
    if interval is None:
        value = finite(groups.rates[rate][i])
        return [] if value is None else [value]
    return [float(x) for x in interval]


def _measure(ctx: CheckContext, metric: FairnessMetric, groups: _Groups) -> _Measured:
    """The figure over the judgeable groups only, with its interval.

    A group below ``min_group_size`` never sets the value or the interval. What the small
    groups could make of it is kept beside: the figure with each small group at either end
    of its own interval (every rate the metric aggregates at once), so a judge can tell
    whether a small group could change the outcome.
    """
    if metric.to_reference:
        return _measure_reference(ctx, metric, groups)
    keep = groups.judgeable
    enough = int(keep.sum()) >= (1 if metric.aggregate == "min" else 2)
    value = finite(aggregate(metric, groups.rates, mask=keep)) if enough else None
    ci = reps = None
    if enough and groups.rep_rates is not None:
        reps = aggregate(metric, groups.rep_rates, mask=keep)
        ci = aggregate_interval(metric, reps, value, ctx.confidence)
    everyone = finite(aggregate(metric, groups.rates)) if groups.small.any() else None
    could_be: list[float] = []
    for i in np.flatnonzero(groups.small):
        for end in (0, 1):
            trial = {k: np.where(keep, v, np.nan) for k, v in groups.rates.items()}
            for rate in metric.rates:
                ends = _ends(groups, rate, int(i), ctx.confidence)
                if ends:
                    trial[rate][i] = ends[min(end, len(ends) - 1)]
            figure = finite(aggregate(metric, trial))
            if figure is not None:
                could_be.append(figure)
    return _Measured(value, ci, reps, everyone, could_be)


def _measure_reference(ctx: CheckContext, metric: FairnessMetric, groups: _Groups) -> _Measured:
    """Each judgeable group's difference or ratio to the reference, with its interval.

    The headline is the group nearest to (or furthest past) the criteria's bounds.
    """
    from auditor.metrics import percentile_interval

    ref = groups.reference
    per = against_reference(metric, groups.rates, ref)
    reps = None if groups.rep_rates is None else against_reference(metric, groups.rep_rates, ref)
    bounds = _criterion_bounds(ctx, metric.name, groups.split, groups.sens) or [
        Bound(1.0 if metric.aggregate == "ratio_to_reference" else 0.0, metric.bound_direction)
    ]
    rows, could_be = [], []
    for i, label in enumerate(groups.labels):
        ci = None
        if reps is not None and i != ref:
            ci = ci_pair(*(percentile_interval(reps[:, i], ctx.confidence) or (None, None)))
        rows.append(
            {
                "group": label,
                "n": int(groups.rates["n"][i]),
                "value": finite(per[i]),
                "low": ci[0] if ci else None,
                "high": ci[1] if ci else None,
                "reference": i == ref,
                "inconclusive": bool(groups.small[i]),
            }
        )
        if groups.small[i] and i != ref:
            could_be += [x for x in (rows[-1]["value"], *(ci or ())) if x is not None]
    judged = np.where(groups.judgeable, per, np.nan)
    headline = None if groups.small[ref] else worst_group(judged, bounds)
    if headline is None:
        return _Measured(None, None, None, None, could_be, rows, None)
    row = rows[headline]
    ci = (row["low"], row["high"]) if row["low"] is not None else None
    return _Measured(
        row["value"],
        ci,
        None if reps is None else reps[:, headline],
        None,
        could_be,
        rows,
        headline,
    )


def _could_change(measured: _Measured, bounds: list[Bound]) -> bool:
    """Whether a small group, anywhere in its interval, could break a bound."""
    if not bounds:
        return False
    return any(judge(x, None, bounds).status == "fail" for x in measured.could_be)


def _reference_sentence(ctx, metric, groups: _Groups, m: _Measured) -> str:
    """What a disparity against the reference says: the group nearest to the bounds."""
    ref = groups.reference
    rate = GROUP_RATES[metric.rates[0]]
    r = groups.rates[rate.name]
    where = f"across {groups.sens} on {groups.phrase}"
    stated = f"Reference: {groups.labels[ref]}, {groups.reference_rule}."
    if m.headline is None:
        if groups.small[ref]:
            return (
                f"The reference group {groups.labels[ref]} has too few rows to compare the "
                f"other groups' {rate.words} with it {where}. {stated}"
            )
        return f"No group large enough to judge is compared with the reference {where}. {stated}"
    words = {
        "high": groups.labels[m.headline],
        "low": groups.labels[ref],
        "high_rate": _rate_text(metric, r[m.headline]),
        "low_rate": _rate_text(metric, r[ref]),
        "value": figure_text(metric, m.value),
    }
    core = metric.sentence.format(**words)
    compared = int(groups.judgeable.sum()) - 1
    text = f"{core} {where}{_interval_text(metric, m.value, m.ci, ctx.confidence)}. {stated}"
    if compared > 1:
        text += (
            f" Of the {compared} groups compared with it, this one is nearest to (or furthest "
            "past) the bounds; each is in the finding's table."
        )
    return text


def _finding(ctx: CheckContext, metric: FairnessMetric, groups: _Groups, pos_label: str) -> Finding:
    split, sens = groups.split, groups.sens
    m = _measure(ctx, metric, groups)
    value, ci = m.value, m.ci
    ext = _extremes(metric, groups)
    high, low = groups.labels[ext.high], groups.labels[ext.low]
    if metric.to_reference:
        summary = _reference_sentence(ctx, metric, groups, m)
        if m.headline is not None:
            high, low = groups.labels[m.headline], groups.labels[groups.reference]
    else:
        outcome = f"{ctx.dataset.target} = {pos_label}"
        summary = sentence(metric, groups, value, ci, outcome, ctx.confidence)
    # a diagnostic judges the finding itself; a criterion is judged by the verdict, but
    # what it would say decides the recommendation (no "collect more rows" for a failure)
    bound = ctx.diagnostic(metric.diagnostic) if metric.diagnostic and value is not None else None
    criterion = _criterion_bounds(ctx, metric.name, split, sens)
    judged_by = criterion or ([bound] if bound is not None else [])
    fails = value is not None and bool(judged_by) and judge(value, None, judged_by).status == "fail"
    status = "inconclusive" if value is None else "pass"
    if bound is not None:
        status = ctx.diagnose(value, bound)
    small = bool(groups.small.any())
    if small and status == "pass" and (value is None or _could_change(m, judged_by)):
        status = "inconclusive"
    recommendation = ""
    if small:
        text, collect = _small_groups_words(ctx, metric, groups, value, m.everyone)
        summary += text
        if not fails and status == "inconclusive":
            recommendation = collect
    if fails or status == "warn":
        # the pair in one order, so that two metrics across the same groups give one step
        one, other = sorted((low, high))
        recommendation = advice(
            ctx,
            f"Investigate why {one} and {other} are treated differently: check the "
            f"training labels for historical bias against a group, look for features that "
            f"act as proxies for {sens}, and agree a policy before adjusting decisions.",
            vendor=f"{ctx.addressee.opening} why {one} and {other} are treated differently: "
            f"which data the model was trained on and how it was tested for bias across "
            f"{sens}; look for columns of the client's data that act as proxies for {sens}, "
            "and agree a policy before adjusting decisions.",
        )
    criterion_bound = _criterion_bound(ctx, metric.name, split, sens)
    details: dict[str, Any] = {
        "groups": groups.table,
        "rate": ext.rate,
        "label": metric.label,
        # the headline is over the judgeable groups; small groups never set it
        "adequate_value": value,
        "value_with_small_groups": m.everyone,
        "small_group_outcomes": m.could_be if small else None,
        "min_group_size": ctx.min_group_size,
        "highest_group": high,
        "lowest_group": low,
        "positive_class": pos_label or None,
    }
    if metric.to_reference:  # the groups compared are the headline's and the reference
        del details["highest_group"], details["lowest_group"]
        details.update(
            compared_group=high if m.headline is not None else None,
            reference_group=groups.labels[groups.reference],
            reference_rule=groups.reference_rule,
            per_group=m.per_group,
        )
    rate = metric.rates[0] if metric.to_reference else ext.rate
    return ctx.finding(
        At(metric.name, split, sens),
        status=status,
        measured=Measurement(value, ci, groups.n, bound, replicates=m.reps),
        title=f"{metric.label} across {sens} on {split}",
        summary=summary,
        recommendation=recommendation,
        details=details,
        chart={
            "kind": "group_bars",
            "metric": rate,
            "rows": groups.chart_rows(rate, ctx.confidence),
            "bound": criterion_bound if metric.aggregate == "min" else None,
            "reference": finite(groups.overall[rate][0]),
            "title": f"{GROUP_RATES[rate].label} by {sens} on {split}: "
            f"{metric.label.lower()} {figure_text(metric, value)}",
        },
    )
