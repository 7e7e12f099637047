"""evaluation.cross_validation and the fold_stability check.

Ground truth: fold values drawn with a known spread (the chi-square interval must cover it
at about its level, and a planted large spread must be an instability finding), and a run
on seeded data whose test and holdout rows are then changed (the folds never read them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.checks import CheckContext
from auditor.checks.stability import fold_stability, spread_interval
from tests.checks.factory import make_binary_case, make_spec


def _cv(values, metric="roc_auc", rows=1000):
    return {
        "folds": len(values),
        "strategy": "stratified",
        "group_column": None,
        "seed": 0,
        "rows": rows,
        "threshold": 0.5,
        "notes": [],
        "per_fold": [
            {"fold": i + 1, "rows": rows // len(values), metric: v, "accuracy": 0.8}
            for i, v in enumerate(values)
        ],
    }


def test_the_spread_interval_covers_the_true_spread_at_its_level():
    rng = np.random.default_rng(0)
    sigma, hits, draws = 0.02, 0, 400
    for _ in range(draws):
        low, high = spread_interval(rng.normal(0.8, sigma, 5), 0.95)
        hits += low <= sigma <= high
    assert 0.92 * draws <= hits <= 0.98 * draws


def _finding(values, **evaluation):
    spec = make_spec(evaluation={"bootstrap": 50, **evaluation})
    dataset, ev = make_binary_case(seed=3)
    ev.primary_metric = "roc_auc"
    ev.cross_validation = _cv(values)
    return fold_stability(CheckContext(spec, dataset, ev))


def test_a_planted_large_spread_is_an_instability_finding():
    (f,) = _finding([0.70, 0.82, 0.76, 0.88, 0.74])
    assert f.id == "fit.fold_stability.roc_auc"
    assert f.value == pytest.approx(np.std([0.70, 0.82, 0.76, 0.88, 0.74], ddof=1))
    assert f.status == "warn" and f.ci[0] <= f.value <= f.ci[1]
    assert "depends on which rows it trained on" in f.summary and f.recommendation
    table = {r["metric"]: r for r in f.details["across_folds"]}
    assert table["roc_auc"]["lowest"] == 0.70 and table["roc_auc"]["highest"] == 0.88
    assert len(f.chart["rows"]) == 5


def test_a_steady_configuration_passes():
    (f,) = _finding([0.801, 0.799, 0.803, 0.798, 0.800])
    assert f.status == "pass" and f.value < 0.003
    assert "0.800 on average" in f.summary


def test_without_cross_validation_nothing_is_reported():
    spec = make_spec()
    dataset, ev = make_binary_case(seed=3)
    assert fold_stability(CheckContext(spec, dataset, ev)) == []
    ev.notes["cross_validation"] = "it is measured for the audited model only"
    (f,) = fold_stability(CheckContext(spec, dataset, ev))
    assert f.status == "skipped" and "audited model only" in f.summary


# ------------------------------------------------------------------ from a spec
def _frame(n, seed):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    return pd.DataFrame(
        {
            "x1": x1,
            "x2": x2,
            "sex": rng.choice(["f", "m"], n),
            "region": rng.choice([f"r{i}" for i in range(6)], n),
            "y": (x1 - x2 + rng.normal(0, 0.7, n) > 0).astype(int),
        }
    )


def _spec(folder, cv):
    import yaml

    from auditor.spec import load_spec

    _frame(400, 1).to_csv(folder / "train.csv", index=False)
    _frame(120, 2).to_csv(folder / "holdout.csv", index=False)
    values = {
        "version": 1,
        "name": "cv",
        "objective": {"task": "binary", "target": "y"},
        "data": {"train": "train.csv", "holdout": "holdout.csv", "sensitive": ["sex"]},
        "model": {"architecture": "linear"},
        "training": {"epochs": 4, "batch_size": 64, "device": "cpu", "seed": 0},
        "evaluation": {"bootstrap": 50, "cross_validation": cv},
    }
    (folder / "spec.yaml").write_text(yaml.safe_dump(values), encoding="utf-8")
    return load_spec(folder / "spec.yaml")


@pytest.mark.parametrize(
    "cv",
    [{"folds": 3}, {"folds": 3, "strategy": "group", "group_column": "region"}],
    ids=["stratified", "group"],
)
def test_cross_validation_reads_the_train_split_only(tmp_path, cv):
    from auditor.cross_validation import cross_validate
    from auditor.data import build_dataset

    spec = _spec(tmp_path, cv)
    dataset = build_dataset(spec)
    first = cross_validate(spec, dataset, 0.5)
    assert len(first["per_fold"]) == 3
    assert sum(f["rows"] for f in first["per_fold"]) == len(dataset.y["train"])
    assert {"roc_auc", "f1", "accuracy"} <= set(first["per_fold"][0])
    # every test and holdout row changed: the folds are the same
    for split in ("test", "holdout"):
        dataset.y[split] = 1 - dataset.y[split]
        dataset.X[split] = -dataset.X[split]
    again = cross_validate(spec, dataset, 0.5)
    assert again["per_fold"] == first["per_fold"]


def test_group_folds_need_their_column(tmp_path):
    from auditor.errors import SpecError

    with pytest.raises(SpecError) as err:
        _spec(tmp_path, {"strategy": "group"})
    assert "evaluation.cross_validation.strategy" in str(err.value)
    assert "needs evaluation.cross_validation.group_column" in str(err.value)


def test_a_model_retrained_on_validation_rows_is_cross_validated_on_fold_rows(
    tmp_path, monkeypatch
):
    """train_on: train_and_validation would train each fold on its held-out rows too."""
    import auditor.train
    from auditor.cross_validation import cross_validate
    from auditor.data import build_dataset
    from auditor.types import Spec

    spec = _spec(tmp_path, {"folds": 3})
    values = {
        **spec.values,
        "training": {**spec.values["training"], "train_on": "train_and_validation"},
    }
    spec = Spec(path=spec.path, values=values, positions=spec.positions)
    seen, real = [], auditor.train.train_model

    def recording(fold_spec, dataset, **kwargs):
        seen.append(fold_spec.training.train_on)
        return real(fold_spec, dataset, **kwargs)

    monkeypatch.setattr(auditor.train, "train_model", recording)
    result = cross_validate(spec, build_dataset(spec), 0.5)
    assert seen == ["train"] * 3 and len(result["per_fold"]) == 3
