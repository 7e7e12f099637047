"""Answers a language model writes to held-out prompts, for the generated-text metrics.

    LMPredictor x held-out split --held_out_generations--> {"question": prompts,
        "response": the model's greedy answers, "reference": the held-out text, "id": the
        documents' positions in the corpus}

A prompt is an instruction/response pair's prompt (its response is the reference), or the
first ``prompt_tokens`` tokens of a plain document (its next ``max_new_tokens`` tokens are
the reference). The answer is greedy and stops at the end-of-text token. The text check
(:mod:`auditor.checks.text_metrics`) scores the rows as it scores a vendor's responses;
nothing here judges.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from auditor.train.lm import LMPredictor
    from auditor.types import Dataset, Spec

#: Bootstrap purpose of the prompt sample (distinct from the extraction sample's).
GENERATION_PURPOSE = 73
#: The text roles the generated rows fill (as ``data.text`` names a vendor file's columns).
ROLES = {"question": "question", "response": "response", "reference": "reference"}


def held_out_generations(
    spec: Spec, dataset: Dataset, predictor: LMPredictor, split: str
) -> dict[str, list[Any]]:
    """The sampled prompts of ``split``, the model's answers and the references."""
    from auditor.splits import bootstrap_seed
    from auditor.train.lm import split_texts

    settings = spec.evaluation.generations
    texts, prompt_chars = split_texts(dataset, split)
    docs, starts = predictor.learned(texts, prompt_chars)
    new = answer_tokens(settings.max_new_tokens, predictor.settings.context_length)
    if starts is None:  # a plain document: its first tokens are the prompt
        starts = [1 + int(settings.prompt_tokens)] * len(docs)
    # a document with at least one token after its prompt (its end-of-text aside)
    eligible = np.asarray([i for i, d in enumerate(docs) if len(d) > starts[i] + 1], np.int64)
    rng = np.random.default_rng(bootstrap_seed(spec.evaluation.seed, split, GENERATION_PURPOSE))
    take = min(int(settings.prompts), eligible.size)
    chosen = np.sort(rng.choice(eligible, size=take, replace=False)) if take else eligible
    keep = max(1, predictor.settings.context_length - new)  # the prompt's last tokens
    prompts = [docs[i][: starts[i]][-keep:] for i in chosen]
    answers = greedy_answers(predictor, prompts, new)
    decode = predictor.tokenizer.decode
    eos = int(predictor.tokenizer.eos_token_id)
    positions = dataset.frames[split]["position"].to_numpy()
    references = [docs[i][starts[i] : starts[i] + new] for i in chosen]
    return {
        "id": [str(int(positions[i])) for i in chosen],
        "question": [decode([t for t in p if t != eos]) for p in prompts],
        "response": [decode(a) for a in answers],
        "reference": [decode([t for t in r if t != eos]) for r in references],
    }


def answer_tokens(declared: int, context_length: int) -> int:
    """Tokens an answer may have: as declared, or half the context when the declared number
    leaves no room for a prompt (the default on a short context; a written one that does
    not fit is refused by the rules)."""
    return int(declared) if declared < context_length else max(1, context_length // 2)


def greedy_answers(predictor: LMPredictor, prompts: list[list[int]], steps: int) -> list[list[int]]:
    """Each prompt's greedy continuation, cut before its first end-of-text token; prompts of
    one length are completed together."""
    eos = int(predictor.tokenizer.eos_token_id)
    by_length: dict[int, list[int]] = defaultdict(list)
    for k, p in enumerate(prompts):
        by_length[len(p)].append(k)
    out: list[list[int]] = [[] for _ in prompts]
    for length, members in by_length.items():
        block = np.asarray([prompts[k] for k in members], dtype=np.int64).reshape(-1, length)
        for k, row in zip(members, predictor.complete(block, steps), strict=True):
            row = row.tolist()
            out[k] = row[: row.index(eos)] if eos in row else row
    return out


def lm_generations(spec: Spec, dataset: Dataset, predictor: LMPredictor) -> dict[str, dict]:
    """{split: generated rows} for every declared held-out split the corpus has."""
    settings = spec.evaluation.generations
    if not settings.enabled:
        return {}
    return {
        split: held_out_generations(spec, dataset, predictor, split)
        for split in settings.splits
        if split in dataset.frames
    }
