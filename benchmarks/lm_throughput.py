"""Language-model training throughput: auditor's LM loop against a hand-written PyTorch loop.

Same data (gensim's Lee background corpus, 300 news documents, tokenized by the byte-level
BPE the engine trains on the train documents, packed into blocks of the context length),
same model (the registry's transformer_lm, seeded alike), same optimizer (AdamW), batch
size and epochs, same CPU threads, in one process. Prints training tokens per second of
both and their ratio; the runs alternate and the best of ``--repeats`` is kept for each,
so a busy machine penalises neither more than the other.

Target: engine >= 0.9x the hand-written loop (training tokens per second; the engine's
figure excludes the validation pass it runs after every epoch for early stopping, which
the hand-written loop does not do; its wall time including that pass is printed too).

    .venv/bin/python benchmarks/lm_throughput.py                  # CPU
    .venv/bin/python benchmarks/lm_throughput.py --device cuda    # a GPU (bf16 autocast)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_RATIO = 0.9


def prepare(args):
    """Tokenizer, packed training blocks and validation documents from the Lee corpus."""
    from gensim.test.utils import datapath

    from auditor.data.corpus import read_documents, split_documents
    from auditor.train.lm import document_ids, token_sequences, train_tokenizer

    docs = read_documents(Path(datapath("lee_background.cor")))
    parts = split_documents(len(docs), validation=0.1, test=0.1, seed=7)
    train = [docs[i] for i in parts["train"]]
    val = [docs[i] for i in parts["validation"]]
    tok = train_tokenizer(train, args.vocabulary)
    train_docs, _ = document_ids(tok, train, max_length=512, truncation="cut")
    val_docs, _ = document_ids(tok, val, max_length=512, truncation="cut")
    ids, predicted = token_sequences(
        train_docs, context_length=args.context, packing=True, pad_id=tok.pad_token_id
    )
    return tok, ids, predicted, val_docs


def model_config(args, tok) -> dict:
    return {
        "architecture": "transformer_lm",
        "vocab_size": len(tok),
        "layers": args.layers,
        "width": args.width,
        "heads": args.heads,
        "context_length": args.context,
        "dropout": 0.0,
        "eos_token_id": int(tok.eos_token_id),
    }


def training_section(args):
    from auditor.spec.typed import section

    return section(
        ("training",),
        optimizer="adamw",
        learning_rate=3e-3,
        batch_size=args.batch_size,
        epochs=args.epochs,
        early_stopping={"enabled": False},
    )


def run_engine(args, tok, ids, predicted, val_docs, device, precision):
    """The engine's LM loop (auditor.train.lm.fit_lm): tokens/s and wall seconds."""
    from auditor.train.architectures import build_model
    from auditor.train.lm import fit_lm
    from auditor.train.loop import LoopConfig
    from auditor.train.seed import seed_everything

    seed_everything(7, device_type=device.type)
    model = build_model(model_config(args, tok)).to(device)
    cfg = LoopConfig(
        task="language_model",
        epochs=args.epochs,
        batch_size=args.batch_size,
        training=training_section(args),
        monitor="loss",
        report_metric="perplexity",
        early_stopping=False,
        seed=7,
    )
    start = time.perf_counter()
    run = fit_lm(
        model,
        cfg,
        train_ids=ids,
        train_predicted=predicted,
        val_docs=val_docs,
        context_length=args.context,
        pad_id=tok.pad_token_id,
        device=device,
        precision=precision,
    )
    return run.tokens_per_second, time.perf_counter() - start


def run_hand(args, tok, ids, predicted, device, precision):
    """A minimal PyTorch loop: shuffled index batches, next-token cross-entropy, AdamW."""
    import contextlib

    import torch
    import torch.nn.functional as F

    from auditor.train.architectures import build_model
    from auditor.train.seed import seed_everything

    seed_everything(7, device_type=device.type)
    model = build_model(model_config(args, tok)).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    x_all = torch.from_numpy(ids).to(device)
    n, bs = x_all.shape[0], args.batch_size
    autocast = (
        torch.autocast(device_type=device.type, dtype=precision.autocast_dtype)
        if precision.autocast_dtype is not None
        else contextlib.nullcontext()
    )
    tokens, seconds = 0, 0.0
    for _ in range(args.epochs):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        order = torch.randperm(n, device=device)
        for step in range(0, n, bs):
            xb = x_all[order[step : step + bs]]
            with autocast:
                logits = model(input_ids=xb[:, :-1]).logits.float()
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), xb[:, 1:].reshape(-1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            tokens += xb.shape[0] * (xb.shape[1] - 1)
        float(loss.item())
        seconds += time.perf_counter() - t0
    return tokens / seconds


def main(argv: list[str] | None = None) -> int:
    import torch

    from auditor.train.device import cpu_threads, resolve_device, resolve_precision

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--heads", type=int, default=2)
    parser.add_argument("--context", type=int, default=128)
    parser.add_argument("--vocabulary", type=int, default=2000)
    args = parser.parse_args(argv)

    device = resolve_device(args.device)
    precision = resolve_precision("auto", device)
    tok, ids, predicted, val_docs = prepare(args)
    threads = cpu_threads(
        None, device=device, batch_size=args.batch_size * args.context, parameters=10**6
    )
    if threads:
        torch.set_num_threads(threads)
    engine, hand, walls = [], [], []
    for _ in range(args.repeats):
        rate, wall = run_engine(args, tok, ids, predicted, val_docs, device, precision)
        engine.append(rate)
        walls.append(wall)
        hand.append(run_hand(args, tok, ids, predicted, device, precision))
    tokens = int(predicted.sum()) * args.epochs
    best_engine, best_hand = max(engine), max(hand)
    ratio = best_engine / best_hand
    print(
        f"device {device} ({precision.name}), threads {torch.get_num_threads()}, "
        f"{ids.shape[0]} blocks x {args.context} tokens, {tokens:,} training tokens per run, "
        f"transformer_lm {args.layers} layers x {args.width} wide, batch {args.batch_size}"
    )
    print(f"engine       {best_engine:>10,.0f} tokens/s (best of {args.repeats})")
    print(f"hand-written {best_hand:>10,.0f} tokens/s (best of {args.repeats})")
    print(
        f"ratio        {ratio:>10.2f}x  (target >= {TARGET_RATIO}x: "
        f"{'met' if ratio >= TARGET_RATIO else 'NOT met'})"
    )
    print(
        f"engine wall time with its validation pass each epoch: {min(walls):.2f} s for "
        f"{tokens:,} tokens ({tokens / min(walls):,.0f} tokens/s)"
    )
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
