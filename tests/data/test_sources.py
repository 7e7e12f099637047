"""read_table and sha256_file: every format, every way a file can be bad."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from auditor.data import sources
from auditor.data.sources import read_table, sha256_file
from auditor.errors import DataError, ExitCode

FRAME = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None], "c": [0.5, np.nan, 2.0]})


@pytest.mark.parametrize("name", ["t.csv", "t.parquet", "t.jsonl", "t.ndjson"])
def test_each_format_round_trips(tmp_path, name):
    path = tmp_path / name
    if name.endswith(".csv"):
        FRAME.to_csv(path, index=False)
    elif name.endswith(".parquet"):
        FRAME.to_parquet(path, index=False)
    else:
        FRAME.to_json(path, orient="records", lines=True)
    out = read_table(path)
    assert list(out.columns) == ["a", "b", "c"]
    assert out["a"].tolist() == [1, 2, 3]
    assert out["b"].isna().tolist() == [False, False, True]
    assert np.isnan(out["c"].iloc[1]) and out["c"].iloc[2] == 2.0


def test_explicit_format_overrides_extension(tmp_path):
    path = tmp_path / "data.txt"
    FRAME.to_json(path, orient="records", lines=True)
    assert len(read_table(path, "jsonl")) == 3


def test_columns_selects_and_checks(tmp_path):
    path = tmp_path / "t.csv"
    FRAME.to_csv(path, index=False)
    assert list(read_table(path, columns=["c", "a"]).columns) == ["c", "a"]
    with pytest.raises(DataError, match="column\\(s\\) not in the file: 'zz'"):
        read_table(path, columns=["a", "zz"])


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("missing.csv", None, sources.MSG_MISSING),
        ("empty.csv", b"", sources.MSG_EMPTY),
        ("header.csv", b"a,b\n", sources.MSG_NO_ROWS),
        ("bad.parquet", b"this is not parquet at all" * 4, "cannot read parquet file"),
        ("bad.jsonl", b'{"a": 1}\nnot json\n', "cannot read jsonl file"),
        ("binary.csv", bytes(range(256)) * 8, "cannot read csv file"),
        ("sheet.xlsx", b"x", "cannot tell the format from the extension '.xlsx'"),
    ],
)
def test_bad_files_raise_located_one_line_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError) as info:
        read_table(path)
    err = info.value
    assert message in err.message
    assert err.location.file == str(path)
    assert "\n" not in str(err) and str(err).startswith(str(path))
    assert err.exit_code == ExitCode.INVALID_INPUT


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(DataError, match=sources.MSG_NOT_A_FILE):
        read_table(tmp_path)


def test_unknown_explicit_format(tmp_path):
    path = tmp_path / "t.csv"
    FRAME.to_csv(path, index=False)
    with pytest.raises(DataError, match="unknown data format 'excel'"):
        read_table(path, "excel")


def test_sha256_streams_and_matches_hashlib(tmp_path, monkeypatch):
    path = tmp_path / "big.bin"
    payload = np.random.default_rng(0).bytes(3 * 1024 * 1024 + 17)
    path.write_bytes(payload)
    monkeypatch.setattr("auditor.fingerprint.CHUNK", 4096)  # many chunks
    assert sha256_file(path) == hashlib.sha256(payload).hexdigest()
    with pytest.raises(DataError, match=sources.MSG_MISSING):
        sha256_file(tmp_path / "nope.csv")


WIDE = pd.DataFrame(
    {"a": [1, 2, 3], "b": ["x", "y", "z"], "c": [0.5, 1.5, 2.5], "d": [True, False, True]}
)


@pytest.mark.parametrize("name", ["t.csv", "t.tsv", "t.parquet", "t.jsonl"])
def test_columns_reads_only_those_columns(tmp_path, monkeypatch, name):
    """CSV and Parquet hand the column list to the reader (usecols / columns); JSON Lines
    has no header to read first, so it is selected after reading. Order is the caller's."""
    path = tmp_path / name
    if name.endswith(".csv"):
        WIDE.to_csv(path, index=False)
    elif name.endswith(".tsv"):
        WIDE.to_csv(path, index=False, sep="\t")
    elif name.endswith(".parquet"):
        WIDE.to_parquet(path, index=False)
    else:
        WIDE.to_json(path, orient="records", lines=True)
    calls = []
    for reader in ("read_csv", "read_parquet", "read_json"):
        original = getattr(pd, reader)

        def spy(*args, _original=original, _reader=reader, **kwargs):
            calls.append((_reader, kwargs))
            return _original(*args, **kwargs)

        monkeypatch.setattr(pd, reader, spy)
    out = read_table(path, columns=["c", "a"])
    assert list(out.columns) == ["c", "a"]
    assert out["c"].tolist() == [0.5, 1.5, 2.5] and out["a"].tolist() == [1, 2, 3]
    full_reads = [kw for r, kw in calls if kw.get("nrows") != 0]  # not the header peek
    assert len(full_reads) == 1
    if name.endswith((".csv", ".tsv")):
        assert full_reads[0]["usecols"] == ["c", "a"]
    elif name.endswith(".parquet"):
        assert full_reads[0]["columns"] == ["c", "a"]
    # a missing column: our one-line located message, whatever the format
    with pytest.raises(DataError, match=r"column\(s\) not in the file: 'zz'") as info:
        read_table(path, columns=["a", "zz"])
    assert info.value.location.file == str(path) and "\n" not in str(info.value)


def test_jsonl_floats_round_trip_exactly(tmp_path):
    """Every float written with full precision reads back bit for bit (precise_float)."""
    import json

    rng = np.random.default_rng(0)
    values = rng.normal(size=5000) * np.exp(rng.normal(size=5000) * 5)
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps({"x": float(v)}) + "\n" for v in values))
    out = read_table(path)["x"].to_numpy()
    assert out.dtype == np.float64
    assert np.array_equal(out, values)  # the default parser drifts in ~half of these


def test_jsonl_keeps_the_types_json_gives(tmp_path):
    """Strings stay strings (leading zeros kept), integers stay integers whatever the column
    is called (no guessing of dates from names such as 'timestamp' or 'date')."""
    import json

    rows = [
        {"zip": "007", "timestamp": 1700000000, "date": "2024-01-02", "n": 1.5, "ok": True},
        {"zip": "010", "timestamp": 1700000100, "date": "2024-01-03", "n": None, "ok": False},
    ]
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = read_table(path)
    assert out["zip"].tolist() == ["007", "010"]
    assert out["timestamp"].dtype == np.int64 and out["timestamp"].iloc[0] == 1700000000
    assert out["date"].tolist() == ["2024-01-02", "2024-01-03"]  # parsed by a time split only
    assert out["n"].dtype == np.float64 and np.isnan(out["n"].iloc[1])
    assert out["ok"].tolist() == [True, False]
