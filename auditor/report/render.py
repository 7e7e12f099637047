"""results.json -> report.html and report.pdf (same template), written atomically.

The PDF carries its own evidence: results.json and the resolved spec are embedded as PDF
attachments, and their SHA-256 are printed in the appendix and recorded in the PDF's
metadata (``auditor verify`` reads both back).

Safety: Jinja2 autoescapes every value and fails on a missing one (StrictUndefined);
WeasyPrint gets a URL fetcher that refuses every URL except files inside the package's
own ``static`` folder, and the base URL is that folder, so a relative URL cannot reach
the rest of the filesystem, nor anything but this report's own charts, which it answers
from memory. Charts are SVG drawn from numbers by matplotlib: inline in report.html,
images of this report's own ``auditor-chart:N`` URLs in the PDF.

Heavy imports (jinja2, weasyprint, matplotlib, yaml) happen inside the functions.
"""

from __future__ import annotations

import contextlib
import functools
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from auditor.atomic import write_bytes
from auditor.errors import DataError, Location
from auditor.fingerprint import sha256_bytes
from auditor.report.chart_pool import ChartStream

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_DIR = PACKAGE_DIR / "static"
TEMPLATES_DIR = PACKAGE_DIR / "templates"
TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"

RESULTS_ATTACHMENT = "results.json"
SPEC_ATTACHMENT = "spec.yaml"
# the template's <meta name="auditor-<key>-sha256"> become PDF info keys without the dashes
META_KEYS = {RESULTS_ATTACHMENT: "/auditorresultssha256", SPEC_ATTACHMENT: "/auditorspecsha256"}

REFUSED_URL = "the report loads nothing from outside its own packaged assets: {url}"
UNREADABLE_RESULTS = "cannot read the results file: {error}"


class RefusedURL(ValueError):
    """A URL the report's fetcher will not load."""


def is_packaged_asset(url: str) -> bool:
    """Whether ``url`` is a file inside the report's own static folder."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return False
    try:
        path = Path(unquote(parts.path)).resolve()
    except (OSError, ValueError):
        return False
    return path.is_file() and path.is_relative_to(STATIC_DIR)


def make_url_fetcher(images: dict | None = None):
    """A WeasyPrint URL fetcher that refuses everything but the packaged static assets
    and this report's own charts (``images``: by ``charts.CHART_URL``, their SVG bytes or
    a function that draws them when first laid out; :func:`~.charts.image_tag`).

    The returned fetcher records every URL it was asked for in ``requested`` (and the
    refused ones in ``refused``), which the tests use to prove nothing else was read.
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    charts = dict(images or {})

    class PackagedAssetsFetcher(URLFetcher):
        def __init__(self) -> None:
            super().__init__(allowed_protocols=["file"], allow_redirects=False)
            self.requested: list[str] = []
            self.refused: list[str] = []

        def fetch(self, url, headers=None):
            self.requested.append(url)
            if url in charts:
                body = charts[url]
                body = body() if callable(body) else body  # drawn when first laid out
                return URLFetcherResponse(url, body, {"Content-Type": "image/svg+xml"})
            if not is_packaged_asset(url):
                self.refused.append(url)
                raise RefusedURL(REFUSED_URL.format(url=url[:200]))
            return super().fetch(url, headers)

    return PackagedAssetsFetcher()


def canonical_results(results: dict[str, Any]) -> bytes:
    """results.json as auditor writes it: UTF-8, indented, keys in insertion order."""
    return (json.dumps(results, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def spec_document(results: dict[str, Any]) -> str:
    """The resolved spec as YAML (insertion order)."""
    import yaml

    # flow style for innermost collections ({a: 1, b: 2}) keeps it short enough to print
    return yaml.safe_dump(
        results.get("spec") or {},
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=None,
        width=110,
    )


@functools.lru_cache(maxsize=1)
def _environment():
    """The Jinja environment (one per process: the template is compiled once, or loaded
    compiled from an earlier run's :func:`_compiled_templates`)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
        bytecode_cache=_compiled_templates(),
    )
    from auditor.report.context import DASH

    env.globals["dash"] = DASH
    return env


def _compiled_templates(directory: str | None = None):
    """Jinja's cache of compiled templates, kept between runs: compiling the report's
    templates takes a tenth of a second or more in every process, loading them a
    hundredth. ``directory`` None: the one Jinja keeps for this user in the temporary
    folder, which it uses only when the user owns it and no one else may open it (mode
    0700). Each compiled template is checked against its source's hash and this Python's
    version before use. None (compile in every process) where no such folder can be had;
    a cache that cannot be read or written is passed over."""
    from jinja2 import FileSystemBytecodeCache

    class PassedOver(FileSystemBytecodeCache):
        def load_bytecode(self, bucket) -> None:
            try:
                super().load_bytecode(bucket)
            except OSError:
                bucket.reset()

        def dump_bytecode(self, bucket) -> None:
            with contextlib.suppress(OSError):
                super().dump_bytecode(bucket)

    try:
        return PassedOver(directory)
    except (OSError, RuntimeError):  # RuntimeError: Jinja found no safe folder
        return None


def render_html(
    results: dict[str, Any],
    *,
    spec_text: str,
    attachments: list[dict[str, str]],
    medium: str = "html",
    drawn: dict | None = None,
    images: dict | None = None,
    stream=None,
) -> str:
    """The report as one self-contained HTML page (styles inline, charts inline SVG).

    ``medium`` is what the page is for: ``"html"`` (report.html: every passing example,
    collapsed) or ``"pdf"`` (the page WeasyPrint lays out: a finding that passes everywhere
    is its table row). ``drawn`` is a chart cache shared by the renders of one report, so
    that a chart both media show is drawn once. ``images``, when given, receives each
    chart's SVG by URL and the page shows it as an image of that URL (the PDF's page:
    :func:`~auditor.report.charts.charts_as_images`, given to ``layout_pdf``); else the
    charts are inline SVG. ``stream``, with ``images``: the charts are a
    :class:`~auditor.report.chart_pool.ChartStream`'s, drawn while the page is laid out.
    """
    from auditor.report.charts import (
        cached_charts,
        charts_as_images,
        numbered_charts,
        render_chart,
    )
    from auditor.report.context import build_context

    if stream is not None:
        draw = stream.as_images(images)
    else:
        draw = render_chart if drawn is None else cached_charts(render_chart, drawn)
        draw = numbered_charts(draw) if images is None else charts_as_images(draw, images)
    context = build_context(
        results,
        draw_chart=draw,
        spec_text=spec_text,
        attachments=attachments,
        medium=medium,
    )
    css = (STATIC_DIR / STYLESHEET).read_text(encoding="utf-8")
    return _environment().get_template(TEMPLATE).render(css=css, **context)


def layout_pdf(html: str, *, url_fetcher=None, images: dict | None = None):
    """WeasyPrint's laid-out document of ``html`` (pages, boxes), and its URL fetcher;
    ``images`` are the page's charts by URL (``render_html(images=...)``)."""
    import weasyprint

    from auditor.report.svg_text import install

    install()  # the charts' labels laid out one line a label (svg_text)
    fetcher = url_fetcher if url_fetcher is not None else make_url_fetcher(images)
    document = weasyprint.HTML(string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=fetcher)
    return document.render(), fetcher


def write_pdf(document, fetcher, *, attachments: list[tuple[str, bytes, str]]) -> bytes:
    """The PDF bytes of a laid-out ``document``; ``attachments`` are (name, bytes,
    description)."""
    import weasyprint

    files = [
        weasyprint.Attachment(
            string=data,
            name=name,
            description=description,
            url_fetcher=fetcher,
            relationship="Data",
        )
        for name, data, description in attachments
    ]
    return document.write_pdf(attachments=files, custom_metadata=True)


class _Stages:
    """Seconds per stage of a render, added into ``timings`` (None: not measured)."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings

    def __call__(self, name: str):
        import time

        @contextlib.contextmanager
        def timed():
            start = time.perf_counter()
            try:
                yield
            finally:
                if self.timings is not None:
                    spent = time.perf_counter() - start
                    self.timings[name] = self.timings.get(name, 0.0) + spent

        return timed()


#: The stages of a render, as ``render_report(timings=...)`` reports them.
RENDER_STAGES = ("charts", "template", "layout", "pdf", "html", "write")


def render_report(
    results: dict[str, Any],
    out_dir: Path,
    *,
    results_path: Path | None = None,
    spec_text: str | None = None,
    timings: dict[str, float] | None = None,
    workers: int | None = None,
) -> dict[str, Path]:
    """Write ``report.html`` and ``report.pdf`` for ``results`` into ``out_dir``.

    Parameters
    ----------
    results
        The results document (docs/architecture.md); the report reads nothing else.
    out_dir
        Folder to write into (created if needed). Each file is written to a temporary
        file first and renamed, so an existing report is never left half-written.
    results_path
        The results.json file these results were read from or written to; its exact
        bytes are embedded in the PDF. None embeds the canonical JSON of ``results``.
    spec_text
        The resolved spec as text, embedded in the PDF and printed in the appendix.
        None serialises ``results['spec']`` as YAML.
    timings
        When given, the seconds of each stage are added into it (``RENDER_STAGES``:
        recording which charts each medium shows and starting the child that draws
        them, filling the PDF's template, its layout (which waits for any chart not yet
        built, only its size, or draws it), writing the PDF (which waits for any chart
        not yet drawn), the rest of report.html's charts and its template, writing the
        files).
    workers
        Processes that draw the charts (:class:`~auditor.report.chart_pool.ChartStream`):
        1, this one only; 2 or more, a forked child beside this one's layout too. None:
        two where two cores are free to this process.

    Returns
    -------
    dict
        ``{"html": Path, "pdf": Path}``.
    """
    out_dir = Path(out_dir)
    results_bytes = _results_bytes(results, results_path)
    spec_text = spec_text if spec_text is not None else spec_document(results)
    spec_bytes = spec_text.encode("utf-8")
    with _collections_spared():
        return _render(
            results, out_dir, results_bytes, spec_text, spec_bytes, _Stages(timings), workers
        )


@contextlib.contextmanager
def _collections_spared():
    """No garbage collection during the render, and the objects that exist before it
    (the run's data, model, imports) frozen out of the collections that follow.

    The layout makes millions of short-lived objects: in a run's process (a million
    objects) the collections they set off took a fifth of the layout, freezing the
    older objects a quarter of that; the render's own garbage is a few tens of MB,
    collected once it is over. Frozen objects also stay out of the pages the forked
    chart-drawing child copies when its collector runs (:mod:`.chart_pool`).
    """
    import gc

    enabled = gc.isenabled()
    freeze = not gc.get_freeze_count()  # someone else froze: leave their freeze alone
    if freeze:
        gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        if freeze:
            gc.unfreeze()


def _render(results, out_dir, results_bytes, spec_text, spec_bytes, stage, workers):
    listed = _listed_attachments(results_bytes, spec_bytes)
    attachments = [
        (RESULTS_ATTACHMENT, results_bytes, f"SHA-256 {listed[0]['sha256']}"),
        (SPEC_ATTACHMENT, spec_bytes, f"SHA-256 {listed[1]['sha256']}"),
    ]
    page = {"results": results, "spec_text": spec_text, "attachments": listed}
    drawn: dict = {}
    with stage("charts"):  # which charts, the PDF's first; a child starts drawing them
        requests = chart_requests(results, spec_text=spec_text, attachments=listed)
        stream = ChartStream(requests, drawn, workers=workers)
    with stream:
        images: dict = {}
        with stage("template"):
            printed = render_html(**page, medium="pdf", images=images, stream=stream)
        with stage("layout"):  # asks for each chart's size as it builds the page
            document, fetcher = layout_pdf(printed, images=images)
        if not stream.missed:
            with stage("pdf"):  # asks for each chart's drawing as it paints the page
                pdf = write_pdf(document, fetcher, attachments=attachments)
        if stream.missed:  # a chart turned out a note: the page again, with what was drawn
            stream.finish()
            with stage("template"):
                images = {}
                printed = render_html(**page, medium="pdf", drawn=drawn, images=images)
            with stage("layout"):
                document, fetcher = layout_pdf(printed, images=images)
            with stage("pdf"):
                pdf = write_pdf(document, fetcher, attachments=attachments)
        with stage("html"):  # report.html: every chart, most drawn beside the layout
            html = render_html(**page, drawn=stream.finish()).encode("utf-8")
    with stage("write"):
        return {
            "html": write_bytes(out_dir / "report.html", html),
            "pdf": write_bytes(out_dir / "report.pdf", pdf),
        }


def chart_requests(
    results: dict[str, Any], *, spec_text: str, attachments: list[dict[str, str]]
) -> dict[tuple, tuple[dict, dict]]:
    """Every chart report.pdf and report.html show, recorded without drawing any, in the
    order they are needed: the PDF's in its page order, then the ones only report.html
    shows (``{chart key: (chart, drawing options)}``)."""
    from auditor.report.chart_pool import recorder
    from auditor.report.context import build_context

    ordered: dict[tuple, tuple[dict, dict]] = {}
    for medium in ("pdf", "html"):  # recorder keeps the first place a chart is asked for
        build_context(
            results,
            draw_chart=recorder(ordered),
            spec_text=spec_text,
            attachments=attachments,
            medium=medium,
        )
    return ordered


def draw_charts(
    results: dict[str, Any],
    *,
    spec_text: str,
    attachments: list[dict[str, str]],
    drawn: dict,
    workers: int | None = None,
) -> None:
    """Draw into ``drawn`` every chart report.html and report.pdf show
    (:class:`~auditor.report.chart_pool.ChartStream`)."""
    requests = chart_requests(results, spec_text=spec_text, attachments=attachments)
    with ChartStream(requests, drawn, workers=workers) as stream:
        stream.finish()


def _results_bytes(results: dict[str, Any], results_path: Path | None) -> bytes:
    """The exact bytes of ``results_path``, or the canonical JSON of ``results`` without one."""
    if results_path is None:
        return canonical_results(results)
    try:
        return Path(results_path).read_bytes()
    except OSError as exc:
        raise DataError(
            UNREADABLE_RESULTS.format(error=exc.strerror or exc),
            Location(file=str(results_path)),
        ) from exc


def _listed_attachments(results_bytes: bytes, spec_bytes: bytes) -> list[dict[str, str]]:
    """The two attachments as the appendix lists them: key, name, SHA-256, description."""
    return [
        {
            "key": "results",
            "name": RESULTS_ATTACHMENT,
            "sha256": sha256_bytes(results_bytes),
            "description": "The audit's full results, from which this report was rendered.",
        },
        {
            "key": "spec",
            "name": SPEC_ATTACHMENT,
            "sha256": sha256_bytes(spec_bytes),
            "description": "The resolved spec: every setting the audit used (report.html "
            "prints it).",
        },
    ]
