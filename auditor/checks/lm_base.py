"""Did fine-tuning help, and did it forget: a fine-tuned checkpoint against itself before.

The evaluate stage (:func:`auditor.train.lm_evaluate.compare_with_base`) scores the same
tokens with the checkpoint before fine-tuning (``base_nll``) and after (``nll``): the
validation and test documents, and a general held-out corpus when one is declared
(``evaluation.base_comparison.general``). Both checks measure the difference in mean token
loss, in nats per token, with a paired bootstrap interval over documents (a document's
two losses are resampled together):

- ``fine_tuning_gain``: base minus fine-tuned on a held-out split (positive: fine-tuning
  lowered the loss on unseen documents of the task);
- ``forgetting``: fine-tuned minus base on the general corpus (positive: the model got worse
  at the text it knew before).

``exp(difference)`` is the ratio of the two perplexities; the summaries say both.
"""

from __future__ import annotations

import numpy as np

from auditor.checks.lm_fit import HELD_OUT, _draws
from auditor.checks.registry import At, CheckContext, Measurement, register
from auditor.checks.text import ci_text, num
from auditor.types import LM_TASKS, Finding

GAIN_PURPOSE = 53
FORGETTING_PURPOSE = 59
GENERAL = "general"


def paired_loss_difference(
    first: np.ndarray,
    second: np.ndarray,
    tokens: np.ndarray,
    weights: np.ndarray | None,
    confidence: float,
) -> tuple[float, tuple[float, float] | None, np.ndarray | None]:
    """(sum first - sum second) / sum tokens, its percentile interval and replicates.

    ``weights`` (B, n) resample the documents; each replicate uses the same resampled
    documents for both losses (paired).
    """
    from auditor.metrics.bootstrap import percentile_interval

    diff = np.asarray(first, dtype=np.float64) - np.asarray(second, dtype=np.float64)
    tokens = np.asarray(tokens, dtype=np.float64)
    value = float(diff.sum() / max(tokens.sum(), 1.0))
    if weights is None:
        return value, None, None
    reps = (weights @ diff) / np.maximum(weights @ tokens, 1.0)
    return value, percentile_interval(reps, confidence), reps


def paired_losses(
    ctx: CheckContext, split: str, purpose: int, *, base_first: bool, other: str = "base_nll"
) -> dict | None:
    """The audited model's document losses against another model's on the same tokens.

    ``other``: the checkpoint before fine-tuning (``base_nll``) or the spec's own
    configuration before a search (``untuned_nll``); the paired difference per token is the
    other's minus the audited model's with ``base_first``. None when it was not scored.
    """
    m = ctx.evaluation.text.get(split) or {}
    if m.get(other) is None:
        return None
    nll, base, tokens = (np.asarray(m[k], dtype=np.float64) for k in ("nll", other, "tokens"))
    keep = tokens > 0
    nll, base, tokens = nll[keep], base[keep], tokens[keep]
    weights = _draws(ctx, int(keep.sum()), split, purpose)
    first, second = (base, nll) if base_first else (nll, base)
    value, ci, reps = paired_loss_difference(first, second, tokens, weights, ctx.confidence)
    per_token = tokens.sum() or 1.0
    return {
        "value": value,
        "ci": ci,
        "reps": reps,
        "documents": int(keep.sum()),
        "tokens": int(tokens.sum()),
        "base_perplexity": float(np.exp(base.sum() / per_token)),
        "perplexity": float(np.exp(nll.sum() / per_token)),
    }


def _chart(title: str, r: dict) -> dict:
    return {
        "kind": "metric_intervals",
        "title": title,
        "metric": "perplexity",
        "bound": None,
        "rows": [
            {"label": "before", "value": r["base_perplexity"], "low": None, "high": None},
            {"label": "fine-tuned", "value": r["perplexity"], "low": None, "high": None},
        ],
    }


@register(
    "fine_tuning_gain",
    "fit",
    tasks=LM_TASKS,
    label="Loss reduction by fine-tuning",
    description="pretrained_lm: the checkpoint's mean token loss before fine-tuning minus "
    "after, on the same held-out documents (nats per token; positive: fine-tuning helped), "
    "with a paired bootstrap interval over documents.",
    bounded=True,
    where="on {where}",
)
def fine_tuning_gain(ctx: CheckContext) -> list[Finding]:
    """Base minus fine-tuned mean token loss on validation and test.

    Returns
    -------
    list of Finding
        ``fit.fine_tuning_gain.<split>``; none for a model trained from scratch, skipped
        with ``evaluation.base_comparison.enabled: false``.
    """
    if ctx.spec.model.architecture != "pretrained_lm":
        return []  # trained from scratch: there is no before
    out = []
    for split in HELD_OUT:
        r = paired_losses(ctx, split, GAIN_PURPOSE, base_first=True)
        if r is None:
            continue
        helped = r["ci"][0] > 0 if r["ci"] else r["value"] > 0
        summary = (
            f"On {ctx.phrase(split)} ({r['documents']:,} documents, {r['tokens']:,} tokens) "
            f"fine-tuning took the perplexity from {num(r['base_perplexity'], digits=1)} to "
            f"{num(r['perplexity'], digits=1)}: the loss per token fell by "
            f"{num(r['value'], digits=3)} nats{ci_text(r['ci'], ctx.confidence, digits=3)}"
            + (
                ", so fine-tuning helped on documents it did not train on."
                if helped
                else ", which does not show that fine-tuning helped on unseen documents."
            )
        )
        out.append(
            ctx.finding(
                "fine_tuning_gain",
                At(None, split),
                measured=Measurement(r["value"], r["ci"], r["documents"], replicates=r["reps"]),
                title=f"Fine-tuned vs before, on {split}",
                summary=summary,
                recommendation=(
                    ""
                    if helped
                    else "Train longer or at a higher learning rate, adapt more layers "
                    "(LoRA rank, target modules), or check that the training and held-out "
                    "documents are the same kind of text."
                ),
                details={k: r[k] for k in ("base_perplexity", "perplexity", "documents", "tokens")},
                chart=_chart(f"Perplexity on {split}: before and after fine-tuning", r),
            )
        )
    if not out:
        return ctx.skipped(
            "Fine-tuned vs before",
            "The checkpoint before fine-tuning was not scored "
            "(evaluation.base_comparison.enabled is false).",
        )
    return out


@register(
    "forgetting",
    "fit",
    tasks=LM_TASKS,
    label="Loss increase on general text",
    description="pretrained_lm: the mean token loss after fine-tuning minus before, on the "
    "general held-out corpus evaluation.base_comparison.general (nats per token; positive: "
    "the model forgot), with a paired bootstrap interval over documents.",
    bounded=True,
    per_split=False,
    requires=("evaluation.base_comparison.general",),
)
def forgetting(ctx: CheckContext) -> list[Finding]:
    """Fine-tuned minus base mean token loss on the general corpus.

    Returns
    -------
    list of Finding
        One finding, ``fit.forgetting``; none for a model trained from scratch, skipped
        without a general corpus.
    """
    if ctx.spec.model.architecture != "pretrained_lm":
        return []  # trained from scratch: there is no before
    r = paired_losses(ctx, GENERAL, FORGETTING_PURPOSE, base_first=False)
    if r is None:
        return ctx.skipped(
            "Forgetting of general text",
            "No general held-out corpus was declared (evaluation.base_comparison.general).",
        )
    worse = r["value"] > 0
    summary = (
        f"On the general held-out corpus ({r['documents']:,} documents, {r['tokens']:,} "
        f"tokens) the perplexity went from {num(r['base_perplexity'], digits=1)} before "
        f"fine-tuning to {num(r['perplexity'], digits=1)} after: the loss per token "
        + ("rose" if worse else "fell")
        + f" by {num(abs(r['value']), digits=3)} nats"
        + ci_text(r["ci"], ctx.confidence, digits=3)
        + (
            ", so the model lost some of what it knew before fine-tuning."
            if worse
            else ", so fine-tuning did not make it worse at general text."
        )
    )
    return [
        ctx.finding(
            "forgetting",
            measured=Measurement(r["value"], r["ci"], r["documents"], replicates=r["reps"]),
            split=GENERAL,
            title="Forgetting of general text",
            summary=summary,
            recommendation=(
                "Fine-tune with LoRA or freeze more layers, lower the learning rate or the "
                "epochs, or mix general text into the training corpus."
                if worse
                else ""
            ),
            details={k: r[k] for k in ("base_perplexity", "perplexity", "documents", "tokens")},
            chart=_chart("Perplexity on general text: before and after fine-tuning", r),
        )
    ]
