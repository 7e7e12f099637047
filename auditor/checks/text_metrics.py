"""The text metrics check: every catalogued text metric on every split, with intervals.

Findings are ``text.<metric>.<split>`` (the aggregate) and
``text.<metric>.pass_rate[_at_<t>].<split>``, with ``.<sensitive>.<group>`` per segment;
the verdict judges them like any other finding (a criterion names the metric, and its
``pass_at`` the per-row threshold). Every figure comes with its bootstrap interval
(:mod:`auditor.text.aggregate`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from auditor.checks.registry import CheckContext, register
from auditor.splits import bootstrap_seed, split_phrase
from auditor.text.aggregate import TextEstimate, aggregate, aggregate_gap, pass_rate, passes
from auditor.text.audit import available_metrics, text_columns
from auditor.text.catalogue import TEXT_METRICS, TextMetric, pass_rate_words
from auditor.text.local_models import text_models
from auditor.types import LM_TASKS, TEXT_TASKS, Dataset, Finding, Spec

#: The check's name: criteria on text metrics judge its findings (``Criterion.check_name``).
CHECK = "text"
#: Rows of the worst-scoring responses kept for the report, per split and metric.
WORST_ROWS = 5
EXCERPT_CHARS = 240
#: The text roles a worst row shows (empty where the rows have no such column).
TEXT_ROLES = ("question", "context", "response", "reference")


def _inputs(spec: Spec, frame) -> dict[str, list[str]]:
    return {role: frame[col].tolist() for role, col in text_columns(spec)[0].items()}


def _thresholds(spec: Spec, m: TextMetric) -> list[float]:
    ts = [] if m.row_threshold is None else [float(m.row_threshold)]
    for c in spec.acceptance:
        if c.metric == m.name and c.pass_at is not None and float(c.pass_at) not in ts:
            ts.append(float(c.pass_at))
    return ts


def _key(m: TextMetric, t: float | None) -> str:
    if t is None:
        return m.name
    if t == m.row_threshold:
        return f"{m.name}.pass_rate"
    return f"{m.name}.pass_rate_at_{f'{t:g}'.replace('.', '_')}"


def _fmt(m: TextMetric, x: float | None, *, rate: bool) -> str:
    from auditor.checks.text import num, pct

    if x is None:
        return "n/a"
    return pct(x, digits=1) if rate or m.high == 1.0 and m.category == "safety" else num(x)


def _sentence(m, est: TextEstimate, t, where: str, confidence: float) -> str:
    rate = t is not None
    ci = (
        ""
        if est.ci is None
        else (
            f" (interval {_fmt(m, est.low, rate=rate)} to {_fmt(m, est.high, rate=rate)}, "
            f"{confidence:.0%} confidence)"
        )
    )
    kind = {"embedder": "a sentence-embedding", "language_model": "a language-model"}.get(
        (m.needs or ("",))[0], "a lexical"
    )
    heuristic = f" This is {kind} heuristic, not a judge." if m.heuristic else ""
    if rate:
        return (
            f"{_fmt(m, est.value, rate=True)} of the {est.n} responses in {where} have "
            f"{m.label} {pass_rate_words(m, t)}{ci}.{heuristic}"
        )
    return f"{m.label} in {where} is {_fmt(m, est.value, rate=False)}{ci}.{heuristic}"


@dataclass
class _Measure:
    spec: Spec
    split: str
    label: str | None

    @property
    def confidence(self) -> float:
        return float(self.spec.evaluation.confidence)

    def estimate(self, m: TextMetric, values: np.ndarray, t: float | None, purpose: int):
        ev = self.spec.evaluation
        seed = bootstrap_seed(ev.seed, self.split, purpose)
        kwargs = {"resamples": int(ev.bootstrap), "seed": seed, "confidence": self.confidence}
        if t is not None:
            return pass_rate(values, t, higher_is_better=m.higher_is_better, **kwargs)
        return aggregate(values, corpus=m.corpus, **kwargs)


def _worst_rows(m: TextMetric, frame, spec: Spec, scores: np.ndarray) -> list[dict]:
    roles, id_column = text_columns(spec)
    order = np.argsort(scores if m.higher_is_better else -scores, kind="stable")[:WORST_ROWS]
    rows = []
    for i in order:
        row = frame.iloc[int(i)]
        shown = {r: row[roles[r]][:EXCERPT_CHARS] if r in roles else "" for r in TEXT_ROLES}
        rows.append(
            {
                "id": str(row[id_column]) if id_column else str(int(i)),
                **shown,
                "score": float(scores[i]),
            }
        )
    return rows


def scored_dataset(ctx: CheckContext) -> Dataset:
    """The rows the text metrics score.

    The audit files of generated text, or a language model's answers to held-out prompts
    (one frame per split, no segments).
    """
    dataset = ctx.dataset
    if ctx.task not in LM_TASKS:
        return dataset
    import pandas as pd

    frames = {
        split: pd.DataFrame(m["generations"])
        for split, m in ctx.evaluation.text.items()
        if isinstance(m, dict) and "generations" in m
    }
    return dataclasses.replace(
        dataset,
        frames=frames,
        groups={s: pd.DataFrame(index=f.index) for s, f in frames.items()},
        sensitive=[],
    )


@register(
    "text",
    "text",
    label="Text metric",
    description="Every applicable text metric (catalogue: auditor.text.catalogue) on every "
    "split, its pass rate at the per-row threshold and at each criterion's pass_at, per "
    "segment of each sensitive column.",
    tasks=(*TEXT_TASKS, *LM_TASKS),  # a language model: its answers to held-out prompts
)
def text_metrics(ctx: CheckContext) -> list[Finding]:
    """Every applicable text metric on every audit split, with intervals.

    Parameters
    ----------
    ctx : CheckContext
        The run's context; the metrics that apply are the evaluation's
        ``notes["text_metrics"]``, and those an LLM judge scored (``notes["judge"]``:
        :func:`auditor.checks.text_judge.judged_findings`).

    Returns
    -------
    list of Finding
        ``text.<metric>[.pass_rate[_at_<t>]].<split>[.<sensitive>.<group>]``.
    """
    from auditor.checks.text_judge import judged_findings, judged_metric_names, metric_for

    spec, dataset = ctx.spec, scored_dataset(ctx)
    findings: list[Finding] = []
    names = ctx.evaluation.notes.get("text_metrics") or [m.name for m in available_metrics(spec)]
    metrics = [TEXT_METRICS[n] for n in names]
    judged = judged_metric_names(ctx.evaluation)  # the LLM judge's, when the spec has one
    metrics += [metric_for(n) for n in judged if n not in names]
    models = text_models(spec)  # the local models some estimators read, loaded once
    for split in dataset.splits:
        frame = dataset.frames[split]
        label = dataset.split_labels.get(split)
        measure = _Measure(spec, split, label)
        data = _inputs(spec, frame)
        data["models"] = models
        for number, m in enumerate(metrics):
            if m.name in judged:  # the judge's scores, the offline estimator as baseline
                findings += judged_findings(ctx, measure, m, data, number)
                continue
            raw = m.rows(data)
            per_row = m.sentence(raw) if m.sentence is not None else raw
            worst = _worst_rows(m, frame, spec, per_row)
            used = [i.short() for i in models.identities(m.needs)]
            findings += _metric_findings(
                measure, m, raw, per_row, dataset, number, worst, models=used
            )
    return findings


def _metric_findings(
    measure, m, raw, per_row, dataset, number, worst, *, models=()
) -> list[Finding]:
    spec, split = measure.spec, measure.split
    where = split_phrase(split, measure.label)
    out = []
    for j, t in enumerate([None, *_thresholds(spec, m)]):
        values = raw if t is None else per_row
        est = measure.estimate(m, values, t, 1000 * number + j)
        chart_rows = []
        segment = []
        for col in dataset.sensitive:
            groups = dataset.groups[split][col].to_numpy()
            labels = sorted(set(groups))
            ref, rule = _reference(spec, col, labels, [int((groups == g).sum()) for g in labels])
            for g in labels:
                mask = groups == g
                purpose = 1000 * number + j + 7 * (1 + len(segment))
                sub = measure.estimate(m, values[mask], t, purpose)
                gap = None
                if g != ref:
                    gap = _gap(measure, m, values, t, mask, groups == ref, purpose + 3)
                gap = {**(gap or {}), "reference_group": ref, "reference_rule": rule}
                named = {"models": list(models)} if models else None
                segment.append(
                    _finding(
                        m, sub, t, split, f"{where}, {col} {g}", measure, col, g, None, named, gap
                    )
                )
                chart_rows.append(
                    {
                        "group": f"{col}: {g}",
                        "value": sub.value,
                        "low": sub.low,
                        "high": sub.high,
                        "n": sub.n,
                        "inconclusive": sub.n < int(spec.evaluation.min_group_size),
                    }
                )
        chart = {
            "kind": "group_bars",
            "metric": m.name,
            "rows": chart_rows,
            "bound": None,
            "reference": est.value,
            "title": f"{m.label}{'' if t is None else ' pass rate'} by segment",
        }
        extra = {"worst_rows": worst}
        if models:  # which local model computed the figure (name, version, fingerprint)
            extra["models"] = list(models)
        chart = chart if dataset.sensitive else None
        if t is None and not _two_valued(per_row):  # the figure itself: how rows spread
            chart = _distribution(m, per_row, where)
        out += [_finding(m, est, t, split, where, measure, None, None, chart, extra), *segment]
    return out


def _reference(spec: Spec, col: str, labels: list[str], sizes: list[int]) -> tuple[str, str]:
    """A segment column's reference group and the rule that chose it (as for fairness)."""
    from auditor.checks.fairness import RULE_LARGEST, RULE_NAMED, named_reference
    from auditor.metrics.fairness import largest_group

    wanted = named_reference(spec.data.reference_groups, col, [col])
    if wanted is not None and wanted in labels:
        return wanted, RULE_NAMED
    return labels[largest_group(np.asarray(sizes))], RULE_LARGEST


def _gap(measure, m: TextMetric, values, t, in_group, in_ref, purpose: int) -> dict:
    """A segment's figure minus its reference group's, with a bootstrap interval.

    :func:`auditor.text.aggregate.aggregate_gap`: the two groups resampled independently.
    """
    ev = measure.spec.evaluation
    v = np.asarray(values, dtype=np.float64)
    if t is not None:
        v = passes(v, t, higher_is_better=m.higher_is_better)
    point, ci = aggregate_gap(
        v[in_group],
        v[in_ref],
        resamples=int(ev.bootstrap),
        seed=bootstrap_seed(ev.seed, measure.split, purpose),
        confidence=measure.confidence,
        corpus=m.corpus if t is None else None,
    )
    return {"gap_to_reference": point, "gap_ci": None if ci is None else list(ci)}


#: Bins of a text metric's distribution chart.
DISTRIBUTION_BINS = 20


def _two_valued(values: np.ndarray) -> bool:
    """Whether per-row values are 0/1 flags (a rate), whose distribution says nothing more."""
    finite = values[np.isfinite(values)]
    return bool(np.isin(finite, (0.0, 1.0)).all())


def _distribution(m: TextMetric, values: np.ndarray, where: str) -> dict:
    """A histogram of the per-row figure over the metric's range, with its pass threshold."""
    finite = values[np.isfinite(values)]
    counts, edges = np.histogram(finite, bins=DISTRIBUTION_BINS, range=(m.low, m.high))
    return {
        "kind": "histogram",
        "edges": edges.tolist(),
        "counts": counts.tolist(),
        "xlabel": f"{m.label} per response",
        "bound": m.row_threshold,
        "bound_label": "a row passes at",
        "title": f"{m.label} per response, {where}",
    }


def _finding(
    m, est, t, split, where, measure, sensitive, group, chart=None, extra=None, gap=None
) -> Finding:
    key = _key(m, t)
    ident = f"text.{key}.{split}" + (f".{sensitive}.{group}" if sensitive else "")
    value = est.value if np.isfinite(est.value) else None
    title = m.label if t is None else f"{m.label}: share {pass_rate_words(m, t)}"
    summary = _sentence(m, est, t, where, measure.confidence)
    status = "pass" if value is not None else "error"
    needed = int(measure.spec.evaluation.min_group_size)
    if sensitive and est.n < needed:  # a segment too small to judge: shown, never deciding
        status = "inconclusive"
        summary += f" Only {est.n} rows: too few to judge (evaluation.min_group_size is {needed})."
    elif gap is not None and "gap_to_reference" in gap:
        summary += " " + _gap_sentence(m, t, gap, measure.confidence)
    elif gap is not None:
        summary += f" It is the reference group of {sensitive} ({gap['reference_rule']})."
    return Finding(
        id=ident,
        check=CHECK,
        category=m.category,
        status=status,
        title=f"{title} on {split}" + (f" ({sensitive} {group})" if sensitive else ""),
        summary=summary,
        value=value,
        ci=est.ci,
        metric=m.name,
        split=split,
        sensitive=sensitive,
        n=est.n,
        details={
            "label": m.label,
            "pass_at": t,
            "heuristic": m.heuristic,
            "group": group,
            "description": m.description,
            "higher_is_better": m.higher_is_better,
            **(gap or {}),
            **(extra or {}),
        },
        chart=chart,
    )


def _gap_sentence(m: TextMetric, t, gap: dict, confidence: float) -> str:
    """The gap in words, e.g. 'That is 22.5 points below chat (the largest group...): worse."""
    rate = t is not None
    value, ci = gap["gap_to_reference"], gap["gap_ci"]
    better = (value > 0) == m.higher_is_better
    if rate:
        size = f"{abs(100 * value):.1f} points"
        span = "" if ci is None else f"{100 * ci[0]:.1f} to {100 * ci[1]:.1f} points"
    else:
        size = _fmt(m, abs(value), rate=False)
        span = "" if ci is None else f"{_fmt(m, ci[0], rate=False)} to {_fmt(m, ci[1], rate=False)}"
    side = "above" if value > 0 else "below"
    clear = ci is not None and (ci[0] > 0 or ci[1] < 0)
    verdict = ("better" if better else "worse") if clear else "not clearly different"
    interval = f"; difference interval {span}, {confidence:.0%} confidence" if span else ""
    return (
        f"That is {size} {side} {gap['reference_group']} ({gap['reference_rule']}{interval}): "
        f"{verdict}."
    )
