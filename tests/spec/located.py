"""The one assertion every refused-spec table shares: ``auditor validate`` says one line."""

from __future__ import annotations

from pathlib import Path


def assert_refused_on_one_line(main, capsys, spec: Path, line: int, path: str, message: str):
    """``auditor validate SPEC`` exits 2 with one line: ``SPEC:LINE:...: PATH: ...MESSAGE``."""
    assert main(["validate", str(spec)]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1, err
    assert lines[0].startswith(f"{spec}:{line}:"), lines[0]
    assert f": {path}: " in lines[0], lines[0]
    assert message in lines[0], lines[0]
