"""A throwaway PostgreSQL server for the shared-study tests: initdb in a temporary folder,
listening on 127.0.0.1 on a free port, stopped and removed afterwards.

The server's programs are found on PATH (``initdb``, ``pg_ctl``) or in Debian's
``/usr/lib/postgresql/<version>/bin``; ``.ci/run`` installs Debian's ``postgresql`` package
when they are absent. PostgreSQL refuses to run as root, so as root the server runs as the
``postgres`` user the package creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.local_processes import free_port

USER = "auditor"
MSG_ABSENT = (
    "PostgreSQL's initdb and pg_ctl are not installed (apt-get install postgresql; .ci/run "
    "installs it)"
)


def server_programs() -> tuple[str, str] | None:
    """(initdb, pg_ctl), or None when PostgreSQL is not installed."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return initdb, pg_ctl
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        initdb, pg_ctl = Path(folder, "initdb"), Path(folder, "pg_ctl")
        if initdb.is_file() and pg_ctl.is_file():
            return str(initdb), str(pg_ctl)
    return None


def missing() -> str | None:
    """Why no server can be started here (None: one can)."""
    if server_programs() is None:
        return MSG_ABSENT
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and there is no 'postgres' user to run the server as"
    return None


@contextmanager
def postgres_server() -> Iterator[str]:
    """A running server; yields its URL (``postgresql://auditor@127.0.0.1:PORT/postgres``)."""
    programs = server_programs()
    assert programs is not None, MSG_ABSENT
    initdb, pg_ctl = programs
    folder = Path(tempfile.mkdtemp(prefix="auditor-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb and postgres refuse root
        account = pwd.getpwnam("postgres")
        os.chown(folder, account.pw_uid, account.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, log = folder / "data", folder / "server.log"
    port = free_port()
    options = f"-p {port} -h 127.0.0.1 -k {folder} -c fsync=off -c synchronous_commit=off"

    def run(*command: str) -> None:
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=60)

    try:
        run(
            initdb,
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            USER,
            "--no-sync",
            "--no-locale",
            "-E",
            "UTF8",
        )
        run(pg_ctl, "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "30", "start")
        try:
            yield f"postgresql://{USER}@127.0.0.1:{port}/postgres"
        finally:
            run(pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
