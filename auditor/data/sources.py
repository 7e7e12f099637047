"""Reading data files (CSV, Parquet, JSON Lines) and fingerprinting them.

Every failure is a :class:`auditor.errors.DataError` located at the file, with one clear
line of text; no traceback ever reaches the user for a bad file.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import TYPE_CHECKING

from auditor import fingerprint
from auditor.errors import DataError, Location, one_line
from auditor.in_memory import FRAME_FORMAT, held_frame

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

FORMATS: tuple[str, ...] = ("csv", "parquet", "jsonl")
#: Formats read as text, in the spec's ``data.encoding``.
TEXT_FORMATS: tuple[str, ...] = ("csv", "jsonl")
DEFAULT_ENCODING = "utf-8"
_DECODE_CHUNK = 1 << 20
EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}

MSG_MISSING = "data file not found"
MSG_NOT_A_FILE = "data path is not a file"
MSG_EMPTY = "data file is empty"
MSG_NO_ROWS = "data file has a header but no rows"
MSG_UNKNOWN_EXTENSION = (
    "cannot tell the format from the extension {ext!r}; use .csv, .parquet, .jsonl or "
    ".ndjson, or set data.format"
)
MSG_UNKNOWN_FORMAT = "unknown data format {fmt!r}; expected one of: auto, csv, parquet, jsonl"
MSG_UNREADABLE = "cannot read {fmt} file: {reason}"
MSG_MISSING_COLUMNS = "column(s) not in the file: {names}"
MSG_PERMISSION = "data file cannot be opened: permission denied"
MSG_DECODE = (
    "cannot read {fmt} file: the byte at offset {offset:,} (0x{byte:02x}) is not valid "
    "{encoding}; if the file was saved in another encoding, say which in the spec, for "
    "example data.encoding: latin-1 (or cp1252 for files saved by Excel on Windows)"
)
MSG_UNKNOWN_ENCODING = (
    "unknown text encoding {encoding!r}; use a name Python knows, such as utf-8, latin-1, "
    "cp1252 or utf-16"
)
#: Where a decoding error points in the spec: the setting that fixes it.
ENCODING_FIELD: tuple = ("data", "encoding")


def detect_format(path: Path, fmt: str = "auto") -> str:
    """The format of ``path``: ``fmt`` itself unless it is ``"auto"``, else from the extension
    (``dataframe`` for a DataFrame held by the Python API, whatever ``fmt`` says).

    Raises
    ------
    DataError
        The format is unknown, or the extension does not name one.
    """
    if held_frame(path) is not None:
        return FRAME_FORMAT
    path = Path(path)
    if fmt != "auto":
        if fmt not in FORMATS:
            raise DataError(MSG_UNKNOWN_FORMAT.format(fmt=fmt), Location(file=str(path)))
        return fmt
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".zip", ".xz", ".zst") and len(suffixes) > 1:
        ext = suffixes[-2]
    else:
        ext = suffixes[-1] if suffixes else ""
    if ext not in EXTENSIONS:
        raise DataError(
            MSG_UNKNOWN_EXTENSION.format(ext=ext or path.name), Location(file=str(path))
        )
    return EXTENSIONS[ext]


def read_table(
    path: Path,
    fmt: str = "auto",
    *,
    columns: list[str] | None = None,
    encoding: str = DEFAULT_ENCODING,
) -> pd.DataFrame:
    """Read a CSV, Parquet or JSON Lines file into a DataFrame.

    Parameters
    ----------
    path : Path
        The file.
    fmt : str
        ``"auto"`` (from the extension), ``"csv"``, ``"parquet"`` or ``"jsonl"``.
    columns : list of str, optional
        Read only these columns (CSV ``usecols``, Parquet ``columns``; JSON Lines is read
        whole, then selected), in this order; a missing one is an error.
    encoding : str
        The text encoding of CSV and JSON Lines files (``data.encoding``); Parquet ignores it.

    Returns
    -------
    pandas.DataFrame
        At least one row.

    Raises
    ------
    DataError
        Missing or empty file, no rows, unknown extension, garbled content, missing columns;
        located at the file, with a one-line message. A text file that does not decode
        with ``encoding`` names the first offending byte's offset and is located at the
        file and the spec field ``data.encoding``.
    """
    path = Path(path)
    where = Location(file=str(path))
    held = held_frame(path)
    if held is not None:  # a DataFrame given to the Python API: read like a file
        where = Location(file=path.name)
        return _checked_frame(held.frame.reset_index(drop=True), FRAME_FORMAT, columns, where)
    kind = _checked_format(path, fmt, where)
    if kind in TEXT_FORMATS and not encoding_known(encoding):
        raise DataError(
            MSG_UNKNOWN_ENCODING.format(encoding=encoding),
            Location(file=str(path), path=ENCODING_FIELD),
        )
    wanted = None if columns is None else list(columns)
    frame = _read_frame(path, kind, wanted, where, encoding)
    return _checked_frame(frame, kind, wanted, where)


def encoding_known(encoding: str) -> bool:
    """Whether Python has a codec called ``encoding``.

    Parameters
    ----------
    encoding : str
        A name such as ``utf-8``, ``latin-1`` or ``cp1252`` (``data.encoding``).

    Returns
    -------
    bool
        True when ``codecs.lookup`` knows it.
    """
    try:
        codecs.lookup(str(encoding))
    except (LookupError, TypeError, ValueError):
        return False
    return True


def first_undecodable_byte(path: Path, encoding: str) -> tuple[int, int] | None:
    """The offset and value of the first byte of ``path`` that ``encoding`` cannot decode.

    Parameters
    ----------
    path : Path
        The file, read in 1 MiB chunks.
    encoding : str
        A codec name Python knows.

    Returns
    -------
    tuple of (int, int) or None
        ``(offset, byte)`` (0-based offset into the file), or None when the whole file
        decodes (a truncated last character counts as undecodable at its first byte).
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0  # bytes of the file handed to the decoder so far
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(_DECODE_CHUNK)
            pending = len(decoder.getstate()[0])  # bytes held back from earlier chunks
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                where = offset - pending + exc.start
                data = exc.object[exc.start : exc.start + 1]
                return where, (data[0] if data else 0)
            if not chunk:
                return None
            offset += len(chunk)


def decode_error(path: Path, kind: str, encoding: str) -> DataError | None:
    """The located DataError for a text file that does not decode with ``encoding``.

    Parameters
    ----------
    path : Path
        The CSV or JSON Lines file.
    kind : str
        Its format (``"csv"`` or ``"jsonl"``), for the message.
    encoding : str
        The encoding it was read in (``data.encoding``).

    Returns
    -------
    DataError or None
        Located at the file and ``data.encoding``, naming the offset and value of the first
        byte that does not decode; None when the whole file decodes (a reader failed for
        another reason).
    """
    found = first_undecodable_byte(path, encoding)
    if found is None:
        return None
    offset, byte = found
    return DataError(
        MSG_DECODE.format(fmt=kind, offset=offset, byte=byte, encoding=encoding),
        Location(file=str(path), path=ENCODING_FIELD),
    )


def _checked_format(path: Path, fmt: str, where: Location) -> str:
    """The file's format, after checking that it exists, is a file and is not empty."""
    if not path.exists():
        raise DataError(MSG_MISSING, where)
    if not path.is_file():
        raise DataError(MSG_NOT_A_FILE, where)
    kind = detect_format(path, fmt)
    try:
        size = path.stat().st_size
    except OSError as exc:  # pragma: no cover - races
        raise DataError(MSG_UNREADABLE.format(fmt=kind, reason=one_line(exc)), where) from None
    if size == 0:
        raise DataError(MSG_EMPTY, where)
    return kind


def _read_frame(
    path: Path, kind: str, wanted: list[str] | None, where: Location, encoding: str
) -> pd.DataFrame:
    """The file read by pandas; every reader failure becomes a one-line DataError."""
    import pandas as pd

    try:
        return _read_by_kind(path, kind, wanted, where, encoding)
    except PermissionError:
        raise DataError(MSG_PERMISSION, where) from None
    except pd.errors.EmptyDataError:
        raise DataError(MSG_EMPTY, where) from None
    except UnicodeError as exc:
        error = decode_error(path, kind, encoding) if kind in TEXT_FORMATS else None
        if error is not None:
            raise error from None
        raise DataError(MSG_UNREADABLE.format(fmt=kind, reason=one_line(exc)), where) from None
    except (ValueError, TypeError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(MSG_UNREADABLE.format(fmt=kind, reason=one_line(exc)), where) from None
    except Exception as exc:  # pyarrow raises its own error types for garbled parquet
        if type(exc).__module__.startswith(("pyarrow", "pandas")):
            raise DataError(MSG_UNREADABLE.format(fmt=kind, reason=one_line(exc)), where) from None
        raise


def _read_by_kind(
    path: Path, kind: str, wanted: list[str] | None, where: Location, encoding: str
) -> pd.DataFrame:
    """The CSV, Parquet or JSON Lines reader; only the ``wanted`` columns of CSV and Parquet."""
    import pandas as pd

    if kind == "csv":
        sep = "\t" if path.suffix.lower() == ".tsv" else ","
        if wanted is not None:  # read the header first: a missing column is our error
            header = pd.read_csv(path, sep=sep, nrows=0, encoding=encoding).columns
            _check_columns(wanted, header, where)
        return pd.read_csv(path, sep=sep, low_memory=False, usecols=wanted, encoding=encoding)
    if kind == "parquet":
        if wanted is not None:
            import pyarrow.parquet as pq

            _check_columns(wanted, pq.read_schema(path).names, where)
        return pd.read_parquet(path, engine="pyarrow", columns=wanted)
    # JSON carries its own types: keep them (dtype=False: "007" stays a string and an
    # integer column named "timestamp" stays an integer); precise_float: the default
    # float parser drifts in the last digits
    return pd.read_json(path, lines=True, precise_float=True, dtype=False, encoding=encoding)


def _checked_frame(
    frame: pd.DataFrame, kind: str, wanted: list[str] | None, where: Location
) -> pd.DataFrame:
    """The table with text column names and at least one row (``wanted`` columns only)."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):  # pragma: no cover - read_json of a scalar
        raise DataError(MSG_UNREADABLE.format(fmt=kind, reason="not a table"), where)
    if len(frame.columns) == 0 and len(frame) == 0:
        raise DataError(MSG_EMPTY, where)
    if len(frame) == 0:
        raise DataError(MSG_NO_ROWS, where)
    frame.columns = [str(c) for c in frame.columns]
    if wanted is not None:  # JSON Lines has no header to read first: select after reading
        _check_columns(wanted, frame.columns, where)
        frame = frame[wanted]  # also the requested order (usecols keeps the file's order)
    return frame


def _check_columns(wanted: list[str], available, where: Location) -> None:
    names = {str(c) for c in available}
    absent = [c for c in wanted if c not in names]
    if absent:
        raise DataError(MSG_MISSING_COLUMNS.format(names=", ".join(map(repr, absent))), where)


def fingerprinted(path: Path) -> dict[str, str]:
    """A data source's ``path`` and ``sha256`` for results.json; for a DataFrame given to
    the Python API, its name and ``hashed``, what the SHA-256 is of."""
    held = held_frame(path)
    if held is None:
        return {"path": str(path), "sha256": sha256_file(path)}
    return {"path": Path(path).name, "sha256": held.sha256, "hashed": held.hashed}


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB chunks (hex digest); of a held
    DataFrame, its CSV text (:func:`auditor.fingerprint.sha256_frame`)."""
    held = held_frame(path)
    if held is not None:
        return held.sha256
    try:
        return fingerprint.sha256_file(path)
    except FileNotFoundError:
        raise DataError(MSG_MISSING, Location(file=str(path))) from None
    except OSError as exc:
        raise DataError(
            MSG_UNREADABLE.format(fmt="data", reason=one_line(exc)), Location(file=str(path))
        ) from None
