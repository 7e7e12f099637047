"""Trials shared by several worker processes: a journal file and a real PostgreSQL server.

Each shared search runs the leader here and one more worker as a process of its own
(``auditor tune SPEC --storage S``, as on another machine); the leader waits for that
worker's first trial before it runs its own, so both contribute. Checked: the budget is
met exactly, no trial number or configuration is trained twice, the chosen configuration
is the study's best, and the refusals are one line each.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("optuna")

from auditor.cli import main  # noqa: E402
from auditor.data import build_dataset  # noqa: E402
from auditor.spec import load_spec  # noqa: E402
from auditor.tuning import space as sp  # noqa: E402
from auditor.tuning import storage as st  # noqa: E402
from auditor.tuning import tune, workers  # noqa: E402
from auditor.tuning.search import BEYOND_BUDGET  # noqa: E402
from tests.tuning.postgres import missing, postgres_server  # noqa: E402
from tests.tuning.tuning_data import spec_values, write_spec  # noqa: E402

LR = "training.learning_rate"
# four configurations and eight trials: repeats across workers are certain
SMALL_SPACE = [
    {"option": "model.architecture", "choices": ["linear", "mlp"]},
    {"option": LR, "choices": [0.003, 0.03]},
]
OTHER_WORKER_WAIT = 90.0  # seconds the leader waits for the other worker's first trial


@pytest.fixture
def leader_waits_for_a_second_worker(monkeypatch):
    """The leader's own trials start once another process has opened a trial."""
    original = workers.run_trials
    me = workers._worker_id()

    def run_trials(study, scorer):
        def other_started():
            others = [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get("worker")]
            return any(t.user_attrs["worker"] != me for t in others) or None

        assert workers._wait_for(other_started, OTHER_WORKER_WAIT), "no second worker"
        return original(study, scorer)

    monkeypatch.setattr(workers, "run_trials", run_trials)


def _check_shared(trials: list[dict], budget: int, chosen: dict, baseline: dict) -> None:
    """The budget, once each; repeats take the lowest trial's result; the best is chosen."""
    assert sorted(t["number"] for t in trials) == list(range(budget))
    first: dict[str, dict] = {}
    for t in sorted(trials, key=lambda t: t["number"]):
        key = sp.key(t["values"])
        if key in first:  # drew values another trial (maybe another worker's) had: not trained
            assert t["same_as"] == first[key]["number"], t
            assert t["value"] == first[key]["value"] and t["seconds"] == 0.0
        else:
            assert t["same_as"] is None, t
            first[key] = t
    complete = [t for t in [*trials, baseline] if t["state"] == "complete"]
    assert chosen["value"] == max(t["value"] for t in complete)
    assert chosen["values"] == next(t for t in complete if t["value"] == chosen["value"])["values"]


def _workers_of(storage: str, name: str) -> dict[str, int]:
    """Trials in the budget per worker process, read from the storage itself."""
    import optuna

    backend = st.open_storage(optuna, st.parse_storage(storage))
    try:
        study = optuna.load_study(study_name=name, storage=backend)
        by: dict[str, int] = {}
        for t in study.get_trials(deepcopy=False):
            if not t.user_attrs.get(BEYOND_BUDGET):
                by[t.user_attrs["worker"]] = by.get(t.user_attrs["worker"], 0) + 1
        return by
    finally:
        st.close_storage(backend)


def test_two_workers_share_a_journal_study_and_the_leader_audits_the_best(
    tmp_path, monkeypatch, leader_waits_for_a_second_worker
):
    import auditor.report

    monkeypatch.setattr(auditor.report, "render_report", lambda *args, **kwargs: {})
    values = spec_values(trials=8, space=SMALL_SPACE, metric="roc_auc")
    values["evaluation"] = {"bootstrap": 50, "learning_curve": {"enabled": False}}
    values["acceptance"] = [{"metric": "roc_auc", "split": "test", "at_least": 0.6}]
    spec = write_spec(tmp_path, values)
    out = tmp_path / "out"
    code = main(["tune", str(spec), "--workers", "2", "--out", str(out), "--quiet"])
    assert code in (0, 3), code  # the verdict's code, as auditor run gives it
    results = json.loads((out / "results.json").read_text())
    tuning = results["tuning"]
    assert tuning["counts"]["run"] == 8 and tuning["counts"]["repeated"] >= 4
    _check_shared(tuning["trials"], 8, tuning["chosen"], tuning["baseline"])
    assert "2 worker processes" in tuning["notes"][0]
    by = _workers_of(str(out / "tuning.journal"), "tuning-test")
    assert len(by) == 2 and all(n >= 1 for n in by.values()), by
    # the same run folder as auditor run: the winner retrained, audited and recorded
    assert {"results.json", "spec.resolved.yaml", "model"} <= {p.name for p in out.iterdir()}
    for option, value in tuning["chosen"]["values"].items():
        node = results["spec"]
        for key in option.split("."):
            node = node[key]
        assert node == value


@pytest.fixture(scope="module")
def postgres_url():
    reason = missing()
    if reason is not None:
        pytest.skip(reason)
    pytest.importorskip("psycopg", reason="the tune extra's PostgreSQL driver (psycopg)")
    with postgres_server() as url:
        yield url


def test_two_workers_share_a_grid_on_postgresql(
    tmp_path, postgres_url, leader_waits_for_a_second_worker
):
    space = [*SMALL_SPACE, {"option": "training.batch_size", "choices": [32, 64]}]
    values = spec_values(method="grid", trials=None, space=space, metric="roc_auc")
    spec = load_spec(write_spec(tmp_path, values))
    dataset = build_dataset(spec)
    shared = workers.Workers(2, storage=postgres_url, study="grid-pg")
    tuned, outcome = tune(spec, dataset, workers=shared, out_dir=tmp_path)
    trials = [vars(t) for t in outcome.trials]
    _check_shared(trials, 8, outcome.chosen, vars(outcome.baseline))
    # a grid walks every point once, whichever worker takes it
    drawn = {sp.key(t["values"]) for t in trials}
    assert len(drawn) == 8 and outcome.counts["repeated"] == 0
    by = _workers_of(postgres_url, "grid-pg")
    assert len(by) == 2 and all(n >= 1 for n in by.values()), by
    assert tuned.values["training"]["batch_size"] == outcome.chosen["values"]["training.batch_size"]


def test_a_worker_joins_a_study_on_postgresql_and_stops_at_its_budget(
    tmp_path, postgres_url, capsys
):
    # the study is spent already: a worker that joins runs nothing and says so
    values = spec_values(trials=2, metric="roc_auc")
    spec_path = write_spec(tmp_path, values)
    spec = load_spec(spec_path)
    shared = workers.Workers(1, storage=postgres_url, study="spent")
    tune(spec, build_dataset(spec), workers=shared, out_dir=tmp_path)
    code = main(["tune", str(spec_path), "--storage", postgres_url, "--study", "spent"])
    assert code == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("study 'spent' (postgresql://auditor@127.0.0.1:")
    assert "this worker ran 0 trials; the study has 2 of 2 trials, best roc_auc" in line
    assert "the process started with --workers trains and audits" in line
    # another spec (a different learning rate) may not join it
    values["training"]["learning_rate"] = 0.02
    other = write_spec(tmp_path / "other", values)
    code = main(["tune", str(other), "--storage", postgres_url, "--study", "spent"])
    assert code == 2
    assert (
        workers.MSG_OTHER_SPEC.split(";")[0].format(
            name="spent", storage=st.hide_password(postgres_url)
        )
        in capsys.readouterr().err
    )


# --------------------------------------------------------------------------- refusals
SQLITE = st.MSG_SQLITE.format(url="sqlite:///trials.db")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--workers", "2", "--storage", "sqlite:///trials.db"], SQLITE),
        (["--storage", "sqlite:///trials.db", "--study", "s"], SQLITE),
        (["--workers", "0"], workers.MSG_WORKERS.format(n=0)),
        (
            ["--storage", "mysql://u:secret@db/optuna"],
            st.MSG_SCHEME.format(url="mysql://u:***@db/optuna", scheme="mysql"),
        ),
        (
            ["--storage", "nowhere/trials.journal"],
            st.MSG_NO_FOLDER.format(url="nowhere/trials.journal", folder="nowhere"),
        ),
        (["--storage", "trials.journal", "--out", "x"], workers.MSG_JOIN_OUT),
        (
            ["--storage", "trials.journal", "--study", "absent"],
            workers.MSG_NO_STUDY.format(name="absent", storage="trials.journal"),
        ),
    ],
)
def test_tune_flags_are_refused_in_one_line(tmp_path, monkeypatch, capsys, argv, expected):
    monkeypatch.chdir(tmp_path)
    spec = write_spec(tmp_path, spec_values())
    assert main(["tune", str(spec), *argv]) == 2
    assert capsys.readouterr().err.strip() == expected


def test_sqlite_is_refused_with_the_optuna_issue():
    with pytest.raises(workers.UsageError) as caught:
        workers.Workers(2, storage="sqlite:///trials.db")
    assert str(caught.value) == (
        "--storage sqlite:///trials.db: SQLite is not safe for parallel writers (optuna#4002); "
        "use a journal file on one machine or a postgresql:// URL for several"
    )


def test_storage_urls_name_their_driver_and_hide_passwords(tmp_path):
    pg = st.parse_storage("postgresql://me:pw@db.example:5432/optuna")
    assert pg.kind == "postgresql" and pg.target.startswith("postgresql+psycopg://me:pw@")
    assert pg.shown == "postgresql://me:***@db.example:5432/optuna"
    assert st.parse_storage("postgresql+psycopg2://db/o").target == "postgresql+psycopg2://db/o"
    journal = st.parse_storage(str(tmp_path / "s.journal"))
    assert journal.kind == "journal" and Path(journal.target).parent == tmp_path


def test_a_spec_without_tuning_is_refused_by_tune(tmp_path, capsys):
    values = spec_values()
    del values["tuning"]
    spec = write_spec(tmp_path, values)
    assert main(["tune", str(spec), "--workers", "2"]) == 2
    assert workers.MSG_NO_TUNING in capsys.readouterr().err


def test_a_trial_whose_worker_process_died_is_failed_and_may_run_again(tmp_path):
    import subprocess
    import sys

    import optuna

    from auditor.tuning.search import _create_study

    spec = load_spec(write_spec(tmp_path, spec_values(trials=3)))
    journal = st.journal_file(tmp_path / "t.journal")
    study = _create_study(optuna, spec, storage=st.open_storage(optuna, journal))
    # another process opens a trial, draws its values and dies without finishing it
    code = (
        "import optuna, os, socket; from optuna.storages.journal import JournalFileBackend, "
        "JournalStorage; s = optuna.load_study(study_name='tuning-test', storage=JournalStorage("
        f"JournalFileBackend({str(journal.target)!r}))); t = s.ask(); "
        "t.set_user_attr('worker', f'{socket.gethostname()}:{os.getpid()}'); "
        "t.set_user_attr('values', {'x': 1})"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    (trial,) = study.get_trials(deepcopy=False)
    assert trial.state == optuna.trial.TrialState.RUNNING
    workers._fail_gone(study, optuna)
    (trial,) = study.get_trials(deepcopy=False)
    assert trial.state == optuna.trial.TrialState.FAIL
    assert trial.user_attrs["reason"] == workers.MSG_WORKER_GONE
    assert workers._as_earlier(trial, optuna) is None  # its values are trained again
