"""Trials shared by several processes and machines (``auditor tune``).

    auditor tune SPEC --workers N [--storage S] [--study NAME]   the leader
        creates the study in S (default: tuning.journal in the run folder), or continues
        it; starts N - 1 worker processes here; scores the spec's own configuration and
        then runs trials itself; when the budget is spent and no trial is running, trains
        the chosen configuration and audits it exactly as ``auditor run`` does
    auditor tune SPEC --storage S [--study NAME]                 a worker (any machine)
        runs trials until the study's budget is spent, prints a summary line, exits;
        it retrains nothing and writes nothing but trials

What is shared is the study: its trials, their values and intermediate values, and what
the leader stamped in it (a fingerprint of the spec's search sections and of the training
data, the budget, the start time, the spec's own score). Each process reads the data and
fits its preprocessing itself; a worker whose spec or data differ is refused.

The budget holds across workers. Trial numbers come from the storage one at a time, so a
trial numbered at or past ``tuning.trials`` (a grid: its size) was opened after another
worker took the last one: it is failed at once, marked ``beyond_budget`` and left out of
the record. The seconds run from the study's start. No configuration is trained twice: a
trial waits until every lower-numbered trial has drawn its values (a moment) and takes the
result of the lowest one with the same values, waiting for it if it is still running
(Optuna's grid sampler gives trial k grid point k, so grids only repeat where conditional
entries make two points one configuration). Parallel searches are not reproducible trial by
trial; the chosen values are in the resolved spec, which is.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.errors import UsageError, one_line
from auditor.in_memory import held_inputs, holding
from auditor.tuning import handoff
from auditor.tuning import space as sp
from auditor.tuning.catalogue import METHODS
from auditor.tuning.search import (
    BEYOND_BUDGET,
    SPEC_OWN,
    Score,
    TrialRecord,
    _create_study,
    _Failed,
    _objective,
    _optuna_quiet,
    _score_baseline,
    _Scorer,
    fold_views,
    import_optuna,
    search_view,
)
from auditor.tuning.storage import (
    JOURNAL_FILE,
    Storage,
    close_storage,
    journal_file,
    open_storage,
    parse_storage,
)
from auditor.words import count_words

if TYPE_CHECKING:  # pragma: no cover
    from auditor.progress import Progress
    from auditor.types import Dataset, Spec

#: What the leader stamps in the study (its user attributes).
FINGERPRINT = "auditor.fingerprint"
STARTED = "auditor.started"  # the search's start, seconds since the epoch
BUDGET = "auditor.budget"
BASELINE = "auditor.baseline"  # the spec's own configuration, scored by the leader
#: A trial's user attribute: the process running it (``host:pid``).
WORKER = "worker"

POLL_SECONDS = 0.2  # between looks at the storage while waiting for another worker
DRAW_WAIT = 60.0  # the longest wait for a lower-numbered trial to draw its values
STAMP_WAIT = 10.0  # a joining worker's wait for the leader's stamp
BASELINE_WAIT = 600.0  # a trial drawing the spec's own configuration waits this long for it
DRAW_SECONDS = 0.5  # the live line's redraw interval

MSG_WORKERS = "--workers must be at least 1, got {n}"
MSG_JOIN_OUT = (
    "--out: a worker that joins a study (--storage without --workers) writes no run folder; "
    "the process started with --workers trains, audits and writes it"
)
MSG_NO_TUNING = (
    "auditor tune searches the spec's tuning section, and this spec has none: add one, "
    "or use auditor run"
)
MSG_NO_STUDY = (
    "--study {name}: no such study in {storage}; start it with: auditor tune SPEC --workers N "
    "--storage {storage} --study {name}"
)
MSG_NOT_OURS = (
    "--study {name}: the study in {storage} was not started by auditor tune (it has trials "
    "but no auditor fingerprint); choose another --study name"
)
MSG_NOT_STAMPED = (
    "--study {name}: the study in {storage} was not started by auditor tune --workers; "
    "start it that way first"
)
MSG_OTHER_SPEC = (
    "--study {name}: the study in {storage} was started from another spec or other training "
    "data; every worker needs the same spec sections (objective, data, model, training, "
    "tuning) and the same data files"
)
MSG_BEYOND = "opened after the budget of {budget} was taken by other workers"
MSG_WORKER_GONE = "its worker process stopped while it ran"
MSG_WORKER_FAILED = "worker process {k} stopped with exit code {code}{why}"
MSG_SHARED_NOTE = (
    "shared study '{name}' ({storage}): {trials} by {workers}{split}; the spec's own "
    "configuration, the retrain and the audit ran in the process started with --workers"
)
MSG_JOINED = (
    "study '{name}' ({storage}): this worker ran {mine}; the study has {done}, best {metric} "
    "{best}; the process started with --workers trains and audits the chosen configuration"
)


@dataclass(frozen=True)
class Workers:
    """How ``auditor tune`` shares its study.

    ``count``: worker processes on this machine, the leader among them; ``storage``: the
    ``--storage`` text (None: a journal file in the run folder); ``study``: its name (None:
    the spec's name); ``index``: a worker started by a leader (its sampler's seed offset);
    ``inputs``: the folder where a leader run from the Python API wrote the DataFrames and
    spec it holds in memory (:mod:`auditor.tuning.handoff`).
    """

    count: int = 1
    storage: str | None = None
    study: str | None = None
    index: int | None = None
    inputs: str | None = None  # a worker's folder of the API's in-memory inputs (handoff)

    def __post_init__(self) -> None:
        if int(self.count) < 1:
            raise UsageError(MSG_WORKERS.format(n=self.count))
        if self.storage is not None:
            parse_storage(self.storage)  # refuse sqlite and unknown schemes before any work


# --------------------------------------------------------------------------- the leader
def search_shared(
    workers: Workers,
    scorer: _Scorer,
    dataset: Dataset,
    out_dir: Path | None,
    *,
    started: float,
    progress: Progress | None,
    notes: list[str],
):
    """The leader's search: (the study, the spec's own configuration's record)."""
    optuna, spec = scorer.optuna, scorer.spec
    if workers.storage is not None:
        storage = parse_storage(workers.storage)
    else:
        folder = Path(out_dir or ".")
        folder.mkdir(parents=True, exist_ok=True)  # the run folder, written into later anyway
        storage = journal_file(folder / JOURNAL_FILE)
    name = workers.study or spec.name
    backend = open_storage(optuna, storage)
    children: list = []
    stopped: list[str] = []
    held = held_inputs()  # the Python API's DataFrames: written out for the workers
    handing = workers.count > 1 and handoff.needs_handoff(held)
    stack = contextlib.ExitStack()
    try:
        study = _create_study(optuna, spec, storage=backend, study_name=name)
        origin = time.time() - (time.perf_counter() - started)  # the baseline counts too
        _stamp(study, spec, dataset, name=name, storage=storage, origin=origin)
        folder = stack.enter_context(handoff.handed_off(held, spec, out_dir)) if handing else None
        children = _start_workers(workers.count - 1, spec, storage, name, inputs=folder)
        with _Live(study, scorer, progress):
            baseline = _leader_baseline(study, scorer)
            run_trials(study, scorer)
            for k, (proc, log) in enumerate(children, start=1):
                code = proc.wait()
                if code != 0:
                    stopped.append(_stopped_line(k, code, log))
            _wait_running(study, optuna)
        notes.append(_shared_note(study, name, storage))
        notes.extend(stopped)
        return _in_memory(optuna, study), baseline
    finally:
        _stop(children)
        stack.close()  # the handed-off inputs, once no worker reads them
        close_storage(backend)


def _in_memory(optuna, study):
    """The finished study, read once into memory (what the record and the report read)."""
    copy = optuna.create_study(direction=study.direction, study_name=study.study_name)
    copy.add_trials(study.get_trials(deepcopy=True))
    return copy


def _leader_baseline(study, scorer: _Scorer) -> TrialRecord:
    """The spec's own configuration: scored here once and stamped in the study (a continued
    study keeps the score it has)."""
    held = study.user_attrs.get(BASELINE)
    if held is not None:
        return TrialRecord(**held)
    baseline = _score_baseline(scorer)
    study.set_user_attr(BASELINE, asdict(baseline))
    return baseline


def _stamp(study, spec: Spec, dataset: Dataset, *, name, storage: Storage, origin) -> None:
    """Stamp a new study; check a continued one is this spec's."""
    attrs = study.user_attrs
    mark = fingerprint(spec, dataset)
    if FINGERPRINT in attrs:
        if attrs[FINGERPRINT] != mark:
            raise UsageError(MSG_OTHER_SPEC.format(name=name, storage=storage.shown))
        return
    if study.get_trials(deepcopy=False):
        raise UsageError(MSG_NOT_OURS.format(name=name, storage=storage.shown))
    tuning = spec.tuning
    study.set_user_attr(BUDGET, {"trials": trial_budget(tuning), "seconds": tuning.seconds})
    study.set_user_attr(STARTED, origin)
    study.set_user_attr(FINGERPRINT, mark)  # last: a joining worker waits for it


def fingerprint(spec: Spec, dataset: Dataset) -> str:
    """What every worker must share: the search's spec sections and the training data
    (files by content, so the same data at another path on another machine matches)."""
    values = sp.plain_value(spec.values)
    paths = ("train", "holdout", "audit", "reference")
    doc = {key: values.get(key) for key in ("objective", "model", "training", "tuning")}
    doc["data"] = {k: v for k, v in (values.get("data") or {}).items() if k not in paths}
    doc["train_files"] = sorted(
        str(s.get("sha256")) for s in dataset.sources if s.get("role") == "train"
    )
    text = json.dumps(doc, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def trial_budget(tuning) -> int | None:
    """The study's trial budget: ``tuning.trials``, and for a grid at most its size."""
    total = tuning.trials
    if METHODS[tuning.method].enumerates:
        size = sp.grid_size(tuning.space)
        total = size if total is None else min(int(total), size)
    return None if total is None else int(total)


def _start_workers(
    n: int, spec: Spec, storage: Storage, name: str, *, inputs: Path | None = None
) -> list:
    """``n`` local worker processes on the study (each ``auditor tune --storage``; with
    ``inputs``, the folder of the API's in-memory inputs, ``--inputs FOLDER``)."""
    if n <= 0:
        return []
    env = dict(os.environ)
    threads = max(1, (os.cpu_count() or 1) // (n + 1))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, str(threads))  # workers share the cores
    command = [sys.executable, "-m", "auditor", "tune", str(Path(spec.path).resolve())]
    command += ["--storage", storage.target, "--study", name, "--quiet"]
    if inputs is not None:
        command += ["--inputs", str(inputs)]
    children = []
    for k in range(1, n + 1):
        log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        proc = subprocess.Popen(
            [*command, "--worker-index", str(k)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
        )
        _CHILDREN[proc.pid] = proc
        children.append((proc, log))
    return children


_CHILDREN: dict[int, subprocess.Popen] = {}  # this process's workers, to tell they stopped


def _stop(children: list) -> None:
    """End any worker still running (an interrupted or failed leader) and close the logs."""
    for proc, _ in children:
        if proc.poll() is None:
            proc.terminate()
    for proc, log in children:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        _CHILDREN.pop(proc.pid, None)
        log.close()


def _stopped_line(k: int, code: int, log) -> str:
    log.seek(0)
    lines = [line.strip() for line in log.read().splitlines() if line.strip()]
    why = f": {one_line(lines[-1])}" if lines else ""
    return MSG_WORKER_FAILED.format(k=k, code=code, why=why)


def _wait_running(study, optuna) -> None:
    """Wait until no trial runs (workers elsewhere finish theirs), failing those whose
    worker is gone (a stopped local process; a PostgreSQL worker without a heartbeat)."""
    running = optuna.trial.TrialState.RUNNING
    while any(t.state == running for t in study.get_trials(deepcopy=False)):
        _fail_gone(study, optuna)
        time.sleep(POLL_SECONDS * 5)


def _shared_note(study, name: str, storage: Storage) -> str:
    trials = [t for t in study.get_trials(deepcopy=False) if not t.user_attrs.get(BEYOND_BUDGET)]
    by: dict[str, int] = {}
    for t in trials:
        who = str(t.user_attrs.get(WORKER, "?"))
        by[who] = by.get(who, 0) + 1
    split = f" ({', '.join(str(n) for n in sorted(by.values(), reverse=True))})" if by else ""
    return MSG_SHARED_NOTE.format(
        name=name,
        storage=storage.shown,
        trials=count_words(len(trials), "trial"),
        workers=count_words(len(by), "worker process", "worker processes"),
        split=split if len(by) > 1 else "",
    )


# --------------------------------------------------------------------------- a worker
def join_study(spec_path: str, workers: Workers, *, quiet: bool = False) -> str:
    """``auditor tune SPEC --storage S``: run trials of a shared study until its budget is
    spent; the summary line."""
    from auditor.data import build_dataset
    from auditor.progress import Progress
    from auditor.spec import load_spec

    held = None
    if workers.inputs is not None:  # a leader in the Python API wrote what it holds
        spec, held = handoff.load_handed(workers.inputs)
    else:
        spec = load_spec(spec_path)
    if spec.tuning is None:
        raise UsageError(MSG_NO_TUNING, _spec_location(spec))
    optuna = import_optuna(spec)
    storage = parse_storage(str(workers.storage))
    name = workers.study or spec.name
    if storage.kind == "journal" and not Path(storage.target).is_file():  # nothing to join
        raise UsageError(MSG_NO_STUDY.format(name=name, storage=storage.shown))
    backend = open_storage(optuna, storage)
    try:
        if name not in optuna.get_all_study_names(backend):
            raise UsageError(MSG_NO_STUDY.format(name=name, storage=storage.shown))
        with holding(held):  # the frames, read as the leader read them
            dataset = build_dataset(spec)
        with _optuna_quiet(optuna):
            offset = workers.index if workers.index is not None else _worker_offset()
            study = _create_study(optuna, spec, storage=backend, study_name=name, worker=offset)
            _joined(study, spec, dataset, name=name, storage=storage)
            view = search_view(dataset)
            folds = fold_views(spec, view, []) if spec.tuning.cv is not None else None
            scorer = _Scorer(spec, view, folds, optuna)
            with _Live(study, scorer, Progress(quiet=quiet)):
                mine = run_trials(study, scorer)
        return _joined_line(study, scorer, name, storage, mine)
    finally:
        close_storage(backend)


def _worker_offset() -> int:
    """A joining worker's seed offset: from its host and process (workers differ)."""
    return 1000 + zlib.crc32(_worker_id().encode()) % 1_000_000


def _joined(study, spec: Spec, dataset: Dataset, *, name: str, storage: Storage) -> None:
    """Wait briefly for the leader's stamp; refuse another spec's study."""
    limit = time.monotonic() + STAMP_WAIT
    while FINGERPRINT not in study.user_attrs:
        if time.monotonic() > limit:
            raise UsageError(MSG_NOT_STAMPED.format(name=name, storage=storage.shown))
        time.sleep(POLL_SECONDS)
    if study.user_attrs[FINGERPRINT] != fingerprint(spec, dataset):
        raise UsageError(MSG_OTHER_SPEC.format(name=name, storage=storage.shown))


def _joined_line(study, scorer: _Scorer, name: str, storage: Storage, mine: list[int]) -> str:
    optuna = scorer.optuna
    states = {s: 0 for s in ("complete", "pruned", "failed")}
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    for number in mine:
        state = trials[number].state
        key = {optuna.trial.TrialState.COMPLETE: "complete"}.get(state)
        key = key or ("pruned" if state == optuna.trial.TrialState.PRUNED else "failed")
        states[key] += 1
    parts = [f"{n} {s}" for s, n in states.items() if n]
    ran = count_words(len(mine), "trial") + (f" ({', '.join(parts)})" if parts else "")
    counted = [t for t in trials.values() if not t.user_attrs.get(BEYOND_BUDGET)]
    budget = study.user_attrs.get(BUDGET, {}).get("trials")
    done = f"{len(counted)} of {budget} trials" if budget else count_words(len(counted), "trial")
    best = _best(counted, scorer.tuning.direction, optuna)
    shown = "-" if best is None else f"{best.value:.4g} (trial {best.number})"
    return MSG_JOINED.format(
        name=name, storage=storage.shown, mine=ran, done=done, metric=scorer.tuning.metric,
        best=shown,
    )  # fmt: skip


def _spec_location(spec: Spec):
    from auditor.errors import Location

    return Location(file=str(spec.path))


# --------------------------------------------------------------------------- the trials
def run_trials(study, scorer: _Scorer) -> list[int]:
    """Trials of the shared study until its budget is spent: the numbers run here."""
    optuna = scorer.optuna
    attrs = study.user_attrs
    budget = attrs[BUDGET]["trials"]
    seconds = attrs[BUDGET]["seconds"]
    deadline = None if seconds is None else float(attrs[STARTED]) + float(seconds)
    mine: list[int] = []
    objective = _objective(scorer, {}, shared=_Earlier(study, scorer))
    me = _worker_id()

    def guarded(trial) -> float:
        trial.set_user_attr(WORKER, me)
        if budget is not None and trial.number >= budget:  # another worker took the last
            trial.set_user_attr(BEYOND_BUDGET, True)
            trial.study.stop()
            raise _Failed(MSG_BEYOND.format(budget=count_words(budget, "trial")))
        mine.append(trial.number)
        return objective(trial)

    if budget is not None and len(study.get_trials(deepcopy=False)) >= budget:
        return mine
    timeout = None if deadline is None else deadline - time.time()
    if timeout is not None and timeout <= 0:
        return mine
    callbacks = [] if budget is None else [optuna.study.MaxTrialsCallback(budget, states=None)]
    study.optimize(
        guarded, timeout=timeout, catch=(_Failed,), callbacks=callbacks, gc_after_trial=False
    )
    return mine


class _Earlier:
    """``shared(trial, key)`` for the objective: an earlier result of the same values."""

    def __init__(self, study, scorer: _Scorer):
        self.study = study
        self.optuna = scorer.optuna
        own = sp.spec_values(scorer.tuning.space, scorer.spec.values)
        self.baseline_key = sp.key(own)

    def __call__(self, trial, key: str):
        if key == self.baseline_key:
            found = self._baseline()
            if found is not None:
                return found
        return self._lower_trial(trial.number, key)

    def _baseline(self):
        record = _wait_for(lambda: self.study.user_attrs.get(BASELINE), BASELINE_WAIT)
        if record is None or record["state"] != "complete":
            return None  # not scored (or failed): the trial scores it
        score = Score(value=record["value"], epochs=record["epochs"], folds=record["folds"])
        return ("complete", SPEC_OWN, score, None)

    def _lower_trial(self, number: int, key: str):
        running = self.optuna.trial.TrialState.RUNNING
        limit = time.monotonic() + DRAW_WAIT
        while True:
            lower = [t for t in self.study.get_trials(deepcopy=False) if t.number < number]
            drawing = [t for t in lower if t.state == running and "values" not in t.user_attrs]
            drawing = [t for t in drawing if not t.user_attrs.get(BEYOND_BUDGET)]
            if not drawing or time.monotonic() > limit:
                break
            time.sleep(POLL_SECONDS)
        same = [t for t in lower if sp.key(t.user_attrs.get("values", {})) == key]
        same = [t for t in same if "values" in t.user_attrs]
        if not same:
            return None
        first = min(same, key=lambda t: t.number)
        while first.state == running:
            _fail_gone(self.study, self.optuna)
            time.sleep(POLL_SECONDS)
            first = next(
                t for t in self.study.get_trials(deepcopy=False) if t.number == first.number
            )
        return _as_earlier(first, self.optuna)


def _as_earlier(trial, optuna):
    """A finished trial as an entry of the objective's ``seen`` (None: train it again, as
    for a trial whose worker stopped)."""
    states = optuna.trial.TrialState
    attrs = trial.user_attrs
    if trial.state == states.COMPLETE:
        score = Score(
            value=float(trial.value), epochs=attrs.get("epochs"), folds=attrs.get("folds", [])
        )
        return ("complete", trial.number, score, None)
    if trial.state == states.PRUNED:
        return ("pruned", trial.number, None, None)
    if attrs.get("reason") in (None, MSG_WORKER_GONE):
        return None
    return ("failed", trial.number, None, attrs.get("reason"))


def _wait_for(get, seconds: float):
    limit = time.monotonic() + seconds
    while True:
        value = get()
        if value is not None or time.monotonic() > limit:
            return value
        time.sleep(POLL_SECONDS)


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(pid: int) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fail_gone(study, optuna) -> None:
    """Fail running trials whose worker is gone: a stopped process on this machine (journal
    or PostgreSQL), a PostgreSQL worker whose heartbeat stopped (Optuna's own check)."""
    host = socket.gethostname()
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        where, _, pid = str(t.user_attrs.get(WORKER, "")).rpartition(":")
        if where != host or not pid.isdigit() or _alive(int(pid)):
            continue
        study._storage.set_trial_user_attr(t._trial_id, "reason", MSG_WORKER_GONE)
        study.tell(t.number, state=optuna.trial.TrialState.FAIL, skip_if_finished=True)
    with warnings.catch_warnings():  # Optuna marks the heartbeat check experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def _best(trials, direction: str, optuna):
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        return None
    sign = -1.0 if direction == "maximize" else 1.0
    return min(complete, key=lambda t: (sign * float(t.value), t.number))


# --------------------------------------------------------------------------- progress
class _Live:
    """The study's progress on a terminal, from a thread that reads the storage: trials
    done of the budget, the best value so far, the time left (nothing when quiet)."""

    def __init__(self, study, scorer: _Scorer, progress: Progress | None):
        self.study = study
        self.optuna = scorer.optuna
        self.direction = scorer.tuning.direction
        self.stream = None if progress is None else progress.stream
        self.progress = progress
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _Live:
        if self.stream is not None:
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=5)
            self.progress.clear()

    def _loop(self) -> None:
        attrs = self.study.user_attrs
        budget = attrs[BUDGET]["trials"]
        seconds = attrs[BUDGET]["seconds"]
        started = float(attrs[STARTED])
        while not self._stop.wait(DRAW_SECONDS):
            try:
                line = self._line(budget, seconds, started)
            except Exception:  # noqa: BLE001 - a progress line never stops the search
                continue
            self.progress.status(line)

    def _line(self, budget, seconds, started) -> str:
        trials = [
            t for t in self.study.get_trials(deepcopy=False) if not t.user_attrs.get(BEYOND_BUDGET)
        ]
        done = [t for t in trials if t.state.is_finished()]
        running = len(trials) - len(done)
        best = _best(done, self.direction, self.optuna)
        elapsed = time.time() - started
        left = None
        if seconds is not None:
            left = max(0.0, started + float(seconds) - time.time())
        if budget is not None and done:
            estimate = elapsed / len(done) * max(0, budget - len(done))
            left = estimate if left is None else min(left, estimate)
        parts = [f"tune {len(done)}/{budget}" if budget else f"tune {len(done)} trials"]
        parts.append(f"running {running}")
        if best is not None:
            parts.append(f"best {best.value:.4g} (trial {best.number})")
        if left is not None:
            parts.append(f"left ~{_duration(left)}")
        return "  ".join(parts)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
