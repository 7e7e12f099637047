"""Performance per split: every metric with its interval, curves, and the cost of errors."""

from __future__ import annotations

import numpy as np

from auditor.checks.registry import At, CheckContext, register
from auditor.checks.text import ci_pair, ci_text, downsample, finite, interval_row, num
from auditor.types import Finding

CURVE_POINTS = 200  # most points kept of a ROC / PR curve
RESIDUAL_POINTS = 2000  # most points kept of a residual chart
CALIBRATION_BINS = 10


def _metric_chart(name: str, m, rows: list[dict]) -> dict:
    """The chart of one metric's value and interval on every split."""
    return {
        "kind": "metric_intervals",
        "metric": name,
        "rows": rows,
        "bound": None,
        "title": f"{m.label} by split",
    }


def _metric_finding(ctx: CheckContext, name: str, m, s: str, est, chart) -> Finding:
    """The finding of one metric on one split (an 'error' when it could not be computed)."""
    ci = ci_pair(est.low, est.high)
    value = finite(est.value)
    summary = (
        f"{m.label} on {ctx.phrase(s)} is {num(value, digits=3)}"
        f"{ci_text(ci, ctx.confidence)}; {m.direction} is better."
    )
    return ctx.finding(
        At(name, s),
        status="pass" if value is not None else "error",
        title=f"{m.label} on {s}",
        summary=summary
        if value is not None
        else f"{m.label} could not be computed on {ctx.phrase(s)} (for example only "
        "one class is present).",
        value=value,
        ci=ci,
        n=est.n,
        replicates=est.replicates,
        recommendation=""
        if value is not None
        else "Check that every class is present in this split.",
        details={
            "label": m.label,
            "direction": m.direction,
            "description": m.description,
        },
        chart=chart,
    )


@register(
    "performance",
    "performance",
    label="Performance",
    description="Every applicable metric on every split, with its bootstrap interval.",
)
def performance(ctx: CheckContext) -> list[Finding]:
    """Every applicable performance metric on every split, with its bootstrap interval.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One per metric and split: ``performance.<metric>.<split>``.
    """
    from auditor.metrics import get_metric

    out: list[Finding] = []
    splits = ctx.splits()
    per_split = {s: ctx.estimates(s) for s in splits}
    chart_split = "test" if "test" in splits else splits[-1]  # the split carrying the chart
    for name in ctx.metric_set():
        m = get_metric(name)
        chart_rows = [interval_row(s, per_split[s][name]) for s in splits]
        for s in splits:
            chart = _metric_chart(name, m, chart_rows) if s == chart_split else None
            out.append(_metric_finding(ctx, name, m, s, per_split[s][name], chart))
    return out


@register(
    "prediction_coverage",
    "performance",
    label="Prediction coverage",
    description="Splits the model does not score (a vendor's predictions file may cover "
    "only some), and so are not evaluated.",
)
def prediction_coverage(ctx: CheckContext) -> list[Finding]:
    """The splits a vendor's predictions do not cover, which are therefore not evaluated.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One skipped finding per uncovered split: ``performance.coverage.<split>``.
    """
    uncovered = dict(ctx.evaluation.notes.get("uncovered_splits") or {})
    return [
        ctx.finding(
            "coverage",
            At(split=split),
            status="skipped",
            title=f"No predictions for {split}",
            summary=f"{reason[:1].upper()}{reason[1:]}: no performance, fairness or fit figure "
            f"is measured on it.",
            n=int(len(ctx.dataset.y.get(split, []))),
            recommendation=f"Ask the vendor to score every row of {ctx.phrase(split)} "
            "(matched by data.id_column) if it is to be judged.",
            details={"reason": reason},
        )
        for split, reason in uncovered.items()
    ]


def _curve(ctx: CheckContext, kind: str, split: str, *, value: float, summary: str, **chart):
    """One curve finding (``roc`` or ``pr``) of ``split`` with its downsampled chart."""
    names = {
        "roc": ("roc_curve", "ROC curve", "roc_auc"),
        "pr": ("pr_curve", "Precision-recall curve", "pr_auc"),
    }
    key, title, metric = names[kind]
    return ctx.finding(
        key,
        At(split=split),
        status="pass",
        title=f"{title} on {split}",
        summary=summary,
        value=value,
        metric=metric,
        n=chart.pop("n"),
        chart={"kind": kind, **chart},
    )


def _binary_curves(ctx: CheckContext, split: str, e) -> list[Finding]:
    from sklearn.metrics import auc, precision_recall_curve, roc_curve

    y = np.asarray(e.y_true).astype(int)
    s = np.asarray(e.scores, dtype=np.float64)
    if len(np.unique(y)) < 2 or not ctx.has_scores:
        return []
    fpr, tpr, _ = roc_curve(y, s)
    keep = downsample(len(fpr), CURVE_POINTS)
    roc_auc = float(auc(fpr, tpr))
    roc = _curve(
        ctx,
        "roc",
        split,
        value=roc_auc,
        summary="Across all thresholds the model separates the classes with an area of "
        f"{num(roc_auc)} on {ctx.phrase(split)} (0.5 is chance, 1 is perfect).",
        n=len(y),
        title=f"ROC curve on {split}: area {num(roc_auc)}",
        fpr=[float(fpr[i]) for i in keep],
        tpr=[float(tpr[i]) for i in keep],
        auc=roc_auc,
    )
    precision, recall, _ = precision_recall_curve(y, s)
    keep = downsample(len(precision), CURVE_POINTS)
    ap = (
        float(ctx.estimates(split)["pr_auc"].value)
        if "pr_auc" in ctx.metric_set()
        else float(auc(recall, precision))
    )
    base = float(y.mean())
    pr = _curve(
        ctx,
        "pr",
        split,
        value=ap,
        summary=f"Average precision is {num(ap)} on {ctx.phrase(split)}, against "
        f"{num(base)} for random guessing.",
        n=len(y),
        title=f"Precision-recall on {split}: average precision {num(ap)}",
        recall=[float(recall[i]) for i in keep],
        precision=[float(precision[i]) for i in keep],
        auc=ap,
        base_rate=base,
    )
    return [roc, pr]


def _calibration(ctx: CheckContext, split: str, e) -> Finding | None:
    if not ctx.has_scores:
        return None
    y = np.asarray(e.y_true).astype(int)
    if ctx.task == "binary":
        conf = np.asarray(e.scores, dtype=np.float64)
        hit = (y == 1).astype(float)
        what = "positive outcome"
    else:
        proba = np.asarray(e.scores, dtype=np.float64)
        conf, hit = proba.max(axis=1), (proba.argmax(axis=1) == y).astype(float)
        what = "predicted class being right"
    bins = np.minimum((conf * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1).clip(0)
    counts = np.bincount(bins, minlength=CALIBRATION_BINS)
    sum_p = np.bincount(bins, weights=conf, minlength=CALIBRATION_BINS)
    sum_y = np.bincount(bins, weights=hit, minlength=CALIBRATION_BINS)
    used = counts > 0
    predicted = (sum_p[used] / counts[used]).tolist()
    observed = (sum_y[used] / counts[used]).tolist()
    ece = float(np.abs(sum_y - sum_p).sum() / max(len(y), 1))
    return ctx.finding(
        "calibration",
        At(split=split),
        status="pass",
        title=f"Calibration on {split}",
        summary=f"Predicted probabilities of the {what} are off from observed frequencies by "
        f"{num(ece, digits=3)} on average on {ctx.phrase(split)} (0 is perfectly calibrated).",
        value=ece,
        metric="ece",
        n=len(y),
        chart={
            "kind": "calibration",
            "title": f"Calibration on {split}: average gap {num(ece, digits=3)}",
            "predicted": predicted,
            "observed": observed,
            "counts": counts[used].tolist(),
        },
    )


def _residuals(ctx: CheckContext, split: str, e) -> Finding:
    """The residuals finding of a regression split, with a sample of its errors charted."""
    y = np.asarray(e.y_true, dtype=np.float64)
    p = np.asarray(e.y_pred, dtype=np.float64)
    keep = np.random.default_rng(ctx.seed(split, 7)).permutation(len(y))[:RESIDUAL_POINTS]
    keep.sort()
    resid = y - p
    return ctx.finding(
        "residuals",
        At(split=split),
        status="pass",
        title=f"Residuals on {split}",
        summary=f"Half of the predictions on {ctx.phrase(split)} are within "
        f"{num(float(np.median(np.abs(resid))))} of the true value.",
        value=float(np.median(np.abs(resid))),
        n=len(y),
        chart={
            "kind": "residuals",
            "title": f"Prediction errors on {split}",
            "predicted": p[keep].tolist(),
            "residual": resid[keep].tolist(),
        },
    )


def _confusion_matrix(ctx: CheckContext, split: str, e, labels: list[str]) -> Finding:
    """The confusion-matrix finding of a classification split."""
    k = len(labels)
    y = np.asarray(e.y_true).astype(int)
    yp = np.asarray(e.y_pred).astype(int)
    matrix = np.zeros((k, k), dtype=int)
    np.add.at(matrix, (y, yp), 1)
    wrong = int(matrix.sum() - np.trace(matrix))
    return ctx.finding(
        "confusion_matrix",
        At(split=split),
        status="pass",
        title=f"Confusion matrix on {split}",
        summary=f"The model gets {wrong:,} of {len(y):,} decisions wrong on {ctx.phrase(split)}.",
        value=float(wrong) / max(len(y), 1),
        n=len(y),
        details={"rows_are": "true class", "columns_are": "predicted class"},
        chart={
            "kind": "confusion_matrix",
            "title": f"{wrong:,} of {len(y):,} decisions wrong on {split}",
            "labels": labels,
            "matrix": matrix.tolist(),
        },
    )


@register(
    "curves",
    "performance",
    label="Curves",
    description="Confusion matrix, ROC, precision-recall and calibration curves; residuals.",
)
def curves(ctx: CheckContext) -> list[Finding]:
    """Confusion matrix, ROC, precision-recall and calibration; residuals.

    Confusion matrix, ROC and precision-recall curves and calibration per split;
    residuals for regression.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        Per split: ``performance.confusion_matrix``, ``roc_curve``, ``pr_curve``,
        ``calibration`` or ``residuals``, each ``.<split>``.
    """
    out: list[Finding] = []
    labels = [str(c) for c in ctx.evaluation.classes]
    for split in ctx.splits():
        e = ctx.evaluation.splits[split]
        if ctx.task == "regression":
            out.append(_residuals(ctx, split, e))
            continue
        out.append(_confusion_matrix(ctx, split, e, labels))
        if ctx.task == "binary":
            out.extend(_binary_curves(ctx, split, e))
        cal = _calibration(ctx, split, e)
        if cal is not None:
            out.append(cal)
    return out


def _costs_per_1000(ctx: CheckContext, split: str, c_fp: float, c_fn: float):
    """Cost, false positives and false negatives per 1,000 decisions, with intervals.

    Returns (point figures, their intervals, rows, the cost's replicates).
    """
    from auditor.metrics import percentile_interval

    est = ctx.estimates(split)  # the metrics' resamples also carry the error rates
    fp_e, fn_e = est["false_positive_rate"], est["false_negative_rate"]
    point = 1000.0 * np.array([c_fp * fp_e.value + c_fn * fn_e.value, fp_e.value, fn_e.value])
    cis, reps = [None, None, None], None
    if fp_e.replicates is not None:
        reps = 1000.0 * np.column_stack(
            [c_fp * fp_e.replicates + c_fn * fn_e.replicates, fp_e.replicates, fn_e.replicates]
        )
        cis = [percentile_interval(reps[:, j], ctx.confidence) for j in range(3)]
    return tuple(float(v) for v in point), cis, fp_e.n, None if reps is None else reps[:, 0]


def _cost_finding(ctx: CheckContext, split: str, c_fp: float, c_fn: float, unit: str) -> Finding:
    """The expected-cost finding of one split."""
    (cost, fp_k, fn_k), cis, n, reps = _costs_per_1000(ctx, split, c_fp, c_fn)
    return ctx.finding(
        "expected_cost",
        At(split=split),
        status="pass",
        title=f"Cost of wrong decisions on {split}",
        summary=f"On {ctx.phrase(split)}, wrong decisions cost about {num(cost)} {unit} "
        f"per 1,000 decisions{ci_text(cis[0], ctx.confidence)}: "
        f"{num(fp_k, digits=0)} false alarms "
        f"and {num(fn_k, digits=0)} missed positives per 1,000.",
        value=cost,
        ci=cis[0],
        n=n,
        replicates=reps,
        details={
            "unit": unit,
            "false_positive_cost": c_fp,
            "false_negative_cost": c_fn,
            "threshold": ctx.evaluation.threshold,
            "false_positives_per_1000": fp_k,
            "false_positives_ci": cis[1],
            "false_negatives_per_1000": fn_k,
            "false_negatives_ci": cis[2],
            "wrong_per_1000": fp_k + fn_k,
        },
        chart={
            "kind": "bars",
            "title": f"Wrong decisions per 1,000 on {split}",
            "labels": ["false positives", "false negatives"],
            "values": [fp_k, fn_k],
            "xlabel": "per 1,000 decisions",
            "bound": None,
        },
    )


@register(
    "expected_cost",
    "performance",
    label="Expected cost per 1,000 decisions",
    description="Expected cost and wrong decisions per 1,000 decisions (binary, costs declared).",
    bounded=True,
    tasks=("binary",),
    requires=("evaluation.costs",),
)
def expected_cost(ctx: CheckContext) -> list[Finding]:
    """The expected cost of wrong decisions per 1,000 decisions.

    Expected cost and wrong decisions per 1,000 decisions, from the declared costs of a
    false positive and a false negative, with intervals.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One per split (``performance.expected_cost.<split>``); skipped without costs.
    """
    costs = ctx.settings.costs
    if ctx.task != "binary" or not costs:
        reason = (
            "no costs are declared (evaluation.costs)"
            if ctx.task == "binary"
            else "costs apply to binary decisions only"
        )
        return ctx.skipped(
            "Cost of wrong decisions",
            f"The cost of wrong decisions was not computed: {reason}.",
        )
    c_fp, c_fn = float(costs.false_positive), float(costs.false_negative)
    return [_cost_finding(ctx, split, c_fp, c_fn, costs.unit) for split in ctx.splits()]
