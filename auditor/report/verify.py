"""``auditor verify REPORT.pdf [--trust CERT...] [--data FILE...] [--model FILE]``.

Is this what was audited, and who signed it? The PDF carries results.json and the resolved
spec as attachments, and records their SHA-256 in its metadata (and prints them in the
appendix). Verification extracts the attachments, checks them against the recorded
fingerprints (was the evidence altered?), then checks every approver's digital signature
(``auditor sign``) with pyHanko: intact (the signed bytes unchanged), valid against the
trust roots given (none given: "signed but not trusted here"), and nothing in the document
changed after it but later signatures (pyHanko's difference analysis, which names the
pages changed). Then it compares the SHA-256 of each data file and of the model file at
hand with the fingerprints inside results.json. Nothing is fetched: certificate
revocation is not checked (no OCSP or CRL requests).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from auditor.errors import (
    AuditorError,
    DataError,
    ExitCode,
    Location,
    ModelFileError,
    UsageError,
)
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
TRUST_UNREADABLE = "cannot read the trusted certificate file: {error}"
TRUST_INVALID = "not an X.509 certificate (PEM or DER)"
TRUST_NO_PYHANKO = (
    "--trust needs pyHanko to check signatures, which is not installed: pip install 'auditor[sign]'"
)

SIG_HEAD = "signature {n} of {total} ({field}): {signer}{approver}, {when}; certificate {subject}"
SIG_APPROVER = " as approver {approver}"
SIG_NOT_APPROVER = ", who is not one of the report's approvers"
SIG_VALID = (
    "signature {n}: valid: intact, trusted (certificate issued under {anchor}), "
    "{changes}{timestamp}"
)
SIG_TIMESTAMP = "; timestamped {when} by {tsa}"
SIG_TIMESTAMP_BAD = "signature {n}: BROKEN: its timestamp is not valid ({why})"
SIG_TIMESTAMP_UNTRUSTED = (
    "signature {n}: UNTRUSTED: its timestamp's certificate ({tsa}) does not chain to a "
    "--trust certificate"
)
SIG_UNCHANGED = "nothing changed after it"
SIG_ONLY_LATER = "nothing changed after it but later signatures"
SIG_BROKEN = "signature {n}: BROKEN: the signed bytes were changed after signing ({why})"
SIG_CHANGED = "signature {n}: CHANGED AFTER SIGNING: {what} (pyHanko: {why})"
SIG_NOT_TRUSTED_HERE = (
    "signature {n}: signed but the signer's certificate is not trusted here: give the "
    "root certificate that issued it with --trust (revocation is not checked)"
)
SIG_UNTRUSTED = "signature {n}: UNTRUSTED: {why}"
# pyHanko's AdES indications, said plainly; any other: the indication's own name.
UNTRUSTED_REASONS = {
    "NO_CERTIFICATE_CHAIN_FOUND": "the signer's certificate does not chain to a --trust "
    "certificate",
    "CHAIN_CONSTRAINTS_FAILURE": "the signer's certificate chain breaks a constraint "
    "(a key usage, or a CA certificate not marked as one)",
    "OUT_OF_BOUNDS_NO_POE": "the signer's certificate was not valid at the signing time "
    "(expired or not yet valid)",
    "OUT_OF_BOUNDS_NOT_REVOKED": "the signer's certificate was not valid at the signing "
    "time (expired or not yet valid)",
    "EXPIRED": "the signer's certificate has expired",
    "NOT_YET_VALID": "the signer's certificate was not yet valid",
}
# An approval commits to the content: non-repudiation, or digital signature alone, as
# most signing certificates carry.
SIGNER_KEY_USAGE = {"non_repudiation", "digital_signature"}
SIG_UNREADABLE = "signatures: BROKEN: cannot read the PDF's signatures ({why})"
SIG_NONE = "signatures: none: the sign-off is not digitally signed (auditor sign)"
SIG_NO_PYHANKO = (
    "signatures: {count} found but not checked: pyHanko is not installed "
    "(pip install 'auditor[sign]')"
)
SIG_UNSIGNED = "approvers who have not signed: {names}"
REQUIRED_MISSING = "UNSIGNED: {names} {verb} not signed (--require-signatures)"
REQUIRED_NONE = "UNSIGNED: the report carries no signature (--require-signatures)"
END_OK = "OK: the evidence matches."
END_OK_SIGNED = "OK: the evidence matches and {count} valid, trusted."
END_BROKEN = "SIGNATURE BROKEN: see the lines above."
END_MISMATCH = "MISMATCH: see the lines above."
END_UNTRUSTED = "UNTRUSTED: the evidence matches and the signatures are intact, but see above."
END_UNSIGNED = "UNSIGNED: the evidence matches, but the sign-off is not complete."

SignatureState = Literal["valid", "untrusted", "broken"]


@dataclass
class SignatureCheck:
    """What verification found about one signature."""

    field: str
    signer: str  # the certificate's common name
    subject: str  # the certificate's whole subject
    signed_at: datetime | None
    approver: str | None  # the report's approver entry this signer is, if any
    state: SignatureState
    lines: list[str] = field(default_factory=list)  # what verify says about it


@dataclass
class VerifyResult:
    """Whether everything checked matches, one plain line per check, and the signatures."""

    ok: bool
    lines: list[str] = field(default_factory=list)
    evidence_ok: bool = True
    signatures: list[SignatureCheck] = field(default_factory=list)
    signed_off: bool = True  # False: --require-signatures and an approver has not signed

    @property
    def exit_code(self) -> ExitCode:
        """0 when all is well; 4 a signature is broken or the document changed after it;
        1 the evidence or a file does not match; 5 a signature is not trusted, or an
        approver has not signed when signatures are required (in that order)."""
        code = _exit_code(self.evidence_ok, self.signatures, self.signed_off)
        return ExitCode.NOT_READY if code == ExitCode.READY and not self.ok else code


def _exit_code(
    evidence_ok: bool, signatures: Sequence[SignatureCheck], signed_off: bool = True
) -> ExitCode:
    states = {s.state for s in signatures}
    if "broken" in states:
        return ExitCode.SIGNATURE_INVALID
    if not evidence_ok:
        return ExitCode.NOT_READY
    if "untrusted" in states or not signed_off:
        return ExitCode.SIGNATURE_UNTRUSTED
    return ExitCode.READY


def _short(sha: str) -> str:
    return sha[:12] + "\u2026" if len(sha) > 12 else sha


@contextmanager
def _quiet(*names: str) -> Iterator[None]:
    """Silence libraries' loggers: pypdf logs what it repairs ("invalid pdf header"),
    pyHanko a traceback for every certificate it cannot chain; verify says it in one line."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _quiet_pypdf():
    return _quiet("pypdf")


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
    pdf_path: Path,
    *,
    data: Sequence[Path] = (),
    model: Path | None = None,
    trust: Sequence[Path] = (),
    require_signatures: bool = False,
) -> VerifyResult:
    """Check a report's evidence and signatures, and the data and model files against it.

    Parameters
    ----------
    pdf_path
        A report.pdf written by auditor (signed with ``auditor sign`` or not).
    data
        Data files to compare with the audited sources (each must match one of them).
    model
        A model file to compare with the audited model's fingerprint or model files.
    trust
        Certificate files (PEM, several per file, or DER) whose certificates are the
        trust roots for the signers' certificates; none: signatures are checked for
        integrity only and said to be not trusted here.
    require_signatures
        Fail (exit code 5) unless every approver the report names has signed (intact,
        unchanged after), or, when it names none, unless it carries a signature.

    Returns
    -------
    VerifyResult
        ``ok`` is true when the attachments are intact, every file given matches and
        every signature is intact, unchanged after and trusted; ``exit_code`` says which
        of these failed first.

    Raises
    ------
    DataError
        The PDF cannot be read or carries no results.json; a data file or a trusted
        certificate file cannot be read.
    ModelFileError
        The model file cannot be read.
    """
    pdf_path = Path(pdf_path)
    roots = load_trust_roots(trust)
    files, recorded = read_attachments(pdf_path)
    ok, lines = _attachment_lines(files, recorded)
    results = embedded_results(files, pdf_path)
    lines.insert(0, _headline(pdf_path, results))
    approvers = embedded_approvers(results)
    signatures, sig_lines = check_signatures(pdf_path, roots=roots, approvers=approvers)
    lines.extend(sig_lines)
    complete = True
    if require_signatures:
        missing = unsigned_approvers(signatures, approvers)
        if missing:
            complete = False
            verb = "has" if len(missing) == 1 else "have"
            lines.append(REQUIRED_MISSING.format(names="; ".join(missing), verb=verb))
        elif not approvers and not any(c.state != "broken" for c in signatures):
            complete = False
            lines.append(REQUIRED_NONE)

    sources = (results.get("data") or {}).get("sources") or []
    for path in data:
        matched, line = _data_line(Path(path), sources)
        ok = ok and matched
        lines.append(line)

    if model is not None:
        matched, line = _model_line(Path(model), results)
        ok = ok and matched
        lines.append(line)
    code = _exit_code(ok, signatures, complete)
    result = VerifyResult(
        ok=code == ExitCode.READY,
        lines=lines,
        evidence_ok=ok,
        signatures=signatures,
        signed_off=complete,
    )
    if code == ExitCode.SIGNATURE_INVALID:
        lines.append(END_BROKEN)
    elif code == ExitCode.NOT_READY:
        lines.append(END_MISMATCH)
    elif code == ExitCode.SIGNATURE_UNTRUSTED:
        lines.append(END_UNTRUSTED if complete else END_UNSIGNED)
    elif signatures:
        count = f"{len(signatures)} signature{'s' if len(signatures) > 1 else ''} "
        lines.append(END_OK_SIGNED.format(count=count + ("are" if len(signatures) > 1 else "is")))
    else:
        lines.append(END_OK)
    return result


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


def embedded_results(files: dict[str, bytes], pdf_path: Path) -> dict[str, Any]:
    """The embedded results.json, parsed (DataError when it is not a JSON object)."""
    where = Location(file=str(pdf_path))
    try:
        results = json.loads(files[RESULTS_NAME].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(BAD_RESULTS.format(error=exc), where) from exc
    if not isinstance(results, dict):
        raise DataError(BAD_RESULTS.format(error="the top level is not an object"), where)
    return results


def embedded_approvers(results: dict[str, Any]) -> list[str]:
    """The approvers the report's sign-off block names (``report.approvers`` of its spec)."""
    spec = results.get("spec") if isinstance(results, dict) else None
    report = (spec or {}).get("report") if isinstance(spec, dict) else None
    approvers = (report or {}).get("approvers") if isinstance(report, dict) else None
    return [str(a) for a in approvers] if isinstance(approvers, list) else []


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


# --------------------------------------------------------------------------- signatures
def load_trust_roots(paths: Sequence[Path]) -> list[Any]:
    """The certificates in the ``--trust`` files (asn1crypto, as pyHanko wants them)."""
    if not paths:
        return []
    if not pyhanko_present():
        raise UsageError(TRUST_NO_PYHANKO)
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    roots = []
    for path in paths:
        where = Location(file=str(path))
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise DataError(TRUST_UNREADABLE.format(error=exc.strerror or exc), where) from exc
        try:
            certs = (
                x509.load_pem_x509_certificates(raw)
                if b"-----BEGIN" in raw
                else [x509.load_der_x509_certificate(raw)]
            )
        except ValueError:
            raise DataError(TRUST_INVALID, where) from None
        roots.extend(asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in certs)
    return roots


def check_signatures(
    pdf_path: Path, *, roots: Sequence[Any] = (), approvers: Sequence[str] = ()
) -> tuple[list[SignatureCheck], list[str]]:
    """Validate every signature in the PDF, oldest first, and the lines that say so.

    Each signature is validated by pyHanko against ``roots`` (no fetching: revocation is
    not checked), and its difference analysis judges every update after it: later
    signatures (a new signature field and its appearance) are allowed, anything else is
    a change after signing, named by the pages, embedded files and document information
    it touched.
    """
    if not pyhanko_present():
        return _unchecked_signatures(pdf_path)
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        with _quiet("pyhanko", "pyhanko_certvalidator"), open(pdf_path, "rb") as fh:
            reader = PdfFileReader(fh, strict=False)
            embedded = sorted(reader.embedded_signatures, key=lambda s: s.signed_revision)
            if not embedded:
                return [], [SIG_NONE]
            context = _validation_context(roots)
            sig_revisions = {s.signed_revision for s in embedded}
            checks = [
                _check_one(sig, n, len(embedded), reader, sig_revisions, context, roots, approvers)
                for n, sig in enumerate(embedded, start=1)
            ]
    except (PdfError, OSError, ValueError, KeyError, TypeError) as exc:
        from auditor.errors import one_line

        check = SignatureCheck("?", "?", "?", None, None, "broken", [])
        check.lines.append(SIG_UNREADABLE.format(why=one_line(exc)))
        return [check], list(check.lines)
    lines: list[str] = []
    for check in checks:
        lines.extend(check.lines)
    missing = unsigned_approvers(checks, approvers)
    if missing:
        lines.append(SIG_UNSIGNED.format(names="; ".join(missing)))
    return checks, lines


def unsigned_approvers(checks: Sequence[SignatureCheck], approvers: Sequence[str]) -> list[str]:
    """The approvers with no signature that is intact and unchanged after (a broken one
    does not count)."""
    signed = {c.approver for c in checks if c.approver and c.state != "broken"}
    return [a for a in approvers if a not in signed]


def pyhanko_present() -> bool:
    """Whether pyHanko (the ``sign`` extra) is installed; if so, its signing modules are
    loaded (:func:`_load_pyhanko`)."""
    import importlib.util

    if importlib.util.find_spec("pyhanko") is None:
        return False
    _load_pyhanko()
    return True


@functools.cache
def _load_pyhanko() -> None:
    """Import pyHanko's signing and validation modules once, without the warning that
    recent versions of cryptography give when they import its deprecated DSA key types: a
    warning about a library's import, not about the report, that users cannot act on."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="DSA is deprecated", module="pyhanko.*")
        import pyhanko.sign  # noqa: F401 - imported here, used by the callers
        import pyhanko.sign.validation  # noqa: F401


def _unchecked_signatures(pdf_path: Path) -> tuple[list[SignatureCheck], list[str]]:
    """Without pyHanko: count the signed signature fields (pypdf), check none of them."""
    from pypdf import PdfReader

    with _quiet_pypdf():
        fields = PdfReader(str(pdf_path)).get_fields() or {}
    signed = [name for name, f in fields.items() if f.get("/FT") == "/Sig" and f.get("/V")]
    if not signed:
        return [], [SIG_NONE]
    line = SIG_NO_PYHANKO.format(count=len(signed))
    checks = [SignatureCheck(name, "?", "?", None, None, "untrusted") for name in signed]
    checks[0].lines.append(line)
    return checks, [line]


def _validation_context(roots: Sequence[Any]) -> Any:
    """A pyHanko validation context that trusts exactly ``roots`` and fetches nothing."""
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(
        trust_roots=list(roots), allow_fetching=False, revocation_mode="soft-fail"
    )


def _check_one(
    sig: Any,
    n: int,
    total: int,
    reader: Any,
    sig_revisions: set[int],
    context: Any,
    roots: Sequence[Any],
    approvers: Sequence[str],
) -> SignatureCheck:
    """One signature's check; its ``lines``: a header line, then one per problem, or
    one saying it is valid."""
    from pyhanko.sign.diff_analysis import SuspiciousModification
    from pyhanko.sign.validation import (
        KeyUsageConstraints,
        SignatureCoverageLevel,
        validate_pdf_signature,
    )
    from pyhanko.sign.validation.errors import SignatureValidationError

    from auditor.errors import one_line
    from auditor.report.sign import match_approver

    cert = sig.signer_cert
    signer = _cn(cert)
    declared = sig.sig_object.get("/Name")
    approver = None
    if approvers:
        approver = match_approver(str(declared), approvers) if declared else None
        approver = approver or match_approver(signer, approvers)
    try:
        status = validate_pdf_signature(
            sig,
            context,
            key_usage_settings=KeyUsageConstraints(
                key_usage=SIGNER_KEY_USAGE, match_all_key_usages=False
            ),
        )
    except (SignatureValidationError, ValueError, KeyError, TypeError) as exc:
        check = SignatureCheck(
            sig.field_name, signer, _subject_asn1(cert), None, approver, "broken"
        )
        check.lines = [
            _head(check, n, total, approvers),
            SIG_BROKEN.format(n=n, why=one_line(exc)),
        ]
        return check
    when = status.signer_reported_dt
    check = SignatureCheck(sig.field_name, signer, _subject_asn1(cert), when, approver, "valid")
    lines = [_head(check, n, total, approvers)]
    if not (status.intact and status.valid):
        check.state = "broken"
        why = (
            "the document digest does not match"
            if not status.intact
            else "the signature value is invalid"
        )
        lines.append(SIG_BROKEN.format(n=n, why=why))
    coverage = status.coverage
    later_ok = True
    if coverage not in (SignatureCoverageLevel.ENTIRE_FILE, SignatureCoverageLevel.ENTIRE_REVISION):
        later_ok = False
        what = "the signature does not cover the whole revision it signs"
        lines.append(SIG_CHANGED.format(n=n, what=what, why=f"coverage {coverage.name.lower()}"))
    elif coverage == SignatureCoverageLevel.ENTIRE_REVISION and not status.docmdp_ok:
        later_ok = False
        diff = status.diff_result
        why = (
            str(diff).splitlines()[0]
            if isinstance(diff, SuspiciousModification)
            else f"modification level {getattr(status.modification_level, 'name', '?').lower()}"
        )
        what = _changed_after(reader, sig.signed_revision, sig_revisions)
        lines.append(SIG_CHANGED.format(n=n, what=what, why=one_line(why)))
    stamp = status.timestamp_validity
    if stamp is not None and not (stamp.intact and stamp.valid):
        later_ok = False
        lines.append(SIG_TIMESTAMP_BAD.format(n=n, why="its digest or signature does not match"))
    if not later_ok:
        check.state = "broken"
    if check.state == "valid" and not status.trusted:
        check.state = "untrusted"
        if not roots:
            lines.append(SIG_NOT_TRUSTED_HERE.format(n=n))
        else:
            indic = status.trust_problem_indic
            name = indic.name if indic is not None else "NO_CERTIFICATE_CHAIN_FOUND"
            why = UNTRUSTED_REASONS.get(name, f"pyHanko: {name.lower().replace('_', ' ')}")
            lines.append(SIG_UNTRUSTED.format(n=n, why=why))
    if check.state != "broken" and stamp is not None and roots and not stamp.trusted:
        check.state = "untrusted"
        lines.append(SIG_TIMESTAMP_UNTRUSTED.format(n=n, tsa=_subject_asn1(stamp.signing_cert)))
    if check.state == "valid":
        path = status.validation_path
        anchor = _subject_asn1(path[0]) if path is not None else "?"
        changes = (
            SIG_UNCHANGED if coverage == SignatureCoverageLevel.ENTIRE_FILE else SIG_ONLY_LATER
        )
        timestamp = (
            SIG_TIMESTAMP.format(when=_utc(stamp.timestamp), tsa=_subject_asn1(stamp.signing_cert))
            if stamp is not None
            else ""
        )
        lines.append(SIG_VALID.format(n=n, anchor=anchor, changes=changes, timestamp=timestamp))
    check.lines = lines
    return check


def _head(check: SignatureCheck, n: int, total: int, approvers: Sequence[str]) -> str:
    """The first line on a signature: field, signer, approver, time, certificate."""
    if check.approver:
        as_approver = SIG_APPROVER.format(approver=check.approver)
    else:
        as_approver = SIG_NOT_APPROVER if approvers else ""
    when = "signed " + _utc(check.signed_at) if check.signed_at is not None else "no signing time"
    return SIG_HEAD.format(
        n=n,
        total=total,
        field=check.field,
        signer=check.signer,
        approver=as_approver,
        when=when,
        subject=check.subject,
    )


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _cn(cert: Any) -> str:
    """An asn1crypto certificate's common name, or its whole subject."""
    name = cert.subject.native.get("common_name")
    if isinstance(name, list):
        name = name[0] if name else None
    return str(name) if name else _subject_asn1(cert)


def _subject_asn1(cert: Any) -> str:
    """A certificate's subject as an RFC 4514 string ('CN=Dana Whitfield,O=Example')."""
    from cryptography import x509

    return x509.load_der_x509_certificate(cert.dump()).subject.rfc4514_string()


def _changed_after(reader: Any, signed_revision: int, sig_revisions: set[int]) -> str:
    """What the updates after a signature changed, other than later signatures: pages
    by number, the embedded files by name, the document information (where the evidence
    fingerprints are recorded), then a count of other objects."""
    total = reader.xrefs.total_revisions
    later = [r for r in range(signed_revision + 1, total) if r not in sig_revisions]
    if not later:
        later = list(range(signed_revision + 1, total))
    changed: set[tuple[int, int]] = set()
    for revision in later:
        changed |= {
            (r.idnum, r.generation) for r in reader.xrefs.explicit_refs_in_revision(revision)
        }
    pages: list[int] = []
    for number, refs in enumerate(_page_refs(reader), start=1):
        if refs & changed:
            pages.append(number)
            changed -= refs
    parts = []
    if pages:
        parts.append(("page " if len(pages) == 1 else "pages ") + ", ".join(map(str, pages)))
    for label, refs in _document_parts(reader):
        if refs & changed:
            parts.append(label)
            changed -= refs
    if changed:
        parts.append(f"{len(changed)} other object{'s' if len(changed) > 1 else ''}")
    updates = "a later update" if len(later) == 1 else f"{len(later)} later updates"
    return f"{updates} to the file, not a signature, changed {_and(parts) or 'the document'}"


def _and(parts: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return " and ".join([", ".join(parts[:-1]), parts[-1]]) if len(parts) > 1 else "".join(parts)


def _document_parts(reader: Any) -> list[tuple[str, set[tuple[int, int]]]]:
    """The embedded files (their file specification and stream) and the document
    information dictionary, each with its references."""
    from pyhanko.pdf_utils import generic

    def ref(obj: Any) -> set[tuple[int, int]]:
        if isinstance(obj, generic.IndirectObject):
            return {(obj.reference.idnum, obj.reference.generation)}
        return set()

    def resolve(obj: Any) -> Any:
        return obj.get_object() if isinstance(obj, generic.IndirectObject) else obj

    parts: list[tuple[str, set[tuple[int, int]]]] = []

    def walk(node_ref: Any, depth: int) -> None:  # the /EmbeddedFiles name tree
        node = resolve(node_ref)
        if depth > 32 or not isinstance(node, generic.DictionaryObject):
            return
        for kid in resolve(node.raw_get("/Kids")) if "/Kids" in node else []:
            walk(kid, depth + 1)
        names = resolve(node.raw_get("/Names")) if "/Names" in node else []
        for i in range(0, len(names) - 1, 2):
            spec_ref = names.raw_get(i + 1)
            refs = ref(spec_ref) | ref(node_ref)
            spec = resolve(spec_ref)
            if isinstance(spec, generic.DictionaryObject) and "/EF" in spec:
                ef = spec.raw_get("/EF")
                refs |= ref(ef)
                ef = resolve(ef)
                if isinstance(ef, generic.DictionaryObject):
                    refs |= {r for key in ("/F", "/UF") if key in ef for r in ref(ef.raw_get(key))}
            parts.append((f"the embedded {names[i]}", refs))

    root = reader.root
    if "/Names" in root:
        tree = resolve(root.raw_get("/Names"))
        if isinstance(tree, generic.DictionaryObject) and "/EmbeddedFiles" in tree:
            walk(tree.raw_get("/EmbeddedFiles"), 0)
    if "/Info" in reader.trailer:
        parts.append(("the document information", ref(reader.trailer.raw_get("/Info"))))
    return parts


def _page_refs(reader: Any) -> list[set[tuple[int, int]]]:
    """Per page, the references of its page object and its content streams."""
    from pyhanko.pdf_utils import generic

    def ref(obj: Any) -> set[tuple[int, int]]:
        if isinstance(obj, generic.IndirectObject):
            return {(obj.reference.idnum, obj.reference.generation)}
        return set()

    out: list[set[tuple[int, int]]] = []

    def items(value: Any) -> list[Any]:
        """An array's raw items (an indirect array resolved first)."""
        if isinstance(value, generic.IndirectObject):
            value = value.get_object()
        if not isinstance(value, generic.ArrayObject):
            return [value]
        return [value.raw_get(i) for i in range(len(value))]

    def walk(node_ref: Any, depth: int) -> None:
        node = node_ref.get_object() if isinstance(node_ref, generic.IndirectObject) else node_ref
        if depth > 64 or not isinstance(node, generic.DictionaryObject):
            return
        if "/Kids" in node:
            for kid in items(node.raw_get("/Kids")):
                walk(kid, depth + 1)
            return
        refs = ref(node_ref)
        if "/Contents" in node:
            contents = node.raw_get("/Contents")
            refs |= ref(contents)
            for item in items(contents):
                refs |= ref(item)
        out.append(refs)

    walk(reader.root.raw_get("/Pages"), 0)
    return out
