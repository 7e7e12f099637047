"""Fairness across sensitive groups and their intersections, every figure with an interval.

Per group (fairlearn's MetricFrame): size, base rate, selection rate, accuracy, TPR, FPR,
FNR, precision. Across groups: demographic parity difference and ratio, equalized odds
difference and ratio, equal opportunity difference, worst-group accuracy and accuracy
difference; for regression, the differences of group MAE and of mean prediction.

Intervals are vectorised: per-row indicator columns (row, true positive outcome, predicted
positive outcome, both, correct) are spread into one block of columns per group, and one
matrix product with the (B, n) resample weights gives every group's counts in every
resample - fairlearn is never called inside a resampling loop.

Which outcome is "positive": binary tasks use the positive class. Multiclass tasks use
``objective.positive`` when it names a class, else the least frequent class in the training
split (usually the class of interest, e.g. the most urgent triage level); selection rate,
TPR and FPR are one-vs-rest for that class, while accuracy uses every class. Regression
compares group MAE and group mean prediction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from auditor.checks.registry import CheckContext, register
from auditor.checks.text import ci_pair, ci_text, finite, num, pct, points, split_words
from auditor.types import Finding

CLS = ("binary", "multiclass")
REG = ("regression",)


@dataclass(frozen=True)
class FairnessMetric:
    name: str
    label: str
    rates: tuple[str, ...]  # per-group rates it aggregates
    aggregate: str  # "difference" | "ratio" | "min"
    tasks: tuple[str, ...]


FAIRNESS_METRICS: dict[str, FairnessMetric] = {
    m.name: m
    for m in [
        FairnessMetric(
            "demographic_parity_difference",
            "Demographic parity difference",
            ("selection_rate",),
            "difference",
            CLS,
        ),
        FairnessMetric(
            "demographic_parity_ratio",
            "Demographic parity ratio",
            ("selection_rate",),
            "ratio",
            CLS,
        ),
        FairnessMetric(
            "equalized_odds_difference",
            "Equalized odds difference",
            ("tpr", "fpr"),
            "difference",
            CLS,
        ),
        FairnessMetric(
            "equalized_odds_ratio", "Equalized odds ratio", ("tpr", "fpr"), "ratio", CLS
        ),
        FairnessMetric(
            "equal_opportunity_difference",
            "Equal opportunity difference",
            ("tpr",),
            "difference",
            CLS,
        ),
        FairnessMetric("worst_group_accuracy", "Worst-group accuracy", ("accuracy",), "min", CLS),
        FairnessMetric(
            "accuracy_difference", "Accuracy difference", ("accuracy",), "difference", CLS
        ),
        FairnessMetric(
            "mae_difference", "Difference in mean absolute error", ("mae",), "difference", REG
        ),
        FairnessMetric(
            "mean_prediction_difference",
            "Difference in mean prediction",
            ("mean_prediction",),
            "difference",
            REG,
        ),
    ]
}

RATE_LABELS = {
    "selection_rate": "Selection rate",
    "tpr": "True positive rate",
    "fpr": "False positive rate",
    "accuracy": "Accuracy",
    "mae": "Mean absolute error",
    "mean_prediction": "Mean prediction",
}
_CLS_COLUMNS = ("n", "y", "p", "tp", "correct")
_REG_COLUMNS = ("n", "abs", "pred", "y")


def fairness_metric_names(task: str | None = None) -> list[str]:
    return [m.name for m in FAIRNESS_METRICS.values() if task is None or task in m.tasks]


# ------------------------------------------------------------------ per-row columns and rates
def positive_class(ctx: CheckContext) -> int:
    """Index of the class whose selection rate fairness compares (see module docstring)."""
    if ctx.task == "binary":
        return 1
    classes = [str(c) for c in ctx.evaluation.classes]
    wanted = ctx.spec["objective"].get("positive")
    if wanted is not None and str(wanted) in classes:
        return classes.index(str(wanted))
    y_train = ctx.dataset.y.get("train")
    if y_train is None:
        y_train = ctx.evaluation.splits[next(iter(ctx.evaluation.splits))].y_true
    counts = np.bincount(np.asarray(y_train).astype(int), minlength=len(classes))
    return int(np.argmin(counts))


def row_columns(task: str, y_true, y_pred, positive: int) -> np.ndarray:
    """(n, q) per-row indicators whose weighted sums give every group rate."""
    if task == "regression":
        y = np.asarray(y_true, dtype=np.float64)
        p = np.asarray(y_pred, dtype=np.float64)
        return np.column_stack([np.ones_like(y), np.abs(y - p), p, y])
    y = np.asarray(y_true).astype(int)
    p = np.asarray(y_pred).astype(int)
    yb, pb = (y == positive).astype(np.float64), (p == positive).astype(np.float64)
    return np.column_stack([np.ones_like(yb), yb, pb, yb * pb, (y == p).astype(np.float64)])


def _ratio(num_: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(np.broadcast(num_, den).shape, np.nan)
    np.divide(num_, den, out=out, where=den > 0)
    return out


def group_rates(task: str, sums: np.ndarray) -> dict[str, np.ndarray]:
    """Rates per group from summed columns ``sums`` (..., G, q)."""
    if task == "regression":
        n, ab, pred, y = (sums[..., j] for j in range(4))
        return {
            "n": n,
            "mae": _ratio(ab, n),
            "mean_prediction": _ratio(pred, n),
            "mean_target": _ratio(y, n),
        }
    n, y, p, tp, correct = (sums[..., j] for j in range(5))
    return {
        "n": n,
        "base_rate": _ratio(y, n),
        "selection_rate": _ratio(p, n),
        "accuracy": _ratio(correct, n),
        "tpr": _ratio(tp, y),
        "fpr": _ratio(p - tp, n - y),
        "fnr": _ratio(y - tp, y),
        "precision": _ratio(tp, p),
    }


def aggregate(
    metric: FairnessMetric, rates: dict[str, np.ndarray], mask: np.ndarray | None = None
) -> np.ndarray:
    """The across-group figure from per-group rates (..., G); ``mask`` keeps some groups."""
    values = []
    for rate in metric.rates:
        r = rates[rate]
        if mask is not None:
            r = np.where(mask, r, np.nan)
        hi, lo = np.fmax.reduce(r, axis=-1), np.fmin.reduce(r, axis=-1)
        if metric.aggregate == "difference":
            values.append(hi - lo)
        elif metric.aggregate == "ratio":
            values.append(_ratio(lo, hi))
        else:
            values.append(lo)
    if len(values) == 1:
        return values[0]
    stacked = np.stack(values)
    return (
        np.fmax.reduce(stacked, axis=0)
        if metric.aggregate == "difference"
        else np.fmin.reduce(stacked, axis=0)
    )


def aggregate_interval(
    metric: FairnessMetric, replicates: np.ndarray, value: float | None, confidence: float
) -> tuple[float, float] | None:
    """Bootstrap interval of an across-group figure (see ``metrics.hull_interval``).

    A max-minus-min gap, a min/max ratio and a worst-group rate are biased by the max/min
    over noisy groups, so the hull of the percentile and basic intervals is used, clipped to
    the figure's range: gaps are >= 0; ratios and rates lie in 0..1.
    """
    from auditor.metrics import hull_interval

    rate_valued = metric.tasks == CLS
    lower = 0.0 if (metric.aggregate != "min" or rate_valued) else None
    upper = 1.0 if rate_valued else None
    return hull_interval(replicates, value, confidence, lower=lower, upper=upper)


def partition_codes(frame, columns: list[str]) -> tuple[np.ndarray, list[str]]:
    """Group code per row and group labels ('female & 18-30') for a set of sensitive columns."""
    import pandas as pd

    code = np.zeros(len(frame), dtype=np.int64)
    for col in columns:
        c, _ = pd.factorize(frame[col].astype(str), sort=True)
        code = code * (int(c.max(initial=0)) + 1) + c
    uniq, inverse = np.unique(code, return_inverse=True)
    first = np.zeros(len(uniq), dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(code))[::-1]
    labels = [" & ".join(str(frame[col].iloc[i]) for col in columns) for i in first]
    return inverse, labels


# ------------------------------------------------------------------ fairlearn table
def _safe(num_: float, den: float) -> float:
    return float(num_) / float(den) if den > 0 else float("nan")


def _metric_frame(task: str, y_true, y_pred, labels: np.ndarray, positive: int):
    """fairlearn MetricFrame of the per-group rates (point estimates).

    Classification rates depend only on how many rows share each (group, truth, prediction)
    combination, so the rows are first compressed losslessly to those combinations with
    their counts as sample weights: MetricFrame then sees a few dozen weighted rows instead
    of every row (its per-call cost grows with the rows).
    """
    from fairlearn.metrics import MetricFrame

    if task == "regression":
        fns = {
            "n": lambda yt, yp: float(len(yt)),
            "mean_target": lambda yt, yp: float(np.mean(yt)) if len(yt) else float("nan"),
            "mean_prediction": lambda yt, yp: float(np.mean(yp)) if len(yp) else float("nan"),
            "mae": lambda yt, yp: float(np.mean(np.abs(np.asarray(yt) - np.asarray(yp)))),
        }
        return MetricFrame(
            metrics=fns,
            y_true=np.asarray(y_true, dtype=float),
            y_pred=np.asarray(y_pred, dtype=float),
            sensitive_features=labels,
        )
    y = np.asarray(y_true).astype(np.int64)
    p = np.asarray(y_pred).astype(np.int64)
    # One-vs-rest for the positive class; accuracy over every class (encoded in one integer).
    packed_true = y * 2 + (y == positive)
    packed_pred = p * 2 + (p == positive)
    group_codes, group_of = np.unique(labels, return_inverse=True)
    keys = np.stack([group_of, packed_true, packed_pred], axis=1)
    combos, counts = np.unique(keys, axis=0, return_counts=True)

    def rate(kind):
        def fn(yt, yp, sample_weight):
            yt, yp, w = np.asarray(yt), np.asarray(yp), np.asarray(sample_weight, dtype=float)
            t, q, right = yt % 2, yp % 2, (yt // 2) == (yp // 2)
            n, pos, sel = w.sum(), (w * t).sum(), (w * q).sum()
            tp = (w * t * q).sum()
            return {
                "n": float(n),
                "base_rate": _safe(pos, n),
                "selection_rate": _safe(sel, n),
                "accuracy": _safe((w * right).sum(), n),
                "tpr": _safe(tp, pos),
                "fpr": _safe(sel - tp, n - pos),
                "fnr": _safe(pos - tp, pos),
                "precision": _safe(tp, sel),
            }[kind]

        return fn

    kinds = ("n", "base_rate", "selection_rate", "accuracy", "tpr", "fpr", "fnr", "precision")
    return MetricFrame(
        metrics={k: rate(k) for k in kinds},
        y_true=combos[:, 1],
        y_pred=combos[:, 2],
        sensitive_features=group_codes[combos[:, 0]],
        sample_params={k: {"sample_weight": counts} for k in kinds},
    )


# ------------------------------------------------------------------ the check
def fairness_splits(ctx: CheckContext) -> list[str]:
    wanted = {"test", "holdout"}
    for c in ctx.criteria:
        if c.get("metric") in FAIRNESS_METRICS:
            wanted.add(c.get("split", "test"))
    return [s for s in ctx.splits() if s in wanted]


def _criterion_bound(ctx: CheckContext, metric: str, split: str, sensitive: str) -> float | None:
    for c in ctx.criteria:
        if (
            c.get("metric") == metric
            and c.get("split", "test") == split
            and c.get("sensitive") == sensitive
            and not c.get("check")
        ):
            return c.get("at_least", c.get("at_most"))
    return None


@register(
    "fairness",
    "fairness",
    description="Fairness figures by sensitive group and intersection, with intervals.",
)
def fairness(ctx: CheckContext) -> list[Finding]:
    from auditor.metrics import resample_apply

    if not ctx.dataset.sensitive:
        return [
            Finding(
                id="fairness.none",
                check="fairness",
                category="fairness",
                status="skipped",
                title="Fairness",
                summary="Fairness was not measured: the spec names no "
                "sensitive features (data.sensitive).",
                recommendation="Name the sensitive attributes in data.sensitive so that "
                "fairness can be measured.",
            )
        ]
    task = ctx.task
    positive = positive_class(ctx) if task != "regression" else 0
    pos_label = str(ctx.evaluation.classes[positive]) if task != "regression" else ""
    names = fairness_metric_names(task)
    out: list[Finding] = []
    for split in fairness_splits(ctx):
        e = ctx.evaluation.splits[split]
        cols = row_columns(task, e.y_true, e.y_pred, positive)
        # Rows are ordered by their cell (the intersection of every sensitive feature); the
        # resample weights are i.i.d., so each cell's sums are one product of a contiguous
        # slice of W with its rows' columns, and every group of every partition is a union of
        # cells. Memory stays O(rows x columns) whatever the number of groups.
        cell, cell_codes = partition_codes(e.groups, list(ctx.dataset.sensitive))
        order = np.argsort(cell, kind="stable")
        bounds = np.searchsorted(cell[order], np.arange(len(cell_codes) + 1))
        sorted_cols = cols[order].astype(np.float32)
        parts = []
        for sens, columns in ctx.partitions():
            codes, labels = partition_codes(e.groups, columns)
            mapping = np.zeros((len(cell_codes), len(labels)))
            mapping[cell, codes] = 1.0  # cell -> group (every row of a cell is in one group)
            parts.append((sens, codes, labels, mapping))
        reps = None
        if ctx.resamples > 0 and len(cols) > 0:

            def cell_sums(w, c=sorted_cols, edges=bounds):
                return np.stack(
                    [
                        w[:, edges[i] : edges[i + 1]] @ c[edges[i] : edges[i + 1]]
                        for i in range(len(edges) - 1)
                    ],
                    axis=1,
                ).astype(np.float64)

            reps = resample_apply(
                len(cols), cell_sums, resamples=ctx.resamples, seed=ctx.seed(split, 1)
            )
        overall = group_rates(task, cols.sum(axis=0)[None, :])
        for sens, codes, labels, mapping in parts:
            frame = _metric_frame(
                task, e.y_true, e.y_pred, np.asarray(labels, dtype=object)[codes], positive
            )
            table = frame.by_group
            point_rates = {
                k: np.array([float(table.loc[lab, k]) for lab in labels]) for k in table.columns
            }
            rep_rates = None
            if reps is not None:
                rep_rates = group_rates(task, np.einsum("bcq,cg->bgq", reps, mapping))
            sizes = point_rates["n"].astype(int)
            small = sizes < ctx.min_group_size
            needed = np.maximum(ctx.min_group_size - sizes, 0)
            groups = _Groups(
                split,
                sens,
                labels,
                point_rates,
                rep_rates,
                small,
                needed,
                _group_table(task, labels, point_rates, small, needed),
                len(cols),
                overall,
            )
            for name in names:
                metric = FAIRNESS_METRICS[name]
                value = finite(aggregate(metric, point_rates))
                ci = None
                if rep_rates is not None:
                    ci = aggregate_interval(
                        metric, aggregate(metric, rep_rates), value, ctx.confidence
                    )
                adequate = None
                if small.any() and (~small).sum() >= 2:
                    adequate = finite(aggregate(metric, point_rates, mask=~small))
                out.append(_finding(ctx, metric, groups, value, ci, adequate, pos_label))
    return out


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
    keys = (
        ("base_rate", "selection_rate", "accuracy", "tpr", "fpr", "fnr", "precision")
        if task != "regression"
        else ("mean_target", "mean_prediction", "mae")
    )
    rows = []
    for i, label in enumerate(labels):
        row: dict[str, Any] = {"group": label, "n": int(rates["n"][i])}
        row.update({k: finite(rates[k][i]) for k in keys})
        row.update(inconclusive=bool(small[i]), needed=int(needed[i]))
        rows.append(row)
    return rows


_RATE_WORDS = {"tpr": "true positive rate", "fpr": "false positive rate"}
SMALL_SHOWN = 4  # small groups named one by one in a summary; the rest are counted


def _rate_figure(rate: str, how: str, rates: dict[str, np.ndarray]) -> float | None:
    """The across-group figure (``how``: difference, ratio, min) of one per-group rate."""
    return finite(aggregate(FairnessMetric("", "", (rate,), how, CLS), rates))


def _deciding_rate(metric: FairnessMetric, rates: dict[str, np.ndarray]) -> str:
    """The per-group rate that sets the figure (equalized odds: the TPR or the FPR)."""
    if len(metric.rates) == 1:
        return metric.rates[0]
    figures = [_rate_figure(r, metric.aggregate, rates) for r in metric.rates]
    valid = [(f, r) for f, r in zip(figures, metric.rates, strict=True) if f is not None]
    if not valid:
        return metric.rates[0]
    pick = max if metric.aggregate == "difference" else min
    return pick(valid, key=lambda t: t[0])[1]


def small_groups_text(labels, sizes, needed, minimum: int) -> str:
    """'2 groups have fewer than 30 rows and cannot be judged: a (25 rows, 5 more needed), ...'."""
    small = [i for i in np.argsort(-np.asarray(needed), kind="stable") if needed[i] > 0]
    shown = [
        f"{labels[i]} ({int(sizes[i])} row{'s' if int(sizes[i]) != 1 else ''}, "
        f"{int(needed[i])} more needed)"
        for i in small[:SMALL_SHOWN]
    ]
    rest = len(small) - len(shown)
    listed = ", ".join(shown) + (f" and {rest} more" if rest > 0 else "")
    if len(small) == 1:
        return f"Group {listed} is below the minimum of {minimum} rows, so it cannot be judged."
    return f"{len(small)} groups have fewer than {minimum} rows and cannot be judged: {listed}."


def _judge(ctx: CheckContext, metric: FairnessMetric, value: float | None):
    """(status, threshold, direction) against the diagnostics, when one applies."""
    if value is None:
        return "inconclusive", None, None
    if metric.aggregate == "difference" and metric.tasks == CLS:
        bound = float(ctx.diagnostics["max_fairness_difference"])
        return ("warn" if value > bound else "pass"), bound, "at_most"
    if metric.aggregate == "ratio":
        bound = float(ctx.diagnostics["min_fairness_ratio"])
        return ("warn" if value < bound else "pass"), bound, "at_least"
    return "pass", None, None


def _finding(
    ctx: CheckContext,
    metric: FairnessMetric,
    groups: _Groups,
    value: float | None,
    ci: tuple[float, float] | None,
    adequate: float | None,
    pos_label: str,
) -> Finding:
    split, sens, labels, rates = groups.split, groups.sens, groups.labels, groups.rates
    small, needed = groups.small, groups.needed
    rate = _deciding_rate(metric, rates)
    r = rates[rate]
    valid = np.isfinite(r)
    hi_i = int(np.nanargmax(np.where(valid, r, -np.inf))) if valid.any() else 0
    lo_i = int(np.nanargmin(np.where(valid, r, np.inf))) if valid.any() else 0
    hi_g, lo_g = labels[hi_i], labels[lo_i]
    where = f"across {sens} on {split_words(split)}"
    outcome = f"{ctx.dataset.target} = {pos_label}"
    is_rate = metric.tasks == CLS
    conf = ctx.confidence
    tail = ""  # a clause after the interval
    if metric.name.startswith("demographic_parity"):
        core = (
            (
                f"The model predicts {outcome} for {hi_g} {points(value)} more often than for "
                f"{lo_g} ({pct(r[hi_i])} vs {pct(r[lo_i])})"
            )
            if metric.aggregate == "difference"
            else (
                f"The lowest selection rate ({lo_g}, {pct(r[lo_i])}) is {num(value)} times "
                f"the highest ({hi_g}, {pct(r[hi_i])})"
            )
        )
    elif metric.name == "equal_opportunity_difference":
        core = (
            f"Among cases that truly are {outcome}, the model finds those of {hi_g} "
            f"{points(value)} more often than those of {lo_g} ({pct(r[hi_i])} vs {pct(r[lo_i])})"
        )
    elif metric.name.startswith("equalized_odds"):
        other = "tpr" if rate == "fpr" else "fpr"
        name_, other_name = _RATE_WORDS[rate], _RATE_WORDS[other]
        other_value = _rate_figure(other, metric.aggregate, rates)
        if metric.aggregate == "difference":
            core = (
                f"The {name_} of {hi_g} is {points(value)} higher than that of {lo_g} "
                f"({pct(r[hi_i])} vs {pct(r[lo_i])})"
            )
            tail = f"; the {other_name} gap is {points(other_value)}"
        else:
            core = (
                f"The {name_} of {lo_g} ({pct(r[lo_i])}) is {num(value)} times that of "
                f"{hi_g} ({pct(r[hi_i])})"
            )
            tail = f"; the {other_name} ratio is {num(other_value)}"
    elif metric.name == "worst_group_accuracy":
        core = f"The least accurate group, {lo_g}, gets {pct(value)} of decisions right"
    elif metric.name == "accuracy_difference":
        core = (
            f"Accuracy differs by {points(value)} between {hi_g} ({pct(r[hi_i])}) and "
            f"{lo_g} ({pct(r[lo_i])})"
        )
    elif metric.name == "mae_difference":
        core = (
            f"The typical error for {hi_g} is {num(value)} larger than for {lo_g} "
            f"(MAE {num(r[hi_i])} vs {num(r[lo_i])})"
        )
    else:
        core = (
            f"Average predictions for {hi_g} are {num(value)} higher than for {lo_g} "
            f"({num(r[hi_i])} vs {num(r[lo_i])})"
        )
    as_points = is_rate and metric.aggregate in ("difference", "min") and value is not None
    if metric.aggregate == "min" and is_rate and ci:  # a rate, not a difference: percent
        interval = f" ({100 * conf:g}% CI {pct(ci[0])} to {pct(ci[1])})"
    else:
        interval = ci_text(ci, conf, as_points=as_points)
    summary = f"{core} {where}{interval}{tail}."
    status, threshold, direction = _judge(ctx, metric, value)
    recommendation = ""
    if small.any():
        status = "inconclusive"
        summary += " " + small_groups_text(labels, rates["n"], needed, ctx.min_group_size)
        if adequate is not None:
            shown = (
                (pct(adequate) if metric.aggregate == "min" else points(adequate))
                if is_rate and metric.aggregate != "ratio"
                else num(adequate)
            )
            summary += (
                " Leaving the small groups out does not change the figure."
                if value is not None and abs(adequate - value) < 1e-12
                else f" Over the groups large enough to judge it is {shown}."
            )
        worst = int(np.argmax(needed))
        recommendation = (
            f"Collect at least {int(needed[worst])} more rows of {labels[worst]}"
            + (" (and of the other small groups listed)" if int(small.sum()) > 1 else "")
            + f" - every group needs {ctx.min_group_size} - before judging fairness {where}."
        )
    elif status == "warn":
        recommendation = (
            f"Investigate why {lo_g} and {hi_g} are treated differently: check the "
            f"training labels for historical bias against a group, look for features that "
            f"act as proxies for {sens}, and agree a policy before adjusting decisions."
        )
    bound = _criterion_bound(ctx, metric.name, split, sens)
    title_value = (
        (pct(value) if metric.aggregate == "min" else points(value)) if as_points else num(value)
    )
    return Finding(
        id=f"fairness.{metric.name}.{split}.{sens}",
        check="fairness",
        category="fairness",
        status=status,
        title=f"{metric.label} across {sens} on {split}",
        summary=summary,
        value=value,
        ci=ci,
        threshold=threshold,
        direction=direction,
        recommendation=recommendation,
        metric=metric.name,
        split=split,
        sensitive=sens,
        n=groups.n,
        details={
            "groups": groups.table,
            "rate": rate,
            "label": metric.label,
            "adequate_value": adequate,
            "min_group_size": ctx.min_group_size,
            "highest_group": hi_g,
            "lowest_group": lo_g,
            "positive_class": pos_label or None,
        },
        chart={
            "kind": "group_bars",
            "metric": rate,
            "rows": groups.chart_rows(rate, conf),
            "bound": bound if metric.aggregate == "min" else None,
            "reference": finite(groups.overall[rate][0]),
            "title": f"{RATE_LABELS.get(rate, rate)} by {sens} on {split}: "
            f"{metric.label.lower()} {title_value}",
        },
    )
