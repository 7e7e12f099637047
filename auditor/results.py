"""Everything a run found, as one JSON-safe dict (shape: ``schemas/results.schema.json``).

The report reads only this dict, so ``auditor report results.json`` can re-render any past
run without data or model.
"""

from __future__ import annotations

import datetime as dt
import math
import platform
import sys
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path
from typing import Any

from auditor import __version__
from auditor.fingerprint import sha256_file
from auditor.types import CriterionOutcome, Finding, Verdict

RESULTS_SCHEMA_VERSION = 1
MSG_RESULTS_MISSING = "results file not found"
MSG_RESULTS_INVALID = "not a valid results.json: {reason}"
MSG_RESULTS_NOT_OBJECT = "not a valid results.json: the top level must be a JSON object"
UNSERIALISED = frozenset({"replicates"})  # Finding fields kept out of results.json
PACKAGES = (
    "torch",
    "numpy",
    "pandas",
    "scikit-learn",
    "scipy",
    "fairlearn",
    "jinja2",
    "weasyprint",
    "matplotlib",
    "jsonschema",
    "pyyaml",
    "safetensors",
    "skops",
    "onnx",
    "onnxruntime",
    "optuna",
)


def jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays, tuples, paths, dataclasses and NaN to plain JSON values."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value))
    tolist = getattr(value, "tolist", None)  # numpy arrays and scalars
    if callable(tolist):
        return jsonable(tolist())
    item = getattr(value, "item", None)
    if callable(item):
        return jsonable(item())
    return str(value)


def read_results(path: Path) -> dict[str, Any]:
    """A results.json as a dict; a missing or malformed file is a DataError (exit 2)."""
    from auditor.errors import DataError, Location

    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise DataError(MSG_RESULTS_MISSING, Location(file=str(path))) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DataError(
            MSG_RESULTS_INVALID.format(reason=reason), Location(file=str(path))
        ) from None
    return parse_results(raw, path)


def parse_results(raw: bytes, path: Path) -> dict[str, Any]:
    """The dict of a results.json's bytes; not UTF-8 JSON of an object is a DataError
    located at ``path`` (its line and column when the JSON is malformed)."""
    import json

    from auditor.errors import DataError, Location

    where = Location(file=str(path))
    try:
        results = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DataError(MSG_RESULTS_INVALID.format(reason=str(exc)), where) from None
    except json.JSONDecodeError as exc:
        raise DataError(
            MSG_RESULTS_INVALID.format(reason=exc.msg),
            Location(file=str(path), line=exc.lineno, column=exc.colno),
        ) from None
    if not isinstance(results, dict):
        raise DataError(MSG_RESULTS_NOT_OBJECT, where)
    return results


def package_versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def environment(predictor, spec) -> dict[str, Any]:
    info = predictor.info
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "auditor": __version__,
        "packages": package_versions(),
        "device": info.get("device", "cpu"),
        "device_name": info.get("device_name", platform.processor() or platform.machine()),
        "precision": info.get("precision", "fp32"),
        "seed": spec.training.seed,
        "split_seed": spec.data.split.seed,
        "bootstrap_seed": spec.evaluation.seed,
    }


def _run_section(
    timings: dict[str, float], started: dt.datetime | None, now: dt.datetime
) -> dict[str, Any]:
    """results.json's ``run``: when it started and finished, and each stage's seconds."""
    return {
        "started": (started or now).isoformat(timespec="seconds"),
        "finished": now.isoformat(timespec="seconds"),
        "wall_seconds": round(sum(timings.values()), 3),
        "timings": dict(timings),
    }


def _data_section(dataset) -> dict[str, Any]:
    """results.json's ``data``: target, classes, sources, split, columns and preprocessing."""
    return {
        "target": dataset.target,
        "task": dataset.task,
        "classes": list(dataset.classes),
        "sensitive": list(dataset.sensitive),
        "id_column": dataset.id_column,
        "sources": dataset.sources,
        "split": dataset.split_info,
        "columns": dataset.column_types,
        "feature_names": dataset.feature_names,
        "preprocessing": dataset.preprocessing_info,
        "split_roles": {s: dataset.role(s) for s in dataset.splits},
        "split_labels": dict(dataset.split_labels),
    }


def _model_section(predictor, evaluation, info: dict, model_files) -> dict[str, Any]:
    """results.json's ``model``: kind, fingerprint, info, training history and saved files."""
    return {
        "kind": predictor.kind,
        "fingerprint": info.get("fingerprint"),
        "info": info,
        "history": list(evaluation.history),
        "best_epoch": evaluation.best_epoch,
        "stopped_early": evaluation.stopped_early,
        "pickle_loaded": bool(info.get("pickle_loaded", False)),
        "files": dict(model_files or {}),
    }


def _evaluation_section(spec, evaluation, findings) -> dict[str, Any]:
    """results.json's ``evaluation``: threshold, metrics table, baselines, learning curve."""
    return {
        "primary_metric": evaluation.primary_metric,
        "threshold": evaluation.threshold,
        "threshold_info": evaluation.threshold_info,
        "confidence": spec.evaluation.confidence,
        "bootstrap": spec.evaluation.bootstrap,
        "metrics": metrics_table(findings),
        "baselines": evaluation.baselines,
        "learning_curve": evaluation.learning_curve,
        "costs": spec.values["evaluation"]["costs"],
        "has_scores": evaluation.has_scores,
        "notes": evaluation.notes,
    }


def build_results(
    spec,
    dataset,
    predictor,
    evaluation,
    findings,
    outcomes,
    verdict,
    *,
    timings: dict[str, float],
    started: dt.datetime | None = None,
    model_files: dict[str, str] | None = None,
    comparison: dict[str, Any] | None = None,
    tuning=None,
    against=None,
) -> dict[str, Any]:
    """Assemble results.json's content from every stage's output (``tuning``: the
    search's :class:`~auditor.tuning.TuningOutcome`, with ``tuning`` declared;
    ``against``: the :class:`~auditor.against.Against` of ``--against``)."""
    from auditor.against import against_section, kept_replicates, pairing_basis
    from auditor.verdict import blocking_findings

    now = dt.datetime.now(dt.timezone.utc)
    info = dict(predictor.info)
    blocking = blocking_findings(outcomes)
    results = {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "auditor_version": __version__,
        "run": _run_section(timings, started, now),
        "spec": spec.values,
        "spec_file": _spec_file_section(spec),
        "data": _data_section(dataset),
        "model": _model_section(predictor, evaluation, info, model_files),
        "environment": environment(predictor, spec),
        "evaluation": _evaluation_section(spec, evaluation, findings),
        "findings": [finding_to_dict(f, advisory=f.id not in blocking) for f in findings],
        "criteria": [outcome_to_dict(o) for o in outcomes],
        "verdict": verdict_to_dict(verdict),
        "basis": pairing_basis(spec, dataset),
        "replicates": kept_replicates(spec, findings, outcomes, evaluation.primary_metric),
    }
    if against is not None:
        results["against"] = against_section(
            spec, findings, outcomes, against, primary=evaluation.primary_metric
        )
    if comparison is not None:
        results["comparison"] = comparison
    if tuning is not None:
        results["tuning"] = tuning_to_dict(tuning)
    return jsonable(results)


# ------------------------------------------------------------------ serialisation
def _spec_file_section(spec) -> dict[str, Any]:
    """The spec file and its SHA-256; for a spec given as a mapping (the Python API), the
    fingerprint of its canonical JSON and what was hashed."""
    from auditor.in_memory import held_spec

    held = held_spec(spec.path)
    if held is not None:
        return {"path": held.name, "sha256": held.sha256, "hashed": held.hashed}
    return {"path": str(spec.path), "sha256": sha256_file(spec.path)}


def finding_to_dict(f: Finding, *, advisory: bool = True) -> dict[str, Any]:
    """A Finding as a JSON-safe dict (floats, None for NaN, lists for tuples and arrays).

    ``advisory``: False when a blocking criterion is about the finding.
    """
    out = {
        field.name: jsonable(getattr(f, field.name))
        for field in fields(Finding)
        if field.name not in UNSERIALISED
    }
    if out["ci"] is not None and (len(out["ci"]) != 2 or None in out["ci"]):
        out["ci"] = None
    out["advisory"] = bool(advisory)
    return out


def tuning_to_dict(outcome) -> dict[str, Any]:
    """A TuningOutcome as a JSON-safe dict (results.json ``tuning``)."""
    return jsonable(outcome)


def metrics_table(findings: list[Finding]) -> dict[str, dict[str, dict[str, Any]]]:
    """{split: {metric: {value, low, high, n}}} from the performance findings."""
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for f in findings:
        if f.check != "performance" or f.metric is None or f.split is None:
            continue
        low, high = f.ci if f.ci else (None, None)
        table.setdefault(f.split, {})[f.metric] = jsonable(
            {"value": f.value, "low": low, "high": high, "n": f.n}
        )
    return table


def outcome_to_dict(o: CriterionOutcome) -> dict[str, Any]:
    """A CriterionOutcome as a JSON-safe dict."""
    return {
        "index": int(o.index),
        "criterion": jsonable(o.criterion),
        "description": o.description,
        "status": o.status,
        "severity": o.severity,
        "value": jsonable(o.value),
        "ci": jsonable(list(o.ci)) if o.ci else None,
        "bound": jsonable(o.bound),
        "margin": jsonable(o.margin),
        "reason": o.reason,
        "finding_id": o.finding_id,
        "waiver": jsonable(o.waiver),
        "waived": bool(o.waived),
    }


def verdict_to_dict(v: Verdict) -> dict[str, Any]:
    """The Verdict as a JSON-safe dict, with its exit code."""
    return {
        "status": v.status,
        "reason": v.reason,
        "blockers": list(v.blockers),
        "next_steps": list(v.next_steps),
        "exit_code": int(v.exit_code),
    }
