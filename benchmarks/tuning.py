"""Benchmark: the hyperparameter search on the loan example (specs/loan-tuning.yaml).

The example's spec with its generator asked for more rows (``--rows``, default 40,000), so
that a trial takes about as long as a real one takes to dwarf a process's start.

1. Trials per minute with 1 and with 2 local workers sharing one study (a journal file, as
   ``auditor tune --workers N`` keeps it, and a throwaway PostgreSQL server on 127.0.0.1, as
   several machines would share it, when PostgreSQL is installed): a 24-point grid over
   the example's options, so both runs train exactly the same configurations (trial k is
   grid point k in every worker). The time is the whole search: the spec's own
   configuration, starting the second worker process (which imports torch and reads the
   data itself) and every trial.
2. The search machinery's overhead per trial against bare training, in the 1-worker search:
   each trial's time less the time ``train_model`` spent training (the per-epoch metric
   and pruning reports it calls back are machinery, as are sampling, the journal writes and
   the look-up of other workers' trials), over that training time. Measured in the same
   run, so a busy machine slows both alike. Target: under 5%.
3. A 20-trial random search (the example's own space, seed 7) with median pruning against
   the same search without pruning (in memory, as ``auditor run`` searches).

    python benchmarks/tuning.py [--rows 40000]
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "specs" / "loan-tuning.yaml"
TARGET_OVERHEAD = 0.05  # the machinery's share of a trial, over bare training
GRID_SPACE = [
    {"option": "model.architecture", "choices": ["linear", "mlp"]},
    {"option": "training.learning_rate", "choices": [0.001, 0.003, 0.01]},
    {"option": "training.batch_size", "choices": [128, 256]},
    {"option": "training.weight_decay", "choices": [0.0, 0.0001]},
]


class TrainingClock:
    """Seconds spent inside ``train_model``, less the ``on_epoch`` calls back into the search."""

    def __init__(self):
        import auditor.train

        self.module = auditor.train
        self.original = auditor.train.train_model
        self.calls: list[float] = []  # each call's training seconds, in order
        self.callbacks: list[float] = []  # each call's seconds in on_epoch (the search's)

    def __enter__(self):
        def timed(*args, on_epoch=None, **kwargs):
            spent = [0.0]

            def callback(*a):
                start = time.perf_counter()
                try:
                    return on_epoch(*a)
                finally:
                    spent[0] += time.perf_counter() - start

            start = time.perf_counter()
            try:
                hook = None if on_epoch is None else callback
                return self.original(*args, on_epoch=hook, **kwargs)
            finally:
                self.calls.append(time.perf_counter() - start - spent[0])
                self.callbacks.append(spent[0])

        self.module.train_model = timed
        return self

    def __exit__(self, *exc):
        self.module.train_model = self.original


def _variant(folder: Path, name: str, rows: int, **tuning) -> Path:
    """The loan example with its tuning section changed (the data generated in ``folder``)."""
    values = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    values["name"] = name
    values["data"]["generate"]["rows"] = rows
    values["tuning"] = {**copy.deepcopy(values["tuning"]), **tuning}
    values["tuning"].pop("seconds", None)  # budgets of trials alone: the same work each time
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    return path


def _search(path: Path, out: Path, workers: int | None, storage: str | None = None, study=None):
    """(outcome, wall seconds, tuned spec, dataset) of one search; ``workers`` None: in memory;
    ``storage``: a PostgreSQL URL shared by the workers (else a journal file in ``out``)."""
    from auditor.data import build_dataset
    from auditor.spec import load_spec
    from auditor.tuning import tune
    from auditor.tuning.workers import Workers

    spec = load_spec(path)
    dataset = build_dataset(spec)
    shared = None if workers is None else Workers(workers, storage=storage, study=study)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    _, outcome = tune(spec, dataset, workers=shared, out_dir=out)
    return outcome, time.perf_counter() - start, spec, dataset


def _first_trial_of_another_worker(out: Path, name: str) -> float | None:
    """Seconds from the search's start to the second worker's first trial."""
    import optuna

    from auditor.tuning.storage import JOURNAL_FILE, journal_file, open_storage
    from auditor.tuning.workers import STARTED, WORKER, _worker_id

    backend = open_storage(optuna, journal_file(out / JOURNAL_FILE))
    study = optuna.load_study(study_name=name, storage=backend)
    started = float(study.user_attrs[STARTED])
    firsts = [
        t.datetime_start.timestamp()
        for t in study.get_trials(deepcopy=False)
        if t.user_attrs.get(WORKER) not in (None, _worker_id()) and t.datetime_start
    ]
    return min(firsts) - started if firsts else None


def _postgres(grid: Path, tmp: Path) -> dict[int, float]:
    """Trials per minute with 1 and 2 workers sharing a study on a throwaway PostgreSQL
    server on 127.0.0.1 (as several machines would); empty when none can be started."""
    sys.path.insert(0, str(REPO))
    from tests.tuning.postgres import missing, postgres_server

    why = missing()
    if why is not None:
        print(f"  PostgreSQL: not measured ({why})")
        return {}
    per_minute = {}
    with postgres_server() as url:
        for n in (1, 2):
            outcome, wall, _, _ = _search(grid, tmp / f"pg-{n}", n, storage=url, study=f"grid-{n}")
            per_minute[n] = outcome.counts["run"] * 60.0 / wall
            print(
                f"  PostgreSQL, {n} worker{'s' if n > 1 else ' '}: {outcome.counts['run']} trials "
                f"in {wall:6.1f} s = {per_minute[n]:5.1f} trials/min"
            )
    return per_minute


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=40_000)
    args = parser.parse_args()
    ok = True
    print(
        f"tuning benchmark: the loan example ({SPEC.relative_to(REPO)}, {args.rows:,} rows), "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start"
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        grid = _variant(tmp, "loan-grid", args.rows, method="grid", trials=None,
                        space=GRID_SPACE, pruning="none")  # fmt: skip
        _search(grid, tmp / "warm-up", None)  # torch's first training pays for its start
        per_minute = {}
        for n in (1, 2):
            with TrainingClock() as clock:
                outcome, wall, _, _ = _search(grid, tmp / f"grid-{n}", n)
            per_minute[n] = outcome.counts["run"] * 60.0 / wall
            line = (
                f"  {n} worker{'s' if n > 1 else ' '}: {outcome.counts['run']} trials in "
                f"{wall:6.1f} s = {per_minute[n]:5.1f} trials/min"
            )
            if n == 2:
                first = _first_trial_of_another_worker(tmp / "grid-2", "loan-grid")
                line += "" if first is None else f" (worker 2's first trial at {first:.1f} s)"
            print(line)
            if n == 1:  # the leader scores the spec's own configuration first, then trials
                trials = outcome.counts["run"]
                searched = outcome.seconds - outcome.baseline.seconds
                training = sum(clock.calls[1:])
                per_epoch = sum(clock.callbacks[1:])
        machinery = searched - training
        overhead = machinery / training
        print(
            f"  overhead: {trials} trials took {searched:.2f} s, {training:.2f} s of it in "
            f"training = {machinery / trials * 1000:.0f} ms of search machinery per trial "
            f"({overhead:.1%} of training): {per_epoch / trials * 1000:.0f} ms scoring every "
            f"epoch for the pruner, {(machinery - per_epoch) / trials * 1000:.0f} ms Optuna, "
            "the journal and the look-ups"
        )
        pg_minute = _postgres(grid, tmp)
        walls = {}
        for pruning in ("median", "none"):
            path = _variant(tmp, f"loan-random-{pruning}", args.rows, method="random",
                            trials=20, pruning=pruning)  # fmt: skip
            outcome, wall, _, _ = _search(path, tmp / f"random-{pruning}", None)
            walls[pruning] = wall
            print(
                f"  random, 20 trials, pruning {pruning:<6}: {wall:6.1f} s "
                f"({outcome.counts['pruned']} pruned, best {outcome.chosen['value']:.4f})"
            )
    speedup = per_minute[2] / per_minute[1]
    rows = [
        ("2 workers / 1", speedup, "x", "> 1 (faster than one worker)", speedup > 1.0),
        ("overhead", overhead * 100, "%", f"< {TARGET_OVERHEAD:.0%} of bare training",
         overhead < TARGET_OVERHEAD),
        ("pruned / not", walls["median"] / walls["none"], "x", "< 1 (pruning saves time)",
         walls["median"] < walls["none"]),
    ]  # fmt: skip
    if pg_minute:
        pg = pg_minute[2] / pg_minute[1]
        rows.insert(1, ("PostgreSQL 2/1", pg, "x", "> 1 (faster than one worker)", pg > 1.0))
    print("targets:")
    for name, value, unit, target, met in rows:
        ok &= met
        print(
            f"  {name:<14} {value:7.2f} {unit:<2} target {target:<32} {'met' if met else 'NOT MET'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
