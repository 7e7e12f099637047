"""The throughput benchmark runs and reports both loops, the ratio and the memory."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "train_throughput.py"


@pytest.mark.slow
def test_benchmark_reports_throughput_and_memory(capsys):
    spec = importlib.util.spec_from_file_location("train_throughput", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    code = module.main(["--rows", "50000", "--epochs", "1", "--repeat", "1"])
    out = capsys.readouterr().out
    hand = float(
        re.search(r"hand-written loop :\s+([\d,]+) samples/s", out).group(1).replace(",", "")
    )
    engine = float(re.search(r"engine\s+:\s+([\d,]+) samples/s", out).group(1).replace(",", ""))
    memory = float(re.search(r"= ([\d.]+)x \(target <= 1.5x\)", out).group(1))
    assert hand > 0 and engine > 0
    assert memory <= module.TARGET_MEMORY
    assert code == (0 if "targets: MET" in out else 1)
