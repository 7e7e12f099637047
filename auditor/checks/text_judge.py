"""The LLM judge in the checks: its scores as text metrics, and the check of the judge itself.

:func:`judged_findings` is how the text metrics check (:mod:`auditor.checks.text_metrics`)
reports a metric the judge scores: the judge's row scores (the median of the repeats) on
the rows it judged, with the offline estimator of the catalogue (the lexical groundedness
heuristic, for one) measured on the same rows and shown beside it as a baseline
(``details["offline"]``), and whether the judge is calibrated against people on the metric
(``details["judge"]``: a criterion with ``calibrated_judge`` reads it).

``judge_agreement`` checks the judge, per split:

- ``text.judge_agreement.<metric>.<split>``: the judge's agreement with people on the rows
  they rated (quadratic-weighted Cohen's kappa, with its interval; Spearman's correlation
  with its interval in the details); ``warn`` when the judge is not calibrated
  (``judge.min_kappa``), skipped when nobody rated the metric. The details carry the
  agreement between repeats (exact, within one point, Krippendorff's alpha), parse
  failures, unjudged rows, tokens, seconds, the prompt's SHA-256 and the judge model;
- ``text.judge_agreement.<split>``: the share of the judge's replies that parsed, with the
  budget used (rows and tokens) and every metric's counts in the details;
- ``text.judge_agreement.pairwise.<split>`` (with ``data.text.compare``): the audited
  response's win rate against the second response, asked in both orders, with the
  position consistency and the share of answers picking the response shown first, each
  with its interval.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from auditor.checks.registry import At, CheckContext, Measurement, register
from auditor.checks.text import num, pct
from auditor.text.aggregate import aggregate
from auditor.text.catalogue import TEXT_METRICS, TextMetric
from auditor.text.judging import calibration
from auditor.text.rubrics import LABELS, RUBRICS
from auditor.types import TEXT_TASKS, Finding

CHECK = "judge_agreement"
MSG_NOT_RATED = (
    "Nobody rated {metric} (data.text.ratings names no column for it), so the judge's "
    "agreement with people is unknown."
)


def judge_results(evaluation, split: str) -> dict | None:
    """What the evaluate stage left of the judge on ``split`` (None: no judge)."""
    return (evaluation.text.get(split) or {}).get("judge")


def judged_metric_names(evaluation) -> list[str]:
    """The metrics the judge scored, in its order."""
    return list((evaluation.notes.get("judge") or {}).get("metrics") or [])


def metric_for(name: str) -> TextMetric:
    """The catalogue's entry for a judged metric, or a judge-only entry (coherence)."""
    if name in TEXT_METRICS:
        return TEXT_METRICS[name]
    return TextMetric(
        name,
        LABELS[name],
        f"1-5 score from the LLM judge's {name} rubric.",
        RUBRICS[name].inputs,
        1.0,
        5.0,
        True,
        4.0,
        lambda d: np.full(len(d["response"]), np.nan),
    )


def _judge_details(ctx: CheckContext, split: str, metric: str, judged) -> dict:
    results = judge_results(ctx.evaluation, split)
    people = results["people"].get(metric)
    j = ctx.spec.judge
    calibrated = people or calibration(None, j.min_kappa, ctx.min_group_size)
    return {
        "model": judged.judge_model,
        "prompt_sha256": judged.prompt_sha256,
        "rubric_version": judged.rubric_version,
        "repeats": int(judged.scores.shape[1]),
        "judged": judged.judged,
        "unjudged": judged.unjudged,
        "parse_failures": judged.parse_failures,
        "calibrated": bool(calibrated["calibrated"]),
        "why": calibrated["why"],
        "kappa": None if not people else people["kappa"],
    }


def judged_findings(ctx: CheckContext, measure, m: TextMetric, data: dict, number: int):
    """The text metric findings of ``m`` from the judge's row scores (see the module doc)."""
    from auditor.checks import text_metrics

    split = measure.split
    judged = judge_results(ctx.evaluation, split)["metrics"][m.name]
    scores = judged.row_scores
    rows = np.flatnonzero(np.isfinite(scores))
    dataset = ctx.dataset
    frame = dataset.frames[split].iloc[rows].reset_index(drop=True)
    view = dataclasses.replace(
        dataset,
        frames={**dataset.frames, split: frame},
        groups={**dataset.groups, split: dataset.groups[split].iloc[rows].reset_index(drop=True)},
    )
    label = f"{LABELS[m.name]} (LLM judge)"
    as_judged = dataclasses.replace(
        m,
        label=label,
        description=f"1-5 score from the LLM judge's {m.name} rubric (median of the repeats).",
        heuristic=False,
        rows=lambda d: scores[rows],
        corpus=None,
        sentence=None,
        low=1.0,
        high=5.0,
        higher_is_better=True,
        row_threshold=m.row_threshold if m.row_threshold is not None else 4.0,
    )
    values = scores[rows]
    worst = text_metrics._worst_rows(as_judged, frame, ctx.spec, values)
    order = np.argsort(values, kind="stable")[: len(worst)]
    for row, i in zip(worst, order, strict=True):
        row["explanation"] = judged.reasons[rows[i]][: text_metrics.EXCERPT_CHARS]
    findings = text_metrics._metric_findings(
        measure, as_judged, values, values, view, number, worst
    )
    details = _judge_details(ctx, split, m.name, judged)
    baseline = _baseline(ctx, split, m, data, rows, number)
    out = []
    for f in findings:
        extra = {"judge": details, **({"offline": baseline} if baseline is not None else {})}
        summary = f.summary + (
            f" Scored by the judge {details['model']} on {details['judged']} rows "
            f"(median of {details['repeats']} repeats"
            + (f"; {details['unjudged']} rows not judged" if details["unjudged"] else "")
            + ")."
        )
        if baseline is not None and f.sensitive is None:
            summary += (
                f" The offline {baseline['label']} gives {num(baseline['value'])} on the same rows."
            )
        if not details["calibrated"]:
            summary += f" The judge is not calibrated: {details['why']}."
        out.append(dataclasses.replace(f, summary=summary, details={**f.details, **extra}))
    return out


def _baseline(ctx, split: str, m: TextMetric, data: dict, rows: np.ndarray, number: int):
    """The catalogue's offline estimator of ``m`` on the judged rows (None: none applies)."""
    from auditor.text.audit import available_metrics

    if m.name not in {x.name for x in available_metrics(ctx.spec)}:
        return None
    raw = m.rows(data)
    per_row = m.sentence(raw) if m.sentence is not None else raw
    values = np.asarray(per_row, dtype=np.float64)[rows]
    est = aggregate(
        values,
        resamples=ctx.resamples,
        seed=ctx.seed(split, 95_000 + number),
        confidence=ctx.confidence,
    )
    return {
        "label": m.label,
        "heuristic": bool(m.heuristic),
        "value": est.value,
        "ci": None if est.ci is None else list(est.ci),
        "n": est.n,
    }


# ---------------------------------------------------------------------- the check itself
@register(
    CHECK,
    "text",
    label="The LLM judge's agreement with people",
    description="The judge checked: quadratic-weighted kappa with people's ratings (and "
    "Spearman) with intervals per judged metric, agreement between repeats, parse "
    "failures, budget, tokens and seconds, and a pairwise comparison asked in both orders.",
    tasks=TEXT_TASKS,
    bounded=True,
    value_range=(-1.0, 1.0),
)
def judge_agreement(ctx: CheckContext) -> list[Finding]:
    """The judge's checks on every audit split (see the module docstring)."""
    if ctx.spec.judge is None:  # nothing to check, and nothing to say in the report
        return []
    findings: list[Finding] = []
    for split in ctx.dataset.splits:
        results = judge_results(ctx.evaluation, split)
        if results is None:
            continue
        where = ctx.phrase(split)
        for metric, judged in results["metrics"].items():
            findings.append(_people_finding(ctx, split, where, metric, judged, results))
        findings.append(_replies_finding(ctx, split, where, results))
        if results.get("pairwise") is not None:
            findings.append(_pairwise_finding(ctx, split, where, results["pairwise"]))
    return findings


def _repeats_words(agreement: dict) -> str:
    if not agreement["rows"]:
        return "No row has two parsed repeats, so their agreement is unknown."
    alpha = agreement["alpha"]
    return (
        f"Its repeats agree exactly on {pct(agreement['exact'], digits=0)} of rows and within "
        f"one point on {pct(agreement['within_one'], digits=0)} (Krippendorff's alpha "
        f"{'n/a' if alpha is None else num(alpha)})."
    )


def _people_finding(ctx, split, where, metric, judged, results) -> Finding:
    label = LABELS[metric]
    agreement = results["agreement"][metric]
    people = results["people"].get(metric)
    details = {
        **judged.summary(),
        "repeat_agreement": agreement,
        "people": people,
        "min_kappa": float(ctx.spec.judge.min_kappa),
    }
    title = f"Judge's {label.lower()} against people on {split}"
    repeats = _repeats_words(agreement)
    if not people:
        return ctx.finding(
            CHECK,
            At(metric=metric, split=split),
            status="skipped",
            title=title,
            summary=MSG_NOT_RATED.format(metric=label.lower()) + " " + repeats,
            details=details,
        )
    kappa, ci = people["kappa"], people["kappa_ci"]
    status = "pass" if people["calibrated"] else "warn"
    span = "" if ci is None else f" (interval {num(ci[0])} to {num(ci[1])})"
    rho = people["spearman"]
    summary = (
        f"On the {people['rated']} rows of {where} that people rated, the judge's "
        f"{label.lower()} scores agree with theirs at kappa {_num(kappa)}{span}, rank "
        f"correlation {_num(rho)}. {repeats}"
    )
    if not people["calibrated"]:
        summary += f" The judge does not count as calibrated: {people['why']}."
    chart = {
        "kind": "metric_intervals",
        "metric": "agreement with people",
        "rows": [
            {"label": "kappa (quadratic)", "value": kappa, "low": _lo(ci), "high": _hi(ci)},
            {
                "label": "Spearman",
                "value": rho,
                "low": _lo(people["spearman_ci"]),
                "high": _hi(people["spearman_ci"]),
            },
        ],
        "bound": float(ctx.spec.judge.min_kappa),
        "title": f"The judge's {label.lower()} against people, {where}",
    }
    return ctx.finding(
        CHECK,
        At(metric=metric, split=split),
        measured=Measurement(kappa, None if ci is None else tuple(ci), people["rated"]),
        status=status,
        title=title,
        summary=summary,
        recommendation=None
        if people["calibrated"]
        else "Do not rely on the judge's scores for this metric until it agrees with people: "
        "revise the rubric or use a stronger judge model, and have more rows rated.",
        details=details,
        chart=chart,
    )


def _num(x) -> str:
    return "n/a" if x is None else num(x)


def _lo(ci):
    return None if ci is None else ci[0]


def _hi(ci):
    return None if ci is None else ci[1]


def _replies_finding(ctx, split, where, results) -> Finding:
    metrics = {m: x.summary() for m, x in results["metrics"].items()}
    replies = sum(s["replies"] for s in metrics.values())
    failures = sum(s["parse_failures"] for s in metrics.values())
    failed = sum(s["failed_requests"] for s in metrics.values())
    unjudged = max((s["unjudged"] for s in metrics.values()), default=0)
    rows = max((s["rows"] for s in metrics.values()), default=0)
    parsed = None if not replies else (replies - failures - failed) / replies
    tokens = sum(s["tokens"] for s in metrics.values())
    budget = results["budget"]
    summary = (
        f"The judge answered {replies} requests on {where}: {failures} replies did not parse "
        f"and {failed} requests failed after their retries; {unjudged} of {rows} rows were "
        f"not judged because of the budget. It used {tokens} tokens in "
        f"{results['seconds']:.1f} s."
    )
    if budget.get("tokens") is not None:
        summary += f" The token budget was {budget['tokens']}."
    chart = {
        "kind": "bars",
        "labels": ["parsed", "did not parse", "failed", "rows not judged"],
        "values": [replies - failures - failed, failures, failed, unjudged],
        "xlabel": "replies (rows for the last bar)",
        "title": f"The judge's replies, {where}",
    }
    return ctx.finding(
        CHECK,
        At(split=split),
        measured=Measurement(parsed, None, replies),
        status="pass" if parsed else "error",
        title=f"Judge replies on {split}",
        summary=summary,
        details={"metrics": metrics, "budget": budget, "seconds": results["seconds"]},
        chart=chart,
    )


def _pairwise_finding(ctx, split, where, pairwise) -> Finding:
    def estimate(values, purpose):
        v = np.asarray(values, dtype=np.float64)
        v = v[np.isfinite(v)]
        est = aggregate(
            v, resamples=ctx.resamples, seed=ctx.seed(split, purpose), confidence=ctx.confidence
        )
        return {"value": est.value, "ci": None if est.ci is None else list(est.ci), "n": est.n}

    win = estimate(pairwise.outcomes(), 97_001)
    consistent = estimate(pairwise.consistent(), 97_002)
    first = estimate(pairwise.first_shown(), 97_003)

    def span(e):
        return "" if e["ci"] is None else f" (interval {pct(e['ci'][0])} to {pct(e['ci'][1])})"

    summary = (
        f"Asked in both orders which response answers better, the judge prefers the audited "
        f"response to the second one in {pct(win['value'])} of comparisons on {where}"
        f"{span(win)}. Its two answers pick the same response in "
        f"{pct(consistent['value'])} of rows{span(consistent)}, and it picks the response "
        f"shown first in {pct(first['value'])} of its answers{span(first)}; "
        f"{pairwise.parse_failures} replies did not parse."
    )
    rows = [
        {"label": "win rate", **_row(win)},
        {"label": "position consistency", **_row(consistent)},
        {"label": "picks the first shown", **_row(first)},
    ]
    return ctx.finding(
        CHECK,
        "pairwise",
        At(split=split),
        measured=Measurement(
            win["value"], None if win["ci"] is None else tuple(win["ci"]), win["n"]
        ),
        title=f"Pairwise comparison on {split}",
        summary=summary,
        details={
            "win_rate": win,
            "position_consistency": consistent,
            "first_shown": first,
            "parse_failures": pairwise.parse_failures,
            "prompt_sha256": pairwise.prompt_sha256,
            "tokens": pairwise.prompt_tokens + pairwise.completion_tokens,
            "seconds": round(pairwise.seconds, 3),
        },
        chart={
            "kind": "metric_intervals",
            "metric": "share",
            "rows": rows,
            "bound": None,
            "title": f"Pairwise comparison in both orders, {where}",
        },
    )


def _row(e: dict) -> dict:
    return {"value": e["value"], "low": _lo(e["ci"]), "high": _hi(e["ci"])}
