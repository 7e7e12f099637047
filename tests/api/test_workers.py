"""``auditor.run(spec, data=frames, workers=N)``: a search shared by worker processes on
DataFrames held in memory, on the path ``auditor tune --workers N`` takes.

The worker processes cannot see the caller's frames; the leader hands them over as Parquet
in a private folder of the run folder (:mod:`auditor.tuning.handoff`). Checked against the
same spec run from files with ``auditor tune --workers 2``: the same four grid points
scored alike, the same chosen configuration, the same criteria; both processes ran trials;
the fingerprints are the in-memory frame's (its CSV text), and the folder is gone after.
"""

from __future__ import annotations

import copy
import hashlib
import json

import numpy as np
import pytest

pytest.importorskip("optuna")

import auditor  # noqa: E402
from auditor.cli import main  # noqa: E402
from auditor.errors import UsageError  # noqa: E402
from auditor.in_memory import InMemory, hold_frame  # noqa: E402
from auditor.tuning import handoff  # noqa: E402
from tests.tuning.test_workers import (  # noqa: E402, F401 - the fixture, by its name
    SMALL_SPACE,
    _workers_of,
    leader_waits_for_a_second_worker,
)
from tests.tuning.tuning_data import problem, spec_values  # noqa: E402

GRID = 4  # the configurations of SMALL_SPACE, each one trial


def _grid_values() -> dict:
    values = spec_values(method="grid", trials=GRID, space=SMALL_SPACE, metric="roc_auc")
    values["evaluation"] = {"bootstrap": 50, "learning_curve": {"enabled": False}}
    values["acceptance"] = [{"metric": "roc_auc", "split": "test", "at_least": 0.6}]
    return values


@pytest.fixture(scope="module")
def no_render():
    """The report is not what this compares: skip its rendering (seconds each run)."""
    import auditor.report

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auditor.report, "render_report", lambda *args, **kwargs: {})
        yield


@pytest.fixture
def both(tmp_path, no_render, leader_waits_for_a_second_worker):  # noqa: F811
    """The grid searched twice by two processes: from the API's DataFrame, and from files."""
    frame = problem()
    api_spec = _grid_values()
    api_spec["data"]["train"] = frame
    api = auditor.run(api_spec, out=tmp_path / "api", workers=2)

    frame.to_csv(tmp_path / "train.csv", index=False)
    file_spec = copy.deepcopy(_grid_values())
    file_spec["data"]["train"] = "train.csv"
    (tmp_path / "spec.yaml").write_text(json.dumps(file_spec), encoding="utf-8")  # JSON is YAML
    code = main(["tune", str(tmp_path / "spec.yaml"), "--workers", "2", "--out",
                 str(tmp_path / "cli"), "--quiet"])  # fmt: skip
    cli = auditor.AuditResult.read(tmp_path / "cli" / "results.json")
    return api, cli, code, tmp_path


def test_workers_on_dataframes_give_the_cli_workers_search_and_the_frames_fingerprint(both):
    api, cli, code, root = both
    assert api.exit_code == cli.exit_code == code
    searched = {}
    for result in (api, cli):
        tuning = result.results["tuning"]
        assert tuning["counts"]["run"] == GRID
        assert "2 worker processes" in tuning["notes"][0]  # both processes ran trials
        trials = {json.dumps(t["values"], sort_keys=True): t["value"] for t in tuning["trials"]}
        assert len(trials) == GRID  # a grid: every configuration once
        searched[result is api] = (trials, tuning["chosen"]["values"], tuning["baseline"])
    (api_trials, api_chosen, api_own), (cli_trials, cli_chosen, cli_own) = (
        searched[True],
        searched[False],
    )
    assert api_trials.keys() == cli_trials.keys()
    for key, value in api_trials.items():  # scored in either process, with their threads
        np.testing.assert_allclose(value, cli_trials[key], rtol=1e-6)
    assert api_chosen == cli_chosen
    np.testing.assert_allclose(api_own["value"], cli_own["value"], rtol=1e-6)
    for mine, theirs in zip(api.criteria, cli.criteria, strict=True):
        assert mine.status == theirs.status
        np.testing.assert_allclose(mine.value, theirs.value, rtol=1e-9)
        np.testing.assert_allclose(mine.ci, theirs.ci, rtol=1e-9)
    by = _workers_of(str(root / "api" / "tuning.journal"), "tuning-test")
    assert len(by) == 2 and all(n >= 1 for n in by.values()), by
    # the fingerprints are the in-memory frame's; the handed-off copy is gone
    source = next(s for s in api.results["data"]["sources"] if s["role"] == "train")
    assert source["path"] == "<DataFrame train>" and source["format"] == "dataframe"
    csv = hashlib.sha256((root / "train.csv").read_bytes()).hexdigest()
    assert source["sha256"] == csv  # the frame's CSV text, as a sequential API run hashes it
    assert next(s for s in cli.results["data"]["sources"] if s["role"] == "train")["sha256"] == csv
    left = [p.name for p in (root / "api").iterdir() if p.name.startswith(handoff.FOLDER_PREFIX)]
    assert left == []


def test_a_worker_reads_back_the_frames_and_the_spec(tmp_path):
    frame = problem()
    values = _grid_values()
    values["data"]["train"] = frame
    spec = auditor.validate(values)
    held = InMemory(frames={"<DataFrame train>": hold_frame("train", frame)})
    handoff.write_inputs(held, spec, tmp_path)
    worker_spec, inputs = handoff.load_handed(tmp_path)
    assert worker_spec.values == spec.values and worker_spec.path == spec.path
    again = inputs.frames["<DataFrame train>"]
    assert again.sha256 == held.frames["<DataFrame train>"].sha256  # hashed again, equal
    assert again.frame.equals(frame)


def test_a_frame_parquet_cannot_hold_is_refused_in_one_line(tmp_path):
    frame = problem()
    frame["mixed"] = [1, "a"] * (len(frame) // 2)  # an object column of ints and strings
    values = _grid_values()
    values["data"]["train"] = frame
    spec = auditor.validate(values)
    held = InMemory(frames={"<DataFrame train>": hold_frame("train", frame)})
    with pytest.raises(UsageError) as caught:
        handoff.write_inputs(held, spec, tmp_path)
    message = str(caught.value)
    assert message.startswith("data['train'] cannot be handed to the tuning workers as Parquet")
    assert "\n" not in message


def test_a_bad_inputs_folder_is_one_line(tmp_path):
    with pytest.raises(UsageError) as caught:
        handoff.load_handed(tmp_path)
    assert str(caught.value) == handoff.MSG_MANIFEST.format(folder=tmp_path)


@pytest.mark.parametrize(
    ("change", "workers", "expected"),
    [
        (lambda v: v.pop("tuning"), 2, "workers: " + auditor.api.MSG_WORKERS_NO_TUNING),
        (lambda v: None, 0, "workers: workers must be at least 1, got 0"),
        (
            lambda v: None,
            "2",
            "workers: workers must be a whole number of processes, got builtins.str",
        ),
    ],
)
def test_workers_refusals_are_one_located_line(change, workers, expected):
    values = _grid_values()
    values["data"]["train"] = problem()
    change(values)
    with pytest.raises(UsageError) as caught:
        auditor.run(values, workers=workers)
    assert str(caught.value) == expected


def test_an_in_memory_model_cannot_be_tuned(tmp_path):
    from sklearn.linear_model import LogisticRegression

    frame = problem()
    model = LogisticRegression().fit(frame[["x1", "x2"]], frame["y"])
    values = _grid_values()
    values["data"]["train"] = frame
    with pytest.raises(UsageError) as caught:
        auditor.run(values, model=model, workers=2)
    assert str(caught.value) == "tuning: " + auditor.api.MSG_MODEL_TUNING
    values["data"]["train"] = "train.csv"
    (tmp_path / "spec.yaml").write_text(json.dumps(values, indent=1), encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        auditor.validate(tmp_path / "spec.yaml", data={"train": frame}, model=model)
    line = str(caught.value)
    assert line.startswith(f"{tmp_path / 'spec.yaml'}:")  # file:line:col of tuning
    assert caught.value.location.line is not None
    assert line.endswith("tuning: " + auditor.api.MSG_MODEL_TUNING)
