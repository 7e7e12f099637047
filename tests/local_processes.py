"""Helpers for tests that start local processes: a free loopback port, two torchrun ranks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

#: torchrun's variables: removed from the launching test's environment, so the ranks see
#: only the ones torchrun sets (a test run under torchrun itself must not leak them).
TORCHRUN_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK")
TORCHRUN_ENV += ("MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_RUN_ID")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _torchrun() -> list[str]:
    beside = Path(sys.executable).with_name("torchrun")
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "torch.distributed.run"]


def torchrun_two(
    arguments: Sequence[str],
    *,
    cwd: Path,
    timeout: float,
    pythonpath: Path | None = None,
    monitor_interval: float | None = None,
) -> subprocess.CompletedProcess:
    """``torchrun --nproc-per-node 2 ARGUMENTS`` on 127.0.0.1, one OpenMP thread a rank.

    ``pythonpath`` is put first on the ranks' PYTHONPATH; ``monitor_interval`` (seconds)
    is how soon torchrun notices a rank that ended; ``timeout`` only guards against a hang.
    """
    env = {k: v for k, v in os.environ.items() if k not in TORCHRUN_ENV}
    env["OMP_NUM_THREADS"] = "1"
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(pythonpath), env.get("PYTHONPATH", "")])
        env["PYTHONPATH"] = env["PYTHONPATH"].rstrip(os.pathsep)
    command = [*_torchrun(), "--nnodes", "1", "--nproc-per-node", "2"]
    command += ["--master-addr", "127.0.0.1", "--master-port", str(free_port())]
    if monitor_interval is not None:
        command += ["--monitor-interval", str(monitor_interval)]
    return subprocess.run(
        [*command, *arguments], capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout
    )
