"""The report's templates compiled once and kept between runs (render._compiled_templates)."""

from __future__ import annotations

import jinja2
import jinja2.bccache
import pytest

from auditor.report import render as render_mod
from tests.report.fixtures import make_results


@pytest.fixture
def fresh_environment(monkeypatch, tmp_path):
    """A Jinja environment of its own, its compiled templates kept in ``tmp_path/cache``."""
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    real = render_mod._compiled_templates
    monkeypatch.setattr(render_mod, "_compiled_templates", lambda: real(str(folder)))
    render_mod._environment.cache_clear()
    yield folder
    render_mod._environment.cache_clear()


def _page(results) -> str:
    return render_mod.render_html(results, spec_text="", attachments=[], medium="pdf")


def test_a_later_run_loads_the_templates_compiled_by_an_earlier_one(fresh_environment, monkeypatch):
    results = make_results("binary", n_charts=2)
    first = _page(results)
    kept = list(fresh_environment.iterdir())
    assert kept, "the compiled templates were kept"
    render_mod._environment.cache_clear()  # as a new process would

    def no_compiling(*args, **kwargs):
        raise AssertionError("compiled again")

    monkeypatch.setattr(jinja2.Environment, "compile", no_compiling)
    assert _page(results) == first


def test_a_changed_template_is_compiled_again(fresh_environment, monkeypatch, tmp_path):
    results = make_results("binary", n_charts=2)
    _page(results)
    templates = tmp_path / "templates"
    templates.mkdir()
    for source in render_mod.TEMPLATES_DIR.iterdir():
        (templates / source.name).write_text(source.read_text(encoding="utf-8"))
    main = templates / render_mod.TEMPLATE
    main.write_text(main.read_text(encoding="utf-8") + "<!-- changed -->")
    monkeypatch.setattr(render_mod, "TEMPLATES_DIR", templates)
    render_mod._environment.cache_clear()
    assert "<!-- changed -->" in _page(results)


def test_a_cache_that_cannot_be_written_is_passed_over(fresh_environment, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jinja2.bccache.tempfile, "NamedTemporaryFile", full)
    assert "<html" in _page(make_results("binary", n_charts=2))
    assert not list(fresh_environment.iterdir())


def test_a_cache_that_cannot_be_read_is_passed_over(fresh_environment):
    results = make_results("binary", n_charts=2)
    first = _page(results)
    for kept in fresh_environment.iterdir():
        kept.write_bytes(b"not compiled code")
    render_mod._environment.cache_clear()
    assert _page(results) == first


def test_no_safe_folder_means_no_cache(monkeypatch):
    def unsafe(self):
        raise RuntimeError("Cannot determine safe temp directory.")

    monkeypatch.setattr(jinja2.FileSystemBytecodeCache, "_get_default_cache_dir", unsafe)
    assert render_mod._compiled_templates() is None
