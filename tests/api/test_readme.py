"""The README's "Python API" section runs as a doctest, in a fresh folder: the notebook-style
audit of an in-memory model, the same numbers from files through the command line, and an
error located by JSON path."""

from __future__ import annotations

import doctest
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_the_python_api_section_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    section = _section("Python API")
    test = doctest.DocTestParser().get_doctest(section, {}, "README.md#python-api", str(README), 0)
    assert len(test.examples) > 20  # the section's examples, not an empty match
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    outcome = runner.summarize(verbose=False)
    assert outcome.failed == 0, f"{outcome.failed} README example(s) failed (see the output)"
    assert (tmp_path / "audit" / "report.pdf").is_file() and (
        tmp_path / "cli" / "junit.xml"
    ).is_file()
