"""The in-house model audited beside a vendor's: trained here on the same client data.

``model.compare: in_house`` trains the architecture the spec declares (the training engine);
``model.compare: linear`` fits a plain logistic (classification) or ridge (regression)
regression on the same preprocessed features. Either is then evaluated, checked and judged
on the same splits and bootstrap resamples as the vendor's model (:mod:`auditor.compare`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from auditor.types import Dataset, Spec


class LinearModel:
    """A plain linear model fitted on the training split's preprocessed features."""

    kind = "linear"
    has_scores = True

    def __init__(self, dataset: Dataset, *, seed: int):
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression, Ridge

        self.task = dataset.task
        self.n_classes = len(dataset.classes)
        X, y = dataset.X["train"], np.asarray(dataset.y["train"])
        if self.task == "regression":
            self.model = Ridge(alpha=1.0)
        else:
            self.model = LogisticRegression(max_iter=1000, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # a plain reference model
            self.model.fit(X, y)
        coefficients = np.ascontiguousarray(self.model.coef_, dtype=np.float64).tobytes()
        self.info: dict[str, Any] = {
            "architecture": "ridge" if self.task == "regression" else "logistic regression",
            "fingerprint": hashlib.sha256(coefficients).hexdigest(),
            "train_rows": int(len(y)),
        }
        self.history: list[dict[str, Any]] = []

    def predict(self, dataset: Dataset, split: str) -> np.ndarray:
        """Scores of every row of ``split`` (as :class:`auditor.types.Predictor`)."""
        X = dataset.X[split]
        if self.task == "regression":
            return self.model.predict(X).astype(np.float64)
        proba = np.zeros((len(X), self.n_classes))
        proba[:, self.model.classes_.astype(int)] = self.model.predict_proba(X)
        return proba[:, 1] if self.task == "binary" else proba


def _in_house(spec: Spec, dataset: Dataset, progress):
    from auditor.train import train_model

    return train_model(spec, dataset, progress=progress)


def _linear(spec: Spec, dataset: Dataset, progress):
    return LinearModel(dataset, seed=int(spec.training.seed))


@dataclass(frozen=True, kw_only=True)
class Challenger:
    """One choice of ``model.compare``: what is trained beside the vendor's model."""

    label: str  # what the report calls the side ("the in-house model")
    build: Callable[[Spec, Dataset, Any], Any] | None  # (spec, dataset, progress) -> model


#: ``model.compare``'s choices, in the schema's order (``make schema`` writes the enum).
CHALLENGERS: dict[str, Challenger] = {
    "none": Challenger(label="", build=None),
    "in_house": Challenger(label="the in-house model", build=_in_house),
    "linear": Challenger(label="the in-house model", build=_linear),
}


def obtain_challenger(spec: Spec, dataset: Dataset, *, progress=None):
    """The in-house model ``model.compare`` asks for, trained on ``data.train``; else None."""
    choice = CHALLENGERS[spec.model.compare]
    if choice.build is None or spec.model.vendor is None:
        return None
    return choice.build(spec, dataset, progress)


def challenger_label(spec: Spec, predictor) -> str:
    """'the in-house model (mlp)' / 'the in-house model (logistic regression)'."""
    architecture = (predictor.info or {}).get("architecture") or spec.model.architecture
    return f"{CHALLENGERS[spec.model.compare].label} ({architecture})"
