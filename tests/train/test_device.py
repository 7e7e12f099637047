"""Device and precision: auto picks what is present; a missing device fails before training."""

from __future__ import annotations

import pytest
import torch

from auditor.errors import DeviceError, ExitCode, Location
from auditor.train import device as dev
from auditor.train import loop

pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only behaviour")


def test_auto_is_cpu_here():
    assert dev.resolve_device("auto").type == "cpu"
    assert dev.resolve_device("cpu").type == "cpu"
    assert dev.resolve_precision("auto", torch.device("cpu")).name == "fp32"


@pytest.mark.parametrize("name", ["cuda", "cuda:1", "mps"])
def test_missing_device_is_a_located_error(name):
    with pytest.raises(DeviceError) as info:
        dev.resolve_device(
            name, location=Location(file="s.yaml", line=9, column=11, path=("training", "device"))
        )
    err = info.value
    assert err.exit_code == ExitCode.INVALID_INPUT == 2
    assert str(err).startswith("s.yaml:9:11: training.device: device ")
    assert "\n" not in str(err) and "not available" in str(err)


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_half_precision_on_cpu_is_refused(precision):
    with pytest.raises(DeviceError, match=f"precision '{precision}' needs a CUDA device"):
        dev.resolve_precision(precision, torch.device("cpu"))


def test_cuda_spec_fails_before_any_training(make_run, monkeypatch):
    from auditor.train import train_model

    spec, ds = make_run(training={"device": "cuda"})
    spec.positions[("training", "device")] = (12, 11)
    called = []
    monkeypatch.setattr(loop, "fit", lambda *a, **k: called.append(1))
    with pytest.raises(DeviceError) as info:
        train_model(spec, ds)
    assert not called
    assert str(info.value).endswith(
        dev.MSG_NO_CUDA.format(name="cuda", why=" (this PyTorch build has no CUDA support)")
        if not torch.backends.cuda.is_built()
        else dev.MSG_NO_CUDA.format(name="cuda", why="")
    )
    assert ":12:11: training.device: " in str(info.value)


CUDA_SPEC = """version: 1
name: cuda-request
objective: {task: binary, target: approved}
data:
  train: loan.csv
  generate: {example: loan, rows: 600}
  sensitive: [sex]
  exclude: [applicant_id, application_date]
training:
  epochs: 2
  device: cuda
"""


@pytest.mark.slow  # the default run has the same through the bundled GPU spec
def test_cuda_spec_through_the_cli_exits_2_with_one_line(tmp_path):
    """The whole command: exit code 2, one located line on stderr, no traceback.

    (``python -m auditor --quiet``; test_accelerator_paths runs the installed script.)
    """
    import subprocess
    import sys

    for stage in (
        "auditor.cli",
        "auditor.spec",
        "auditor.evaluate",
        "auditor.checks",
        "auditor.verdict",
        "auditor.outputs",
        "auditor.results",
    ):
        pytest.importorskip(stage, reason="the pipeline is not complete yet")
    spec = tmp_path / "spec.yaml"
    spec.write_text(CUDA_SPEC)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "auditor",
            "run",
            str(spec),
            "--quiet",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "spec.yaml:11:" in lines[0] and "training.device" in lines[0] and "CUDA" in lines[0]
