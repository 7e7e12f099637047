"""Throughput of the local-model text estimators on CPU (issue 12's benchmark).

Rows of the bundled 'support' example (question, passage, response, reference):

- the bundled all-MiniLM-L6-v2 (checked against its pinned SHA-256): rows per second of
  the similarity estimator (response and reference embedded, each distinct text once) and
  of embedding support (every response and passage sentence embedded);
- perplexity under a small GPT-2 built here with random weights (2 layers, width 64, a
  word-level vocabulary of the responses): rows per second of the per-row loss statistics.

Loading is timed apart from scoring. No target is set by the issue; the figures go in the
note. Run: ``.venv/bin/python benchmarks/text_embeddings.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def _rows(rows: int):
    from auditor.text.example import support

    return support(np.random.default_rng(0), rows)


def embedding_rows_per_second(rows: int = 2000, *, batch_size: int = 64) -> dict[str, float]:
    """Rows per second of the bundled embedder's estimators on CPU; prints the figures."""
    from auditor.text import embeddings

    frame = _rows(rows)
    start = time.perf_counter()
    embedder = embeddings.load_embedder(device="cpu", batch_size=batch_size)
    loaded = time.perf_counter() - start
    embedder._memo.clear()
    start = time.perf_counter()
    embeddings.row_cosines(embedder, frame["response"].tolist(), frame["reference"].tolist())
    similarity = time.perf_counter() - start
    embedder._memo.clear()
    start = time.perf_counter()
    embeddings.embedding_support(embedder, frame["response"].tolist(), frame["context"].tolist())
    support = time.perf_counter() - start
    texts = len(set(frame["response"]) | set(frame["reference"]))
    out = {
        "load_s": loaded,
        "similarity_rows_per_s": rows / similarity,
        "similarity_texts_per_s": texts / similarity,
        "support_rows_per_s": rows / support,
    }
    print(
        f"all-MiniLM-L6-v2 on CPU, {rows} rows (batch {batch_size}): load {loaded:.1f} s; "
        f"similarity {out['similarity_rows_per_s']:.0f} rows/s ({texts} distinct texts, "
        f"{out['similarity_texts_per_s']:.0f} texts/s); embedding support "
        f"{out['support_rows_per_s']:.0f} rows/s"
    )
    return out


def _small_gpt2(folder: Path, texts) -> Path:
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    words = dict.fromkeys(w for t in texts for w in t.split())
    vocab = {w: i for i, w in enumerate(["<unk>", "<eos>", *words])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", bos_token="<eos>", eos_token="<eos>"
    )
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(vocab), n_positions=256, n_embd=64, n_layer=2, n_head=2,
        bos_token_id=1, eos_token_id=1,
    )  # fmt: skip
    hf.save_pretrained(folder)
    GPT2LMHeadModel(config).save_pretrained(folder)
    return folder


def perplexity_rows_per_second(rows: int = 2000, *, batch_size: int = 32) -> dict[str, float]:
    """Rows per second of the perplexity statistics under a small GPT-2 on CPU; prints them."""
    from auditor.text import perplexity

    responses = _rows(rows)["response"].tolist()
    with tempfile.TemporaryDirectory() as tmp:
        folder = _small_gpt2(Path(tmp), responses)
        lm = perplexity.load_language_model(folder, device="cpu", batch_size=batch_size)
        start = time.perf_counter()
        stats = perplexity.loss_stats(lm, responses)
        seconds = time.perf_counter() - start
    out = {"perplexity_rows_per_s": rows / seconds, "tokens_per_s": stats[:, 1].sum() / seconds}
    print(
        f"perplexity, GPT-2 2x64 on CPU, {rows} rows (batch {batch_size}): "
        f"{out['perplexity_rows_per_s']:.0f} rows/s ({out['tokens_per_s']:.0f} tokens/s)"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()
    embedding_rows_per_second(args.rows)
    perplexity_rows_per_second(args.rows)


if __name__ == "__main__":
    main()
