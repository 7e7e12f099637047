"""Safe rendering: spec strings are text, and the PDF renderer reads no file but its own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import auditor.report.render as render_mod
from auditor.report.render import STATIC_DIR, is_packaged_asset, make_url_fetcher
from tests.report.conftest import pdf_text
from tests.report.fixtures import make_results

IMG = '<img src="file:///etc/hostname">'
SCRIPT = "<script>alert(1)</script>"
LINK = '<link rel="attachment" href="file:///etc/hostname">'


@pytest.fixture
def spied_fetchers(monkeypatch):
    made = []

    def spy(images=None):
        fetcher = make_url_fetcher(images)
        made.append(fetcher)
        return fetcher

    monkeypatch.setattr(render_mod, "make_url_fetcher", spy)
    return made


def test_spec_strings_render_as_literal_text_and_read_no_file(tmp_path, spied_fetchers):
    payload = IMG + SCRIPT
    results = make_results("binary", n_charts=1)
    spec = results["spec"]
    spec["name"] = f"loan{payload}"
    spec["objective"]["purpose"] = f"Rank loans {payload} for review."
    spec["report"]["owner"] = f"Team {payload}"
    spec["report"]["title"] = f"Title {LINK}"
    spec["acceptance"][0]["rationale"] = f"Because {payload}"
    results["criteria"][0]["criterion"]["rationale"] = f"Because {payload}"
    results["criteria"][1]["description"] = f"Criterion {payload}"
    results["findings"][0]["summary"] = f"Finding {payload}"
    results["findings"][0]["details"] = {"groups": [{"group": payload, "n": 3}]}

    out = render_mod.render_report(results, tmp_path)
    html = out["html"].read_text()
    # nothing active reaches the HTML
    assert '<img src="file:' not in html
    assert "<script>" not in html
    assert '<link rel="attachment"' not in html
    assert html.count("&lt;img src=&#34;file:///etc/hostname&#34;&gt;") >= 6
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 6
    # the literal text is in the PDF, on page one and elsewhere
    text, _ = pdf_text(out["pdf"])
    squeezed = text.replace(" ", "")
    assert payload.replace(" ", "") in squeezed
    assert IMG.replace(" ", "") in squeezed and SCRIPT in squeezed
    assert f"RankLoans{payload}forreview.".lower().replace(" ", "") in squeezed.lower()
    # the fetcher was never asked for the file (and was used for this render)
    assert spied_fetchers, "render_report did not use make_url_fetcher"
    asked = [u for f in spied_fetchers for u in f.requested]
    assert not any("hostname" in u for u in asked), asked


def test_fetcher_refuses_everything_but_packaged_assets(tmp_path):
    fetcher = make_url_fetcher()
    css = (STATIC_DIR / "report.css").as_uri()
    assert is_packaged_asset(css)
    response = fetcher.fetch(css)
    try:
        assert b"@page" in response.read()
    finally:
        response.close()
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    escape = STATIC_DIR.as_uri() + "/../../../../../../etc/hostname"
    for url in (
        "file:///etc/hostname",
        outside.as_uri(),
        escape,
        "http://example.com/x.png",
        "https://example.com/font.woff",
        "data:text/plain,hello",
        "ftp://example.com/x",
    ):
        assert not is_packaged_asset(url)
        with pytest.raises(render_mod.RefusedURL):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 7


def test_the_fetcher_answers_only_this_reports_own_charts():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"></svg>'
    fetcher = make_url_fetcher({"auditor-chart:1": svg})
    response = fetcher.fetch("auditor-chart:1")
    try:
        assert response.read() == svg and response.content_type == "image/svg+xml"
    finally:
        response.close()
    for url in ("auditor-chart:2", "auditor-chart:1/../x", "auditor-chart:"):
        with pytest.raises(render_mod.RefusedURL):
            fetcher.fetch(url)
    with pytest.raises(render_mod.RefusedURL):
        make_url_fetcher().fetch("auditor-chart:1")


def test_relative_urls_resolve_inside_the_static_folder():
    # the HTML base URL is the static folder itself: a relative URL cannot climb out
    import weasyprint

    html = '<p style="background: url(../../../../etc/hostname)">x</p><img src="../render.py">'
    fetcher = make_url_fetcher()
    weasyprint.HTML(
        string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=fetcher
    ).write_pdf()
    assert fetcher.requested, "WeasyPrint did not try the URLs at all"
    assert fetcher.refused == fetcher.requested
    for url in fetcher.requested:
        path = Path(re.sub(r"^file://", "", url)).resolve()
        assert not path.is_relative_to(STATIC_DIR) or not path.is_file()


def test_jinja_environment_is_strict_and_autoescaping():
    from jinja2 import StrictUndefined

    env = render_mod._environment()
    assert env.autoescape is True or env.autoescape("report.html.j2")
    assert env.undefined is StrictUndefined
