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
    docs, changed, _ = learned_documents(
        tokenizer, texts, max_length=max_length, truncation=truncation
    )
    return docs, changed


def learned_documents(
    tokenizer,
    texts: list[str],
    *,
    max_length: int | None,
    truncation: str,
    prompt_chars: list[int] | None = None,
) -> tuple[list[list[int]], int, list[int] | None]:
    """:func:`document_ids`, and with ``prompt_chars`` (each document's prompt, in
    characters) where its response starts: (ids, documents cut or dropped, starts).

    The prompt and the response are tokenized apart and joined, so no token straddles the
    two; a pair longer than ``max_length`` is cut at the start of its prompt (the response
    is kept whole, cut at its end only when it alone is too long). ``starts[k]`` is the
    index in document ``k`` of its first learned token (the response's first; the tokens
    before it are given, never predicted). Without prompts
    ``starts`` is None: every token after the leading end-of-text is learned.
    """
    eos = tokenizer.eos_token_id
    if prompt_chars is None:
        pieces = [(ids, 0) for ids in encode(tokenizer, texts)]
    else:
        prompts = encode(tokenizer, [t[:c] for t, c in zip(texts, prompt_chars, strict=True)])
        replies = encode(tokenizer, [t[c:] for t, c in zip(texts, prompt_chars, strict=True)])
        pieces = [(a + b, len(a)) for a, b in zip(prompts, replies, strict=True)]
    out, starts, changed = [], [], 0
    for ids, given in pieces:
        if max_length is not None and len(ids) > max_length:
            changed += 1
            if truncation == "cut" and prompt_chars is not None:
                # a pair keeps its response whole: the prompt loses its first tokens
                cut = min(len(ids) - max_length, given)
                ids, given = ids[cut:], given - cut
            ids = [] if truncation == "drop" else ids[:max_length]
            if not ids:
                out.append([])
                starts.append(1)
                continue
        out.append([eos, *ids, eos])
        starts.append(1 + given)
    return out, changed, (starts if prompt_chars is not None else None)


def _learned_mask(length: int, start: int, width: int, offset: int = 0) -> np.ndarray:
    """Predicted positions of a row: target ``offset + 1 + j`` is learned when it is a token
    of the document (< ``length``) at or after ``start``; (width,) bool."""
    targets = offset + 1 + np.arange(width)
    return (targets < length) & (targets >= start)


def token_sequences(
    docs: list[list[int]],
    *,
    context_length: int,
    packing: bool,
    pad_id: int,
    starts: list[int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Training rows: (ids (N, L) int64, predicted (N, L - 1) bool).

    Packing: the documents joined into one stream and cut into blocks of
    ``context_length + 1`` tokens (every token predicted once, no padding). Without packing:
    one document a row (its first ``context_length + 1`` tokens), padded on the right,
    padding never predicted; with ``starts`` (:func:`learned_documents`) only the tokens
    from each document's start on (its response) are predicted.
    """
    width = context_length + 1
    if starts is None:
        starts = [1] * len(docs)
    kept = [(d, s) for d, s in zip(docs, starts, strict=True) if len(d) > 1]
    docs, starts = [d for d, _ in kept], [s for _, s in kept]
    if packing:
        stream = np.fromiter(
            (t for i, d in enumerate(docs) for t in (d if i == 0 else d[1:])), dtype=np.int64
        )
        blocks = max((len(stream) - 1) // context_length, 0)
        if blocks == 0:
            return np.zeros((0, width), np.int64), np.zeros((0, context_length), bool)
        offsets = np.arange(blocks) * context_length
        ids = stream[offsets[:, None] + np.arange(width)[None, :]]
        return ids, np.ones((blocks, context_length), dtype=bool)
    ids = np.full((len(docs), width), pad_id, dtype=np.int64)
    predicted = np.zeros((len(docs), context_length), dtype=bool)
    for i, (d, s) in enumerate(zip(docs, starts, strict=True)):
        d = d[:width]
        ids[i, : len(d)] = d
        predicted[i] = _learned_mask(len(d), s, context_length)
    return ids, predicted


def document_windows(
    docs: list[list[int]],
    context_length: int,
    pad_id: int,
    starts: list[int] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every document cut into windows of ``context_length + 1`` tokens that overlap by one,
    so each token after the first is predicted exactly once: (ids, predicted, document).
    With ``starts``, only each document's tokens from its start on count."""
    width = context_length + 1
    rows, masks, owner = [], [], []
    for k, d in enumerate(docs):
        first = 1 if starts is None else starts[k]
        for start in range(0, max(len(d) - 1, 0), context_length):
            piece = d[start : start + width]
            row = np.full(width, pad_id, dtype=np.int64)
            row[: len(piece)] = piece
            mask = _learned_mask(len(d), first, context_length, offset=start)
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
    starts: list[int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per document: the sum of token NLLs (nats) and the number of predicted tokens (with
    ``starts``: of its learned tokens, the response).

    Perplexity over a set of documents is ``exp(sum(nll) / sum(tokens))``; resampling
    documents resamples both sums, which is how the fit checks draw their intervals.
    """
    import contextlib

    import torch

    ids, predicted, owner = document_windows(docs, context_length, pad_id, starts)
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
    same_weights: bool | None = None  # data-parallel: every process ended with rank 0's


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
    val_starts: list[int] | None = None,
    parameter_groups: list[dict[str, Any]] | None = None,
    warmup_steps: int = 0,
    accumulation: int = 1,
    on_epoch=None,
    shards=None,
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
        their summed NLL over their predicted tokens; with ``val_starts``, over their
        responses).
    parameter_groups : list of dict, optional
        The optimizer's groups (``params`` and, where it differs, ``lr``); default every
        trainable parameter at the training learning rate.
    warmup_steps : int
        Optimizer steps over which each group's rate rises linearly to its value; the
        schedule's rate is left as it is (the factor applies to the step only).
    accumulation : int
        Batches whose gradients are averaged before each optimizer step.
    on_epoch : callable, optional
        ``on_epoch(epoch, val_loss, None, {"perplexity": val_ppl})`` after every epoch is
        recorded, as the tabular loop calls it (the tuning stage reports to its pruner
        there; an exception it raises ends training).
    shards : auditor.train.distributed.Shards, optional
        Data-parallel training (``training.distributed``): each epoch this process takes its
        shard of the sequences (DistributedSampler's, ``cfg.batch_size / N`` a step, the
        last ones repeated so every process takes as many steps), DistributedDataParallel
        averages the gradients; a step's loss is weighed by the predicted tokens of the
        whole step across the processes (each counts them itself), so N processes take the
        steps one process takes on the same order. Each process scores its share of the
        validation documents and the NLL and token sums are added across processes, as are
        the training sums and the tokens per second; rank 0's stop decision is every one's.
        Dropout draws are seeded per process (``seed + rank``).
    """
    import torch
    from torch import nn

    from auditor.train.loop import _autocast, _batching, _EpochTracker
    from auditor.train.optim import build_optimizer, build_schedule

    ids = torch.from_numpy(train_ids).to(device)
    predicted = torch.from_numpy(train_predicted.astype(np.float32)).to(device)
    every_token = bool(train_predicted.all())
    n = ids.shape[0]
    if shards is None:
        bs, steps = _batching(n, cfg.batch_size)
    else:
        bs, steps = _batching(shards.rows_per_epoch, shards.per_process)
        torch.manual_seed(int(cfg.seed) + shards.rank)  # dropout: each process its own draws
    trainer = model if shards is None else shards.wrap(model)
    exchanging = shards is not None and shards.exchanging
    world = 1 if shards is None else shards.world_size
    rank = 0 if shards is None else shards.rank
    own_val = val_docs[rank::world]  # this process's share of the validation documents
    own_starts = None if val_starts is None else val_starts[rank::world]
    accumulation = max(int(accumulation), 1)
    updates = math.ceil(steps / accumulation)
    if parameter_groups is None:
        parameter_groups = [{"params": [p for p in model.parameters() if p.requires_grad]}]
    params = [p for g in parameter_groups for p in g["params"]]
    optimizer = build_optimizer(parameter_groups, cfg.training)
    schedule = build_schedule(optimizer, cfg.training, epochs=cfg.epochs, steps_per_epoch=updates)
    autocast = _autocast(precision, device)
    scaler = torch.amp.GradScaler(device.type) if precision.needs_scaler else None
    generator = torch.Generator(device=device)
    generator.manual_seed(int(cfg.seed))
    tracker = _EpochTracker(model, cfg, SimpleNamespace(optimizer=optimizer, schedule=schedule))
    bar = progress.bar(total=cfg.epochs, desc="train") if progress is not None else None
    tokens_total, seconds_training, done_updates, own_tokens = 0, 0.0, 0, 0
    start = time.perf_counter()

    def update() -> None:
        nonlocal done_updates
        factor = min(1.0, (done_updates + 1) / warmup_steps) if warmup_steps else 1.0
        rates = [g["lr"] for g in optimizer.param_groups]
        if factor < 1.0:
            for g in optimizer.param_groups:
                g["lr"] = g["lr"] * factor
        if scaler is not None:
            if cfg.gradient_clip:
                scaler.unscale_(optimizer)
                nn.utils.clip_grad_norm_(params, cfg.gradient_clip)
            scaler.step(optimizer)
            scaler.update()
        else:
            if cfg.gradient_clip:
                nn.utils.clip_grad_norm_(params, cfg.gradient_clip)
            optimizer.step()
        for g, rate in zip(optimizer.param_groups, rates, strict=True):
            g["lr"] = rate
        optimizer.zero_grad(set_to_none=True)
        schedule.after_batch()
        done_updates += 1

    model.train()
    try:
        for epoch in range(1, cfg.epochs + 1):
            t0 = time.perf_counter()
            whole = None  # the step order across the processes (a masked loss weighs by it)
            if shards is None:
                order = torch.randperm(n, generator=generator, device=device)
            else:
                order = shards.epoch_rows(epoch)
                whole = order if world == 1 or every_token else shards.step_order(epoch)
            loss_sum = torch.zeros((), device=device, dtype=torch.float64)
            token_count = torch.zeros((), device=device, dtype=torch.float64)
            optimizer.zero_grad(set_to_none=True)
            for step in range(steps):
                idx = order[step * bs : (step + 1) * bs]
                xb = ids.index_select(0, idx)
                syncs = (step + 1) % accumulation == 0 or step + 1 == steps
                # DDP averages gradients at the group's last batch only
                quiet = trainer.no_sync() if exchanging and not syncs else contextlib.nullcontext()
                with quiet:
                    if every_token:  # packed blocks: the plain mean, no mask to apply
                        with autocast:
                            loss = next_token_loss(trainer, xb)
                        count = float(xb.shape[0] * (xb.shape[1] - 1))
                        summed = loss.detach().double() * count
                    else:
                        mb = predicted.index_select(0, idx)
                        with autocast:
                            losses = token_losses(trainer, xb, mb)
                        count = mb.sum()
                        step_tokens = count
                        if whole is not None and world > 1:  # the whole step's tokens
                            rows = whole[step * bs * world : (step + 1) * bs * world]
                            step_tokens = predicted.index_select(0, rows).sum() / world
                        loss = losses.sum() / step_tokens.clamp(min=1.0)
                        summed = losses.detach().sum().double()
                    # the last group of an epoch may hold fewer batches: average over those
                    group = min(accumulation, steps - (step // accumulation) * accumulation)
                    scaled = loss / group
                    if scaler is not None:
                        scaler.scale(scaled).backward()
                    else:
                        scaled.backward()
                if syncs:
                    update()
                loss_sum += summed
                token_count += count
            tokens = int(token_count.item())  # one host read per epoch
            train_seconds = time.perf_counter() - t0
            loss_total = float(loss_sum.item())
            sums, counts = document_nll(
                model,
                own_val,
                context_length=context_length,
                pad_id=pad_id,
                device=device,
                autocast=autocast,
                starts=own_starts,
            )
            own_tokens += tokens
            seconds_training += train_seconds
            rate = tokens / max(train_seconds, 1e-9)
            val_sum, val_count = float(sums.sum()), float(counts.sum())
            if exchanging:  # every process's sums: the figures of all sequences and documents
                loss_total, summed_tokens, rate, val_sum, val_count = shards.total(
                    loss_total, tokens, rate, val_sum, val_count
                )
                tokens = int(round(summed_tokens))
            train_loss = loss_total / max(tokens, 1)
            val_loss = val_sum / max(val_count, 1)
            val_ppl = math.exp(min(val_loss, 700.0))
            tokens_total += tokens
            tracker.record(epoch, t0, train_loss, val_loss, val_ppl)
            tracker.result.history[-1]["tokens_per_second"] = round(rate, 1)
            if bar is not None:
                bar.update(1, loss=train_loss, val_ppl=val_ppl, tok_s=f"{rate:,.0f}")
            if on_epoch is not None:
                on_epoch(epoch, val_loss, None, {"perplexity": val_ppl})
            stop = tracker.should_stop(epoch, train_loss, val_loss, start)
            if exchanging:
                stop = shards.agree(stop)  # rank 0's: every process stops at one epoch
            if stop:
                break
    finally:
        if bar is not None:
            bar.close()
    tracker.restore_best()
    model.eval()
    tracker.result.seconds = time.perf_counter() - start
    speed = own_tokens / max(seconds_training, 1e-9)
    agreed = None
    if exchanging:
        (speed,) = shards.total(speed)  # tokens per second, summed over the processes
        agreed = shards.same_weights(model)
    return LMLoopResult(tracker.result, tokens_total, speed, agreed)


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


def train_language_model(
    spec: Spec,
    dataset: Dataset,
    *,
    progress=None,
    tokenizer=None,
    on_epoch=None,
    processes=None,
) -> LMPredictor:
    """Train the spec's transformer_lm on the dataset's train split.

    The tokenizer is trained on the train documents alone (``tokenizer``: one already
    trained, so that models of a learning curve share it and their perplexities per token
    compare); the validation documents decide early stopping; the test documents are not
    read. ``on_epoch``: called after every epoch (:func:`fit_lm`). ``processes``: this
    process's place in a torchrun launch (:func:`auditor.train.distributed.processes_for`);
    data-parallel, rank 0 trains the tokenizer and hands it to the others.

    Raises
    ------
    DeviceError
        The requested device or precision is not available (before any training).
    """
    from auditor.data.corpus import TEXT_COLUMN
    from auditor.train.architectures import build_model

    settings = lm_settings(spec)
    run = LMRun.start(spec, processes)
    with run.joined(dataset):
        if tokenizer is None:
            texts = dataset.frames["train"][TEXT_COLUMN].tolist()
            tokenizer = run.tokenizer_once(lambda: train_tokenizer(texts, settings.vocabulary_size))
        config = lm_model_config(settings, tokenizer)
        run.reseed()
        model = build_model(config).to(run.device)
        return run.fit(
            dataset,
            model,
            tokenizer,
            settings=settings,
            config=config,
            progress=progress,
            on_epoch=on_epoch,
            info={"tokenizer": {"kind": "byte_level_bpe", "vocabulary_size": len(tokenizer)}},
        )


def tokenizer_from_json(text: str):
    """The tokenizer :func:`train_tokenizer` returns, rebuilt from its JSON serialization."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(text),
        bos_token=EOS,
        eos_token=EOS,
        unk_token=EOS,
        pad_token=EOS,
    )


def split_texts(dataset: Dataset, split: str) -> tuple[list[str], list[int] | None]:
    """A corpus split's documents and (with a response field) their prompts' characters."""
    from auditor.data.corpus import PROMPT_COLUMN, TEXT_COLUMN

    frame = dataset.frames[split]
    prompts = frame[PROMPT_COLUMN].astype(int).tolist() if PROMPT_COLUMN in frame else None
    return frame[TEXT_COLUMN].tolist(), prompts


@dataclass
class LMRun:
    """One language-model training run: the device, precision and seed resolved once, the
    clock started; :meth:`fit` trains a built model (from scratch or a checkpoint) on the
    train split with the engine's guarantees and wraps it as an :class:`LMPredictor`.

    Data-parallel (``training.distributed`` under torchrun), the processes train inside
    :meth:`joined`, each on the GPU of its LOCAL_RANK on CUDA."""

    spec: Any
    device: Any
    precision: Any
    seed: int
    started: float
    processes: Any = None  # auditor.train.distributed.Processes

    @classmethod
    def start(cls, spec: Spec, processes=None) -> LMRun:
        from auditor.train.device import resolve_precision
        from auditor.train.distributed import ONE_PROCESS, process_device
        from auditor.train.seed import seed_everything

        training = spec.training
        processes = processes or ONE_PROCESS
        device = process_device(spec, processes)
        precision = resolve_precision(
            training.precision, device, location=spec.locate(("training", "precision"))
        )
        run = cls(spec, device, precision, int(training.seed), time.perf_counter(), processes)
        seed_everything(
            run.seed, deterministic=bool(training.deterministic), device_type=device.type
        )
        return run

    @contextlib.contextmanager
    def joined(self, dataset: Dataset):
        """Inside the process group of a data-parallel run (nothing to join otherwise), once
        the processes agree that they read the same data (``dataset.sources``)."""
        from auditor.train.distributed import process_group

        with process_group(self.spec, self.processes, self.device, sources=dataset.sources):
            yield

    def tokenizer_once(self, train):
        """``train()``'s tokenizer, trained on rank 0 alone and rebuilt from its JSON on the
        other processes (``train()`` itself in one process)."""
        from auditor.train.distributed import from_rank_zero

        if not self.processes.parallel:
            return train()
        trained = []

        def serialized() -> str:
            trained.append(train())
            return trained[0].backend_tokenizer.to_str()

        text = from_rank_zero(serialized, self.processes, self.device)
        return trained[0] if trained else tokenizer_from_json(text)

    def reseed(self) -> None:
        """The seed again, just before the weights are drawn (the tokenizer used none)."""
        from auditor.train.seed import seed_everything

        seed_everything(
            self.seed,
            deterministic=bool(self.spec.training.deterministic),
            device_type=self.device.type,
        )

    def fit(
        self,
        dataset: Dataset,
        model,
        tokenizer,
        *,
        settings: LMSettings,
        config: dict[str, Any],
        progress=None,
        parameter_groups: list[dict[str, Any]] | None = None,
        info: dict[str, Any] | None = None,
        predictor_class: type | None = None,
        on_epoch=None,
    ) -> LMPredictor:
        from auditor.train.architectures import count_parameters
        from auditor.train.device import cpu_threads, device_name, torch_threads

        spec, training, device = self.spec, self.spec.training, self.device
        train_texts, train_prompts = split_texts(dataset, "train")
        val_texts, val_prompts = split_texts(dataset, "validation")
        cut = dict(max_length=settings.max_length, truncation=settings.truncation)
        train_docs, train_cut, train_starts = learned_documents(
            tokenizer, train_texts, prompt_chars=train_prompts, **cut
        )
        val_docs, _, val_starts = learned_documents(
            tokenizer, val_texts, prompt_chars=val_prompts, **cut
        )
        pad = int(tokenizer.pad_token_id)
        train_ids, train_predicted = token_sequences(
            train_docs,
            context_length=settings.context_length,
            packing=settings.packing,
            pad_id=pad,
            starts=train_starts,
        )
        cfg = lm_loop_config(spec)
        from auditor.train.distributed import ONE_PROCESS, shards_for

        shards = shards_for(
            spec, self.processes or ONE_PROCESS, device, rows=train_ids.shape[0], unit="sequences"
        )
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
                val_starts=val_starts,
                context_length=settings.context_length,
                pad_id=pad,
                device=device,
                precision=self.precision,
                progress=progress,
                parameter_groups=parameter_groups,
                warmup_steps=int(training.warmup_steps),
                accumulation=int(training.gradient_accumulation),
                on_epoch=on_epoch,
                shards=shards,
            )
        result = run.result
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        from auditor.train.artifacts import run_record

        description = {
            "architecture": config["architecture"],
            "config": config,
            "device": str(device),
            "device_name": device_name(device),
            "precision": self.precision.name,
            **run_record(result),
            "monitor": "loss",
            "val_metric_name": "perplexity",
            "train_seconds": round(time.perf_counter() - self.started, 4),
            "train_on": "train",
            "train_documents": len(train_texts),
            "validation_documents": len(val_texts),
            "train_sequences": int(train_ids.shape[0]),
            "documents_truncated": int(train_cut),
            "learned_tokens": "responses" if train_starts is not None else "all",
            "tokens_trained": int(run.tokens_trained),
            "tokens_per_second": round(run.tokens_per_second, 1),
            "trainable_parameters": int(trainable),
            "warmup_steps": int(training.warmup_steps),
            "gradient_accumulation": int(training.gradient_accumulation),
            "seed": self.seed,
            "cpu_threads": threads,
            "deterministic": bool(training.deterministic) or device.type == "cpu",
            "optimizer": training.optimizer,
            "schedule": training.schedule.name,
            **(info or {}),
        }
        if shards is not None:  # the batch per process and per step, and how it ran
            description["distributed"] = shards.describe()
            if run.same_weights is not None:
                description["distributed"]["same_weights"] = run.same_weights
            description["notes"] = [*description.get("notes", []), shards.note()]
        return (predictor_class or LMPredictor)(
            model,
            tokenizer,
            settings=settings,
            config=config,
            device=device,
            precision=self.precision,
            history=result.history,
            info=description,
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
        return self.learned(texts)[0]

    def learned(
        self, texts: list[str], prompt_chars: list[int] | None = None
    ) -> tuple[list[list[int]], list[int] | None]:
        """Token ids of each document and where its learned tokens start
        (:func:`learned_documents`)."""
        docs, _, starts = learned_documents(
            self.tokenizer,
            texts,
            max_length=self.settings.max_length,
            truncation=self.settings.truncation,
            prompt_chars=prompt_chars,
        )
        return docs, starts

    def nll(
        self, texts: list[str], prompt_chars: list[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per document: summed token NLL and token count (:func:`document_nll`); with
        ``prompt_chars``, over the responses only."""
        return self.nll_of(self.model, texts, prompt_chars)

    def nll_of(
        self, model, texts: list[str], prompt_chars: list[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`nll` of another model on this one's tokens (the base checkpoint)."""
        from auditor.train.loop import _autocast

        autocast = _autocast(self.precision, self.device) if self.precision else None
        docs, starts = self.learned(texts, prompt_chars)
        return document_nll(
            model,
            docs,
            context_length=self.settings.context_length,
            pad_id=int(self.tokenizer.pad_token_id),
            device=self.device,
            autocast=autocast,
            starts=starts,
        )

    def complete(self, prefixes: np.ndarray, steps: int) -> np.ndarray:
        """Greedy continuations of equal-length token prefixes."""
        return greedy_completions(self.model, prefixes, steps, device=self.device)

    # -- artifacts
    def state(self) -> dict[str, Any]:
        """The weights on the CPU (tied tensors once each), for fingerprints and comparisons."""
        from auditor.train.artifacts import cpu_state

        return cpu_state(self.model)

    def fingerprint(self) -> str:
        from auditor.train.artifacts import state_fingerprint

        return state_fingerprint(self.state())

    def _save_transformers(self, folder: str) -> None:
        self.model.save_pretrained(folder, safe_serialization=True)
        self.tokenizer.save_pretrained(folder)

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
                self._save_transformers(tmp)
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
