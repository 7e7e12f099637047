"""``auditor sign REPORT.pdf``: an approver's PAdES signature on a readiness report.

Each signature is an incremental update (pyHanko), so approvers sign one after another
without invalidating the earlier signatures; ``auditor verify`` checks them all. The key
and certificate come as PEM or DER files (key, certificate, optional chain) or as one
PKCS#12 file; a passphrase is given as an argument to :func:`sign_report` (the command
reads it from an environment variable or a prompt, never from its own arguments).

The signature is PAdES baseline B-B: the signer's certificate and the signing time are
signed attributes. Nothing is fetched: no revocation data, and no timestamp unless one is
asked for: with a timestamp server's URL (``--tsa``) or a pyHanko ``TimeStamper`` the
signature also carries an RFC 3161 timestamp (PAdES B-T).

When the report's sign-off block names approvers (``report.approvers`` in the spec,
embedded in the PDF's results.json), the signer must be one of them: matched by the
certificate's common name, or by ``name`` (``--as NAME``), against an approver's entry
or its name before a parenthesised role ("Dana Whitfield (Head of Product)" matches
"Dana Whitfield"). ``force`` signs for someone not in the list (the signature then
names the certificate's holder and no approver).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.atomic import write_bytes
from auditor.errors import AuditorError, Location

MSG_KEY_UNREADABLE = "cannot read the key file: {error}"
MSG_KEY_INVALID = "not a private key (PEM or DER): {error}"
MSG_KEY_PASSPHRASE = "the key is encrypted: give its passphrase"
MSG_WRONG_PASSPHRASE = "wrong passphrase for the key"
MSG_CERT_UNREADABLE = "cannot read the certificate file: {error}"
MSG_CERT_INVALID = "not an X.509 certificate (PEM or DER)"
MSG_P12_UNREADABLE = "cannot read the PKCS#12 file: {error}"
MSG_P12_INVALID = "cannot open the PKCS#12 file: wrong passphrase, or not a PKCS#12 file ({error})"
MSG_P12_INCOMPLETE = "the PKCS#12 file holds no {what}"
MSG_KEY_MISMATCH = "the key does not belong to the certificate {cert} (its public key differs)"
MSG_NO_KEY = "give --key and --cert, or --p12"
MSG_NOT_PDF = "not a PDF file"
MSG_NOT_APPROVER = (
    "{who} is not one of the report's approvers ({approvers}); sign with --as NAME "
    "to say which approver you are, or --force to sign anyway"
)
MSG_ALREADY_SIGNED = (
    "{approver} has already signed this report (signature field {field}); use --force "
    "to add another signature"
)
MSG_SIGN_FAILED = "cannot sign the report: {error}"
MSG_TSA_FAILED = "cannot get a timestamp from the timestamp server {url}: {error}"
TSA_TIMEOUT_S = 20
MSG_NO_PYHANKO = "auditor sign needs pyHanko, which is not installed: pip install 'auditor[sign]'"

FIELD_PREFIX = "Approver"
# A visible signature sits in the Signature cell of the approver's row of the sign-off
# table (report.html.j2): the page with the sign-off note, the row that reads "Approver
# <entry>", the cell's left and right edges as fractions of the page width.
SIGN_OFF_MARK = "By signing, you confirm"
ROW_LABEL = "approver "
SIGNATURE_CELL = (0.51, 0.765)
STAMP_TEXT = "Digitally signed by {who}\n%(ts)s"  # %(ts)s: pyHanko's signing time


class SigningError(AuditorError):
    """A key, certificate or report that cannot be signed with (exit code 2)."""


@dataclass(frozen=True)
class Signed:
    """What :func:`sign_report` did: the file written and who signed as which approver."""

    path: Path
    field: str
    signer: str  # the certificate's common name (or its whole subject)
    approver: str | None  # the report's approver entry, None when not one of them
    visible: bool
    forced: bool = False  # signed with force by someone not among the report's approvers


# --------------------------------------------------------------------------- key material
@dataclass(frozen=True)
class KeyMaterial:
    """A signer's key and certificate (cryptography objects) and the chain beside them."""

    key: Any
    cert: Any
    chain: tuple[Any, ...]


def _read(path: Path, message: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise SigningError(
            message.format(error=exc.strerror or exc), Location(file=str(path))
        ) from None


def _load_certs(path: Path) -> list[Any]:
    """Every certificate in a PEM file (or the one in a DER file)."""
    from cryptography import x509

    data = _read(path, MSG_CERT_UNREADABLE)
    try:
        if b"-----BEGIN" in data:
            certs = x509.load_pem_x509_certificates(data)
        else:
            certs = [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise SigningError(MSG_CERT_INVALID, Location(file=str(path))) from None
    return certs


def _load_key(path: Path, passphrase: bytes | None) -> Any:
    from cryptography.hazmat.primitives import serialization

    data = _read(path, MSG_KEY_UNREADABLE)
    load = (
        serialization.load_pem_private_key
        if b"-----BEGIN" in data
        else serialization.load_der_private_key
    )
    where = Location(file=str(path))
    try:
        return load(data, password=passphrase)
    except TypeError:  # encrypted without a passphrase, or a passphrase it does not need
        if passphrase is None:
            raise SigningError(MSG_KEY_PASSPHRASE, where) from None
        return _load_key(path, None)  # AUDITOR_SIGN_PASSPHRASE set for another key
    except ValueError as exc:
        if passphrase is not None and "password" in str(exc).lower():
            raise SigningError(MSG_WRONG_PASSPHRASE, where) from None
        raise SigningError(MSG_KEY_INVALID.format(error=_first(exc)), where) from None


def _first(exc: BaseException) -> str:
    from auditor.errors import one_line

    return one_line(str(exc).split(". ")[0])


def load_key_material(
    *,
    key: Path | None = None,
    cert: Path | None = None,
    chain: Sequence[Path] = (),
    p12: Path | None = None,
    passphrase: bytes | None = None,
) -> KeyMaterial:
    """Load a signer's key, certificate and chain from PEM/DER files or a PKCS#12 file.

    Parameters
    ----------
    key, cert
        The private key and the signer's certificate (PEM or DER); the certificate file
        may carry the chain after the signer's certificate.
    chain
        Files with the intermediate (and root) certificates.
    p12
        A PKCS#12 file holding key, certificate and chain (instead of ``key`` and ``cert``).
    passphrase
        The passphrase of an encrypted key or of the PKCS#12 file.

    Raises
    ------
    SigningError
        A file cannot be read or parsed, the passphrase is wrong, or the key does not
        belong to the certificate; the message names the file.
    """
    from cryptography.hazmat.primitives.serialization import pkcs12

    extra = [c for path in chain for c in _load_certs(Path(path))]
    if p12 is not None:
        data = _read(Path(p12), MSG_P12_UNREADABLE)
        where = Location(file=str(p12))
        try:
            priv, leaf, others = pkcs12.load_key_and_certificates(data, passphrase)
        except (ValueError, TypeError) as exc:
            raise SigningError(MSG_P12_INVALID.format(error=_first(exc)), where) from None
        if priv is None or leaf is None:
            what = "private key" if priv is None else "certificate"
            raise SigningError(MSG_P12_INCOMPLETE.format(what=what), where)
        material = KeyMaterial(priv, leaf, tuple(others) + tuple(extra))
        _check_pair(material, where)
        return material
    if key is None or cert is None:
        from auditor.errors import UsageError

        raise UsageError(MSG_NO_KEY)
    certs = _load_certs(Path(cert))
    material = KeyMaterial(
        _load_key(Path(key), passphrase), certs[0], tuple(certs[1:]) + tuple(extra)
    )
    _check_pair(material, Location(file=str(key)))
    return material


def needs_passphrase(path: Path, *, p12: bool = False) -> bool:
    """Whether a key file (or a PKCS#12 file) is encrypted; False when it cannot be read
    (loading it then says why)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        data = Path(path).read_bytes()
    except OSError:
        return False
    try:
        if p12:
            pkcs12.load_key_and_certificates(data, None)
        elif b"-----BEGIN" in data:
            return b"ENCRYPTED" in data
        else:
            serialization.load_der_private_key(data, password=None)
    except TypeError:
        return True
    except ValueError:
        return p12  # an encrypted PKCS#12 file without its password reads as invalid
    return False


def _check_pair(material: KeyMaterial, where: Location) -> None:
    """Refuse a key whose public half is not the certificate's public key."""
    from cryptography.hazmat.primitives import serialization

    def spki(public_key: Any) -> bytes:
        return public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    if spki(material.key.public_key()) != spki(material.cert.public_key()):
        raise SigningError(
            MSG_KEY_MISMATCH.format(cert=material.cert.subject.rfc4514_string()), where
        )


def common_name(cert: Any) -> str:
    """The certificate subject's common name, or its whole subject when it has none."""
    from cryptography.x509.oid import NameOID

    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def _signer(material: KeyMaterial) -> Any:
    """The pyHanko signer for the key material (asn1crypto objects, a certificate store)."""
    from pyhanko.keys.internal import (
        translate_pyca_cryptography_cert_to_asn1,
        translate_pyca_cryptography_key_to_asn1,
    )
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    store = SimpleCertificateStore()
    store.register_multiple([translate_pyca_cryptography_cert_to_asn1(c) for c in material.chain])
    return SimpleSigner(
        signing_cert=translate_pyca_cryptography_cert_to_asn1(material.cert),
        signing_key=translate_pyca_cryptography_key_to_asn1(material.key),
        cert_registry=store,
    )


# --------------------------------------------------------------------------- approvers
def _norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def _without_role(entry: str) -> str:
    """An approver entry without its parenthesised role: 'Dana W (Head)' -> 'Dana W'."""
    return re.sub(r"\s*\([^)]*\)\s*$", "", str(entry))


def match_approver(who: str, approvers: Sequence[str]) -> str | None:
    """The approver entry that ``who`` names (whole entry or name before its role), or None."""
    for entry in approvers:
        if _norm(who) in (_norm(entry), _norm(_without_role(entry))):
            return str(entry)
    return None


def field_name(who: str) -> str:
    """A signature field name for an approver: letters, digits and underscores only."""
    slug = re.sub(r"[^0-9A-Za-z]+", "_", _without_role(who)).strip("_")
    return f"{FIELD_PREFIX}_{slug or 'signer'}"


def report_approvers(pdf: Path) -> list[str]:
    """The approvers the report's sign-off block names (from its embedded results.json)."""
    from auditor.report.verify import embedded_approvers, embedded_results, read_attachments

    files, _ = read_attachments(Path(pdf))
    return embedded_approvers(embedded_results(files, Path(pdf)))


# --------------------------------------------------------------------------- signing
def sign_report(
    pdf: Path,
    *,
    key: Path | None = None,
    cert: Path | None = None,
    chain: Sequence[Path] = (),
    p12: Path | None = None,
    passphrase: bytes | None = None,
    name: str | None = None,
    reason: str | None = None,
    location: str | None = None,
    out: Path | None = None,
    visible: bool = False,
    force: bool = False,
    tsa: str | None = None,
    timestamper: Any = None,
) -> Signed:
    """Add an approver's PAdES signature to a report PDF as an incremental update.

    Parameters
    ----------
    pdf
        A report.pdf written by auditor (signed already or not).
    key, cert, chain, p12, passphrase
        The signer's key material (see :func:`load_key_material`).
    name
        Which of the report's approvers the signer is (``--as``); default: the
        certificate's common name.
    reason, location
        Recorded in the signature (default reason: "Approved as <approver>").
    out
        The signed file; default: ``pdf`` itself, replaced atomically.
    visible
        Draw the signature in the Signature cell of the approver's row of the sign-off
        table (default: an invisible field); a signer with no row there (not one of the
        approvers) signs invisibly, and ``Signed.visible`` says so.
    force
        Sign although the signer is not among the report's approvers, or signed already.
    tsa
        The URL of an RFC 3161 timestamp server (``--tsa``) for a PAdES B-T signature;
        default none: B-B, and nothing is fetched.
    timestamper
        A pyHanko ``TimeStamper`` to use instead of ``tsa``.

    Returns
    -------
    Signed
        The file written, the signature field and who signed as which approver.

    Raises
    ------
    SigningError
        Unreadable or mismatched key material, a file that is not a report PDF, or a
        signer who is not an approver (without ``force``).
    """
    from auditor.report.verify import pyhanko_present

    if not pyhanko_present():
        raise SigningError(MSG_NO_PYHANKO)
    pdf = Path(pdf)
    where = Location(file=str(pdf))
    data = _read(pdf, "cannot read the report PDF: {error}")
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        raise SigningError(MSG_NOT_PDF, where)
    approvers = report_approvers(pdf)  # DataError when it is not an auditor report
    material = load_key_material(key=key, cert=cert, chain=chain, p12=p12, passphrase=passphrase)
    holder = common_name(material.cert)
    who = name or holder
    approver = match_approver(who, approvers) if approvers else None
    if approvers and approver is None and not force:
        raise SigningError(
            MSG_NOT_APPROVER.format(who=repr(who), approvers="; ".join(approvers)), where
        )
    field = field_name(approver or who)
    signed = _signed_fields(data, where)
    if field in signed:
        if not force:
            raise SigningError(
                MSG_ALREADY_SIGNED.format(approver=approver or who, field=field), where
            )
        n = 2
        while f"{field}_{n}" in signed:
            n += 1
        field = f"{field}_{n}"
    box = _box(data, approver) if visible else None
    output = _sign_bytes(
        data,
        material,
        field=field,
        name=approver or holder,
        reason=reason or (f"Approved as {approver}" if approver else "Approved"),
        location=location,
        box=box,
        stamp=_stamp_text(holder, approver),
        timestamper=timestamper or _http_timestamper(tsa),
        where=where,
    )
    target = Path(out) if out is not None else pdf
    write_bytes(target, output)
    forced = bool(approvers) and not approver
    return Signed(target, field, holder, approver, box is not None, forced=forced)


def _signed_fields(data: bytes, where: Location) -> list[str]:
    """The names of the signature fields already signed in the PDF."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        return [sig.field_name for sig in reader.embedded_signatures]
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise SigningError(MSG_SIGN_FAILED.format(error=_first(exc)), where) from None


def _box(data: bytes, approver: str | None) -> tuple[int, tuple[int, int, int, int]] | None:
    """The page and box of a visible signature: the Signature cell of the approver's row
    in the sign-off table; None when the report has no row for this signer."""
    from pypdf import PdfReader

    from auditor.report.verify import _quiet_pypdf

    if approver is None:
        return None
    wanted = _norm(approver)
    with _quiet_pypdf():
        reader = PdfReader(io.BytesIO(data))
        for number, page in enumerate(reader.pages):
            rows: list[float] = []

            def visit(text, cm, tm, font, size, rows=rows):
                line = _norm(text)
                if line.startswith(ROW_LABEL) and line[len(ROW_LABEL) :].strip():
                    rest = line[len(ROW_LABEL) :].strip()
                    if wanted.startswith(rest) or rest.startswith(wanted):
                        rows.append(tm[4] * cm[1] + tm[5] * cm[3] + cm[5])

            text = page.extract_text(visitor_text=visit) or ""
            if SIGN_OFF_MARK in " ".join(text.split()) and rows:
                width = float(page.mediabox.width)
                y = rows[-1]
                x0, x1 = SIGNATURE_CELL
                box = (round(x0 * width), round(y - 8), round(x1 * width), round(y + 18))
                return number, box
    return None


def _stamp_text(holder: str, approver: str | None) -> str:
    """A visible signature's text: the certificate's holder, as which approver when the
    entry does not already name them, and the signing time."""
    who = holder
    if approver and _norm(_without_role(approver)) != _norm(holder):
        who = f"{holder} as {approver}"
    return STAMP_TEXT.format(who=who.replace("%", "%%"))


def _http_timestamper(url: str | None) -> Any:
    """An RFC 3161 client for ``url`` (None: no timestamp)."""
    if url is None:
        return None
    from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

    return RequestsHTTPTimeStamper(url, timeout=TSA_TIMEOUT_S)


def _sign_bytes(
    data: bytes,
    material: KeyMaterial,
    *,
    field: str,
    name: str,
    reason: str,
    location: str | None,
    box: tuple[int, tuple[int, int, int, int]] | None,
    stamp: str,
    timestamper: Any,
    where: Location,
) -> bytes:
    """The PDF with one more signature (an incremental update), as bytes."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import SigningError as PyHankoSigningError
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError
    from pyhanko.stamp import TextStampStyle

    meta = signers.PdfSignatureMetadata(
        field_name=field,
        name=name,
        reason=reason,
        location=location,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    spec = (
        fields.SigFieldSpec(sig_field_name=field, on_page=box[0], box=box[1])
        if box is not None
        else fields.SigFieldSpec(sig_field_name=field)
    )
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        pdf_signer = signers.PdfSigner(
            meta,
            signer=_signer(material),
            timestamper=timestamper,
            new_field_spec=spec,
            stamp_style=TextStampStyle(stamp_text=stamp, border_width=1),
        )
        out = pdf_signer.sign_pdf(writer, output=io.BytesIO())
    except TimestampRequestError as exc:
        url = getattr(timestamper, "url", "?")
        cause = exc.__cause__ or exc
        raise SigningError(MSG_TSA_FAILED.format(url=url, error=_first(cause)), where) from None
    except (PdfError, PyHankoSigningError, ValueError, KeyError, TypeError) as exc:
        raise SigningError(MSG_SIGN_FAILED.format(error=_first(exc)), where) from None
    return out.getvalue()
