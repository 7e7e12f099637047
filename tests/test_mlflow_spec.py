"""The spec's ``report.mlflow`` and the MLflow target, without MLflow itself.

What a spec says (validated, located, relative paths resolved) and what is refused before a
run when the mlflow extra is missing; tests/test_mlflow.py logs real runs.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from auditor import mlflow_log
from auditor.errors import SpecError, UsageError
from auditor.spec import load_spec
from tests.tuning.tuning_data import spec_values, write_spec


def _spec(folder: Path, report: dict | None = None):
    values = spec_values()
    del values["tuning"]
    if report is not None:
        values["report"] = report
    return write_spec(folder, values)


def test_without_flag_or_field_nothing_is_tracked(tmp_path):
    spec = load_spec(_spec(tmp_path), check_data=False)
    assert spec.typed.report.mlflow is None and spec.values["report"]["mlflow"] is None
    assert mlflow_log.tracking_target(spec) is None


def test_the_field_resolves_its_defaults_and_a_relative_database(tmp_path):
    spec = load_spec(
        _spec(tmp_path, {"mlflow": {"tracking_uri": "sqlite:///runs/mlflow.db"}}),
        check_data=False,
    )
    assert spec.typed.report.mlflow.experiment is None  # the schema's default
    assert spec.values["report"]["mlflow"] == {
        "tracking_uri": "sqlite:///runs/mlflow.db",
        "experiment": None,
    }
    if importlib.util.find_spec("mlflow") is None:
        pytest.skip("the mlflow extra is not installed: the target checks the URI with it")
    target = mlflow_log.tracking_target(spec)
    assert target.uri == f"sqlite:///{(tmp_path / 'runs' / 'mlflow.db').resolve()}"
    assert target.experiment == "tuning-test"  # the spec's name
    assert target.location.path == ("report", "mlflow", "tracking_uri")
    assert target.location.line is not None


@pytest.mark.parametrize(
    "uri, expected",
    [
        ("sqlite:////abs/m.db", "sqlite:////abs/m.db"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
    ],
)
def test_only_a_relative_sqlite_path_moves_to_the_spec(uri, expected, tmp_path):
    assert mlflow_log._spec_relative(uri, tmp_path) == expected


def test_a_sqlite_experiment_keeps_its_artifacts_beside_the_database(tmp_path):
    db = tmp_path / "t" / "m.db"
    assert mlflow_log.artifact_location(f"sqlite:///{db}") == (db.parent / "mlruns").as_uri()
    assert mlflow_log.artifact_location("http://127.0.0.1:5000") is None
    assert mlflow_log.artifact_location("sqlite:///:memory:") is None


@pytest.mark.parametrize(
    "report, path, words",
    [
        ({"mlflow": {"experiment": "x"}}, "report.mlflow", "tracking_uri"),
        ({"mlflow": {"tracking_uri": ""}}, "report.mlflow.tracking_uri", ""),
        ({"mlflow": {"tracking_uri": "x", "experimnt": "y"}}, "report.mlflow", "experiment"),
    ],
)
def test_a_malformed_field_is_a_located_spec_error(tmp_path, report, path, words):
    with pytest.raises(SpecError) as caught:
        load_spec(_spec(tmp_path, report), check_data=False)
    line = str(caught.value)
    assert f": {path}" in line and words in line and line.startswith(str(tmp_path))


def test_a_missing_extra_is_refused_before_the_run(tmp_path, monkeypatch):
    spec = load_spec(_spec(tmp_path), check_data=False)
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a)
    )
    with pytest.raises(UsageError) as caught:
        mlflow_log.tracking_target(spec, "http://127.0.0.1:5000")
    assert str(caught.value) == f"--mlflow: {mlflow_log.MSG_NO_MLFLOW}"
