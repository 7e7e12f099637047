"""Small seeded problems and spec text for the tuning tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROWS = 300


def problem(rows: int = ROWS, seed: int = 0) -> pd.DataFrame:
    """An easy binary problem: y follows x1 - x2 (and a red colour); x3 is noise; region
    groups rows for grouped folds."""
    rng = np.random.default_rng(seed)
    x1, x2, x3 = rng.normal(size=rows), rng.normal(size=rows), rng.normal(size=rows)
    color = rng.choice(["red", "green", "blue"], size=rows)
    signal = 2.0 * x1 - 1.5 * x2 + 1.0 * (color == "red")
    return pd.DataFrame(
        {
            "x1": x1,
            "x2": x2,
            "x3": x3,
            "color": color,
            "region": rng.choice([f"r{i}" for i in range(8)], size=rows),
            "sex": rng.choice(["f", "m"], size=rows),
            "y": (signal + rng.normal(0, 0.5, rows) > 0).astype(int),
        }
    )


def spec_values(**tuning) -> dict:
    """A spec training a small MLP fast on the CPU, with ``tuning`` (its fields)."""
    values = {
        "version": 1,
        "name": "tuning-test",
        "objective": {"task": "binary", "target": "y"},
        "data": {
            "train": "train.csv",
            "sensitive": ["sex"],
            "split": {"strategy": "random", "seed": 3},
        },
        "model": {"architecture": "mlp", "hidden": [16]},
        "training": {
            "epochs": 5,
            "batch_size": 64,
            "learning_rate": 0.01,
            "device": "cpu",
            "seed": 0,
            "early_stopping": {"patience": 2},
        },
        "tuning": {"method": "random", "trials": 4, **tuning},
    }
    if "space" not in tuning:
        values["tuning"]["space"] = [
            {"option": "model.architecture", "choices": ["linear", "mlp"]},
            {"option": "training.learning_rate", "low": 0.002, "high": 0.05, "log": True},
        ]
    return values


def write_spec(folder: Path, values: dict, *, frame: pd.DataFrame | None = None) -> Path:
    """The data file and the spec in ``folder``; the spec's path."""
    folder.mkdir(parents=True, exist_ok=True)
    (problem() if frame is None else frame).to_csv(folder / "train.csv", index=False)
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    return path


def _record(number, value, state="complete", **values):
    from auditor.tuning.search import TrialRecord

    return TrialRecord(
        number=number,
        state=state,
        values=values or {"training.learning_rate": 0.01},
        value=value if state == "complete" else None,
        epochs=5,
        folds=[],
        reported=5,
        seconds=0.5,
    )


def fabricated_outcome(*, importance=None, kept=False):
    """A search's outcome as the checks read it: 4 trials (1 pruned, 1 failed), trial 2
    best; ``kept``: the spec's own configuration kept instead."""
    from auditor.tuning.search import TuningOutcome

    trials = [
        _record(0, 0.70, **{"model.architecture": "mlp", "training.learning_rate": 0.003}),
        _record(1, None, state="pruned"),
        _record(2, 0.78, **{"model.architecture": "linear", "training.learning_rate": 0.02}),
        _record(3, None, state="failed"),
    ]
    baseline = _record(None, 0.74, **{"model.architecture": "mlp", "training.learning_rate": 1e-3})
    best = trials[2]
    picked = baseline if kept else best
    return TuningOutcome(
        method="random",
        method_label="random search",
        pruning="median",
        metric="roc_auc",
        direction="maximize",
        scored_on="validation",
        cv=None,
        budget={"trials": 4, "seconds": None},
        seed=0,
        counts={"run": 4, "complete": 2, "pruned": 1, "failed": 1, "repeated": 0},
        seconds=12.0,
        declared={},
        baseline=baseline,
        chosen={
            "source": "spec" if kept else "trial",
            "trial": picked.number,
            "values": picked.values,
            "value": picked.value,
            "epochs": 5,
        },
        improvement=0.04,
        retrain={"on": "train", "epochs": None},
        trials=trials,
        best=[best, trials[0]],
        importance=importance,
        importance_note=None if importance else "2 complete trials; at least 4 are needed",
    )
