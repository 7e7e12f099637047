"""Model files: existence checks, fingerprints, one-line errors located at the file.

Every problem with a vendor's model file becomes a :class:`auditor.errors.ModelFileError`
whose location names the file and the spec field ``model.vendor.path``, with a message of
one line (library exceptions are squeezed onto one line and shortened).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from auditor import fingerprint
from auditor.errors import Location, ModelFileError, one_line
from auditor.in_memory import MODEL_PLACEHOLDER

SPEC_PATH: tuple = ("model", "vendor", "path")

MSG_MISSING = "vendor model file not found"
MSG_NOT_A_FILE = "vendor model path is not a file"
MSG_EMPTY = "vendor model file is empty"
MSG_UNREADABLE = "cannot read the vendor model file: {reason}"


def listing(values: Iterable, limit: int = 5, show: Callable[[object], str] = repr) -> str:
    """The first ``limit`` values, comma-separated, then ``..., (N in all)`` when longer."""
    values = list(values)
    shown = ", ".join(show(v) for v in values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


def model_location(path: Path, field: tuple = SPEC_PATH) -> Location:
    """Where a model-file error points: the file, and the spec field that names it; for a
    model given to the Python API (``<in-memory model>``), no path but ``model=`` itself."""
    if Path(path).name == MODEL_PLACEHOLDER and tuple(field) == SPEC_PATH:
        return Location(file=MODEL_PLACEHOLDER, path=("model",))
    return Location(file=str(path), path=tuple(field))


def model_error(path: Path, message: str, *, field: tuple = SPEC_PATH) -> ModelFileError:
    """A :class:`ModelFileError` about ``path`` with a one-line message (never shortened)."""
    return ModelFileError(" ".join(str(message).split()), model_location(path, field))


def check_readable(path: Path) -> None:
    """Raise a located ModelFileError unless ``path`` is a non-empty, readable file."""
    if not path.exists():
        raise model_error(path, MSG_MISSING)
    if not path.is_file():
        raise model_error(path, MSG_NOT_A_FILE)
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise model_error(path, MSG_UNREADABLE.format(reason=one_line(exc))) from None
    if size == 0:
        raise model_error(path, MSG_EMPTY)


def sha256_file(path: Path) -> str:
    """The SHA-256 (hex) of a file's bytes, read in 1 MiB chunks."""
    try:
        return fingerprint.sha256_file(path)
    except FileNotFoundError:
        raise model_error(path, MSG_MISSING) from None
    except OSError as exc:
        raise model_error(path, MSG_UNREADABLE.format(reason=one_line(exc))) from None
