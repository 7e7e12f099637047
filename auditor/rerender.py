"""Rendering a report again from results alone: ``auditor report`` and ``auditor.report``.

Both read the results (a results.json file, or for the Python API a results dict), take the
resolved spec beside the file when it is that run's, and render report.html and report.pdf
with :func:`auditor.report.render_report`. The report never touches data or model.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from auditor.errors import DataError, Location

MSG_SPEC_UNREADABLE = "cannot read the resolved spec next to the results: {reason}"
MSG_SPEC_OTHER_RUN = (
    "note: {file} does not hold the spec in the results; the report embeds the results' spec"
)


def render_again(
    results: dict[str, Any] | str | Path,
    out: str | Path | None = None,
    *,
    read: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """report.html and report.pdf (kind -> path) for ``results``: a results.json path (its
    folder is the default ``out``; ``read``: its content, when the caller has read it
    already) or a results dict (``out`` then required)."""
    from auditor.outputs import check_writable_dir
    from auditor.results import read_results

    results_path = None
    if isinstance(results, (str, Path)):
        results_path = Path(results)
        results = read if read is not None else read_results(results_path)
    if out is None and results_path is None:
        from auditor.errors import UsageError

        raise UsageError("give out= (the folder to write the report into) with a results dict")
    target = Path(out) if out is not None else results_path.parent
    check_writable_dir(target, label="--out ")
    spec_text = None if results_path is None else read_resolved_spec(results_path, results)
    from auditor.report import render_report

    # The PDF embeds byte-identical copies of results.json and (when the run folder
    # still holds it) spec.resolved.yaml, so `auditor verify` finds the run's own files.
    return render_report(results, target, results_path=results_path, spec_text=spec_text)


def read_resolved_spec(results_path: Path, results: dict[str, Any]) -> str | None:
    """The text of the ``spec.resolved.yaml`` beside a results file, when it is that run's.

    None when there is none (a results.json copied on its own) or when it does not hold
    ``results['spec']`` (another run's file); the report then embeds ``results['spec']``
    written as YAML, so the PDF never carries a spec that differs from its results.
    """
    from auditor.errors import SpecError
    from auditor.outputs import RESOLVED_SPEC_FILE
    from auditor.spec.yamlio import parse_yaml

    path = results_path.parent / RESOLVED_SPEC_FILE
    if not path.is_file():
        return None
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise DataError(
            MSG_SPEC_UNREADABLE.format(reason=exc.strerror or exc), Location(file=str(path))
        ) from None
    except UnicodeDecodeError:
        raise DataError(
            MSG_SPEC_UNREADABLE.format(reason="not UTF-8"), Location(file=str(path))
        ) from None
    try:
        same = parse_yaml(text, file=str(path)).values == results.get("spec")
    except SpecError:
        same = False
    if not same:
        print(MSG_SPEC_OTHER_RUN.format(file=path), file=sys.stderr)
        return None
    return text
