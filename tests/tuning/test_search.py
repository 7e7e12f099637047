"""The search: each method, pruning, folds, no leakage, and a resolved spec that reproduces it.

Every run is seeded and on the CPU: a few trials of a 16-unit MLP on 300 generated rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("optuna")

from auditor.data import build_dataset  # noqa: E402
from auditor.spec import dump_spec, load_spec  # noqa: E402
from auditor.train import monitor  # noqa: E402
from auditor.tuning import search_view, tune  # noqa: E402
from auditor.tuning.catalogue import CV_STRATEGIES, METHODS, PRUNERS  # noqa: E402
from auditor.tuning.search import MSG_NOT_FINITE, fold_views  # noqa: E402
from tests.tuning.tuning_data import problem, spec_values, write_spec  # noqa: E402

LR = "training.learning_rate"


def run(folder: Path, frame: pd.DataFrame | None = None, holdout=None, **tuning):
    values = spec_values(**tuning)
    folder.mkdir(parents=True, exist_ok=True)
    if holdout is not None:
        holdout.to_csv(folder / "holdout.csv", index=False)
        values["data"]["holdout"] = "holdout.csv"
    spec = load_spec(write_spec(folder, values, frame=frame))
    dataset = build_dataset(spec)
    tuned, outcome = tune(spec, dataset)
    return spec, dataset, tuned, outcome


def validation_value(spec, dataset, metric: str = "f1") -> float:
    from auditor.train import train_model

    scores = train_model(spec, dataset).predict(dataset, "validation")
    return monitor.metric_value(metric, "binary", dataset.y["validation"], scores)


SPACE = [
    {"option": "model.architecture", "choices": ["linear", "mlp"]},
    {"option": "model.dropout", "low": 0.0, "high": 0.4, "step": 0.2,
     "when": {"model.architecture": "mlp"}},
    {"option": LR, "choices": [0.003, 0.03]},
]  # fmt: skip


@pytest.mark.parametrize("method", list(METHODS))
def test_each_method_runs_from_a_spec_and_chooses_its_best(tmp_path, method):
    spec, _, tuned, outcome = run(tmp_path, method=method, space=SPACE, trials=5, metric="f1")
    assert outcome.method == method and outcome.counts["run"] == 5
    complete = [t for t in outcome.trials if t.state == "complete"]
    assert complete and all(t.value is not None for t in complete)
    best = max([*complete, outcome.baseline], key=lambda t: t.value)
    assert outcome.chosen["value"] == best.value
    assert outcome.improvement == pytest.approx(best.value - outcome.baseline.value)
    assert outcome.best[0].value == max(t.value for t in complete)
    for trial in outcome.trials:  # a dropout is drawn only for an MLP
        assert ("model.dropout" in trial.values) == (trial.values["model.architecture"] == "mlp")
    for option, value in outcome.chosen["values"].items():
        section, *rest = option.split(".")
        node = tuned.values[section]
        for key in rest:
            node = node[key]
        assert node == value
    assert tuned.values["tuning"] is None and spec.values["tuning"] is not None


def test_grid_search_walks_every_combination_once(tmp_path):
    space = [{"option": LR, "choices": [0.003, 0.03]}, {"option": "model.hidden",
              "choices": [[8], [16, 8]]}]  # fmt: skip
    _, _, _, outcome = run(tmp_path, method="grid", space=space, trials=None)
    drawn = sorted((t.values[LR], tuple(t.values["model.hidden"])) for t in outcome.trials)
    assert drawn == [(0.003, (8,)), (0.003, (16, 8)), (0.03, (8,)), (0.03, (16, 8))]


def test_the_same_seed_gives_the_same_search(tmp_path):
    first = run(tmp_path / "a", method="bayesian", startup_trials=2, trials=4)[3]
    second = run(tmp_path / "b", method="bayesian", startup_trials=2, trials=4)[3]
    assert [t.values for t in first.trials] == [t.values for t in second.trials]
    np.testing.assert_allclose(
        [t.value for t in first.trials], [t.value for t in second.trials], rtol=1e-12
    )


def test_median_pruning_stops_a_planted_hopeless_learning_rate(tmp_path):
    space = [
        {"option": LR, "choices": [0.05, 0.00001]},  # 1e-5 barely moves off the start
        {"option": "training.weight_decay", "choices": [0.0, 0.0001, 0.001]},
    ]
    _, _, tuned, outcome = run(
        tmp_path, method="grid", space=space, trials=None, pruning="median",
        startup_trials=1, warmup_epochs=1,
    )  # fmt: skip
    pruned = [t for t in outcome.trials if t.state == "pruned"]
    assert pruned and outcome.counts["pruned"] == len(pruned)
    assert all(t.values[LR] == 0.00001 for t in pruned)
    assert all(t.reported < 5 for t in pruned), "pruned trials stop before their last epoch"
    assert tuned.values["training"]["learning_rate"] == 0.05


@pytest.mark.parametrize("pruning", list(PRUNERS))
def test_each_pruner_runs_and_never_chooses_a_pruned_trial(tmp_path, pruning):
    _, _, _, outcome = run(tmp_path, pruning=pruning, trials=5, warmup_epochs=1)
    counts = outcome.counts
    assert counts["complete"] + counts["pruned"] + counts["failed"] == counts["run"] == 5
    chosen = outcome.chosen["trial"]
    assert chosen is None or outcome.trials[chosen].state == "complete"
    if pruning == "none":
        assert counts["pruned"] == 0


def test_trials_read_the_train_and_validation_splits_only(tmp_path, monkeypatch):
    import auditor.train

    seen = []
    real = auditor.train.train_model

    def spy(spec, dataset, **kwargs):
        seen.append((sorted(dataset.X), sorted(dataset.frames), sorted(dataset.y)))
        return real(spec, dataset, **kwargs)

    monkeypatch.setattr(auditor.train, "train_model", spy)
    _, dataset, _, _ = run(tmp_path, holdout=problem(rows=60, seed=9), trials=3)
    assert {"test", "holdout"} <= set(dataset.X)
    assert seen and all(s == (["train", "validation"],) * 3 for s in seen)


def _scramble(frame: pd.DataFrame, rows, seed: int) -> pd.DataFrame:
    """``frame`` with the features of ``rows`` shuffled among them and their labels drawn
    anew."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    positions = np.asarray(rows)
    for column in ("x1", "x2", "x3", "color", "region"):
        out.loc[positions, column] = out.loc[rng.permutation(positions), column].to_numpy()
    out.loc[positions, "y"] = rng.integers(0, 2, len(positions))
    return out


@pytest.mark.parametrize("cv", [None, {"folds": 3}], ids=["validation", "cv"])
def test_changing_every_test_and_holdout_row_changes_nothing_in_the_search(tmp_path, cv):
    """The leakage test: the test split and the holdout never reach the search."""
    frame, holdout = problem(), problem(rows=80, seed=5)
    kwargs = {"method": "bayesian", "trials": 4, "startup_trials": 2, "pruning": "median",
              "warmup_epochs": 1, "cv": cv, "metric": "roc_auc"}  # fmt: skip
    _, data_a, tuned_a, a = run(tmp_path / "a", frame=frame, holdout=holdout, **kwargs)
    test_rows = data_a.frames["test"].index
    changed = _scramble(frame, test_rows, seed=1)
    other_holdout = _scramble(problem(rows=80, seed=6), range(80), seed=2)
    _, data_b, tuned_b, b = run(tmp_path / "b", frame=changed, holdout=other_holdout, **kwargs)
    # the rows did change where the search must not look, and nowhere else
    assert not np.array_equal(data_a.y["test"], data_b.y["test"])
    assert not np.array_equal(data_a.X["holdout"], data_b.X["holdout"])
    for split in ("train", "validation"):
        np.testing.assert_array_equal(data_a.X[split], data_b.X[split])
    assert [t.values for t in a.trials] == [t.values for t in b.trials]
    assert [t.state for t in a.trials] == [t.state for t in b.trials]
    np.testing.assert_allclose(
        [t.value if t.value is not None else np.nan for t in a.trials],
        [t.value if t.value is not None else np.nan for t in b.trials],
        rtol=1e-12,
    )
    assert a.chosen == b.chosen and a.baseline.value == pytest.approx(b.baseline.value)
    assert tuned_a.values["model"] == tuned_b.values["model"]
    assert tuned_a.values["training"] == tuned_b.values["training"]


def test_the_resolved_spec_reproduces_the_winner_without_tuning(tmp_path):
    from auditor.train import train_model

    _, dataset, tuned, outcome = run(tmp_path, metric="f1", trials=4)
    resolved = tmp_path / "spec.resolved.yaml"
    resolved.write_text(dump_spec(tuned.values), encoding="utf-8")
    again = load_spec(resolved)
    assert again.tuning is None and again.values == tuned.values
    first, second = train_model(tuned, dataset), train_model(again, build_dataset(again))
    assert first.fingerprint() == second.fingerprint()
    # the retrained model is the chosen configuration: the same validation value
    chosen = validation_value(again, dataset)
    assert chosen == pytest.approx(outcome.chosen["value"], rel=1e-9)


def test_retrain_on_train_and_validation_uses_the_epochs_found(tmp_path):
    from auditor.train import train_model

    _, dataset, tuned, outcome = run(tmp_path, retrain="train_and_validation", trials=3)
    training = tuned.values["training"]
    assert training["train_on"] == "train_and_validation"
    assert training["epochs"] == outcome.chosen["epochs"] == outcome.retrain["epochs"] >= 1
    assert training["early_stopping"]["enabled"] is False
    model = train_model(tuned, dataset)
    assert model.info["train_rows"] == len(dataset.y["train"]) + len(dataset.y["validation"])
    assert model.info["epochs_run"] == training["epochs"]


@pytest.mark.parametrize("strategy", list(CV_STRATEGIES))
def test_each_fold_strategy_scores_trials_on_folds_of_the_train_split(tmp_path, strategy):
    cv = {"folds": 3, "strategy": strategy}
    if CV_STRATEGIES[strategy].needs_groups:
        cv["group_column"] = "region"
    spec, dataset, _, outcome = run(tmp_path, cv=cv, trials=2)
    assert outcome.scored_on == "cv"
    for trial in [outcome.baseline, *outcome.trials]:
        if trial.state == "complete" and trial.same_as is None:
            assert len(trial.folds) == 3
            assert trial.value == pytest.approx(np.mean(trial.folds))
    folds = fold_views(spec, search_view(dataset), [])
    n = len(dataset.y["train"])
    held = np.concatenate([f.frames["validation"].index for f in folds])
    assert sorted(held) == sorted(dataset.frames["train"].index) and len(held) == n
    for fold in folds:
        assert len(fold.y["train"]) + len(fold.y["validation"]) == n
        if strategy == "group":
            inside = set(fold.frames["train"]["region"])
            assert inside.isdisjoint(fold.frames["validation"]["region"])


def test_a_trial_that_breaks_is_recorded_as_failed_and_the_search_goes_on(tmp_path, monkeypatch):
    import auditor.train

    real = auditor.train.train_model

    def breaking(spec, dataset, **kwargs):
        if spec.training.learning_rate == 0.03:
            raise RuntimeError("CUDA out of memory (planted)")
        if spec.training.learning_rate == 0.003:  # a validation loss that is never finite
            inner = kwargs["on_epoch"]
            kwargs["on_epoch"] = lambda epoch, loss, scores, measured: inner(
                epoch, float("nan"), scores, measured
            )
        return real(spec, dataset, **kwargs)

    monkeypatch.setattr(auditor.train, "train_model", breaking)
    space = [{"option": LR, "choices": [0.003, 0.01, 0.03]}]
    _, _, tuned, outcome = run(tmp_path, method="grid", space=space, trials=None)
    failed = {t.values[LR]: t.reason for t in outcome.trials if t.state == "failed"}
    assert failed == {
        0.03: "CUDA out of memory (planted)",
        0.003: MSG_NOT_FINITE.format(metric="loss"),
    }
    # 0.01 is the spec's own learning rate: scored once, before the trials, and not again
    assert outcome.counts == {"run": 3, "complete": 1, "pruned": 0, "failed": 2, "repeated": 1}
    (again,) = [t for t in outcome.trials if t.state == "complete"]
    assert again.same_as == "spec" and again.value == outcome.baseline.value
    assert tuned.values["training"]["learning_rate"] == 0.01


def test_a_spent_time_budget_keeps_the_spec_own_configuration(tmp_path):
    _, _, tuned, outcome = run(tmp_path, trials=None, seconds=0.001)
    assert outcome.counts["run"] == 0 and outcome.chosen["source"] == "spec"
    assert outcome.improvement == 0
    assert tuned.values["model"]["architecture"] == "mlp"
    assert tuned.values["training"]["learning_rate"] == 0.01


def test_the_early_stopping_metric_is_not_measured_twice(tmp_path, monkeypatch):
    """A search on the metric the training loop measures each epoch reads the loop's figure
    rather than scoring the validation split again (most of its overhead per trial); a
    metric the loop does not measure is still computed, by the search."""
    import sys

    real = monitor.metric_value
    by_search: list[str] = []

    def counted(name, *args, **kwargs):
        if sys._getframe(1).f_code.co_name == "on_epoch":  # called by the search's hook
            by_search.append(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(monitor, "metric_value", counted)
    values = spec_values(trials=2, metric="roc_auc")
    values["training"]["early_stopping"]["metric"] = "roc_auc"
    spec = load_spec(write_spec(tmp_path, values))
    _, outcome = tune(spec, build_dataset(spec))
    assert by_search == [] and outcome.baseline.state == "complete"
    values["tuning"]["metric"] = "f1"  # the loop measures roc_auc, not f1
    spec = load_spec(write_spec(tmp_path / "f1", values))
    _, outcome = tune(spec, build_dataset(spec))
    assert by_search and set(by_search) == {"f1"} and outcome.baseline.state == "complete"
