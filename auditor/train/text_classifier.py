"""Text classification by fine-tuning a pre-trained sentence encoder (``text_classifier``).

    model.encoder.model --identify--> the bundled all-MiniLM-L6-v2 (every file checked
               against its pinned SHA-256) or a local folder, hashed as found
    texts of model.encoder.text_column --tokenizer--> padded ids, preassembled once
    encoder + head (mean of the token representations, dropout, linear) --the loop-->
               trained on the train rows, early stopping on the validation loss
    TextClassifierPredictor.predict(dataset, split) --> scores shaped like a tabular
               classifier's: binary (n,) probability of the positive class, multiclass
               (n, K) probabilities

So the whole tabular audit (performance with intervals, calibration, baselines, per-group
fairness, drift) runs on it unchanged. The text column stays a column of the table; the
other columns are what the baselines learn from. The test split never reaches training or
early stopping.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from auditor.types import Dataset, Spec

#: Rows per inference batch.
PREDICT_BATCH = 64
ROLE = "text_classifier"


def encoder_identity(spec: Spec):
    """The encoder's identity (files hashed; a bundled model checked against its pins)."""
    from auditor.text.local_models import identify

    return identify(
        spec.model.encoder.model,
        role=ROLE,
        kind="sentence-embedding model",
        base_dir=spec.path.parent,
    )


def _transformer_folder(path: Path) -> Path:
    """The transformers model inside a sentence-transformers folder (its first module)."""
    import json

    modules = path / "modules.json"
    if modules.is_file():
        for m in json.loads(modules.read_text(encoding="utf-8")):
            if str(m.get("type", "")).endswith("Transformer"):
                return path / str(m.get("path", ""))
    return path


def build_classifier(folder: Path, outputs: int, dropout: float):
    """The encoder read from ``folder`` (offline) with a fresh head of ``outputs`` logits."""
    import torch
    from torch import nn
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from auditor.train.lm import _quiet_transformers

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        with _quiet_transformers():
            encoder = AutoModel.from_pretrained(
                str(folder), local_files_only=True, dtype=torch.float32
            )
            tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    finally:
        hf_logging.set_verbosity(verbosity)

    class EncoderClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = encoder
            self.dropout = nn.Dropout(dropout)
            self.head = nn.Linear(int(encoder.config.hidden_size), int(outputs))

        def pooled(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            """The mean of the token representations (padding left out)."""
            hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)

        def classify(self, pooled: torch.Tensor) -> torch.Tensor:
            return self.head(self.dropout(pooled))

        def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            return self.classify(self.pooled(ids, mask))

    return EncoderClassifier(), tokenizer


def tokenize(tokenizer, texts: list[str], max_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Padded ids and attention masks, (n, L) int64 each (L: the longest text, cut)."""
    enc = tokenizer(
        [str(t) for t in texts],
        truncation=True,
        max_length=int(max_length),
        padding="longest",
        return_tensors="np",
    )
    return enc["input_ids"].astype(np.int64), enc["attention_mask"].astype(np.int64)


def _loss(task: str):
    import torch.nn.functional as F

    if task == "binary":
        return lambda logits, y: F.binary_cross_entropy_with_logits(logits[:, 0], y.float())
    return lambda logits, y: F.cross_entropy(logits, y.long())


def _scores(task: str, logits):
    import torch

    if task == "binary":
        return torch.sigmoid(logits[:, 0])
    return torch.softmax(logits, dim=1)


def _forward_all(model, ids, mask, device, autocast, *, pooled_only: bool = False) -> Any:
    """Logits (or, ``pooled_only``, the pooled representations) of every row."""
    import torch

    out = []
    with torch.inference_mode(), autocast:
        for i in range(0, ids.shape[0], PREDICT_BATCH):
            x = torch.from_numpy(ids[i : i + PREDICT_BATCH]).to(device)
            m = torch.from_numpy(mask[i : i + PREDICT_BATCH]).to(device)
            out.append((model.pooled(x, m) if pooled_only else model(x, m)).float())
    return torch.cat(out) if out else torch.zeros((0, 1))


def train_text_classifier(
    spec: Spec, dataset: Dataset, *, train_rows: np.ndarray | None = None, progress=None
) -> TextClassifierPredictor:
    """Fine-tune the spec's encoder with a head on the train rows (``train_rows``: a subset,
    for learning curves); the validation rows decide early stopping."""
    import torch

    from auditor.train.device import device_name, resolve_device, resolve_precision
    from auditor.train.loop import LoopConfig, _autocast, _batching, _EpochTracker
    from auditor.train.optim import build_optimizer, build_schedule
    from auditor.train.seed import seed_everything

    training, settings = spec.training, spec.model.encoder
    device = resolve_device(training.device, location=spec.locate(("training", "device")))
    precision = resolve_precision(
        training.precision, device, location=spec.locate(("training", "precision"))
    )
    seed = int(training.seed)
    started = time.perf_counter()
    identity = encoder_identity(spec)
    classes = len(dataset.classes) if dataset.classes else int(dataset.y["train"].max()) + 1
    outputs = 1 if spec.task == "binary" else classes
    seed_everything(seed, deterministic=bool(training.deterministic), device_type=device.type)
    model, tokenizer = build_classifier(
        _transformer_folder(Path(identity.path)), outputs, float(spec.model.dropout)
    )
    model = model.to(device)
    if settings.freeze_encoder:
        model.encoder.requires_grad_(False)
    column = settings.text_column
    train_frame, y_train = dataset.frames["train"], dataset.y["train"]
    if train_rows is not None:
        train_frame, y_train = train_frame.iloc[np.asarray(train_rows)], y_train[train_rows]
    ids, mask = tokenize(tokenizer, train_frame[column].tolist(), settings.max_length)
    val_ids, val_mask = tokenize(
        tokenizer, dataset.frames["validation"][column].tolist(), settings.max_length
    )
    y = torch.from_numpy(np.asarray(y_train)).to(device)
    y_val = torch.from_numpy(np.asarray(dataset.y["validation"])).to(device)
    cfg = LoopConfig(
        task=spec.task,
        epochs=int(training.epochs),
        batch_size=int(training.batch_size),
        training=training,
        monitor="loss",
        report_metric="loss",
        early_stopping=bool(training.early_stopping.enabled),
        patience=int(training.early_stopping.patience),
        min_delta=float(training.early_stopping.min_delta),
        restore_best=bool(training.early_stopping.restore_best),
        time_budget=training.time_budget,
        gradient_clip=training.gradient_clip,
        seed=seed,
    )
    head_rate = settings.head_learning_rate or training.learning_rate
    groups = [
        {"params": [p for p in model.encoder.parameters() if p.requires_grad]},
        {"params": list(model.head.parameters()), "lr": float(head_rate)},
    ]
    groups = [g for g in groups if g["params"]]
    n = ids.shape[0]
    bs, steps = _batching(n, cfg.batch_size)
    optimizer = build_optimizer(groups, training)
    schedule = build_schedule(optimizer, training, epochs=cfg.epochs, steps_per_epoch=steps)
    # the best weights kept for early stopping: the head alone when the encoder is frozen
    kept = model.head if settings.freeze_encoder else model
    tracker = _EpochTracker(kept, cfg, SimpleNamespace(optimizer=optimizer, schedule=schedule))
    autocast = _autocast(precision, device)
    loss_fn = _loss(spec.task)
    generator = torch.Generator(device="cpu")
    generator.manual_seed(seed)
    ids_t, mask_t = torch.from_numpy(ids), torch.from_numpy(mask)
    frozen = bool(settings.freeze_encoder)
    if frozen:  # the encoder does not change: its representations are computed once
        features = _forward_all(model, ids, mask, device, autocast, pooled_only=True).clone()
        val_features = _forward_all(
            model, val_ids, val_mask, device, autocast, pooled_only=True
        ).clone()
    bar = progress.bar(total=cfg.epochs, desc="train") if progress is not None else None
    start = time.perf_counter()
    try:
        for epoch in range(1, cfg.epochs + 1):
            t0 = time.perf_counter()
            model.train()
            order = torch.randperm(n, generator=generator)
            total = 0.0
            for step in range(steps):
                idx = order[step * bs : (step + 1) * bs]
                with autocast:
                    if frozen:
                        logits = model.classify(features[idx.to(device)])
                    else:
                        logits = model(ids_t[idx].to(device), mask_t[idx].to(device))
                    loss = loss_fn(logits.float(), y[idx.to(device)])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.gradient_clip:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.gradient_clip)
                optimizer.step()
                schedule.after_batch()
                total += float(loss.detach()) * len(idx)
            model.eval()
            if frozen:
                with torch.inference_mode():
                    val_logits = model.classify(val_features).float()
            else:
                val_logits = _forward_all(model, val_ids, val_mask, device, autocast)
            val_loss = float(loss_fn(val_logits, y_val)) if len(y_val) else math.nan
            train_loss = total / max(n, 1)
            tracker.record(epoch, t0, train_loss, val_loss, val_loss)
            if bar is not None:
                bar.update(1, loss=train_loss, val_loss=val_loss)
            if tracker.should_stop(epoch, train_loss, val_loss, start):
                break
    finally:
        if bar is not None:
            bar.close()
    tracker.restore_best()
    model.eval()
    result = tracker.result
    from auditor.train.artifacts import run_record

    info = {
        "architecture": "text_classifier",
        "encoder": identity.name if hasattr(identity, "name") else str(settings.model),
        "encoder_fingerprint": getattr(identity, "fingerprint", None),
        "text_column": column,
        "max_length": int(settings.max_length),
        "freeze_encoder": bool(settings.freeze_encoder),
        "head_learning_rate": float(head_rate),
        "device": str(device),
        "device_name": device_name(device),
        "precision": precision.name,
        **run_record(result),
        "monitor": "loss",
        "val_metric_name": "loss",
        "train_seconds": round(time.perf_counter() - started, 4),
        "train_on": "train",
        "train_rows": int(n),
        "trainable_parameters": int(sum(p.numel() for p in model.parameters() if p.requires_grad)),
        "seed": seed,
        "optimizer": training.optimizer,
        "schedule": training.schedule.name,
        "deterministic": bool(training.deterministic) or device.type == "cpu",
    }
    return TextClassifierPredictor(
        model,
        tokenizer,
        task=spec.task,
        column=column,
        max_length=int(settings.max_length),
        device=device,
        precision=precision,
        history=result.history,
        info=info,
    )


class TextClassifierPredictor:
    """A fine-tuned encoder with its head, behind the tabular Predictor interface."""

    kind = "trained"
    has_scores = True

    def __init__(
        self, model, tokenizer, *, task, column, max_length, device, precision, history, info
    ):
        from auditor.train.architectures import count_parameters

        self.model, self.tokenizer, self.task = model, tokenizer, task
        self.column, self.max_length = column, max_length
        self.device, self.precision = device, precision
        self.history = list(history)
        self.info = dict(info)
        self.info["parameters"] = count_parameters(model)
        self.info["fingerprint"] = self.fingerprint()

    def predict(self, dataset: Dataset, split: str) -> np.ndarray:
        """Scores of every row of ``split``: binary (n,), multiclass (n, K)."""
        from auditor.train.loop import _autocast

        ids, mask = tokenize(
            self.tokenizer, dataset.frames[split][self.column].tolist(), self.max_length
        )
        logits = _forward_all(
            self.model, ids, mask, self.device, _autocast(self.precision, self.device)
        )
        return _scores(self.task, logits).double().cpu().numpy()

    def state(self) -> dict[str, Any]:
        from auditor.train.artifacts import cpu_state

        return cpu_state(self.model)

    def fingerprint(self) -> str:
        from auditor.train.artifacts import state_fingerprint

        return state_fingerprint(self.state())

    def save(self, out_dir: Path) -> dict[str, Path]:
        """The encoder as transformers saves it, the head as ``head.safetensors``, the
        tokenizer, and ``training.json``; no pickle."""
        import json
        import os
        import tempfile

        from safetensors.torch import save_file

        from auditor.atomic import write_bytes
        from auditor.results import jsonable
        from auditor.train.lm import _quiet_transformers

        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        files: dict[str, Path] = {}
        with tempfile.TemporaryDirectory(dir=out_dir, prefix=".saving-") as tmp:
            with _quiet_transformers():
                self.model.encoder.save_pretrained(tmp, safe_serialization=True)
                self.tokenizer.save_pretrained(tmp)
            head = {
                k: v.detach().cpu().contiguous() for k, v in self.model.head.state_dict().items()
            }
            save_file(head, str(Path(tmp) / "head.safetensors"))
            for name in sorted(os.listdir(tmp)):
                os.replace(Path(tmp) / name, out_dir / name)
                files[name.rsplit(".", 1)[0]] = out_dir / name
        files["training"] = out_dir / "training.json"
        description = {"format_version": 1, "info": self.info, "history": self.history}
        write_bytes(files["training"], json.dumps(jsonable(description), indent=2).encode())
        return files
