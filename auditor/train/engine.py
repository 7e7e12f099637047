"""Training a declared architecture with PyTorch on the best device: :func:`train_model`.

torch is imported only when training starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from auditor.train.predictor import TrainedPredictor
    from auditor.types import Dataset, Spec

MSG_EMPTY_TRAIN_ROWS = "train_rows selects no training rows"


def loop_config(spec: Spec, dataset: Dataset, *, seed: int) -> Any:
    """The loop options from the resolved spec (raises SpecError for an unknown monitor)."""
    from auditor.data import balanced_class_weights
    from auditor.data.preprocess import numeric_feature_mask
    from auditor.errors import SpecError
    from auditor.metrics.performance import default_metric
    from auditor.train import monitor
    from auditor.train.loop import LoopConfig

    training = spec.training
    stopping = training.early_stopping
    aug = spec.data.augmentation
    task = dataset.task
    watched = stopping.metric
    try:
        monitor.check_monitor(watched, task)
    except ValueError as exc:
        raise SpecError(str(exc), spec.locate(("training", "early_stopping", "metric"))) from None
    imbalance = spec.data.preprocessing.imbalance if task != "regression" else "none"
    weights = dataset.class_weights
    if imbalance != "none" and weights is None:
        weights = balanced_class_weights(dataset.y["train"], len(dataset.classes))
    return LoopConfig(
        task=task,
        epochs=int(training.epochs),
        batch_size=int(training.batch_size),
        training=training,
        monitor=watched,
        report_metric=default_metric(task, wanted=spec.evaluation.metrics),
        early_stopping=bool(stopping.enabled),
        patience=int(stopping.patience),
        min_delta=float(stopping.min_delta),
        restore_best=bool(stopping.restore_best),
        time_budget=training.time_budget,
        gradient_clip=training.gradient_clip,
        class_weights=weights if imbalance == "class_weights" else None,
        oversample_weights=weights if imbalance == "oversample" else None,
        noise_std=float(aug.gaussian_noise),
        mixup_alpha=float(aug.mixup),
        numeric_mask=numeric_feature_mask(dataset.feature_names),
        seed=seed,
    )


def train_model(
    spec: Spec, dataset: Dataset, *, train_rows: np.ndarray | None = None, progress=None
) -> TrainedPredictor:
    """Train the spec's architecture on the dataset's train split.

    Parameters
    ----------
    spec : Spec
        Resolved spec (``model``, ``training``, ``data.preprocessing``/``augmentation``).
    dataset : Dataset
        Only its ``train`` and ``validation`` splits are read: the test split and the
        holdout never reach training or early stopping.
    train_rows : ndarray of int, optional
        Positions into the train split to train on (learning curves); validation is the
        same split as always.
    progress : auditor.progress.Progress, optional
        Shows a bar over epochs on a terminal.

    Returns
    -------
    TrainedPredictor

    Raises
    ------
    DeviceError
        The requested device or precision is not available (before any training).
    """
    import time

    import numpy as np
    import torch

    from auditor.errors import DataError
    from auditor.train.architectures import build_model, count_parameters, model_config
    from auditor.train.device import (
        cpu_threads,
        device_name,
        resolve_device,
        resolve_precision,
        torch_threads,
    )
    from auditor.train.loop import fit, to_device_tensors
    from auditor.train.predictor import TrainedPredictor
    from auditor.train.seed import seed_everything

    training = spec.training
    device = resolve_device(training.device, location=spec.locate(("training", "device")))
    precision = resolve_precision(
        training.precision, device, location=spec.locate(("training", "precision"))
    )
    seed = int(training.seed)
    cfg = loop_config(spec, dataset, seed=seed)

    X_train, y_train = dataset.X["train"], dataset.y["train"]
    if train_rows is not None:
        rows = np.asarray(train_rows, dtype=np.int64)
        if rows.size == 0:
            raise DataError(MSG_EMPTY_TRAIN_ROWS)
        X_train, y_train = X_train[rows], y_train[rows]
    X_val, y_val = dataset.X["validation"], dataset.y["validation"]

    scaling = {"mean": 0.0, "std": 1.0}
    if dataset.task == "regression":
        std = float(np.std(y_train))
        scaling = {"mean": float(np.mean(y_train)), "std": std if std > 0 else 1.0}

    seed_everything(seed, deterministic=bool(training.deterministic), device_type=device.type)
    config = model_config(
        spec.model,
        in_features=X_train.shape[1],
        task=dataset.task,
        n_classes=len(dataset.classes),
    )
    model = build_model(config).to(device)

    xt, yt = to_device_tensors(
        X_train, y_train, dataset.task, device, scaling["mean"], scaling["std"]
    )
    xv, yv = to_device_tensors(X_val, y_val, dataset.task, device, scaling["mean"], scaling["std"])
    val_scores = None
    if dataset.task == "regression":

        def val_scores(out: torch.Tensor) -> np.ndarray:
            return (
                out.float().squeeze(1).cpu().numpy().astype(np.float64) * scaling["std"]
                + scaling["mean"]
            )

    threads = cpu_threads(
        training.cpu_threads,
        device=device,
        batch_size=cfg.batch_size,
        parameters=count_parameters(model),
    )
    started = time.perf_counter()
    with torch_threads(threads):
        result = fit(
            model,
            cfg,
            X_train=xt,
            y_train=yt,
            X_val=xv,
            y_val=yv,
            y_val_true=np.asarray(y_val),
            precision=precision,
            progress=progress,
            val_scores=val_scores,
        )
    info = {
        "architecture": config["architecture"],
        "config": config,
        "device": str(device),
        "device_name": device_name(device),
        "precision": precision.name,
        "epochs_run": result.epochs_run,
        "best_epoch": result.best_epoch,
        "best_value": result.best_value,
        "stopped_early": result.stopped_early,
        "stop_reason": result.stop_reason,
        "monitor": cfg.monitor,
        "val_metric_name": result.metric_name,
        "train_seconds": round(time.perf_counter() - started, 4),
        "train_rows": int(X_train.shape[0]),
        "validation_rows": int(X_val.shape[0]),
        "seed": seed,
        "cpu_threads": threads,
        "deterministic": bool(training.deterministic) or device.type == "cpu",
        "torch": torch.__version__,
        "optimizer": training.optimizer,
        "schedule": training.schedule.name,
        "imbalance": "none"
        if cfg.class_weights is None and cfg.oversample_weights is None
        else ("class_weights" if cfg.class_weights is not None else "oversample"),
    }
    return TrainedPredictor(
        model,
        config=config,
        task=dataset.task,
        classes=dataset.classes,
        target_scaling=scaling,
        device=device,
        preprocessor=dataset.preprocessor,
        feature_names=dataset.feature_names,
        feature_columns=dataset.feature_columns,
        history=result.history,
        info=info,
        export_onnx=bool(training.export_onnx),
    )
