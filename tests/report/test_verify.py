"""auditor verify: the PDF's evidence against the data and model at hand."""

from __future__ import annotations

import json

import pytest
from pypdf import PdfWriter

from auditor.errors import AuditorError, DataError, ExitCode, ModelFileError
from auditor.report import verify
from auditor.report.verify import verify_pdf


def test_accepts_the_audited_data_and_model(binary_report):
    result = verify_pdf(
        binary_report.out["pdf"], data=[binary_report.data_file], model=binary_report.model_file
    )
    assert result.ok, result.lines
    text = "\n".join(result.lines)
    assert "results.json: intact" in text and "spec.yaml: intact" in text
    assert "matches the audited train data" in text
    assert "matches the audited model file model.safetensors" in text
    assert "NOT READY" in result.lines[0]
    assert verify.SIG_NONE in result.lines  # unsigned: said, and not a failure
    assert result.exit_code == ExitCode.READY


def test_refuses_the_same_file_with_one_changed_row(binary_report, tmp_path):
    lines = binary_report.data_file.read_text().splitlines(keepends=True)
    lines[57] = (
        lines[57].replace(",0\n", ",1\n")
        if lines[57].endswith(",0\n")
        else lines[57].replace(",1\n", ",0\n")
    )
    changed = tmp_path / "loans.csv"
    changed.write_text("".join(lines))
    assert changed.read_bytes() != binary_report.data_file.read_bytes()
    result = verify_pdf(binary_report.out["pdf"], data=[binary_report.data_file, changed])
    assert not result.ok
    assert any(line.startswith(str(changed)) and "DOES NOT MATCH" in line for line in result.lines)
    assert any("matches the audited train data" in line for line in result.lines)
    assert result.lines[-1].startswith("MISMATCH")
    assert result.exit_code == ExitCode.NOT_READY


def test_refuses_another_model(binary_report, tmp_path):
    other = tmp_path / "model.safetensors"
    other.write_bytes(binary_report.model_file.read_bytes() + b"\x00")
    result = verify_pdf(binary_report.out["pdf"], model=other)
    assert not result.ok
    assert "DOES NOT MATCH the audited model" in result.lines[-2]


def test_detects_an_altered_attachment(tmp_path):
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_attachment("results.json", json.dumps({"verdict": {"status": "READY"}}))
    writer.add_metadata({"/auditorresultssha256": "0" * 64})
    pdf = tmp_path / "forged.pdf"
    with open(pdf, "wb") as fh:
        writer.write(fh)
    result = verify_pdf(pdf)
    assert not result.ok
    assert any("results.json: ALTERED" in line for line in result.lines)


def test_pdf_without_attachments_is_an_input_error(tmp_path):
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    pdf = tmp_path / "plain.pdf"
    with open(pdf, "wb") as fh:
        writer.write(fh)
    with pytest.raises(DataError) as info:
        verify_pdf(pdf)
    assert info.value.message == verify.NO_ATTACHMENT
    assert info.value.exit_code == ExitCode.INVALID_INPUT
    assert str(pdf) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("content", [b"not a pdf at all", b"%PDF-1.7\n%broken"])
def test_unreadable_pdf_is_an_input_error(tmp_path, content):
    pdf = tmp_path / "bad.pdf"
    pdf.write_bytes(content)
    with pytest.raises(AuditorError) as info:
        verify_pdf(pdf)
    assert info.value.exit_code == ExitCode.INVALID_INPUT
    assert "\n" not in str(info.value)


def test_missing_files_are_input_errors(binary_report, tmp_path):
    with pytest.raises(DataError):
        verify_pdf(tmp_path / "nope.pdf")
    with pytest.raises(DataError):
        verify_pdf(binary_report.out["pdf"], data=[tmp_path / "nope.csv"])
    with pytest.raises(ModelFileError):
        verify_pdf(binary_report.out["pdf"], model=tmp_path / "nope.onnx")


@pytest.mark.parametrize("content", [b"not a pdf at all", b"%PDF-1.7\n1 0 obj\n<<"])
def test_cli_reports_a_bad_pdf_in_exactly_one_line(tmp_path, capsys, content):
    from auditor.cli import main

    bad = tmp_path / "report.pdf"
    bad.write_bytes(content)
    code = main(["verify", str(bad)])
    captured = capsys.readouterr()
    assert code == ExitCode.INVALID_INPUT
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err  # pypdf's own log lines are silenced
    assert str(bad) in lines[0] and "cannot read the report PDF" in lines[0]
    assert "invalid pdf header" not in captured.err and "EOF marker" not in captured.err
    assert captured.out == ""
