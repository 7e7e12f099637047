"""Counterfactual bias in generated text: the same question about different people.

Three bounded checks read one measurement per split (:mod:`auditor.text.counterfactual`,
memoised in the run's context, so the Benjamini-Hochberg family spans all three):

- ``counterfactual``: the share of pairs whose responses differ (similarity below
  ``evaluation.counterfactual.similarity_threshold``), with every other figure in its details
  and chart; ``text.counterfactual.<split>.<variant>``;
- ``counterfactual_sentiment_gap``: the mean VADER sentiment gap, variant minus reference;
- ``counterfactual_refusal_gap``: the refusal-rate gap, variant minus reference.

Each is a finding per split and compared variant; it fails when its test rejects (the
interval beyond the bound or tolerance, after false-discovery control), else passes. A
criterion bounds its value (``{check: counterfactual_sentiment_gap, at_least: -0.1}``).
The pairs are the file's rows (``data.text.pair`` and ``data.text.variant``), or, with
``evaluation.counterfactual.swaps``, those the evaluate stage wrote and had answered
(``Evaluation.text[split]["counterfactual_pairs"]``, :func:`auditor.text.counterfactual.
swapped_pairs`); without either the checks do not apply and give no findings.
"""

from __future__ import annotations

from auditor.checks.registry import At, CheckContext, Measurement, register
from auditor.judge import Bound
from auditor.text.counterfactual import (
    EVALUATION_KEY,
    FIGURES,
    MSG_ONE_VARIANT,
    SIMILARITY_SIGNATURE,
    Pairs,
    Tested,
    aggregate_pairs,
    pair_rows,
    worst_pairs,
)
from auditor.types import TEXT_TASKS, Finding

CHECK = "counterfactual"
MSG_NOT_ANSWERED = (
    "The counterfactual swaps were not answered for {where}: this run's evaluate stage "
    "generated no pairs (auditor.text.counterfactual.swapped_pairs), so nothing was compared."
)
MSG_NO_REFERENCE_PAIRS = (
    "no pair holds the reference variant ({reference!r}) beside another: there is nothing "
    "to compare"
)
#: Seed purpose of the pair bootstrap (distinct from the text metrics' purposes).
PURPOSE = 90_001
ASK_VENDOR = (
    "Show the vendor the pairs below and ask how the assistant treats the people the "
    "questions are about; re-audit the fixed version on new pairs."
)
_LABELS = {
    "flagged_share": "Share of pairs answered differently",
    "sentiment_gap": "Sentiment gap",
    "refusal_gap": "Refusal-rate gap",
    "similarity": "Response similarity",
    "length_ratio": "Length ratio",
    "embedding_similarity": "Embedding similarity",
}


def _num(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _span(t: Tested, fmt) -> str:
    return "" if t.ci is None else f", interval {fmt(t.ci[0])} to {fmt(t.ci[1])}"


def measure(ctx: CheckContext, split: str) -> dict:
    """The split's pairs and their tested figures (once per run, shared by the three checks)."""

    def build():
        spec = ctx.spec
        text, settings = spec.data.text, spec.evaluation.counterfactual
        if text.pair:  # the pairs are rows of the file
            frame = ctx.dataset.frames[split]
            keep = (frame[text.pair].astype(str).str.strip() != "").to_numpy()
            rows = frame[keep]
            ids, variants = rows[text.pair].tolist(), rows[text.variant].tolist()
            questions = rows[text.question].tolist()
            responses = rows[text.response].tolist()
            unpaired = int((~keep).sum())
        else:  # written from the swaps and answered by the evaluate stage
            made = ctx.evaluation.text.get(split, {}).get(EVALUATION_KEY)
            if made is None:
                return None
            ids, variants = made["pair"], made["variant"]
            questions, responses = made["question"], made["response"]
            unpaired = len(ctx.dataset.frames[split]) - len(set(ids))
        pairs = pair_rows(
            ids,
            variants,
            questions,
            responses,
            threshold=float(settings.similarity_threshold),
            order=settings.variants,
            embed=_embedder(ctx),
        )
        tested = aggregate_pairs(
            pairs.comparisons,
            max_flagged_share=float(settings.max_flagged_share),
            sentiment_tolerance=float(settings.sentiment_tolerance),
            refusal_tolerance=float(settings.refusal_tolerance),
            fdr=float(settings.fdr),
            resamples=ctx.resamples,
            confidence=ctx.confidence,
            seed=ctx.seed(split, PURPOSE),
        )
        worst = [worst_pairs(c, questions, responses) for c in pairs.comparisons]
        return {"pairs": pairs, "tested": tested, "worst": worst, "unpaired": unpaired}

    return ctx.memo((CHECK, split), build)


def _embedder(ctx: CheckContext):
    """The spec's sentence-embedding model's ``embed`` (``text_models.embedding``), or None."""
    if getattr(ctx.spec.typed, "text_models", None) is None:
        return None
    from auditor.text.local_models import text_models

    models = text_models(ctx.spec)
    return models.embedder().embed if models.declared("embedder") else None


def _applies(ctx: CheckContext) -> bool:
    text = ctx.spec.data.text
    paired = text is not None and bool(text.pair) and bool(text.variant)
    return paired or (text is not None and bool(ctx.spec.evaluation.counterfactual.swaps))


def _counts(pairs: Pairs, unpaired: int) -> dict:
    return {
        "reference_variant": pairs.reference,
        "variants": pairs.variants,
        "single_row_pairs": len(pairs.singletons),
        "single_row_pair_ids": pairs.singletons[:20],
        "pairs_without_reference": len(pairs.without_reference),
        "repeated_variant_rows": pairs.repeated,
        "unpaired_rows": unpaired,
    }


def _counts_sentence(pairs: Pairs, unpaired: int) -> str:
    parts = []
    if pairs.singletons:
        parts.append(f"{len(pairs.singletons)} pair ids have one row only")
    if pairs.without_reference:
        parts.append(f"{len(pairs.without_reference)} pairs lack the {pairs.reference} variant")
    if pairs.repeated:
        parts.append(f"{pairs.repeated} rows repeat a variant already in their pair")
    if unpaired:
        parts.append(f"{unpaired} rows have no pair id")
    return f" Not compared: {'; '.join(parts)}." if parts else ""


def _figures_table(figures: dict[str, Tested]) -> dict:
    return {
        name: {
            "value": t.value,
            "low": None if t.ci is None else t.ci[0],
            "high": None if t.ci is None else t.ci[1],
            "limit": t.limit,
            "p_value": t.p_value,
            "q_value": t.q_value,
            "flagged": t.flagged,
        }
        for name, t in figures.items()
    }


def _sentiment_sentence(v: str, ref: str, t: Tested, confidence: float) -> str:
    span = _span(t, _num)
    if t.flagged:
        how = "less positive" if t.value < 0 else "more positive"
        return (
            f"Answers to the {v} questions were markedly {how} than to the same questions "
            f"about {ref}: sentiment gap {t.value:+.2f}{span} ({confidence:.0%} confidence; "
            f"tolerated: within ±{t.limit:g})."
        )
    if abs(t.value) > t.limit:
        how = "less positive" if t.value < 0 else "more positive"
        return (
            f"Answers to the {v} questions looked {how} than to the same questions about "
            f"{ref} (sentiment gap {t.value:+.2f}{span}), but not clearly beyond the "
            f"±{t.limit:g} tolerated: more pairs would tell."
        )
    return (
        f"Answers to the {v} questions were about as positive as to the same questions about "
        f"{ref}: sentiment gap {t.value:+.2f}{span}, not clearly beyond ±{t.limit:g}."
    )


def _refusal_sentence(v: str, ref: str, t: Tested, confidence: float) -> str:
    span = _span(t, lambda x: f"{100 * x:+.1f}")
    points = f"{100 * t.value:+.1f} points{span}"
    if t.flagged:
        how = "more often" if t.value > 0 else "less often"
        return (
            f"The assistant refused the {v} questions {how} than the same questions about "
            f"{ref}: refusal-rate gap {points} ({confidence:.0%} confidence; tolerated: "
            f"within ±{100 * t.limit:g} points)."
        )
    if abs(t.value) > t.limit:
        how = "more often" if t.value > 0 else "less often"
        return (
            f"The assistant seemed to refuse the {v} questions {how} than the same questions "
            f"about {ref} (refusal-rate gap {points}), but not clearly beyond the "
            f"±{100 * t.limit:g} points tolerated: more pairs would tell."
        )
    return (
        f"The assistant refused the {v} and {ref} questions about equally often: refusal-rate "
        f"gap {points}, not clearly beyond ±{100 * t.limit:g} points."
    )


def _flagged_sentence(v: str, ref: str, figures: dict[str, Tested], threshold: float) -> str:
    t, sim, ratio = figures["flagged_share"], figures["similarity"], figures["length_ratio"]
    verdict = (
        f"more than the {_pct(t.limit)} allowed, beyond doubt"
        if t.flagged
        else f"not clearly more than the {_pct(t.limit)} allowed"
    )
    embedded = figures.get("embedding_similarity")
    cosine = "" if embedded is None else f" (embedding cosine {_num(embedded.value)})"
    return (
        f"{_pct(t.value)} of {t.n} {v}/{ref} question pairs got clearly different answers "
        f"(similarity below {threshold:g}{_span(t, _pct)}): {verdict}. Mean similarity "
        f"{_num(sim.value)}{cosine}; the {v} answers are {_num(ratio.value)} times as long."
    )


def _skipped_or_none(ctx: CheckContext, split: str, m: dict | None) -> list[Finding] | None:
    if m is None:  # swaps declared, but the evaluate stage answered none
        return ctx.skipped(
            f"{ctx.check.label} on {split}",
            MSG_NOT_ANSWERED.format(where=ctx.phrase(split)),
            key=f"{ctx.check.name}.{split}",
            split=split,
        )
    pairs: Pairs = m["pairs"]
    if pairs.comparisons:
        return None
    if not pairs.reference:
        reason = "no rows have a pair id"
    elif len(pairs.variants) < 2:
        reason = MSG_ONE_VARIANT.format(variant=pairs.reference)
    else:
        reason = MSG_NO_REFERENCE_PAIRS.format(reference=pairs.reference)
    return [
        ctx.finding(
            ctx.check.name,
            At(split=split),
            status="skipped",
            title=f"{ctx.check.label} on {split}",
            summary=f"Counterfactual pairs in {ctx.phrase(split)}: {reason}."
            + _counts_sentence(pairs, m["unpaired"]),
            details=_counts(pairs, m["unpaired"]),
        )
    ]


def _findings(ctx: CheckContext, figure: str) -> list[Finding]:
    if not _applies(ctx):
        return []
    settings = ctx.spec.evaluation.counterfactual
    out: list[Finding] = []
    for split in ctx.dataset.splits:
        m = measure(ctx, split)
        skipped = _skipped_or_none(ctx, split, m)
        if skipped is not None:
            out += skipped
            continue
        pairs: Pairs = m["pairs"]
        for comp, figures, worst in zip(pairs.comparisons, m["tested"], m["worst"], strict=True):
            out.append(
                _finding(ctx, split, figure, comp.variant, pairs, figures, worst, m, settings)
            )
    return out


def _finding(ctx, split, figure, variant, pairs, figures, worst, m, settings) -> Finding:
    ref = pairs.reference
    t = figures[figure]
    if figure == "flagged_share":
        summary = _flagged_sentence(variant, ref, figures, float(settings.similarity_threshold))
        bound = Bound(float(t.limit), "at_most")
    else:
        sentence = _sentiment_sentence if figure == "sentiment_gap" else _refusal_sentence
        summary = sentence(variant, ref, t, ctx.confidence)
        side = "at_most" if t.value >= 0 else "at_least"
        bound = Bound(float(t.limit) if side == "at_most" else -float(t.limit), side)
    summary += _counts_sentence(pairs, m["unpaired"])
    details = {
        "label": _LABELS[figure],
        "variant": variant,
        "figures": _figures_table(figures),
        "similarity": SIMILARITY_SIGNATURE,
        "sentiment": "VADER compound score (-1 to 1), the variant's response minus the reference's",
        "fdr": float(settings.fdr),
        "worst_pairs": worst,
        **_counts(pairs, m["unpaired"]),
    }
    chart = None
    if figure == "flagged_share":
        chart = {
            "kind": "metric_intervals",
            "title": f"{variant} against {ref}: counterfactual pair figures on {split}",
            "metric": "figure over pairs",
            "rows": [
                {
                    "label": _LABELS[name],
                    "value": figures[name].value,
                    "low": None if figures[name].ci is None else figures[name].ci[0],
                    "high": None if figures[name].ci is None else figures[name].ci[1],
                }
                for name in FIGURES[:4] + ("embedding_similarity",)
                if name in figures
            ],
            "bound": None,
        }
    return ctx.finding(
        ctx.check.name,
        At(split=split),
        variant,
        measured=Measurement(t.value, t.ci, t.n, bound=bound),
        status="fail" if t.flagged else "pass",
        title=f"{_LABELS[figure]}, {variant} against {ref}, on {split}",
        summary=summary,
        recommendation=ASK_VENDOR if t.flagged else "",
        details=details,
        chart=chart,
    )


_COMMON = {"category": "text", "tasks": TEXT_TASKS, "bounded": True}


@register(
    "counterfactual",
    label="Share of counterfactual pairs answered differently",
    description="The share of counterfactual pairs (data.text.pair: the same question about "
    "different people) whose responses differ (chrF-style similarity below "
    "evaluation.counterfactual.similarity_threshold), per variant against the reference, "
    "with the sentiment, refusal and length figures beside it.",
    value_range=(0.0, 1.0),
    **_COMMON,
)
def counterfactual(ctx: CheckContext) -> list[Finding]:
    """The share of flagged pairs per split and variant (``text.counterfactual.<split>.<v>``)."""
    return _findings(ctx, "flagged_share")


@register(
    "counterfactual_sentiment_gap",
    label="Counterfactual sentiment gap",
    description="The mean VADER sentiment gap (compound score) between a variant's responses "
    "and the reference variant's to the same counterfactual questions.",
    value_range=(-2.0, 2.0),
    **_COMMON,
)
def counterfactual_sentiment_gap(ctx: CheckContext) -> list[Finding]:
    """The mean sentiment gap per split and variant, variant minus reference."""
    return _findings(ctx, "sentiment_gap")


@register(
    "counterfactual_refusal_gap",
    label="Counterfactual refusal-rate gap",
    description="The refusal-rate gap between a variant's responses and the reference "
    "variant's to the same counterfactual questions.",
    value_range=(-1.0, 1.0),
    **_COMMON,
)
def counterfactual_refusal_gap(ctx: CheckContext) -> list[Finding]:
    """The refusal-rate gap per split and variant, variant minus reference."""
    return _findings(ctx, "refusal_gap")
