"""Fixtures for the training engine: small generated problems with known structure."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from tiny_encoder import build_tiny_encoder
from train_problems import problem, quick_training

from auditor.spec.defaults import apply_defaults
from auditor.types import Spec


@pytest.fixture
def make_run(tmp_path):
    """``make_run(task, frame=None, training=..., model=..., **data) -> (spec, dataset)``."""
    from auditor.data import build_dataset

    def make(
        task: str = "binary",
        frame: pd.DataFrame | None = None,
        *,
        training: dict | None = None,
        model: dict | None = None,
        holdout: pd.DataFrame | None = None,
        **data,
    ):
        frame = problem(task) if frame is None else frame
        frame.to_csv(tmp_path / "train.csv", index=False)
        values = {
            "version": 1,
            "name": "engine-test",
            "objective": {"task": task, "target": "y"},
            "data": {"train": "train.csv", "sensitive": ["sex"], **data},
            "model": model or {},
            "training": quick_training(**(training or {})),
        }
        if task == "regression":
            values["data"].setdefault("split", {"strategy": "random"})
        if holdout is not None:
            holdout.to_csv(tmp_path / "holdout.csv", index=False)
            values["data"]["holdout"] = "holdout.csv"
        spec = Spec(path=Path(tmp_path) / "spec.yaml", values=apply_defaults(values))
        return spec, build_dataset(spec)

    return make


@pytest.fixture(scope="module")
def encoder(tmp_path_factory) -> Path:
    """A tiny BERT (2 layers, width 32) with a word-level vocabulary, saved to a folder."""
    return build_tiny_encoder(tmp_path_factory.mktemp("encoder"))
