"""Generated frames with known structure for the data-stage tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def planted_frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Binary target driven by x1 and the category; sex and a group and a time column."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.normal(5, 2, size=n)
    color = rng.choice(["red", "green", "blue"], size=n)
    logit = 2 * x1 + (color == "red") * 1.0
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "row_id": np.arange(n),
            "x1": x1,
            "x2": x2,
            "color": color,
            "sex": rng.choice(["f", "m"], size=n),
            "customer": rng.integers(0, 40, size=n),
            "day": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 200, n), unit="D"),
            "label": y,
        }
    )
