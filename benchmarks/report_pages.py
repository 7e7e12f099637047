"""Page counts of every bundled spec's report, against the report issue's targets: the loan
example in at most 12 pages, every bundled spec in at most 16.

Usage: ``.venv/bin/python benchmarks/report_pages.py [--specs GLOB] [--out DIR] [--png]``

Runs ``auditor run SPEC --quiet`` for each spec matched (default: ``specs/*.yaml``), one at
a time, each in its own folder under ``--out`` (default: a temporary folder, removed after),
and prints per spec its exit code and verdict, seconds, pages and PDF size. A spec that ends
without a report is listed with its exit code and last line: the CUDA example stops with
exit code 2 on a machine without a GPU, by design, and a spec that needs an extra that is
not installed says which. The LLM-judge example is judged by the test suite's scripted
judge (tests/text/chat_server.py) on 127.0.0.1, through ``JUDGE_URL`` and a throwaway
``JUDGE_API_KEY``, as its tests do. ``--png`` also writes each report's pages as 60 dpi PNG files
beside it (needs poppler-utils' ``pdftoppm``) for a person to look at; use it with ``--out``.
The whole set takes about 15 minutes on 2 cores. Exits 1 if a report misses its target.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auditor.errors import ExitCode  # noqa: E402

MOST_PAGES = 16
MOST_PAGES_BY_SPEC = {"loan-approval": 12}
VERDICTS = {
    code.value: code.name.replace("_", " ")
    for code in (ExitCode.READY, ExitCode.NOT_READY, ExitCode.CONDITIONAL)
}


@contextlib.contextmanager
def local_judge():
    """The environment of the runs: the test suite's scripted LLM judge on 127.0.0.1 (the
    judged example's endpoint), or no judge where the text extra is not installed."""
    try:
        from tests.text.chat_server import ChatServer
    except ImportError:  # the text extra (httpx) is absent: the judged spec says so
        yield dict(os.environ)
        return
    server = ChatServer().start()
    try:
        yield {**os.environ, "JUDGE_URL": server.url, "JUDGE_API_KEY": "sk-local-benchmark"}
    finally:
        server.stop()


def run_spec(spec: Path, out: Path, *, png: bool, env: dict[str, str]) -> dict:
    """One spec's run: exit code, seconds, pages, bytes (pages None: no report)."""
    auditor = Path(sys.executable).with_name("auditor")
    started = time.perf_counter()
    proc = subprocess.run(
        [str(auditor), "run", str(spec), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    seconds = time.perf_counter() - started
    pdf = out / "report.pdf"
    got = {"code": proc.returncode, "seconds": seconds, "pages": None, "bytes": 0}
    if proc.returncode not in VERDICTS or not pdf.is_file():
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        got["why"] = lines[-1] if lines else ""
        return got
    from pypdf import PdfReader

    got["pages"], got["bytes"] = len(PdfReader(pdf).pages), pdf.stat().st_size
    if png and shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(out / "page")], check=True)
    return got


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--specs", default=str(ROOT / "specs" / "*.yaml"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--png", action="store_true")
    args = parser.parse_args(argv)
    specs = sorted(Path(p) for p in glob.glob(args.specs))
    if not specs:
        print(f"no spec matches {args.specs}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp, local_judge() as env:
        out = args.out or Path(tmp)
        missed = 0
        print(f"{'spec':<34} {'exit':>4} {'verdict':<12} {'s':>6} {'pages':>5} {'KB':>6}  target")
        for spec in specs:
            got = run_spec(spec, out / spec.stem, png=args.png, env=env)
            most = MOST_PAGES_BY_SPEC.get(spec.stem, MOST_PAGES)
            head = f"{spec.stem:<34} {got['code']:>4} "
            if got["pages"] is None:
                print(f"{head}{'no report':<12} {got['seconds']:6.1f}  {got['why'][:90]}")
                continue
            met = got["pages"] <= most
            missed += not met
            print(
                f"{head}{VERDICTS[got['code']]:<12} {got['seconds']:6.1f} {got['pages']:>5} "
                f"{got['bytes'] / 1000:6.0f}  <= {most} {'met' if met else 'MISSED'}"
            )
    print(f"{missed} report(s) over their page target")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
