"""Fixtures for the data stage: resolved specs over generated files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from data_frames import planted_frame

from auditor.spec.defaults import apply_defaults
from auditor.types import Spec


def resolved(values: dict, base: Path) -> Spec:
    """A Spec with every schema default applied (as the spec stage hands it over)."""
    return Spec(path=base / "spec.yaml", values=apply_defaults(values))


@pytest.fixture
def make_spec(tmp_path):
    """``make_spec(frame, **sections)`` writes the frame as CSV and returns a resolved Spec."""

    def make(
        frame: pd.DataFrame | None = None,
        *,
        name: str = "train.csv",
        task: str = "binary",
        target: str = "label",
        holdout: pd.DataFrame | None = None,
        **data,
    ) -> Spec:
        frame = planted_frame() if frame is None else frame
        path = tmp_path / name
        _write(frame, path)
        values = {
            "version": 1,
            "name": "t",
            "objective": {"task": task, "target": target},
            "data": {"train": name, **data},
        }
        if holdout is not None:
            _write(holdout, tmp_path / "holdout.csv")
            values["data"]["holdout"] = "holdout.csv"
        return resolved(values, tmp_path)

    return make


def _write(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif path.suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True, date_format="iso")
    else:
        frame.to_csv(path, index=False)
