"""The offline coherence heuristic: does the response read as a whole, without a judge?

Sentence embeddings (the spec's local sentence-embedding model, :mod:`auditor.text.embeddings`)
of the question and of each response sentence, in order, give three signals:

- **flow**: the cosine of each sentence with the one before it, the first sentence's with
  the question (so a one-sentence answer is read against what it answers); the flow is
  3/4 the mean of these links plus 1/4 the weakest, so one abrupt turn in an otherwise
  flowing answer costs about a point;
- **repetition** (a sentence-order signal): the share of adjacent response sentences that
  say the same thing again (cosine at least :data:`REPEAT_COSINE`), the loop of a
  degenerate generator; it costs up to :data:`REPEAT_POINTS` points;
- **order** (a sentence-order signal): with :data:`ORDER_SENTENCES` sentences or more,
  how much closer the non-adjacent sentences are to each other than the adjacent ones (in
  a text whose ideas are in order neighbours are closer than distant sentences; shuffled,
  the margin rises to about 0); a positive margin costs up to :data:`ORDER_POINTS` point,
  all of it at :data:`ORDER_MARGIN`.

On the judged metrics' 1-5 scale: ``1 + 4 * clip((flow - FLOW_LOW) / (FLOW_HIGH -
FLOW_LOW), 0, 1)`` minus the penalties, clipped to 1-5. ``FLOW_LOW`` and ``FLOW_HIGH``
are where all-MiniLM-L6-v2 puts unrelated sentences (cosine about 0.1 or less) and
the sentences of a flowing help-centre paragraph (about 0.4 or more). An empty response scores 1.

A labelled heuristic, not a judgement: it sees topical continuity, not logic; a response
that stays on topic while contradicting itself reads as coherent to it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from auditor.text.embeddings import Embedder, sentences

FLOW_LOW, FLOW_HIGH = 0.10, 0.40
#: Adjacent sentences this close say the same thing again.
REPEAT_COSINE = 0.95
REPEAT_POINTS = 2.0
ORDER_MARGIN = 0.10
#: Sentences needed before the order signal is read (fewer give too few distant pairs).
ORDER_SENTENCES = 4
ORDER_POINTS = 1.0
#: How the figure is made (shown with it, as sacrebleu signs its figures).
SIGNATURE = (
    f"flow of adjacent-sentence cosines (3/4 mean + 1/4 weakest; {FLOW_LOW:g} -> 1, "
    f"{FLOW_HIGH:g} -> 5) - {REPEAT_POINTS:g} x repeated share - up to {ORDER_POINTS:g} for "
    "sentences out of order"
)


def signals(vectors: np.ndarray, *, question: bool = True) -> tuple[float, float, float]:
    """(flow, repeated share, order margin) of one response's unit vectors, in order.

    ``vectors`` is (1 + k, d) with ``question``: the question's embedding, then the k
    response sentences'; else (k, d), the sentences' alone (k at least 2).
    """
    links = np.einsum("ij,ij->i", vectors[:-1], vectors[1:])
    flow = 0.75 * float(links.mean()) + 0.25 * float(links.min())
    own = links[1:] if question else links  # between response sentences
    told = vectors[1:] if question else vectors
    repeated = float(np.mean(own >= REPEAT_COSINE)) if own.size else 0.0
    margin = 0.0
    k = len(told)
    if k >= ORDER_SENTENCES:
        far = (told @ told.T)[np.triu_indices(k, 2)]
        margin = float(far.mean() - own.mean())
    return flow, repeated, margin


def score(flow: float, repeated: float, margin: float) -> float:
    """The 1-5 coherence score of the three signals (see the module docstring)."""
    base = 1.0 + 4.0 * np.clip((flow - FLOW_LOW) / (FLOW_HIGH - FLOW_LOW), 0.0, 1.0)
    order = ORDER_POINTS * np.clip(margin / ORDER_MARGIN, 0.0, 1.0)
    return float(np.clip(base - REPEAT_POINTS * repeated - order, 1.0, 5.0))


def coherence_scores(
    embedder: Embedder, responses: Sequence[str], questions: Sequence[str] | None = None
) -> np.ndarray:
    """Each response's 1-5 coherence heuristic (float64); every distinct text embedded once.

    Without questions the flow starts at the response's first sentence (a one-sentence
    response then has no link and scores on its repetition and order alone: 5).
    """
    split = [sentences(r) for r in responses]
    asked = [str(q) for q in questions] if questions is not None else [""] * len(split)
    vocab = list(dict.fromkeys([*(q for q in asked if q.strip()), *(s for p in split for s in p)]))
    index = {s: i for i, s in enumerate(vocab)}
    vectors = embedder.embed(vocab).astype(np.float64) if vocab else np.zeros((0, 1))
    out = np.ones(len(split), dtype=np.float64)
    for i, (parts, q) in enumerate(zip(split, asked, strict=True)):
        chain = ([q] if q.strip() else []) + parts
        if not parts:
            continue  # nothing to read: 1
        if len(chain) == 1:
            out[i] = 5.0
            continue
        out[i] = score(*signals(vectors[[index[s] for s in chain]], question=bool(q.strip())))
    return out
