"""The ``tuning`` section: what the schema and the rules accept, and located refusals."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.errors import SpecErrors
from auditor.spec import load_schema, load_spec
from auditor.spec import tuning_rules as rules
from auditor.spec.schema import resolve_ref
from auditor.tuning.catalogue import (
    CV_STRATEGIES,
    METHODS,
    NOT_TUNABLE,
    PRUNERS,
    TUNABLE_SECTIONS,
    option_kind,
    option_schema,
    tunable_options,
)
from tests.spec.located import assert_refused_on_one_line
from tests.tuning.tuning_data import problem

# Line 10 opens the tuning section; line 14 is the first space entry, line 15 the second.
BASE = """\
version: 1
name: t
objective:
  task: binary
  target: y
data:
  train: train.csv
  sensitive: [sex]
training: {epochs: 5, device: cpu}
tuning:
  method: random
  trials: 4
  space:
    - {option: model.architecture, choices: [linear, mlp]}
    - {option: training.learning_rate, low: 0.001, high: 0.1, log: true}
"""
FIRST = "    - {option: model.architecture, choices: [linear, mlp]}"
SECOND = "    - {option: training.learning_rate, low: 0.001, high: 0.1, log: true}"


def edit(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    problem(rows=120).to_csv(tmp_path / "train.csv", index=False)
    return tmp_path


def _write(folder: Path, text: str) -> Path:
    path = folder / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_tuning_spec_validates_and_resolves_its_defaults(folder: Path):
    spec = load_spec(_write(folder, BASE))
    tuning = spec.tuning
    assert tuning.method == "random" and tuning.trials == 4
    assert tuning.metric == "loss" and tuning.direction == "minimize"  # early stopping's
    assert tuning.pruning == "none" and tuning.retrain == "train" and tuning.cv is None
    assert tuning.space[1].log is True and tuning.space[0].choices == ("linear", "mlp")
    assert spec.training.train_on == "train"


def test_the_metric_defaults_to_early_stopping_and_its_direction(folder: Path):
    text = edit("training: {epochs: 5, device: cpu}", "training: {early_stopping: {metric: f1}}")
    tuning = load_spec(_write(folder, text)).tuning
    assert (tuning.metric, tuning.direction) == ("f1", "maximize")


def test_without_tuning_the_section_is_null(folder: Path):
    text = BASE.split("tuning:")[0]
    assert load_spec(_write(folder, text)).tuning is None


# (id, spec text, line, json path, message)
CASES = [
    (
        "unknown-option",
        edit(SECOND, SECOND.replace("learning_rate", "learnig_rate")),
        15,
        "tuning.space[1].option",
        rules.MSG_UNKNOWN_OPTION.format(
            option="training.learnig_rate", hint=" (did you mean 'training.learning_rate'?)"
        ),
    ),
    (
        "unknown-section",
        edit(FIRST, "    - {option: modle.dropout, low: 0, high: 0.5}"),
        14,
        "tuning.space[0].option",
        "(did you mean 'model.dropout'?)",
    ),
    (
        "not-tunable",
        edit(FIRST, "    - {option: training.seed, choices: [1, 2]}"),
        14,
        "tuning.space[0].option",
        rules.MSG_NOT_TUNABLE.format(option="training.seed", reason=NOT_TUNABLE["training.seed"]),
    ),
    (
        "repeated-option",
        edit(SECOND, FIRST),
        15,
        "tuning.space[1].option",
        rules.MSG_REPEATED_OPTION.format(option="model.architecture", first=0),
    ),
    (
        "no-values",
        edit(FIRST, "    - {option: model.dropout}"),
        14,
        "tuning.space[0]",
        rules.MSG_NEEDS_VALUES,
    ),
    (
        "both-forms",
        edit(FIRST, "    - {option: model.dropout, low: 0, high: 0.5, choices: [0.1]}"),
        14,
        "tuning.space[0].low",
        rules.MSG_BOTH_FORMS,
    ),
    (
        "choices-with-a-step",
        edit(FIRST, "    - {option: training.batch_size, choices: [32, 64], step: 32}"),
        14,
        "tuning.space[0].step",
        rules.MSG_RANGE_OPTIONS.format(key="step"),
    ),
    (
        "invalid-choice",
        edit(FIRST, "    - {option: model.architecture, choices: [linear, transformer]}"),
        14,
        "tuning.space[0].choices[1]",
        "'transformer' is not a valid model.architecture: it must be one of linear, mlp, resmlp",
    ),
    (
        "out-of-range",
        edit(FIRST, "    - {option: model.dropout, low: 0, high: 0.95}"),
        14,
        "tuning.space[0].high",
        "0.95 is not a valid model.dropout: it must be a number between 0 and 0.9",
    ),
    (
        "range-of-a-list",
        edit(FIRST, "    - {option: model.hidden, low: 8, high: 64}"),
        14,
        "tuning.space[0].low",
        rules.MSG_RANGE_NOT_NUMERIC.format(option="model.hidden", expected="a list"),
    ),
    (
        "integer-bound",
        edit(FIRST, "    - {option: training.epochs, low: 2.5, high: 9}"),
        14,
        "tuning.space[0].low",
        rules.MSG_INTEGER.format(option="training.epochs", key="low", got="2.5"),
    ),
    (
        "crossed-range",
        edit(SECOND, "    - {option: training.learning_rate, low: 0.1, high: 0.01}"),
        15,
        "tuning.space[1].high",
        rules.MSG_LOW_HIGH.format(low="0.1", high="0.01"),
    ),
    (
        "log-from-zero",
        edit(SECOND, "    - {option: training.weight_decay, low: 0, high: 0.1, log: true}"),
        15,
        "tuning.space[1].low",
        rules.MSG_LOG_LOW.format(low="0"),
    ),
    (
        "log-and-step",
        edit(SECOND, "    - {option: training.batch_size, low: 16, high: 64, step: 16, log: true}"),
        15,
        "tuning.space[1].step",
        rules.MSG_LOG_STEP,
    ),
    (
        "step-does-not-divide",
        edit(SECOND, "    - {option: training.batch_size, low: 16, high: 100, step: 16}"),
        15,
        "tuning.space[1].step",
        rules.MSG_STEP_DIVIDES.format(span="84", step="16"),
    ),
    (
        "grid-needs-steps",
        edit("  method: random", "  method: grid"),
        15,
        "tuning.space[1].option",
        rules.MSG_GRID_NEEDS_STEPS.format(option="training.learning_rate"),
    ),
    (
        "when-unknown-option",
        edit(SECOND, "    - {option: model.dropout, choices: [0.1], when: {model.archi: mlp}}"),
        15,
        "tuning.space[1].when.model.archi",
        "(did you mean 'model.architecture'?)",
    ),
    (
        "when-invalid-value",
        edit(
            SECOND, "    - {option: model.dropout, choices: [0.1], when: {model.architecture: cnn}}"
        ),
        15,
        "tuning.space[1].when.model.architecture",
        "'cnn' is not a valid model.architecture",
    ),
    (
        "when-tuned-later",
        edit(
            FIRST,
            "    - {option: model.dropout, choices: [0.1], when: {training.learning_rate: 0.01}}",
        ),
        14,
        "tuning.space[0].when.training.learning_rate",
        rules.MSG_WHEN_LATER.format(option="training.learning_rate", index=1),
    ),
    (
        "metric-unknown",
        edit("  trials: 4", "  trials: 4\n  metric: acuracy"),
        13,
        "tuning.metric",
        "unknown metric 'acuracy' for tuning; use 'loss' or one of accuracy,",
    ),
    (
        "metric-of-another-task",
        edit("  trials: 4", "  trials: 4\n  metric: rmse"),
        13,
        "tuning.metric",
        "metric 'rmse' is for regression, but the task is 'binary'",
    ),
    (
        "direction-against-the-metric",
        edit("  trials: 4", "  trials: 4\n  metric: roc_auc\n  direction: minimize"),
        14,
        "tuning.direction",
        rules.MSG_DIRECTION.format(
            metric="roc_auc", way="higher", expected="maximize", got="minimize"
        ),
    ),
    (
        "no-budget",
        edit("  trials: 4", "  trials: null"),
        12,
        "tuning.trials",
        rules.MSG_NO_BUDGET.format(method="random"),
    ),
    (
        "unknown-method",
        edit("  method: random", "  method: bayes"),
        11,
        "tuning.method",
        "must be one of grid, random, bayesian, got 'bayes' (did you mean 'bayesian'?)",
    ),
    (
        "unknown-pruner",
        edit("  trials: 4", "  trials: 4\n  pruning: medain"),
        13,
        "tuning.pruning",
        "(did you mean 'median'?)",
    ),
    (
        "cv-group-without-column",
        edit("  trials: 4", "  trials: 4\n  cv: {folds: 3, strategy: group}"),
        13,
        "tuning.cv.strategy",
        rules.MSG_CV_NEEDS_GROUP.format(where="tuning.cv"),
    ),
    (
        "cv-column-absent",
        edit("  trials: 4", "  trials: 4\n  cv: {strategy: group, group_column: regoin}"),
        13,
        "tuning.cv.group_column",
        "column 'regoin' is not in the train file",
    ),
    (
        "cv-one-fold",
        edit("  trials: 4", "  trials: 4\n  cv: {folds: 1}"),
        13,
        "tuning.cv.folds",
        "must be an integer between 2 and 50, got 1",
    ),
    (
        "tuning-with-train-on",
        edit(
            "training: {epochs: 5, device: cpu}",
            "training: {train_on: train_and_validation, early_stopping: {enabled: false}}",
        ),
        9,
        "training.train_on",
        rules.MSG_TUNING_TRAIN_ON,
    ),
    (
        "unknown-key",
        edit("  trials: 4", "  trails: 4"),
        12,
        "tuning.trails",
        "unknown key 'trails' (did you mean 'trials'?)",
    ),
]


@pytest.mark.parametrize(
    "text, line, path, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_broken_tuning_section_is_refused_on_one_located_line(
    folder: Path, capsys, text, line, path, message
):
    spec = _write(folder, text)
    assert_refused_on_one_line(main, capsys, spec, line, path, message)


def test_train_and_validation_needs_early_stopping_off(folder: Path):
    text = BASE.split("tuning:")[0].replace(
        "training: {epochs: 5, device: cpu}", "training: {train_on: train_and_validation}"
    )
    with pytest.raises(SpecErrors) as excinfo:
        load_spec(_write(folder, text))
    assert str(excinfo.value).endswith(f"training.train_on: {rules.MSG_TRAIN_ON_EARLY_STOPPING}")


def test_a_vendor_model_is_not_tuned(folder: Path):
    text = edit(
        "training: {epochs: 5, device: cpu}",
        "model: {vendor: {format: onnx, path: m.onnx}}",
    )
    with pytest.raises(SpecErrors) as excinfo:
        load_spec(_write(folder, text), check_data=False)
    assert f"{folder / 'spec.yaml'}:10:1: tuning: {rules.MSG_TUNING_VENDOR}" in str(excinfo.value)


def test_without_optuna_validate_says_so_on_one_line(folder: Path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna now fails
    spec = _write(folder, BASE)
    assert main(["validate", str(spec)]) == 2
    _, err = capsys.readouterr()
    assert err.strip() == f"{spec}:10:1: tuning: {rules.MSG_NEEDS_OPTUNA}"


def test_without_optuna_a_run_stops_with_the_same_line(folder: Path, monkeypatch):
    from auditor.errors import SpecError
    from auditor.tuning.search import import_optuna

    spec = load_spec(_write(folder, BASE))
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(SpecError) as excinfo:
        import_optuna(spec)
    assert excinfo.value.exit_code == 2
    assert str(excinfo.value) == f"{folder / 'spec.yaml'}:10:1: tuning: {rules.MSG_NEEDS_OPTUNA}"


def test_validating_a_tuning_spec_imports_neither_optuna_nor_torch(folder: Path):
    import subprocess

    spec = _write(folder, BASE)
    code = (
        "import sys, auditor.cli\n"
        f"code = auditor.cli.main(['validate', {str(spec)!r}])\n"
        "print(code, [m for m in ('optuna', 'torch', 'sklearn') if m in sys.modules])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip().splitlines()[-1] == "0 []", proc.stderr


# --------------------------------------------------------------------------- catalogues
SCHEMA = load_schema()


def _leaves(node: dict, path: tuple[str, ...]):
    node = resolve_ref(node, SCHEMA)
    if "properties" in node:
        for key, sub in node["properties"].items():
            yield from _leaves(sub, (*path, key))
    else:
        yield ".".join(path)


def _section(path: tuple[str, ...]) -> dict:
    node = SCHEMA
    for key in path:
        node = resolve_ref(node, SCHEMA)["properties"][key]
    return node


def test_tunable_options_are_the_schema_leaves_less_the_refused():
    leaves = [leaf for s in TUNABLE_SECTIONS for leaf in _leaves(_section(s), s)]
    refused = {leaf for leaf in leaves if any(leaf.startswith(n) for n in NOT_TUNABLE)}
    assert tunable_options() == [leaf for leaf in leaves if leaf not in refused]
    # every refusal names a real option (or section) of those sections, with a reason
    for name, reason in NOT_TUNABLE.items():
        assert any(leaf == name or leaf.startswith(name + ".") for leaf in leaves), name
        assert reason and not reason.endswith(".")


@pytest.mark.parametrize("option", tunable_options())
def test_every_tunable_option_is_described_and_drawable(option):
    schema = option_schema(option)
    assert schema.get("description"), option
    assert option_kind(option) in ("integer", "number", "choice")
    if option_kind(option) == "choice":  # drawn from choices: the schema must say which
        assert "enum" in schema or schema.get("type") in ("boolean", "array", "string")


def test_the_tuning_catalogues_name_their_optuna_parts():
    pytest.importorskip("optuna")
    import optuna

    samplers = {
        name: type(m.build(optuna, seed=0, startup_trials=1, grid={"a": [1]}))
        for name, m in METHODS.items()
    }
    assert samplers == {
        "grid": optuna.samplers.GridSampler,
        "random": optuna.samplers.RandomSampler,
        "bayesian": optuna.samplers.TPESampler,
    }
    pruners = {
        name: type(p.build(optuna, startup_trials=1, warmup_epochs=1))
        for name, p in PRUNERS.items()
    }
    assert pruners == {
        "none": optuna.pruners.NopPruner,
        "median": optuna.pruners.MedianPruner,
        "successive_halving": optuna.pruners.SuccessiveHalvingPruner,
    }
    for strategy in CV_STRATEGIES.values():
        assert strategy.build(3, 0).get_n_splits() == 3
        assert dataclasses.is_dataclass(strategy) and strategy.label
