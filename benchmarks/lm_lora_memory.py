"""Peak memory of LoRA against full fine-tuning of the same checkpoint.

A GPT-2 checkpoint built from a config (no download: 6 blocks of width 512, about 45 M
parameters) is saved to a temporary folder; each mode then runs in a fresh process that
reads it with auditor's loader, prepares it as auditor does (``prepare_model``: LoRA
adapters on c_attn, or every weight trainable) and takes a few AdamW steps on random
tokens through auditor's LM loop. The figure is the process's peak resident memory (CPU)
or ``torch.cuda.max_memory_allocated`` (GPU); the trainable parameters are printed too.
Full fine-tuning holds a gradient and two AdamW moments per weight, LoRA only for its
adapters.

    .venv/bin/python benchmarks/lm_lora_memory.py                 # CPU
    .venv/bin/python benchmarks/lm_lora_memory.py --device cuda   # a GPU
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def write_checkpoint(folder: Path) -> None:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from auditor.train.lm import train_tokenizer

    tokenizer = train_tokenizer([f"word{i} sentence {i % 7}" for i in range(2000)], 1000)
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=128, n_embd=512, n_layer=6, n_head=8)
    GPT2LMHeadModel(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)


def one_mode(folder: str, mode: str, device_name: str) -> dict:
    import resource
    from types import SimpleNamespace

    import numpy as np
    import torch

    from auditor.train.device import resolve_precision
    from auditor.train.lm import fit_lm
    from auditor.train.lm_pretrained import load_checkpoint, prepare_model
    from auditor.train.loop import LoopConfig

    device = torch.device(device_name)
    model, _ = load_checkpoint(folder)
    vocabulary = int(model.config.vocab_size)
    lora = SimpleNamespace(rank=8, alpha=16, dropout=0.0, target_modules=("c_attn",))
    pretrained = SimpleNamespace(fine_tune=mode, lora=lora, freeze=(), learning_rates=())
    model = prepare_model(model, pretrained).to(device)
    training = SimpleNamespace(
        optimizer="adamw",
        learning_rate=1e-4,
        weight_decay=0.0,
        momentum=0.0,
        schedule=SimpleNamespace(name="constant"),
    )
    cfg = LoopConfig(
        task="language_model",
        epochs=1,
        batch_size=8,
        training=training,
        early_stopping=False,
        seed=0,
    )
    ids = np.random.default_rng(0).integers(0, vocabulary, size=(32, 129)).astype(np.int64)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    fit_lm(
        model,
        cfg,
        train_ids=ids,
        train_predicted=np.ones((32, 128), bool),
        val_docs=[list(range(1, 60))],
        context_length=128,
        pad_id=0,
        device=device,
        precision=resolve_precision("fp32", device),
    )
    peak = (
        torch.cuda.max_memory_allocated()
        if device.type == "cuda"
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    )
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return {
        "mode": mode,
        "peak_mb": round(peak / 2**20, 1),
        "trainable": trainable,
        "parameters": total,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(one_mode(args.child[0], args.child[1], args.device)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        write_checkpoint(Path(tmp))
        rows = []
        for mode in ("full", "lora"):
            child = [sys.executable, __file__, "--device", args.device, "--child", tmp, mode]
            done = subprocess.run(child, capture_output=True, text=True)
            if done.returncode:
                print(done.stderr[-3000:])
                return done.returncode
            out = done.stdout.strip().splitlines()[-1]
            rows.append(json.loads(out))
    for r in rows:
        print(
            f"{r['mode']:>4}: peak {r['peak_mb']:,.1f} MB, trainable {r['trainable']:,} of "
            f"{r['parameters']:,} parameters"
        )
    full, lora = rows
    print(f"LoRA / full peak memory: {lora['peak_mb'] / full['peak_mb']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
