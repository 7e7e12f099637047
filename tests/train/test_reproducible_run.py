"""Same spec, data and seed on CPU: the same metrics, findings and verdict, end to end.

Every stage from the spec file to results.json (data, training, evaluation with bootstrap
intervals and a threshold chosen on validation, checks, verdict) runs twice in one process;
only the report rendering is left out (it reads results.json and adds nothing random).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from train_problems import problem

SPEC = """version: 1
name: repro-end-to-end
objective: {task: binary, target: y, purpose: Reproducibility check.}
data:
  train: train.csv
  holdout: holdout.csv
  sensitive: [sex]
  split: {strategy: stratified, validation: 0.2, test: 0.2, seed: 4}
  preprocessing: {missing: median, outliers: clip_iqr, imbalance: oversample}
  augmentation: {gaussian_noise: 0.1, mixup: 0.2}
model: {architecture: mlp, hidden: [32, 16], dropout: 0.2, batch_norm: true}
training:
  optimizer: adamw
  learning_rate: 0.01
  batch_size: 64
  epochs: 6
  schedule: {name: onecycle}
  early_stopping: {patience: 3}
  device: cpu
  seed: 5
evaluation:
  bootstrap: 40
  threshold: {strategy: best_f1}
  learning_curve: {enabled: false}
acceptance:
  - {metric: roc_auc, split: test, at_least: 0.8, require: confidence}
  - {metric: demographic_parity_difference, sensitive: sex, split: test, at_most: 0.2}
"""

VOLATILE = {"seconds", "train_seconds", "wall_seconds", "started", "finished", "timings"}


def _stable(value):
    """The results without wall-clock figures (timestamps and durations differ by nature)."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def _results(spec_path) -> dict:
    from auditor.checks import run_checks
    from auditor.data import build_dataset
    from auditor.evaluate import evaluate
    from auditor.models import obtain_predictor
    from auditor.results import build_results
    from auditor.spec import load_spec
    from auditor.verdict import decide

    spec = load_spec(spec_path)
    dataset = build_dataset(spec)
    predictor = obtain_predictor(spec, dataset, progress=None)
    evaluation = evaluate(spec, dataset, predictor, progress=None)
    findings = run_checks(spec, dataset, evaluation)
    outcomes, verdict = decide(spec, findings)
    results = build_results(
        spec, dataset, predictor, evaluation, findings, outcomes, verdict, timings={}
    )
    return json.loads(json.dumps(results, default=str))  # as results.json holds it


def test_two_runs_of_one_spec_give_identical_metrics(tmp_path):
    for stage in ("auditor.evaluate", "auditor.checks", "auditor.verdict", "auditor.results"):
        pytest.importorskip(stage, reason="the pipeline is not complete yet")
    frame = problem("binary", n=900, seed=3)
    frame.loc[frame.index[::17], "x2"] = np.nan
    frame.to_csv(tmp_path / "train.csv", index=False)
    problem("binary", n=300, seed=9).to_csv(tmp_path / "holdout.csv", index=False)
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(SPEC)

    first, second = _results(spec_path), _results(spec_path)

    metrics = first["evaluation"]["metrics"]
    assert set(metrics) == {"train", "validation", "test", "holdout"}
    auc = metrics["test"]["roc_auc"]
    assert auc["low"] < auc["value"] < auc["high"]  # intervals were computed, not skipped
    assert second["evaluation"]["metrics"] == metrics  # exactly, every split, every bound
    assert second["evaluation"]["threshold"] == first["evaluation"]["threshold"]
    assert second["model"]["fingerprint"] == first["model"]["fingerprint"]
    assert second["verdict"] == first["verdict"]
    assert _stable(second) == _stable(first)  # and everything else but the clock
