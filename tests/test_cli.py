"""The `auditor` command: exit codes, one-line errors, output, and the real console script."""

from __future__ import annotations

import argparse
import hashlib
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
from auditor.outputs import MSG_NOT_DIR
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
    assert re.fullmatch(
        rf"{re.escape(str(spec))}: valid \(binary, [0-9,]+ rows, holdout "
        r"[0-9,]+ rows, [0-9]+ criteria\)\n",
        out,
    ), out


def test_several_errors_print_one_line_each(valid_spec: Path, capsys):
    valid_spec.write_text(
        edit("  task: binary", "  task: binray", edit("at_least: 0.5", "at_least: high"))
    )
    assert main(["validate", str(valid_spec)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{valid_spec}:4:9: objective.task: must be one of")
    assert lines[1] == (
        f"{valid_spec}:10:28: acceptance[0].at_least: must be a number between 0 and 1, got 'high'"
    )


# --------------------------------------------------------------------------- general
def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"auditor {auditor.__version__}"


EVERY_EXIT_CODE = {int(code) for code in ExitCode} | {cli.EXIT_INTERRUPTED}


def _documented_codes(text: str) -> set[int]:
    return {int(m) for m in re.findall(r"^  ([0-9]+) +\S", text, flags=re.M)}


def test_help_documents_every_exit_code(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert EPILOG in out
    assert EVERY_EXIT_CODE == {0, 1, 2, 3, 4, 5, 6, 70, 130}
    assert _documented_codes(EPILOG) == EVERY_EXIT_CODE
    assert main(["run", "--help"]) == 0  # each command's help repeats them
    assert EPILOG in capsys.readouterr().out


def test_readme_exit_code_table_matches_help():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Exit codes", 1)[1].split("\n\n", 2)[1]
    codes = {int(m) for m in re.findall(r"^\| ([0-9]+) \|", table, flags=re.M)}
    assert codes == _documented_codes(EPILOG)


def test_readme_commands_match_the_cli():
    """Every command the README's table shows exists, with the options it shows."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert readme.lstrip().startswith("```sh\nmake demo ")
    first = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    assert [line.split()[:2] for line in first.strip().splitlines()] == [
        ["make", "demo"],
        ["make", "test"],
    ]
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo:", makefile, flags=re.M) and re.search(r"^test:", makefile, flags=re.M)
    rows = re.findall(r"^\| `auditor ([a-z]+)([^`]*)` \|", readme, flags=re.M)
    commands = {name for name, _ in rows}
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert commands == set(sub.choices)
    for name, shown in rows:
        options = {o for a in sub.choices[name]._actions for o in a.option_strings}
        for flag in re.findall(r"--[a-z-]+", shown):
            assert flag in options, f"README shows `auditor {name} {flag}`, the CLI has not"


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["validate"],
        ["run"],
        ["init", "--data", "x"],
        ["validate", "a.yaml", "--bogus"],
    ],
)
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
        {
            "description": "F1 on the test split is at least 0.80",
            "status": "pass",
            "severity": "blocking",
            "value": 0.8312,
            "ci": [0.81, 0.85],
        },
        {
            "description": "Demographic parity difference across sex is at most 0.10",
            "status": "fail",
            "severity": "blocking",
            "value": 0.183,
            "ci": None,
        },
        {
            "description": "Accuracy gap train vs validation is at most 0.05",
            "status": "fail",
            "severity": "advisory",
            "value": 0.07,
            "waived": True,
        },
    ],
    "run": {"timings": {"load": 0.05, "data": 0.4, "train": 6.21}},
}


def _outcome(tmp_path: Path, code: int = 1):
    files = {"results": tmp_path / "results.json", "pdf": tmp_path / "report.pdf"}
    return pipeline.RunOutcome(
        results=RESULTS,
        out_dir=tmp_path,
        files=files,
        exit_code=code,
        timings={**RESULTS["run"]["timings"], "report": 2.5},
    )


def test_run_prints_summary_and_exits_with_the_verdict(tmp_path: Path, capsys, monkeypatch):
    seen = {}

    def fake_run(spec_path, *, out=None, quiet=False, against=None):
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
    seen = {}

    def fake_run(spec_path, *, out=None, quiet=False, against=None):
        seen.update(quiet=quiet)
        return _outcome(tmp_path, code)

    monkeypatch.setattr(pipeline, "run", fake_run)
    assert main(["run", "s.yaml", "--quiet"]) == code
    assert seen == {"quiet": True}
    assert capsys.readouterr().out.splitlines() == [
        "NOT READY: 1 blocking criterion failed.",
        f"report: {tmp_path / 'report.pdf'}",
    ]


@pytest.mark.parametrize("out", ["a-file", "a-file/sub/dir"])
def test_run_refuses_an_out_folder_it_cannot_create_before_running(
    tmp_path: Path, capsys, monkeypatch, out
):
    monkeypatch.setattr(pipeline, "run", lambda *a, **k: pytest.fail("the run started"))
    (tmp_path / "a-file").write_text("")
    assert main(["run", "s.yaml", "--out", str(tmp_path / out)]) == ExitCode.INVALID_INPUT
    assert capsys.readouterr().err == (
        f"{tmp_path / out}: " + MSG_NOT_DIR.format(label="--out ", path=tmp_path / "a-file") + "\n"
    )


def test_run_accepts_a_new_or_existing_out_folder(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setattr(pipeline, "run", lambda *a, **k: _outcome(tmp_path, 0))
    assert main(["run", "s.yaml", "--quiet", "--out", str(tmp_path / "new" / "deeper")]) == 0
    assert main(["run", "s.yaml", "--quiet", "--out", str(tmp_path)]) == 0
    assert not (tmp_path / "new").exists()  # checking creates nothing


def test_run_summary_tolerates_sparse_results():
    text = run_summary({}, {}, wall=1.0, quiet=False)
    assert text.splitlines()[0] == "?" and text.endswith("finished in 1.0 s")


def test_auditor_errors_become_one_line_and_their_exit_code(capsys, monkeypatch):
    def fail(*a, **k):
        raise DeviceError("device 'cuda' was requested but no CUDA device is present")

    monkeypatch.setattr(pipeline, "run", fail)
    assert main(["run", "s.yaml"]) == DeviceError.exit_code
    assert capsys.readouterr().err == (
        "device 'cuda' was requested but no CUDA device is present\n"
    )


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
    assert main(["run", "s.yaml"]) == cli.EXIT_INTERRUPTED == 130
    assert capsys.readouterr().err == cli.MSG_INTERRUPTED + "\n"


# --------------------------------------------------------------------------- report, verify
def test_report_missing_results_file(tmp_path: Path, capsys):
    missing = tmp_path / "results.json"
    assert main(["report", str(missing)]) == 2
    assert capsys.readouterr().err == f"{missing}: {cli.MSG_RESULTS_MISSING}\n"


@pytest.mark.parametrize(
    "content, where, message",
    [
        ('{"verdict": \n  oops}', ":2:3: ", "not a valid results.json: Expecting value"),
        ("[1, 2]", ": ", cli.MSG_RESULTS_NOT_OBJECT),
        ("", ":1:1: ", "not a valid results.json"),
    ],
)
def test_report_invalid_results_file(tmp_path: Path, capsys, content, where, message):
    path = tmp_path / "results.json"
    path.write_text(content)
    assert main(["report", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{path}{where}") and message in err
    assert len(err.strip().splitlines()) == 1


@pytest.fixture()
def render_calls(monkeypatch) -> list[tuple]:
    """Replace the report renderer; each call's (results, out_dir, results_path, spec_text)."""
    import auditor.report as report

    calls: list[tuple] = []

    def render(results, out_dir, *, results_path=None, spec_text=None):
        calls.append((results, Path(out_dir), results_path, spec_text))
        return {"html": Path(out_dir) / "report.html", "pdf": Path(out_dir) / "report.pdf"}

    monkeypatch.setattr(report, "render_report", render)
    return calls


def test_report_renders_into_the_results_folder(tmp_path: Path, capsys, render_calls):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(RESULTS))
    assert main(["report", str(path)]) == 0
    assert render_calls == [(RESULTS, tmp_path, path, None)]
    assert capsys.readouterr().out.splitlines() == [
        f"html: {tmp_path / 'report.html'}",
        f"pdf: {tmp_path / 'report.pdf'}",
    ]


@pytest.mark.parametrize("ok, code", [(True, 0), (False, 1)])
def test_verify_prints_lines_and_exits_on_ok(tmp_path: Path, capsys, monkeypatch, ok, code):
    import types

    from auditor.report.verify import VerifyResult

    calls = []

    def verify_pdf(pdf, *, data, model):
        calls.append((pdf, data, model))
        return VerifyResult(ok=ok, lines=["data loans.csv: sha256 matches", "model: not given"])

    module = types.ModuleType("auditor.report.verify")
    module.verify_pdf = verify_pdf
    monkeypatch.setitem(sys.modules, "auditor.report.verify", module)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.7\n")
    assert main(["verify", str(pdf), "--data", "a.csv", "--data", "b.csv"]) == code
    assert calls == [(pdf, [Path("a.csv"), Path("b.csv")], None)]
    assert capsys.readouterr().out.splitlines() == [
        "data loans.csv: sha256 matches",
        "model: not given",
    ]


def test_verify_missing_pdf(tmp_path: Path, capsys):
    assert main(["verify", str(tmp_path / "none.pdf")]) == 2
    assert capsys.readouterr().err.strip().endswith(cli.MSG_PDF_MISSING)


# --------------------------------------------------------------------------- real process
def _run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "auditor"), *args], capture_output=True, text=True, cwd=cwd, timeout=60
    )


@pytest.mark.parametrize(
    "text",
    [
        edit("  task: binary", "  task: binray"),
        edit("name: t", "name: !!python/object/apply:os.system [ls]"),
        edit("train: data.csv", "train: missing.csv"),
        "version: 1\n  bad: indent\n",
    ],
    ids=["enum", "python-tag", "missing-data", "syntax"],
)
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
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == f"auditor {auditor.__version__}"


def test_validate_imports_nothing_heavy_and_is_fast(tmp_path: Path):
    write_data_files(tmp_path)
    (tmp_path / "spec.yaml").write_text(BASE)
    spec = REPO / "specs" / "loan-approval.yaml"
    target = spec if spec.exists() else tmp_path / "spec.yaml"
    subprocess.run(
        [str(BIN / "auditor"), "validate", str(target)], capture_output=True, timeout=120
    )  # first call may generate the example data
    code = (
        "import sys, time\n"
        "start = time.perf_counter()\n"
        "import auditor.cli\n"
        f"code = auditor.cli.main(['validate', {str(target)!r}])\n"
        "elapsed = time.perf_counter() - start\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(code, heavy, round(elapsed, 3), round(time.process_time(), 3))\n"
    )
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    wall = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr
    status, rest = proc.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "0", proc.stdout
    assert rest.startswith("[] "), f"heavy modules imported by validate: {rest}"
    in_main, cpu = (float(x) for x in rest.split()[-2:])
    print(
        f"\nauditor validate {target.name}: {wall:.2f} s wall in a fresh interpreter "
        f"({in_main} s in main, {cpu} s CPU in all)"
    )
    # The budget: CPU time of the child process, measured inside it; it does not grow when
    # other jobs share the cores. The wall time above is printed for people, never asserted
    # (benchmarks/ is the place for speed figures).
    assert cpu < 2.0


def test_report_embeds_the_run_folders_own_files(tmp_path: Path, capsys):
    """A re-rendered PDF carries byte-identical copies of results.json and the resolved spec."""
    from auditor.outputs import RESOLVED_SPEC_FILE
    from auditor.report.verify import RESULTS_NAME, SPEC_NAME, read_attachments
    from tests.report.fixtures import make_results

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    results_path = run_dir / "results.json"
    # Written unlike the canonical JSON, and the spec unlike a YAML dump of results['spec'],
    # so only embedding the files themselves gives equal bytes.
    results = make_results("binary", n_charts=0)
    results_path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    spec_text = (
        "# yaml-language-server: $schema=../schemas/spec.schema.json\n"
        "# the resolved spec, as the run wrote it\n" + json.dumps(results["spec"], indent=1) + "\n"
    )
    (run_dir / RESOLVED_SPEC_FILE).write_text(spec_text, encoding="utf-8")
    out = tmp_path / "again"
    assert main(["report", str(results_path), "--out", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"pdf: {out / 'report.pdf'}"
    files, recorded = read_attachments(out / "report.pdf")
    assert files[RESULTS_NAME] == results_path.read_bytes()
    assert files[SPEC_NAME] == (run_dir / RESOLVED_SPEC_FILE).read_bytes()
    assert recorded[SPEC_NAME] == hashlib.sha256(spec_text.encode()).hexdigest()
    assert capsys.readouterr().err == ""


def test_report_ignores_another_runs_resolved_spec(tmp_path: Path, capsys, render_calls):
    from auditor.outputs import RESOLVED_SPEC_FILE

    path = tmp_path / "results.json"
    path.write_text(json.dumps({**RESULTS, "spec": {"version": 1, "name": "this-run"}}))
    other = tmp_path / RESOLVED_SPEC_FILE
    for text in ("version: 1\nname: another-run\n", "version: 1\n  bad: indent\n"):
        other.write_text(text)
        assert main(["report", str(path)]) == 0
        assert capsys.readouterr().err == cli.MSG_SPEC_OTHER_RUN.format(file=other) + "\n"
    other.write_text("# the run's own\nname: this-run\nversion: 1\n")
    assert main(["report", str(path)]) == 0
    assert [call[3] for call in render_calls] == [None, None, other.read_text()]


def test_report_refuses_an_out_path_that_is_a_file(tmp_path: Path, capsys):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(RESULTS))
    assert main(["report", str(path), "--out", str(path)]) == ExitCode.INVALID_INPUT
    assert capsys.readouterr().err == (
        f"{path}: " + MSG_NOT_DIR.format(label="--out ", path=path) + "\n"
    )


def test_report_without_a_resolved_spec_still_renders(tmp_path: Path, capsys, render_calls):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(RESULTS))
    assert main(["report", str(path)]) == 0
    # the report then serialises results['spec'] itself
    assert [call[3] for call in render_calls] == [None]


def test_report_unreadable_resolved_spec_is_an_input_error(tmp_path: Path, capsys):
    from auditor.outputs import RESOLVED_SPEC_FILE

    path = tmp_path / "results.json"
    path.write_text(json.dumps(RESULTS))
    (tmp_path / RESOLVED_SPEC_FILE).write_bytes(b"name: caf\xe9\n")
    assert main(["report", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"{tmp_path / RESOLVED_SPEC_FILE}: "
        + cli.MSG_SPEC_UNREADABLE.format(reason="not UTF-8")
        + "\n"
    )


# --------------------------------------------------------------------------- progress
TERMINAL_COLUMNS = 80
SMALL_RUN = BASE + "evaluation: {bootstrap: 50}\n"


def _run_on(tmp_path: Path, name: str, *flags: str, tty: bool) -> tuple[bytes, bytes, int]:
    """Run ``auditor run`` with stderr on an 80-column pseudo-terminal or on a pipe."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    env = {k: v for k, v in os.environ.items() if k != "CI"}
    argv = [str(BIN / "auditor"), "run", "spec.yaml", "--out", name, *flags]
    if not tty:
        proc = subprocess.run(argv, capture_output=True, cwd=tmp_path, env=env, timeout=300)
        return proc.stdout, proc.stderr, proc.returncode
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, TERMINAL_COLUMNS, 0, 0))
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=slave, cwd=tmp_path, env=env)
    os.close(slave)
    drawn = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        drawn += chunk
    os.close(master)
    out = proc.stdout.read()
    proc.stdout.close()
    return out, drawn, proc.wait(timeout=300)


@pytest.fixture(scope="module")
def progress_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("progress")
    write_data_files(folder)
    (folder / "spec.yaml").write_text(SMALL_RUN)
    return {
        "tty": _run_on(folder, "a", tty=True),
        "tty-quiet": _run_on(folder, "b", "--quiet", tty=True),
        "pipe": _run_on(folder, "c", tty=False),
    }


@pytest.mark.slow
def test_progress_is_drawn_on_a_terminal_only(progress_runs):
    out, drawn, code = progress_runs["tty"]
    assert code in (0, 1, 3), drawn
    assert b"\r" in drawn and b"train" in drawn and b"/" in drawn  # stages and the epoch bar
    assert b"\r" not in out
    out, drawn, code = progress_runs["tty-quiet"]
    assert code in (0, 1, 3) and drawn == b""  # --quiet: nothing on the terminal at all
    assert out.decode().splitlines()[-1].startswith("report: ")
    out, err, code = progress_runs["pipe"]
    assert code in (0, 1, 3), err
    assert err == b""
    assert not re.search(rb"[\r\x1b]", out), out
    assert out.decode().splitlines()[-1].startswith("finished in ")


@pytest.mark.slow
def test_progress_lines_fit_an_80_column_terminal(progress_runs):
    _, drawn, _ = progress_runs["tty"]
    frames = re.split(rb"\r|\n", drawn)
    frames = [re.sub(rb"\x1b\[[0-9;]*[A-Za-z]", b"", f) for f in frames]
    assert max(len(f) for f in frames) < TERMINAL_COLUMNS


def test_run_summary_says_why_a_criterion_could_not_be_decided():
    results = {
        "verdict": {"status": "NOT READY", "reason": "r"},
        "criteria": [
            {
                "status": "error",
                "description": "F1 score on the holdout split is at least 0.80",
                "value": None,
                "ci": None,
                "reason": "there is no holdout split",
            },
            {
                "status": "inconclusive",
                "description": "Demographic parity difference across sex",
                "value": 0.04,
                "ci": [0.01, 0.12],
                "reason": "group 'x' has 12 rows; 18 more needed",
            },
            {"status": "pass", "description": "Accuracy", "value": 0.9, "ci": None, "reason": ""},
        ],
    }
    lines = run_summary(results, {}, wall=1.0, quiet=False).splitlines()
    assert lines[3].endswith(": there is no holdout split")
    assert lines[4].endswith(": 0.040 [0.010, 0.120]; group 'x' has 12 rows; 18 more needed")
    assert lines[5].endswith(": 0.900")
