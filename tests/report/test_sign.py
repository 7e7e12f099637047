"""auditor sign and the signature checks of auditor verify, with a throwaway CA.

The module makes its own certificate authority (a root, two approvers' certificates as
PEM and PKCS#12, and a second, untrusted root) once, signs the session's rendered binary
report (tests/report/conftest.py) and checks what verification says. Nothing is fetched:
every socket connection is refused while signing and verifying.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from auditor.cli import main
from auditor.errors import DataError, ExitCode
from auditor.report import sign, verify
from auditor.report.sign import SigningError, sign_report
from auditor.report.verify import verify_pdf

DANA = "Dana Whitfield (Head of Product)"  # the fixture report's approvers
SAM = "Sam Ortega (Model risk officer)"
P12_PASSPHRASE = b"correct horse"
KEY_PASSPHRASE = b"battery staple"
START = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
YEARS_20 = dt.timedelta(days=7305)


# --------------------------------------------------------------------------- the test CA
def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Auditor Test CA"),
        ]
    )


def _certificate(
    cn: str,
    key,
    issuer=None,
    issuer_key=None,
    *,
    tsa: bool = False,
    usage: str = "sign",
    lifetime: dt.timedelta = YEARS_20,
) -> x509.Certificate:
    """A CA certificate (no issuer) or a signing (or timestamping) certificate issued by
    ``issuer``; ``usage`` 'sign' (digital signature and non-repudiation), 'digital'
    (digital signature only) or 'encipher' (key encipherment only)."""
    ca = issuer is None
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn) if ca else issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(START)
        .not_valid_after(START + lifetime)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=usage != "encipher",
                content_commitment=usage == "sign" and not ca,
                key_encipherment=usage == "encipher",
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    if not ca:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    if tsa:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    return builder.sign(issuer_key or key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key, passphrase: bytes | None = None) -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


@dataclass
class Pki:
    root: Path  # the trusted root certificate (PEM)
    rogue_root: Path  # another CA's root, trusted by no one here
    dana_key: Path
    dana_cert: Path
    dana_key_encrypted: Path  # the same key, encrypted with KEY_PASSPHRASE
    sam_p12: Path  # key, certificate and root, encrypted with P12_PASSPHRASE
    sam_cert: Path
    rogue_key: Path  # "Dana Whitfield" issued by the rogue CA
    rogue_cert: Path
    tsa: tuple  # a timestamp authority's certificate and key under the root, and the root
    root_pair: tuple  # the root's certificate and key, to issue more certificates


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    new_key = lambda: ec.generate_private_key(ec.SECP256R1())  # noqa: E731
    root_key, rogue_key, dana_key, sam_key, fake_key = (new_key() for _ in range(5))
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # pyHanko's
    # test timestamp server signs with RSA only
    root = _certificate("Auditor Test Root", root_key)
    rogue = _certificate("Rogue Root", rogue_key)
    dana = _certificate("Dana Whitfield", dana_key, root, root_key)
    sam = _certificate("Sam Ortega", sam_key, root, root_key)
    fake = _certificate("Dana Whitfield", fake_key, rogue, rogue_key)
    tsa = _certificate("Auditor Test TSA", tsa_key, root, root_key, tsa=True)
    files = {
        "root": _pem(root),
        "rogue_root": _pem(rogue),
        "dana_key": _key_pem(dana_key),
        "dana_cert": _pem(dana),
        "dana_key_encrypted": _key_pem(dana_key, KEY_PASSPHRASE),
        "sam_p12": pkcs12.serialize_key_and_certificates(
            b"sam", sam_key, sam, [root], serialization.BestAvailableEncryption(P12_PASSPHRASE)
        ),
        "sam_cert": _pem(sam),
        "rogue_key": _key_pem(fake_key),
        "rogue_cert": _pem(fake) + _pem(rogue),
    }
    paths = {}
    for name, content in files.items():
        paths[name] = folder / name
        paths[name].write_bytes(content)
    return Pki(**paths, tsa=(tsa, tsa_key, root), root_pair=(root, root_key))


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Signing and verifying fetch nothing: any connection attempt fails the test, but
    one to the test's own timestamp server on 127.0.0.1."""
    connect = socket.socket.connect

    def refuse(self, address):
        if isinstance(address, tuple) and address[0] == "127.0.0.1":
            return connect(self, address)
        raise AssertionError(f"network access attempted: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def tsa_url(pki):
    """An RFC 3161 timestamp server on 127.0.0.1 (pyHanko's DummyTimeStamper behind
    http.server), stopped after the test."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from asn1crypto import tsp
    from pyhanko.keys.internal import (
        translate_pyca_cryptography_cert_to_asn1,
        translate_pyca_cryptography_key_to_asn1,
    )
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    cert, key, root = pki.tsa
    store = SimpleCertificateStore()
    store.register(translate_pyca_cryptography_cert_to_asn1(root))
    stamper = DummyTimeStamper(
        tsa_cert=translate_pyca_cryptography_cert_to_asn1(cert),
        tsa_key=translate_pyca_cryptography_key_to_asn1(key),
        certs_to_embed=store,
        fixed_dt=dt.datetime.now(dt.timezone.utc),
    )

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            body = stamper.request_tsa_response(request).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def report(binary_report, tmp_path) -> Path:
    """A fresh copy of the session's rendered (unsigned) binary report."""
    copy = tmp_path / "report.pdf"
    shutil.copyfile(binary_report.out["pdf"], copy)
    return copy


def _sign_dana(pki: Pki, pdf: Path, **kw) -> sign.Signed:
    return sign_report(pdf, key=pki.dana_key, cert=pki.dana_cert, chain=[pki.root], **kw)


def _sign_sam(pki: Pki, pdf: Path, **kw) -> sign.Signed:
    return sign_report(pdf, p12=pki.sam_p12, passphrase=P12_PASSPHRASE, **kw)


@pytest.fixture(scope="module")
def two_signed(binary_report, pki, tmp_path_factory):
    """The report signed by Dana (PEM, invisible) then Sam (PKCS#12, visible), in place,
    and its verification against the test root (verified once: the difference analysis
    of a real report takes seconds)."""
    pdf = tmp_path_factory.mktemp("two") / "report.pdf"
    shutil.copyfile(binary_report.out["pdf"], pdf)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", lambda self, address: pytest.fail("network"))
        first = _sign_dana(pki, pdf, location="Berlin")
        after_first = pdf.read_bytes()
        second = _sign_sam(pki, pdf, visible=True)
        result = verify_pdf(pdf, trust=[pki.root])
    return pdf, after_first, (first, second), result


# --------------------------------------------------------------------------- signing
def test_one_signature_verifies_and_names_the_signer(report, pki):
    signed = _sign_dana(pki, report, out=report.with_name("signed.pdf"))
    assert signed.signer == "Dana Whitfield" and signed.approver == DANA
    assert signed.field == "Approver_Dana_Whitfield" and not signed.forced
    result = verify_pdf(signed.path, trust=[pki.root])
    assert result.ok and result.exit_code == ExitCode.READY, result.lines
    (check,) = result.signatures
    assert check.state == "valid" and check.signer == "Dana Whitfield"
    assert check.approver == DANA and check.subject == "O=Auditor Test CA,CN=Dana Whitfield"
    assert check.signed_at is not None
    text = "\n".join(result.lines)
    assert f"(Approver_Dana_Whitfield): Dana Whitfield as approver {DANA}, signed 20" in text
    assert "valid: intact, trusted (certificate issued under O=Auditor Test CA," in text
    assert "nothing changed after it" in text
    assert f"approvers who have not signed: {SAM}" in text
    assert "results.json: intact" in text  # the evidence checks still run
    assert result.lines[-1] == "OK: the evidence matches and 1 signature is valid, trusted."
    assert report.read_bytes() != signed.path.read_bytes()  # --out leaves the input alone


def test_two_approvers_in_sequence_both_verify(two_signed):
    pdf, after_first, (first, second), result = two_signed
    assert pdf.read_bytes().startswith(after_first)  # the second is an incremental update
    assert (first.approver, second.approver) == (DANA, SAM) and second.visible
    assert result.ok and result.exit_code == ExitCode.READY, result.lines
    assert [c.state for c in result.signatures] == ["valid", "valid"]
    assert [c.signer for c in result.signatures] == ["Dana Whitfield", "Sam Ortega"]
    text = "\n".join(result.lines)
    assert "signature 1: valid: intact, trusted" in text
    assert "nothing changed after it but later signatures" in text
    assert "signature 2 of 2 (Approver_Sam_Ortega): Sam Ortega as approver" in text
    assert "have not signed" not in text


def test_a_visible_signature_sits_in_its_approvers_row(two_signed):
    from pypdf import PdfReader

    reader = PdfReader(str(two_signed[0]))
    widgets = {}
    for number, page in enumerate(reader.pages):
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/FT") == "/Sig":
                widgets[str(annot["/T"])] = (number, [float(v) for v in annot["/Rect"]])
    assert widgets["Approver_Dana_Whitfield"][1] == [0, 0, 0, 0]  # invisible
    number, (x0, y0, x1, y1) = widgets["Approver_Sam_Ortega"]
    page = reader.pages[number]
    assert sign.SIGN_OFF_MARK in " ".join(page.extract_text().split())
    width = float(page.mediabox.width)
    assert x0 == pytest.approx(sign.SIGNATURE_CELL[0] * width, abs=1)
    assert 20 <= y1 - y0 <= 30 and x1 > x0


def test_the_same_approver_twice_is_refused_unless_forced(two_signed, pki, tmp_path):
    pdf = tmp_path / "again.pdf"
    shutil.copyfile(two_signed[0], pdf)
    before = pdf.read_bytes()
    with pytest.raises(SigningError) as info:
        _sign_dana(pki, pdf)
    assert "Dana Whitfield (Head of Product) has already signed" in str(info.value)
    assert pdf.read_bytes() == before  # nothing written
    again = _sign_dana(pki, pdf, force=True, out=tmp_path / "thrice.pdf")
    assert again.field == "Approver_Dana_Whitfield_2"


def test_a_byte_changed_after_signing_is_detected(report, pki):
    _sign_dana(pki, report)
    data = bytearray(report.read_bytes())
    at = data.index(b"/CreationDate (D:2026") + len(b"/CreationDate (D:202")
    data[at] = ord("5")  # one digit of a date the signature covers
    report.write_bytes(bytes(data))
    result = verify_pdf(report, trust=[pki.root])
    assert not result.ok and result.exit_code == ExitCode.SIGNATURE_INVALID
    assert result.signatures[0].state == "broken"
    broken = [line for line in result.lines if line.startswith("signature 1: BROKEN")]
    assert broken == [
        "signature 1: BROKEN: the signed bytes were changed after signing "
        "(the document digest does not match)"
    ]
    assert result.lines[-1] == verify.END_BROKEN


def test_an_update_changing_a_page_after_signing_is_detected(report, pki):
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    _sign_dana(pki, report)
    writer = IncrementalPdfFileWriter(io.BytesIO(report.read_bytes()))
    page_ref, _ = writer.find_page_for_modification(0)
    page = page_ref.get_object()
    page["/Contents"] = writer.add_object(
        generic.StreamObject(stream_data=b"BT /F1 48 Tf 72 700 Td (READY) Tj ET")
    )
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    report.write_bytes(out.getvalue())
    result = verify_pdf(report, trust=[pki.root])
    assert result.exit_code == ExitCode.SIGNATURE_INVALID, result.lines
    assert result.evidence_ok  # the attachments are untouched: only the signature tells
    changed = [line for line in result.lines if "CHANGED AFTER SIGNING" in line]
    assert len(changed) == 1
    assert changed[0].startswith(
        "signature 1: CHANGED AFTER SIGNING: a later update to the file, not a signature, "
        "changed page 1 and "
    )
    assert "(pyHanko: There are unexplained xrefs in revision 2" in changed[0]


def test_evidence_rebuilt_with_matching_hashes_after_signing_is_detected(report, pki):
    """The forgery of issue 14: other numbers with matching fingerprints. The evidence
    check alone passes; the signature says what changed."""
    import hashlib
    import json

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    _sign_dana(pki, report)
    writer = IncrementalPdfFileWriter(io.BytesIO(report.read_bytes()))
    names = writer.root["/Names"]["/EmbeddedFiles"]["/Names"]
    spec = names[[str(names[i]) for i in range(0, len(names), 2)].index("results.json") * 2 + 1]
    results = json.loads(spec["/EF"]["/F"].data)
    results["verdict"]["status"] = "READY"
    forged = json.dumps(results).encode()
    spec["/EF"][generic.NameObject("/F")] = writer.add_object(
        generic.StreamObject(
            {generic.NameObject("/Type"): generic.NameObject("/EmbeddedFile")}, stream_data=forged
        )
    )
    writer.update_container(spec)
    info = writer.trailer.raw_get("/Info").get_object()
    info[generic.NameObject("/auditorresultssha256")] = generic.TextStringObject(
        hashlib.sha256(forged).hexdigest()
    )
    writer.update_container(info)
    out = io.BytesIO()
    writer.write(out)
    report.write_bytes(out.getvalue())
    result = verify_pdf(report, trust=[pki.root])
    assert result.evidence_ok and "verdict READY" in result.lines[0]  # a consistent forgery
    assert result.exit_code == ExitCode.SIGNATURE_INVALID
    (changed,) = [line for line in result.lines if "CHANGED AFTER SIGNING" in line]
    assert "changed the embedded results.json, the document information and " in changed
    assert f"approvers who have not signed: {DANA}; {SAM}" in result.lines


def test_an_untrusted_ca_is_reported_as_untrusted(report, pki):
    signed = sign_report(report, key=pki.rogue_key, cert=pki.rogue_cert)
    assert signed.approver == DANA  # the name matches; the issuer is not trusted
    result = verify_pdf(report, trust=[pki.root])
    assert result.exit_code == ExitCode.SIGNATURE_UNTRUSTED and not result.ok
    assert result.signatures[0].state == "untrusted"
    assert any(
        line.startswith("signature 1: UNTRUSTED: the signer's certificate does not chain")
        for line in result.lines
    )
    assert result.lines[-1] == verify.END_UNTRUSTED
    trusted = verify_pdf(report, trust=[pki.rogue_root])  # its own root trusts it
    assert trusted.exit_code == ExitCode.READY, trusted.lines


@pytest.mark.parametrize(
    ("usage", "lifetime", "expected"),
    [
        ("digital", YEARS_20, None),  # digital signature alone is enough
        ("encipher", YEARS_20, verify.UNTRUSTED_REASONS["CHAIN_CONSTRAINTS_FAILURE"]),
        ("sign", dt.timedelta(days=365), "was not valid at the signing time"),  # expired 2021
    ],
)
def test_the_signers_certificate_is_judged(report, pki, tmp_path, usage, lifetime, expected):
    root, root_key = pki.root_pair
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate("Dana Whitfield", key, root, root_key, usage=usage, lifetime=lifetime)
    (tmp_path / "k.pem").write_bytes(_key_pem(key))
    (tmp_path / "c.pem").write_bytes(_pem(cert))
    sign_report(report, key=tmp_path / "k.pem", cert=tmp_path / "c.pem")
    result = verify_pdf(report, trust=[pki.root])
    if expected is None:
        assert result.exit_code == ExitCode.READY, result.lines
        return
    assert result.exit_code == ExitCode.SIGNATURE_UNTRUSTED
    (line,) = [line for line in result.lines if line.startswith("signature 1: UNTRUSTED: ")]
    assert expected in line


def test_without_trust_roots_a_signature_is_not_trusted_here(report, pki):
    _sign_dana(pki, report)
    result = verify_pdf(report)
    assert result.exit_code == ExitCode.SIGNATURE_UNTRUSTED
    assert verify.SIG_NOT_TRUSTED_HERE.format(n=1) in result.lines


def test_an_unsigned_report_says_so_and_keeps_its_exit_code(report):
    result = verify_pdf(report)
    assert result.ok and result.exit_code == ExitCode.READY
    assert verify.SIG_NONE in result.lines


def test_require_signatures_wants_every_approver(report, pki, two_signed, tmp_path):
    unsigned = verify_pdf(report, require_signatures=True)
    assert unsigned.exit_code == ExitCode.SIGNATURE_UNTRUSTED and not unsigned.signed_off
    assert f"UNSIGNED: {DANA}; {SAM} have not signed (--require-signatures)" in unsigned.lines
    assert unsigned.lines[-1] == verify.END_UNSIGNED
    one = _sign_dana(pki, report, out=tmp_path / "one.pdf").path
    half = verify_pdf(one, trust=[pki.root], require_signatures=True)
    assert half.exit_code == ExitCode.SIGNATURE_UNTRUSTED
    assert f"UNSIGNED: {SAM} has not signed (--require-signatures)" in half.lines
    both = verify_pdf(two_signed[0], trust=[pki.root], require_signatures=True)
    assert both.exit_code == ExitCode.READY and both.signed_off, both.lines


def test_without_pyhanko_signatures_are_counted_not_checked(two_signed, report, monkeypatch):
    monkeypatch.setattr(verify, "pyhanko_present", lambda: False)
    result = verify_pdf(two_signed[0])
    assert result.exit_code == ExitCode.SIGNATURE_UNTRUSTED
    assert verify.SIG_NO_PYHANKO.format(count=2) in result.lines
    assert verify_pdf(report).exit_code == ExitCode.READY  # unsigned: nothing to check
    with pytest.raises(SigningError) as info:
        sign_report(report, key=Path("k"), cert=Path("c"))
    assert str(info.value) == sign.MSG_NO_PYHANKO


def test_a_timestamp_server_makes_it_pades_b_t(report, pki, tsa_url):
    _sign_dana(pki, report, tsa=tsa_url)
    result = verify_pdf(report, trust=[pki.root])
    assert result.exit_code == ExitCode.READY, result.lines
    (valid,) = [line for line in result.lines if line.startswith("signature 1: valid")]
    assert "; timestamped 20" in valid and "by O=Auditor Test CA,CN=Auditor Test TSA" in valid


def test_an_unreachable_timestamp_server_is_one_clear_error(report, pki):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    before = report.read_bytes()
    url = f"http://127.0.0.1:{port}/tsa"
    with pytest.raises(SigningError) as info:
        _sign_dana(pki, report, tsa=url)
    assert str(info.value).startswith(
        f"{report}: cannot get a timestamp from the timestamp server {url}: "
    )
    assert "\n" not in str(info.value) and report.read_bytes() == before


# --------------------------------------------------------------------------- approvers
def test_a_signer_who_is_not_an_approver_is_refused_unless_forced(report, pki, tmp_path):
    with pytest.raises(SigningError) as info:
        _sign_dana(pki, report, name="Alex Kim")
    assert "'Alex Kim' is not one of the report's approvers" in str(info.value)
    assert str(report) in str(info.value)
    forced = _sign_dana(pki, report, name="Alex Kim", force=True, out=tmp_path / "f.pdf")
    assert forced.approver is None and forced.forced and forced.field == "Approver_Alex_Kim"


def test_as_names_the_approver_when_the_common_name_differs(report, pki, tmp_path):
    signed = sign_report(
        report, key=pki.dana_key, cert=pki.dana_cert, name=SAM, out=tmp_path / "as.pdf"
    )
    assert signed.approver == SAM and signed.signer == "Dana Whitfield"


def test_a_visible_signature_says_who_signed_as_which_approver():
    assert sign._stamp_text("Dana Whitfield", DANA) == "Digitally signed by Dana Whitfield\n%(ts)s"
    assert sign._stamp_text("Dana 100%", "Head of Product") == (
        "Digitally signed by Dana 100%% as Head of Product\n%(ts)s"
    )


def test_match_approver_accepts_the_name_before_the_role():
    approvers = [DANA, SAM]
    assert sign.match_approver("dana  whitfield", approvers) == DANA
    assert sign.match_approver(SAM, approvers) == SAM
    assert sign.match_approver("Dana", approvers) is None


# --------------------------------------------------------------------------- bad input
def test_a_wrong_passphrase_is_one_clear_error(report, pki):
    before = report.read_bytes()
    with pytest.raises(SigningError) as info:
        sign_report(report, p12=pki.sam_p12, passphrase=b"wrong")
    assert str(info.value).startswith(f"{pki.sam_p12}: cannot open the PKCS#12 file: wrong")
    with pytest.raises(SigningError) as info:
        sign_report(report, key=pki.dana_key_encrypted, cert=pki.dana_cert, passphrase=b"no")
    assert str(info.value) == f"{pki.dana_key_encrypted}: {sign.MSG_WRONG_PASSPHRASE}"
    with pytest.raises(SigningError) as info:
        sign_report(report, key=pki.dana_key_encrypted, cert=pki.dana_cert)
    assert str(info.value) == f"{pki.dana_key_encrypted}: {sign.MSG_KEY_PASSPHRASE}"
    assert report.read_bytes() == before
    signed = sign_report(
        report, key=pki.dana_key_encrypted, cert=pki.dana_cert, passphrase=KEY_PASSPHRASE
    )
    assert signed.approver == DANA
    # a passphrase an unencrypted key does not need is ignored
    assert sign.load_key_material(key=pki.dana_key, cert=pki.dana_cert, passphrase=b"x").key


def test_a_key_not_matching_the_certificate_is_one_clear_error(report, pki):
    with pytest.raises(SigningError) as info:
        sign_report(report, key=pki.dana_key, cert=pki.sam_cert)
    assert str(info.value) == (
        f"{pki.dana_key}: the key does not belong to the certificate "
        "O=Auditor Test CA,CN=Sam Ortega (its public key differs)"
    )
    assert "\n" not in str(info.value)


def test_a_pdf_that_is_not_an_auditor_report_is_refused(tmp_path, pki):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    plain = tmp_path / "plain.pdf"
    with open(plain, "wb") as fh:
        writer.write(fh)
    with pytest.raises(DataError) as info:
        _sign_dana(pki, plain)
    assert info.value.message == verify.NO_ATTACHMENT
    text = tmp_path / "notes.pdf"
    text.write_text("just some notes")
    with pytest.raises(SigningError) as info:
        _sign_dana(pki, text)
    assert str(info.value) == f"{text}: {sign.MSG_NOT_PDF}"


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    "case",
    ["missing key", "wrong passphrase", "mismatch", "not a pdf", "not a report", "no trust file"],
)
def test_cli_bad_input_is_one_line_and_exit_code_2(
    case, report, pki, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("SIGN_PASS", "wrong")
    plain = tmp_path / "plain.pdf"
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=100, height=100)
    with open(plain, "wb") as fh:
        writer.write(fh)
    (tmp_path / "x.pdf").write_text("hello")
    argv, named = {
        "missing key": (
            [
                "sign",
                str(report),
                "--key",
                str(tmp_path / "nope.key"),
                "--cert",
                str(pki.dana_cert),
            ],
            tmp_path / "nope.key",
        ),
        "wrong passphrase": (
            ["sign", str(report), "--p12", str(pki.sam_p12), "--passphrase-env", "SIGN_PASS"],
            pki.sam_p12,
        ),
        "mismatch": (
            ["sign", str(report), "--key", str(pki.dana_key), "--cert", str(pki.sam_cert)],
            pki.dana_key,
        ),
        "not a pdf": (
            [
                "sign",
                str(tmp_path / "x.pdf"),
                "--key",
                str(pki.dana_key),
                "--cert",
                str(pki.dana_cert),
            ],
            tmp_path / "x.pdf",
        ),
        "not a report": (
            ["sign", str(plain), "--key", str(pki.dana_key), "--cert", str(pki.dana_cert)],
            plain,
        ),
        "no trust file": (
            ["verify", str(report), "--trust", str(tmp_path / "r.pem")],
            tmp_path / "r.pem",
        ),
    }[case]
    code, out, err = _cli(capsys, *argv)
    assert code == ExitCode.INVALID_INPUT
    assert len(err.splitlines()) == 1 and err.startswith(f"{named}: "), err
    assert "Traceback" not in err and out == ""


def test_cli_signs_and_verifies_with_exit_codes(report, pki, capsys, monkeypatch):
    monkeypatch.setenv("AUDITOR_SIGN_PASSPHRASE", P12_PASSPHRASE.decode())
    code, out, err = _cli(capsys, "sign", str(report), "--p12", str(pki.sam_p12))
    assert code == ExitCode.READY, err
    assert out.strip() == (
        f"{report}: signed by Sam Ortega as approver {SAM} (signature field Approver_Sam_Ortega)"
    )
    code, out, _ = _cli(capsys, "verify", str(report), "--trust", str(pki.root))
    assert code == ExitCode.READY and "signature 1: valid" in out
    code, out, _ = _cli(capsys, "verify", str(report))
    assert code == ExitCode.SIGNATURE_UNTRUSTED and "not trusted here" in out
    code, out, _ = _cli(capsys, "verify", str(report), "--trust", str(pki.rogue_root))
    assert code == ExitCode.SIGNATURE_UNTRUSTED and "UNTRUSTED" in out
    code, out, _ = _cli(
        capsys, "verify", str(report), "--trust", str(pki.root), "--require-signatures"
    )
    assert code == ExitCode.SIGNATURE_UNTRUSTED and f"UNSIGNED: {DANA} has not" in out


def test_exit_codes_are_documented():
    from auditor.cli import EPILOG

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    docs = (Path(__file__).parents[2] / "docs" / "signing.md").read_text(encoding="utf-8")
    for code in (ExitCode.SIGNATURE_INVALID, ExitCode.SIGNATURE_UNTRUSTED):
        assert f"\n  {int(code)}   verify: " in EPILOG
        assert f"| {int(code)} |" in readme and f"| {int(code)} |" in docs
    assert "revocation" in docs
