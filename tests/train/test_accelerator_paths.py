"""The accelerator code paths, exercised on a machine without a GPU.

CUDA cannot run here, so what can be checked without it is checked: the device and precision
choice with torch's availability probes monkeypatched, the determinism switches for CUDA,
the large inference batches, the training tensors moved to the device once (never per
batch), and a device or precision the machine lacks stopping the real command with exit
code 2 and one line.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.overrides import TorchFunctionMode
from train_problems import binary_fit_inputs

from auditor.errors import DeviceError
from auditor.train import device as dev
from auditor.train import loop, train_model

REPO = Path(__file__).resolve().parents[2]
NO_STOP = {"early_stopping": {"enabled": False}}


# --------------------------------------------------------------------- device choice
@pytest.fixture
def gpus(monkeypatch):
    """``gpus(cuda=n, mps=bool, bf16=bool)``: pretend this machine has these accelerators."""

    def fake(*, cuda: int = 0, mps: bool = False, bf16: bool = True):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda)
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
        monkeypatch.setattr(dev, "_mps_available", lambda: mps)

    return fake


@pytest.mark.parametrize(
    "cuda, mps, expected",
    [(2, True, "cuda"), (1, False, "cuda"), (0, True, "mps"), (0, False, "cpu")],
)
def test_auto_prefers_cuda_then_mps_then_cpu(gpus, cuda, mps, expected):
    gpus(cuda=cuda, mps=mps)
    assert dev.resolve_device("auto") == torch.device(expected)


def test_named_devices_with_gpus_present(gpus):
    gpus(cuda=2, mps=True)
    assert dev.resolve_device("cuda") == torch.device("cuda", 0)
    assert dev.resolve_device("cuda:1") == torch.device("cuda", 1)
    assert dev.resolve_device("CPU").type == "cpu"  # asking for the CPU is always honoured
    assert dev.resolve_device("mps").type == "mps"
    with pytest.raises(
        DeviceError, match=re.escape(dev.MSG_NO_CUDA_INDEX.format(name="cuda:2", n=2))
    ):
        dev.resolve_device("cuda:2")
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        dev.resolve_device("tpu")
    gpus(cuda=0, mps=False)
    with pytest.raises(DeviceError, match=re.escape(dev.MSG_NO_MPS)):
        dev.resolve_device("mps")


@pytest.mark.parametrize(
    "bf16, requested, name, dtype, scaler",
    [
        (True, "auto", "bf16", torch.bfloat16, False),
        (False, "auto", "fp32", None, False),  # an older GPU: full precision, not fp16
        (True, "bf16", "bf16", torch.bfloat16, False),
        (True, "fp16", "fp16", torch.float16, True),  # fp16 needs gradient scaling
        (False, "fp16", "fp16", torch.float16, True),
        (True, "fp32", "fp32", None, False),
    ],
)
def test_precision_on_a_cuda_device(gpus, bf16, requested, name, dtype, scaler):
    gpus(cuda=1, bf16=bf16)
    chosen = dev.resolve_precision(requested, torch.device("cuda", 0))
    assert (chosen.name, chosen.autocast_dtype, chosen.needs_scaler) == (name, dtype, scaler)


def test_precision_refusals(gpus):
    gpus(cuda=1, bf16=False)
    with pytest.raises(DeviceError, match=re.escape(dev.MSG_NO_BF16.format(device="cuda:0"))):
        dev.resolve_precision("bf16", torch.device("cuda", 0))
    gpus(cuda=0, mps=True)
    assert dev.resolve_precision("auto", torch.device("mps")).name == "fp32"
    with pytest.raises(DeviceError, match="precision 'bf16' needs a CUDA device"):
        dev.resolve_precision("bf16", torch.device("mps"))


def test_cuda_determinism_switches(monkeypatch):
    """On CUDA: cuBLAS gets its fixed workspace, cuDNN autotuning is off, and deterministic
    algorithms are used (warning, not failing, where an op has none); off when asked."""
    from auditor.train.seed import seed_everything

    seeded = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", seeded.append)
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    before = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.benchmark,
    )
    try:
        torch.backends.cudnn.benchmark = True
        seed_everything(12, deterministic=True, device_type="cuda")
        assert seeded and set(seeded) == {12}  # (torch.manual_seed also seeds CUDA)
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
        assert torch.backends.cudnn.benchmark is False
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()
        seed_everything(12, deterministic=False, device_type="cuda")
        assert not torch.are_deterministic_algorithms_enabled()
        seed_everything(12, deterministic=False, device_type="cpu")  # the CPU: always
        assert torch.are_deterministic_algorithms_enabled()
        assert not torch.is_deterministic_algorithms_warn_only_enabled()
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])
        torch.backends.cudnn.benchmark = before[2]


def test_inference_runs_in_large_batches_under_inference_mode(make_run):
    assert loop.eval_batch(torch.device("cuda", 0)) == 65536
    assert loop.eval_batch(torch.device("cpu")) == 2048
    spec, ds = make_run(training={"epochs": 1})
    p = train_model(spec, ds)
    seen = []
    p.model.register_forward_pre_hook(
        lambda module, args: seen.append(
            (args[0].shape[0], torch.is_inference_mode_enabled(), module.training)
        )
    )
    X = np.concatenate([ds.X["train"]] * 8)  # 3,840 rows: two chunks on the CPU
    p.predict_matrix(X)
    assert seen == [(2048, True, False), (len(X) - 2048, True, False)]


# --------------------------------------------------------------------- moved once
class CountCalls(TorchFunctionMode):
    """Counts every torch function and tensor method called inside the block."""

    def __init__(self):
        super().__init__()
        self.calls: dict[str, int] = {}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", str(func))
        self.calls[name] = self.calls.get(name, 0) + 1
        return func(*args, **(kwargs or {}))


TRANSFERS = ("to", "cuda", "cpu", "as_tensor", "tensor", "numpy", "pin_memory", "copy_")


def _fit_counting(spec, ds, batch_size: int, epochs: int) -> tuple[dict[str, int], int]:
    values = {**spec.values, "training": {**spec.values["training"], "batch_size": batch_size}}
    model, cfg, tensors = binary_fit_inputs(dataclasses.replace(spec, values=values), ds)
    with CountCalls() as counter:
        result = loop.fit(model, cfg, **tensors, precision=dev.Precision("fp32"))
    assert result.epochs_run == epochs
    steps = int(np.ceil(len(ds.y["train"]) / batch_size))
    return counter.calls, steps


def test_training_tensors_move_once_and_batches_are_index_slices(make_run, monkeypatch):
    """No host-device traffic per batch: transfers per run do not grow with the number of
    batches, and every batch is one index_select of the preassembled X and y."""
    epochs = 3
    spec, ds = make_run(training={"epochs": epochs, **NO_STOP})
    many, many_steps = _fit_counting(spec, ds, batch_size=40, epochs=epochs)
    few, few_steps = _fit_counting(spec, ds, batch_size=240, epochs=epochs)
    assert many_steps == 12 and few_steps == 2
    for name in TRANSFERS:
        assert many.get(name, 0) == few.get(name, 0), (name, many.get(name), few.get(name))
        assert many.get(name, 0) <= 3 * epochs + 3, (name, many.get(name))  # per epoch at most
    assert many["index_select"] == 2 * epochs * many_steps
    assert few["index_select"] == 2 * epochs * few_steps

    # train_model itself: each split is turned into device tensors exactly once
    converted = []
    original = loop.to_device_tensors
    monkeypatch.setattr(
        loop,
        "to_device_tensors",
        lambda X, *a, **k: converted.append(len(X)) or original(X, *a, **k),
    )
    train_model(spec, ds)
    assert converted == [len(ds.y["train"]), len(ds.y["validation"])]


# --------------------------------------------------------------------- the real command
def _auditor_command() -> list[str]:
    script = Path(sys.executable).with_name("auditor")
    return [str(script)] if script.exists() else [sys.executable, "-m", "auditor"]


@pytest.mark.parametrize(
    "device, precision, field, message",
    [
        (
            "cuda",
            "bf16",
            "training.device",
            "device 'cuda' was requested but CUDA is not available",
        ),
        pytest.param(
            "cpu",
            "bf16",
            "training.precision",
            "precision 'bf16' needs a CUDA device",
            marks=pytest.mark.slow,  # the same path; the refusal itself is unit-tested
        ),
    ],
)
def test_bundled_gpu_spec_stops_with_exit_2_and_one_line(
    tmp_path, device, precision, field, message
):
    """specs/engine-loan-cuda-bf16.yaml through the installed `auditor` command on this
    CPU-only machine (its data made smaller): exit code 2, one located line, nothing written."""
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the spec would run")
    text = (REPO / "specs" / "engine-loan-cuda-bf16.yaml").read_text()
    assert "  device: cuda\n" in text and "  precision: bf16\n" in text
    text = text.replace("rows: 6000", "rows: 600").replace("device: cuda", f"device: {device}")
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    line = next(
        i for i, t in enumerate(text.splitlines(), 1) if t.startswith(f"  {field.split('.')[1]}:")
    )
    out = tmp_path / "out"
    done = subprocess.run(
        [*_auditor_command(), "run", str(spec), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith(f"{spec}:{line}:") and f" {field}: " in lines[0]
    assert message in lines[0]
    assert not out.exists() or not any(out.iterdir())  # no half-written outputs
    shutil.rmtree(tmp_path / "data", ignore_errors=True)


def test_train_model_hands_the_chosen_precision_to_the_loop(make_run, monkeypatch):
    """What `precision: auto` on a bf16 GPU does, with the CPU's bf16 autocast standing in:
    the loop trains under autocast, the master weights stay fp32, the results say bf16."""
    from sklearn.metrics import roc_auc_score

    monkeypatch.setattr(
        dev, "resolve_precision", lambda *a, **k: dev.Precision("bf16", torch.bfloat16)
    )
    autocasts = []
    original = torch.autocast
    monkeypatch.setattr(
        torch, "autocast", lambda **k: autocasts.append(k) or original(**k), raising=True
    )
    spec, ds = make_run(training={"epochs": 6, **NO_STOP})
    p = train_model(spec, ds)
    assert autocasts == [{"device_type": "cpu", "dtype": torch.bfloat16}]
    assert p.info["precision"] == "bf16"
    assert all(
        t.dtype == torch.float32 for t in p.model.state_dict().values() if t.is_floating_point()
    )
    assert roc_auc_score(ds.y["test"], p.predict(ds, "test")) > 0.9
