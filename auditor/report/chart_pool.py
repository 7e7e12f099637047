"""Every chart a report shows, drawn once, by a forked child beside the PDF's layout.

Drawing (matplotlib, a few hundredths of a second a chart) and the PDF's layout
(WeasyPrint, most of a render) are the two costs of a report, and they need not wait for
each other:

1. *record*: the report's context is built for each medium with a drawing function that
   only records which charts (and at which width) it is asked for, and answers with a
   stand-in; which charts a report shows depends on the findings, never on a drawing
   (``render.chart_requests``);
2. *draw beside*: a :class:`ChartStream` forks one child that draws the recorded charts,
   the PDF's first in the order its page shows them, and sends each back as soon as it
   is drawn; meanwhile this process fills the PDF's template with stand-ins (each chart
   an image by URL, :func:`~auditor.report.charts.charts_as_images`) and lays it out;
3. WeasyPrint asks for each chart's image as it builds the page: :meth:`ChartStream.get`
   answers with the child's drawing, waits for it if the child is drawing it, or draws
   it here if the child has not begun it (a shared claim per chart, so no chart is drawn
   twice): neither process idles while the other has work;
4. report.html, which shows three times as many charts and needs no layout, is filled
   once the stream has drawn them all.

A chart that cannot be drawn becomes a note, as it does when drawn one by one. Where fork
is unavailable (macOS and Windows spawn their processes), with one worker, or when the
child dies, this process draws what is left.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable
from typing import Any


def chart_key(chart: dict[str, Any], kwargs: dict[str, Any]) -> tuple:
    """The cache key of a chart drawn with ``kwargs`` (as ``cached_charts`` keys it)."""
    return (json.dumps(chart, sort_keys=True, default=str), tuple(sorted(kwargs.items())))


def recorder(requests: dict[tuple, tuple[dict, dict]]) -> Callable[..., Any]:
    """A drawing function that records each chart asked for and returns a stand-in."""
    from auditor.report.charts import ChartSVG

    def record(chart, **kwargs):
        if not chart:
            return None
        requests.setdefault(chart_key(chart, kwargs), (chart, kwargs))
        kind, title = str(chart.get("kind", "")), str(chart.get("title", ""))
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
    import matplotlib.backends.backend_svg  # noqa: F401
    import matplotlib.figure  # noqa: F401


#: What the PDF's page shows for a chart that turned out a note: the page is then redone.
EMPTY_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"></svg>'

#: A chart's claim: not begun, drawn by the child, drawn here.
_FREE, _CHILD, _HERE = 0, 1, 2


def _stream(items, claims, lock, conn) -> None:
    """The child: draw each chart not yet claimed, in order, and send it back."""
    import gc

    gc.enable()  # the parent pauses collection for its layout; drawing makes cycles
    try:
        for index, (_, item) in enumerate(items):
            with lock:
                if claims[index] != _FREE:
                    continue
                claims[index] = _CHILD
            conn.send((index, _draw(item)))
    finally:
        conn.close()
        os._exit(0)  # nothing of the parent's (atexit, buffers) runs twice


class ChartStream:
    """``requests`` (chart key -> (chart, drawing options), in the order they are needed)
    drawn into ``cache``: by a forked child, one after another, and here whenever this
    process needs a chart the child has not begun.

    A thread here receives the child's charts as they come, so the child never waits for
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
        self.missed: set[tuple] = set()  # charts as_images answered with an empty drawing
        workers = default_workers() if workers is None else max(1, int(workers))
        fork = "fork" in multiprocessing.get_all_start_methods()
        if workers > 1 and fork and self._items:
            _import_drawing()  # once, here: the child inherits it
            context = multiprocessing.get_context("fork")
            self._lock = context.Lock()
            self._claims = context.RawArray("b", len(self._items))
            receive, send = context.Pipe(duplex=False)
            self._process = context.Process(
                target=_stream, args=(self._items, self._claims, self._lock, send), daemon=True
            )
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
        draws it), or drawn here."""
        index = self._index.get(key)
        with self._ready:
            while key not in self.cache:
                if self._done or self._claim(index):
                    break  # the child will not send it: draw it here
                self._ready.wait()
            else:
                return self.cache[key]
        drawn = _draw(self._items[index][1])
        with self._ready:
            return self.cache.setdefault(key, drawn)

    def as_images(self, images: dict) -> Callable[..., Any]:
        """A drawing function for the PDF's page while the stream draws: each chart an
        ``<img>`` whose SVG WeasyPrint asks for (:meth:`get`) only when it lays it out.

        It answers as if every chart will draw; one that turns out a note (or fails) is
        answered with an empty drawing and named in ``missed``, and the page must then be
        filled and laid out again with the drawn charts."""
        from auditor.report.charts import ChartSVG, image_tag

        def svg_of(key):
            try:
                drawn = self.get(key)
            except Exception:  # noqa: BLE001 - raised again when the page is filled again
                drawn = None
            if drawn is None or not drawn.svg:
                self.missed.add(key)
                return EMPTY_SVG
            return drawn.svg.encode("utf-8")

        def draw(chart, **kwargs):
            if not chart:
                return None
            key = chart_key(chart, kwargs)
            kind, title = str(chart.get("kind", "")), str(chart.get("title", ""))
            tag = image_tag(images, lambda: svg_of(key), title)
            return ChartSVG(kind=kind, title=title, svg=tag, **kwargs)

        return draw

    def finish(self) -> dict:
        """Every chart in the cache; returns the cache."""
        for key, _ in self._items:
            self.get(key)
        self.close()
        return self.cache

    def _claim(self, index: int) -> bool:
        with self._lock:
            if self._claims[index] == _FREE:
                self._claims[index] = _HERE
                return True
            return False

    def _receive(self, conn) -> None:
        try:
            while True:
                try:
                    index, drawn = conn.recv()
                except (EOFError, OSError):
                    return
                with self._ready:
                    self.cache[self._items[index][0]] = drawn
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
