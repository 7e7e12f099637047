"""Choosing the accelerator and the numeric precision, before any training starts.

``device: auto`` picks CUDA, then Apple MPS, then the CPU. A device that is named but not
present is a :class:`DeviceError` located at ``training.device`` - never a silent fallback.

Precision: ``auto`` means bf16 autocast on a CUDA device that supports it, fp32 elsewhere.
Asking explicitly for ``bf16`` or ``fp16`` on a device without CUDA autocast support (the
CPU, MPS) is a :class:`DeviceError` located at ``training.precision``: we do not quietly
train in a precision other than the one the spec names.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditor.errors import DeviceError, Location

if TYPE_CHECKING:  # pragma: no cover
    import torch

MSG_NO_CUDA = "device {name!r} was requested but CUDA is not available on this machine{why}"
MSG_NO_CUDA_INDEX = "device {name!r} was requested but this machine has {n} CUDA device(s)"
MSG_NO_MPS = "device 'mps' was requested but Apple MPS is not available on this machine"
MSG_UNKNOWN_DEVICE = "unknown device {name!r}; use auto, cpu, mps, cuda or cuda:N"
MSG_PRECISION_NEEDS_CUDA = (
    "precision {precision!r} needs a CUDA device; this run uses {device!r} (use fp32 or auto)"
)
MSG_NO_BF16 = "precision 'bf16' was requested but CUDA device {device!r} does not support bfloat16"

PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16", "fp16")


@dataclass(frozen=True)
class Precision:
    """The resolved precision: ``name`` (fp32, bf16, fp16) and the autocast dtype, if any."""

    name: str
    autocast_dtype: object | None = None  # torch.dtype
    needs_scaler: bool = False  # fp16 needs gradient scaling


def resolve_device(requested: str, *, location: Location | None = None) -> torch.device:
    """The torch device for ``training.device``.

    Raises
    ------
    DeviceError
        The named device is not present (exit code 2).
    """
    import torch

    where = location or Location(path=("training", "device"))
    name = (requested or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "mps":
        if not _mps_available():
            raise DeviceError(MSG_NO_MPS, where)
        return torch.device("mps")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            why = (
                ""
                if torch.backends.cuda.is_built()
                else " (this PyTorch build has no CUDA support)"
            )
            raise DeviceError(MSG_NO_CUDA.format(name=requested, why=why), where)
        index = int(name.split(":", 1)[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise DeviceError(
                MSG_NO_CUDA_INDEX.format(name=requested, n=torch.cuda.device_count()), where
            )
        return torch.device("cuda", index)
    raise DeviceError(MSG_UNKNOWN_DEVICE.format(name=requested), where)


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_precision(
    requested: str, device: torch.device, *, location: Location | None = None
) -> Precision:
    """The precision for ``training.precision`` on ``device``.

    ``auto``: bf16 autocast on CUDA with bf16 support, else fp32. ``bf16``/``fp16`` need CUDA
    (fp16 adds gradient scaling); elsewhere they are a :class:`DeviceError`.
    """
    import torch

    where = location or Location(path=("training", "precision"))
    name = (requested or "auto").lower()
    is_cuda = device.type == "cuda"
    if name == "auto":
        if is_cuda and torch.cuda.is_bf16_supported():
            return Precision("bf16", torch.bfloat16)
        return Precision("fp32")
    if name == "fp32":
        return Precision("fp32")
    if name not in PRECISIONS:
        raise DeviceError(f"unknown precision {requested!r}; use {', '.join(PRECISIONS)}", where)
    if not is_cuda:
        raise DeviceError(
            MSG_PRECISION_NEEDS_CUDA.format(precision=name, device=str(device)), where
        )
    if name == "bf16":
        if not torch.cuda.is_bf16_supported():
            raise DeviceError(MSG_NO_BF16.format(device=str(device)), where)
        return Precision("bf16", torch.bfloat16)
    return Precision("fp16", torch.float16, needs_scaler=True)


def device_name(device: torch.device) -> str:
    """A human name for the device: the GPU model, or the CPU model and its core count."""
    import os
    import platform

    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple MPS"
    name = ""
    try:
        with open("/proc/cpuinfo") as handle:
            name = next(
                (line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")),
                "",
            )
    except OSError:
        pass
    name = name or platform.processor() or platform.machine() or "CPU"
    return f"{name} ({os.cpu_count()} cores)"


# Below this many multiply-adds per batch (batch rows x parameters) one CPU thread is faster:
# intra-op thread synchronisation costs more than it saves, and far more on a busy machine.
SMALL_WORK = 50_000_000


def cpu_threads(
    requested: int | None, *, device: torch.device, batch_size: int, parameters: int
) -> int | None:
    """CPU threads for training: ``requested``, else 1 for small work, else None (default)."""
    if device.type != "cpu":
        return None
    if requested:
        return int(requested)
    return 1 if batch_size * parameters < SMALL_WORK else None


@contextmanager
def torch_threads(n: int | None):
    """Use ``n`` intra-op threads inside the block (None: leave torch's setting)."""
    import torch

    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
