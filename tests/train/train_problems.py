"""Small generated problems with known structure for the engine tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def problem(
    task: str = "binary", n: int = 800, seed: int = 0, *, minority: float | None = None
) -> pd.DataFrame:
    """An easy problem: the target is a function of x1, x2 and a category; x3 is noise."""
    rng = np.random.default_rng(seed)
    x1, x2, x3 = rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
    color = rng.choice(["red", "green", "blue"], size=n)
    signal = 2.0 * x1 - 1.5 * x2 + 1.0 * (color == "red")
    frame = pd.DataFrame(
        {"x1": x1, "x2": x2, "x3": x3, "color": color, "sex": rng.choice(["f", "m"], size=n)}
    )
    if task == "binary":
        if minority is not None:
            cut = np.quantile(signal, 1 - minority)
            frame["y"] = (signal + rng.normal(0, 0.7, n) > cut).astype(int)
        else:
            frame["y"] = (signal + rng.normal(0, 0.5, n) > 0).astype(int)
    elif task == "multiclass":
        frame["y"] = np.select([signal < -1, signal < 1], ["low", "mid"], "high")
    else:
        frame["y"] = 3.0 * signal + rng.normal(0, 0.3, n) + 50.0
    return frame


def quick_training(**overrides) -> dict:
    base = {"epochs": 15, "batch_size": 64, "learning_rate": 0.01, "device": "cpu", "seed": 0}
    base.update(overrides)
    return base


def binary_fit_inputs(spec, dataset):
    """What train_model hands ``loop.fit`` for a binary run on the CPU, built the same way.

    Returns ``(model, cfg, tensors)``: call ``loop.fit(model, cfg, **tensors, precision=...)``
    to drive the loop directly (a chosen precision, or counting what the loop itself calls).
    """
    import torch

    from auditor.train import loop, loop_config
    from auditor.train.architectures import build_model, model_config

    cfg = loop_config(spec, dataset, seed=0)
    config = model_config(
        spec.model, in_features=dataset.X["train"].shape[1], task="binary", n_classes=2
    )
    torch.manual_seed(0)
    model = build_model(config)
    cpu = torch.device("cpu")
    xt, yt = loop.to_device_tensors(dataset.X["train"], dataset.y["train"], "binary", cpu)
    xv, yv = loop.to_device_tensors(dataset.X["validation"], dataset.y["validation"], "binary", cpu)
    tensors = {
        "X_train": xt,
        "y_train": yt,
        "X_val": xv,
        "y_val": yv,
        "y_val_true": dataset.y["validation"],
    }
    return model, cfg, tensors
