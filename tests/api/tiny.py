"""The tiny audit of the API tests: a seeded DataFrame with planted effects, a model fitted
on it, and its spec as a mapping.

Ground truth: the target follows ``x1 + 0.5 x2`` plus noise (a logistic regression on x1 and
x2 ranks it well: ROC-AUC about 0.85), and group 'b' has a higher base rate by construction
(``+1.2`` on the logit), so the model, which reads x1 and x2 where the bias is planted through
x1, selects group 'b' far more often: demographic parity difference about 0.4.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd

ROWS = 600
SEED = 5
FEATURES = ["x1", "x2"]

SPEC: dict[str, Any] = {
    "version": 1,
    "name": "tiny-api-audit",
    "objective": {
        "task": "binary",
        "target": "y",
        "positive": 1,
        "purpose": "Rank tiny cases for review.",
    },
    "data": {
        "train": None,  # a DataFrame or a file, set by each test
        "sensitive": ["group"],
        "split": {"strategy": "stratified", "validation": 0.2, "test": 0.3, "seed": 3},
    },
    "evaluation": {"bootstrap": 200, "confidence": 0.9},
    "acceptance": [
        {"metric": "roc_auc", "split": "test", "at_least": 0.7},
        {"metric": "demographic_parity_difference", "sensitive": "group", "at_most": 0.1},
        {"metric": "accuracy", "split": "test", "at_least": 0.99, "severity": "advisory"},
    ],
    "report": {"title": "Tiny API audit", "owner": "Tests"},
}


def tiny_frame(rows: int = ROWS, seed: int = SEED) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b"], size=rows)
    x1 = rng.normal(size=rows) + np.where(group == "b", 1.2, 0.0)  # the planted bias
    x2 = rng.normal(size=rows)
    y = (x1 + 0.5 * x2 + rng.normal(scale=0.8, size=rows) > 0.6).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2, "group": group, "y": y})


def tiny_model(frame: pd.DataFrame):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression().fit(frame[FEATURES], frame["y"])


def tiny_spec(train: Any) -> dict[str, Any]:
    spec = copy.deepcopy(SPEC)
    spec["data"]["train"] = train
    return spec
