"""Where a run writes, and writing it: model artifacts, resolved spec, results, report.

Every file is written to a temporary name and renamed into place, so an interrupted run
never leaves half a file, and a run never overwrites an earlier run's folder.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from auditor.atomic import write_text

MSG_NOT_DIR = "{label}must name a folder, but {path} is a file"
MSG_NOT_WRITABLE = "{label}cannot write in {path} (permission denied)"

RESULTS_FILE = "results.json"
RESOLVED_SPEC_FILE = "spec.resolved.yaml"
TIMINGS_FILE = "timings.json"


def output_dir(spec, out: str | Path | None = None, *, now: dt.datetime | None = None) -> Path:
    """``--out`` if given, else ``<report.output or ./reports>/<name>/<UTC timestamp>/``."""
    if out is not None:
        return Path(out)
    configured = spec.report.output
    base = spec.resolve_path(configured) if configured else Path("reports")
    stamp = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%dT%H-%M-%SZ")
    target = base / spec.name / stamp
    n = 1
    while target.exists():  # two runs in the same second never share a folder
        n += 1
        target = base / spec.name / f"{stamp}-{n}"
    return target


def check_writable_dir(target: Path, *, label: str = "", location=None) -> None:
    """Refuse, before any work, a run folder that could not be created or written.

    Creates nothing: it finds the nearest existing ancestor and checks it is a writable
    folder. Raises UsageError (exit code 2); ``label`` prefixes the message ("--out ").
    """
    import os

    from auditor.errors import Location, UsageError

    probe = Path(target)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    where = location or Location(file=str(target))
    if not probe.is_dir():
        raise UsageError(MSG_NOT_DIR.format(label=label, path=probe), where)
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(MSG_NOT_WRITABLE.format(label=label, path=probe), where)


def results_json(results: dict[str, Any]) -> str:
    return json.dumps(results, indent=2, sort_keys=False, allow_nan=False) + "\n"


def save_model(predictor, target: Path) -> tuple[dict[str, Path], dict[str, str]]:
    """Save a trained model's artifacts under ``target/model`` (a vendor's model is not
    copied): ({"model:<name>": path}, {path relative to ``target``: SHA-256}).

    The fingerprints go into results.json, so ``auditor verify --model`` can match them.
    """
    from auditor.fingerprint import sha256_file

    save = getattr(predictor, "save", None)
    if not callable(save):
        return {}, {}
    target.mkdir(parents=True, exist_ok=True)
    saved = save(target / "model") or {}
    files = {f"model:{k}": Path(p) for k, p in saved.items()}
    hashes = {str(Path(p).relative_to(target)): sha256_file(Path(p)) for p in saved.values()}
    return files, hashes


def write_outputs(results: dict[str, Any], target: Path, *, spec) -> dict[str, Path]:
    """Write the resolved spec, results.json and the report into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    spec_text = resolved_spec_text(spec, results, target / RESOLVED_SPEC_FILE)
    files["spec"] = write_text(target / RESOLVED_SPEC_FILE, spec_text)
    files["results"] = write_text(target / RESULTS_FILE, results_json(results))

    from auditor.report import render_report

    files.update(render_report(results, target, results_path=files["results"], spec_text=spec_text))
    return files


def resolved_spec_text(spec, results: dict[str, Any], path: Path) -> str:
    """The spec with every default filled in, headed by what the run actually used.

    Data paths stay relative to the original spec's folder (named in the header), so the
    file reads back to the same values from there.
    """
    from auditor.spec import dump_spec, schema_ref_for

    env = results["environment"]
    text = dump_spec(spec.values, schema_ref=schema_ref_for(path))
    first, rest = text.split("\n", 1)
    header = (
        f"# Resolved by auditor {results['auditor_version']} at {results['run']['finished']}"
        f" from {spec.path} (relative paths are relative to {spec.base_dir}).\n"
        f"# Used: device {env['device']} ({env['device_name']}), precision {env['precision']},"
        f" seeds: training {env['seed']}, split {env['split_seed']},"
        f" bootstrap {env['bootstrap_seed']}.\n"
    )
    tuning = results.get("tuning")
    if tuning:
        header += (
            f"# Tuned: model and training hold the values a {tuning['method_label']} chose"
            " (results.json: tuning); the search itself is left out, so this file trains"
            " the audited model again.\n"
        )
    return f"{first}\n{header}{rest}"


def write_timings(target: Path, timings: dict[str, float]) -> Path:
    """Every stage's wall time, the report's own included (results.json, embedded in the
    PDF, cannot contain the time it took to render that PDF)."""
    total = round(sum(timings.values()), 3)
    return write_text(
        target / TIMINGS_FILE, json.dumps({**timings, "total": total}, indent=2) + "\n"
    )
