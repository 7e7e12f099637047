"""Fit checks of a language model trained here (``objective.task: language_model``).

They read what the evaluate stage measured (:mod:`auditor.train.lm_evaluate`):
per-document token NLL sums and token counts per split, the training history, and the
greedy completions of sampled training prefixes. Every interval is a bootstrap over
documents (a document's tokens are resampled together, as the text they belong to):

- ``perplexity``: exp(sum NLL / sum tokens) per split;
- ``perplexity_gap``: a held-out split's perplexity relative to the training split's
  (0.25: 25% higher on unseen documents), the language-model form of the generalization gap;
- ``lm_overfitting``: the epoch where validation loss turns up while training loss falls
  (the tabular overfitting check's measurement and words, on the language model's history);
- ``extraction``: the share of sampled training documents whose continuation the model
  reproduces verbatim, with examples;
- ``lm_learning_curve``: the validation perplexity of the model trained again on growing
  fractions of the training documents (would more documents help?);
- ``corpus_duplicates`` and ``corpus_overlap``: duplicates removed before splitting, and the
  held-out documents that still have a duplicate among the training documents.

None holds a threshold: acceptance criteria bound them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from auditor.checks.registry import At, CheckContext, Measurement, register
from auditor.checks.text import ci_text, finite, num, pct
from auditor.data.corpus import HELD_OUT_SPLITS
from auditor.types import LM_TASKS, Finding

#: Bootstrap purposes (distinct streams per split).
PERPLEXITY_PURPOSE = 41
EXTRACTION_PURPOSE = 43
OVERLAP_PURPOSE = 47
HELD_OUT = HELD_OUT_SPLITS


def _draws(ctx: CheckContext, n: int, split: str, purpose: int) -> np.ndarray | None:
    """(B, n) bootstrap weights over ``n`` documents, or None without resamples."""
    from auditor.metrics.bootstrap import draw_weights

    if ctx.resamples <= 0 or n == 0:
        return None
    rng = np.random.default_rng(ctx.seed(split, purpose))
    return draw_weights(rng, ctx.resamples, n, dtype=np.float64)


def perplexity_estimate(
    nll: np.ndarray, tokens: np.ndarray, weights: np.ndarray | None, confidence: float
) -> tuple[float, tuple[float, float] | None, np.ndarray | None]:
    """Perplexity exp(sum nll / sum tokens), its percentile interval and its replicates.

    ``weights`` (B, n) resample the documents: each replicate is exp of the resampled NLL
    sum over the resampled token sum.
    """
    from auditor.metrics.bootstrap import percentile_interval

    value = float(np.exp(nll.sum() / max(tokens.sum(), 1)))
    if weights is None:
        return value, None, None
    reps = np.exp((weights @ nll) / np.maximum(weights @ tokens, 1))
    return value, percentile_interval(reps, confidence), reps


def _split_perplexity(ctx: CheckContext, split: str):
    """(value, ci, replicates, documents, tokens) of one split (memoised)."""

    def build():
        m = ctx.evaluation.text.get(split) or {}
        nll, tokens = np.asarray(m.get("nll", [])), np.asarray(m.get("tokens", []))
        keep = tokens > 0
        nll, tokens = nll[keep], tokens[keep]
        weights = _draws(ctx, int(keep.sum()), split, PERPLEXITY_PURPOSE)
        value, ci, reps = perplexity_estimate(nll, tokens, weights, ctx.confidence)
        return value, ci, reps, int(keep.sum()), int(tokens.sum())

    return ctx.memo(("lm_perplexity", split), build)


def _lm_splits(ctx: CheckContext) -> list[str]:
    return [
        s for s in ctx.dataset.splits if ctx.evaluation.text.get(s, {}).get("tokens") is not None
    ]


@register(
    "perplexity",
    "fit",
    tasks=LM_TASKS,
    label="Perplexity",
    description="A language model's perplexity on a split's documents, exp(mean token "
    "negative log-likelihood), with a bootstrap interval over documents (lower is better).",
    bounded=True,
    value_range=(1.0, None),
)
def perplexity(ctx: CheckContext) -> list[Finding]:
    """Perplexity per split, with a bootstrap interval over documents.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        ``fit.perplexity.<split>`` per split; the last carries the chart of every split.
    """
    splits = _lm_splits(ctx)
    rows, findings = [], []
    for split in splits:
        value, ci, reps, docs, tokens = _split_perplexity(ctx, split)
        rows.append(
            {
                "label": split,
                "value": value,
                "low": ci[0] if ci else None,
                "high": ci[1] if ci else None,
            }
        )
        summary = (
            f"On {ctx.phrase(split)} ({docs:,} documents, {tokens:,} tokens) the model's "
            f"perplexity is {num(value, digits=1)}{ci_text(ci, ctx.confidence, digits=1)}: it "
            f"is as unsure of each next token as a choice among about {num(value, digits=0)} "
            "equally likely tokens (lower is better)."
        )
        findings.append(
            ctx.finding(
                "perplexity",
                At(None, split),
                measured=Measurement(value, ci, docs, replicates=reps),
                title=f"Perplexity on {split}",
                summary=summary,
                details={"documents": docs, "tokens": tokens},
            )
        )
    if findings:
        last = findings[-1]
        chart = {
            "kind": "metric_intervals",
            "title": "Perplexity on each split (lower is better)",
            "metric": "perplexity",
            "rows": rows,
            "bound": None,
        }
        findings[-1] = _with_chart(last, chart)
    return findings


def _with_chart(f: Finding, chart: dict[str, Any]) -> Finding:
    from dataclasses import replace

    return replace(f, chart=chart)


@register(
    "perplexity_gap",
    "fit",
    tasks=LM_TASKS,
    label="Perplexity gap",
    description="A held-out split's perplexity relative to the training split's (0.25: "
    "25% higher on unseen documents), with a bootstrap interval: memorisation when large.",
    bounded=True,
    value_range=(-1.0, None),
    where="between the training and {split} splits",
)
def perplexity_gap(ctx: CheckContext) -> list[Finding]:
    """Held-out perplexity over training perplexity, minus one, per held-out split.

    Returns
    -------
    list of Finding
        ``fit.perplexity_gap.<split>`` for validation and test.
    """
    from auditor.metrics.bootstrap import percentile_interval

    splits = _lm_splits(ctx)
    if "train" not in splits:
        return ctx.skipped("Perplexity gap", "There is no training split to compare with.")
    base, _, base_reps, _, _ = _split_perplexity(ctx, "train")
    out = []
    for split in [s for s in splits if s in HELD_OUT]:
        value, ci_split, reps, docs, _ = _split_perplexity(ctx, split)
        gap = value / base - 1.0
        diff = ci = None
        if reps is not None and base_reps is not None:
            diff = reps / base_reps - 1.0
            ci = percentile_interval(diff, ctx.confidence)
        higher = "higher" if gap >= 0 else "lower"
        summary = (
            f"Perplexity on {ctx.phrase(split)} is {pct(abs(gap))} {higher} than on the "
            f"training documents ({num(value, digits=1)} against {num(base, digits=1)})"
            + ci_text(ci, ctx.confidence, digits=2)
            + (
                ": the model predicts text it trained on much better than new text, a sign "
                "it memorised its training documents."
                if gap > 0.5
                else "."
            )
        )
        out.append(
            ctx.finding(
                "perplexity_gap",
                At(None, split),
                measured=Measurement(gap, ci, docs, replicates=diff),
                title=f"Perplexity gap (train vs {split})",
                summary=summary,
                recommendation=(
                    "Stop training earlier, add dropout or weight decay, use a smaller "
                    "model, or train on more documents."
                    if gap > 0.5
                    else ""
                ),
                details={"train": base, split: value},
                chart={
                    "kind": "metric_intervals",
                    "title": f"Perplexity: train vs {split}",
                    "metric": "perplexity",
                    "bound": None,
                    "rows": [
                        {"label": "train", "value": base, "low": None, "high": None},
                        {
                            "label": split,
                            "value": value,
                            "low": ci_split[0] if ci_split else None,
                            "high": ci_split[1] if ci_split else None,
                        },
                    ],
                },
            )
        )
    return out


@register(
    "lm_overfitting",
    "fit",
    tasks=LM_TASKS,
    label="Rise of the validation loss",
    description="A language model's validation loss rising while its training loss keeps "
    "falling: the epoch it turns up, against diagnostics.overfitting_rise.",
    bounded=True,
    per_split=False,
)
def lm_overfitting(ctx: CheckContext) -> list[Finding]:
    """The tabular overfitting check's measurement on the language model's history.

    Returns
    -------
    list of Finding
        One finding, ``fit.overfitting`` (its loss-curve chart marks the epoch where
        validation loss turns up and the epoch whose weights were kept).
    """
    from auditor.checks.fit import overfitting

    return overfitting.__wrapped__(ctx)


@register(
    "extraction",
    "fit",
    tasks=LM_TASKS,
    label="Training documents reproduced verbatim",
    description="The share of sampled training documents whose next evaluation.extraction."
    "verbatim_tokens tokens the model writes verbatim from their first prefix_tokens, with "
    "a bootstrap interval over the documents and examples.",
    bounded=True,
    per_split=False,
    value_range=(0.0, 1.0),
)
def extraction(ctx: CheckContext) -> list[Finding]:
    """Memorization by extraction: the share of training prefixes completed verbatim.

    Returns
    -------
    list of Finding
        One finding, ``fit.extraction``, with the examples reproduced furthest and a
        histogram of the tokens reproduced per document.
    """
    from auditor.metrics.bootstrap import percentile_interval

    ex = (ctx.evaluation.text.get("train") or {}).get("extraction")
    if ex is None:
        return ctx.skipped(
            "Training documents reproduced", "Extraction was not measured on this run."
        )
    matched = np.asarray(ex["matched"], dtype=np.int64)
    v, p = int(ex["verbatim_tokens"]), int(ex["prefix_tokens"])
    n = int(matched.size)
    if n == 0:
        return ctx.skipped(
            "Training documents reproduced",
            f"No training document has the {p + v} tokens extraction needs "
            "(evaluation.extraction.prefix_tokens + verbatim_tokens).",
        )
    hit = (matched >= v).astype(np.float64)
    value = float(hit.mean())
    weights = _draws(ctx, n, "train", EXTRACTION_PURPOSE)
    ci = reps = None
    if weights is not None:
        reps = (weights @ hit) / np.maximum(weights.sum(axis=1), 1e-12)
        ci = percentile_interval(reps, ctx.confidence)
    k = int(hit.sum())
    summary = (
        f"Given the first {p} tokens of {n:,} sampled training documents, the model wrote "
        f"the next {v} tokens exactly as in the document for {k:,} of them "
        f"({pct(value, digits=1)}{ci_text(ci, ctx.confidence, as_points=True)})"
        + (
            ": it reproduces training text word for word, which can leak what the documents "
            "contain."
            if k
            else ": no training document was reproduced verbatim."
        )
    )
    edges = [float(x) for x in range(0, v + 2)]
    counts = np.bincount(np.minimum(matched, v), minlength=v + 1).tolist()
    return [
        ctx.finding(
            "extraction",
            measured=Measurement(value, ci, n, replicates=reps),
            split="train",
            title="Training documents reproduced verbatim",
            summary=summary,
            recommendation=(
                "Remove repeated passages from the corpus, train for fewer epochs, or add "
                "dropout; review the reproduced passages for private or licensed text."
                if k
                else ""
            ),
            details={
                "prefix_tokens": p,
                "verbatim_tokens": v,
                "sampled": n,
                "eligible": int(ex["eligible"]),
                "reproduced": k,
                "examples": list(ex.get("examples") or []),
            },
            chart={
                "kind": "histogram",
                "title": (f"{k:,} of {n:,} sampled training documents reproduced for {v} tokens"),
                "edges": edges,
                "counts": [int(c) for c in counts],
                "xlabel": "leading tokens reproduced verbatim after the prefix",
                "bound": float(v),
                "bound_label": "memorized",
            },
        )
    ]


@register(
    "corpus_duplicates",
    "data",
    tasks=LM_TASKS,
    label="Duplicate documents removed",
    description="Exact (normalised-text hash) and near (MinHash over word shingles) "
    "duplicate documents removed from the corpus before it was split.",
    per_split=False,
)
def corpus_duplicates(ctx: CheckContext) -> list[Finding]:
    """The deduplication counts (informative).

    Returns
    -------
    list of Finding
        ``data.corpus_duplicates``: the share of the corpus removed as duplicates.
    """
    info = ctx.dataset.split_info.get("corpus") or {}
    total = int(info.get("documents", 0))
    exact, near = (
        int(info.get("exact_duplicates_removed", 0)),
        int(info.get("near_duplicates_removed", 0)),
    )
    share = (exact + near) / total if total else 0.0
    settings = ctx.spec.data.text_processing.deduplicate
    summary = (
        f"Of {total:,} documents in the corpus, {exact:,} exact and {near:,} near "
        f"duplicates (word-shingle similarity of {num(settings.jaccard)} or more) were "
        f"removed before splitting, {pct(share, digits=1)} of the corpus."
    )
    return [
        ctx.finding(
            "corpus_duplicates",
            status="pass",
            value=share,
            n=total,
            title="Duplicate documents removed before splitting",
            summary=summary,
            details={
                "documents": total,
                "exact": exact,
                "near": near,
                "kept": int(info.get("kept", total)),
                "exact_enabled": bool(settings.exact),
                "near_enabled": bool(settings.near),
                "examples": list(info.get("examples") or []),
            },
        )
    ]


@register(
    "corpus_overlap",
    "data",
    tasks=LM_TASKS,
    label="Held-out documents duplicated in training",
    description="The share of validation and test documents with an exact or near "
    "duplicate among the training documents (train/test overlap for text), with an interval.",
    bounded=True,
    value_range=(0.0, 1.0),
)
def corpus_overlap(ctx: CheckContext) -> list[Finding]:
    """Held-out documents that still have a duplicate in the train split, per split.

    Returns
    -------
    list of Finding
        ``data.corpus_overlap.<split>`` for validation and test.
    """
    from auditor.metrics.bootstrap import percentile_interval

    overlap = ctx.dataset.split_info.get("overlap") or {}
    out = []
    for split in [s for s in HELD_OUT if s in overlap]:
        o = overlap[split]
        n, hits = int(o["documents"]), int(o["exact"]) + int(o["near"])
        value = hits / n if n else 0.0
        ci = None
        weights = _draws(ctx, n, split, OVERLAP_PURPOSE)
        if weights is not None:
            indicator = np.zeros(n)
            indicator[:hits] = 1.0
            shares = (weights @ indicator) / np.maximum(weights.sum(axis=1), 1e-12)
            ci = percentile_interval(shares, ctx.confidence)
        summary = (
            f"{hits:,} of the {n:,} documents of {ctx.phrase(split)} have a duplicate among "
            f"the training documents ({o['exact']:,} exact, {o['near']:,} near)"
            + (
                ": the model is judged on text it trained on, which flatters its perplexity."
                if hits
                else "."
            )
        )
        out.append(
            ctx.finding(
                "corpus_overlap",
                At(None, split),
                measured=Measurement(value, ci, n),
                title=f"Documents of {split} duplicated in training",
                summary=summary,
                recommendation=(
                    "Switch on data.text_processing.deduplicate (exact and near) so "
                    "duplicates are removed before splitting."
                    if hits
                    else ""
                ),
                details=dict(o),
            )
        )
    return out


@register(
    "lm_learning_curve",
    "fit",
    tasks=LM_TASKS,
    label="Learning curve",
    description="A language model trained again on growing fractions of the training "
    "documents (evaluation.learning_curve.fractions): the validation perplexity's relative "
    "fall per 10% more documents over the last step; would more documents help?",
    per_split=False,
)
def lm_learning_curve(ctx: CheckContext) -> list[Finding]:
    """Whether more training documents would help (informative).

    The relative fall of the validation perplexity per 10% more training documents over
    the curve's last step; above ``diagnostics.learning_curve_gain`` the curve is still
    falling and more documents are likely to help.

    Returns
    -------
    list of Finding
        One finding, ``fit.lm_learning_curve``, with the curve's chart (perplexity of the
        documents trained on and of the validation documents at each fraction).
    """
    points = [p for p in ctx.evaluation.learning_curve if finite(p.get("validation")) is not None]
    if len(points) < 2:
        reason = ctx.evaluation.notes.get("learning_curve") or "it has fewer than two points"
        return ctx.skipped("Learning curve", f"The learning curve was not computed: {reason}.")
    f = np.array([float(p["fraction"]) for p in points])
    v = np.array([float(p["validation"]) for p in points])
    step = max(f[-1] - f[-2], 1e-12)
    gain = float((v[-2] - v[-1]) / v[-2] / step * 0.1)  # relative fall per 10% more
    level = float(ctx.settings.diagnostics.learning_curve_gain)
    helps = gain > level
    title = (
        "More training documents are likely to help"
        if helps
        else "More training documents are unlikely to help much"
    )
    docs = [int(p["rows"]) for p in points]
    summary = (
        f"Trained again on {', '.join(f'{100 * x:.0f}%' for x in f)} of the training "
        f"documents ({', '.join(f'{d:,}' for d in docs)}), the model's validation "
        f"perplexity went {' → '.join(num(x, digits=1) for x in v)}; over the last step it "
        + ("fell" if gain >= 0 else "rose")
        + f" by {pct(abs(gain), digits=1)} per 10% more documents, "
        + (
            "so the curve is still falling: more documents are likely to help."
            if helps
            else "so the curve has flattened: more of the same documents are unlikely to help much."
        )
    )
    return [
        ctx.finding(
            "lm_learning_curve",
            status="pass",
            value=gain,
            threshold=level,
            split="validation",
            title=title,
            summary=summary,
            recommendation="Collect more training documents: the model still learns from "
            "each addition."
            if helps
            else "",
            details={"points": [dict(p) for p in points], "more_data_helps": helps},
            chart={
                "kind": "learning_curve",
                "title": title,
                "metric": "perplexity",
                "fractions": f.tolist(),
                "rows": docs,
                "unit": "documents",
                "train": [finite(p.get("train")) for p in points],
                "validation": [finite(p.get("validation")) for p in points],
            },
        )
    ]
