"""Reference metrics, per row, computed by the libraries (and the script) that define them.

- exact match and token F1: the SQuAD v1.1 evaluation script's answer normalisation
  (lower case, punctuation and the articles a/an/the removed, whitespace collapsed);
- BLEU and chrF: sacrebleu. Corpus BLEU and chrF are not means of sentence scores: each row
  yields its sufficient statistics (n-gram matches and totals, lengths), and the corpus score
  is recomputed from their sum, which is how sacrebleu's own paired bootstrap resamples
  (``sacrebleu.significance._bootstrap_resample``);
- ROUGE-L: rouge-score's ``RougeScorer(['rougeL'])`` F-measure (Porter stemming on).

Each library's figure keeps its own scale: BLEU and chrF 0-100 as sacrebleu prints them,
the others 0-1. :func:`signature` says how a figure was made, as sacrebleu's does.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from functools import cache, lru_cache

import numpy as np

from auditor.text.extra import require

_PUNCTUATION = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def squad_normalize(text: str) -> str:
    """The SQuAD v1.1 script's ``normalize_answer``."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(responses: Sequence[str], references: Sequence[str]) -> np.ndarray:
    """1.0 where the normalised response equals the normalised reference, else 0.0."""
    return np.array(
        [
            float(squad_normalize(r) == squad_normalize(t))
            for r, t in zip(responses, references, strict=True)
        ]
    )


def _token_f1(response: str, reference: str) -> float:
    got, want = squad_normalize(response).split(), squad_normalize(reference).split()
    same = sum((Counter(got) & Counter(want)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(got), same / len(want)
    return 2 * precision * recall / (precision + recall)


def token_f1(responses: Sequence[str], references: Sequence[str]) -> np.ndarray:
    """The SQuAD script's ``f1_score`` per row."""
    return np.array([_token_f1(r, t) for r, t in zip(responses, references, strict=True)])


@cache
def _sacrebleu_metric(name: str, sentence: bool):
    metrics = require("sacrebleu.metrics", "sacrebleu", what=f"the {name} metric")
    if name == "bleu":
        return metrics.BLEU(effective_order=sentence)
    return metrics.CHRF()


def corpus_stats(name: str, responses: Sequence[str], references: Sequence[str]) -> np.ndarray:
    """Per-row sufficient statistics of sacrebleu's ``bleu`` or ``chrf``: (rows, k)."""
    metric = _sacrebleu_metric(name, False)
    stats = metric._extract_corpus_statistics(list(responses), [list(references)])
    return np.asarray(stats, dtype=np.float64).reshape(len(responses), -1)


def corpus_score(name: str, stats: np.ndarray) -> float:
    """The corpus score from summed statistics (sacrebleu's ``_compute_score_from_stats``)."""
    metric = _sacrebleu_metric(name, False)
    return float(metric._compute_score_from_stats(np.asarray(stats, dtype=np.float64)).score)


def sentence_scores(name: str, stats: np.ndarray) -> np.ndarray:
    """Each row's sentence score from its statistics (BLEU with effective order, as
    sacrebleu's ``sentence_score`` does)."""
    metric = _sacrebleu_metric(name, True)
    return np.array([metric._compute_score_from_stats(row.copy()).score for row in stats])


@lru_cache(maxsize=1)
def _rouge_scorer():
    scorer = require("rouge_score.rouge_scorer", "rouge-score", what="the rouge_l metric")
    return scorer.RougeScorer(["rougeL"], use_stemmer=True)


def rouge_l(responses: Sequence[str], references: Sequence[str]) -> np.ndarray:
    """rouge-score's ROUGE-L F-measure per row (target: the reference)."""
    scorer = _rouge_scorer()
    return np.array(
        [scorer.score(t, r)["rougeL"].fmeasure for r, t in zip(responses, references, strict=True)]
    )


def signature(name: str) -> str:
    """How a reference figure was made: the library, its version and settings."""
    if name in ("bleu", "chrf"):
        return str(_sacrebleu_metric(name, False).get_signature())
    if name == "rouge_l":
        import importlib.metadata as md

        return f"rouge-score {md.version('rouge-score')}, rougeL F-measure, Porter stemmer"
    return "SQuAD v1.1 normalisation (lower case, no punctuation or articles)"
