"""The evaluate stage of a language model: what the fit checks read, measured once.

    LMPredictor x Dataset --lm_evaluation--> Evaluation
        text[split] = {"nll": per-document summed token NLL, "tokens": per-document counts}
        text[held-out split]["base_nll"] = the same under the checkpoint before fine-tuning
        text["test"]["untuned_nll"] = the same under the spec's own configuration (a search
            that chose another: the tuning gain)
        text["train"]["extraction"] = greedy completions of sampled training prefixes
        text[held-out split]["generations"] = the model's answers to sampled held-out
            prompts with their references (:mod:`auditor.train.lm_generations`), which the
            text metrics score (notes["text_metrics"]: the metrics that apply)
        history, best_epoch, stopped_early from training

The checks (:mod:`auditor.checks.lm_fit`) turn these sums into perplexities with bootstrap
intervals over documents; nothing here judges.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from auditor.train.lm import LMPredictor
    from auditor.types import Dataset, Evaluation, Spec

#: Bootstrap purpose number of the extraction sample (distinct from the checks' own).
EXTRACTION_PURPOSE = 71
MAX_EXAMPLES = 5


def extraction(
    predictor: LMPredictor,
    texts: list[str],
    *,
    documents: int,
    prefix_tokens: int,
    verbatim_tokens: int,
    seed: int,
) -> dict[str, Any]:
    """Memorization by extraction on training documents.

    Samples up to ``documents`` training documents with at least ``prefix_tokens +
    verbatim_tokens`` tokens, gives the model each one's first ``prefix_tokens`` tokens
    (after the end-of-text token it was trained to start from), completes them greedily and
    counts the leading tokens that equal the document's own.

    Returns
    -------
    dict
        ``matched`` (per sampled document, leading tokens reproduced, 0 to
        ``verbatim_tokens``), ``eligible`` (documents long enough), ``positions`` (which
        training documents were sampled), the settings, and ``examples`` (up to five of
        the documents reproduced furthest, at least half of ``verbatim_tokens``: prefix,
        the document's continuation and the model's).
    """
    docs = predictor.documents(texts)
    need = 1 + prefix_tokens + verbatim_tokens
    eligible = np.asarray([i for i, d in enumerate(docs) if len(d) >= need], dtype=np.int64)
    rng = np.random.default_rng(seed)
    take = min(int(documents), eligible.size)
    chosen = np.sort(rng.choice(eligible, size=take, replace=False)) if take else eligible[:0]
    prefixes = np.asarray([docs[i][: 1 + prefix_tokens] for i in chosen], dtype=np.int64).reshape(
        take, 1 + prefix_tokens
    )
    truth = np.asarray([docs[i][1 + prefix_tokens : need] for i in chosen], dtype=np.int64).reshape(
        take, verbatim_tokens
    )
    completions = predictor.complete(prefixes, verbatim_tokens)
    same = completions == truth
    matched = np.where(same.all(axis=1), verbatim_tokens, np.argmin(same, axis=1)).astype(np.int64)
    decode = predictor.tokenizer.decode
    examples = [
        {
            "document": int(chosen[k]),
            "matched_tokens": int(matched[k]),
            "prefix": decode(prefixes[k, 1:].tolist()),
            "continuation": decode(truth[k].tolist()),
            "completion": decode(completions[k].tolist()),
        }
        for k in np.argsort(-matched, kind="stable")[:MAX_EXAMPLES]
        if matched[k] >= max(1, verbatim_tokens // 2)
    ]
    return {
        "matched": matched,
        "eligible": int(eligible.size),
        "positions": chosen,
        "prefix_tokens": int(prefix_tokens),
        "verbatim_tokens": int(verbatim_tokens),
        "examples": examples,
    }


def general_documents(spec: Spec) -> list[str]:
    """The documents of ``evaluation.base_comparison.general`` (read as the corpus is)."""
    from auditor.data.corpus import TEXT_COLUMN, detect_corpus_format, read_documents

    path = spec.resolve_path(spec.evaluation.base_comparison.general)
    return read_documents(
        path,
        fmt=detect_corpus_format(path, "auto"),
        field=spec.data.corpus.field or TEXT_COLUMN,
        encoding=spec.data.encoding,
    )


def compare_with_base(spec: Spec, dataset: Dataset, predictor, text: dict) -> None:
    """The checkpoint before fine-tuning scored on the same tokens as the fine-tuned model:
    ``base_nll`` beside ``nll`` on validation and test, and both on the general corpus
    (``text["general"]``) when one is declared. A model trained from scratch has no base."""
    from auditor.data.corpus import HELD_OUT_SPLITS
    from auditor.train.lm import split_texts

    settings = spec.evaluation.base_comparison
    if not settings.enabled or not hasattr(predictor, "base_model"):
        return
    base = predictor.base_model()
    for split in [s for s in HELD_OUT_SPLITS if s in text]:
        texts, prompt_chars = split_texts(dataset, split)
        text[split]["base_nll"], _ = predictor.nll_of(base, texts, prompt_chars)
    if settings.general:
        docs = general_documents(spec)
        nll, tokens = predictor.nll(docs)
        text["general"] = {
            "nll": nll,
            "tokens": tokens,
            "base_nll": predictor.nll_of(base, docs)[0],
            "documents": len(docs),
        }
    del base


#: The splits the tuning gain compares on (a search reads train and validation only).
UNSEEN = ("test",)


def compare_with_untuned(
    spec: Spec, dataset: Dataset, predictor: LMPredictor, tuning, text: dict, *, progress=None
) -> None:
    """The spec's own configuration, trained as the chosen one was, scored on the same test
    tokens (``untuned_nll`` beside ``nll``): what the search gained on documents it never
    read. Nothing without a search, or when the search kept the spec's own values."""
    from auditor.train.lm import split_texts
    from auditor.tuning.search import untuned_spec

    own = None if tuning is None else untuned_spec(spec, tuning)
    unseen = [s for s in UNSEEN if s in text]
    if own is None or not unseen:
        return
    if progress is not None:
        progress.status("the spec's own configuration, for the tuning gain")
    model = retrain(own, dataset, predictor)
    for split in unseen:
        nll, tokens = model.nll(*split_texts(dataset, split))
        if np.array_equal(tokens, text[split]["tokens"]):  # one tokenizer: the same tokens
            text[split]["untuned_nll"] = nll


def retrain(spec: Spec, dataset: Dataset, predictor: LMPredictor):
    """The spec's language model trained again on ``dataset`` (a fraction of its train
    split, or the spec's own configuration before a search): the checkpoint fine-tuned, or
    a transformer from scratch with ``predictor``'s tokenizer (trained on the whole train
    split: perplexities per token of different tokenizers would not compare)."""
    from auditor.train.engine import train_lm

    return train_lm(spec, dataset, tokenizer=predictor.tokenizer)


def _perplexity(predictor, texts: list[str], prompt_chars: list[int] | None) -> float | None:
    nll, tokens = predictor.nll(texts, prompt_chars)
    return float(np.exp(nll.sum() / tokens.sum())) if tokens.sum() else None


def lm_learning_curve(
    spec: Spec, dataset: Dataset, predictor: LMPredictor, *, progress=None
) -> tuple[list[dict[str, Any]], str | None]:
    """The model trained again on growing fractions of the training documents
    (``evaluation.learning_curve.fractions``, a seeded order, each fraction holding the
    smaller ones): the perplexity of the documents it trained on and of the validation
    documents at each; (points, reason when skipped). The full fraction is the model
    itself; the test documents are not read."""
    import dataclasses

    from auditor.train.lm import split_texts

    settings = spec.evaluation.learning_curve
    if not settings.enabled:
        return [], "it is switched off (evaluation.learning_curve.enabled: false)"
    frame = dataset.frames["train"]
    n = len(frame)
    order = np.random.default_rng(int(spec.training.seed)).permutation(n)
    val_texts, val_prompts = split_texts(dataset, "validation")
    points = []
    for fraction in sorted(float(f) for f in settings.fractions):
        size = max(int(round(fraction * n)), 2)
        if progress is not None:
            progress.status(f"learning curve: {100 * fraction:.0f}% of the training documents")
        if size >= n:
            model, part = predictor, dataset
        else:
            rows = np.sort(order[:size])
            part = dataclasses.replace(
                dataset,
                frames={**dataset.frames, "train": frame.iloc[rows].reset_index(drop=True)},
            )
            model = retrain(spec, part, predictor)
        points.append(
            {
                "fraction": fraction,
                "rows": int(min(size, n)),
                "train": _perplexity(model, *split_texts(part, "train")),
                "validation": _perplexity(model, val_texts, val_prompts),
            }
        )
    return points, None


def lm_evaluation(
    spec: Spec, dataset: Dataset, predictor: LMPredictor, *, progress=None, tuning=None
) -> Evaluation:
    """Per-document NLL sums and token counts on every split; extraction on train; the
    checkpoint before fine-tuning and (``tuning``: the search's outcome) the spec's own
    configuration on the same tokens; the learning curve."""
    from auditor.data.corpus import TEXT_COLUMN
    from auditor.splits import bootstrap_seed
    from auditor.text.audit import available_metrics, used_models
    from auditor.train.lm import split_texts
    from auditor.train.lm_generations import lm_generations
    from auditor.types import Evaluation

    text: dict[str, dict[str, Any]] = {}
    for split in dataset.splits:
        texts, prompt_chars = split_texts(dataset, split)  # pairs: the responses are scored
        nll, tokens = predictor.nll(texts, prompt_chars)
        text[split] = {"nll": nll, "tokens": tokens}
    compare_with_base(spec, dataset, predictor, text)
    compare_with_untuned(spec, dataset, predictor, tuning, text, progress=progress)
    settings = spec.evaluation.extraction
    text.setdefault("train", {})["extraction"] = extraction(
        predictor,
        dataset.frames["train"][TEXT_COLUMN].tolist(),
        documents=settings.documents,
        prefix_tokens=settings.prefix_tokens,
        verbatim_tokens=settings.verbatim_tokens,
        seed=bootstrap_seed(spec.evaluation.seed, "train", EXTRACTION_PURPOSE),
    )
    curve, curve_skipped = lm_learning_curve(spec, dataset, predictor, progress=progress)
    if progress is not None and spec.evaluation.generations.enabled:
        progress.status("answers to held-out prompts, for the text metrics")
    generated = lm_generations(spec, dataset, predictor)
    for split, rows in generated.items():
        text.setdefault(split, {})["generations"] = rows
    metrics = available_metrics(spec) if generated else []
    used = used_models(spec, metrics)  # the local models that score them, hashed now
    info = predictor.info
    return Evaluation(
        task=spec.task,
        classes=[],
        splits={},
        history=list(predictor.history),
        best_epoch=info.get("best_epoch"),
        stopped_early=bool(info.get("stopped_early")),
        primary_metric="perplexity",
        has_scores=False,
        notes={
            "corpus": dataset.split_info.get("corpus"),
            "overlap": dataset.split_info.get("overlap"),
            **({"learning_curve": curve_skipped} if curve_skipped else {}),
            **({"text_metrics": [m.name for m in metrics]} if metrics else {}),
            **({"text_models": used} if used else {}),
        },
        text=text,
        learning_curve=curve,
        tuning=tuning,
    )
