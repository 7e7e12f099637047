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
