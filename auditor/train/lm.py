"""Training a language model from scratch on a corpus: :func:`train_language_model`.

    train documents --train_tokenizer--> byte-level BPE (data.text_processing.vocabulary_size)
    documents --token_sequences--> packed blocks of context_length + 1 tokens (or one padded
               document a row), preassembled on the device once
    blocks --fit_lm--> transformer_lm trained with the engine's guarantees
    model x documents --document_nll--> per-document token NLL sums and token counts

Only the train split reaches the tokenizer and the weights; the validation split decides
early stopping; the test split is never read here (a test changes it and compares weights).

Why a loop of its own: :func:`auditor.train.loop.fit` takes a float feature matrix and a
task loss (cross-entropy over classes, MSE) and scores validation with the performance
catalogue. A language model's batch is a block of token ids, its loss is the next-token
cross-entropy over the predicted positions, and its validation figure is perplexity.
This loop reuses everything else: the device and precision choice, seeding and
deterministic algorithms, the optimizer and schedule registries, bf16 autocast, and the
engine's epoch tracker (history rows, early stopping on validation loss with patience,
min_delta and the best weights restored, the time budget, non-finite losses).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from auditor.types import Dataset, Spec

EOS = "<|endoftext|>"
#: Windows per inference batch when scoring documents.
EVAL_WINDOWS = 64
LM_INFO = "training.json"  # auditor's description of the run beside the transformers files


@dataclass(frozen=True)
class LMSettings:
    """What the language-model path reads from the spec, resolved once."""

    vocabulary_size: int
    max_length: int | None
    truncation: str  # "cut" | "drop"
    packing: bool
    layers: int
    width: int
    heads: int
    context_length: int
    dropout: float


def lm_settings(spec: Spec) -> LMSettings:
    """The spec's tokenizer, text-processing and architecture settings."""
    processing = spec.data.text_processing
    t = spec.model.transformer
    return LMSettings(
        vocabulary_size=int(processing.vocabulary_size),
        max_length=None if processing.max_length is None else int(processing.max_length),
        truncation=processing.truncation,
        packing=bool(processing.packing),
        layers=int(t.layers),
        width=int(t.width),
        heads=int(t.heads),
        context_length=int(t.context_length),
        dropout=float(spec.model.dropout),
    )


# ------------------------------------------------------------------ tokenizer
def train_tokenizer(texts: list[str], vocabulary_size: int):
    """A byte-level BPE tokenizer trained on ``texts`` (the train split only).

    Returns a transformers ``PreTrainedTokenizerFast`` whose end-of-text token also serves
    as the beginning, padding and unknown token (as GPT-2's does).
    """
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        texts,
        vocab_size=int(vocabulary_size),
        min_frequency=2,
        special_tokens=[EOS],
        show_progress=False,
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer,
        bos_token=EOS,
        eos_token=EOS,
        unk_token=EOS,
        pad_token=EOS,
    )


def encode(tokenizer, texts: list[str]) -> list[list[int]]:
    """Token ids of each text (no special tokens)."""
    if not texts:
        return []
    return [e.ids for e in tokenizer.backend_tokenizer.encode_batch(list(texts))]


def document_ids(
    tokenizer, texts: list[str], *, max_length: int | None, truncation: str
) -> tuple[list[list[int]], int]:
    """Each document as ``[eos] + tokens + [eos]`` after truncation; (ids, documents cut or
    dropped). ``truncation: cut`` keeps the first ``max_length`` tokens; ``drop`` leaves out
    a longer document (an empty list in its place, so positions stay aligned)."""
    eos = tokenizer.eos_token_id
    out, changed = [], 0
    for ids in encode(tokenizer, texts):
        if max_length is not None and len(ids) > max_length:
            changed += 1
            ids = [] if truncation == "drop" else ids[:max_length]
            if not ids:
                out.append([])
                continue
        out.append([eos, *ids, eos])
    return out, changed


def token_sequences(
    docs: list[list[int]], *, context_length: int, packing: bool, pad_id: int
) -> tuple[np.ndarray, np.ndarray]:
    """Training rows: (ids (N, L) int64, predicted (N, L - 1) bool).

    Packing: the documents joined into one stream and cut into blocks of
    ``context_length + 1`` tokens (every token predicted once, no padding). Without packing:
    one document a row (its first ``context_length + 1`` tokens), padded on the right,
    padding never predicted.
    """
    width = context_length + 1
    docs = [d for d in docs if len(d) > 1]
    if packing:
        stream = np.fromiter(
            (t for i, d in enumerate(docs) for t in (d if i == 0 else d[1:])), dtype=np.int64
        )
        blocks = max((len(stream) - 1) // context_length, 0)
        if blocks == 0:
            return np.zeros((0, width), np.int64), np.zeros((0, context_length), bool)
        starts = np.arange(blocks) * context_length
        ids = stream[starts[:, None] + np.arange(width)[None, :]]
        return ids, np.ones((blocks, context_length), dtype=bool)
    ids = np.full((len(docs), width), pad_id, dtype=np.int64)
    predicted = np.zeros((len(docs), context_length), dtype=bool)
    for i, d in enumerate(docs):
        d = d[:width]
        ids[i, : len(d)] = d
        predicted[i, : len(d) - 1] = True
    return ids, predicted


def document_windows(
    docs: list[list[int]], context_length: int, pad_id: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every document cut into windows of ``context_length + 1`` tokens that overlap by one,
    so each token after the first is predicted exactly once: (ids, predicted, document)."""
    width = context_length + 1
    rows, masks, owner = [], [], []
    for k, d in enumerate(docs):
        for start in range(0, max(len(d) - 1, 0), context_length):
            piece = d[start : start + width]
            row = np.full(width, pad_id, dtype=np.int64)
            row[: len(piece)] = piece
            mask = np.zeros(context_length, dtype=bool)
            mask[: len(piece) - 1] = True
            rows.append(row)
            masks.append(mask)
            owner.append(k)
    if not rows:
        return (
            np.zeros((0, width), np.int64),
            np.zeros((0, context_length), bool),
            np.zeros(0, np.int64),
        )
    return np.stack(rows), np.stack(masks), np.asarray(owner, dtype=np.int64)


def token_losses(model, ids: torch.Tensor, predicted: torch.Tensor) -> torch.Tensor:
    """Next-token negative log-likelihood at every predicted position (0 elsewhere), (N, L-1)."""
    import torch.nn.functional as F

    logits = model(input_ids=ids[:, :-1]).logits.float()
    nll = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="none"
    ).view(ids.shape[0], -1)
    return nll * predicted


def next_token_loss(model, ids: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy over every position of ``ids`` (packed blocks)."""
    import torch.nn.functional as F

    logits = model(input_ids=ids[:, :-1]).logits.float()
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))


def document_nll(
    model,
    docs: list[list[int]],
    *,
    context_length: int,
    pad_id: int,
    device: torch.device,
    autocast=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per document: the sum of token NLLs (nats) and the number of predicted tokens.

    Perplexity over a set of documents is ``exp(sum(nll) / sum(tokens))``; resampling
    documents resamples both sums, which is how the fit checks draw their intervals.
    """
    import contextlib

    import torch

    ids, predicted, owner = document_windows(docs, context_length, pad_id)
    sums = np.zeros(len(docs), dtype=np.float64)
    counts = np.zeros(len(docs), dtype=np.int64)
    if ids.shape[0] == 0:
        return sums, counts
    np.add.at(counts, owner, predicted.sum(axis=1))
    was_training = model.training
    model.eval()
    ctx = autocast if autocast is not None else contextlib.nullcontext()
    per_window = []
    try:
        with torch.inference_mode(), ctx:
            for i in range(0, ids.shape[0], EVAL_WINDOWS):
                x = torch.from_numpy(ids[i : i + EVAL_WINDOWS]).to(device)
                m = torch.from_numpy(predicted[i : i + EVAL_WINDOWS]).to(device)
                per_window.append(token_losses(model, x, m).sum(dim=1).double().cpu())
    finally:
        model.train(was_training)
    np.add.at(sums, owner, torch.cat(per_window).numpy())
    return sums, counts


def greedy_completions(
    model, prefixes: np.ndarray, steps: int, *, device: torch.device
) -> np.ndarray:
    """Greedy continuations (``steps`` tokens) of equal-length prefixes, (n, steps).

    Each step runs the whole sequence again (no key-value cache: prefixes and
    continuations are short, and the loop needs no cache API of a given transformers
    version).
    """
    import torch

    if prefixes.shape[0] == 0:
        return np.zeros((0, steps), dtype=np.int64)
    was_training = model.training
    model.eval()
    out = []
    try:
        with torch.inference_mode():
            for i in range(0, prefixes.shape[0], EVAL_WINDOWS):
                x = torch.from_numpy(prefixes[i : i + EVAL_WINDOWS]).to(device)
                for _ in range(steps):
                    nxt = model(input_ids=x).logits[:, -1].argmax(-1)
                    x = torch.cat([x, nxt[:, None]], dim=1)
                out.append(x[:, prefixes.shape[1] :].cpu().numpy())
    finally:
        model.train(was_training)
    return np.concatenate(out).astype(np.int64)


# ------------------------------------------------------------------ the loop
@dataclass
class LMLoopResult:
    """The tracker's result (history, early stopping) and the throughput."""

    result: Any  # auditor.train.loop.LoopResult
    tokens_trained: int
    tokens_per_second: float


def fit_lm(
    model,
    cfg,
    *,
    train_ids: np.ndarray,
    train_predicted: np.ndarray,
    val_docs: list[list[int]],
    context_length: int,
    pad_id: int,
    device: torch.device,
    precision,
    progress=None,
) -> LMLoopResult:
    """Train ``model`` in place on preassembled token blocks; the engine's epoch tracker
    records each epoch, stops early on validation loss and restores the best weights.

    Parameters
    ----------
    model : transformers causal LM
        On the device already.
    cfg : auditor.train.loop.LoopConfig
        epochs, batch size, training section, early stopping, time budget, clipping, seed.
    train_ids, train_predicted : ndarray
        (N, L) token ids and (N, L - 1) predicted positions (:func:`token_sequences`).
    val_docs : list of list of int
        Validation documents' ids, scored whole after every epoch (validation loss =
        their summed NLL over their predicted tokens).
    """
    import torch
    from torch import nn

    from auditor.train.loop import _autocast, _batching, _EpochTracker
    from auditor.train.optim import build_optimizer, build_schedule

    ids = torch.from_numpy(train_ids).to(device)
    predicted = torch.from_numpy(train_predicted.astype(np.float32)).to(device)
    every_token = bool(train_predicted.all())
    n = ids.shape[0]
    bs, steps = _batching(n, cfg.batch_size)
    params = list(model.parameters())
    optimizer = build_optimizer(params, cfg.training)
    schedule = build_schedule(optimizer, cfg.training, epochs=cfg.epochs, steps_per_epoch=steps)
    autocast = _autocast(precision, device)
    scaler = torch.amp.GradScaler(device.type) if precision.needs_scaler else None
    generator = torch.Generator(device=device)
    generator.manual_seed(int(cfg.seed))
    tracker = _EpochTracker(model, cfg, SimpleNamespace(optimizer=optimizer, schedule=schedule))
    bar = progress.bar(total=cfg.epochs, desc="train") if progress is not None else None
    tokens_total, seconds_training = 0, 0.0
    start = time.perf_counter()
    model.train()
    try:
        for epoch in range(1, cfg.epochs + 1):
            t0 = time.perf_counter()
            order = torch.randperm(n, generator=generator, device=device)
            loss_sum = torch.zeros((), device=device, dtype=torch.float64)
            token_count = torch.zeros((), device=device, dtype=torch.float64)
            for step in range(steps):
                idx = order[step * bs : (step + 1) * bs]
                xb = ids.index_select(0, idx)
                if every_token:  # packed blocks: the plain mean, no mask to apply
                    with autocast:
                        loss = next_token_loss(model, xb)
                    count = float(xb.shape[0] * (xb.shape[1] - 1))
                    summed = loss.detach().double() * count
                else:
                    mb = predicted.index_select(0, idx)
                    with autocast:
                        losses = token_losses(model, xb, mb)
                    count = mb.sum()
                    loss = losses.sum() / count.clamp(min=1.0)
                    summed = losses.detach().sum().double()
                optimizer.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(loss).backward()
                    if cfg.gradient_clip:
                        scaler.unscale_(optimizer)
                        nn.utils.clip_grad_norm_(params, cfg.gradient_clip)
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    loss.backward()
                    if cfg.gradient_clip:
                        nn.utils.clip_grad_norm_(params, cfg.gradient_clip)
                    optimizer.step()
                schedule.after_batch()
                loss_sum += summed
                token_count += count
            tokens = int(token_count.item())  # one host read per epoch
            train_seconds = time.perf_counter() - t0
            train_loss = float(loss_sum.item()) / max(tokens, 1)
            sums, counts = document_nll(
                model,
                val_docs,
                context_length=context_length,
                pad_id=pad_id,
                device=device,
                autocast=autocast,
            )
            val_loss = float(sums.sum() / max(counts.sum(), 1))
            val_ppl = math.exp(min(val_loss, 700.0))
            tokens_total += tokens
            seconds_training += train_seconds
            rate = tokens / max(train_seconds, 1e-9)
            tracker.record(epoch, t0, train_loss, val_loss, val_ppl)
            tracker.result.history[-1]["tokens_per_second"] = round(rate, 1)
            if bar is not None:
                bar.update(1, loss=train_loss, val_ppl=val_ppl, tok_s=f"{rate:,.0f}")
            if tracker.should_stop(epoch, train_loss, val_loss, start):
                break
    finally:
        if bar is not None:
            bar.close()
    tracker.restore_best()
    model.eval()
    tracker.result.seconds = time.perf_counter() - start
    return LMLoopResult(tracker.result, tokens_total, tokens_total / max(seconds_training, 1e-9))


def lm_loop_config(spec: Spec):
    """The engine's LoopConfig for a language model: early stopping watches the loss."""
    from auditor.train.loop import LoopConfig

    training, stopping = spec.training, spec.training.early_stopping
    return LoopConfig(
        task="language_model",
        epochs=int(training.epochs),
        batch_size=int(training.batch_size),
        training=training,
        monitor="loss",
        report_metric="perplexity",
        early_stopping=bool(stopping.enabled),
        patience=int(stopping.patience),
        min_delta=float(stopping.min_delta),
        restore_best=bool(stopping.restore_best),
        time_budget=training.time_budget,
        gradient_clip=training.gradient_clip,
        seed=int(training.seed),
    )


def lm_model_config(settings: LMSettings, tokenizer) -> dict[str, Any]:
    """The architecture registry's config of the declared transformer."""
    return {
        "architecture": "transformer_lm",
        "vocab_size": len(tokenizer),
        "layers": settings.layers,
        "width": settings.width,
        "heads": settings.heads,
        "context_length": settings.context_length,
        "dropout": settings.dropout,
        "eos_token_id": int(tokenizer.eos_token_id),
    }


def train_language_model(spec: Spec, dataset: Dataset, *, progress=None) -> LMPredictor:
    """Train the spec's transformer_lm on the dataset's train split.

    The tokenizer is trained on the train documents alone; the validation documents decide
    early stopping; the test documents are not read.

    Raises
    ------
    DeviceError
        The requested device or precision is not available (before any training).
    """
    from auditor.data.corpus import TEXT_COLUMN
    from auditor.train.architectures import build_model, count_parameters
    from auditor.train.device import (
        cpu_threads,
        device_name,
        resolve_device,
        resolve_precision,
        torch_threads,
    )
    from auditor.train.seed import seed_everything

    training = spec.training
    settings = lm_settings(spec)
    device = resolve_device(training.device, location=spec.locate(("training", "device")))
    precision = resolve_precision(
        training.precision, device, location=spec.locate(("training", "precision"))
    )
    seed = int(training.seed)
    started = time.perf_counter()
    seed_everything(seed, deterministic=bool(training.deterministic), device_type=device.type)
    train_texts = dataset.frames["train"][TEXT_COLUMN].tolist()
    val_texts = dataset.frames["validation"][TEXT_COLUMN].tolist()
    tokenizer = train_tokenizer(train_texts, settings.vocabulary_size)
    cut = dict(max_length=settings.max_length, truncation=settings.truncation)
    train_docs, train_cut = document_ids(tokenizer, train_texts, **cut)
    val_docs, _ = document_ids(tokenizer, val_texts, **cut)
    pad = int(tokenizer.pad_token_id)
    train_ids, train_predicted = token_sequences(
        train_docs, context_length=settings.context_length, packing=settings.packing, pad_id=pad
    )
    config = lm_model_config(settings, tokenizer)
    seed_everything(seed, deterministic=bool(training.deterministic), device_type=device.type)
    model = build_model(config).to(device)
    cfg = lm_loop_config(spec)
    threads = cpu_threads(
        training.cpu_threads,
        device=device,
        batch_size=cfg.batch_size * settings.context_length,
        parameters=count_parameters(model),
    )
    with torch_threads(threads):
        run = fit_lm(
            model,
            cfg,
            train_ids=train_ids,
            train_predicted=train_predicted,
            val_docs=val_docs,
            context_length=settings.context_length,
            pad_id=pad,
            device=device,
            precision=precision,
            progress=progress,
        )
    result = run.result
    info = {
        "architecture": "transformer_lm",
        "config": config,
        "device": str(device),
        "device_name": device_name(device),
        "precision": precision.name,
        "epochs_run": result.epochs_run,
        "best_epoch": result.best_epoch,
        "kept_epoch": result.kept_epoch,
        "best_value": result.best_value,
        "stopped_early": result.stopped_early,
        "stop_reason": result.stop_reason,
        "monitor": "loss",
        "val_metric_name": "perplexity",
        "train_seconds": round(time.perf_counter() - started, 4),
        "train_on": "train",
        "train_documents": len(train_texts),
        "validation_documents": len(val_texts),
        "train_sequences": int(train_ids.shape[0]),
        "documents_truncated": int(train_cut),
        "tokens_trained": int(run.tokens_trained),
        "tokens_per_second": round(run.tokens_per_second, 1),
        "tokenizer": {"kind": "byte_level_bpe", "vocabulary_size": len(tokenizer)},
        "seed": seed,
        "cpu_threads": threads,
        "deterministic": bool(training.deterministic) or device.type == "cpu",
        "optimizer": training.optimizer,
        "schedule": training.schedule.name,
    }
    return LMPredictor(
        model,
        tokenizer,
        settings=settings,
        config=config,
        device=device,
        precision=precision,
        history=result.history,
        info=info,
    )


# ------------------------------------------------------------------ the trained model
@contextlib.contextmanager
def _quiet_transformers():
    """No progress bars from transformers while it writes files (the run has its own)."""
    from transformers.utils import logging as hf_logging

    was = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was:
            hf_logging.enable_progress_bar()


class LMPredictor:
    """A trained language model and its tokenizer, behind the Predictor interface.

    It predicts no scores (``predict`` raises): the evaluate stage scores documents with
    :meth:`nll` and completes prefixes with :meth:`complete`.
    """

    kind = "trained"
    has_scores = False

    def __init__(
        self,
        model,
        tokenizer,
        *,
        settings: LMSettings,
        config: dict[str, Any],
        device,
        precision=None,
        history: list[dict[str, Any]] | None = None,
        info: dict[str, Any] | None = None,
    ):
        import torch

        from auditor.train.architectures import count_parameters

        self.model = model
        self.tokenizer = tokenizer
        self.settings = settings
        self.config = config
        self.device = device
        self.precision = precision
        self.history = list(history or [])
        self.info = dict(info or {})
        self.info["parameters"] = count_parameters(model)
        self.info["fingerprint"] = self.fingerprint()
        self.info.setdefault("torch", torch.__version__)
        self.model.eval()

    def predict(self, dataset, split: str) -> np.ndarray:  # pragma: no cover - not scored
        raise TypeError("a language model is judged on its documents' likelihood, not scores")

    def documents(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each document as trained (truncated as declared)."""
        docs, _ = document_ids(
            self.tokenizer,
            texts,
            max_length=self.settings.max_length,
            truncation=self.settings.truncation,
        )
        return docs

    def nll(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per document: summed token NLL and token count (:func:`document_nll`)."""
        from auditor.train.loop import _autocast

        autocast = _autocast(self.precision, self.device) if self.precision else None
        return document_nll(
            self.model,
            self.documents(texts),
            context_length=self.settings.context_length,
            pad_id=int(self.tokenizer.pad_token_id),
            device=self.device,
            autocast=autocast,
        )

    def complete(self, prefixes: np.ndarray, steps: int) -> np.ndarray:
        """Greedy continuations of equal-length token prefixes."""
        return greedy_completions(self.model, prefixes, steps, device=self.device)

    # -- artifacts
    def state(self) -> dict[str, Any]:
        """The weights on the CPU (tied tensors once each), for fingerprints and comparisons."""
        seen, out = set(), {}
        for k, v in self.model.state_dict().items():
            if v.data_ptr() in seen:
                continue
            seen.add(v.data_ptr())
            out[k] = v.detach().to("cpu").contiguous().clone()
        return out

    def fingerprint(self) -> str:
        from safetensors.torch import save

        from auditor.fingerprint import sha256_bytes

        return sha256_bytes(save(self.state()))

    def save(self, out_dir: Path) -> dict[str, Path]:
        """Write a folder transformers loads (safetensors weights, config.json, tokenizer
        files) and ``training.json`` (auditor's config, info and history); each file is
        written to a temporary folder first and moved into place."""
        import json
        import os
        import shutil
        import tempfile

        from auditor.atomic import write_bytes
        from auditor.results import jsonable

        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        files: dict[str, Path] = {}
        with tempfile.TemporaryDirectory(dir=out_dir, prefix=".saving-") as tmp:
            with _quiet_transformers():
                self.model.save_pretrained(tmp, safe_serialization=True)
                self.tokenizer.save_pretrained(tmp)
            for name in sorted(os.listdir(tmp)):
                os.chmod(Path(tmp) / name, 0o644)
                os.replace(Path(tmp) / name, out_dir / name)
                files[name.rsplit(".", 1)[0]] = out_dir / name
            shutil.rmtree(tmp, ignore_errors=True)
        description = {
            "format_version": 1,
            "config": self.config,
            "task": "language_model",
            "settings": dataclasses.asdict(self.settings),
            "fingerprint": self.info.get("fingerprint"),
            "info": self.info,
            "history": self.history,
        }
        files["training"] = out_dir / LM_INFO
        write_bytes(files["training"], json.dumps(jsonable(description), indent=2).encode())
        return files
