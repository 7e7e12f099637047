"""The map: one spec in, results and a report out. Only the stage calls, in order.

    spec.yaml --load/validate--> Spec
    Spec --data--> Dataset
    (tuning) Dataset's train and validation rows --tune--> Spec with the chosen values
    Dataset --train or load--> Predictor
    Predictor x Dataset --evaluate--> Evaluation
    Evaluation --checks--> Findings
    Findings x acceptance (x the previous report, --against) --verdict--> Verdict
    (model.compare) in-house model, judged alike --compare--> comparison
    Results --report--> report.pdf, report.html, results.json

Heavy libraries (torch, sklearn, weasyprint) are imported inside the stages so that
``auditor validate`` never pays for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from auditor.in_memory import InMemory, holding
from auditor.progress import Progress, StageTimer
from auditor.types import Spec


@dataclass
class RunOutcome:
    results: dict[str, Any]
    out_dir: Path
    files: dict[str, Path]
    exit_code: int
    timings: dict[str, float]
    note: str | None = None  # a data-parallel process other than rank 0 (it writes nothing)
    tracking: Any = None  # where the CLI logs the run in MLflow (auditor.mlflow_log.Target)


def run(
    spec_path: str | Path | Spec,
    *,
    out: str | Path | None = None,
    quiet: bool = False,
    workers=None,
    against: str | Path | None = None,
    mlflow: str | None = None,
    inputs: InMemory | None = None,
) -> RunOutcome:
    """Run the whole audit for one spec and write its outputs (``workers``: ``auditor tune``'s
    worker processes sharing the search, :class:`auditor.tuning.workers.Workers`;
    ``against``: a previous run's results.json to compare with, else ``report.against``;
    ``mlflow``: a tracking URI, else ``report.mlflow``, checked here and returned as the
    outcome's ``tracking`` for the caller to log once the outputs are written).

    The Python API (:mod:`auditor.api`) passes a spec it has loaded already and ``inputs``,
    the DataFrames and model it holds in place of files (:mod:`auditor.in_memory`); every
    stage then reads them as it reads files.
    """
    with holding(inputs):
        return _run(
            spec_path, out=out, quiet=quiet, workers=workers, against=against, mlflow=mlflow
        )


def _run(spec_path, *, out, quiet, workers, against, mlflow) -> RunOutcome:
    from auditor.against import compare_with, load_previous, previous_path
    from auditor.checks import run_checks
    from auditor.compare import Audit, audit_in_house
    from auditor.data import build_dataset
    from auditor.evaluate import evaluate
    from auditor.mlflow_log import tracking_target
    from auditor.models import obtain_predictor
    from auditor.outputs import (
        check_writable_dir,
        output_dir,
        save_model,
        write_outputs,
        write_timings,
    )
    from auditor.results import build_results
    from auditor.spec import load_spec
    from auditor.train.distributed import launched_processes, processes_for
    from auditor.tuning import tune
    from auditor.verdict import decide

    started = datetime.now(timezone.utc)
    processes = launched_processes()  # under torchrun: rank 0 alone shows progress and writes
    progress = Progress(quiet=quiet or not processes.main)
    timer = StageTimer(progress)

    with timer("load"):
        spec = spec_path if isinstance(spec_path, Spec) else load_spec(spec_path)
        processes = processes_for(spec)  # several processes: can they share the training?
        target = output_dir(spec, out)
        if out is None:  # the spec's report.output decided the folder: point at it
            check_writable_dir(target, location=spec.locate(("report", "output")))
        else:
            check_writable_dir(target, label="--out ")
        previous_file, where = previous_path(spec, against)  # read now: a bad one costs nothing
        previous = None if previous_file is None else load_previous(previous_file, location=where)
        tracking = tracking_target(spec, mlflow)  # an unusable MLflow URI costs nothing either
    with timer("data"):
        dataset = build_dataset(spec)
        compared = compare_with(spec, dataset, previous)  # paired when the rows are the same
    with timer("tune"):  # only with tuning: chosen on the train and validation rows alone
        spec, tuning = tune(spec, dataset, progress=progress, workers=workers, out_dir=target)
    with timer("train"):
        predictor = obtain_predictor(spec, dataset, progress=progress, processes=processes)
    if not processes.main:  # data-parallel: rank 0 alone evaluates, audits and writes
        return RunOutcome({}, target, {}, 0, dict(timer.timings), note=processes.done())
    with timer("evaluate"):
        evaluation = evaluate(  # the domain classifiers may train on into the checks
            spec, dataset, predictor, progress=progress, tuning=tuning, settle=False
        )
    with timer("checks"):
        findings = run_checks(spec, dataset, evaluation)
    with timer("verdict"):
        outcomes, verdict = decide(spec, findings, against=compared)
    with timer("compare"):  # only with model.compare: the in-house model, judged alike
        comparison = audit_in_house(
            spec, dataset, evaluation, Audit(findings, outcomes, verdict), progress=progress
        )
    with timer("save"):
        model_files, model_hashes = save_model(predictor, target)
    results = build_results(
        spec,
        dataset,
        predictor,
        evaluation,
        findings,
        outcomes,
        verdict,
        timings=timer.timings,
        started=started,
        model_files=model_hashes,
        comparison=comparison,
        tuning=tuning,
        against=compared,
    )
    with timer("report"):
        files = {**model_files, **write_outputs(results, target, spec=spec)}
    files["timings"] = write_timings(target, timer.timings)
    return RunOutcome(
        results=results,
        out_dir=target,
        files=files,
        exit_code=verdict.exit_code,
        timings=dict(timer.timings),
        tracking=tracking,
    )
