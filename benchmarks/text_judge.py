"""Judge throughput against a local chat-completions server (issue 12's benchmark).

Rows of the bundled 'support' example judged on groundedness, 3 repeats each, by the
test suite's fake OpenAI-compatible server (tests/text/chat_server.py, on 127.0.0.1 with a
fixed latency per request standing in for a model's) at 1 and 4 concurrent requests.
The figure is rows per second of :func:`auditor.text.judging.judge_rows` (prompts built,
sent, parsed); with latency L and c requests in flight it tends to c / (3 L). No target is
set by the issue; the figures go in the note.

Run: ``.venv/bin/python benchmarks/text_judge.py [--rows N] [--latency S]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def judge_rows_per_second(
    rows: int = 200,
    *,
    latency_s: float = 0.01,
    concurrency: tuple[int, ...] = (1, 4),
    quiet: bool = False,
) -> dict[int, float]:
    """Rows per second at each concurrency; prints the figures (unless ``quiet``)."""
    from auditor.text.endpoint import ChatClient
    from auditor.text.example import support
    from auditor.text.judging import judge_rows
    from tests.text.chat_server import ChatServer, ServerKnobs

    df = support(np.random.default_rng(0), rows)
    data = {r: df[r].tolist() for r in ("question", "context", "response")}
    server = ChatServer(ServerKnobs(latency_s=latency_s)).start()
    out = {}
    try:
        for c in concurrency:
            with ChatClient(server.url, "bench-judge", concurrency=c) as client:
                start = time.perf_counter()
                judged = judge_rows(client, data, ["groundedness"], repeats=3)
                seconds = time.perf_counter() - start
            assert judged["groundedness"].judged == rows
            out[c] = rows / seconds
            if quiet:
                continue
            print(
                f"judge, {c} concurrent request(s), {latency_s * 1000:.0f} ms per reply: "
                f"{out[c]:.1f} rows/s ({3 * rows} requests in {seconds:.2f} s)"
            )
    finally:
        server.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.01, help="seconds per reply")
    args = parser.parse_args()
    judge_rows_per_second(args.rows, latency_s=args.latency)


if __name__ == "__main__":
    main()
