"""Logging an audit to MLflow: one MLflow run per audit, read from the results.json it wrote.

``auditor run SPEC --mlflow URI`` (or the spec's ``report.mlflow``) logs, after the report
is written and from nothing but results.json's content (no second code path for numbers):

- params: the resolved spec, flattened to dotted keys (``training.learning_rate``,
  ``acceptance.0.metric``), values truncated to MLflow's limits;
- metrics: every criterion's value, interval bounds, bound and margin
  (``criterion.<i>.<finding>.value``, ``.ci_low``, ``.ci_high``, ``.bound``, ``.margin``)
  and every headline metric per split (``test.roc_auc``, ``test.roc_auc.ci_low``, ...);
- tags: the verdict, its exit code, the spec's name, auditor's version, each criterion's
  status and description; the verdict's reason is the run's description;
- artifacts: report.pdf, report.html, results.json and spec.resolved.yaml;
- a tuning study: the spec's own configuration (the baseline) and every trial as nested
  runs (``mlflow.parentRunId``), with the trial's values as params and its score as a metric.

:func:`tracking_target` is called before the run, so a missing extra or a URI MLflow cannot
use costs no training; :func:`log_audit` raises :class:`TrackingError` (exit code 6) when
MLflow fails, and the report already written stays where it is.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from auditor.errors import AuditorError, ExitCode, Location, UsageError, one_line

# MLflow's limits (mlflow/utils/validation.py); log_batch sends at most these per call
MAX_KEY = 250
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_METRICS_PER_BATCH = 1000
TRUNCATED = "..."
# a key MLflow accepts: letters, digits, underscores, dashes, periods, spaces, colons, slashes
_KEY_CHARS = re.compile(r"[^\w\-. :/]")

# while auditor logs, unless the user set them: a server that is down is tried three times,
# a few seconds in all (MLflow's own default waits minutes), and no progress bars
ENV_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}
FILE_STORE_OPT_IN = "MLFLOW_ALLOW_FILE_STORE"
ARTIFACTS = ("report.pdf", "report.html", "results.json", "spec.resolved.yaml")
TRIAL_STATUS = {"complete": "FINISHED", "pruned": "KILLED", "failed": "FAILED"}

MSG_NO_MLFLOW = (
    "MLflow tracking needs the mlflow extra: pip install -c constraints.txt -e '.[mlflow]' "
    "(make venv installs it)"
)
MSG_BAD_URI = "MLflow cannot use the tracking URI {uri!r}: {reason}"
MSG_UNKNOWN_SCHEME = "no tracking store for the scheme '{scheme}' (MLflow knows: {schemes})"
MSG_FILE_STORE = (
    "MLflow refuses its file store ({uri}) unless {var}=true is set; use a tracking server "
    "(http://host:port) or a database (sqlite:///mlflow.db)"
)
MSG_FAILED = "logging the audit to MLflow at {uri} failed: {reason}; the report is kept in {out}"
MSG_LOGGED = "mlflow: run {run_id} in experiment '{experiment}' at {uri}"


class TrackingError(AuditorError):
    """MLflow could not take the audit (server down, refused, ...); the report is kept."""

    exit_code = ExitCode.TRACKING_FAILED


@dataclass(frozen=True)
class Target:
    """Where one audit is logged: a tracking URI and an experiment, and who asked for it."""

    uri: str
    experiment: str
    location: Location = field(default_factory=Location)


@dataclass
class Entries:
    """What one MLflow run records: params, metrics and tags, as MLflow takes them."""

    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- before the run
def tracking_target(spec, uri: str | None = None) -> Target | None:
    """The MLflow target of a run: ``--mlflow URI`` (``uri``), else ``report.mlflow``, else
    None. Checked before any work: the extra is installed and MLflow can use the URI (a
    missing extra or an unusable URI is a UsageError, exit code 2)."""
    configured = spec.typed.report.mlflow
    if uri is not None:
        where = Location(path=("--mlflow",))
    elif configured is not None:
        uri = _spec_relative(configured.tracking_uri, spec.base_dir)
        where = spec.locate(("report", "mlflow", "tracking_uri"))
    else:
        return None
    experiment = (configured.experiment if configured else None) or spec.name
    _check_usable(uri, where)
    return Target(uri=uri, experiment=experiment, location=where)


def _spec_relative(uri: str, base: Path) -> str:
    """A relative sqlite:/// path in a spec is relative to the spec's folder."""
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri.startswith(prefix + "/"):
        path = uri[len(prefix) :]
        if path and path != ":memory:":
            return prefix + str((base / path).resolve())
    return uri


def _check_usable(uri: str, where: Location) -> None:
    import importlib.util

    if importlib.util.find_spec("mlflow") is None:
        raise UsageError(MSG_NO_MLFLOW, where)
    scheme = urlparse(uri).scheme
    if scheme in ("", "file") or re.match(r"^[A-Za-z]:[\\/]", uri):  # a folder: file store
        if os.environ.get(FILE_STORE_OPT_IN, "").lower() not in ("1", "true"):
            raise UsageError(MSG_FILE_STORE.format(uri=uri, var=FILE_STORE_OPT_IN), where)
    with _quiet():
        try:  # the registry MLflow itself picks a store from (plugins included)
            from mlflow.tracking._tracking_service.utils import _tracking_store_registry
        except ImportError:  # pragma: no cover - a later MLflow moved it: MLflow says so later
            return
        try:
            _tracking_store_registry.get_store_builder(uri)
        except Exception as exc:  # noqa: BLE001 - MLflow's own refusal, said as one line
            schemes = sorted(s for s in getattr(_tracking_store_registry, "_registry", {}) if s)
            reason = (
                MSG_UNKNOWN_SCHEME.format(scheme=scheme, schemes=", ".join(schemes))
                if schemes
                else one_line(exc)
            )
            raise UsageError(MSG_BAD_URI.format(uri=uri, reason=reason), where) from None


# --------------------------------------------------------------------------- what is logged
def run_entries(results: dict[str, Any]) -> Entries:
    """The params, metrics and tags of an audit's MLflow run, from its results.json."""
    entries = Entries()
    for key, value in flatten(results.get("spec") or {}):
        entries.params.setdefault(_key(key), _text(value, MAX_PARAM_VALUE))
    for c in results.get("criteria") or []:
        prefix = f"criterion.{c['index']}" + (f".{c['finding_id']}" if c.get("finding_id") else "")
        ci = c.get("ci") or [None, None]
        for suffix, value in (
            ("value", c.get("value")),
            ("ci_low", ci[0]),
            ("ci_high", ci[1]),
            ("bound", c.get("bound")),
            ("margin", c.get("margin")),
        ):
            _metric(entries.metrics, f"{prefix}.{suffix}", value)
        entries.tags[_key(f"criterion.{c['index']}")] = _text(
            f"{c['status']} ({c['severity']}): {c['description']}", MAX_TAG_VALUE
        )
    metrics = (results.get("evaluation") or {}).get("metrics") or {}
    for split, by_metric in metrics.items():
        for name, measured in (by_metric or {}).items():
            if not isinstance(measured, dict):
                continue
            _metric(entries.metrics, f"{split}.{name}", measured.get("value"))
            _metric(entries.metrics, f"{split}.{name}.ci_low", measured.get("low"))
            _metric(entries.metrics, f"{split}.{name}.ci_high", measured.get("high"))
    verdict = results.get("verdict") or {}
    spec = results.get("spec") or {}
    entries.tags.update(
        {
            "auditor.verdict": str(verdict.get("status")),
            "auditor.exit_code": str(verdict.get("exit_code")),
            "auditor.spec_name": str(spec.get("name")),
            "auditor.version": str(results.get("auditor_version")),
            "auditor.task": str((results.get("data") or {}).get("task")),
            "mlflow.runName": str(spec.get("name")),
            "mlflow.note.content": _text(str(verdict.get("reason") or ""), MAX_TAG_VALUE),
        }
    )
    tuning = results.get("tuning")
    if tuning:
        _metric(entries.metrics, "tuning.improvement", tuning.get("improvement"))
        chosen = tuning.get("chosen") or {}
        _metric(entries.metrics, "tuning.chosen_value", chosen.get("value"))
        entries.tags["auditor.tuning.chosen"] = str(chosen.get("trial", chosen.get("source")))
    return entries


def trial_entries(results: dict[str, Any]) -> list[tuple[str, str, Entries]]:
    """A tuning study's nested runs: (run name, MLflow status, entries) for the spec's own
    configuration (when scored) and every trial; none without tuning."""
    tuning = results.get("tuning")
    if not tuning:
        return []
    score = f"{tuning.get('scored_on')}.{tuning.get('metric')}"
    runs = []
    baseline = tuning.get("baseline")
    if baseline and baseline.get("value") is not None:
        runs.append(("baseline (the spec's own values)", _trial(baseline, score, "baseline")))
    for trial in tuning.get("trials") or []:
        runs.append((f"trial {trial['number']}", _trial(trial, score, str(trial["number"]))))
    return [
        (name, TRIAL_STATUS.get(t.tags["auditor.trial_state"], "FINISHED"), t) for name, t in runs
    ]


def _trial(trial: dict[str, Any], score: str, number: str) -> Entries:
    entries = Entries()
    for option, value in (trial.get("values") or {}).items():
        entries.params[_key(option)] = _text(value, MAX_PARAM_VALUE)
    _metric(entries.metrics, score, trial.get("value"))
    _metric(entries.metrics, "epochs", trial.get("epochs"))
    _metric(entries.metrics, "seconds", trial.get("seconds"))
    for k, value in enumerate(trial.get("folds") or [], start=1):
        _metric(entries.metrics, f"{score}.fold_{k}", value)
    entries.tags.update(
        {
            "auditor.trial": number,
            "auditor.trial_state": str(trial.get("state")),
        }
    )
    if trial.get("reason"):
        entries.tags["auditor.trial_reason"] = _text(str(trial["reason"]), MAX_TAG_VALUE)
    if trial.get("same_as") is not None:
        entries.tags["auditor.trial_same_as"] = str(trial["same_as"])
    return entries


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """A nested document as (dotted key, leaf) pairs; a list of scalars is one leaf."""
    if isinstance(value, dict) and value:
        for k, v in value.items():
            yield from flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        for i, v in enumerate(value):
            yield from flatten(v, f"{prefix}.{i}" if prefix else str(i))
    else:
        yield prefix, value


def _text(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - len(TRUNCATED)] + TRUNCATED


def _key(key: str) -> str:
    return _KEY_CHARS.sub("_", key)[:MAX_KEY]


def _metric(metrics: dict[str, float], key: str, value: Any) -> None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        metrics[_key(key)] = float(value)


# --------------------------------------------------------------------------- logging
def log_audit(target: Target, out_dir: Path) -> str:
    """Log the audit in ``out_dir`` (its results.json, report and resolved spec) as one
    MLflow run, with a tuning study's trials nested under it; returns the run's id."""
    from auditor.results import read_results

    out_dir = Path(out_dir)
    results = read_results(out_dir / "results.json")
    entries, trials = run_entries(results), trial_entries(results)
    started, finished = _millis(results, "started"), _millis(results, "finished")
    stamp = finished or 0
    run_id = None
    client = None
    try:
        with _quiet(), _env_defaults():
            from mlflow import MlflowClient

            client = MlflowClient(tracking_uri=target.uri)
            experiment = client.get_experiment_by_name(target.experiment)
            experiment_id = (
                experiment.experiment_id
                if experiment is not None
                else client.create_experiment(
                    target.experiment, artifact_location=artifact_location(target.uri)
                )
            )
            run = client.create_run(
                experiment_id,
                start_time=started,
                tags=entries.tags,
                run_name=entries.tags.get("mlflow.runName"),
            )
            run_id = run.info.run_id
            _log_batch(client, run_id, entries, stamp)
            for name in ARTIFACTS:
                if (out_dir / name).is_file():
                    client.log_artifact(run_id, str(out_dir / name))
            for name, status, trial in trials:
                child = client.create_run(
                    experiment_id,
                    start_time=started,
                    tags={"mlflow.parentRunId": run_id, **trial.tags},
                    run_name=name,
                )
                _log_batch(client, child.info.run_id, trial, stamp)
                client.set_terminated(child.info.run_id, status=status, end_time=finished)
            client.set_terminated(run_id, status="FINISHED", end_time=finished)
    except Exception as exc:  # noqa: BLE001 - whatever MLflow or its store raised
        if run_id is not None and client is not None:
            with contextlib.suppress(Exception), _quiet():
                client.set_terminated(run_id, status="FAILED")
        raise TrackingError(
            MSG_FAILED.format(uri=target.uri, reason=one_line(exc), out=out_dir), target.location
        ) from None
    return run_id


def artifact_location(uri: str) -> str | None:
    """Where a new experiment keeps its artifacts: beside a SQLite database file (MLflow's
    own default is ./mlruns in whatever folder auditor runs from); a server or another
    store decides for itself (None)."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix) or uri.endswith(":memory:"):
        return None
    database = Path(uri[len(prefix) :])
    return (database.parent / "mlruns").resolve().as_uri()


def _log_batch(client, run_id: str, entries: Entries, timestamp: int) -> None:
    """Params and metrics in batches of MLflow's size (the tags go with create_run, so a
    run is never seen without its verdict)."""
    from mlflow.entities import Metric, Param

    params = [Param(k, v) for k, v in entries.params.items()]
    metrics = [Metric(k, v, timestamp, 0) for k, v in entries.metrics.items()]
    for i in range(0, len(params), MAX_PARAMS_TAGS_PER_BATCH):
        client.log_batch(run_id, params=params[i : i + MAX_PARAMS_TAGS_PER_BATCH])
    for i in range(0, len(metrics), MAX_METRICS_PER_BATCH):
        client.log_batch(run_id, metrics=metrics[i : i + MAX_METRICS_PER_BATCH])


def _millis(results: dict[str, Any], which: str) -> int | None:
    stamp = (results.get("run") or {}).get(which)
    try:
        return int(datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


@contextlib.contextmanager
def _env_defaults() -> Iterator[None]:
    """ENV_DEFAULTS for the variables the user did not set, while auditor logs."""
    unset = [var for var in ENV_DEFAULTS if var not in os.environ]
    os.environ.update({var: ENV_DEFAULTS[var] for var in unset})
    try:
        yield
    finally:
        for var in unset:
            os.environ.pop(var, None)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """MLflow's own notices (the run's URL on stdout, its deprecations) are not the user's:
    auditor prints one line of its own."""
    import mlflow  # noqa: F401 - its import sets its loggers' levels: set ours after it

    logger = logging.getLogger("mlflow")
    level = logger.level
    logger.setLevel(logging.WARNING)  # its INFO lines ("Creating initial MLflow database")
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        logger.setLevel(level)
