"""Every chart a report shows, drawn once, in parallel where it helps.

Drawing is the costliest part of a report after the PDF layout (matplotlib, a few tenths
of a second a chart), and charts are independent, so a report draws the PDF's charts
before it lays anything out:

1. *record*: the report's context is built for each medium with a drawing function that
   only records which charts (and at which width) it is asked for, and answers with a
   stand-in; which charts a report shows depends on the findings, never on a drawing
   (``render.chart_requests``);
2. *draw*: the PDF's charts are drawn into the cache the two renders share
   (:func:`~auditor.report.charts.cached_charts`), by ``workers`` processes when there are
   enough charts for that to pay (forked, so nothing is imported again), else here;
3. the PDF's render finds every chart in the cache; report.html, which shows about three
   times as many, draws the rest in a child forked beside the PDF's layout
   (:mod:`auditor.report.forked`).

A chart that cannot be drawn becomes a note, as it does when drawn one by one.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable
from typing import Any

#: Fewer charts than this are drawn in this process: forking would cost more than it saves.
PARALLEL_FROM = 6


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
    """The processes to draw with: the cores this process may use, at most 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


def _draw(item: tuple[dict, dict]):
    from auditor.report.charts import render_chart

    chart, kwargs = item
    return render_chart(chart, **kwargs)


def _import_drawing() -> None:
    import matplotlib.backends.backend_svg  # noqa: F401
    import matplotlib.figure  # noqa: F401


def draw_all(
    requests: dict[tuple, tuple[dict, dict]], cache: dict, *, workers: int | None = None
) -> int:
    """Draw every recorded chart not yet in ``cache`` into it; returns the processes used."""
    todo = [(key, item) for key, item in requests.items() if key not in cache]
    workers = default_workers() if workers is None else max(1, int(workers))
    fork = "fork" in multiprocessing.get_all_start_methods()
    if workers == 1 or len(todo) < PARALLEL_FROM or not fork:
        for key, item in todo:
            cache[key] = _draw(item)
        return 1
    from concurrent.futures import ProcessPoolExecutor

    _import_drawing()  # once, here: the forked workers (and later forks) inherit it

    # costliest first (most data), so that no worker is left with a long one at the end
    todo.sort(key=lambda kv: -len(kv[0][0]))
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=context) as pool:
        for (key, _), drawn in zip(todo, pool.map(_draw, [item for _, item in todo]), strict=True):
            cache[key] = drawn
    return min(workers, len(todo))
