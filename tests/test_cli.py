"""The `auditor` command: exit codes, one-line errors, output, and the real console script."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import auditor
from auditor import cli, pipeline
from auditor.cli import EPILOG, MSG_INTERNAL, main, run_summary
from auditor.errors import DeviceError, ExitCode
from auditor.spec import load_schema
from tests.spec.specdata import BASE, edit, write_data_files

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
HEAVY = ("torch", "sklearn", "matplotlib", "weasyprint")


@pytest.fixture()
def valid_spec(tmp_path: Path) -> Path:
    write_data_files(tmp_path)
    spec = tmp_path / "spec.yaml"
    spec.write_text(BASE, encoding="utf-8")
    return spec


# --------------------------------------------------------------------------- validate
def test_validate_prints_one_summary_line(valid_spec: Path, capsys):
    assert main(["validate", str(valid_spec)]) == ExitCode.READY
    out, err = capsys.readouterr()
    assert out == f"{valid_spec}: valid (binary, 200 rows, 1 criterion)\n"
    assert err == ""


def test_validate_bundled_example(capsys):
    spec = REPO / "specs" / "loan-approval.yaml"
    if not spec.exists():
        pytest.skip("the bundled loan example is not there yet")
    assert main(["validate", str(spec)]) == 0
    out = capsys.readouterr().out
    assert re.fullmatch(rf"{re.escape(str(spec))}: valid \(binary, [0-9,]+ rows, holdout "
                        r"[0-9,]+ rows, [0-9]+ criteria\)\n", out), out


def test_several_errors_print_one_line_each(valid_spec: Path, capsys):
    valid_spec.write_text(edit("  task: binary", "  task: binray",
                               edit("at_least: 0.5", "at_least: high")))
    assert main(["validate", str(valid_spec)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{valid_spec}:4:9: objective.task: must be one of")
    assert lines[1] == (f"{valid_spec}:10:28: acceptance[0].at_least: "
                        "must be a number between 0 and 1, got 'high'")


# --------------------------------------------------------------------------- general
def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"auditor {auditor.__version__}"


def test_help_documents_exit_codes(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert EPILOG in out
    for code in ExitCode:
        assert f"  {int(code):<3} " in EPILOG


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["validate"], ["run"],
                                  ["init", "--data", "x"], ["validate", "a.yaml", "--bogus"]])
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == ExitCode.INVALID_INPUT
    err = capsys.readouterr().err
    assert "usage:" in err and "Traceback" not in err


def test_schema_prints_the_schema(capsys):
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == load_schema()


# --------------------------------------------------------------------------- run
RESULTS = {
    "verdict": {"status": "NOT READY", "reason": "1 blocking criterion failed.", "exit_code": 1},
    "criteria": [
        {"description": "F1 on the test split is at least 0.80", "status": "pass",
         "severity": "blocking", "value": 0.8312, "ci": [0.81, 0.85]},
        {"description": "Demographic parity difference across sex is at most 0.10",
         "status": "fail", "severity": "blocking", "value": 0.183, "ci": None},
        {"description": "Accuracy gap train vs validation is at most 0.05", "status": "fail",
         "severity": "advisory", "value": 0.07, "waived": True},
    ],
    "run": {"timings": {"load": 0.05, "data": 0.4, "train": 6.21}},
}


def _outcome(tmp_path: Path, code: int = 1):
    files = {"results": tmp_path / "results.json", "pdf": tmp_path / "report.pdf"}
    extra = {}
    if "timings" in {f.name for f in dataclasses.fields(pipeline.RunOutcome)}:
        extra["timings"] = {**RESULTS["run"]["timings"], "report": 2.5}
    return pipeline.RunOutcome(results=RESULTS, out_dir=tmp_path, files=files, exit_code=code,
                               **extra)


def test_run_prints_summary_and_exits_with_the_verdict(tmp_path: Path, capsys, monkeypatch):
    seen = {}

    def fake_run(spec_path, *, out=None, quiet=False):
        seen.update(spec=spec_path, out=out, quiet=quiet)
        return _outcome(tmp_path)

    monkeypatch.setattr(pipeline, "run", fake_run)
    assert main(["run", "s.yaml", "--out", "o"]) == 1
    assert seen == {"spec": "s.yaml", "out": "o", "quiet": False}
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "NOT READY: 1 blocking criterion failed."
    assert "  pass          F1 on the test split is at least 0.80: 0.831 [0.810, 0.850]" in lines
    assert any(x.startswith("  FAIL ") and "sex is at most 0.10: 0.183" in x for x in lines)
    assert any("(waived)" in x and "(advisory)" in x for x in lines)
    assert f"  pdf           {tmp_path / 'report.pdf'}" in lines
    assert "stages: load 0.1 s, data 0.4 s, train 6.2 s, report 2.5 s" in lines
    assert lines[-1].startswith("finished in ") and lines[-1].endswith(" s")


@pytest.mark.parametrize("code", [0, 1, 3])
def test_run_quiet_prints_verdict_and_report_only(tmp_path: Path, capsys, monkeypatch, code):
    monkeypatch.setattr(pipeline, "run", lambda *a, **k: _outcome(tmp_path, code))
    assert main(["run", "s.yaml", "--quiet"]) == code
    assert capsys.readouterr().out.splitlines() == [
        "NOT READY: 1 blocking criterion failed.", f"report: {tmp_path / 'report.pdf'}"]


def test_run_summary_tolerates_sparse_results():
    text = run_summary({}, {}, wall=1.0, quiet=False)
    assert text.splitlines()[0] == "?" and text.endswith("finished in 1.0 s")


def test_auditor_errors_become_one_line_and_their_exit_code(capsys, monkeypatch):
    def fail(*a, **k):
        raise DeviceError("device 'cuda' was requested but no CUDA device is present")

    monkeypatch.setattr(pipeline, "run", fail)
    assert main(["run", "s.yaml"]) == DeviceError.exit_code
    assert capsys.readouterr().err == (
        "device 'cuda' was requested but no CUDA device is present\n")


def test_internal_errors_exit_70_without_traceback(capsys, monkeypatch):
    def crash(*a, **k):
        raise ValueError("boom\nsecond line")

    monkeypatch.setattr(pipeline, "run", crash)
    assert main(["run", "s.yaml"]) == ExitCode.INTERNAL
    err = capsys.readouterr().err
    assert err == MSG_INTERNAL.format(kind="ValueError", message="boom second line") + "\n"


@pytest.mark.parametrize("argv", [["--debug", "run", "s.yaml"], ["run", "s.yaml", "--debug"]])
def test_debug_shows_the_traceback(capsys, monkeypatch, argv):
    def crash(*a, **k):
        raise ValueError("boom")

    monkeypatch.setattr(pipeline, "run", crash)
    assert main(argv) == ExitCode.INTERNAL
    assert "Traceback" in capsys.readouterr().err


def test_keyboard_interrupt_exits_130(capsys, monkeypatch):
    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "run", interrupted)
    assert main(["run", "s.yaml"]) == 130
    assert capsys.readouterr().err == cli.MSG_INTERRUPTED + "\n"


# --------------------------------------------------------------------------- report, verify
def test_report_missing_results_file(tmp_path: Path, capsys):
    missing = tmp_path / "results.json"
    assert main(["report", str(missing)]) == 2
    assert capsys.readouterr().err == f"{missing}: {cli.MSG_RESULTS_MISSING}\n"


@pytest.mark.parametrize("content, where, message", [
    ('{"verdict": \n  oops}', ":2:3: ", "not a valid results.json: Expecting value"),
    ("[1, 2]", ": ", cli.MSG_RESULTS_NOT_OBJECT),
    ("", ":1:1: ", "not a valid results.json"),
])
def test_report_invalid_results_file(tmp_path: Path, capsys, content, where, message):
    path = tmp_path / "results.json"
    path.write_text(content)
    assert main(["report", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{path}{where}") and message in err
    assert len(err.strip().splitlines()) == 1


def test_report_renders_into_the_results_folder(tmp_path: Path, capsys, monkeypatch):
    import auditor.report as report

    calls = []

    def render(results, out_dir, *, results_path=None):
        calls.append((results, Path(out_dir), results_path))
        return {"html": Path(out_dir) / "report.html", "pdf": Path(out_dir) / "report.pdf"}

    monkeypatch.setattr(report, "render_report", render)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(RESULTS))
    assert main(["report", str(path)]) == 0
    assert calls == [(RESULTS, tmp_path, path)]
    assert capsys.readouterr().out.splitlines() == [f"html: {tmp_path / 'report.html'}",
                                                    f"pdf: {tmp_path / 'report.pdf'}"]


@pytest.mark.parametrize("ok, code", [(True, 0), (False, 1)])
def test_verify_prints_lines_and_exits_on_ok(tmp_path: Path, capsys, monkeypatch, ok, code):
    import types

    calls = []

    def verify_pdf(pdf, *, data, model):
        calls.append((pdf, data, model))
        return {"ok": ok, "lines": ["data loans.csv: sha256 matches", "model: not given"]}

    module = types.ModuleType("auditor.report.verify")
    module.verify_pdf = verify_pdf
    monkeypatch.setitem(sys.modules, "auditor.report.verify", module)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.7\n")
    assert main(["verify", str(pdf), "--data", "a.csv", "--data", "b.csv"]) == code
    assert calls == [(pdf, [Path("a.csv"), Path("b.csv")], None)]
    assert capsys.readouterr().out.splitlines() == ["data loans.csv: sha256 matches",
                                                    "model: not given"]


def test_verify_missing_pdf(tmp_path: Path, capsys):
    assert main(["verify", str(tmp_path / "none.pdf")]) == 2
    assert capsys.readouterr().err.strip().endswith(cli.MSG_PDF_MISSING)


# --------------------------------------------------------------------------- real process
def _run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "auditor"), *args], capture_output=True, text=True,
                          cwd=cwd, timeout=60)


@pytest.mark.parametrize("text", [
    edit("  task: binary", "  task: binray"),
    edit("name: t", "name: !!python/object/apply:os.system [ls]"),
    edit("train: data.csv", "train: missing.csv"),
    "version: 1\n  bad: indent\n",
], ids=["enum", "python-tag", "missing-data", "syntax"])
def test_console_script_prints_one_located_line(tmp_path: Path, text):
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    write_data_files(tmp_path)
    proc = _run("validate", "spec.yaml", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("spec.yaml:")
    assert "Traceback" not in proc.stderr


def test_console_script_usage_error_is_exit_2():
    proc = _run("validate")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_python_dash_m_entry():
    proc = subprocess.run([sys.executable, "-m", "auditor", "--version"], capture_output=True,
                          text=True, timeout=60, cwd=REPO)
    assert proc.returncode == 0 and proc.stdout.strip() == f"auditor {auditor.__version__}"


def test_validate_imports_nothing_heavy_and_is_fast(tmp_path: Path):
    write_data_files(tmp_path)
    (tmp_path / "spec.yaml").write_text(BASE)
    spec = REPO / "specs" / "loan-approval.yaml"
    target = spec if spec.exists() else tmp_path / "spec.yaml"
    subprocess.run([str(BIN / "auditor"), "validate", str(target)], capture_output=True,
                   timeout=120)  # first call may generate the example data
    code = (
        "import sys, time\n"
        "start = time.perf_counter()\n"
        "import auditor.cli\n"
        f"code = auditor.cli.main(['validate', {str(target)!r}])\n"
        "elapsed = time.perf_counter() - start\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(code, heavy, round(elapsed, 3))\n"
    )
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=REPO)
    wall = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr
    status, rest = proc.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "0", proc.stdout
    assert rest.startswith("[] "), f"heavy modules imported by validate: {rest}"
    print(f"\nauditor validate {target.name}: {wall:.2f} s wall in a fresh interpreter "
          f"({rest.split()[-1]} s in main)")
    assert wall < 6.0  # the budget is 2 s on a quiet machine; leave room for a loaded one
