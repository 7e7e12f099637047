"""Registries of optimizers and learning-rate schedules, built from the typed ``training``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:  # pragma: no cover
    from auditor.spec.typed import Schedule as ScheduleSettings
    from auditor.spec.typed import Training

MSG_UNKNOWN_OPTIMIZER = "unknown optimizer {name!r}; available: {available}"
MSG_UNKNOWN_SCHEDULE = "unknown schedule {name!r}; available: {available}"


def _sgd(params, t: Training):
    return torch.optim.SGD(
        params, lr=t.learning_rate, momentum=t.momentum, weight_decay=t.weight_decay
    )


def _adam(params, t: Training):
    return torch.optim.Adam(params, lr=t.learning_rate, weight_decay=t.weight_decay)


def _adamw(params, t: Training):
    return torch.optim.AdamW(params, lr=t.learning_rate, weight_decay=t.weight_decay)


def _adagrad(params, t: Training):
    return torch.optim.Adagrad(params, lr=t.learning_rate, weight_decay=t.weight_decay)


def _rmsprop(params, t: Training):
    return torch.optim.RMSprop(
        params, lr=t.learning_rate, momentum=t.momentum, weight_decay=t.weight_decay
    )


OPTIMIZERS = {"sgd": _sgd, "adam": _adam, "adamw": _adamw, "adagrad": _adagrad, "rmsprop": _rmsprop}


def build_optimizer(params, training: Training) -> torch.optim.Optimizer:
    """The optimizer named by ``training.optimizer`` with its learning rate and weight decay."""
    name = training.optimizer
    if name not in OPTIMIZERS:
        raise ValueError(
            MSG_UNKNOWN_OPTIMIZER.format(name=name, available=", ".join(sorted(OPTIMIZERS)))
        )
    return OPTIMIZERS[name](params, training)


class Schedule:
    """A learning-rate schedule with one interface for the loop.

    ``after_batch()`` is called after every optimizer step and ``after_epoch(val_loss)``
    after every epoch; each schedule acts on the one that applies to it.
    """

    per_batch = False

    def __init__(self, scheduler=None):
        self.scheduler = scheduler

    def after_batch(self) -> None:
        if self.per_batch and self.scheduler is not None:
            self.scheduler.step()

    def after_epoch(self, val_loss: float) -> None:
        if not self.per_batch and self.scheduler is not None:
            self.scheduler.step()


class _BatchSchedule(Schedule):
    per_batch = True


class _PlateauSchedule(Schedule):
    def after_epoch(self, val_loss: float) -> None:
        self.scheduler.step(val_loss)


def _constant(opt, s: ScheduleSettings, *, epochs, steps_per_epoch, learning_rate):
    return Schedule(None)


def _step(opt, s, *, epochs, steps_per_epoch, learning_rate):
    return Schedule(torch.optim.lr_scheduler.StepLR(opt, step_size=s.step_size, gamma=s.gamma))


def _cosine(opt, s, *, epochs, steps_per_epoch, learning_rate):
    return Schedule(torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(epochs, 1)))


def _onecycle(opt, s, *, epochs, steps_per_epoch, learning_rate):
    peak = s.max_learning_rate or 10 * learning_rate
    defaults = opt.defaults
    # cycle beta1 (adam, adamw) or SGD's momentum; adagrad has neither, and cycling RMSprop's
    # momentum up to 0.95 makes it diverge
    cycles = "betas" in defaults or (
        isinstance(opt, torch.optim.SGD) and defaults.get("momentum", 0) > 0
    )
    return _BatchSchedule(
        torch.optim.lr_scheduler.OneCycleLR(
            opt,
            max_lr=peak,
            epochs=max(epochs, 1),
            steps_per_epoch=max(steps_per_epoch, 1),
            cycle_momentum=cycles,
        )
    )


def _plateau(opt, s, *, epochs, steps_per_epoch, learning_rate):
    return _PlateauSchedule(
        torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode="min", factor=s.gamma, patience=s.patience
        )
    )


SCHEDULES = {
    "constant": _constant,
    "step": _step,
    "cosine": _cosine,
    "onecycle": _onecycle,
    "plateau": _plateau,
}


def build_schedule(optimizer, training: Training, *, epochs: int, steps_per_epoch: int) -> Schedule:
    """The schedule named by ``training.schedule.name``."""
    section = training.schedule
    name = section.name
    if name not in SCHEDULES:
        raise ValueError(
            MSG_UNKNOWN_SCHEDULE.format(name=name, available=", ".join(sorted(SCHEDULES)))
        )
    return SCHEDULES[name](
        optimizer,
        section,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        learning_rate=training.learning_rate,
    )
