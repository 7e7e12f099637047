"""MLflow tracking: one audit, one MLflow run, read back with MlflowClient.

One real tuned audit of a tiny seeded problem (three trials, fairness on a sex column) is run
through the CLI with ``--mlflow`` against a real tracking server (``mlflow server`` on
127.0.0.1 with a SQLite backend and an artifacts folder in tmp, started and stopped here);
the same run folder is then logged straight into a SQLite database (the spec's
``report.mlflow``) and into MLflow's file store. Every figure read back must equal
results.json's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

import pytest
import yaml

pytest.importorskip("optuna")
pytest.importorskip("mlflow", reason="the mlflow extra is not installed (make venv installs it)")

from auditor import mlflow_log  # noqa: E402
from auditor.cli import main  # noqa: E402
from auditor.errors import ExitCode  # noqa: E402
from tests.local_processes import free_port
from tests.tuning.tuning_data import problem, spec_values, write_spec  # noqa: E402

# one worker runs them all (make test: --dist loadgroup), so the server and the run start once
pytestmark = pytest.mark.xdist_group("mlflow")
SERVER_START_S = 120  # a loaded 2-core machine starts the server in 5-20 s


def _client(uri: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


@pytest.fixture(autouse=True)
def _mlflow_own_deprecations():
    # MLflow's SQL store uses SQLAlchemy options SQLAlchemy 2.1 deprecates; reading runs back
    # here is MLflow's code, not auditor's (auditor's own calls silence them in mlflow_log)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real MLflow tracking server: SQLite backend, artifacts in tmp, one worker."""
    home = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    exe = Path(sys.executable).with_name("mlflow")
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    log = (home / "server.log").open("w")
    proc = subprocess.Popen(
        [str(exe), "server", "--backend-store-uri", f"sqlite:///{home / 'mlflow.db'}"]
        + ["--artifacts-destination", str(home / "artifacts"), "--host", "127.0.0.1"]
        + ["--port", str(port), "--workers", "1"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=home,
        start_new_session=True,  # its uvicorn workers go with it at the end
    )
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_S
    while True:
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL) if proc.poll() is None else None
            pytest.fail("mlflow server did not start:\n" + (home / "server.log").read_text())
        time.sleep(0.5)
    yield uri
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    log.close()


@pytest.fixture(scope="module")
def tracked(tmp_path_factory, server):
    """One tuned audit through the CLI, logged to the server: (code, out, results, spec)."""
    work = tmp_path_factory.mktemp("tracked")
    values = spec_values(trials=3, metric="roc_auc")
    values["evaluation"] = {"bootstrap": 50, "learning_curve": {"enabled": False}}
    values["acceptance"] = [
        {"metric": "roc_auc", "split": "test", "at_least": 0.6},
        {"metric": "accuracy", "split": "test", "at_least": 0.99, "severity": "advisory"},
        {"metric": "demographic_parity_difference", "sensitive": "sex", "at_most": 0.5},
    ]
    spec = write_spec(work, values, frame=problem(rows=600, seed=1))  # groups of 60 in test
    out = work / "out"
    code = main(["run", str(spec), "--out", str(out), "--quiet", "--mlflow", server])
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return code, out, results, spec


def _only_run(uri: str, experiment: str):
    client = _client(uri)
    exp = client.get_experiment_by_name(experiment)
    assert exp is not None, experiment
    runs = client.search_runs([exp.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    return client, parents[0], children


def _assert_logged(uri: str, experiment: str, out: Path, results: dict) -> None:
    client, run, children = _only_run(uri, experiment)
    data = run.data
    assert run.info.status == "FINISHED"
    # tags: the verdict and the spec's name
    assert data.tags["auditor.verdict"] == results["verdict"]["status"]
    assert data.tags["auditor.exit_code"] == str(results["verdict"]["exit_code"])
    assert data.tags["auditor.spec_name"] == results["spec"]["name"] == run.info.run_name
    assert data.tags["mlflow.note.content"] == results["verdict"]["reason"]
    # params: the resolved spec, flattened
    assert data.params["training.learning_rate"] == str(
        results["spec"]["training"]["learning_rate"]
    )
    assert data.params["model.architecture"] == results["spec"]["model"]["architecture"]
    assert data.params["acceptance.2.metric"] == "demographic_parity_difference"
    assert data.params["data.sensitive"] == '["sex"]'
    assert data.params == {
        mlflow_log._key(k): mlflow_log._text(v, mlflow_log.MAX_PARAM_VALUE)
        for k, v in mlflow_log.flatten(results["spec"])
    }
    # metrics: every criterion's value and bounds, every headline metric per split
    for c in results["criteria"]:
        key = f"criterion.{c['index']}.{c['finding_id']}"
        assert data.tags[f"criterion.{c['index']}"].startswith(c["status"])
        assert data.metrics[f"{key}.bound"] == pytest.approx(c["bound"], rel=1e-12)
        if c["value"] is None:
            assert f"{key}.value" not in data.metrics
            continue
        assert data.metrics[f"{key}.value"] == pytest.approx(c["value"], rel=1e-12)
        assert data.metrics[f"{key}.ci_low"] == pytest.approx(c["ci"][0], rel=1e-12)
        assert data.metrics[f"{key}.ci_high"] == pytest.approx(c["ci"][1], rel=1e-12)
    assert any(f"criterion.{c['index']}" in k for c in results["criteria"] for k in data.metrics)
    headline = results["evaluation"]["metrics"]
    assert {"train", "validation", "test"} <= set(headline)
    for split, by_metric in headline.items():
        for name, measured in by_metric.items():
            assert data.metrics[f"{split}.{name}"] == pytest.approx(measured["value"], rel=1e-12)
            assert data.metrics[f"{split}.{name}.ci_low"] == pytest.approx(measured["low"])
            assert data.metrics[f"{split}.{name}.ci_high"] == pytest.approx(measured["high"])
    # artifacts: the report and results.json, byte for byte
    names = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"report.pdf", "report.html", "results.json", "spec.resolved.yaml"} <= names
    local = Path(client.download_artifacts(run.info.run_id, "results.json", str(out.parent)))
    assert local.read_bytes() == (out / "results.json").read_bytes()
    # the tuning study: the spec's own values and every trial, nested
    tuning = results["tuning"]
    by_trial = {r.data.tags["auditor.trial"]: r for r in children}
    assert set(by_trial) == {"baseline"} | {str(t["number"]) for t in tuning["trials"]}
    assert len(tuning["trials"]) == 3
    score = f"{tuning['scored_on']}.{tuning['metric']}"
    for trial in tuning["trials"]:
        child = by_trial[str(trial["number"])]
        assert child.info.run_name == f"trial {trial['number']}"
        assert child.data.tags["auditor.trial_state"] == trial["state"]
        assert child.data.metrics[score] == pytest.approx(trial["value"], rel=1e-12)
        for option, value in trial["values"].items():
            assert child.data.params[option] == str(value)
    assert by_trial["baseline"].data.metrics[score] == pytest.approx(tuning["baseline"]["value"])
    chosen = tuning["chosen"]
    assert data.tags["auditor.tuning.chosen"] == str(chosen["trial"])
    assert data.metrics["tuning.improvement"] == pytest.approx(tuning["improvement"])


def test_an_audit_is_one_run_on_a_tracking_server(tracked, server):
    code, out, results, _ = tracked
    assert code == results["verdict"]["exit_code"]
    assert results["verdict"]["status"] == "CONDITIONAL"  # the advisory accuracy bound fails
    _assert_logged(server, "tuning-test", out, results)


def test_the_spec_field_logs_into_a_sqlite_file_beside_the_spec(tracked, tmp_path):
    from auditor.spec import load_spec

    _, out, results, spec_path = tracked
    values = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    values["report"] = {"mlflow": {"tracking_uri": "sqlite:///tracking/mlflow.db"}}
    values["report"]["mlflow"]["experiment"] = "credit-models"
    shutil.copy(spec_path.with_name("train.csv"), tmp_path / "train.csv")
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    (tmp_path / "tracking").mkdir()
    target = mlflow_log.tracking_target(load_spec(spec, check_data=False))
    # relative to the spec's folder, not to where auditor runs
    assert target.uri == f"sqlite:///{(tmp_path / 'tracking' / 'mlflow.db').resolve()}"
    assert target.experiment == "credit-models"
    mlflow_log.log_audit(target, out)
    _assert_logged(target.uri, "credit-models", out, results)
    # the artifacts lie beside the database, not in ./mlruns of wherever auditor ran
    pdfs = list((tmp_path / "tracking" / "mlruns").glob("*/artifacts/report.pdf"))
    assert len(pdfs) == 1 and pdfs[0].read_bytes() == (out / "report.pdf").read_bytes()
    assert not (Path.cwd() / "mlruns").exists()
    # --mlflow overrides the spec's URI and keeps its experiment
    override = mlflow_log.tracking_target(load_spec(spec, check_data=False), "sqlite:///x.db")
    assert override.uri == "sqlite:///x.db" and override.experiment == "credit-models"


def test_the_file_store_when_mlflow_is_told_to_allow_it(tracked, tmp_path, monkeypatch):
    from auditor.spec import load_spec

    _, out, results, spec_path = tracked
    uri = (tmp_path / "mlruns").as_uri()
    monkeypatch.setenv(mlflow_log.FILE_STORE_OPT_IN, "true")
    target = mlflow_log.tracking_target(load_spec(spec_path, check_data=False), uri)
    mlflow_log.log_audit(target, out)
    _assert_logged(uri, "tuning-test", out, results)


def _must_not_run(monkeypatch):
    import auditor.data

    def refuse(*args, **kwargs):
        raise AssertionError("the data stage started although the MLflow target is unusable")

    # the pipeline looks it up when it runs: the first stage after loading the spec
    monkeypatch.setattr(auditor.data, "build_dataset", refuse)


@pytest.mark.parametrize(
    "uri, message",
    [
        ("htp://127.0.0.1:5000", "no tracking store for the scheme 'htp' (MLflow knows:"),
        ("mlruns", "MLflow refuses its file store (mlruns) unless MLFLOW_ALLOW_FILE_STORE=true"),
    ],
)
def test_an_unusable_uri_is_refused_before_training(
    tracked, uri, message, monkeypatch, capsys, tmp_path
):
    _, _, _, spec = tracked
    monkeypatch.delenv(mlflow_log.FILE_STORE_OPT_IN, raising=False)
    _must_not_run(monkeypatch)
    code = main(["run", str(spec), "--out", str(tmp_path / "o"), "--mlflow", uri])
    err = capsys.readouterr().err
    assert code == ExitCode.INVALID_INPUT
    assert (
        err.startswith("--mlflow: ")
        and message in err
        and len(err.strip().splitlines()) == 1
        and "Traceback" not in err
    )


def test_a_bad_uri_in_the_spec_is_located_at_its_line(tracked, monkeypatch, capsys, tmp_path):
    _, _, _, spec_path = tracked
    text = spec_path.read_text(encoding="utf-8")
    shutil.copy(spec_path.with_name("train.csv"), tmp_path / "train.csv")
    spec = tmp_path / "spec.yaml"
    spec.write_text(text + "report:\n  mlflow:\n    tracking_uri: htp://x\n", encoding="utf-8")
    lines = spec.read_text(encoding="utf-8").splitlines()
    line = next(i for i, t in enumerate(lines, 1) if "tracking_uri" in t)
    _must_not_run(monkeypatch)
    code = main(["run", str(spec), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == ExitCode.INVALID_INPUT
    assert re.match(
        rf"{re.escape(str(spec))}:{line}:\d+: report\.mlflow\.tracking_uri: MLflow cannot use "
        r"the tracking URI 'htp://x'",
        err,
    ), err


def test_a_server_that_is_down_keeps_the_report_and_exits_6(tracked, monkeypatch, capsys):
    import auditor.pipeline
    from auditor.pipeline import RunOutcome
    from auditor.spec import load_spec

    code, out, results, spec = tracked
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    # the run itself is the real one above; only the server differs: nothing listens there
    down = f"http://127.0.0.1:{free_port()}"
    target = mlflow_log.tracking_target(load_spec(spec, check_data=False), down)
    outcome = RunOutcome(results, out, {"results": out / "results.json"}, code, {}, None, target)
    monkeypatch.setattr(auditor.pipeline, "run", lambda *a, **k: outcome)
    exit_code = main(["run", str(spec), "--out", str(out), "--quiet", "--mlflow", down])
    captured = capsys.readouterr()
    assert exit_code == ExitCode.TRACKING_FAILED == 6
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"--mlflow: logging the audit to MLflow at {down} failed: ")
    assert err.endswith(f"; the report is kept in {out}")
    assert results["verdict"]["status"] in captured.out  # the verdict was said first
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_flattening_and_mlflow_limits():
    values = {
        "a": {"b": 1, "c": [1, 2], "d": [{"e": None}], "empty": {}},
        "data": {"types": {"income ($)": "numeric"}},
        "long": "x" * 7000,
    }
    flat = dict(mlflow_log.flatten(values))
    assert flat == {
        "a.b": 1,
        "a.c": [1, 2],
        "a.d.0.e": None,
        "a.empty": {},
        "data.types.income ($)": "numeric",
        "long": "x" * 7000,
    }
    entries = mlflow_log.run_entries({"spec": values})
    assert entries.params["a.c"] == "[1, 2]" and entries.params["a.d.0.e"] == "null"
    assert entries.params["data.types.income ___"] == "numeric"  # MLflow's key characters
    assert len(entries.params["long"]) == mlflow_log.MAX_PARAM_VALUE
    assert entries.params["long"].endswith(mlflow_log.TRUNCATED)
    assert len(mlflow_log._key("k" * 300)) == mlflow_log.MAX_KEY


def test_pruned_and_failed_trials_keep_their_state():
    trial = {"values": {"training.learning_rate": 0.01}, "epochs": 3, "seconds": 0.1}
    tuning = {
        "metric": "f1",
        "scored_on": "cv",
        "baseline": {"number": None, "state": "failed", "value": None},
        "trials": [
            {**trial, "number": 0, "state": "complete", "value": 0.8, "folds": [0.7, 0.9]},
            {**trial, "number": 1, "state": "pruned", "value": None, "folds": []},
            {**trial, "number": 2, "state": "failed", "value": None, "reason": "NaN loss"},
        ],
    }
    runs = mlflow_log.trial_entries({"tuning": tuning})
    assert [(name, status) for name, status, _ in runs] == [
        ("trial 0", "FINISHED"),
        ("trial 1", "KILLED"),
        ("trial 2", "FAILED"),
    ]  # an unscored baseline is not a run
    first, second, third = (entries for _, _, entries in runs)
    assert first.metrics == {
        "cv.f1": 0.8,
        "cv.f1.fold_1": 0.7,
        "cv.f1.fold_2": 0.9,
        "epochs": 3.0,
        "seconds": 0.1,
    }
    assert "cv.f1" not in second.metrics and third.tags["auditor.trial_reason"] == "NaN loss"
