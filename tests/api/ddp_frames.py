"""A caller's script run under torchrun by ``test_distributed_frames.py``: each process
builds its own DataFrame and hands it to ``auditor.run``, training data-parallel.

    torchrun --nproc-per-node 2 tests/api/ddp_frames.py MODE OUT

``MODE`` ``same``: every process builds the same frame; ``changed``: rank 1 changes one
value of its frame (x1 of the first row, by 1.0). Each process writes what happened to
``OUT/rank<r>.json`` (whether it audited, the verdict or why there is none, the exit
code; or the error's one line and exit code) and exits 0 after a run, or with the error's
exit code.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import auditor
from auditor.errors import AuditorError
from tests.api.tiny import tiny_frame, tiny_spec


def spec_for(frame) -> dict:
    """The tiny audit, with an MLP trained data-parallel (gloo, two processes)."""
    spec = tiny_spec(frame)
    spec["model"] = {"architecture": "mlp", "hidden": [8]}
    spec["training"] = {
        "batch_size": 32,
        "epochs": 3,
        "learning_rate": 0.01,
        "device": "cpu",
        "seed": 3,
        "distributed": {"backend": "gloo", "timeout": 120},
    }
    spec["evaluation"] = {"bootstrap": 20, "learning_curve": {"enabled": False}}
    spec["acceptance"] = [{"metric": "roc_auc", "split": "test", "at_least": 0.5}]
    return spec


def main(mode: str, out: Path) -> int:
    rank = int(os.environ["RANK"])
    frame = tiny_frame()
    if mode == "changed" and rank == 1:
        frame.loc[0, "x1"] += 1.0
    try:
        result = auditor.run(spec_for(frame), out=out / "report")
    except AuditorError as error:
        record = {"error": str(error), "exit_code": int(error.exit_code)}
    else:
        record = {"audited": result.audited, "exit_code": result.exit_code}
        try:  # rank 0 alone audits and writes; the others say so when asked for a verdict
            record["verdict"] = result.verdict
        except AuditorError as error:
            record["verdict_error"] = str(error)
    (out / f"rank{rank}.json").write_text(json.dumps(record), encoding="utf-8")
    return record["exit_code"] if "error" in record else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], Path(sys.argv[2])))
