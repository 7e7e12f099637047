"""The evaluate stage's part for a declared training corpus (``data.corpus``).

    data.corpus --build_index--> CorpusIndex (once per run)
    each split's response, question and reference columns x CorpusIndex --scan--> Scan
    the rows the checks show --corpus_excerpt--> the corpus text around each span

:func:`scan_corpus` stores one :class:`CorpusEvidence` per split in
``Evaluation.text[split]["corpus"]`` and what was indexed in ``Evaluation.notes["corpus"]``;
the ``memorization`` and ``contamination`` checks (:mod:`auditor.checks.text_memorization`)
only read them, so a check neither opens the corpus nor indexes it. The excerpts are read
for the rows each role's ranking puts first (:func:`worst_order`, the rows the checks show
as examples): a row the contamination check shows first among rows is also among the
first of the role it is shown for (its share there is its highest), so every shown row has
its excerpt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from auditor.text.memorization import Scan, build_index, corpus_excerpt, scan

#: Where the evaluate stage puts a split's evidence (``Evaluation.text[split]``).
EVALUATION_KEY = "corpus"
#: The text roles scanned: responses for memorization, the others for contamination.
ROLES = ("response", "question", "reference")
EXCERPT_CHARS = 240


@dataclass
class CorpusEvidence:
    """One split's scans of the declared corpus and the corpus text the checks show."""

    scans: dict[str, Scan]
    excerpts: dict[str, dict[int, str]] = field(default_factory=dict)  # role -> row -> text
    corpus: dict[str, Any] = field(default_factory=dict)  # what was indexed (notes["corpus"])

    def excerpt(self, role: str, row: int) -> str:
        """The corpus text around ``row``'s span of ``role`` ("" where none was kept)."""
        return self.excerpts.get(role, {}).get(int(row), "")


def ranking(found: Scan, role: str) -> np.ndarray:
    """Each row's key in ``role``'s ranking: a response's longest reproduced span, else the
    share of a prompt's or reference's n-grams in the corpus (-1 where too short)."""
    if role == "response":
        return found.longest.astype(np.float64)
    return np.nan_to_num(np.asarray(found.share, dtype=np.float64), nan=-1.0)


def worst_order(key: np.ndarray, limit: int) -> np.ndarray:
    """The first ``limit`` rows by ``key``, largest first (ties: in row order)."""
    return np.argsort(-np.asarray(key, dtype=np.float64), kind="stable")[: int(limit)]


def scan_corpus(spec, dataset, evaluation) -> None:
    """Index ``data.corpus`` once and scan every split's text columns into ``evaluation``.

    Nothing happens without ``data.corpus``. A corpus that cannot be read is one located
    error (:func:`auditor.text.memorization.build_index`).
    """
    corpus = spec.data.corpus
    if corpus is None:
        return
    settings = spec.evaluation.memorization
    index = build_index(
        spec.resolve_path(corpus.path),
        ngram=int(settings.ngram),
        fmt=corpus.format,
        field=corpus.field,
        encoding=spec.data.encoding,
    )
    note = {
        "corpus_documents": index.documents_read,
        "corpus_words": index.words_read,
        "corpus_bytes": index.bytes_read,
        "ngram": index.ngram,
    }
    named = spec.data.text.named()
    roles = [r for r in ROLES if r in named]
    examples = int(settings.examples)
    for split in dataset.splits:
        frame = dataset.frames[split]
        scans = {r: scan(index, frame[named[r]].tolist()) for r in roles}
        excerpts: dict[str, dict[int, str]] = {}
        for r, found in scans.items():
            kept = {}
            for i in worst_order(ranking(found, r), examples):
                span = found.spans[int(i)]
                if span is not None:
                    kept[int(i)] = corpus_excerpt(index, span)[:EXCERPT_CHARS]
            excerpts[r] = kept
        evaluation.text.setdefault(split, {})[EVALUATION_KEY] = CorpusEvidence(
            scans, excerpts, note
        )
    evaluation.notes["corpus"] = note


def evidence(evaluation, split: str) -> CorpusEvidence | None:
    """What the evaluate stage found of the corpus in ``split`` (None: not scanned)."""
    return (evaluation.text.get(split) or {}).get(EVALUATION_KEY)
