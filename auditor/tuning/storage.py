"""Where a study's trials live when several processes share them (``auditor tune --storage``).

    a file path (``runs/loan.journal``)   Optuna's JournalStorage on a JournalFileBackend:
                                          processes on one machine (the default of
                                          ``--workers N``: ``tuning.journal`` in the run folder)
    postgresql://user:pass@host/db        Optuna's RDBStorage through SQLAlchemy and psycopg:
    postgresql+psycopg://...              workers on several machines
    sqlite:///...                         refused: SQLite is not safe for parallel writers
                                          (optuna#4002)

The PostgreSQL drivers are in the ``tune`` extra (SQLAlchemy, psycopg); ``postgresql://``
without a driver name means psycopg (version 3), the driver the extra installs. Every
refusal is one line that names ``--storage`` and shows the URL with its password hidden.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from auditor.errors import UsageError, one_line

#: The journal file ``auditor tune --workers N`` keeps in the run folder without --storage.
JOURNAL_FILE = "tuning.journal"
#: Seconds between a PostgreSQL worker's heartbeats, and the silence after which another
#: worker fails its running trial (a machine that went away).
HEARTBEAT_SECONDS = 20
GRACE_SECONDS = 120

POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2")
DEFAULT_DRIVER = "postgresql+psycopg"

MSG_SQLITE = (
    "--storage {url}: SQLite is not safe for parallel writers (optuna#4002); use a journal "
    "file on one machine or a postgresql:// URL for several"
)
MSG_SCHEME = (
    "--storage {url}: unsupported storage '{scheme}'; give a journal file path (one machine) "
    "or a postgresql:// URL (several machines)"
)
MSG_NO_FOLDER = "--storage {url}: the folder {folder} does not exist"
MSG_IS_FOLDER = "--storage {url}: a folder, not a journal file (for example {url}/study.journal)"
MSG_NEEDS_DRIVER = (
    "--storage {url}: PostgreSQL storage needs SQLAlchemy and psycopg, which are not "
    "installed: pip install 'auditor[tune]'"
)
MSG_UNREACHABLE = "--storage {url}: cannot open the study storage: {reason}"

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^:/@]*:)([^@]*)@")


@dataclass(frozen=True)
class Storage:
    """A parsed ``--storage``: a journal file or a PostgreSQL URL."""

    kind: str  # "journal" or "postgresql"
    target: str  # the journal file's absolute path, or the URL with its driver
    shown: str  # as messages show it (the password hidden)

    @property
    def machines(self) -> str:
        """Who can share it, in words."""
        return "this machine" if self.kind == "journal" else "any machine that reaches it"


def hide_password(text: str) -> str:
    """A URL with its password replaced by ``***``."""
    return _PASSWORD.sub(r"\1***@", text)


def parse_storage(text: str) -> Storage:
    """``--storage``'s text as a :class:`Storage`, or the one-line refusal (exit code 2)."""
    shown = hide_password(text)
    if text.lower().startswith("sqlite:"):
        raise UsageError(MSG_SQLITE.format(url=shown))
    match = _SCHEME.match(text)
    if match is None:
        return journal_file(Path(text), shown=text)
    scheme = match.group(1).lower()
    if scheme not in POSTGRES_SCHEMES:
        raise UsageError(MSG_SCHEME.format(url=shown, scheme=scheme))
    if scheme in ("postgresql", "postgres"):  # psycopg 3, the driver the tune extra installs
        text = DEFAULT_DRIVER + text[match.end(1) :]
    return Storage(kind="postgresql", target=text, shown=shown)


def journal_file(path: Path, *, shown: str | None = None) -> Storage:
    """A journal file as a storage (its folder must exist)."""
    shown = str(path) if shown is None else shown
    path = path.expanduser()
    if path.is_dir():
        raise UsageError(MSG_IS_FOLDER.format(url=shown.rstrip("/")))
    if not path.resolve().parent.is_dir():
        raise UsageError(MSG_NO_FOLDER.format(url=shown, folder=path.parent))
    return Storage(kind="journal", target=str(path.resolve()), shown=shown)


def open_storage(optuna, storage: Storage):
    """The Optuna storage object (a PostgreSQL one connects, and creates its tables once)."""
    if storage.kind == "journal":
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        try:
            return JournalStorage(JournalFileBackend(storage.target))
        except OSError as exc:
            message = MSG_UNREACHABLE.format(url=storage.shown, reason=one_line(exc))
            raise UsageError(message) from None
    try:
        import sqlalchemy  # noqa: F401

        if storage.target.startswith(DEFAULT_DRIVER + "://"):
            import psycopg  # noqa: F401
        else:
            import psycopg2  # noqa: F401
    except ImportError:
        raise UsageError(MSG_NEEDS_DRIVER.format(url=storage.shown)) from None
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with warnings.catch_warnings():  # the heartbeat is marked experimental by Optuna
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(
                storage.target,
                engine_kwargs={"pool_pre_ping": True},
                heartbeat_interval=HEARTBEAT_SECONDS,
                grace_period=GRACE_SECONDS,
            )
    except (SQLAlchemyError, ValueError, OSError) as exc:
        reason = hide_password(one_line(getattr(exc, "orig", None) or exc))
        raise UsageError(MSG_UNREACHABLE.format(url=storage.shown, reason=reason)) from None


def close_storage(backend) -> None:
    """Let go of a storage: a PostgreSQL one closes its pooled connections."""
    engine = getattr(backend, "engine", None)
    if engine is not None:
        backend.remove_session()
        engine.dispose()
