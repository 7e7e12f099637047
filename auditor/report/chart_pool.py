"""Every chart a report shows, drawn once, by a forked child beside the PDF's layout.

Drawing (matplotlib, a few hundredths of a second a chart) and the PDF's layout
(WeasyPrint, most of a render) are the two costs of a report, and they need not wait for
each other:

1. *record*: the report's context is built for each medium with a drawing function that
   only records which charts (and at which width) it is asked for, and answers with a
   stand-in; which charts a report shows depends on the findings, never on a drawing
   (``render.chart_requests``);
2. *draw beside*: a :class:`ChartStream` forks one child that builds the recorded
   charts' figures, the PDF's first in the order its page shows them, sending each one's
   size as soon as it is built, then draws them in the same order and sends each drawing;
   meanwhile this process fills the PDF's template with stand-ins (each chart an image
   by URL, :meth:`ChartStream.as_images`) and lays it out;
3. WeasyPrint asks for each chart's image as it builds the page, and needs only its
   size to lay it out: the answer is an SVG of the chart's size holding one image, the
   drawing, which WeasyPrint asks for only when it paints the page, a second later, by
   when the child has drawn it. Building a chart is a third of its cost, so the layout
   does not wait for the drawing (where it did, half a second of a 27-chart report);
4. report.html, which shows three times as many charts and needs no layout, is filled
   once the stream has drawn them all.

A chart that cannot be drawn becomes a note, as it does when drawn one by one (the page
is then filled, laid out and painted again with the drawn charts). Where fork is
unavailable (macOS and Windows spawn their processes), with one worker, or when the child
dies, this process draws what is left, each chart as it is first asked for.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import sys
from collections.abc import Callable
from typing import Any, NamedTuple


def chart_key(chart: dict[str, Any], kwargs: dict[str, Any]) -> tuple:
    """The cache key of a chart drawn with ``kwargs`` (as ``cached_charts`` keys it)."""
    return (json.dumps(chart, sort_keys=True, default=str), tuple(sorted(kwargs.items())))


def recorder(requests: dict[tuple, tuple[dict, dict]]) -> Callable[..., Any]:
    """A drawing function that records each chart asked for and returns a stand-in."""
    from auditor.report.charts import ChartSVG, chart_labels

    def record(chart, **kwargs):
        if not chart:
            return None
        requests.setdefault(chart_key(chart, kwargs), (chart, kwargs))
        kind, title = chart_labels(chart)
        return ChartSVG(kind=kind, title=title, svg="<svg></svg>", **kwargs)

    return record


def default_workers() -> int:
    """The processes to draw with: two (this one and a child) where two cores are free to
    this process, else one."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return 2 if cores >= 2 else 1


def _draw(item: tuple[dict, dict]):
    from auditor.report.charts import render_chart

    chart, kwargs = item
    return render_chart(chart, **kwargs)


def _import_drawing() -> None:
    """matplotlib's figure and SVG backend, about 0.4 s to import in a new process.

    Where this process has WeasyPrint still to import (a run's report stage), the child
    imports them while this one imports WeasyPrint; otherwise they are imported here,
    before the fork, so that this render's child and every later one have them at once.
    This process draws nothing itself unless the child fails.
    """
    import matplotlib.backends.backend_svg  # noqa: F401
    import matplotlib.figure  # noqa: F401


#: What the PDF's page shows for a chart that turned out a note: the page is then redone.
EMPTY_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"></svg>'


class Size(NamedTuple):
    """A built chart's size in points (its SVG's ``viewBox``), sent before its drawing."""

    width: float
    height: float


def _build(item: tuple[dict, dict]):
    from auditor.report.charts import build_chart

    chart, kwargs = item
    return build_chart(chart, **kwargs)


def _finish(item: tuple[dict, dict], figure):
    from auditor.report.charts import chart_svg

    chart, kwargs = item
    return chart_svg(chart, figure, **kwargs)


def _stream(items, conn) -> None:
    """The child: build each chart, in order, and send its size at once (all the page's
    layout needs of it); then draw them in the same order and send each (the PDF's
    painting and report.html need the drawings)."""
    import gc

    from auditor.report.charts import figure_size, is_figure

    gc.enable()  # the parent pauses collection for its layout; drawing makes cycles
    try:
        _import_drawing()  # nothing to do where the parent imported it before the fork
        built = []
        for index, (_, item) in enumerate(items):
            figure = _build(item)
            if is_figure(figure):
                conn.send((index, Size(*figure_size(figure))))
                built.append((index, item, figure))
            else:  # a note (or no chart): final already
                conn.send((index, figure))
        for index, item, figure in built:
            conn.send((index, _finish(item, figure)))
    finally:
        conn.close()
        os._exit(0)  # nothing of the parent's (atexit, buffers) runs twice


_VIEWBOX = re.compile(r'viewBox="0 0 ([0-9.]+) ([0-9.]+)"')


def _size_of(drawn) -> Size | None:
    """A drawn chart's size, from its SVG; None for a note."""
    found = _VIEWBOX.search(drawn.svg) if drawn is not None and drawn.svg else None
    return Size(float(found[1]), float(found[2])) if found else None


def stand_in(size: Size, url: str) -> bytes:
    """The SVG the PDF's page lays out for a chart of ``size`` not drawn yet: its size and
    one image, the drawing at ``url``, which WeasyPrint fetches only when it paints the
    page (``weasyprint/svg/images.py``), by when the child has drawn it."""
    width, height = f"{size.width:g}", f"{size.height:g}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}">'
        f'<image width="{width}" height="{height}" href="{url}"/></svg>'
    ).encode()


class ChartStream:
    """``requests`` (chart key -> (chart, drawing options), in the order they are needed)
    drawn into ``cache`` by a forked child, one after another: each chart's size first
    (into ``sizes``), then its drawing. This process draws a chart only where the child
    will not send it (no child, or it died).

    A thread here receives what the child sends as it comes, so the child never waits for
    this process to ask (a pipe holds one or two charts' SVG).
    """

    def __init__(
        self, requests: dict[tuple, tuple[dict, dict]], cache: dict, *, workers: int | None = 1
    ) -> None:
        import threading

        self.cache = cache
        self._items = [(key, item) for key, item in requests.items() if key not in cache]
        self._index = {key: i for i, (key, _) in enumerate(self._items)}
        self._process = None
        self._ready = threading.Condition()
        self._done = True  # no child sends anything
        self.sizes: dict[tuple, Size] = {}  # charts the child has built, not yet sent drawn
        self.missed: set[tuple] = set()  # charts as_images answered with an empty drawing
        workers = default_workers() if workers is None else max(1, int(workers))
        fork = "fork" in multiprocessing.get_all_start_methods()
        if workers > 1 and fork and self._items:
            if "weasyprint" in sys.modules:  # nothing else to import here meanwhile
                _import_drawing()
            context = multiprocessing.get_context("fork")
            receive, send = context.Pipe(duplex=False)
            self._process = context.Process(target=_stream, args=(self._items, send), daemon=True)
            self._process.start()
            send.close()
            self._done = False
            self._reader = threading.Thread(target=self._receive, args=(receive,), daemon=True)
            self._reader.start()

    @property
    def forked(self) -> bool:
        """Whether a child draws beside this process."""
        return self._process is not None

    def get(self, key: tuple):
        """The drawn chart of ``key``: from the cache, from the child (waiting while it
        builds or draws it), or drawn here."""
        self._wait(key, lambda: key in self.cache)
        return self.cache[key]

    def size(self, key: tuple) -> Size | None:
        """The size of ``key``'s chart once built (None: it is a note), before it is drawn:
        from the child as soon as it has built it, or drawn here."""
        self._wait(key, lambda: key in self.sizes or key in self.cache)
        return self.sizes[key] if key in self.sizes else _size_of(self.cache[key])

    def _wait(self, key: tuple, known: Callable[[], bool]) -> None:
        """Wait until ``known()``: the child sent what is asked. Where the child will not
        send it (no child, or it died first), draw the chart here into the cache instead."""
        index = self._index.get(key)
        with self._ready:
            while not known():
                if self._done:
                    break  # the child will not send it: draw it here
                self._ready.wait()
            else:
                return
        drawn = _draw(self._items[index][1])
        with self._ready:
            self.cache.setdefault(key, drawn)

    def as_images(self, images: dict) -> Callable[..., Any]:
        """A drawing function for the PDF's page while the stream draws: each chart an
        ``<img>`` that WeasyPrint asks for when it builds the page; the answer is the
        chart's size only (:meth:`size`, :func:`stand_in`), its drawing (:meth:`get`) is
        asked for only when the page is painted. The layout thus never waits for a chart
        to be drawn, only built.

        It answers as if every chart will draw; one that turns out a note (or fails) is
        answered with an empty drawing and named in ``missed``, and the page must then be
        filled, laid out and painted again with the drawn charts."""
        from auditor.report.charts import ChartSVG, chart_labels, image_tag, image_url

        def missing(key):
            self.missed.add(key)
            return EMPTY_SVG

        def svg_of(key):
            try:
                drawn = self.get(key)
            except Exception:  # noqa: BLE001 - raised again when the page is filled again
                drawn = None
            return drawn.svg.encode("utf-8") if drawn is not None and drawn.svg else missing(key)

        def stand_in_of(key, url):
            try:
                size = self.size(key)
            except Exception:  # noqa: BLE001 - as svg_of
                size = None
            return stand_in(size, url) if size is not None else missing(key)

        def draw(chart, **kwargs):
            if not chart:
                return None
            key = chart_key(chart, kwargs)
            kind, title = chart_labels(chart)
            drawing = image_url(images, lambda: svg_of(key))
            tag = image_tag(images, lambda: stand_in_of(key, drawing), title)
            return ChartSVG(kind=kind, title=title, svg=tag, **kwargs)

        return draw

    def finish(self) -> dict:
        """Every chart in the cache; returns the cache."""
        for key, _ in self._items:
            self.get(key)
        self.close()
        return self.cache

    def _receive(self, conn) -> None:
        try:
            while True:
                try:
                    index, drawn = conn.recv()
                except (EOFError, OSError):
                    return
                with self._ready:
                    store = self.sizes if isinstance(drawn, Size) else self.cache
                    store[self._items[index][0]] = drawn
                    self._ready.notify_all()
        finally:
            conn.close()
            with self._ready:
                self._done = True  # finished or died: what it did not send is drawn here
                self._ready.notify_all()

    def close(self) -> None:
        """Stop the child (when this process is done with it, or failed first)."""
        if self._process is not None:
            if self._process.is_alive():
                self._process.terminate()
            self._process.join()
            self._reader.join()  # the child's end is closed: the thread has its EOF
            self._process = None

    def __enter__(self) -> ChartStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
