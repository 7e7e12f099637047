"""Report size and speed: a report with >= 20 charts renders in < 5 s (the report stage's
target: < 2.5 s on 2 cores); the PDF stays < 2 MB; each render's stages are printed.

Usage: ``.venv/bin/python benchmarks/report.py [--charts N] [--rows N] [--results FILE...]``

Builds a realistic binary-task results document (tests/report/fixtures.py) with N charts,
renders report.html and report.pdf into a temporary folder and prints the render time
(wall and CPU, imports excluded and reported separately), the PDF size and page count, and
whether the targets are met. A second run describes a dataset of ``--rows`` rows: row
counts grow, and every per-row chart series (ROC, PR, residuals) carries the most points
the chart contract allows (types.CHART_KINDS: checks summarise, the report thins again),
to show that the PDF size does not grow with the data. ``--results`` also re-renders the
results.json of real runs (e.g. ``auditor run specs/loan-approval.yaml --out /tmp/loan``,
then ``--results /tmp/loan/results.json``) and prints their render time, size and pages.
Exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 5.0
TARGET_BYTES = 2_000_000


CURVE_POINTS = 2_000  # the most points a per-row chart series carries (types.CHART_KINDS)


def _inflate(results: dict, rows: int) -> None:
    """Describe a dataset of ``rows`` rows, with every curve at the contract's maximum."""
    import numpy as np

    rng = np.random.default_rng(0)
    sizes = results["data"]["split"]["sizes"]
    for split in sizes:
        sizes[split] = rows // 5
    for source in results["data"]["sources"]:
        source["rows"] = rows
    points = CURVE_POINTS
    for f in results["findings"]:
        if f.get("n"):
            f["n"] = rows // 5
        chart = f.get("chart") or {}
        if chart.get("kind") == "roc":
            x = np.sort(rng.random(points))
            chart.update(fpr=x.tolist(), tpr=np.sqrt(x).tolist())
        elif chart.get("kind") == "pr":
            x = np.sort(rng.random(points))
            chart.update(recall=x.tolist(), precision=(1 - 0.5 * x).tolist())
        elif chart.get("kind") == "residuals":
            chart.update(
                predicted=rng.random(points).tolist(), residual=rng.normal(size=points).tolist()
            )


#: The report stage's target on 2 cores (the report issue), beside the older 5 s bound.
TARGET_STAGE_SECONDS = 2.5


def _breakdown(timings: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f} s" for k, v in timings.items())


def _measure(results: dict, results_path: Path | None = None) -> tuple[float, float, int, int, int]:
    """Render ``results``: (wall s, CPU s, PDF bytes, pages, charts drawn); prints the
    seconds of each stage (charts, template, layout, PDF write, file write)."""
    from pypdf import PdfReader

    from auditor.report import render_report

    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        wall, cpu = time.perf_counter(), time.process_time()
        out = render_report(results, Path(tmp), results_path=results_path, timings=timings)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        size = out["pdf"].stat().st_size
        pages = len(PdfReader(str(out["pdf"])).pages)
        n_charts = out["html"].read_text(encoding="utf-8").count('<svg class="chart-svg"')
    _LAST.clear()
    _LAST.update(timings)
    return wall, cpu, size, pages, n_charts


_LAST: dict[str, float] = {}  # the stages of the last render measured


def _print_breakdown(wall: float) -> bool:
    """Print the last render's stages against the report stage's target; whether met."""
    met = wall < TARGET_STAGE_SECONDS
    print(
        f"  stages: {_breakdown(_LAST)} -> {'met' if met else 'MISSED'} the report stage's "
        f"{TARGET_STAGE_SECONDS:g} s target (2 cores)"
    )
    return met


def run(charts: int, rows: int | None) -> tuple[float, float, int, int, int]:
    from tests.report.fixtures import make_results

    results = make_results("binary", n_charts=charts)
    if rows:
        _inflate(results, rows)
    return _measure(results)


def run_file(path: Path) -> tuple[float, float, int, int, int]:
    """Re-render a real run's results.json, as ``auditor report`` does."""
    import json

    return _measure(json.loads(path.read_text(encoding="utf-8")), results_path=path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--charts",
        type=int,
        default=36,
        help="findings with a chart in the fixture (the report draws >= 20)",
    )
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument(
        "--results",
        type=Path,
        nargs="*",
        default=[],
        help="results.json of real runs to re-render and time as well",
    )
    args = parser.parse_args(argv)

    start = time.perf_counter()
    import matplotlib.backends.backend_svg  # noqa: F401  (what a render draws with)
    import matplotlib.figure  # noqa: F401
    import weasyprint  # noqa: F401

    print(f"imports: {time.perf_counter() - start:.2f} s (once per process, not counted)")
    print(
        f"cpu cores available: {len(os.sched_getaffinity(0))}; load average "
        f"{os.getloadavg()[0]:.2f}"
    )
    ok = True
    for label, rows in (("fixture", None), (f"{args.rows:,}-row dataset", args.rows)):
        wall, cpu, size, pages, n = run(args.charts, rows)
        fast = wall < TARGET_SECONDS
        small = size < TARGET_BYTES
        ok &= small and fast and n >= 20
        print(
            f"{label}: {n} charts drawn, {pages} pages: render {wall:.2f} s wall "
            f"({cpu:.2f} s CPU) -> {'met' if fast else 'MISSED'} (< {TARGET_SECONDS:g} s); "
            f"PDF {size / 1e6:.2f} MB -> {'met' if small else 'MISSED'} (< 2 MB)"
        )
        ok &= _print_breakdown(wall)
    for path in args.results:
        wall, cpu, size, pages, n = run_file(path)
        small = size < TARGET_BYTES
        ok &= small
        print(
            f"{path}: {n} charts drawn, {pages} pages: render {wall:.2f} s wall "
            f"({cpu:.2f} s CPU); PDF {size / 1e6:.2f} MB -> "
            f"{'met' if small else 'MISSED'} (< 2 MB)"
        )
        ok &= _print_breakdown(wall)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
