"""Seeded Dataset/Evaluation objects with planted ground truth (no training needed).

The binary generator draws a calibrated model: each row's score ``s`` is drawn first and
its label is Bernoulli(s), so the model is honest but imperfect. A selection-rate gap is
planted by drawing the scores of each sex from ``U ** a`` with ``a`` chosen so that
P(score >= 0.5) is exactly the wanted selection rate of that group.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from auditor.evaluate import baseline_predictions, baselines
from auditor.metrics import decisions
from auditor.spec.defaults import apply_defaults
from auditor.types import Dataset, Evaluation, Spec, SplitEval

SIZES = {"train": 2000, "validation": 1000, "test": 1000}


def make_spec(
    task: str = "binary", *, sensitive=("sex",), acceptance=(), evaluation=None, data=None
) -> Spec:
    values: dict[str, Any] = {
        "version": 1,
        "name": "planted",
        "objective": {"task": task, "target": "y"},
        "data": {"train": "planted.csv", "sensitive": list(sensitive), **(data or {})},
        "evaluation": {"bootstrap": 200, **(evaluation or {})},
        "acceptance": [dict(c) for c in acceptance],
    }
    return Spec(path=Path("/nonexistent/spec.yaml"), values=apply_defaults(values))


def _power_for(rate: float) -> float:
    """a such that P(U ** a >= 0.5) == rate."""
    return math.log(0.5) / math.log(1.0 - rate)


def _binary_split(rng, n, *, rates, leak, tiny, majority_share=None):
    groups = list(rates)
    sex = rng.choice(groups, n)
    if tiny:
        sex[: tiny[1]] = tiny[0]
    u = rng.random(n)
    power = np.array([_power_for(rates.get(g, 0.5)) for g in sex])
    score = u**power
    y = (rng.random(n) < score).astype(np.int64)
    if leak:
        score = np.clip(0.02 + 0.96 * y + rng.normal(0, 0.005, n), 0, 1)
    frame = pd.DataFrame(
        {
            "x1": np.log(score + 1e-3) + rng.normal(0, 1.0, n),
            "x2": rng.normal(0, 1, n),
            "color": rng.choice(["red", "green", "blue"], n),
            "sex": sex,
        }
    )
    if leak:
        frame["leak"] = y + rng.normal(0, 0.01, n)
    frame["y"] = y
    if majority_share is not None:
        score = np.full(n, majority_share)
    return frame, y, score


def make_binary_case(
    seed: int = 0,
    *,
    gap: float = 0.0,
    leak: bool = False,
    tiny=None,
    majority: bool = False,
    history=None,
    sizes=None,
    holdout: int = 0,
):
    """(Dataset, Evaluation) for a binary task with the planted effects asked for.

    gap: selection rate of 'male' minus 'female' (threshold 0.5); leak: a feature equal to
    the target and a near-perfect model; tiny: (group name, rows) placed in every split;
    majority: the model always predicts the training positive share.
    """
    rng = np.random.default_rng(seed)
    rates = {"female": 0.5 - gap / 2, "male": 0.5 + gap / 2}
    sizes = dict(sizes or SIZES)
    if holdout:
        sizes["holdout"] = holdout
    frames, ys, scores = {}, {}, {}
    for split, n in sizes.items():
        frames[split], ys[split], scores[split] = _binary_split(
            rng, n, rates=rates, leak=leak, tiny=tiny
        )
    if majority:
        share = float(ys["train"].mean())
        scores = {s: np.full(len(ys[s]), share) for s in ys}
    features = [c for c in frames["train"].columns if c not in ("y", "sex")]
    types = {c: ("categorical" if c == "color" else "numeric") for c in features}

    def matrix(f):
        num = f[[c for c in features if types[c] == "numeric"]].to_numpy(dtype=np.float32)
        cat = pd.get_dummies(f["color"]).reindex(columns=["blue", "green", "red"], fill_value=0)
        return np.hstack([num, cat.to_numpy(dtype=np.float32)])

    dataset = Dataset(
        task="binary",
        target="y",
        frames=frames,
        X={s: matrix(f) for s, f in frames.items()},
        y=ys,
        groups={s: f[["sex"]].astype(str) for s, f in frames.items()},
        feature_columns=features,
        column_types=types,
        feature_names=[c for c in features if types[c] == "numeric"] + ["blue", "green", "red"],
        classes=[0, 1],
        sensitive=["sex"],
    )
    threshold = 0.5
    splits = {
        s: SplitEval(
            y_true=ys[s],
            scores=scores[s],
            y_pred=decisions("binary", scores[s], threshold),
            groups=dataset.groups[s].reset_index(drop=True),
        )
        for s in frames
    }
    evaluation = Evaluation(
        task="binary",
        classes=[0, 1],
        splits=splits,
        threshold=threshold,
        threshold_info={"strategy": "fixed", "value": threshold},
        history=list(history or []),
        baselines=baselines(dataset, threshold),
        baseline_predictions=baseline_predictions(dataset, threshold),
        primary_metric="roc_auc",
    )
    return dataset, evaluation


def overfit_history(k: int, epochs: int = 20) -> list[dict[str, float]]:
    """Training loss falls every epoch; validation loss falls until epoch k, then rises."""
    out = []
    for e in range(1, epochs + 1):
        train = 0.7 * math.exp(-0.15 * e)
        val = 0.5 + 0.02 * (k - e) ** 2 / k if e <= k else 0.5 + 0.03 * (e - k)
        out.append(
            {
                "epoch": e,
                "train_loss": train,
                "val_loss": val,
                "val_metric": 0.8,
                "lr": 1e-3,
                "seconds": 0.1,
            }
        )
    return out


def steady_history(epochs: int = 20) -> list[dict[str, float]]:
    return [
        {
            "epoch": e,
            "train_loss": 0.7 * math.exp(-0.1 * e),
            "val_loss": 0.5 + 0.3 * math.exp(-0.2 * e),
            "val_metric": 0.8,
            "lr": 1e-3,
            "seconds": 0.1,
        }
        for e in range(1, epochs + 1)
    ]


def make_other_case(task: str, seed: int = 0, n: int = 600):
    """(Dataset, Evaluation) for a multiclass or regression task: an honest, noisy model."""
    rng = np.random.default_rng(seed)
    frames, ys, scores = {}, {}, {}
    for split, size in {"train": 2 * n, "validation": n, "test": n, "holdout": n}.items():
        x1 = rng.normal(size=size)
        sex = rng.choice(["female", "male"], size)
        age = rng.choice(["young", "old"], size)
        if task == "multiclass":
            logits = np.column_stack([x1, -x1, 0.5 * x1**2]) + rng.normal(0, 1, (size, 3))
            y = logits.argmax(axis=1)
            proba = np.exp(logits + rng.normal(0, 1, (size, 3)))
            scores[split] = proba / proba.sum(axis=1, keepdims=True)
        else:
            y = 3 * x1 + rng.normal(0, 1, size) + 10
            scores[split] = y + rng.normal(0, 1.5, size)
        frames[split] = pd.DataFrame(
            {"x1": x1, "color": rng.choice(["a", "b"], size), "sex": sex, "age": age, "y": y}
        )
        ys[split] = y
    classes = ["low", "mid", "high"] if task == "multiclass" else []
    dataset = Dataset(
        task=task,
        target="y",
        frames=frames,
        X={s: f[["x1"]].to_numpy(np.float32) for s, f in frames.items()},
        y=ys,
        groups={s: f[["sex", "age"]].astype(str) for s, f in frames.items()},
        feature_columns=["x1", "color"],
        column_types={"x1": "numeric", "color": "categorical"},
        feature_names=["x1"],
        classes=classes,
        sensitive=["sex", "age"],
    )
    splits = {
        s: SplitEval(
            ys[s],
            scores[s],
            decisions(task, scores[s], None),
            dataset.groups[s].reset_index(drop=True),
        )
        for s in frames
    }
    evaluation = Evaluation(
        task=task,
        classes=classes,
        splits=splits,
        history=steady_history(),
        baselines=baselines(dataset, None),
        baseline_predictions=baseline_predictions(dataset, None),
        learning_curve=[
            {"fraction": f, "rows": int(f * 2 * n), "train": 0.8, "validation": 0.6 + 0.1 * f}
            for f in (0.5, 1.0)
        ],
        primary_metric="f1_macro" if task == "multiclass" else "r2",
    )
    return dataset, evaluation


def make_calibration_case(
    seed=0, *, n=(3000, 3000), shift=0.0, tiny=0, tiny_shift=0.6, shift_all=0.0
):
    """Groups A and B with different base rates (about 0.35 and 0.55), honest scores for A.

    ``shift`` is added to B's scores, ``shift_all`` to every row's; ``tiny`` rows of a
    group C get scores ``tiny_shift`` away from the truth (an extreme group far below
    min_group_size).
    """
    rng = np.random.default_rng(seed)
    sizes = {"A": n[0], "B": n[1], **({"C": tiny} if tiny else {})}
    group = np.concatenate([np.full(k, g) for g, k in sizes.items()])
    # true probabilities: A ~ Beta(3.5, 6.5) (mean 0.35), B ~ Beta(5.5, 4.5) (mean 0.55),
    # kept inside [0.03, 0.8] so that a +0.15 shift never leaves [0, 1]
    p = np.where(group == "A", rng.beta(3.5, 6.5, len(group)), rng.beta(5.5, 4.5, len(group)))
    p = np.clip(p, 0.03, 0.8)
    y = (rng.random(len(group)) < p).astype(np.int64)
    score = p + np.where(group == "B", shift, 0.0) + shift_all
    score = np.where(group == "C", np.clip(p + tiny_shift, 0, 1), score)
    groups = pd.DataFrame({"g": group})
    split = SplitEval(y_true=y, scores=score, y_pred=decisions("binary", score, 0.5), groups=groups)
    dataset = Dataset(
        task="binary",
        target="repaid",
        frames={"test": groups},
        X={"test": np.zeros((len(y), 1))},
        y={"train": y, "test": y},
        groups={"test": groups},
        feature_columns=[],
        column_types={},
        feature_names=[],
        classes=[0, 1],
        sensitive=["g"],
    )
    evaluation = Evaluation(task="binary", classes=[0, 1], splits={"test": split}, threshold=0.5)
    return dataset, evaluation
