"""A stand-in model of the raw columns, for tests that need drivers measured (no training)."""

from __future__ import annotations

import numpy as np
import pandas as pd


class RawLinear:
    """Scores from the raw numeric feature columns: a fixed linear function of them.

    Binary: a sigmoid; multiclass: a softmax over one column per class; regression: the
    linear value. Enough for permutation importance and partial dependence to be measured.
    """

    kind = "trained"
    has_scores = True
    info: dict = {}
    history: list = []

    def predict(self, dataset, split):
        frame = dataset.frames[split]
        numeric = [c for c in dataset.feature_columns if dataset.column_types.get(c) == "numeric"]
        x = frame[numeric].apply(pd.to_numeric, errors="coerce").fillna(0.0).to_numpy(float)
        x = (x - x.mean(axis=0)) / np.maximum(x.std(axis=0), 1e-9)
        z = x.sum(axis=1)
        if dataset.task == "binary":
            return 1.0 / (1.0 + np.exp(-z))
        if dataset.task == "regression":
            return z
        k = len(dataset.classes)
        logits = np.stack([z * (j - (k - 1) / 2) for j in range(k)], axis=1)
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


def measure_drivers(spec, dataset, evaluation) -> None:
    """Fill ``evaluation.drivers`` as the evaluate stage would, with :class:`RawLinear`."""
    from auditor.importance import model_drivers

    scores = {s: e.scores for s, e in evaluation.splits.items()}
    evaluation.drivers = model_drivers(
        spec,
        dataset,
        RawLinear(),
        scores=scores,
        threshold=evaluation.threshold,
        metric=evaluation.primary_metric,
        notes=evaluation.notes,
    )
