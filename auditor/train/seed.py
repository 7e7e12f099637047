"""Seeding and determinism: same spec, data and seed on CPU give the same model."""

from __future__ import annotations

import os
import random


def seed_everything(seed: int, *, deterministic: bool = True, device_type: str = "cpu") -> None:
    """Seed Python, NumPy and torch; switch torch to deterministic algorithms.

    On the CPU deterministic algorithms are always used. On CUDA they are used when
    ``deterministic`` is true (cuBLAS then needs a fixed workspace, set here).

    The first call in a process costs a few seconds: torch imports torch._dynamo here (and
    its optimizers do too); every later call is instant.
    """
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if device_type == "cuda":
        torch.cuda.manual_seed_all(seed)
    if device_type == "cpu" or deterministic:
        if device_type == "cuda":
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True, warn_only=device_type != "cpu")
    else:
        torch.use_deterministic_algorithms(False)
