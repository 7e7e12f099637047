"""Checks on the hyperparameter search: what it tried and chose, and what it gained.

They read ``evaluation.tuning`` (:class:`auditor.tuning.TuningOutcome`, the search on the
train and validation rows alone) and ``evaluation.untuned`` (the spec's own configuration,
trained as the chosen one was, predicting the splits the search never read):

- ``tuning_search``: the search in one finding (method, trials run, pruned and failed,
  time, the chosen values against the spec's own), the best trials as a table and the
  optimization history as a chart; a second finding charts each option's importance;
- ``tuning_gain``: the chosen configuration minus the spec's own on the test split (and
  the holdout, audit files), in the search's metric, with a paired bootstrap interval
  (both models scored on the same resamples). The search picked its winner on the
  validation rows, where its lead is flattered by the choice itself; on rows it never
  saw the lead is honest, and an interval that includes 0 says that the search found
  nothing better than the spec's own configuration beyond chance.

Without ``tuning`` in the spec neither check reports anything.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from auditor.checks.registry import At, CheckContext, Measurement, register
from auditor.checks.text import ci_text, num
from auditor.metrics.bootstrap import percentile_interval
from auditor.types import LM_TASKS, TASKS, Finding

#: The tasks whose models a search trains: the tabular ones and language models.
SEARCHED = (*TASKS, *LM_TASKS)
#: Bootstrap purpose of a language model's tuning gain (distinct from the fit checks').
LM_GAIN_PURPOSE = 61
SHOWN_VALUES = 4  # chosen values named in the summary sentence
MSG_KEPT = (
    "No trial beat the spec's own configuration on the {scored}, so the search kept it: "
    "the audited model is the spec's own configuration, and the search gained nothing "
    "(exactly 0) on {where}."
)


def _outcome(ctx: CheckContext):
    return ctx.evaluation.tuning


def _metric(ctx: CheckContext) -> str:
    """The search's metric where the audit has it, else the primary metric.

    A search on the validation loss is judged in the metric the report leads with.
    """
    metric = _outcome(ctx).metric
    return metric if metric in ctx.metric_set() else ctx.evaluation.primary_metric


def _values_text(values: dict[str, Any], limit: int = SHOWN_VALUES) -> str:
    parts = [f"{k.split('.')[-1]} {_plain(v)}" for k, v in list(values.items())[:limit]]
    more = len(values) - limit
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "")


def _plain(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    return str(value)


def _trial_rows(outcome) -> list[dict[str, Any]]:
    """The best trials as table rows (the spec's own configuration among them)."""
    rows = []
    for t in [*outcome.best, outcome.baseline]:
        row: dict[str, Any] = {
            "trial": "spec's own" if t.number is None else t.number,
            outcome.metric: t.value,
            "epochs": t.epochs,
            "seconds": t.seconds,
        }
        row.update({k.split(".")[-1]: _plain(v) for k, v in t.values.items()})
        rows.append(row)
    return rows


def _history_chart(outcome) -> dict[str, Any]:
    trials = sorted(outcome.trials, key=lambda t: t.number)
    maximize = outcome.direction == "maximize"
    best, running = None, []
    for t in trials:
        if t.state == "complete" and t.value is not None:
            if best is None or (t.value > best if maximize else t.value < best):
                best = t.value
        running.append(best)
    chosen = outcome.chosen
    title = (
        f"Trial {chosen['trial']} scored best ({outcome.metric} {num(chosen['value'], digits=3)})"
        if chosen["source"] == "trial"
        else f"No trial beat the spec's own configuration ({outcome.metric} "
        f"{num(outcome.baseline.value, digits=3)})"
    )
    return {
        "kind": "optimization_history",
        "title": title,
        "metric": outcome.metric,
        "trials": [t.number for t in trials],
        "values": [t.value if t.state == "complete" else None for t in trials],
        "states": [t.state for t in trials],
        "best_so_far": running,
        "baseline": outcome.baseline.value,
    }


@register(
    "tuning_search",
    "tuning",
    label="Hyperparameter search",
    description="What the search tried (trials run, pruned and failed), what it chose, and "
    "which options mattered; on the train and validation rows alone.",
    per_split=False,
    tasks=SEARCHED,
)
def tuning_search(ctx: CheckContext) -> list[Finding]:
    """The search as findings: one on what it did and chose, one on the options' importance.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        ``tuning.search`` and ``tuning.importance``; none without a search.
    """
    outcome = _outcome(ctx)
    if outcome is None:
        return []
    c = outcome.counts
    kept = outcome.chosen["source"] != "trial"
    chose = (
        "kept the spec's own configuration"
        if kept
        else f"chose trial {outcome.chosen['trial']} ({_values_text(outcome.chosen['values'])})"
    )
    rows = "documents" if ctx.task in LM_TASKS else "rows"
    scored = f"the validation {rows}" if outcome.scored_on == "validation" else "folds of train"
    if kept:
        best = outcome.best[0].value if outcome.best else None
        versus = (
            f"{outcome.metric} {num(outcome.baseline.value, digits=3)}, against "
            f"{num(best, digits=3)} for the best trial"
            if best is not None
            else f"{outcome.metric} {num(outcome.baseline.value, digits=3)}; no trial completed"
        )
    else:
        versus = (
            f"{outcome.metric} {num(outcome.chosen['value'], digits=3)} against "
            f"{num(outcome.baseline.value, digits=3)} for the spec's own configuration"
        )
    summary = (
        f"A {outcome.method_label} ran {c['run']} trials ({c['pruned']} pruned, "
        f"{c['failed']} failed) in {outcome.seconds:,.0f} s on {scored} and {chose}: "
        f"{versus}."
    )
    search = ctx.finding(
        "search",
        status="pass",
        title="Hyperparameter search",
        summary=summary,
        value=outcome.chosen["value"],
        details={
            "best_trials": _trial_rows(outcome),
            "budget": {k: v for k, v in outcome.budget.items() if v is not None},
            "notes": "; ".join(outcome.notes) or None,
        },
        chart=_history_chart(outcome),
    )
    return [search, _importance_finding(ctx, outcome)]


def _importance_finding(ctx: CheckContext, outcome) -> Finding:
    if not outcome.importance:
        return ctx.finding(
            "importance",
            status="skipped",
            title="Which options mattered",
            summary=f"Not estimated: {outcome.importance_note or 'no complete trials'}.",
        )
    ranked = sorted(outcome.importance.items(), key=lambda kv: -kv[1])
    top, share = ranked[0]
    summary = (
        f"'{top}' explains {100 * share:.0f}% of the variation in {outcome.metric} across the "
        f"complete trials (fANOVA); "
        + ", ".join(f"'{k}' {100 * v:.0f}%" for k, v in ranked[1:4])
        + "."
        if len(ranked) > 1
        else f"'{top}' is the only option drawn in every complete trial."
    )
    return ctx.finding(
        "importance",
        status="pass",
        title="Which options mattered",
        summary=summary,
        chart={
            "kind": "bars",
            "title": f"'{top}' mattered most",
            "labels": [k for k, _ in ranked],
            "values": [v for _, v in ranked],
            "xlabel": "share of the variation (fANOVA)",
        },
    )


@register(
    "tuning_gain",
    "tuning",
    label="Tuning gain",
    description="The chosen configuration minus the spec's own, both trained alike, on rows "
    "the search never read, with a paired interval: did the search find something better?",
    bounded=True,
    requires=("tuning",),
    roles=("test", "holdout", "audit"),
    tasks=SEARCHED,
)
def tuning_gain(ctx: CheckContext) -> list[Finding]:
    """The search's gain on each split it never read (test, holdout, audit files).

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        ``tuning.tuning_gain.<metric>.<split>`` per split (a gain of exactly 0 when the
        search kept the spec's own configuration: the audited model is it); none without a
        search.
    """
    outcome = _outcome(ctx)
    if outcome is None:
        return []
    if ctx.task in LM_TASKS:  # mean token loss on the test documents, paired over them
        return _lm_gain_findings(ctx, outcome)
    metric = _metric(ctx)
    if outcome.chosen["source"] != "trial":
        return [_kept_finding(ctx, outcome, split, metric) for split in _unseen(ctx)]
    return [_gain_finding(ctx, split, metric) for split in ctx.evaluation.untuned]


def _unseen(ctx: CheckContext) -> list[str]:
    """The evaluated splits the search never read (test, holdout, audit files)."""
    from auditor.tuning.search import SEARCH_SPLITS

    return [s for s in ctx.splits() if s not in SEARCH_SPLITS and ctx.role(s) != "reference"]


def _kept_finding(
    ctx: CheckContext, outcome, split: str, metric: str | None, n: int | None = None
) -> Finding:
    """The search kept the spec's own configuration: the same model, a gain of exactly 0."""
    rows = "documents" if ctx.task in LM_TASKS else "rows"
    scored = f"validation {rows}" if outcome.scored_on == "validation" else "folds of train"
    n = len(ctx.evaluation.splits[split].y_true) if n is None else n
    return ctx.finding(
        "tuning_gain",
        At(metric, split),
        measured=Measurement(0.0, (0.0, 0.0), n, None),
        status="warn",
        title=f"Tuning gain on {split}",
        summary=MSG_KEPT.format(scored=scored, where=ctx.phrase(split)),
        recommendation="Widen the search space or its budget if a better configuration "
        "is expected; the spec's own configuration is what ships.",
        details={"kept": True, "metric": metric},
    )


def _gain_finding(ctx: CheckContext, split: str, metric: str) -> Finding:
    from auditor.metrics import Rows, bootstrap_rows, get_metric

    m = get_metric(metric)
    sign = 1.0 if m.greater_is_better else -1.0
    e = ctx.evaluation.untuned[split]
    k = len(ctx.evaluation.classes) if ctx.task != "regression" else None

    def theirs():
        return bootstrap_rows(
            Rows(ctx.task, e.y_true, e.scores, e.y_pred, n_classes=k),
            [metric],
            resamples=ctx.resamples,
            confidence=ctx.confidence,
            seed=ctx.seed(split, 0),  # the weights of ctx.estimates(split): paired
        )[metric]

    own = ctx.memo(("untuned", split, metric), theirs)
    chosen = ctx.estimates(split)[metric]
    gain = sign * (chosen.value - own.value)
    reps = ci = None
    if chosen.replicates is not None and own.replicates is not None:
        reps = sign * (np.asarray(chosen.replicates, float) - np.asarray(own.replicates, float))
        ci = percentile_interval(reps, ctx.confidence)
    earned, verdict = _gain_words(gain, ci)
    summary = (
        f"On {ctx.phrase(split)}, which the search never read, the chosen configuration's "
        f"{m.label} is {num(chosen.value, digits=3)} against {num(own.value, digits=3)} for "
        f"the spec's own: a gain of {num(gain, digits=3)}"
        f"{ci_text(ci, ctx.confidence, digits=3)}, {verdict}."
    )
    return ctx.finding(
        "tuning_gain",
        At(metric, split),
        measured=Measurement(gain, ci, len(e.y_true), None, replicates=reps),
        status="pass" if earned else "warn",
        title=f"Tuning gain on {split}",
        summary=summary,
        recommendation=(
            ""
            if earned
            else "Widen the search space or its budget, or keep the simpler spec's own "
            "configuration: the search did not earn its complexity."
        ),
        details={"chosen": chosen.value, "spec_own": own.value, "metric": metric},
    )


def _gain_words(gain: float, ci) -> tuple[bool, str]:
    """Whether the search earned its gain on unseen rows (above 0 beyond chance), in words."""
    noise = ci is not None and ci[0] <= 0.0 <= ci[1]
    if noise:
        return False, (
            "within noise: the search found nothing better than the spec's own configuration "
            "beyond chance"
        )
    if gain > 0:
        return True, "a real gain"
    return False, "worse than the spec's own configuration"


def _lm_gain_findings(ctx: CheckContext, outcome) -> list[Finding]:
    """A language model's search gain, on the test documents.

    The spec's own configuration's mean token loss minus the chosen one's (nats per token;
    positive: the search helped), both trained alike, with a paired bootstrap interval over
    documents.
    """
    from auditor.checks.lm_base import paired_losses
    from auditor.train.lm_evaluate import UNSEEN

    unseen = [s for s in UNSEEN if s in ctx.evaluation.text]
    if outcome.chosen["source"] != "trial":
        return [
            _kept_finding(ctx, outcome, s, None, len(ctx.evaluation.text[s]["tokens"]))
            for s in unseen
        ]
    out = []
    for split in unseen:
        r = paired_losses(ctx, split, LM_GAIN_PURPOSE, base_first=True, other="untuned_nll")
        if r is None:
            out.append(
                ctx.finding(
                    "tuning_gain",
                    At(None, split),
                    status="error",
                    title=f"Tuning gain on {split}",
                    summary="The spec's own configuration was not scored on the same tokens, "
                    "so the search's gain cannot be measured.",
                )
            )
            continue
        earned, verdict = _gain_words(r["value"], r["ci"])
        summary = (
            f"On {ctx.phrase(split)} ({r['documents']:,} documents the search never read), the "
            f"chosen configuration's perplexity is {num(r['perplexity'], digits=2)} against "
            f"{num(r['base_perplexity'], digits=2)} for the spec's own: the loss per token is "
            f"{num(r['value'], digits=3)} nats lower"
            f"{ci_text(r['ci'], ctx.confidence, digits=3)}, {verdict}."
        )
        out.append(
            ctx.finding(
                "tuning_gain",
                At(None, split),
                measured=Measurement(r["value"], r["ci"], r["documents"], replicates=r["reps"]),
                status="pass" if earned else "warn",
                title=f"Tuning gain on {split}",
                summary=summary,
                recommendation=""
                if earned
                else "Widen the search space or its budget, or keep the spec's own values: "
                "the search's lead on the validation documents did not carry over.",
                details={
                    "metric": "loss",
                    "perplexity": r["perplexity"],
                    "untuned_perplexity": r["base_perplexity"],
                    "documents": r["documents"],
                    "tokens": r["tokens"],
                },
            )
        )
    return out
