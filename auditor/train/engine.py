"""Training a declared architecture with PyTorch on the best device: :func:`train_model`.

torch is imported only when training starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.types import LM_TASKS

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from auditor.train.predictor import TrainedPredictor
    from auditor.types import Dataset, Spec

MSG_EMPTY_TRAIN_ROWS = "train_rows selects no training rows"

#: The rows a model learns from (``training.train_on``; ``tuning.retrain`` writes it):
#: name -> how sentences say it.
TRAIN_ON: dict[str, str] = {
    "train": "the train split",
    "train_and_validation": "the train and validation splits",
}


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
    spec: Spec,
    dataset: Dataset,
    *,
    train_rows: np.ndarray | None = None,
    progress=None,
    on_epoch=None,
    processes=None,
) -> TrainedPredictor:
    """Train the spec's architecture on the dataset's train split.

    Parameters
    ----------
    spec : Spec
        Resolved spec (``model``, ``training``, ``data.preprocessing``/``augmentation``).
    dataset : Dataset
        Only its ``train`` and ``validation`` splits are read: the test split and the
        holdout never reach training or early stopping. With ``training.train_on:
        train_and_validation`` the validation rows are trained on too (after the train
        rows), and the validation figures of the history are then in-sample.
    train_rows : ndarray of int, optional
        Positions into the train split to train on (learning curves); validation is the
        same split as always.
    progress : auditor.progress.Progress, optional
        Shows a bar over epochs on a terminal.
    on_epoch : callable, optional
        ``on_epoch(epoch, val_loss, val_scores, measured)`` after every epoch
        (``measured``: {metric: value} the loop computed on the validation split; the
        tuning stage reports to its pruner there; an exception it raises ends training).
    processes : auditor.train.distributed.Processes, optional
        This process's place in a torchrun launch (``processes_for``): with several
        processes and ``training.distributed`` they train this model together, data-parallel.
        Without it the model trains in this process alone (learning curves, trials).

    Returns
    -------
    TrainedPredictor

    Raises
    ------
    DeviceError
        The requested device or precision is not available (before any training).
    """
    if spec.task in LM_TASKS:  # a language model from scratch, or a checkpoint fine-tuned
        return train_lm(spec, dataset, progress=progress, on_epoch=on_epoch, processes=processes)
    if spec.model.architecture == "text_classifier":  # an encoder fine-tuned on a text column
        from auditor.train.text_classifier import train_text_classifier

        return train_text_classifier(spec, dataset, train_rows=train_rows, progress=progress)
    from auditor.train.distributed import ONE_PROCESS, data_parallel

    training = spec.training
    processes = processes or ONE_PROCESS
    device, precision = _device_and_precision(spec, processes)
    seed = int(training.seed)
    cfg = loop_config(spec, dataset, seed=seed)
    X_val, y_val = dataset.X["validation"], dataset.y["validation"]
    X_train, y_train = _training_rows(dataset, train_rows, training.train_on)
    scaling = _target_scaling(dataset.task, y_train)
    rows = X_train.shape[0]
    with data_parallel(spec, processes, device, rows=rows, sources=dataset.sources) as shards:
        config, model = _seeded_model(spec, dataset, X_train.shape[1], device)
        tensors = _device_tensors(dataset.task, device, scaling, X_train, y_train, X_val, y_val)
        threads, started, result = _fit(
            spec,
            cfg,
            model,
            tensors,
            device=device,
            precision=precision,
            y_val=y_val,
            progress=progress,
            val_scores=_val_scores(dataset.task, scaling),
            on_epoch=on_epoch,
            shards=shards,
        )
    info = _training_info(
        spec, cfg, result, config, device, precision, started, X_train, X_val, threads
    )
    if shards is not None:
        info["distributed"] = shards.describe()
        info["notes"] = [shards.note()]
    return _predictor(spec, dataset, model, config, scaling, device, result, info)


def train_lm(
    spec: Spec, dataset: Dataset, *, progress=None, on_epoch=None, tokenizer=None, processes=None
):
    """A ``pretrained_lm`` checkpoint fine-tuned, or a ``transformer_lm`` from scratch
    (``tokenizer``: one trained already, which a model from scratch keeps; a checkpoint
    has its own; ``processes``: data-parallel under torchrun, as :func:`train_model`)."""
    if spec.model.architecture == "pretrained_lm":
        from auditor.train.lm_pretrained import fine_tune_language_model

        return fine_tune_language_model(
            spec, dataset, progress=progress, on_epoch=on_epoch, processes=processes
        )
    from auditor.train.lm import train_language_model

    return train_language_model(
        spec,
        dataset,
        progress=progress,
        on_epoch=on_epoch,
        tokenizer=tokenizer,
        processes=processes,
    )


def _device_and_precision(spec: Spec, processes: Any) -> tuple[Any, Any]:
    """The training device and precision the spec asks for (DeviceError when unavailable);
    under several processes on CUDA, the GPU of this process's LOCAL_RANK."""
    from auditor.train.device import resolve_precision
    from auditor.train.distributed import process_device

    training = spec.training
    device = process_device(spec, processes)
    precision = resolve_precision(
        training.precision, device, location=spec.locate(("training", "precision"))
    )
    return device, precision


def _training_rows(
    dataset: Dataset, train_rows: np.ndarray | None, train_on: str = "train"
) -> tuple[Any, Any]:
    """The train split's features and targets, or only the rows at ``train_rows``; then
    the validation split's too when ``train_on`` is ``train_and_validation``."""
    import numpy as np

    from auditor.errors import DataError

    X_train, y_train = dataset.X["train"], dataset.y["train"]
    if train_rows is not None:
        rows = np.asarray(train_rows, dtype=np.int64)
        if rows.size == 0:
            raise DataError(MSG_EMPTY_TRAIN_ROWS)
        X_train, y_train = X_train[rows], y_train[rows]
    if train_on == "train_and_validation":
        X_train = np.concatenate([X_train, dataset.X["validation"]])
        y_train = np.concatenate([y_train, dataset.y["validation"]])
    return X_train, y_train


def _target_scaling(task: str, y_train: np.ndarray) -> dict[str, float]:
    """How regression targets are standardised for training (identity otherwise)."""
    import numpy as np

    scaling = {"mean": 0.0, "std": 1.0}
    if task == "regression":
        std = float(np.std(y_train))
        scaling = {"mean": float(np.mean(y_train)), "std": std if std > 0 else 1.0}
    return scaling


def _seeded_model(
    spec: Spec, dataset: Dataset, in_features: int, device: Any
) -> tuple[dict[str, Any], Any]:
    """Seed every random source, then build the declared architecture on the device."""
    from auditor.train.architectures import build_model, model_config
    from auditor.train.seed import seed_everything

    training = spec.training
    seed_everything(
        int(training.seed), deterministic=bool(training.deterministic), device_type=device.type
    )
    config = model_config(
        spec.model,
        in_features=in_features,
        task=dataset.task,
        n_classes=len(dataset.classes),
    )
    return config, build_model(config).to(device)


def _device_tensors(
    task: str,
    device: Any,
    scaling: dict[str, float],
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
) -> dict[str, Any]:
    """The training and validation splits as device tensors, each moved once."""
    from auditor.train.loop import to_device_tensors

    xt, yt = to_device_tensors(X_train, y_train, task, device, scaling["mean"], scaling["std"])
    xv, yv = to_device_tensors(X_val, y_val, task, device, scaling["mean"], scaling["std"])
    return {"X_train": xt, "y_train": yt, "X_val": xv, "y_val": yv}


def _val_scores(task: str, scaling: dict[str, float]):
    """For regression, validation outputs back in the target's units; None otherwise."""
    import numpy as np
    import torch

    val_scores = None
    if task == "regression":

        def val_scores(out: torch.Tensor) -> np.ndarray:
            return (
                out.float().squeeze(1).cpu().numpy().astype(np.float64) * scaling["std"]
                + scaling["mean"]
            )

    return val_scores


def _fit(
    spec: Spec,
    cfg: Any,
    model: Any,
    tensors: dict[str, Any],
    *,
    device: Any,
    precision: Any,
    y_val: np.ndarray,
    progress,
    val_scores,
    on_epoch=None,
    shards=None,
) -> tuple[int, float, Any]:
    """Run the loop under the chosen number of CPU threads: (threads, start time, result)."""
    import time

    import numpy as np

    from auditor.train.architectures import count_parameters
    from auditor.train.device import cpu_threads, torch_threads
    from auditor.train.loop import fit

    threads = cpu_threads(
        spec.training.cpu_threads,
        device=device,
        batch_size=cfg.batch_size,
        parameters=count_parameters(model),
    )
    started = time.perf_counter()
    with torch_threads(threads):
        result = fit(
            model,
            cfg,
            **tensors,
            y_val_true=np.asarray(y_val),
            precision=precision,
            progress=progress,
            val_scores=val_scores,
            on_epoch=on_epoch,
            shards=shards,
        )
    return threads, started, result


def _training_info(
    spec: Spec,
    cfg: Any,
    result: Any,
    config: dict[str, Any],
    device: Any,
    precision: Any,
    started: float,
    X_train: np.ndarray,
    X_val: np.ndarray,
    threads: int,
) -> dict[str, Any]:
    """What the run records about training: architecture, device, stopping, timing."""
    import time

    import torch

    from auditor.train.device import device_name

    training = spec.training
    from auditor.train.artifacts import run_record

    return {
        "architecture": config["architecture"],
        "config": config,
        "device": str(device),
        "device_name": device_name(device),
        "precision": precision.name,
        **run_record(result),
        "monitor": cfg.monitor,
        "val_metric_name": result.metric_name,
        "train_seconds": round(time.perf_counter() - started, 4),
        "train_on": training.train_on,
        "train_rows": int(X_train.shape[0]),
        "validation_rows": int(X_val.shape[0]),
        "seed": int(training.seed),
        "cpu_threads": threads,
        "deterministic": bool(training.deterministic) or device.type == "cpu",
        "torch": torch.__version__,
        "optimizer": training.optimizer,
        "schedule": training.schedule.name,
        "imbalance": "none"
        if cfg.class_weights is None and cfg.oversample_weights is None
        else ("class_weights" if cfg.class_weights is not None else "oversample"),
    }


def _predictor(
    spec: Spec,
    dataset: Dataset,
    model: Any,
    config: dict[str, Any],
    scaling: dict[str, float],
    device: Any,
    result: Any,
    info: dict[str, Any],
) -> TrainedPredictor:
    """The trained model wrapped for prediction, with its preprocessing and history."""
    from auditor.train.predictor import TrainedPredictor

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
        export_onnx=bool(spec.training.export_onnx),
    )
