"""Progress on a terminal, silence elsewhere, and wall time per stage.

Progress is drawn on stderr only when stderr is a terminal and ``quiet`` is false, so CI
logs and pipes stay clean. Stage timings are always recorded (they go into results.json).
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from typing import Any, TextIO

ERASE_LINE = "\x1b[K"  # clear from the cursor to the end of the line


def _columns(stream: TextIO | None) -> int:
    """The terminal's width (80 when it cannot be told)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, OSError, ValueError):
        return 80


def _erase(stream: TextIO | None) -> None:
    """Wipe the line a bar or status message was drawn on."""
    if stream is not None:
        stream.write("\r" + ERASE_LINE)
        stream.flush()


def _line(stream: TextIO, text: str) -> str:
    """``text`` redrawn over the current line, never wider than the terminal (no wrap)."""
    return "\r" + text[: max(_columns(stream) - 1, 10)] + ERASE_LINE


class Bar:
    """A single-line progress bar: ``train  12/50 [=====     ] loss=0.41 val_f1=0.78``."""

    def __init__(self, total: int, desc: str, stream: TextIO | None, width: int = 24):
        self.total = max(int(total), 1)
        self.desc = desc
        self.stream = stream
        self.width = width
        self.n = 0
        self.postfix = ""
        self._last_draw = 0.0

    def update(self, n: int = 1, **postfix: Any) -> None:
        self.n = min(self.n + n, self.total)
        if postfix:
            self.postfix = " ".join(f"{k}={_fmt(v)}" for k, v in postfix.items())
        now = time.monotonic()
        if self.stream is not None and (now - self._last_draw > 0.1 or self.n == self.total):
            self._last_draw = now
            done = int(self.width * self.n / self.total)
            line = (
                f"{self.desc:<10} {self.n:>{len(str(self.total))}}/{self.total} "
                f"[{'=' * done}{' ' * (self.width - done)}] {self.postfix}"
            )
            self.stream.write(_line(self.stream, line))
            self.stream.flush()

    def close(self) -> None:
        _erase(self.stream)

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


class Progress:
    """Factory for bars and one-line status messages; a no-op when quiet or not a TTY."""

    def __init__(self, quiet: bool = False, stream: TextIO | None = None):
        stream = stream if stream is not None else sys.stderr
        interactive = hasattr(stream, "isatty") and stream.isatty() and not os.environ.get("CI")
        self.stream: TextIO | None = None if (quiet or not interactive) else stream

    def bar(self, total: int, desc: str) -> Bar:
        return Bar(total, desc, self.stream)

    def status(self, message: str) -> None:
        if self.stream is not None:
            self.stream.write(_line(self.stream, message))
            self.stream.flush()

    def clear(self) -> None:
        _erase(self.stream)


class StageTimer:
    """``with timer("train"): ...`` records wall seconds per stage, in order."""

    def __init__(self, progress: Progress | None = None):
        self.progress = progress or Progress(quiet=True)
        self.timings: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str):
        self.progress.status(f"{stage} ...")
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = round(time.perf_counter() - start, 4)
            self.progress.clear()
