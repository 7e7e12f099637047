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
