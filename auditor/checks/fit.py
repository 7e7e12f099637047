"""Fit diagnostics: overfitting, generalization gap, learning curve, underfitting, leakage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from auditor.checks.registry import At, CheckContext, Measurement, any_metric, register
from auditor.checks.text import advice, ci_text, finite, interval_row, num
from auditor.judge import Bound
from auditor.types import Finding


def _oriented(metric: str, value: float) -> float:
    """Positive = better, whatever the metric's direction."""
    from auditor.metrics import get_metric

    return value if get_metric(metric).greater_is_better else -value


def _judged_metrics(ctx: CheckContext) -> list[str]:
    """The metrics the running check judges: the primary one and those its criteria name.

    Each once, if it is reported and the check is measured in it (the catalogue's
    ``measured_in``).
    """
    from auditor.metrics import get_metric

    check = ctx.check
    names = dict.fromkeys([ctx.evaluation.primary_metric, *ctx.criterion_metrics(check=check.name)])
    return [n for n in names if n in ctx.metric_set() and check.measured_in(get_metric(n))]


def _evaluated(ctx: CheckContext, metrics: list[str]):
    """(metric name, Metric, split) for each metric on each evaluated split."""
    from auditor.metrics import get_metric

    for name in metrics:
        m = get_metric(name)
        for split in ctx.evaluated_splits():
            yield name, m, split


# ------------------------------------------------------------------ overfitting
def _fitted_history(ctx: CheckContext) -> list[dict]:
    """The epochs of the training history with a finite training and validation loss."""
    return [
        h
        for h in ctx.evaluation.history
        if finite(h.get("val_loss")) is not None and finite(h.get("train_loss")) is not None
    ]


def _overfitting_words(
    rising: bool, rise: float, lowest: int, rising_from, best, tolerance: Bound
) -> tuple[str, str, str]:
    """(title, summary, recommendation) of the overfitting finding."""
    if rising:
        restored = best is not None and best == lowest
        title = f"Validation loss rises from epoch {rising_from} while training loss keeps falling"
        summary = (
            f"The model starts to memorise its training data at epoch {rising_from}: validation "
            f"loss rose {100 * rise:.0f}% above its lowest point (epoch {lowest}) while "
            "training loss kept falling"
            + (f"; early stopping kept the weights of epoch {best}." if restored else ".")
        )
        rec = (
            "Stop earlier (smaller early-stopping patience), add regularisation (dropout, weight "
            "decay), use a smaller network, or collect more training data."
        )
        return title, summary, rec
    title = "Validation loss does not rise while training loss falls"
    summary = (
        f"Validation loss reached its lowest point at epoch {lowest} and did not rise "
        f"more than {100 * tolerance.value:.0f}% afterwards: no sign of overfitting over the "
        "epochs."
    )
    return title, summary, ""


def _loss_chart(title: str, epochs: list[int], train, val, best, rising_from) -> dict:
    """The loss-curve chart of the overfitting finding."""
    return {
        "kind": "loss_curve",
        "title": title,
        "epochs": epochs,
        "train": train.tolist(),
        "validation": val.tolist(),
        "best_epoch": best,
        "rising_from": rising_from,
    }


@register(
    "overfitting",
    "fit",
    label="Rise of the validation loss",
    description="Validation loss rising while training loss keeps falling.",
    bounded=True,
    per_split=False,
)
def overfitting(ctx: CheckContext) -> list[Finding]:
    """Validation loss rising while training loss keeps falling.

    How far validation loss rose above its lowest point while training loss kept
    falling, against ``diagnostics.overfitting_rise``.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One finding, ``fit.overfitting`` (skipped without a training history).
    """
    history = _fitted_history(ctx)
    if len(history) < 2:
        reason = (
            "the model was not trained here (vendor model)"
            if not ctx.evaluation.history
            else "fewer than two epochs have a training and a validation loss"
        )
        return ctx.skipped(
            "Training vs validation loss",
            f"Overfitting over the epochs was not checked: {reason}.",
        )
    epochs = [int(h["epoch"]) for h in history]
    train = np.array([float(h["train_loss"]) for h in history])
    val = np.array([float(h["val_loss"]) for h in history])
    k = int(np.argmin(val))
    tolerance = ctx.diagnostic("overfitting_rise")
    rise = float((val[-1] - val[k]) / max(abs(val[k]), 1e-12))
    train_fell = bool(train[-1] < train[k])
    rising = k < len(val) - 1 and not tolerance.holds(rise) and train_fell
    rising_from = epochs[k + 1] if rising else None
    best = ctx.evaluation.best_epoch
    title, summary, rec = _overfitting_words(rising, rise, epochs[k], rising_from, best, tolerance)
    return [
        ctx.finding(
            "overfitting",
            status="warn" if rising else "pass",
            title=title,
            summary=summary,
            value=rise,
            bound=tolerance,
            recommendation=rec,
            split="validation",
            details={
                "lowest_epoch": epochs[k],
                "rising_from": rising_from,
                "best_epoch": best,
                "stopped_early": ctx.evaluation.stopped_early,
                "train_loss_fell": train_fell,
            },
            chart=_loss_chart(title, epochs, train, val, best, rising_from),
        )
    ]


# ------------------------------------------------------------------ generalization gap
def _gap_summary(ctx, m, gap, split: str, ci, confidence: float, status: str, bound) -> str:
    """The summary sentence of one generalization-gap finding."""
    return (
        f"{m.label} is {num(abs(gap or 0.0), digits=3)} "
        f"{'better' if (gap or 0) >= 0 else 'worse'} on the training rows than on "
        f"{ctx.phrase(split)}{ci_text(ci, confidence)}"
        + (f"; a gap above {num(bound.value)} suggests memorisation." if status == "warn" else ".")
    )


def _gap_finding(ctx: CheckContext, metric: str, m, split: str, bound: Bound, base) -> Finding:
    """The generalization-gap finding of one metric on one evaluation split."""
    from auditor.metrics import percentile_interval

    other = ctx.estimates(split)[metric]
    gap = finite(_oriented(metric, base.value) - _oriented(metric, other.value))
    ci = diff = None
    if base.replicates is not None and other.replicates is not None:
        diff = np.where(m.greater_is_better, 1, -1) * (base.replicates - other.replicates)
        ci = percentile_interval(diff, ctx.confidence)
    judged = bound if m.unit_interval and gap is not None else None
    status = "pass" if judged is None else ctx.diagnose(gap, judged)
    return ctx.finding(
        "generalization_gap",
        At(metric, split),
        status=status,
        measured=Measurement(gap, ci, other.n, judged, replicates=diff),
        title=f"Generalization gap in {m.label} (train vs {split})",
        summary=_gap_summary(ctx, m, gap, split, ci, ctx.confidence, status, bound),
        recommendation=advice(
            ctx,
            "Regularise more, stop training earlier, or collect more data; check that train "
            "and evaluation data come from the same population.",
        )
        if status == "warn"
        else "",
        details={"train": finite(base.value), split: finite(other.value)},
        chart={
            "kind": "metric_intervals",
            "metric": metric,
            "bound": None,
            "title": f"{m.label}: train vs {split}",
            "rows": [interval_row("train", base), interval_row(split, other)],
        },
    )


@register(
    "generalization_gap",
    "fit",
    label="Generalization gap",
    description="Train minus validation/test/holdout score, with intervals.",
    bounded=True,
    measured_in=any_metric,
    where="between the training and {split} splits",
)
def generalization_gap(ctx: CheckContext) -> list[Finding]:
    """Train minus evaluation score, with a paired interval.

    Training score minus evaluation score, oriented so that positive means better on
    the training rows, with a paired bootstrap interval; judged against
    ``diagnostics.generalization_gap`` for metrics that are shares.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One per metric and evaluation split: ``fit.generalization_gap.<metric>.<split>``.
    """
    if "train" not in ctx.evaluation.splits:
        why = (ctx.evaluation.notes.get("uncovered_splits") or {}).get("train")
        return ctx.skipped(
            "Generalization gap",
            "The generalization gap was not measured: "
            + (why or "there is no training split")
            + ".",
        )
    bound = ctx.diagnostic("generalization_gap")
    train_est = ctx.estimates("train")
    return [
        _gap_finding(ctx, metric, m, split, bound, train_est[metric])
        for metric, m, split in _evaluated(ctx, _judged_metrics(ctx))
    ]


# ------------------------------------------------------------------ learning curve
def _learning_curve_words(m, f, gain: float, helps: bool) -> tuple[str, str]:
    """(title, summary) of the learning-curve finding."""
    title = (
        "More training data is likely to help"
        if helps
        else "More training data is unlikely to help much"
    )
    summary = (
        f"Going from {100 * f[-2]:.0f}% to {100 * f[-1]:.0f}% of the training rows changed "
        f"validation {m.label} by {num(gain, digits=3)} per 10% more rows; "
        + (
            "the curve is still climbing, so more data is likely to help."
            if helps
            else "the curve has flattened, so more of the same data is unlikely to help much."
        )
    )
    return title, summary


def _learning_curve_chart(title: str, metric: str, f, points: list[dict]) -> dict:
    """The learning-curve chart: the scores at each fraction of the training rows."""
    return {
        "kind": "learning_curve",
        "title": title,
        "metric": metric,
        "fractions": f.tolist(),
        "rows": [int(p.get("rows", 0)) for p in points],
        "train": [finite(p.get("train")) for p in points],
        "validation": [finite(p.get("validation")) for p in points],
    }


@register(
    "learning_curve",
    "fit",
    label="Learning curve",
    description="Retraining on growing fractions of the training rows: would more data help?",
    per_split=False,
)
def learning_curve(ctx: CheckContext) -> list[Finding]:
    """Whether more training data would help.

    The validation score's gain per 10% more training rows, from retraining on growing
    fractions; above ``diagnostics.learning_curve_gain`` more data is likely to help.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One finding, ``fit.learning_curve`` (skipped for vendor models).
    """
    from auditor.metrics import get_metric

    points_ = [p for p in ctx.evaluation.learning_curve if finite(p.get("validation")) is not None]
    if len(points_) < 2:
        reason = ctx.evaluation.notes.get("learning_curve") or "it has fewer than two points"
        return ctx.skipped("Learning curve", f"The learning curve was not computed: {reason}.")
    metric = ctx.evaluation.primary_metric
    m = get_metric(metric)
    f = np.array([float(p["fraction"]) for p in points_])
    v = np.array([_oriented(metric, float(p["validation"])) for p in points_])
    gain = float((v[-1] - v[-2]) / max(f[-1] - f[-2], 1e-12) * 0.1)  # per 10% more rows
    level = float(ctx.settings.diagnostics.learning_curve_gain)
    # a level that informs, not a bound the model breaks: above it the curve still climbs
    helps = ctx.diagnose(gain, Bound(level, "at_most")) == "warn"
    title, summary = _learning_curve_words(m, f, gain, helps)
    return [
        ctx.finding(
            "learning_curve",
            status="pass",
            title=title,
            summary=summary,
            value=gain,
            threshold=level,  # informative: above it, more data would help (no direction)
            metric=metric,
            split="validation",
            recommendation="Collect more training data: the model is still learning "
            "from each additional row."
            if helps
            else "",
            details={"points": [dict(p) for p in points_], "more_data_helps": helps},
            chart=_learning_curve_chart(title, metric, f, points_),
        )
    ]


# ------------------------------------------------------------------ underfitting
#: Metrics every model is compared with the baselines in, beside the primary metric and
#: those the criteria name.
BASELINE_METRICS: dict[str, tuple[str, ...]] = {
    "binary": ("accuracy", "balanced_accuracy", "f1"),
    "multiclass": ("accuracy", "balanced_accuracy", "f1"),
    "regression": ("mae", "r2"),
}
#: How a sentence names each baseline ({cls}: the majority class, {value}: the constant).
BASELINE_WORDS = {
    "majority": "always predicting '{cls}'",
    "stratified": "guessing at random in the training shares of the classes",
    "mean": "always predicting the training average ({value})",
    "median": "always predicting the training median ({value})",
    "linear": "a simple linear model",
    "tfidf": "a TF-IDF logistic regression on the text",
}
WORSE_THAN = "{lead} {baseline}: {label} {model} vs {base} (difference {diff}{ci}) on {where}."


def _compared_metrics(ctx: CheckContext) -> list[str]:
    """The metrics the model is compared with the baselines in.

    The primary metric, every metric a criterion names, and the task's
    :data:`BASELINE_METRICS`, where they apply.
    """
    from auditor.metrics import METRICS

    names = dict.fromkeys(
        [ctx.evaluation.primary_metric, *ctx.criterion_metrics(), *BASELINE_METRICS[ctx.task]]
    )
    return [
        n
        for n in names
        if n in METRICS
        and METRICS[n].applies_to(ctx.task, has_scores=ctx.has_scores)
        and ctx.check.measured_in(METRICS[n])
    ]


#: The baselines are compared with the model on every row of a split of up to
#: COMPARE_ROWS rows; above it, on a seeded sample of a COMPARE_SHARE-th of the rows, at
#: least COMPARE_ROWS (model and baselines on the same rows and resamples, so still
#: paired). Precision beyond it does not change whether a model beats a constant or a
#: linear model; the cost of three more models' resampled metrics over every row would
#: (tens of seconds a million rows), and this way it stays linear in the rows.
COMPARE_ROWS = 50_000
COMPARE_SHARE = 10


def compared_row_count(n: int) -> int:
    """How many of a split's ``n`` rows the baselines are compared on."""
    return n if n <= COMPARE_ROWS else max(COMPARE_ROWS, n // COMPARE_SHARE)


def _compared_rows(ctx: CheckContext, split: str) -> np.ndarray | None:
    """The seeded sample of a large split's rows the baselines are compared on, or None."""
    n = len(ctx.evaluation.splits[split].y_true)
    k = compared_row_count(n)
    if k >= n:
        return None
    return ctx.memo(
        ("baseline_rows", split),
        lambda: np.sort(np.random.default_rng(ctx.seed(split, 71)).choice(n, k, replace=False)),
    )


def _sampled_rows(ctx: CheckContext, e, rows: np.ndarray):
    from auditor.metrics import Rows

    k = len(ctx.evaluation.classes) if ctx.task != "regression" else None
    return Rows(ctx.task, e.y_true[rows], e.scores[rows], e.y_pred[rows], n_classes=k)


def _model_estimates(ctx: CheckContext, split: str, names: list[str]) -> dict:
    """The model's estimates in ``names`` on ``split``, on the baselines' resamples.

    On the baselines' sample of a large split; on every row with the split's own weights
    where the shared estimates were drawn per run of alike rows (no baseline shares those);
    else the shared estimates, with any metric they lack on the same weights.
    """
    from auditor.metrics import bootstrap_rows

    def resampled(key: str, rows, wanted: list[str]) -> dict:
        return ctx.memo(
            (key, split, tuple(wanted)),
            lambda: bootstrap_rows(
                rows(),
                wanted,
                resamples=ctx.resamples,
                confidence=ctx.confidence,
                seed=ctx.seed(split, 0),  # the baselines' weights: paired
            ),
        )

    sample = _compared_rows(ctx, split)
    if sample is not None:
        e = ctx.evaluation.splits[split]
        return resampled("baseline_model_sample", lambda: _sampled_rows(ctx, e, sample), names)
    if ctx.estimates_by_atoms(split):
        return resampled("baseline_model_rows", lambda: ctx.rows(split), names)
    shared = ctx.estimates(split)
    missing = [n for n in names if n not in shared]
    if not missing:
        return shared
    return {**shared, **resampled("baseline_model_estimates", lambda: ctx.rows(split), missing)}


def _baseline_estimates(ctx: CheckContext, name: str, split: str, names: list[str]) -> dict:
    """A baseline's estimates on ``split`` with the model's bootstrap weights.

    The weights depend only on the seed and the split's rows, however each side lays its
    rows out, so the model's and the baseline's replicates are paired.
    """
    from auditor.metrics import Rows, bootstrap_rows

    def build():
        e = ctx.evaluation.baseline_predictions[name][split]
        k = len(ctx.evaluation.classes) if ctx.task != "regression" else None
        sample = _compared_rows(ctx, split)
        return bootstrap_rows(
            Rows(ctx.task, e.y_true, e.scores, e.y_pred, n_classes=k)
            if sample is None
            else _sampled_rows(ctx, e, sample),
            names,
            resamples=ctx.resamples,
            confidence=ctx.confidence,
            seed=ctx.seed(split, 0),
        )

    return ctx.memo(("baseline_estimates", name, split, tuple(names)), build)


@dataclass(frozen=True)
class _Versus:
    """The model against one baseline in one metric on one split (paired)."""

    baseline: str
    model: float | None
    base: float | None
    gain: float | None  # oriented: positive = the model is better
    ci: tuple[float, float] | None  # of the gain
    raw_ci: tuple[float, float] | None  # of model minus baseline, unoriented
    replicates: Any = field(default=None, repr=False)  # the gain's replicates


def _versus(ctx: CheckContext, metric: str, name: str, mine, theirs) -> _Versus:
    from auditor.metrics import get_metric, percentile_interval

    sign = 1.0 if get_metric(metric).greater_is_better else -1.0
    model, base = finite(mine.value), finite(theirs.value)
    gain = None if model is None or base is None else sign * (model - base)
    reps = ci = raw = None
    if mine.replicates is not None and theirs.replicates is not None:
        diff = np.asarray(mine.replicates, float) - np.asarray(theirs.replicates, float)
        reps = sign * diff
        ci, raw = (
            percentile_interval(reps, ctx.confidence),
            percentile_interval(diff, ctx.confidence),
        )
    return _Versus(name, model, base, gain, ci, raw, reps)


def _baseline_phrase(ctx: CheckContext, name: str, split: str) -> str:
    """'always predicting 'good'', 'a simple linear model', ..."""
    e = ctx.evaluation.baseline_predictions[name][split]
    cls = value = ""
    if name == "majority" and len(e.y_pred):
        classes = ctx.evaluation.classes
        i = int(e.y_pred[0])
        cls = str(classes[i]) if i < len(classes) else str(i)
    if name in ("mean", "median") and len(e.y_pred):
        value = num(float(e.y_pred[0]), digits=3)
    return BASELINE_WORDS[name].format(cls=cls, value=value)


def _worse_sentence(ctx: CheckContext, m, v: _Versus, split: str) -> str:
    """The page-one sentence of a model below a trivial baseline.

    'The model is right less often than always predicting 'good': accuracy 0.675 vs
    0.700 (difference -0.025, 95% CI -0.050 to -0.000) on the test split.'
    """
    lead = (
        "The model is right less often than"
        if m.name == "accuracy"
        else f"The model's {m.label} is worse than that of"
    )
    diff = (v.model or 0.0) - (v.base or 0.0)
    ci = ""
    if v.raw_ci is not None:
        level = f"{100 * ctx.confidence:g}%"
        ci = f", {level} CI {num(v.raw_ci[0], digits=3)} to {num(v.raw_ci[1], digits=3)}"
    return WORSE_THAN.format(
        lead=lead,
        baseline=_baseline_phrase(ctx, v.baseline, split),
        label=m.label,
        model=num(v.model, digits=3),
        base=num(v.base, digits=3),
        diff=("+" if diff > 0 else "") + num(diff, digits=3),
        ci=ci,
        where=ctx.phrase(split),
    )


def _clearly_worse(v: _Versus) -> bool:
    """Whether the model is below the baseline, the whole paired interval below 0.

    Without resamples, by the point estimate; a difference whose interval includes 0 may
    be a tie and is not called worse.
    """
    if v.gain is None or v.gain >= 0:
        return False
    return v.ci is None or v.ci[1] < 0


def _baseline_kind(ctx: CheckContext, worse: list[_Versus], ref: _Versus, linear, margin, judged):
    """``worse``, ``under``, ``linear`` or ``pass``: how the model compares.

    ``worse``: below a trivial baseline with the whole paired interval of the difference
    below 0 (:func:`_clearly_worse`; a tie is not called worse). In the metrics
    the check judges (``judged``: the primary metric and those its criteria name) the
    model must also beat the reference trivial baseline by ``diagnostics.baseline_margin``
    (``under``) and not trail the linear model by more than it (``linear``).
    """
    if worse:
        return "worse"
    if not judged:
        return "pass"
    if ref.gain is not None and ctx.diagnose(ref.gain, margin) == "warn":
        return "under"
    behind = (
        linear is not None
        and linear.gain is not None
        and ctx.diagnose(linear.gain, Bound(-margin.value, "at_least")) == "warn"
    )
    return "linear" if behind else "pass"


def _baseline_words(ctx, kind: str, m, ref: _Versus, linear, worse, split: str):
    """(summary, recommendation) of one metric's comparison with the baselines."""
    where = ctx.phrase(split)
    vendor = ctx.spec.model.vendor is not None
    if kind == "worse":
        rec = (
            f"{ctx.addressee.opening} why the model does worse than a trivial rule on the "
            "client's data, and how it was validated on recent data like them."
            if vendor
            else "Find out why the model trails a trivial rule: check the decision threshold, "
            "that the features carry signal and that the target is encoded as intended."
        )
        return _worse_sentence(ctx, m, worse[0], split), rec
    if kind == "under":
        rec = (
            f"{ctx.addressee.opening} whether the model carries signal on data like the "
            "client's (how it was validated on recent data)."
            if vendor
            else "The model is underfitting: check that the features carry signal, train "
            "longer or with a larger learning rate, or use a larger network."
        )
        return (
            f"The model is hardly better than {_baseline_phrase(ctx, ref.baseline, split)}: "
            f"{m.label} {num(ref.model, digits=3)} vs {num(ref.base, digits=3)} on {where}.",
            rec,
        )
    if kind == "linear":
        rec = (
            f"{ctx.addressee.opening} why the model does not beat a simple linear model fitted "
            "on the client's data; consider the simpler model."
            if vendor
            else "Prefer the simpler linear model, or tune this one (learning rate, epochs, "
            "architecture) until it beats the linear baseline."
        )
        simple = _baseline_phrase(ctx, linear.baseline, split)
        if linear.baseline == "tfidf":
            rec = (
                "A TF-IDF word model with a logistic regression does as well: prefer it, or "
                "find out why the fine-tuned encoder adds nothing (encoder, epochs, text length)."
            )
        return (
            f"{simple[0].upper()}{simple[1:]} does better than this model: {m.label} "
            f"{num(linear.base, digits=3)} vs {num(ref.model, digits=3)} on {where}.",
            rec,
        )
    beats_linear = "."
    if linear is not None and linear.gain is not None:
        simple = _baseline_phrase(ctx, linear.baseline, split)
        beats_linear = (
            f", and {simple} by {num(linear.gain, digits=3)}."
            if linear.gain >= 0
            else f"; {simple} does better, by {num(-linear.gain, digits=3)}."
        )
    return (
        f"The model beats {_baseline_phrase(ctx, ref.baseline, split)} by "
        f"{num(ref.gain, digits=3)}{ci_text(ref.ci, ctx.confidence)} in {m.label} on "
        f"{where}{beats_linear}",
        "",
    )


def _baseline_chart(summary: str, m, ref: _Versus, others: list[_Versus]) -> dict:
    """The bar chart of the model against every baseline."""
    labels, values = ["this model"], [ref.model]
    for v in [ref, *others]:
        if v.base is not None:
            labels.append(f"{v.baseline} baseline")
            values.append(v.base)
    return {
        "kind": "bars",
        "title": summary.split(":")[0],
        "labels": labels,
        "values": values,
        "xlabel": m.label,
        "bound": None,
    }


def _baseline_rows(vs: list[_Versus]) -> list[dict]:
    """details["baselines"]: each baseline's value and the model's paired difference."""
    return [
        {
            "baseline": v.baseline,
            "value": v.base,
            "gain": v.gain,
            "low": v.ci[0] if v.ci else None,
            "high": v.ci[1] if v.ci else None,
        }
        for v in vs
    ]


def _comparisons(ctx: CheckContext, metric: str, split: str, metrics: list[str]):
    """{baseline: _Versus} of the model against every baseline predicted on ``split``."""
    mine = _model_estimates(ctx, split, metrics)[metric]
    out = {}
    for name, per in ctx.evaluation.baseline_predictions.items():
        if split in per:
            theirs = _baseline_estimates(ctx, name, split, metrics)[metric]
            out[name] = _versus(ctx, metric, name, mine, theirs)
    return out


def _named_baselines(ctx: CheckContext) -> list[str]:
    """Baselines criteria on this check name (beside the reference, judged by default)."""
    return list(
        dict.fromkeys(
            c.baseline
            for c in ctx.criteria
            if c.check == ctx.check.name and getattr(c, "baseline", None)
        )
    )


def _metric_findings(ctx, metric: str, split: str, metrics, judged, margin) -> list[Finding]:
    """The reference finding of one metric on one split, and one per named baseline."""
    from auditor.evaluate import TRIVIAL_BASELINES
    from auditor.metrics import get_metric

    m = get_metric(metric)
    vs = _comparisons(ctx, metric, split, metrics)
    trivial = [n for n in TRIVIAL_BASELINES[ctx.task] if n in vs]
    if not trivial or vs[trivial[0]].gain is None:
        return []
    # a text classifier must beat TF-IDF words with a logistic regression, else a linear model
    ref, linear = vs[trivial[0]], vs.get("tfidf") or vs.get("linear")
    worse = sorted(
        (vs[n] for n in trivial if _clearly_worse(vs[n])),
        key=lambda v: v.gain,
    )
    kind = _baseline_kind(ctx, worse, ref, linear, margin, judged)
    summary, rec = _baseline_words(ctx, kind, m, ref, linear, worse, split)
    details = {
        "baseline": ref.baseline,
        "reference": True,
        "model": ref.model,
        "majority": ref.base,  # the reference trivial baseline (majority class or mean)
        "linear": linear.base if linear is not None else None,
        "gain_over_linear": linear.gain if linear is not None else None,
        "baselines": _baseline_rows(list(vs.values())),
    }
    sample = _compared_rows(ctx, split)
    if sample is not None:
        rows = len(ctx.evaluation.splits[split].y_true)
        summary += (
            f" Compared on a seeded sample of {len(sample):,} of the {rows:,} rows "
            "(the same rows and resamples for the model and every baseline)."
        )
        details["rows_compared"] = len(sample)
    if kind == "worse":
        details["page_one"] = summary
    out = [
        ctx.finding(
            "baseline_improvement",
            At(metric, split),
            status="pass" if kind == "pass" else "warn",
            title=f"{m.label} vs simple baselines on {split}",
            summary=summary,
            measured=Measurement(ref.gain, ref.ci, None, margin, replicates=ref.replicates),
            recommendation=rec,
            details=details,
            chart=_baseline_chart(summary, m, ref, [v for v in vs.values() if v is not ref]),
        )
    ]
    for name in _named_baselines(ctx):
        v = vs.get(name)
        if name == ref.baseline or v is None or v.gain is None:
            continue
        out.append(
            ctx.finding(
                "baseline_improvement",
                At(metric, split),
                name,
                status="pass" if v.gain >= 0 else "warn",
                title=f"{m.label} vs the {name} baseline on {split}",
                summary=(
                    f"The model {'beats' if v.gain >= 0 else 'trails'} "
                    f"{_baseline_phrase(ctx, name, split)} by {num(abs(v.gain), digits=3)}"
                    f"{ci_text(v.ci, ctx.confidence)} in {m.label} on {ctx.phrase(split)}."
                ),
                measured=Measurement(v.gain, v.ci, None, None, replicates=v.replicates),
                threshold=None,
                details={"baseline": name, "model": v.model, "value": v.base},
            )
        )
    return out


@register(
    "baseline_improvement",
    "fit",
    label="Improvement over the trivial baseline",
    description="Improvement over trivial baselines (majority class or mean, a random guess, "
    "the median) and a linear model, with paired intervals (underfitting).",
    bounded=True,
    measured_in=any_metric,
)
def baseline_improvement(ctx: CheckContext) -> list[Finding]:
    """The gain over trivial and linear baselines (underfitting), with paired intervals.

    The baselines (:func:`auditor.evaluate.baseline_predictions`) are scored on the same
    rows and the same bootstrap resamples as the model, so the model-minus-baseline gain
    (oriented: positive = the model is better) has a paired interval. The model is
    compared in the primary metric, every metric a criterion names and the task's
    :data:`BASELINE_METRICS`; below a trivial baseline, the paired interval wholly below 0,
    it warns (a sentence for page one); in the primary metric and those its criteria name it must
    also beat the reference baseline (majority class or mean) by
    ``diagnostics.baseline_margin`` and not trail the linear model by more.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One per metric and evaluation split, against the reference baseline:
        ``fit.baseline_improvement.<metric>.<split>``; and one per baseline a criterion
        names (``baseline:``): ``fit.baseline_improvement.<metric>.<split>.<baseline>``.
    """
    if not ctx.evaluation.baseline_predictions:
        return ctx.skipped(
            "Comparison with simple baselines",
            "No baseline was computed, so underfitting was not checked.",
        )
    margin = ctx.diagnostic("baseline_margin")
    judged = set(_judged_metrics(ctx))
    metrics = _compared_metrics(ctx)
    out = []
    for split in ctx.evaluated_splits():
        for metric in metrics:
            out += _metric_findings(ctx, metric, split, metrics, metric in judged, margin)
    return out


# ------------------------------------------------------------------ too good to be true
def _score_like(metric) -> bool:
    """Metrics a leak makes suspiciously high: higher is better, up to a perfect 1."""
    return metric.greater_is_better and metric.value_range[1] == 1.0


@register(
    "suspicious_score",
    "fit",
    label="Suspiciously high score",
    description="A score so high that it probably comes from a leak ('too good to be true').",
    bounded=True,
    measured_in=_score_like,
    value_range=(None, 1.0),
)
def suspicious_score(ctx: CheckContext) -> list[Finding]:
    """Scores too good to be true.

    Scores so close to perfect that a leak is likely, against
    ``diagnostics.suspicious_score``.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One per metric and evaluation split: ``fit.suspicious_score.<metric>.<split>``.
    """
    bound = ctx.diagnostic("suspicious_score")
    out = []
    for metric, m, split in _evaluated(ctx, _judged_metrics(ctx)):
        est = ctx.estimates(split)[metric]
        value = finite(est.value)
        if value is None:
            continue
        bad = ctx.diagnose(value, bound) == "warn"
        where = f"{m.label} of {num(value, digits=3)} on {ctx.phrase(split)}"
        out.append(
            ctx.finding(
                "suspicious_score",
                At(metric, split),
                status="warn" if bad else "pass",
                title=(
                    f"{m.label} on {split} is too good to be true"
                    if bad
                    else f"{m.label} on {split} is plausible"
                ),
                summary=(
                    f"{where} is suspiciously high: near-perfect scores on real data usually "
                    "mean the answer leaked into the features."
                    if bad
                    else f"{where} is below {num(bound.value, digits=3)}, the level at which a "
                    "leak would be suspected."
                ),
                measured=Measurement(value, est.ci, est.n, bound),
                recommendation=advice(
                    ctx,
                    "Look for a feature recorded after the outcome or derived from it, and "
                    "for rows shared between training and test.",
                    vendor="Look for a column of the client's data recorded after the outcome "
                    f"or derived from it, and {ctx.addressee.ask} whether the model reads it.",
                )
                if bad
                else "",
            )
        )
    return out


# ------------------------------------------------------------------ single-feature leakage
def _feature_scores(
    task: str, x_train, y_train, x_val, y_val, categorical: bool, n_classes: int
) -> float:
    """How well one raw feature alone predicts the target: fitted on train, scored on validation.

    Classification: ROC-AUC (best class one-vs-rest for multiclass), with the direction (numeric)
    or the per-category target rate (categorical) learned on train. Regression: R2 of a linear
    fit (numeric) or of the category means (categorical).
    """
    import pandas as pd

    from auditor.metrics import rank_auc

    if categorical:
        tr = pd.Series(x_train).astype(str).to_numpy()
        va = pd.Series(x_val).astype(str).to_numpy()
    else:
        tr = pd.to_numeric(pd.Series(x_train), errors="coerce").to_numpy(dtype=np.float64)
        va = pd.to_numeric(pd.Series(x_val), errors="coerce").to_numpy(dtype=np.float64)
        fill = np.nanmedian(tr) if np.isfinite(tr).any() else 0.0
        tr = np.where(np.isfinite(tr), tr, fill)
        va = np.where(np.isfinite(va), va, fill)
    if task == "regression":
        yt, yv = np.asarray(y_train, dtype=np.float64), np.asarray(y_val, dtype=np.float64)
        if categorical:
            means = pd.Series(yt).groupby(tr).mean()
            pred = pd.Series(va).map(means).fillna(yt.mean()).to_numpy()
        else:
            slope, intercept = np.polyfit(tr, yt, 1) if np.ptp(tr) > 0 else (0.0, yt.mean())
            pred = slope * va + intercept
        ss_tot = float(((yv - yv.mean()) ** 2).sum())
        return float(1 - ((yv - pred) ** 2).sum() / ss_tot) if ss_tot > 0 else float("nan")
    yt, yv = np.asarray(y_train).astype(int), np.asarray(y_val).astype(int)
    best = float("nan")
    for c in [1] if task == "binary" else range(n_classes):
        t, v = (yt == c).astype(int), (yv == c).astype(int)
        if categorical:
            rates = pd.Series(t).groupby(tr).mean()
            score = pd.Series(va).map(rates).fillna(t.mean()).to_numpy()
        else:
            direction = 1.0 if rank_auc(t, tr) >= 0.5 else -1.0
            score = direction * va
        auc = rank_auc(v, score)
        best = auc if not np.isfinite(best) else max(best, auc)
    return best


#: Why a free-text column is not screened alone (said once, in the finding).
TEXT_NOT_SCREENED = (
    "The text column {names} is free text, not one value to screen: what its words alone "
    "predict is the TF-IDF baseline's score (fit.baseline_improvement)."
)


def _ranked_features(ctx: CheckContext, check_split: str) -> list[tuple[str, float]]:
    """(feature, score) of every feature that could be scored alone, strongest first."""
    ds = ctx.dataset
    scores = []
    for col in ds.tabular_columns:
        score = _feature_scores(
            ctx.task,
            ds.frames["train"][col].to_numpy(),
            ds.y["train"],
            ds.frames[check_split][col].to_numpy(),
            ds.y[check_split],
            ds.column_types.get(col) == "categorical",
            len(ds.classes),
        )
        scores.append((col, finite(score)))
    return sorted([s for s in scores if s[1] is not None], key=lambda t: -t[1])


def _leakage_words(
    ctx, top_col: str, top: float, what: str, check_split: str, leaks: list[str]
) -> tuple[str, str]:
    """(summary, recommendation) of the single-feature leakage finding."""
    if leaks:
        summary = (
            f"The feature '{top_col}' alone predicts the target with {what} {num(top, digits=3)} "
            f"on {ctx.phrase(check_split)}: it probably leaks the answer"
            + (f" (also: {', '.join(leaks[1:4])})." if len(leaks) > 1 else ".")
        )
        rec = advice(
            ctx,
            f"Check how '{top_col}' is recorded: if it is known only after the outcome, or "
            "derived from it, exclude it (data.exclude).",
            vendor=f"Check how '{top_col}' is recorded: if it is known only after the outcome, "
            f"{ctx.addressee.ask} whether the model reads it.",
        )
        return summary, rec
    summary = (
        f"No single feature predicts the target almost perfectly; the strongest, '{top_col}', "
        f"reaches {what} {num(top, digits=3)} on its own."
    )
    return summary, ""


def _leakage_chart(ranked: list[tuple[str, float]], what: str, bound: Bound) -> dict:
    """The bar chart of the ten strongest single features."""
    top_col, top = ranked[0]
    shown = ranked[:10]
    return {
        "kind": "bars",
        "title": f"Strongest single feature: '{top_col}' ({what} {num(top)})",
        "labels": [c for c, _ in shown],
        "values": [s for _, s in shown],
        "xlabel": what,
        "bound": bound.value,
    }


@register(
    "single_feature_leakage",
    "fit",
    label="Best single-feature score",
    description="A single raw feature that alone predicts the target almost perfectly.",
    bounded=True,
    per_split=False,
)
def single_feature_leakage(ctx: CheckContext) -> list[Finding]:
    """A single raw feature that predicts the target almost alone.

    How well each raw feature alone predicts the target (fitted on training, scored on
    validation); the strongest against ``diagnostics.single_feature_auc``.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One finding, ``fit.single_feature_leakage``.
    """
    ds = ctx.dataset
    check_split = "validation" if "validation" in ds.frames else None
    title = "Single-feature leakage"
    if "train" not in ds.frames or check_split is None or not ds.feature_columns:
        return ctx.skipped(
            title,
            "Single features were not screened: the raw training or validation "
            "rows are not available.",
        )
    bound = ctx.diagnostic("single_feature_auc")
    texts = ds.text_columns
    text_note = TEXT_NOT_SCREENED.format(names=", ".join(f"'{c}'" for c in texts)) if texts else ""
    ranked = _ranked_features(ctx, check_split)
    what = "R²" if ctx.task == "regression" else "ROC-AUC"
    if not ranked:
        if texts and not ds.tabular_columns:
            return ctx.skipped(title, f"Single features were not screened. {text_note}")
        return ctx.skipped(title, "No feature could be scored on its own.")
    top_col, top = ranked[0]
    leaks = [c for c, s in ranked if ctx.diagnose(s, bound) == "warn"]
    summary, rec = _leakage_words(ctx, top_col, top, what, check_split, leaks)
    if text_note:
        summary = f"{summary} {text_note}"
    return [
        ctx.finding(
            "single_feature_leakage",
            status="warn" if leaks else "pass",
            title=(
                "A single feature predicts the target almost perfectly"
                if leaks
                else "No single feature gives the answer away"
            ),
            summary=summary,
            value=top,
            bound=bound,
            recommendation=rec,
            split=check_split,
            details={
                "scores": [{"feature": c, "score": s} for c, s in ranked],
                "score": what,
                "suspects": leaks,
            },
            chart=_leakage_chart(ranked, what, bound),
        )
    ]
