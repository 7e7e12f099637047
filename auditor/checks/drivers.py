"""Checks on what drives the model: permutation importance, driver rank, monotone effects.

They read ``evaluation.drivers`` (:class:`auditor.importance.Drivers`, measured in the
evaluate stage: the checks cannot call the model) and turn the declared expectations of
domain experts into findings a criterion can bound, each naming its feature in
``details["feature"]`` (a criterion's ``feature`` selects it):

- ``feature_importance``: how much the metric drops when the feature is shuffled (a
  proxy of a protected attribute must not drive the model: ``at_most``); its summary
  finding charts every feature's importance with its interval;
- ``driver_rank``: the feature's rank among all features by that importance (1: the
  strongest; ``at_most: 3`` for a feature expected among the top three);
- ``monotone_increasing`` / ``monotone_decreasing``: the largest fall (or rise) of the
  partial dependence as the feature grows over its quantiles, in predicted probability
  (or predicted value); ``at_most`` is the tolerance.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from auditor.checks.registry import At, CheckContext, Measurement, any_metric, register
from auditor.checks.text import num
from auditor.importance import MONOTONE_CHECKS
from auditor.metrics.bootstrap import hull_interval, percentile_interval
from auditor.splits import CLIENT_ROLE_ORDER
from auditor.types import Finding

NOT_MEASURED = "What drives the model was not measured: {reason}."
NOT_A_FEATURE = "'{feature}' is not one of the model's feature columns ({features})."
NOT_NUMERIC = (
    "'{feature}' is not a numeric feature (or the task is multiclass), so it has no "
    "direction to grow in."
)
CHART_BARS = 15  # features shown in the driver chart


def _drivers(ctx: CheckContext):
    return ctx.evaluation.drivers


def _unmeasured(ctx: CheckContext) -> list[Finding]:
    reason = ctx.evaluation.notes.get("drivers", "no client split was evaluated")
    return ctx.skipped(
        f"{ctx.check.label} not measured", NOT_MEASURED.format(reason=reason.rstrip("."))
    )


def _named(ctx: CheckContext, check: str) -> list[tuple[str, str | None]]:
    """(feature, metric) of every criterion on ``check`` that names a feature, in order."""
    out: list[tuple[str, str | None]] = []
    for c in ctx.criteria:
        feature = getattr(c, "feature", None)
        if c.check == check and feature and (feature, c.metric) not in out:
            out.append((feature, c.metric))
    return out


def _allowed(ctx: CheckContext, check: str, feature: str) -> str:
    """'; the spec allows at most 0.01' (the bounds of the criteria on this feature)."""
    words = [
        " and ".join(b.words for b in c.bounds)
        for c in ctx.criteria
        if c.check == check and getattr(c, "feature", None) == feature and c.bounds
    ]
    return f"; the spec allows {words[0]}" if words else ""


def _metric_of(drivers, metric: str | None) -> str:
    return metric if metric in drivers.importance else drivers.metrics[0]


def _not_a_feature(ctx: CheckContext, drivers, feature: str, metric: str | None) -> Finding:
    listing = ", ".join(drivers.features[:8]) + (", ..." if len(drivers.features) > 8 else "")
    return ctx.finding(
        ctx.check.name,
        At(metric, drivers.split),
        feature,
        status="skipped",
        title=f"{ctx.check.label} of '{feature}'",
        summary=NOT_A_FEATURE.format(feature=feature, features=listing),
        details={"feature": feature},
    )


# ---------------------------------------------------------------------- importance
def _label(metric: str) -> str:
    from auditor.metrics import METRICS

    return METRICS[metric].label if metric in METRICS else metric


def _importance_sentence(ctx: CheckContext, feature: str, metric: str, value, ci) -> str:
    if ci is not None and ci[0] <= 0.0 <= ci[1]:
        return (
            f"Shuffling '{feature}' changes {_label(metric)} by {num(value, digits=3)}"
            f"{_ci3(ci, ctx.confidence)}: no measurable effect on the model"
        )
    return (
        f"'{feature}' drives the model: shuffling it costs {num(value, digits=3)} of "
        f"{_label(metric)}{_ci3(ci, ctx.confidence)}"
    )


def _ci3(ci, confidence: float) -> str:
    if not ci:
        return ""
    return f" ({100 * confidence:g}% CI {num(ci[0], digits=3)} to {num(ci[1], digits=3)})"


def _summary(ctx: CheckContext, drivers, metric: str) -> Finding:
    table = drivers.importance[metric]
    order = sorted(drivers.features, key=lambda f: -table[f][0])
    texts = {f for f in order if ctx.dataset.column_types.get(f) == "text"}

    def named(f: str) -> str:  # the text column said as such: shuffled whole texts
        return f"{f} (text)" if f in texts else f

    rows = [
        {"label": named(f), "value": table[f][0], "low": table[f][1], "high": table[f][2]}
        for f in order
    ]
    top = order[0]
    clear = [f for f in order if table[f][1] is not None and table[f][1] > 0]
    summary = (
        f"On {drivers.rows:,} rows of {ctx.phrase(drivers.split)}, the strongest driver is "
        f"'{top}'{' (the text column: whole texts shuffled across rows)' if top in texts else ''}"
        f": shuffling it costs {num(table[top][0], digits=3)} of {_label(metric)}"
        f"{_ci3(table[top][1:] if table[top][1] is not None else None, ctx.confidence)}; "
        f"{len(clear)} of {len(order)} features have an effect clearly above 0."
    )
    return ctx.finding(
        ctx.check.name,
        At(metric, drivers.split),
        measured=Measurement(table[top][0], None, drivers.rows),
        title=f"What drives the model ({_label(metric)})",
        summary=summary,
        details={
            "importance": [
                {
                    "feature": r["label"],
                    "importance": r["value"],
                    "low": r["low"],
                    "high": r["high"],
                }
                for r in rows
            ],
            "unshuffled": drivers.baseline[metric],
            "rows": drivers.rows,
            "repeats": drivers.repeats,
            "resamples": drivers.resamples,
            "seconds": drivers.seconds,
        },
        chart={
            "kind": "metric_intervals",
            "title": f"'{top}' drives the model most: {_label(metric)} lost when shuffled",
            "metric": f"{_label(metric)} lost when the feature is shuffled",
            "bound": None,
            "rows": rows[:CHART_BARS],
        },
    )


@register(
    "feature_importance",
    "drivers",
    label="Permutation importance",
    description="How much the metric drops when one feature's values are shuffled among the "
    "rows (permutation importance, with a bootstrap interval); a criterion names the feature.",
    bounded=True,
    measured_in=any_metric,
    roles=CLIENT_ROLE_ORDER,
)
def feature_importance(ctx: CheckContext) -> list[Finding]:
    """Every feature's permutation importance; one finding per feature a criterion names."""
    drivers = _drivers(ctx)
    if drivers is None:
        return _unmeasured(ctx)
    out = [_summary(ctx, drivers, drivers.metrics[0])]
    for feature, wanted in _named(ctx, "feature_importance"):
        metric = _metric_of(drivers, wanted)
        if feature not in drivers.features:
            out.append(_not_a_feature(ctx, drivers, feature, metric))
            continue
        value, low, high = drivers.importance[metric][feature]
        ci = (low, high) if low is not None else None
        out.append(
            ctx.finding(
                ctx.check.name,
                At(metric, drivers.split),
                feature,
                measured=Measurement(
                    value, ci, drivers.rows, replicates=_column(drivers, metric, feature)
                ),
                title=f"Importance of '{feature}'",
                summary=_importance_sentence(ctx, feature, metric, value, ci)
                + _allowed(ctx, "feature_importance", feature)
                + ".",
                details={"feature": feature, "unshuffled": drivers.baseline[metric]},
            )
        )
    return out


def _column(drivers, metric: str, feature: str):
    reps = drivers.replicates.get(metric)
    return None if reps is None else reps[:, drivers.features.index(feature)]


# ---------------------------------------------------------------------- rank
def ranks(importance: np.ndarray) -> np.ndarray:
    """1-based rank of each column (1: the largest) along the last axis."""
    order = np.argsort(-importance, axis=-1, kind="stable")
    out = np.empty_like(order)
    np.put_along_axis(out, order, np.arange(1, importance.shape[-1] + 1), axis=-1)
    return out


@register(
    "driver_rank",
    "drivers",
    label="Driver rank",
    description="A feature's rank among all features by permutation importance (1: the "
    "strongest), with an interval over bootstrap resamples; at_most k: among the top k.",
    bounded=True,
    measured_in=any_metric,
    value_range=(1.0, None),
    roles=CLIENT_ROLE_ORDER,
)
def driver_rank(ctx: CheckContext) -> list[Finding]:
    """The rank of every feature a criterion names among the drivers."""
    named = _named(ctx, "driver_rank")
    drivers = _drivers(ctx)
    if not named:
        return []
    if drivers is None:
        return _unmeasured(ctx)
    out = []
    for feature, wanted in named:
        metric = _metric_of(drivers, wanted)
        if feature not in drivers.features:
            out.append(_not_a_feature(ctx, drivers, feature, metric))
            continue
        j = drivers.features.index(feature)
        point = np.array([drivers.importance[metric][f][0] for f in drivers.features])
        rank = int(ranks(point)[j])
        reps = drivers.replicates.get(metric)
        ci = None
        if reps is not None:
            ci = percentile_interval(ranks(reps)[:, j].astype(float), ctx.confidence)
        ahead = [f for f in drivers.features if point[drivers.features.index(f)] > point[j]]
        summary = (
            f"'{feature}' is driver number {rank} of {len(drivers.features)} by permutation "
            f"importance in {_label(metric)}"
            + (f" (95% range {ci[0]:.0f} to {ci[1]:.0f})" if ci else "")
            + (f"; ahead of it: {', '.join(ahead[:5])}" if ahead else "")
            + _allowed(ctx, "driver_rank", feature)
            + "."
        )
        out.append(
            ctx.finding(
                ctx.check.name,
                At(metric, drivers.split),
                feature,
                measured=Measurement(float(rank), ci, drivers.rows),
                title=f"Rank of '{feature}' among the drivers",
                summary=summary.replace("95%", f"{100 * ctx.confidence:g}%"),
                details={"feature": feature, "ahead": ahead},
            )
        )
    return out


# ---------------------------------------------------------------------- monotone
def largest_violation(curves: np.ndarray, direction: str) -> np.ndarray:
    """The largest fall (``increasing``) or rise (``decreasing``) along the last axis.

    For an expected increase: the largest drop from any earlier point to a later one,
    ``max_j (max_{i<=j} c_i - c_j)``, 0 for a curve that never falls.
    """
    c = np.asarray(curves, dtype=np.float64)
    if direction == "decreasing":
        c = -c
    if c.shape[-1] == 0:
        return np.zeros(c.shape[:-1])
    return np.max(np.maximum.accumulate(c, axis=-1) - c, axis=-1)


def _monotone(ctx: CheckContext) -> list[Finding]:
    direction = MONOTONE_CHECKS[ctx.check.name]
    named = _named(ctx, ctx.check.name)
    drivers = _drivers(ctx)
    if not named:
        return []
    if drivers is None:
        return _unmeasured(ctx)
    out = []
    fall = "fall" if direction == "increasing" else "rise"
    for feature, _ in named:
        dep = drivers.dependence.get(feature)
        if feature not in drivers.features:
            out.append(_not_a_feature(ctx, drivers, feature, None))
            continue
        if dep is None or len(dep.grid) < 2:
            out.append(
                ctx.finding(
                    ctx.check.name,
                    At(None, drivers.split),
                    feature,
                    status="skipped",
                    title=f"Partial dependence of '{feature}'",
                    summary=NOT_NUMERIC.format(feature=feature),
                    details={"feature": feature},
                )
            )
            continue
        curve = np.asarray(dep.curve)
        value = float(largest_violation(curve, direction))
        ci = None
        reps = None
        if dep.replicates is not None:
            reps = largest_violation(dep.replicates, direction)
            ci = hull_interval(reps, value, ctx.confidence, lower=0.0)
        what = "probability" if ctx.task == "binary" else "value"
        summary = (
            f"As '{feature}' grows from {num(dep.grid[0])} to {num(dep.grid[-1])}, the mean "
            f"predicted {what} goes from {num(curve[0], digits=3)} to "
            f"{num(curve[-1], digits=3)}; its largest {fall} against the expected "
            f"{direction} direction is {num(value, digits=3)}{_ci3(ci, ctx.confidence)}"
            + _allowed(ctx, ctx.check.name, feature)
            + "."
        )
        out.append(
            ctx.finding(
                ctx.check.name,
                At(None, drivers.split),
                feature,
                measured=Measurement(value, ci, dep.rows, replicates=reps),
                title=f"'{feature}' {direction} effect",
                summary=summary,
                details={
                    "feature": feature,
                    "direction": direction,
                    "dependence": [
                        {"value": g, "mean_prediction": c}
                        for g, c in zip(dep.grid, dep.curve, strict=True)
                    ],
                },
            )
        )
    return out


_MONOTONE: dict[str, Any] = {
    "tasks": ("binary", "regression"),
    "bounded": True,
    "value_range": (0.0, None),
    "roles": CLIENT_ROLE_ORDER,
}


@register(
    "monotone_increasing",
    "drivers",
    label="Largest fall of the partial dependence",
    description="The largest fall of the model's mean prediction as the numeric feature a "
    "criterion names grows over its quantiles (0: never falls); at_most is the tolerance.",
    **_MONOTONE,
)
def monotone_increasing(ctx: CheckContext) -> list[Finding]:
    """Partial dependence expected not to decrease as the feature grows."""
    return _monotone(ctx)


@register(
    "monotone_decreasing",
    "drivers",
    label="Largest rise of the partial dependence",
    description="The largest rise of the model's mean prediction as the numeric feature a "
    "criterion names grows over its quantiles (0: never rises); at_most is the tolerance.",
    **_MONOTONE,
)
def monotone_decreasing(ctx: CheckContext) -> list[Finding]:
    """Partial dependence expected not to increase as the feature grows."""
    return _monotone(ctx)
