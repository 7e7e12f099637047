"""``auditor verify REPORT.pdf [--data FILE...] [--model FILE]``: is this what was audited?

The PDF carries results.json and the resolved spec as attachments, and records their
SHA-256 in its metadata (and prints them in the appendix). Verification extracts the
attachments, checks them against the recorded fingerprints (was the evidence altered?),
then compares the SHA-256 of each data file and of the model file at hand with the
fingerprints inside results.json.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.errors import AuditorError, DataError, Location, ModelFileError
from auditor.fingerprint import sha256_bytes, sha256_file
from auditor.report.render import META_KEYS
from auditor.report.render import RESULTS_ATTACHMENT as RESULTS_NAME
from auditor.report.render import SPEC_ATTACHMENT as SPEC_NAME

UNREADABLE_PDF = "cannot read the report PDF: {error}"
NO_ATTACHMENT = (
    "the PDF has no embedded results.json: it is not a report written by "
    "auditor, or its attachments were removed"
)
BAD_RESULTS = "the embedded results.json is not valid JSON: {error}"
MISSING_DATA = "cannot read the data file: {error}"
MISSING_MODEL = "cannot read the model file: {error}"


@dataclass
class VerifyResult:
    """Whether everything checked matches, and one plain line per check."""

    ok: bool
    lines: list[str] = field(default_factory=list)


def _short(sha: str) -> str:
    return sha[:12] + "\u2026" if len(sha) > 12 else sha


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf logs what it repairs ("invalid pdf header", "EOF marker not found") to stderr;
    verify reports a bad PDF in its own one-line error instead."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


def _sha256(path: Path, error: type[AuditorError], message: str) -> str:
    """The file's SHA-256; a file that cannot be read raises ``error`` with ``message``."""
    try:
        return sha256_file(path)
    except OSError as exc:
        raise error(message.format(error=exc.strerror or exc), Location(file=str(path))) from exc


def read_attachments(pdf_path: Path) -> tuple[dict[str, bytes], dict[str, str]]:
    """The PDF's attachments (name -> bytes) and its recorded fingerprints."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    where = Location(file=str(pdf_path))
    try:
        with _quiet_pypdf():
            reader = PdfReader(str(pdf_path))
            raw = reader.attachments
            files = {name: bytes(contents[0]) for name, contents in raw.items() if contents}
            meta = reader.metadata or {}
            recorded = {name: str(meta[key]) for name, key in META_KEYS.items() if key in meta}
    except OSError as exc:
        raise DataError(UNREADABLE_PDF.format(error=exc.strerror or exc), where) from exc
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise DataError(UNREADABLE_PDF.format(error=f"{type(exc).__name__}: {exc}"), where) from exc
    if RESULTS_NAME not in files:
        raise DataError(NO_ATTACHMENT, where)
    return files, recorded


def verify_pdf(
    pdf_path: Path, *, data: Sequence[Path] = (), model: Path | None = None
) -> VerifyResult:
    """Check a report's embedded evidence, and the data and model files at hand against it.

    Parameters
    ----------
    pdf_path
        A report.pdf written by auditor.
    data
        Data files to compare with the audited sources (each must match one of them).
    model
        A model file to compare with the audited model's fingerprint or model files.

    Returns
    -------
    VerifyResult
        ``ok`` is true when the attachments are intact and every file given matches.

    Raises
    ------
    DataError
        The PDF cannot be read or carries no results.json; a data file cannot be read.
    ModelFileError
        The model file cannot be read.
    """
    pdf_path = Path(pdf_path)
    files, recorded = read_attachments(pdf_path)
    ok, lines = _attachment_lines(files, recorded)
    results = _embedded_results(files, pdf_path)
    lines.insert(0, _headline(pdf_path, results))

    sources = (results.get("data") or {}).get("sources") or []
    for path in data:
        matched, line = _data_line(Path(path), sources)
        ok = ok and matched
        lines.append(line)

    if model is not None:
        matched, line = _model_line(Path(model), results)
        ok = ok and matched
        lines.append(line)
    lines.append("OK: the evidence matches." if ok else "MISMATCH: see the lines above.")
    return VerifyResult(ok=ok, lines=lines)


def _attachment_lines(files: dict[str, bytes], recorded: dict[str, str]) -> tuple[bool, list[str]]:
    """Whether the embedded files match their recorded fingerprints, and a line on each."""
    ok = True
    lines: list[str] = []
    for name in (RESULTS_NAME, SPEC_NAME):
        if name not in files:
            if name != RESULTS_NAME:
                lines.append(f"{name}: not embedded")
            continue
        actual = sha256_bytes(files[name])
        expected = recorded.get(name)
        if expected is None:
            lines.append(
                f"{name}: embedded (sha256 {_short(actual)}), no recorded "
                "fingerprint to check it against"
            )
        elif expected == actual:
            lines.append(f"{name}: intact (sha256 {_short(actual)})")
        else:
            ok = False
            lines.append(
                f"{name}: ALTERED: its sha256 {_short(actual)} differs from the "
                f"recorded {_short(expected)}"
            )
    return ok, lines


def _embedded_results(files: dict[str, bytes], pdf_path: Path) -> dict[str, Any]:
    """The embedded results.json, parsed (DataError when it is not valid JSON)."""
    try:
        return json.loads(files[RESULTS_NAME].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(BAD_RESULTS.format(error=exc), Location(file=str(pdf_path))) from exc


def _headline(pdf_path: Path, results: dict[str, Any]) -> str:
    """The first line: the report, the spec's name, the verdict and the audit's date."""
    spec = results.get("spec") or {}
    verdict = (results.get("verdict") or {}).get("status", "?")
    return (
        f"{pdf_path.name}: {spec.get('name', '?')}, verdict {verdict}, audited "
        f"{str((results.get('run') or {}).get('finished', '?'))[:10]}"
    )


def _data_line(path: Path, sources: list[dict[str, Any]]) -> tuple[bool, str]:
    """Whether a data file matches one of the audited sources, and the line saying so."""
    sha = _sha256(path, DataError, MISSING_DATA)
    roles = [str(s.get("role")) for s in sources if s.get("sha256") == sha]
    if roles:
        return True, (
            f"{path}: matches the audited {' and '.join(roles)} data (sha256 {_short(sha)})"
        )
    audited = (
        ", ".join(f"{s.get('role')} {_short(str(s.get('sha256', '')))}" for s in sources)
        or "none recorded"
    )
    return False, (
        f"{path}: DOES NOT MATCH the audited data (sha256 {_short(sha)}; audited: {audited})"
    )


def _model_line(model: Path, results: dict[str, Any]) -> tuple[bool, str]:
    """Whether a model file matches the audited model or its files, and the line saying so."""
    sha = _sha256(model, ModelFileError, MISSING_MODEL)
    from auditor.report.context import recorded_model_files

    info = results.get("model") or {}
    known = {"model fingerprint": info.get("fingerprint")}
    for name, value in recorded_model_files(info).items():
        known[f"model file {name}"] = value
    matched = [label for label, value in known.items() if value and value == sha]
    if matched:
        return True, f"{model}: matches the audited {matched[0]} (sha256 {_short(sha)})"
    return False, (
        f"{model}: DOES NOT MATCH the audited model (sha256 {_short(sha)}; "
        f"audited fingerprint {_short(str(info.get('fingerprint', '')))})"
    )
