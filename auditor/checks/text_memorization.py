"""Memorization and contamination: the declared corpus (``data.corpus``) in the audited text.

- ``memorization``: the share of responses that reproduce a span of at least
  ``evaluation.memorization.memorized_words`` consecutive corpus words (verified word by
  word), with its bootstrap interval, the worst examples (the span marked, and the corpus
  line it came from) and a histogram of each response's longest reproduced span;
- ``contamination``: the share of rows whose prompt or reference is found in the corpus
  (at least ``contamination_share`` of its n-grams), with its interval, and a text metric
  on contaminated against clean rows with the interval of their difference: a score that
  is too good to be true where the model may have seen the item.

Both are judged against ``evaluation.diagnostics`` (``max_memorized_rate``,
``max_contamination_rate``) when no criterion covers them. The memorized share is also
given per segment of each sensitive column (``text.memorization.<split>.<column>.<group>``,
with its interval; a segment smaller than ``evaluation.min_group_size`` is inconclusive).
The checks only read: the evaluate stage indexed the corpus once and scanned the text
columns (:func:`auditor.text.corpus_evidence.scan_corpus`, in
``Evaluation.text[split]["corpus"]``); without ``data.corpus`` they produce no finding, and
a criterion on them is refused (:mod:`auditor.spec.memorization_rules`).
"""

from __future__ import annotations

import numpy as np

from auditor.checks.registry import At, CheckContext, Measurement, register
from auditor.checks.text import pct
from auditor.metrics.bootstrap import percentile_interval, resample_apply
from auditor.text.aggregate import TextEstimate, aggregate
from auditor.text.corpus_evidence import CorpusEvidence, evidence, ranking, worst_order
from auditor.text.memorization import marked_excerpt as _marked
from auditor.types import TEXT_TASKS, Finding

EXCERPT_CHARS = 240
#: Bins of the longest-span histogram.
SPAN_BINS = 20
#: The metric contamination compares, when evaluation.memorization.metric is null: the
#: first of these the spec's columns allow.
DEFAULT_METRICS = ("rouge_l", "token_f1", "lexical_support")
MSG_NOT_SCANNED = (
    "The declared corpus was not scanned for {where}: this run's evaluate stage left no "
    "scan (auditor.text.corpus_evidence.scan_corpus), so nothing was compared."
)


def _unscanned(ctx: CheckContext, split: str, what: str) -> list[Finding]:
    return ctx.skipped(
        f"{what} on {split}",
        MSG_NOT_SCANNED.format(where=ctx.phrase(split)),
        key=f"{ctx.check.name}.{split}",
        split=split,
    )


def _rate(ctx: CheckContext, hits: np.ndarray, split: str, purpose: int) -> TextEstimate:
    return aggregate(
        hits.astype(np.float64),
        resamples=ctx.resamples,
        seed=ctx.seed(split, purpose),
        confidence=ctx.confidence,
    )


def _ci_words(est: TextEstimate, confidence: float) -> str:
    if est.ci is None:
        return ""
    low, high = pct(est.low, digits=1), pct(est.high, digits=1)
    return f" (interval {low} to {high}, {confidence:.0%} confidence)"


def _row_id(ctx: CheckContext, frame, i: int) -> str:
    column = ctx.spec.data.id_column
    return str(frame.iloc[i][column]) if column else str(i)


@register(
    "memorization",
    "text",
    label="Share of responses reproducing the training corpus",
    description="The share of responses that reproduce a span of at least "
    "evaluation.memorization.memorized_words consecutive words of data.corpus (verified "
    "word by word), with its interval and the worst examples.",
    tasks=TEXT_TASKS,
    bounded=True,
    value_range=(0.0, 1.0),
)
def memorization(ctx: CheckContext) -> list[Finding]:
    """Responses that reproduce long spans of the declared corpus, per split.

    Parameters
    ----------
    ctx : CheckContext
        The run's context, bound to this check.

    Returns
    -------
    list of Finding
        ``text.memorization.<split>``; none without data.corpus.
    """
    if ctx.spec.data.corpus is None:
        return []
    out: list[Finding] = []
    for split in ctx.dataset.splits:
        found = evidence(ctx.evaluation, split)
        if found is None:
            out += _unscanned(ctx, split, "Responses reproducing the training corpus")
            continue
        out += _memorized(ctx, split, found)
    return out


def _memorized(ctx: CheckContext, split: str, ev: CorpusEvidence) -> list[Finding]:
    """The split's memorization finding, then one per segment of each sensitive column."""
    settings = ctx.spec.evaluation.memorization
    at_least = int(settings.memorized_words)
    frame = ctx.dataset.frames[split]
    found = ev.scans["response"]
    hits = found.longest >= at_least
    est = _rate(ctx, hits, split, 8101)
    bound = ctx.diagnostic("max_memorized_rate")
    status = ctx.diagnose(est.value, bound)
    where = ctx.phrase(split)
    longest = int(found.longest.max(initial=0))
    summary = (
        f"{pct(est.value, digits=1)} of the {est.n:,} responses in {where} reproduce "
        f"{at_least} or more consecutive words of the declared training corpus"
        f"{_ci_words(est, ctx.confidence)}"
    )
    summary += (
        f"; the longest copies {longest} words."
        if longest
        else f"; none copies a span of {ev.corpus['ngram']} words or more."
    )
    if status == "warn":
        summary += (
            f" That is more than {pct(bound.value, digits=1)}: text copied word for word "
            "from training data can repeat private or licensed content to customers."
        )
    text_column = ctx.spec.data.text.response
    worst = [
        {
            "id": _row_id(ctx, frame, int(i)),
            "response": _marked(frame.iloc[int(i)][text_column], found.spans[int(i)])[
                :EXCERPT_CHARS
            ],
            "span_words": int(found.longest[i]),
            "corpus_line": found.spans[int(i)].document + 1,
            "corpus": ev.excerpt("response", int(i)),
        }
        for i in worst_order(ranking(found, "response"), int(settings.examples))
        if found.spans[int(i)] is not None
    ]
    segments, rows = _segments(ctx, split, hits, bound)
    top = max(longest, 2 * at_least)
    counts, edges = np.histogram(found.longest, bins=SPAN_BINS, range=(0, top))
    main = ctx.finding(
        "memorization",
        At(None, split),
        measured=Measurement(est.value, est.ci, est.n, bound),
        status=status,
        title=f"Responses reproducing the training corpus on {split}",
        summary=summary,
        recommendation=(
            "Ask the vendor how the model was trained on this corpus and whether it "
            "filters verbatim output; block the release if the copied text is private "
            "or licensed."
            if status == "warn"
            else ""
        ),
        details={
            "memorized_words": at_least,
            "longest_span": longest,
            "median_span": float(np.median(found.longest)) if len(found.longest) else 0,
            "memorized_rows": int(hits.sum()),
            "rejected_candidates": found.rejected,
            "worst_rows": worst,
            "segments": rows,
            **ev.corpus,
        },
        chart={
            "kind": "histogram",
            "edges": edges.tolist(),
            "counts": counts.tolist(),
            "xlabel": "longest span of corpus words per response",
            "bound": at_least,
            "bound_label": "memorized from",
            "title": f"Longest reproduced corpus span per response, {where}",
        },
    )
    return [main, *segments]


def _segments(ctx: CheckContext, split: str, hits: np.ndarray, bound) -> tuple[list, list]:
    """The memorized share per segment of each sensitive column.

    A finding each, with its interval (inconclusive below evaluation.min_group_size rows),
    and the rows of the segment table in the split's finding.
    """
    findings, rows = [], []
    needed = ctx.min_group_size
    at_least = int(ctx.spec.evaluation.memorization.memorized_words)
    for k, col in enumerate(ctx.dataset.sensitive):
        groups = ctx.dataset.groups[split][col].to_numpy()
        for j, g in enumerate(sorted(set(groups))):
            mask = groups == g
            est = _rate(ctx, hits[mask], split, 8111 + 97 * k + j)
            small = est.n < needed
            where = f"{ctx.phrase(split)}, {col} {g}"
            summary = (
                f"{pct(est.value, digits=1)} of the {est.n:,} responses in {where} reproduce "
                f"{at_least} or more consecutive words of the declared training corpus"
                f"{_ci_words(est, ctx.confidence)}."
            )
            if small:
                summary += (
                    f" Only {est.n} rows: too few to judge (evaluation.min_group_size is {needed})."
                )
            status = "inconclusive" if small else ctx.diagnose(est.value, bound)
            findings.append(
                ctx.finding(
                    "memorization",
                    At(None, split, col),
                    str(g),
                    measured=Measurement(est.value, est.ci, est.n, bound),
                    status=status,
                    title=f"Responses reproducing the training corpus on {split} ({col} {g})",
                    summary=summary,
                    details={"group": str(g), "memorized_words": at_least},
                )
            )
            rows.append(
                {
                    "column": col,
                    "group": str(g),
                    "value": est.value,
                    "ci": None if est.ci is None else list(est.ci),
                    "n": est.n,
                    "status": status,
                }
            )
    return findings, rows


def _compared_metric(ctx: CheckContext):
    from auditor.text.audit import available_metrics
    from auditor.text.catalogue import TEXT_METRICS

    wanted = ctx.spec.evaluation.memorization.metric
    names = {m.name for m in available_metrics(ctx.spec)}
    if wanted:
        return TEXT_METRICS[wanted] if wanted in names else None
    return next((TEXT_METRICS[n] for n in DEFAULT_METRICS if n in names), None)


def _compare(ctx: CheckContext, split: str, dirty: np.ndarray, purpose: int) -> dict | None:
    """The compared metric on contaminated and clean rows, and their difference."""
    m = _compared_metric(ctx)
    if m is None or dirty.all() or not dirty.any():
        return None
    frame = ctx.dataset.frames[split]
    data = {role: frame[col].tolist() for role, col in ctx.spec.data.text.named().items()}
    values = np.asarray(m.row_values(data), dtype=np.float64)
    order = np.concatenate([np.flatnonzero(dirty), np.flatnonzero(~dirty)])
    first = int(dirty.sum())
    v = values[order]

    def means(w):
        a = (w[:, :first] @ v[:first]) / np.maximum(w[:, :first].sum(axis=1), 1.0)
        b = (w[:, first:] @ v[first:]) / np.maximum(w[:, first:].sum(axis=1), 1.0)
        return np.stack([a, b, a - b], axis=1)

    point = means(np.ones((1, len(v))))[0]
    ci = [None, None, None]
    if ctx.resamples:
        reps = resample_apply(len(v), means, resamples=ctx.resamples, seed=ctx.seed(split, purpose))
        ci = [percentile_interval(reps[:, k], ctx.confidence) for k in range(3)]
    return {
        "metric": m.name,
        "label": m.label,
        "higher_is_better": m.higher_is_better,
        "contaminated": {"value": float(point[0]), "ci": ci[0], "n": first},
        "clean": {"value": float(point[1]), "ci": ci[1], "n": len(v) - first},
        "difference": float(point[2]),
        "difference_ci": None if ci[2] is None else list(ci[2]),
    }


def _compare_sentence(c: dict, confidence: float) -> str:
    from auditor.checks.text import num

    diff, ci = c["difference"], c["difference_ci"]
    better = (diff > 0) == c["higher_is_better"]
    clear = ci is not None and (ci[0] > 0 or ci[1] < 0)
    span = (
        ""
        if ci is None
        else f", interval {num(ci[0])} to {num(ci[1])}, {confidence:.0%} confidence"
    )
    text = (
        f" {c['label']} is {num(c['contaminated']['value'])} on the contaminated rows and "
        f"{num(c['clean']['value'])} on the clean ones (difference {num(diff)}{span})"
    )
    if clear and better:
        too_good = ": too good to be true where the model may have seen the item"
        return text + too_good + "; judge it on the clean rows."
    return text + "."


@register(
    "contamination",
    "text",
    label="Share of evaluation rows found in the training corpus",
    description="The share of rows whose prompt or reference is found in data.corpus (at "
    "least evaluation.memorization.contamination_share of its n-grams), with its interval, "
    "and a text metric on contaminated against clean rows.",
    tasks=TEXT_TASKS,
    bounded=True,
    value_range=(0.0, 1.0),
)
def contamination(ctx: CheckContext) -> list[Finding]:
    """Evaluation prompts and references found in the declared corpus, per split.

    Parameters
    ----------
    ctx : CheckContext
        The run's context, bound to this check.

    Returns
    -------
    list of Finding
        ``text.contamination.<split>``; none without data.corpus.
    """
    if ctx.spec.data.corpus is None:
        return []
    settings = ctx.spec.evaluation.memorization
    share_at = float(settings.contamination_share)
    roles = [r for r in ("question", "reference") if r in ctx.spec.data.text.named()]
    out = []
    for split in ctx.dataset.splits:
        frame = ctx.dataset.frames[split]
        ev = evidence(ctx.evaluation, split)
        if ev is None:
            out += _unscanned(ctx, split, "Evaluation rows found in the training corpus")
            continue
        ngram = ev.corpus["ngram"]
        scans = {r: ev.scans[r] for r in roles}
        shares = np.vstack([scans[r].share for r in roles])  # NaN: too short to check
        checkable = np.isfinite(shares).any(axis=0)
        worst_share = np.where(checkable, np.nanmax(np.nan_to_num(shares, nan=-1.0), axis=0), 0.0)
        dirty = checkable & (worst_share >= share_at)
        est = _rate(ctx, dirty[checkable], split, 8201)
        bound = ctx.diagnostic("max_contamination_rate")
        value = est.value if est.n else None
        status = "inconclusive" if value is None else ctx.diagnose(value, bound)
        where = ctx.phrase(split)
        short = int((~checkable).sum())
        what = " or ".join("prompt" if r == "question" else "reference answer" for r in roles)
        summary = (
            f"{pct(value, digits=1)} of the {est.n:,} rows in {where} have their {what} in the "
            f"declared training corpus ({pct(share_at)} or more of its {ngram}-word "
            f"sequences){_ci_words(est, ctx.confidence)}."
        )
        if short:
            summary += f" {short:,} rows are shorter than {ngram} words and were not checked."
        if status == "warn":
            summary += (
                f" That is more than {pct(bound.value, digits=1)}: the model may have seen these "
                "test items, so its scores on them overstate how it does on new questions."
            )
        compared = _compare(ctx, split, dirty, 8301)
        if compared is not None:
            summary += _compare_sentence(compared, ctx.confidence)
        order = worst_order(worst_share, int(settings.examples))
        worst = []
        for i in order:
            i = int(i)
            if not dirty[i]:
                continue
            role = max(roles, key=lambda r: ranking(scans[r], r)[i])
            span = scans[role].spans[i]
            column = ctx.spec.data.text.named()[role]
            worst.append(
                {
                    "id": _row_id(ctx, frame, i),
                    "role": role,
                    "text": _marked(frame.iloc[i][column], span)[:EXCERPT_CHARS],
                    "share": float(scans[role].share[i]),
                    "corpus_line": None if span is None else span.document + 1,
                    "corpus": ev.excerpt(role, i),
                }
            )
        chart = None
        if compared is not None:
            chart = {
                "kind": "metric_intervals",
                "title": f"{compared['label']} on contaminated and clean rows, {where}",
                "metric": compared["metric"],
                "rows": [
                    {
                        "label": f"{name} ({compared[name]['n']:,} rows)",
                        "value": compared[name]["value"],
                        "low": None if compared[name]["ci"] is None else compared[name]["ci"][0],
                        "high": None if compared[name]["ci"] is None else compared[name]["ci"][1],
                    }
                    for name in ("contaminated", "clean")
                ],
                "bound": None,
            }
        out.append(
            ctx.finding(
                "contamination",
                At(None, split),
                measured=Measurement(value, est.ci, est.n, bound),
                status=status,
                title=f"Evaluation rows found in the training corpus on {split}",
                summary=summary,
                recommendation=(
                    "Judge the model on the clean rows, and replace the contaminated ones with "
                    "questions the vendor's training data cannot hold."
                    if status == "warn"
                    else ""
                ),
                details={
                    "contamination_share": share_at,
                    "contaminated_rows": int(dirty.sum()),
                    "unchecked_rows": short,
                    "checked": roles,
                    "comparison": compared,
                    "worst_rows": worst,
                    **ev.corpus,
                },
                chart=chart,
            )
        )
    return out
