"""Run folders, atomic writes and JSON-safe results."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pytest

from auditor.atomic import write_text
from auditor.outputs import output_dir, results_json
from auditor.results import jsonable
from auditor.types import Spec


def _spec(tmp_path, output=None):
    return Spec(path=tmp_path / "s.yaml", values={"name": "m", "report": {"output": output}})


def test_default_output_folder_is_reports_name_utc_timestamp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    assert output_dir(_spec(tmp_path), now=now) == Path("reports/m/2026-01-02T03-04-05Z")


def test_configured_output_is_relative_to_the_spec_and_never_reused(tmp_path):
    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    first = output_dir(_spec(tmp_path, "runs"), now=now)
    assert first == tmp_path / "runs/m/2026-01-02T03-04-05Z"
    first.mkdir(parents=True)
    assert output_dir(_spec(tmp_path, "runs"), now=now).name == "2026-01-02T03-04-05Z-2"


def test_explicit_out_wins(tmp_path):
    assert output_dir(_spec(tmp_path, "runs"), tmp_path / "x") == tmp_path / "x"


def test_jsonable_converts_numpy_nan_tuples_and_paths():
    value = {
        "a": np.float32(0.5),
        "b": np.int64(3),
        "c": (1, 2),
        "d": float("nan"),
        "e": np.array([[1, 2]]),
        "f": Path("x/y"),
        "g": np.bool_(True),
    }
    out = jsonable(value)
    assert out == {"a": 0.5, "b": 3, "c": [1, 2], "d": None, "e": [[1, 2]], "f": "x/y", "g": True}
    json.loads(results_json(out))


def test_results_json_refuses_nan():
    with pytest.raises(ValueError):
        results_json({"x": math.nan})


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "r.json"
    write_text(target, "old")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError):
        write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_atomic_write_gives_files_the_usual_mode_not_mkstemps_0600(tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        path = write_text(tmp_path / "report.json", "{}")
    finally:
        os.umask(mask)
    assert os.stat(path).st_mode & 0o777 == 0o644
