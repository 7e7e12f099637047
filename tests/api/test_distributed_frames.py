"""Data-parallel training from DataFrames: every process must build the same frames.

Two CPU processes (torchrun, gloo) run a caller's script (``ddp_frames.py``) that builds a
DataFrame in each process and hands it to ``auditor.run``. With the same frame they train
together and rank 0 alone writes the report; with one value changed in rank 1's frame every
process stops with the same one-line error naming rank 1, the ``train`` frame and both
fingerprints (planted: the SHA-256 of each frame's CSV text, computed here). The
subprocess timeout only guards against a hang (a rank raising while the other waits in a
collective); nothing is timed.

The decision itself (:func:`auditor.train.distributed.data_differences`) is a pure function
of what the processes gathered, tested on its own for files, frames and missing inputs.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from auditor.errors import DataError, ExitCode
from auditor.fingerprint import sha256_frame
from auditor.train import distributed
from auditor.train.distributed import data_differences
from tests.api.tiny import tiny_frame
from tests.local_processes import torchrun_two

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tests" / "api" / "ddp_frames.py"
HANG_GUARD = 240  # seconds: only to fail a hang instead of waiting forever


def launch(mode: str, out: Path) -> tuple[subprocess.CompletedProcess, dict[int, dict]]:
    """The script in two torchrun processes on 127.0.0.1, and what each rank recorded."""
    proc = torchrun_two(
        [str(SCRIPT), mode, str(out)],
        cwd=out,
        timeout=HANG_GUARD,
        pythonpath=REPO,
        # a rank that ends is noticed within a second (torchrun then stops the others): time
        # for a rank that raised with it to record its own error
        monitor_interval=1,
    )
    records = {
        rank: json.loads((out / f"rank{rank}.json").read_text())
        for rank in (0, 1)
        if (out / f"rank{rank}.json").exists()
    }
    return proc, records


def test_the_same_frames_train_together_and_rank_zero_writes(tmp_path: Path):
    proc, records = launch("same", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert records == {
        # the planted bias of the tiny frame makes the fairness diagnostics warn
        0: {"audited": True, "verdict": "CONDITIONAL", "exit_code": int(ExitCode.CONDITIONAL)},
        1: {  # rank 1 trained, then wrote nothing, and says so when asked for a verdict
            "audited": False,
            "exit_code": 0,
            "verdict_error": (
                "rank 1 of 2: training done with the other processes; rank 0 evaluates, "
                "audits and writes the outputs: the verdict, criteria and findings are rank 0's"
            ),
        },
    }
    results = json.loads((tmp_path / "report" / "results.json").read_text())
    assert results["model"]["info"]["distributed"]["processes"] == 2
    (source,) = results["data"]["sources"]
    assert source["sha256"] == sha256_frame(tiny_frame())


def test_a_frame_that_differs_on_one_rank_stops_every_rank_with_one_line(tmp_path: Path):
    proc, records = launch("changed", tmp_path)
    assert proc.returncode != 0  # no hang: torchrun returned
    ours = sha256_frame(tiny_frame())
    changed = tiny_frame()
    changed.loc[0, "x1"] += 1.0
    theirs = sha256_frame(changed)
    assert theirs != ours
    expected = (
        "data.train: rank 1's `train` frame differs from rank 0's (fingerprint "
        f"{theirs[:12]}… vs {ours[:12]}…): every process must build the same frames"
    )
    assert records == {
        0: {"error": expected, "exit_code": int(ExitCode.INVALID_INPUT)},
        1: {"error": expected, "exit_code": int(ExitCode.INVALID_INPUT)},
    }
    assert not (tmp_path / "report" / "results.json").exists()  # nothing was written
    assert "exitcode  : 2" in proc.stderr  # torchrun's summary: the rank's exit code
    assert str(REPO / "auditor") not in proc.stderr  # no traceback through auditor


# --------------------------------------------------------------------------- the decision
def _file(key: str, path: str, digest: str, role: str | None = None) -> dict:
    return {"split": key, "role": role or key, "format": "csv", "path": path, "sha256": digest}


def _frame(key: str, digest: str) -> dict:
    return {"split": key, "role": key, "format": "dataframe", "path": f"<DataFrame {key}>",
            "sha256": digest}  # fmt: skip


A, B, C = "a" * 64, "b" * 64, "c" * 64


def test_the_same_inputs_on_every_rank_agree():
    inputs = [_file("train", "/d/train.csv", A), _frame("holdout", B)]
    assert data_differences([inputs, list(reversed(inputs)), inputs]) is None
    assert data_differences([inputs]) is None  # one process agrees with itself


def test_a_file_read_differently_names_the_rank_the_file_and_both_fingerprints():
    error = data_differences(
        [[_file("train", "/d/train.csv", A)], [_file("train", "/d/train.csv", B)]]
    )
    assert isinstance(error, DataError) and error.exit_code == ExitCode.INVALID_INPUT
    assert str(error) == (
        "/d/train.csv: rank 1's `train` file train.csv differs from rank 0's (fingerprint "
        f"{B[:12]}… vs {A[:12]}…): " + distributed.FIX_FILES
    )


def test_every_difference_is_named_up_to_three_then_counted():
    zero = [_file("train", "/d/t.csv", A), _file("holdout", "/d/h.csv", A)]
    one = [_file("train", "/d/t.csv", B), _file("holdout", "/d/h.csv", A)]
    two = [_file("train", "/d/t.csv", C), _file("holdout", "/d/h.csv", B)]
    three = [_file("train", "/d/t.csv", A), _frame("holdout", C)]
    message = data_differences([zero, one, two, three]).message
    parts = message.split(": every process")[0].split("; ")
    assert [p.split(" differs")[0] for p in parts[:3]] == [
        "rank 1's `train` file t.csv",
        "rank 2's `train` file t.csv",
        "rank 2's `holdout` file h.csv",
    ]
    assert parts[3] == "and 1 more"
    assert message.endswith(distributed.FIX_FRAMES)  # a frame among them: build the same


def test_an_input_only_one_side_has_is_named():
    zero = [_frame("train", A)]
    one = [_frame("train", A), _frame("holdout", B)]
    assert data_differences([zero, one]).message == (
        "rank 1 has a `holdout` frame and rank 0 has none: " + distributed.FIX_FRAMES
    )
    assert data_differences([one, zero]).message == (
        "rank 1 has no `holdout` frame and rank 0 has one: " + distributed.FIX_FRAMES
    )


@pytest.mark.parametrize("world", [1, 2])
def test_nothing_is_exchanged_outside_a_group(world):
    processes = distributed.Processes(world_size=world, launched=world > 1)
    assert distributed.check_same_data([_frame("train", A)], processes, device=None) is None
