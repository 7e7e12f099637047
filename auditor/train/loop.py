"""The training loop: preassembled tensors on the device, index-slice batches, early stopping.

The training and validation matrices are moved to the device once. Each epoch draws a
permutation of row indices (or a weighted sample, for oversampling) and every batch is an
``index_select`` of the preassembled tensors: no per-row Dataset/DataLoader objects. The
running loss stays on the device; one host synchronisation per epoch reads it back.

Data-parallel (``training.distributed``, :mod:`auditor.train.distributed`): the epoch's rows
come from this process's shard, the model trains inside DistributedDataParallel, and the
epoch's figures are averaged across processes before the history and early stopping read
them.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from auditor.train import monitor
from auditor.train.device import Precision
from auditor.train.optim import build_optimizer, build_schedule

if TYPE_CHECKING:  # pragma: no cover
    from auditor.spec.typed import Training

EVAL_BATCH = {"cpu": 2048, "default": 65536}  # rows per inference chunk, by device type


def eval_batch(device: torch.device) -> int:
    """Rows per inference chunk: small on the CPU (bounded working set), large on GPUs."""
    return EVAL_BATCH.get(device.type, EVAL_BATCH["default"])


@dataclass
class LoopConfig:
    """Everything the loop needs from the spec, already resolved."""

    task: str
    epochs: int
    batch_size: int
    training: Training  # the typed ``training`` section (optimizer, schedule, ...)
    monitor: str = "loss"  # early-stopping figure: "loss" or a metric name
    report_metric: str = "roc_auc"  # the val_metric in the history when monitor is "loss"
    early_stopping: bool = True
    patience: int = 5
    min_delta: float = 0.0
    restore_best: bool = True
    time_budget: float | None = None
    gradient_clip: float | None = None
    class_weights: np.ndarray | None = None  # used in the loss
    oversample_weights: np.ndarray | None = None  # per-class sampling weights (oversampling)
    noise_std: float = 0.0
    mixup_alpha: float = 0.0
    numeric_mask: np.ndarray | None = None  # columns that gaussian noise may touch
    seed: int = 0


@dataclass
class LoopResult:
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int | None = None
    kept_epoch: int = 0  # the epoch whose weights the model ends with
    best_value: float | None = None
    stopped_early: bool = False
    stop_reason: str = "max_epochs"
    epochs_run: int = 0
    seconds: float = 0.0
    metric_name: str = "loss"


def _finite_or_none(value: float) -> float | None:
    """History values must be valid JSON: NaN/inf (e.g. ROC-AUC of one class) become None."""
    return value if math.isfinite(value) else None


def to_device_tensors(
    X: np.ndarray,
    y: np.ndarray,
    task: str,
    device: torch.device,
    y_mean: float = 0.0,
    y_std: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Move a split to the device once (targets in the dtype the loss needs)."""
    xt = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)).to(device)
    if task == "multiclass":
        yt = torch.from_numpy(np.asarray(y, dtype=np.int64)).to(device)
    elif task == "regression":
        yt = torch.from_numpy(
            ((np.asarray(y, dtype=np.float64) - y_mean) / y_std).astype(np.float32)
        ).to(device)
    else:
        yt = torch.from_numpy(np.asarray(y, dtype=np.float32)).to(device)
    return xt, yt


def make_loss(task: str, class_weights: torch.Tensor | None) -> Callable:
    """``loss(outputs, y, y2=None, lam=None) -> scalar``; y2/lam mix two targets (mixup)."""
    if task == "multiclass":

        def loss(out, y, y2=None, lam=None):
            value = F.cross_entropy(out, y, weight=class_weights)
            if y2 is not None:
                value = lam * value + (1 - lam) * F.cross_entropy(out, y2, weight=class_weights)
            return value

        return loss
    if task == "regression":

        def loss(out, y, y2=None, lam=None):
            target = y if y2 is None else lam * y + (1 - lam) * y2
            return F.mse_loss(out.squeeze(1).float(), target)

        return loss
    if class_weights is None:

        def loss(out, y, y2=None, lam=None):
            target = y if y2 is None else lam * y + (1 - lam) * y2
            return F.binary_cross_entropy_with_logits(out.squeeze(1).float(), target)

        return loss

    def weighted(out, y, y2=None, lam=None):
        w = class_weights[y.long()]
        if y2 is not None:
            w = lam * w + (1 - lam) * class_weights[y2.long()]
            y = lam * y + (1 - lam) * y2
        per_row = F.binary_cross_entropy_with_logits(out.squeeze(1).float(), y, reduction="none")
        return (per_row * w).sum() / w.sum()

    return weighted


def scores_from_outputs(task: str, out: torch.Tensor) -> torch.Tensor:
    """Probabilities (binary (n,), multiclass (n, K)) or the standardised value (n,)."""
    out = out.float()
    if task == "binary":
        return torch.sigmoid(out.squeeze(1))
    if task == "multiclass":
        return torch.softmax(out, dim=1)
    return out.squeeze(1)


def forward_all(
    model: nn.Module, X: torch.Tensor, *, autocast=None, batch: int | None = None
) -> torch.Tensor:
    """Raw outputs for every row, in large batches, under inference mode (model.eval())."""
    batch = batch or eval_batch(X.device)
    was_training = model.training
    model.eval()
    ctx = autocast if autocast is not None else contextlib.nullcontext()
    try:
        with torch.inference_mode(), ctx:
            parts = [model(X[i : i + batch]).float() for i in range(0, X.shape[0], batch)]
    finally:
        model.train(was_training)
    return torch.cat(parts) if parts else torch.empty((0, 1), device=X.device)


def augment(
    xb: torch.Tensor,
    yb: torch.Tensor,
    *,
    cfg: LoopConfig,
    noise_scale: torch.Tensor | None,
    generator: torch.Generator,
    rng: np.random.Generator,
):
    """Augment one TRAINING batch: gaussian noise on numeric columns, then mixup.

    Returns ``(x, y, y2, lam)``; ``y2``/``lam`` are None without mixup. Never called on
    validation, test or holdout rows.
    """
    if noise_scale is not None:
        xb = xb + torch.randn(xb.shape, generator=generator, device=xb.device) * noise_scale
    y2 = lam = None
    if cfg.mixup_alpha > 0 and xb.shape[0] > 1:
        lam = float(rng.beta(cfg.mixup_alpha, cfg.mixup_alpha))
        perm = torch.randperm(xb.shape[0], generator=generator, device=xb.device)
        xb = lam * xb + (1 - lam) * xb.index_select(0, perm)
        y2 = yb.index_select(0, perm)
    return xb, yb, y2, lam


@dataclass
class _Setup:
    """What every epoch of one training run reuses, built once before the first epoch."""

    device: torch.device
    n: int  # training rows
    bs: int  # rows per batch
    steps: int  # batches per epoch
    params: list[nn.Parameter]  # once: gradient clipping needs them every batch
    optimizer: torch.optim.Optimizer
    schedule: Any
    loss_fn: Callable
    sample_weights: torch.Tensor | None  # cumulative row weights (oversampling)
    noise_scale: torch.Tensor | None
    augmenting: bool
    generator: torch.Generator
    rng: np.random.Generator
    autocast: Any
    scaler: Any
    clip: float | None
    shards: Any = None  # data-parallel rows and agreement (auditor.train.distributed.Shards)
    used: int = 0  # rows per epoch (a last batch of one row is left out)
    losses: torch.Tensor | None = None  # per-batch losses, on the device
    sizes: torch.Tensor | None = None  # per-batch row counts, on the device


def _batching(n: int, batch_size: int) -> tuple[int, int]:
    """Rows per batch and batches per epoch; a last batch of a single row is left out."""
    bs = max(1, min(batch_size, n))
    steps = math.ceil(n / bs)
    if n - (steps - 1) * bs == 1 and steps > 1:  # a batch of one row breaks batch norm
        steps -= 1
    return bs, steps


def _sample_weights(
    cfg: LoopConfig, y_train: torch.Tensor, device: torch.device
) -> torch.Tensor | None:
    """Cumulative per-row sampling weights for oversampling, on the device (None without)."""
    if cfg.oversample_weights is None:
        return None
    # cumulative row weights (computed once, on the host: a float cumsum on CUDA is not
    # deterministic); a weighted draw with replacement is then a searchsorted of uniform
    # numbers (torch.multinomial is limited to 2**24 rows)
    per_row = np.asarray(cfg.oversample_weights, dtype=np.float64)[y_train.long().cpu().numpy()]
    return torch.from_numpy(np.cumsum(per_row)).to(device)


def _noise_scale(cfg: LoopConfig, n_columns: int, device: torch.device) -> torch.Tensor | None:
    """Per-column standard deviation of the gaussian noise (numeric columns only), or None."""
    noise_scale = None
    if cfg.noise_std > 0:
        mask = np.ones(n_columns, bool) if cfg.numeric_mask is None else cfg.numeric_mask
        noise_scale = torch.as_tensor(mask.astype(np.float32) * cfg.noise_std, device=device)
    return noise_scale


def _autocast(precision: Precision, device: torch.device):
    """The autocast context for ``precision`` (a no-op context at full precision)."""
    if precision.autocast_dtype is not None:
        return torch.autocast(device_type=device.type, dtype=precision.autocast_dtype)
    return contextlib.nullcontext()


def _setup(
    model: nn.Module,
    cfg: LoopConfig,
    X_train: torch.Tensor,
    y_train: torch.Tensor,
    precision: Precision,
    shards: Any = None,
) -> _Setup:
    """Everything the epochs reuse, built in this order: batching, optimizer, loss, RNGs.

    With ``shards`` a batch is this process's part of a step (``batch_size`` rows across
    all processes), and augmentation draws are seeded per process (``seed + rank``).
    """
    device = X_train.device
    n = X_train.shape[0]
    if shards is None:
        bs, steps = _batching(n, cfg.batch_size)
    else:
        bs, steps = _batching(shards.rows_per_epoch, shards.per_process)
    params = list(model.parameters())
    optimizer = build_optimizer(params, cfg.training)
    schedule = build_schedule(optimizer, cfg.training, epochs=cfg.epochs, steps_per_epoch=steps)
    weights_t = (
        None
        if cfg.class_weights is None
        else torch.as_tensor(cfg.class_weights, dtype=torch.float32, device=device)
    )
    loss_fn = make_loss(cfg.task, weights_t)
    sample_weights = _sample_weights(cfg, y_train, device)
    noise_scale = _noise_scale(cfg, X_train.shape[1], device)
    augmenting = noise_scale is not None or cfg.mixup_alpha > 0
    stream = cfg.seed + (shards.rank if shards is not None else 0)
    generator = torch.Generator(device=device)
    generator.manual_seed(stream)
    rng = np.random.default_rng(stream)
    autocast = _autocast(precision, device)
    scaler = torch.amp.GradScaler(device.type) if precision.needs_scaler else None
    return _Setup(
        device=device,
        n=n,
        bs=bs,
        steps=steps,
        params=params,
        optimizer=optimizer,
        schedule=schedule,
        loss_fn=loss_fn,
        sample_weights=sample_weights,
        noise_scale=noise_scale,
        augmenting=augmenting,
        generator=generator,
        rng=rng,
        autocast=autocast,
        scaler=scaler,
        clip=cfg.gradient_clip,
        shards=shards,
    )


def _loss_buffers(setup: _Setup) -> None:
    """The device buffers of per-batch losses and batch sizes (one host read per epoch)."""
    n, bs, steps, device = setup.n, setup.bs, setup.steps, setup.device
    if setup.shards is not None:
        n = setup.shards.rows_per_epoch  # this process's rows
    setup.used = min(n, steps * bs)
    setup.losses = torch.zeros(steps, device=device)
    setup.sizes = torch.full((steps,), float(bs), device=device)
    setup.sizes[-1] = float(setup.used - (steps - 1) * bs)


def _epoch_order(setup: _Setup, epoch: int) -> torch.Tensor:
    """This epoch's row order: a permutation, or a weighted draw with replacement (with
    shards: this process's shard of the one every process draws alike)."""
    n, generator, device = setup.n, setup.generator, setup.device
    sample_weights = setup.sample_weights
    if setup.shards is not None:
        return setup.shards.epoch_rows(epoch, sample_weights)
    if sample_weights is not None:
        u = torch.rand(n, generator=generator, device=device, dtype=torch.float64)
        order = torch.searchsorted(sample_weights, u * sample_weights[-1], right=True)
        order.clamp_(max=n - 1)
    else:
        order = torch.randperm(n, generator=generator, device=device)
    return order


def _train_epoch(
    model: nn.Module,
    cfg: LoopConfig,
    setup: _Setup,
    X_train: torch.Tensor,
    y_train: torch.Tensor,
    epoch: int = 1,
) -> float:
    """One pass over the training rows in index-slice batches; the mean training loss.

    ``model`` is the module that trains (DistributedDataParallel around the model when
    processes share the training).
    """
    bs, steps, losses = setup.bs, setup.steps, setup.losses
    optimizer, schedule, scaler = setup.optimizer, setup.schedule, setup.scaler
    params, clip, loss_fn, autocast = setup.params, setup.clip, setup.loss_fn, setup.autocast
    augmenting, noise_scale = setup.augmenting, setup.noise_scale
    generator, rng = setup.generator, setup.rng
    order = _epoch_order(setup, epoch)
    for step in range(steps):
        idx = order[step * bs : (step + 1) * bs]
        xb = X_train.index_select(0, idx)
        yb = y_train.index_select(0, idx)
        if augmenting:
            xb, yb, y2, lam = augment(
                xb, yb, cfg=cfg, noise_scale=noise_scale, generator=generator, rng=rng
            )
        else:
            y2 = lam = None
        with autocast:
            loss = loss_fn(model(xb), yb, y2, lam)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            if clip:
                scaler.unscale_(optimizer)
                nn.utils.clip_grad_norm_(params, clip)
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            if clip:
                nn.utils.clip_grad_norm_(params, clip)
            optimizer.step()
        schedule.after_batch()
        losses[step] = loss.detach()
    return float((losses * setup.sizes).sum().item()) / setup.used


def _validate(
    model: nn.Module,
    cfg: LoopConfig,
    setup: _Setup,
    shown: str,
    X_val: torch.Tensor,
    y_val: torch.Tensor,
    y_val_true: np.ndarray,
    val_scores: Callable[[torch.Tensor], np.ndarray] | None,
) -> tuple[float, float, np.ndarray]:
    """The validation loss, the validation metric ``shown`` in the history, and the
    validation scores they were computed from."""
    out = forward_all(model, X_val, autocast=setup.autocast)
    val_loss = float(setup.loss_fn(out, y_val).item())
    scores = (
        val_scores(out)
        if val_scores is not None
        else scores_from_outputs(cfg.task, out).cpu().numpy()
    )
    val_metric = monitor.metric_value(shown, cfg.task, y_val_true, scores)
    return val_loss, val_metric, scores


def _history_row(
    epoch: int, train_loss: float, val_loss: float, val_metric: float, lr: float, t0: float
) -> dict[str, Any]:
    """One epoch's entry in the history (non-finite values as None)."""
    return {
        "epoch": epoch,
        "train_loss": _finite_or_none(train_loss),
        "val_loss": _finite_or_none(val_loss),
        "val_metric": _finite_or_none(val_metric),
        "lr": lr,
        "seconds": round(time.perf_counter() - t0, 6),
    }


class _EpochTracker:
    """Per-epoch bookkeeping: history, schedule step, early stopping and the best weights."""

    def __init__(self, model: nn.Module, cfg: LoopConfig, setup: _Setup) -> None:
        self.model, self.cfg, self.setup = model, cfg, setup
        self.watched = cfg.monitor
        self.higher = monitor.higher_is_better(self.watched)
        self.shown = self.watched if self.watched != "loss" else cfg.report_metric
        self.result = LoopResult(metric_name=self.shown)
        self.best_state: dict[str, torch.Tensor] | None = None
        self.best = -math.inf if self.higher else math.inf
        self.waited = 0
        self.watched_value = math.nan

    def record(
        self,
        epoch: int,
        t0: float,
        train_loss: float,
        val_loss: float,
        val_metric: float,
        bar=None,
    ) -> None:
        """Step the schedule and add the epoch to the history (and to the progress bar)."""
        lr = float(self.setup.optimizer.param_groups[0]["lr"])
        self.setup.schedule.after_epoch(val_loss)
        self.watched_value = val_loss if self.watched == "loss" else val_metric
        self.result.history.append(_history_row(epoch, train_loss, val_loss, val_metric, lr, t0))
        self.result.epochs_run = epoch
        if bar is not None:
            bar.update(1, loss=train_loss, **{f"val_{self.shown}": val_metric})

    def should_stop(self, epoch: int, train_loss: float, val_loss: float, start: float) -> bool:
        """Whether to stop now: a non-finite loss, patience run out, or the time budget spent."""
        cfg, result = self.cfg, self.result
        if not math.isfinite(train_loss) or not math.isfinite(val_loss):
            result.stop_reason = "non_finite_loss"
            return True
        if self._no_longer_improving(epoch):
            return True
        if cfg.time_budget is not None and time.perf_counter() - start >= cfg.time_budget:
            result.stop_reason = "time_budget"
            return True
        return False

    def _no_longer_improving(self, epoch: int) -> bool:
        """Keep the best value (and weights) so far; whether patience has run out."""
        cfg, result, watched_value = self.cfg, self.result, self.watched_value
        improved = math.isfinite(watched_value) and (
            watched_value > self.best + cfg.min_delta
            if self.higher
            else watched_value < self.best - cfg.min_delta
        )
        if improved:
            self.best, self.waited = watched_value, 0
            result.best_epoch, result.best_value = epoch, watched_value
            if cfg.early_stopping and cfg.restore_best:
                self.best_state = {
                    k: v.detach().clone() for k, v in self.model.state_dict().items()
                }
        else:
            self.waited += 1
            if cfg.early_stopping and self.waited >= cfg.patience:
                result.stopped_early = True
                result.stop_reason = "early_stopping"
                return True
        return False

    def restore_best(self) -> None:
        """Load the best epoch's weights when training went on past it."""
        result = self.result
        result.kept_epoch = result.epochs_run
        if self.best_state is not None and (result.best_epoch != result.epochs_run):
            self.model.load_state_dict(self.best_state)
            result.kept_epoch = int(result.best_epoch or result.epochs_run)


def fit(
    model: nn.Module,
    cfg: LoopConfig,
    *,
    X_train: torch.Tensor,
    y_train: torch.Tensor,
    X_val: torch.Tensor,
    y_val: torch.Tensor,
    y_val_true: np.ndarray,
    precision: Precision,
    progress=None,
    val_scores: Callable[[torch.Tensor], np.ndarray] | None = None,
    on_epoch: Callable[[int, float, np.ndarray, dict[str, float]], None] | None = None,
    shards: Any = None,
) -> LoopResult:
    """Train ``model`` in place; returns the history and the early-stopping outcome.

    Parameters
    ----------
    model : nn.Module
        On the device already.
    cfg : LoopConfig
        Resolved options.
    X_train, y_train, X_val, y_val : torch.Tensor
        Preassembled tensors on the device (targets as the loss needs them).
    y_val_true : ndarray
        Validation targets in original units, for the validation metric.
    precision : Precision
        Autocast dtype and gradient scaling.
    progress : auditor.progress.Progress, optional
        Draws a bar over epochs on a terminal.
    val_scores : callable, optional
        Maps validation outputs (on device) to scores in original units (regression).
    on_epoch : callable, optional
        ``on_epoch(epoch, val_loss, val_scores, measured)`` after each epoch is recorded
        (scores as ``Predictor.predict`` returns them; ``measured``: {metric: value} of the
        validation figure the loop computed, so a caller need not compute it again); an
        exception it raises ends training there.
    shards : auditor.train.distributed.Shards, optional
        Data-parallel training (``training.distributed``): this process's rows each epoch,
        DistributedDataParallel around ``model``, and the epoch's figures averaged across
        processes (the stop decision is rank 0's), so every process stops at the same epoch.
    """
    setup = _setup(model, cfg, X_train, y_train, precision, shards)
    trainer = model if shards is None else shards.wrap(model)
    tracker = _EpochTracker(model, cfg, setup)
    _loss_buffers(setup)
    bar = progress.bar(total=cfg.epochs, desc="train") if progress is not None else None
    start = time.perf_counter()
    model.train()
    try:
        for epoch in range(1, cfg.epochs + 1):
            t0 = time.perf_counter()
            train_loss = _train_epoch(trainer, cfg, setup, X_train, y_train, epoch)
            val_loss, val_metric, scores = _validate(
                model, cfg, setup, tracker.shown, X_val, y_val, y_val_true, val_scores
            )
            if shards is not None:
                train_loss, val_loss, val_metric = shards.mean(train_loss, val_loss, val_metric)
            tracker.record(epoch, t0, train_loss, val_loss, val_metric, bar)
            if on_epoch is not None:  # with the figure already measured (not again)
                on_epoch(epoch, val_loss, scores, {tracker.shown: val_metric})
            stop = tracker.should_stop(epoch, train_loss, val_loss, start)
            if shards is not None:
                stop = shards.agree(stop)  # rank 0's: every process stops at one epoch
            if stop:
                break
    finally:
        if bar is not None:
            bar.close()
    tracker.restore_best()
    model.eval()
    tracker.result.seconds = time.perf_counter() - start
    return tracker.result
