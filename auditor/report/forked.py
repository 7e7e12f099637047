"""One piece of a render done in a forked process while this process does another.

A report is two documents: report.pdf, whose layout is the longest single step of a
render, and report.html, which shows every chart (three times as many as the PDF) and
needs no layout. So ``render_report`` hands report.html to a forked child as soon as the
PDF's charts are drawn: the child draws the charts only the page shows and fills the
template while this process lays out and writes the PDF; the two cores work at once.

The child inherits everything it needs through the fork (results, the charts already
drawn) and sends back only bytes. Where fork is unavailable (macOS and Windows start
processes by spawning), where one process was asked for, or when the child fails, the
work is done here, in this process, when its result is asked for: a failure then raises
here, as it would have without a child.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable


def can_fork() -> bool:
    """Whether this platform can fork a child that inherits this process's memory."""
    return "fork" in multiprocessing.get_all_start_methods()


def _child(work: Callable[[], bytes], conn) -> None:
    import gc

    gc.enable()  # the parent may have paused collection for its layout; this work draws
    try:
        conn.send_bytes(work())
    except BaseException:  # noqa: BLE001 - the parent does the work again and raises
        os._exit(1)
    finally:
        conn.close()


class Beside:
    """``work()`` computed in a forked child (``fork=True`` and fork available), else
    in this process when :meth:`result` is called."""

    def __init__(self, work: Callable[[], bytes], *, fork: bool = True) -> None:
        self._work = work
        self._process = None
        self._conn = None
        if fork and can_fork():
            context = multiprocessing.get_context("fork")
            receive, send = context.Pipe(duplex=False)
            process = context.Process(target=_child, args=(work, send), daemon=True)
            process.start()
            send.close()
            self._process, self._conn = process, receive

    def __enter__(self) -> Beside:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop a child whose result was never asked for (this process failed first)."""
        if self._process is not None and self._process.is_alive():
            self._process.terminate()
            self._process.join()
        if self._conn is not None:
            self._conn.close()

    @property
    def forked(self) -> bool:
        """Whether a child is doing the work."""
        return self._process is not None

    def result(self) -> bytes:
        """The work's bytes: the child's, or computed here if there is no child or it
        failed."""
        if self._process is None:
            return self._work()
        data = None
        try:
            data = self._conn.recv_bytes()
        except (EOFError, OSError):
            data = None
        finally:
            self._conn.close()
            self._process.join()
        if data is None or self._process.exitcode != 0:
            return self._work()
        return data
