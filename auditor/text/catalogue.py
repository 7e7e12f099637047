"""The text metrics: one registry every consumer reads (spec enums, rules, checks, report).

Each entry says which row inputs it reads, its scale, which way is better, whether it is a
heuristic (shown as such in the report), the per-row threshold its pass rate uses unless a
criterion names another, and how it is computed: per row (``rows``), and, for corpus
figures, from the sum of per-row statistics (``corpus``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from auditor.text import (
    coherence,
    embeddings,
    grounding,
    local_models,
    perplexity,
    reference,
    safety,
    toxicity,
)

Inputs = tuple[str, ...]  # of "question", "context", "response", "reference"


@dataclass(frozen=True)
class TextMetric:
    """One text metric."""

    name: str
    label: str
    description: str
    inputs: Inputs
    low: float
    high: float
    higher_is_better: bool
    row_threshold: float | None  # the default per-row threshold of its pass rate
    rows: Callable[[Mapping[str, Sequence[str]]], np.ndarray]
    corpus: Callable[[np.ndarray], float] | None = None
    sentence: Callable[[np.ndarray], np.ndarray] | None = None
    heuristic: bool = False
    category: str = "text"
    # the local models it reads from its inputs' "models" (auditor.text.local_models):
    # "embedder" (a sentence-embedding model), "language_model" (a causal language model)
    needs: tuple[str, ...] = ()

    def row_values(self, data: Mapping[str, Sequence[str]]) -> np.ndarray:
        """The per-row figure (for a corpus metric, its sentence-level score)."""
        values = self.rows(data)
        return self.sentence(values) if self.sentence is not None else values


def _refs(fn):
    return lambda d: fn(d["response"], d["reference"])


def _corpus(name: str) -> dict:
    return {
        "rows": lambda d: reference.corpus_stats(name, d["response"], d["reference"]),
        "corpus": lambda stats: reference.corpus_score(name, stats),
        "sentence": lambda stats: reference.sentence_scores(name, stats),
    }


def _support(d) -> list[grounding.Support]:
    """Each row's lexical support, found once per split for the metrics that read it."""
    if "support" not in d:
        d["support"] = grounding.support_rows(d["response"], d["context"], d.get("question"))
    return d["support"]


def _embedder(d, metric: str):
    """The run's sentence-embedding model, from the inputs' ``models`` (loaded once)."""
    return local_models.models_in(d, metric, "embedder")


def _cosines(d, metric: str, left: str, right: str) -> np.ndarray:
    """Row cosines of two input columns, found once per split for the metrics that read it."""
    key = f"cosine:{left}:{right}"
    if key not in d:
        d[key] = embeddings.row_cosines(_embedder(d, metric), d[left], d[right])
    return d[key]


def _loss_stats(d, metric: str) -> np.ndarray:
    """Each response's (log-loss, tokens) under the run's language model, found once."""
    if "loss_stats" not in d:
        lm = local_models.models_in(d, metric, "language_model")
        d["loss_stats"] = perplexity.loss_stats(lm, d["response"])
    return d["loss_stats"]


def _readability(d) -> np.ndarray:
    if "readability" not in d:
        d["readability"] = perplexity.readability_scores(d["response"])
    return d["readability"]


_ENTRIES = [
    TextMetric(
        "exact_match",
        "Exact match",
        "Normalised response equals the reference (SQuAD).",
        ("response", "reference"),
        0.0,
        1.0,
        True,
        1.0,
        _refs(reference.exact_match),
    ),
    TextMetric(
        "token_f1",
        "Token F1",
        "Token overlap F1 with the reference (SQuAD normalisation).",
        ("response", "reference"),
        0.0,
        1.0,
        True,
        0.5,
        _refs(reference.token_f1),
    ),
    TextMetric(
        "bleu",
        "BLEU",
        "Corpus BLEU against the references (sacrebleu, 0-100).",
        ("response", "reference"),
        0.0,
        100.0,
        True,
        30.0,
        **_corpus("bleu"),
    ),
    TextMetric(
        "chrf",
        "chrF",
        "Corpus chrF against the references (sacrebleu, 0-100).",
        ("response", "reference"),
        0.0,
        100.0,
        True,
        50.0,
        **_corpus("chrf"),
    ),
    TextMetric(
        "rouge_l",
        "ROUGE-L",
        "Longest-common-subsequence F-measure (rouge-score).",
        ("response", "reference"),
        0.0,
        1.0,
        True,
        0.5,
        _refs(reference.rouge_l),
    ),
    TextMetric(
        "groundedness",
        "Groundedness (lexical heuristic)",
        "1-5 score: share of the response's words, numbers and names found in the context, "
        "2 points off per unsupported number or name. A heuristic, not a judge.",
        ("response", "context"),
        1.0,
        5.0,
        True,
        4.0,
        lambda d: grounding.groundedness_scores(_support(d)),
        heuristic=True,
    ),
    TextMetric(
        "lexical_support",
        "Lexical support (heuristic)",
        "Share of the response's content found in the context. A heuristic, not a judge.",
        ("response", "context"),
        0.0,
        1.0,
        True,
        0.8,
        lambda d: grounding.support_shares(_support(d)),
        heuristic=True,
    ),
    # -- local-model estimators (auditor.text.embeddings, auditor.text.perplexity): labelled
    # heuristics on the judged metrics' 1-5 scale, and their raw figures
    TextMetric(
        "similarity",
        "Similarity (embedding heuristic)",
        "1-5 score from the sentence-embedding cosine of the response and the reference "
        "(cosine 0 -> 1, 1 -> 5, clipped). A heuristic, not a judge.",
        ("question", "response", "reference"),
        1.0,
        5.0,
        True,
        4.0,
        lambda d: embeddings.to_five(_cosines(d, "similarity", "response", "reference")),
        heuristic=True,
        needs=("embedder",),
    ),
    TextMetric(
        "relevance",
        "Relevance (embedding heuristic)",
        "1-5 score from the sentence-embedding cosine of the question and the response "
        "(cosine 0 -> 1, 1 -> 5, clipped). A heuristic, not a judge.",
        ("question", "response"),
        1.0,
        5.0,
        True,
        4.0,
        lambda d: embeddings.to_five(_cosines(d, "relevance", "question", "response")),
        heuristic=True,
        needs=("embedder",),
    ),
    TextMetric(
        "coherence",
        "Coherence (embedding heuristic)",
        "1-5 score from the sentence-embedding cosines of adjacent sentences (the first "
        "with the question; 0.1 or less -> 1, 0.4 or more -> 5), less points for sentences "
        "repeated and for sentences out of order (auditor.text.coherence). A heuristic, not "
        "a judge: it sees topical flow, not logic.",
        ("question", "response"),
        1.0,
        5.0,
        True,
        4.0,
        lambda d: coherence.coherence_scores(
            _embedder(d, "coherence"), d["response"], d.get("question")
        ),
        heuristic=True,
        needs=("embedder",),
    ),
    TextMetric(
        "fluency",
        "Fluency (perplexity and readability heuristic)",
        "1-5 score: 3/4 the response's perplexity under a local language model (20 or less "
        "-> 5, 1000 or more -> 1, log-linear) and 1/4 its Flesch reading ease (60 or more "
        "-> 5, 0 -> 1). A heuristic, not a judge.",
        ("response",),
        1.0,
        5.0,
        True,
        4.0,
        lambda d: perplexity.fluency_scores(
            perplexity.row_perplexities(_loss_stats(d, "fluency")), _readability(d)
        ),
        heuristic=True,
        needs=("language_model",),
    ),
    TextMetric(
        "semantic_similarity",
        "Semantic similarity (embedding cosine)",
        "Cosine of the sentence embeddings of the response and the reference (-1 to 1).",
        ("response", "reference"),
        -1.0,
        1.0,
        True,
        0.7,
        lambda d: _cosines(d, "semantic_similarity", "response", "reference"),
        heuristic=True,
        needs=("embedder",),
    ),
    TextMetric(
        "embedding_support",
        "Embedding support (heuristic)",
        "Each response sentence's best embedding cosine to a context sentence, averaged "
        "over the response's sentences. A heuristic for groundedness, not a judge.",
        ("response", "context"),
        -1.0,
        1.0,
        True,
        0.6,
        lambda d: embeddings.embedding_support(
            _embedder(d, "embedding_support"), d["response"], d["context"], how="mean"
        ),
        heuristic=True,
        needs=("embedder",),
    ),
    TextMetric(
        "perplexity",
        "Perplexity",
        "Corpus perplexity of the responses under a local causal language model (lower is "
        "better); a row's own perplexity is shown at most 1000.",
        ("response",),
        1.0,
        perplexity.PERPLEXITY_CAP,
        False,
        100.0,
        lambda d: _loss_stats(d, "perplexity"),
        corpus=perplexity.corpus_perplexity,
        sentence=perplexity.row_perplexities,
        heuristic=True,
        needs=("language_model",),
    ),
    TextMetric(
        "readability",
        "Readability (Flesch reading ease)",
        "Flesch reading ease of the response, 0-100 (60-70 is plain English, below 30 hard "
        "going), with a plain syllable heuristic.",
        ("response",),
        0.0,
        100.0,
        True,
        30.0,
        lambda d: _readability(d),
        heuristic=True,
    ),
    TextMetric(
        "refusal_rate",
        "Refusal rate",
        "Share of responses that decline to answer.",
        ("response",),
        0.0,
        1.0,
        False,
        None,
        lambda d: safety.refusals(d["response"]),
        category="safety",
    ),
    TextMetric(
        "profanity_rate",
        "Profanity rate",
        "Share of responses holding a word of better-profanity's list (plain or in its "
        "leetspeak spellings). A word list, not a toxicity classifier: polite insults pass.",
        ("response",),
        0.0,
        1.0,
        False,
        None,
        lambda d: toxicity.profanity_rows(d["response"]),
        category="safety",
    ),
    TextMetric(
        "personal_data_rate",
        "Personal data added",
        "Share of responses with an e-mail address, phone or (Luhn-valid) card number that "
        "the prompt and context did not contain.",
        ("response", "question"),
        0.0,
        1.0,
        False,
        None,
        lambda d: safety.personal_data_rows(d["response"], d["question"], d.get("context")),
        category="safety",
    ),
]

#: name -> metric, in report order.
TEXT_METRICS: dict[str, TextMetric] = {m.name: m for m in _ENTRIES}


class UnknownTextMetricError(ValueError):
    """A text metric name that is not in the catalogue."""


def get_text_metric(name: str) -> TextMetric:
    """The named metric, or an error listing the available ones."""
    try:
        return TEXT_METRICS[name]
    except KeyError:
        raise UnknownTextMetricError(
            f"unknown text metric {name!r}; available: {', '.join(TEXT_METRICS)}"
        ) from None


#: metric -> (module, package) of the optional ``text`` extra it needs.
_EXTRAS = {
    "bleu": ("sacrebleu", "sacrebleu"),
    "chrf": ("sacrebleu", "sacrebleu"),
    "rouge_l": ("rouge_score", "rouge-score"),
    "profanity_rate": ("better_profanity", "better-profanity"),
}

#: what each local model needs installed: the ``text-models`` extra.
MODEL_EXTRAS = {
    "embedder": ("sentence_transformers", "sentence-transformers"),
    "language_model": ("transformers", "transformers"),
}


def extra_for(name: str) -> tuple[str, str] | None:
    """The (module, package) of the optional extra a metric needs, or None (``text``; for a
    metric that needs a local model, ``text-models``: :func:`extra_name` says which)."""
    if name in _EXTRAS:
        return _EXTRAS[name]
    needs = TEXT_METRICS[name].needs if name in TEXT_METRICS else ()
    return MODEL_EXTRAS[needs[0]] if needs else None


def extra_name(name: str) -> str:
    """The name of the extra (``pip install 'auditor[<it>]'``) :func:`extra_for` is part of."""
    return "text-models" if name not in _EXTRAS and extra_for(name) else "text"


def pass_rate_words(metric: TextMetric, threshold: float) -> str:
    """'at least 4' (or 'at most 0' where lower is better): a row's pass condition."""
    side = "at least" if metric.higher_is_better else "at most"
    return f"{side} {threshold:g}"


def score_rows(name: str, data: Mapping[str, Sequence[str]]) -> np.ndarray:
    """The named metric per row (a corpus metric: its per-row statistics)."""
    return get_text_metric(name).rows(data)
