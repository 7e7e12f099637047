"""Fluency without a judge: perplexity under a local causal language model, and readability.

Perplexity is ``exp`` of the mean negative log-likelihood per token the local model
(transformers ``AutoModelForCausalLM``, a folder hashed by
:mod:`auditor.text.local_models`, never fetched) gives a response, scored from a
beginning-of-text token through an end-of-text token, so every response, even an empty one,
has at least one scored token. Per row the statistics are (summed log-loss, tokens); the
corpus perplexity is ``exp(sum of losses / sum of tokens)``, resampled like BLEU's
statistics. Lower is better.

Readability is the Flesch reading ease, ``206.835 - 1.015 * words / sentences - 84.6 *
syllables / words``, with a plain syllable heuristic (:func:`syllables`: groups of vowels,
``y`` counted as a vowel, a silent final ``e`` dropped unless the word ends in
consonant + ``le``, at least one per word), clipped to 0-100 (higher: easier to read; 60-70
is plain English, below 30 hard going).

The 1-5 fluency estimate (:func:`fluency_scores`) mixes the two, 3/4 perplexity and 1/4
readability:

- perplexity on a log scale, :data:`PERPLEXITY_GOOD` (20) or less -> 5 and
  :data:`PERPLEXITY_POOR` (1000) or more -> 1, linear in ``log(perplexity)`` between;
- readability ``clip(1 + 4 * ease / 60, 1, 5)``: reading ease 60 or more -> 5, 0 -> 1.

The anchors suit a small general-purpose English model; they are a heuristic, and the
report says so.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from auditor.text.local_models import (
    ModelIdentity,
    cached,
    device_name,
    identify,
    quiet_transformers,
)

KIND = "causal language model"
PERPLEXITY_GOOD = 20.0
PERPLEXITY_POOR = 1000.0
#: A row's perplexity is shown at most this (the scale's end); the corpus figure is not cut.
PERPLEXITY_CAP = 1000.0
READABLE = 60.0
PERPLEXITY_WEIGHT = 0.75
#: Tokens scored per response at most (longer responses are cut).
MAX_TOKENS = 512
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_SENTENCE = re.compile(r"[.!?]+(?:\s|$)|\n+")
_VOWELS = re.compile(r"[aeiouy]+")


@dataclass
class LanguageModel:
    """A loaded causal language model with its tokenizer."""

    identity: ModelIdentity
    model: Any
    tokenizer: Any
    device: str
    batch_size: int = 8

    @property
    def max_tokens(self) -> int:
        config = self.model.config
        limit = getattr(config, "n_positions", None) or getattr(
            config, "max_position_embeddings", None
        )
        return min(int(limit or MAX_TOKENS), MAX_TOKENS)


def load_identified(identity: ModelIdentity, device: str = "cpu", batch_size: int = 8):
    """The language model of an identified (hashed) folder, loaded once per process."""

    def build():
        from transformers import AutoModelForCausalLM, AutoTokenizer

        quiet_transformers()
        tokenizer = AutoTokenizer.from_pretrained(identity.path, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(identity.path, local_files_only=True)
        model.to(device).eval()
        return LanguageModel(identity, model, tokenizer, device, batch_size)

    lm = cached(KIND, identity, device, build)
    lm.batch_size = int(batch_size)
    return lm


def load_language_model(
    path, *, device: str = "cpu", batch_size: int = 8, base_dir=None
) -> LanguageModel:
    """A local causal language model folder, hashed before it is loaded.

    Raises
    ------
    auditor.text.local_models.LocalModelError
        No such folder, no model or weights in it, or it could not be loaded.
    """
    identity = identify(path, role="language_model", kind=KIND, base_dir=base_dir)
    return load_identified(identity, device_name(device), batch_size)


def _ids(lm: LanguageModel, text: str) -> list[int]:
    tok = lm.tokenizer
    start = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
    end = tok.eos_token_id if tok.eos_token_id is not None else start
    body = tok(str(text), add_special_tokens=False)["input_ids"][: lm.max_tokens - 2]
    return [start, *body, end]


def loss_stats(lm: LanguageModel, texts: Sequence[str], progress=None) -> np.ndarray:
    """Per row (summed negative log-likelihood in nats, scored tokens): (n, 2) float64."""
    import torch

    from auditor.progress import Progress

    ids = [_ids(lm, t) for t in texts]
    order = np.argsort([len(x) for x in ids], kind="stable")  # similar lengths batch together
    out = np.zeros((len(ids), 2), dtype=np.float64)
    bar = (progress or Progress(quiet=True)).bar(len(ids), "perplexity")
    with bar, torch.inference_mode():
        for start in range(0, len(ids), lm.batch_size):
            rows = order[start : start + lm.batch_size]
            width = max(len(ids[i]) for i in rows)
            batch = torch.zeros((len(rows), width), dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for j, i in enumerate(rows):
                batch[j, : len(ids[i])] = torch.tensor(ids[i])
                mask[j, : len(ids[i])] = 1
            batch, mask = batch.to(lm.device), mask.to(lm.device)
            logits = lm.model(input_ids=batch, attention_mask=mask).logits.float()
            logp = torch.log_softmax(logits[:, :-1], dim=-1)
            target = batch[:, 1:]
            nll = -logp.gather(-1, target.unsqueeze(-1)).squeeze(-1) * mask[:, 1:]
            out[rows, 0] = nll.sum(dim=1).double().cpu().numpy()
            out[rows, 1] = mask[:, 1:].sum(dim=1).double().cpu().numpy()
            bar.update(len(rows))
    return out


def corpus_perplexity(stats: np.ndarray) -> float:
    """``exp(sum of losses / sum of tokens)`` of summed (loss, tokens) statistics."""
    stats = np.asarray(stats, dtype=np.float64)
    return float(math.exp(stats[0] / max(stats[1], 1.0)))


def row_perplexities(stats: np.ndarray) -> np.ndarray:
    """Each row's perplexity from its statistics, at most :data:`PERPLEXITY_CAP`."""
    stats = np.asarray(stats, dtype=np.float64)
    mean = stats[:, 0] / np.maximum(stats[:, 1], 1.0)
    return np.minimum(np.exp(np.minimum(mean, math.log(PERPLEXITY_CAP))), PERPLEXITY_CAP)


def perplexities(lm: LanguageModel, texts: Sequence[str]) -> np.ndarray:
    """Each text's perplexity under ``lm`` (capped, see :func:`row_perplexities`)."""
    return row_perplexities(loss_stats(lm, texts))


# ------------------------------------------------------------------ readability
def syllables(word: str) -> int:
    """Syllables of an English word by the heuristic in the module docstring."""
    w = word.lower().strip("'")
    if not w:
        return 0
    count = len(_VOWELS.findall(w))
    if w.endswith("e") and not (w.endswith("le") and len(w) > 2 and w[-3] not in "aeiouy"):
        count -= 1 if count > 1 else 0
    return max(count, 1)


def flesch_reading_ease(text: str) -> float:
    """Flesch reading ease of ``text``, clipped to 0-100 (100 for a text without words)."""
    words = _WORD.findall(str(text))
    if not words:
        return 100.0
    ends = len([s for s in _SENTENCE.split(str(text)) if _WORD.search(s)])
    n_sentences = max(ends, 1)
    n_syllables = sum(syllables(w) for w in words)
    ease = 206.835 - 1.015 * len(words) / n_sentences - 84.6 * n_syllables / len(words)
    return float(min(max(ease, 0.0), 100.0))


def readability_scores(texts: Sequence[str]) -> np.ndarray:
    """The Flesch reading ease of every text."""
    return np.array([flesch_reading_ease(t) for t in texts], dtype=np.float64)


# ------------------------------------------------------------------ the 1-5 estimate
def perplexity_to_five(perplexity: np.ndarray) -> np.ndarray:
    """Perplexity on the 1-5 scale: 20 or less -> 5, 1000 or more -> 1, log-linear between."""
    logp = np.log(np.maximum(np.asarray(perplexity, dtype=np.float64), 1.0))
    lo, hi = math.log(PERPLEXITY_GOOD), math.log(PERPLEXITY_POOR)
    return np.clip(5.0 - 4.0 * (logp - lo) / (hi - lo), 1.0, 5.0)


def readability_to_five(ease: np.ndarray) -> np.ndarray:
    """Reading ease on the 1-5 scale: ``clip(1 + 4 * ease / 60, 1, 5)``."""
    return np.clip(1.0 + 4.0 * np.asarray(ease, dtype=np.float64) / READABLE, 1.0, 5.0)


def fluency_scores(perplexity: np.ndarray, ease: np.ndarray) -> np.ndarray:
    """The 1-5 fluency estimate: 3/4 perplexity, 1/4 readability (module docstring)."""
    w = PERPLEXITY_WEIGHT
    return w * perplexity_to_five(perplexity) + (1 - w) * readability_to_five(ease)
