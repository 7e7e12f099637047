"""Stability across folds: whether the configuration's score depends on its training rows.

Reads ``evaluation.cross_validation`` (:func:`auditor.cross_validation.cross_validate`:
every metric on each held-out fold of the train split, the configuration trained on the
other folds). ``fold_stability`` is the spread (sample standard deviation) of a metric
across the folds, with the chi-square interval of a standard deviation (folds are few,
so the interval is wide: with 5 folds it spans about 0.6 to 2.9 times the estimate),
against ``diagnostics.max_fold_spread``. A spread above the bound is an instability
finding: the model one gets depends on which rows it happened to train on, so a single
test-split figure says less than it seems to.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from auditor.checks.registry import At, CheckContext, Measurement, any_metric, register
from auditor.checks.text import ci_text, num
from auditor.types import Finding

MSG_NOT_MEASURED = "Cross-validation was not measured: {reason}."


def spread_interval(values: np.ndarray, confidence: float) -> tuple[float, float] | None:
    """The chi-square interval of the standard deviation of ``values`` (None under 2)."""
    from scipy.stats import chi2

    k = int(np.isfinite(values).sum())
    if k < 2:
        return None
    s2 = float(np.nanvar(values, ddof=1))
    alpha = 1.0 - confidence
    low = np.sqrt((k - 1) * s2 / chi2.ppf(1 - alpha / 2, k - 1))
    high = np.sqrt((k - 1) * s2 / chi2.ppf(alpha / 2, k - 1))
    return float(low), float(high)


def _summary_rows(per_fold: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every metric's mean, spread, lowest and highest fold (the finding's table)."""
    skip = {"fold", "rows"}
    rows = []
    for metric in [k for k in per_fold[0] if k not in skip]:
        values = np.array([f.get(metric) for f in per_fold], dtype=float)
        if not np.isfinite(values).any():
            continue
        rows.append(
            {
                "metric": metric,
                "mean": float(np.nanmean(values)),
                "spread": float(np.nanstd(values, ddof=1)) if len(values) > 1 else None,
                "lowest": float(np.nanmin(values)),
                "highest": float(np.nanmax(values)),
            }
        )
    return rows


@register(
    "fold_stability",
    "fit",
    label="Spread across folds",
    description="A metric's standard deviation across the folds of evaluation.cross_validation "
    "(the configuration retrained on each), with an interval: instability when it is large.",
    bounded=True,
    per_split=False,
    measured_in=any_metric,
    requires=("evaluation.cross_validation",),
    value_range=(0.0, None),
)
def fold_stability(ctx: CheckContext) -> list[Finding]:
    """The spread of the primary metric (and any a criterion names) across the folds.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        ``fit.fold_stability.<metric>`` per metric; none without cross-validation, one
        skipped finding when it was declared but not measured.
    """
    cv = ctx.evaluation.cross_validation
    if cv is None:
        reason = ctx.evaluation.notes.get("cross_validation")
        if reason is None:
            return []
        return ctx.skipped("Spread across folds", MSG_NOT_MEASURED.format(reason=reason))
    names = dict.fromkeys(
        [ctx.evaluation.primary_metric, *ctx.criterion_metrics(check="fold_stability")]
    )
    table = _summary_rows(cv["per_fold"])
    return [_finding(ctx, cv, metric, table) for metric in names if metric in cv["per_fold"][0]]


def _finding(ctx: CheckContext, cv: dict, metric: str, table: list) -> Finding:
    from auditor.metrics import get_metric

    m = get_metric(metric)
    values = np.array([f.get(metric) for f in cv["per_fold"]], dtype=float)
    spread = float(np.nanstd(values, ddof=1))
    ci = spread_interval(values, ctx.confidence)
    bound = ctx.diagnostic("max_fold_spread")
    status = ctx.diagnose(spread, bound)
    k = len(values)
    mean, low, high = (num(float(f(values)), digits=3) for f in (np.nanmean, np.nanmin, np.nanmax))
    summary = (
        f"Trained on {k} different {k - 1}/{k} shares of the {cv['rows']:,} training rows, the "
        f"configuration's {m.label} on the held-out rows is {mean} on average, from {low} to "
        f"{high}: a spread of {num(spread, digits=3)}"
        f"{ci_text(ci, ctx.confidence, digits=3)}"
        + (
            f", more than {num(bound.value, digits=3)}: the score depends on which rows it "
            "trained on."
            if status == "warn"
            else "."
        )
    )
    return ctx.finding(
        "fold_stability",
        At(metric, None),
        measured=Measurement(spread, ci, int(cv["rows"]), bound),
        title=f"Spread of {m.label} across {k} folds",
        summary=summary,
        recommendation=(
            "More training rows, a simpler model or stronger regularisation usually steady "
            "it; judge the test-split figures with this spread in mind."
            if status == "warn"
            else ""
        ),
        details={
            "across_folds": table,
            "strategy": cv["strategy"],
            **({"group_column": cv["group_column"]} if cv.get("group_column") else {}),
        },
        chart={
            "kind": "metric_intervals",
            "title": f"{m.label} on each held-out fold",
            "metric": metric,
            "rows": [
                {"label": f"fold {f['fold']} ({f['rows']:,} rows)", "value": f.get(metric)}
                for f in cv["per_fold"]
            ],
            "bound": None,
        },
    )
