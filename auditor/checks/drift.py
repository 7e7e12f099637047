"""Drift checks: the client's data against the development data the model was built on.

The per-feature statistics and the domain classifier are computed once in the evaluate
stage (:mod:`auditor.drift`); these checks judge them, and add what needs only counts:
the target's base rate, the sensitive groups' shares, and performance on the development
data against performance on the client's.
"""

from __future__ import annotations

import numpy as np

from auditor.checks.registry import At, CheckContext, Measurement, any_metric, register
from auditor.checks.text import ci_text, finite, num, pct, points
from auditor.types import Finding

TOP_DRIVERS = 8  # features shown in the domain classifier's chart
TOP_DRIFTING = 15  # features shown in the drift summary's chart
SHARE = (0.0, 1.0)
DRIFT_WHERE = "between the development data and {where}"
DRIFT_ROLES = ("holdout", "audit")  # the client's own files, compared with the development data


def _skip_without_drift(ctx: CheckContext, title: str) -> list[Finding] | None:
    """The single skipped finding when there was nothing to compare, else None."""
    if ctx.evaluation.drift:
        return None
    why = ctx.evaluation.notes.get("drift") or "there was nothing to compare"
    return ctx.skipped(title, f"Client data were not compared with development data: {why}.")


def _reference_words(ctx: CheckContext, reference: str) -> str:
    return "the training data" if reference == "train" else ctx.phrase(reference)


# ------------------------------------------------------------------ features
def _feature_status(ctx: CheckContext, drift) -> tuple[str, Measurement]:
    setting = "max_numeric_drift" if drift.kind == "numeric" else "max_categorical_drift"
    bound = ctx.diagnostic(setting)
    measured = Measurement(finite(drift.value), drift.ci, None, bound)
    material = ctx.diagnose(drift.value, bound) == "warn"
    significant = np.isfinite(drift.q_value) and drift.q_value < ctx.settings.drift.fdr
    return ("warn" if material and significant else "pass"), measured


def _ci_clause(ci, confidence: float, *, as_points: bool = False, sep: str = ", ") -> str:
    """', 95% CI 0.19 to 0.23' (inside parentheses already open), or '' without one."""
    inner = ci_text(ci, confidence, as_points=as_points)[2:-1]
    return f"{sep}{inner}" if inner else ""


def _p_words(q: float) -> str:
    return "adjusted p < 0.001" if q < 0.001 else f"adjusted p = {q:.3f}"


def _feature_finding(ctx: CheckContext, result, drift) -> Finding:
    from auditor.metrics.drift import DRIFT_STATISTICS

    stat = DRIFT_STATISTICS[drift.statistic]
    status, measured = _feature_status(ctx, drift)
    where, ref = ctx.phrase(result.current), _reference_words(ctx, result.reference)
    figures = (
        f"{drift.current_summary} against {drift.reference_summary} "
        f"({stat.label} {num(drift.value, digits=3)}"
        f"{_ci_clause(drift.ci, ctx.confidence)}; {_p_words(drift.q_value)})"
    )
    if drift.kind == "text":  # compared as words, not as whole strings
        figures = (
            f"the words of its texts ({pct(drift.unseen_share)} of the client's words never "
            f"in the development texts; {figures[0].lower()}{figures[1:]})"
        )
    if status == "warn":
        summary = f"'{drift.feature}' in {where} differs from {ref}: {figures}."
        rec = (
            f"Ask whether '{drift.feature}' is recorded the same way in both, and whether the "
            "model still holds for the client's population; audit on more recent data."
        )
    else:
        summary = f"'{drift.feature}' in {where} is close to {ref}: {figures}."
        rec = ""
    return ctx.finding(
        "feature_drift",
        At(split=result.current),
        drift.feature,
        status=status,
        measured=measured,
        title=f"Drift of {drift.feature} on {result.current}",
        summary=summary,
        recommendation=rec,
        details={
            "feature": drift.feature,
            "kind": drift.kind,
            "statistic": drift.statistic,
            "p_value": finite(drift.p_value),
            "q_value": finite(drift.q_value),
            "reference": drift.reference_summary,
            "current": drift.current_summary,
            "unseen_share": drift.unseen_share,
        },
        chart={
            "kind": "shares",
            "title": f"'{drift.feature}': {drift.current_summary} on {result.current} against "
            f"{drift.reference_summary}",
            "labels": drift.chart["labels"],
            "series": [
                {"name": result.reference, "values": drift.chart["reference"]},
                {"name": result.current, "values": drift.chart["current"]},
            ],
            "ordered": drift.kind == "numeric",
            **({"edges": drift.chart["edges"]} if "edges" in drift.chart else {}),
        },
    )


@register(
    "feature_drift",
    "drift",
    label="Largest drift effect size of a feature",
    description="Each feature's distribution on the client's data against the development "
    "data: the spec's effect size with an interval, and a test controlled for the "
    "false-discovery rate across features.",
    bounded=True,
    value_range=(0.0, None),
    where=DRIFT_WHERE,
    roles=DRIFT_ROLES,
)
def feature_drift(ctx: CheckContext) -> list[Finding]:
    """Each feature's drift from the development data to each client split.

    A feature warns when its drift is both significant (Benjamini-Hochberg adjusted p-value
    below ``evaluation.drift.fdr``) and material (effect size above
    ``diagnostics.max_numeric_drift`` or ``max_categorical_drift``).

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One per client split and feature: ``drift.feature_drift.<split>.<feature>``.
    """
    skipped = _skip_without_drift(ctx, "Drift of the features")
    if skipped is not None:
        return skipped
    return [_feature_finding(ctx, r, d) for r in ctx.evaluation.drift for d in r.features]


@register(
    "drift_summary",
    "drift",
    label="Features that drift",
    description="How many features drift, and which most.",
    where=DRIFT_WHERE,
    roles=DRIFT_ROLES,
)
def drift_summary(ctx: CheckContext) -> list[Finding]:
    """One sentence per client split: how many features drift, and which most.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One per client split: ``drift.drift_summary.<split>``.
    """
    skipped = _skip_without_drift(ctx, "Drift of the features")
    if skipped is not None:
        return skipped
    out = []
    for r in ctx.evaluation.drift:
        drifting = [d for d in r.features if _feature_status(ctx, d)[0] == "warn"]
        ranked = sorted(r.features, key=lambda d: -(finite(d.value) or 0.0))
        names = ", ".join(f"'{d.feature}'" for d in drifting[:4]) + (
            f" and {len(drifting) - 4} more" if len(drifting) > 4 else ""
        )
        where, ref = ctx.phrase(r.current), _reference_words(ctx, r.reference)
        fdr = pct(ctx.settings.drift.fdr)
        summary = (
            f"{len(drifting)} of {len(r.features)} features of {where} differ materially from "
            f"{ref} at a {fdr} false-discovery rate: {names}."
            if drifting
            else f"None of the {len(r.features)} features of {where} differs materially from "
            f"{ref} (false-discovery rate {fdr})."
        )
        shown = ranked[:TOP_DRIFTING]
        out.append(
            ctx.finding(
                "drift_summary",
                At(split=r.current),
                status="warn" if drifting else "pass",
                measured=Measurement(float(len(drifting)), n=len(r.features)),
                title=f"Drifting features on {r.current}",
                summary=summary,
                recommendation="Find out why the client's data differ from the development "
                "data before relying on the model there (see the drifting features)."
                if drifting
                else "",
                details={"drifting": [d.feature for d in drifting], "fdr": ctx.settings.drift.fdr},
                chart={
                    "kind": "bars",
                    "title": f"Drift effect size per feature on {r.current}",
                    "labels": [f"{d.feature} ({d.statistic})" for d in shown],
                    "values": [finite(d.value) or 0.0 for d in shown],
                    "xlabel": "effect size",
                    "bound": None,
                },
            )
        )
    return out


# ------------------------------------------------------------------ domain classifier
@register(
    "domain_classifier",
    "drift",
    label="Domain classifier ROC-AUC",
    description="How well a model tells the client's rows from the development rows "
    "(0.5: indistinguishable).",
    bounded=True,
    value_range=SHARE,
    where=DRIFT_WHERE,
    roles=DRIFT_ROLES,
)
def domain_classifier(ctx: CheckContext) -> list[Finding]:
    """The cross-validated ROC-AUC of a model trained to tell development from client rows.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One per client split (``drift.domain_classifier.<split>``); skipped when switched off.
    """
    skipped = _skip_without_drift(ctx, "Domain classifier")
    if skipped is not None:
        return skipped
    bound = ctx.diagnostic("max_domain_auc")
    out = []
    for r in ctx.evaluation.drift:
        if r.domain is None:
            out.append(
                ctx.finding(
                    "domain_classifier",
                    At(split=r.current),
                    status="skipped",
                    title=f"Domain classifier on {r.current}",
                    summary=f"No domain classifier was trained: {r.note}.",
                )
            )
            continue
        d = r.domain
        status = ctx.diagnose(d.auc, bound)
        drivers = ", ".join(f"'{x['feature']}'" for x in d.drivers[:3] if x["drop"] > 0.005)
        where, ref = ctx.phrase(r.current), _reference_words(ctx, r.reference)
        told = f"ROC-AUC {num(d.auc, digits=3)}{ci_text(d.ci, ctx.confidence)}"
        summary = (
            f"A model tells {where} from {ref} apart with {told}: they clearly differ"
            + (f", most by {drivers}." if drivers else ".")
            if status == "warn"
            else f"A model can hardly tell {where} from {ref} apart: {told}, where 0.5 means "
            "indistinguishable."
        )
        shown = d.drivers[:TOP_DRIVERS]
        out.append(
            ctx.finding(
                "domain_classifier",
                At(split=r.current),
                status=status,
                measured=Measurement(d.auc, d.ci, d.rows, bound),
                title=f"Domain classifier on {r.current}",
                summary=summary,
                recommendation="Check that the client's data are collected like the "
                "development data; the model may not hold on them."
                if status == "warn"
                else "",
                details={"rows_per_side": d.rows, "drivers": d.drivers},
                chart={
                    "kind": "bars",
                    "title": "What tells the client's rows apart (drop in ROC-AUC when shuffled)",
                    "labels": [x["feature"] for x in shown],
                    "values": [x["drop"] for x in shown],
                    "xlabel": "drop in ROC-AUC",
                    "bound": None,
                },
            )
        )
    return out


# ------------------------------------------------------------------ target and groups
def _poisson_ratio(rng, hits: float, n: float, size: int) -> np.ndarray:
    """Resampled shares hits / n under the Poisson bootstrap of the rows."""
    a = rng.poisson(hits, size).astype(np.float64)
    b = rng.poisson(max(n - hits, 0.0), size).astype(np.float64)
    return a / np.maximum(a + b, 1.0)


def _share_change(ctx, ref_hits, ref_n, cur_hits, cur_n, seed) -> tuple[float, tuple | None]:
    """|client share - development share| and its bootstrap interval (independent samples)."""
    from auditor.metrics import hull_interval

    value = abs(cur_hits / max(cur_n, 1) - ref_hits / max(ref_n, 1))
    if ctx.resamples <= 0:
        return value, None
    rng = np.random.default_rng(seed)
    reps = np.abs(
        _poisson_ratio(rng, cur_hits, cur_n, ctx.resamples)
        - _poisson_ratio(rng, ref_hits, ref_n, ctx.resamples)
    )
    return value, hull_interval(reps, value, ctx.confidence, lower=0.0, upper=1.0)


def _positive(ctx: CheckContext) -> int:
    from auditor.checks.groups import positive_class

    return positive_class(ctx)


@register(
    "prior_shift",
    "drift",
    label="Change in the target's base rate",
    description="The share of positive outcomes (classification) or the mean target "
    "(regression) in the client's data against the development data.",
    bounded=True,
    value_range=(0.0, None),
    where=DRIFT_WHERE,
    roles=DRIFT_ROLES,
)
def prior_shift(ctx: CheckContext) -> list[Finding]:
    """The change of the target's base rate from the development data to each client split.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One per client split (``drift.prior_shift.<split>``); skipped when the development
        data have no target.
    """
    skipped = _skip_without_drift(ctx, "Base rate")
    if skipped is not None:
        return skipped
    reference = ctx.evaluation.drift[0].reference
    if reference not in ctx.dataset.y:
        return ctx.skipped(
            "Base rate", "The base rate was not compared: the development data have no target."
        )
    bound = ctx.diagnostic("max_prior_shift")
    y_ref = np.asarray(ctx.dataset.y[reference])
    out = []
    for i, r in enumerate(ctx.evaluation.drift):
        y_cur = np.asarray(ctx.dataset.y[r.current])
        out.append(_prior_finding(ctx, r, y_ref, y_cur, bound, seed=ctx.seed(r.current, 11) + i))
    return out


def _prior_finding(ctx, r, y_ref, y_cur, bound, *, seed: int) -> Finding:
    where, ref = ctx.phrase(r.current), _reference_words(ctx, r.reference)
    if ctx.task == "regression":
        scale = float(np.std(y_ref)) or 1.0
        value = abs(float(np.mean(y_cur)) - float(np.mean(y_ref))) / scale
        ci = None
        said = (
            f"The mean target of {where} is {num(float(np.mean(y_cur)))} against "
            f"{num(float(np.mean(y_ref)))} in {ref} ({num(value)} standard deviations apart)"
        )
        label = "mean target"
    else:
        positive = _positive(ctx)
        hits_ref, hits_cur = float((y_ref == positive).sum()), float((y_cur == positive).sum())
        value, ci = _share_change(ctx, hits_ref, len(y_ref), hits_cur, len(y_cur), seed)
        cls = ctx.evaluation.classes[positive]
        share_cur, share_ref = hits_cur / max(len(y_cur), 1), hits_ref / max(len(y_ref), 1)
        said = (
            f"{ctx.dataset.target} = {cls} makes up {pct(share_cur)} of {where} against "
            f"{pct(share_ref)} in {ref} ({points(value)} apart"
            f"{_ci_clause(ci, ctx.confidence, as_points=True, sep='; ')})"
        )
        label = f"share of {ctx.dataset.target} = {cls}"
    status = ctx.diagnose(value, bound)
    return ctx.finding(
        "prior_shift",
        At(split=r.current),
        status=status,
        measured=Measurement(value, ci, len(y_cur), bound),
        title=f"Base rate on {r.current}",
        summary=said
        + ("; decisions tuned on the development data may not fit." if status == "warn" else "."),
        recommendation="Review the decision threshold on the client's own data; the share "
        "of positive cases has moved."
        if status == "warn"
        else "",
        details={"what": label},
    )


def _shares_of(frame, column: str) -> dict[str, float]:
    counts = frame[column].value_counts()
    return {str(k): float(v) for k, v in counts.items()}


@register(
    "group_shift",
    "drift",
    label="Largest change in a group's share",
    description="Each sensitive group's share of the client's rows against the development "
    "data, and the groups the development data barely had.",
    bounded=True,
    value_range=SHARE,
    where=DRIFT_WHERE,
    roles=DRIFT_ROLES,
)
def group_shift(ctx: CheckContext) -> list[Finding]:
    """The largest change in a sensitive group's share of the rows, per feature.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One per client split and sensitive feature: ``drift.group_shift.<split>.<sensitive>``.
    """
    skipped = _skip_without_drift(ctx, "Group shares")
    if skipped is not None:
        return skipped
    reference = ctx.evaluation.drift[0].reference
    ref_groups = ctx.dataset.groups.get(reference)
    if not ctx.dataset.sensitive or ref_groups is None:
        why = (
            "no sensitive features are named"
            if not ctx.dataset.sensitive
            else ("the development data lack the sensitive columns")
        )
        return ctx.skipped("Group shares", f"Group shares were not compared: {why}.")
    bound = ctx.diagnostic("max_group_share_shift")
    out = []
    for r in ctx.evaluation.drift:
        cur_groups = ctx.dataset.groups[r.current]
        for j, sens in enumerate(ctx.dataset.sensitive):
            out.append(_group_shift_finding(ctx, r, ref_groups, cur_groups, sens, bound, j))
    return out


def _group_shift_finding(ctx, r, ref_groups, cur_groups, sens, bound, j) -> Finding:
    ref, cur = _shares_of(ref_groups, sens), _shares_of(cur_groups, sens)
    n_ref, n_cur = len(ref_groups), len(cur_groups)
    rows = []
    for g in sorted(set(ref) | set(cur)):
        value, ci = _share_change(
            ctx, ref.get(g, 0.0), n_ref, cur.get(g, 0.0), n_cur, ctx.seed(r.current, 13) + j
        )
        rows.append(
            {
                "group": g,
                "development_share": ref.get(g, 0.0) / max(n_ref, 1),
                "client_share": cur.get(g, 0.0) / max(n_cur, 1),
                "change": value,
                "low": ci[0] if ci else None,
                "high": ci[1] if ci else None,
                "development_rows": int(ref.get(g, 0.0)),
                "barely_seen": ref.get(g, 0.0) < ctx.min_group_size,
            }
        )
    worst = max(rows, key=lambda row: row["change"])
    status = ctx.diagnose(worst["change"], bound)
    rare = [row["group"] for row in rows if row["barely_seen"] and row["client_share"] > 0]
    where = ctx.phrase(r.current)
    summary = (
        f"{sens} {worst['group']} is {pct(worst['client_share'])} of {where} against "
        f"{pct(worst['development_share'])} of {_reference_words(ctx, r.reference)}"
        f" ({points(worst['change'])} apart)"
        + (
            f"; the development data had fewer than {ctx.min_group_size} rows of "
            + ", ".join(rare[:3])
            if rare
            else ""
        )
        + "."
    )
    ci = (worst["low"], worst["high"]) if worst["low"] is not None else None
    return ctx.finding(
        "group_shift",
        At(split=r.current, sensitive=sens),
        status="warn" if status == "warn" or rare else "pass",
        measured=Measurement(worst["change"], ci, n_cur, bound),
        title=f"Shares of {sens} on {r.current}",
        summary=summary,
        recommendation=f"Check the model on the {sens} groups the development data barely had "
        f"({ctx.addressee.ask} how it was validated on them)."
        if rare
        else "Check fairness on the client's own data: the mix of groups has changed."
        if status == "warn"
        else "",
        details={"groups": rows},
        chart={
            "kind": "shares",
            "title": f"Shares of {sens}: {where} against the development data",
            "labels": [row["group"] for row in rows],
            "series": [
                {"name": r.reference, "values": [row["development_share"] for row in rows]},
                {"name": r.current, "values": [row["client_share"] for row in rows]},
            ],
            "ordered": False,
        },
    )


@register(
    "unseen_categories",
    "drift",
    label="Share of rows with a category the development data never had",
    description="Categories in the client's data that the development data never had.",
    bounded=True,
    value_range=SHARE,
    where=DRIFT_WHERE,
    roles=DRIFT_ROLES,
)
def unseen_categories(ctx: CheckContext) -> list[Finding]:
    """The largest share of client rows whose category the development data never had.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One per client split: ``drift.unseen_categories.<split>``.
    """
    skipped = _skip_without_drift(ctx, "New categories")
    if skipped is not None:
        return skipped
    bound = ctx.diagnostic("max_unseen_share")
    out = []
    for r in ctx.evaluation.drift:
        cats = [d for d in r.features if d.kind == "categorical"]
        worst = max(cats, key=lambda d: d.unseen_share, default=None)
        value = worst.unseen_share if worst is not None else 0.0
        status = ctx.diagnose(value, bound)
        where = ctx.phrase(r.current)
        texts = [d.feature for d in r.features if d.kind == "text"]
        if worst is None and texts:  # free text has words, not categories: said once here
            summary = (
                f"No categorical column to check in {where}; the text column "
                f"'{texts[0]}' is compared as words (its share of unseen words) under "
                "feature drift."
            )
        elif worst is None or not worst.unseen:
            summary = (
                f"Every category in {where} also occurs in {_reference_words(ctx, r.reference)}."
            )
        else:
            shown = ", ".join(f"'{c}'" for c in worst.unseen[:3])
            summary = (
                f"{pct(value, digits=1)} of the rows of {where} have a '{worst.feature}' "
                f"{_reference_words(ctx, r.reference)} never had ({shown})."
            )
        out.append(
            ctx.finding(
                "unseen_categories",
                At(split=r.current),
                status=status,
                measured=Measurement(value, None, None, bound),
                title=f"New categories on {r.current}",
                summary=summary,
                recommendation="Ask how the model treats categories it never saw; map them to "
                "known ones or retrain with them."
                if status == "warn"
                else "",
                details={
                    "columns": {
                        d.feature: {"share": d.unseen_share, "categories": d.unseen[:20]}
                        for d in cats
                        if d.unseen
                    },
                },
            )
        )
    return out


# ------------------------------------------------------------------ performance
@register(
    "performance_shift",
    "drift",
    label="Drop",
    description="A score on the development data minus the same score on the client's data, "
    "with an interval.",
    bounded=True,
    measured_in=any_metric,
    where=DRIFT_WHERE,
    roles=DRIFT_ROLES,
)
def performance_shift(ctx: CheckContext) -> list[Finding]:
    """The drop of each judged metric from the development data to each client split.

    Needs the development data's target and the model's scores on them (``reference`` is
    then an evaluated split). Positive means worse on the client's data.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One per metric and client split: ``drift.performance_shift.<metric>.<split>``.
    """
    from auditor.metrics import get_metric, percentile_interval

    if "reference" not in ctx.evaluation.splits:
        return ctx.skipped(
            "Performance on development and client data",
            "Performance was not compared with the development data: they are not declared "
            "(data.reference), hold no target, or the model does not score them.",
        )
    bound = ctx.diagnostic("max_performance_drop")
    names = dict.fromkeys(
        [ctx.evaluation.primary_metric, *ctx.criterion_metrics(check="performance_shift")]
    )
    ref = ctx.estimates("reference")
    out = []
    for name in [n for n in names if n in ctx.metric_set()]:
        m = get_metric(name)
        sign = 1.0 if m.greater_is_better else -1.0
        for split in [s for s in ctx.splits() if ctx.role(s) in DRIFT_ROLES]:
            cur = ctx.estimates(split)[name]
            drop = finite(sign * (ref[name].value - cur.value))
            ci = None
            if ref[name].replicates is not None and cur.replicates is not None:
                ci = percentile_interval(
                    sign * (ref[name].replicates - cur.replicates), ctx.confidence
                )
            status = "pass" if drop is None else ctx.diagnose(drop, bound)
            summary = (
                f"{m.label} is {num(cur.value, digits=3)} on {ctx.phrase(split)} against "
                f"{num(ref[name].value, digits=3)} on {ctx.phrase('reference')}"
                f"{ci_text(ci, ctx.confidence)}"
                + ("; the model does worse on the client's data." if status == "warn" else ".")
            )
            out.append(
                ctx.finding(
                    "performance_shift",
                    At(name, split),
                    status=status,
                    measured=Measurement(drop, ci, cur.n, bound),
                    title=f"{m.label}: development data against {split}",
                    summary=summary,
                    recommendation=f"Do not rely on {ctx.addressee.figures}: judge the "
                    "model on the client's own data (the criteria above)."
                    if status == "warn"
                    else "",
                    details={"reference": finite(ref[name].value), split: finite(cur.value)},
                )
            )
    return out
