"""Data-parallel training with torch.distributed, launched by torchrun (``training.distributed``).

``torchrun --nproc-per-node N -m auditor run SPEC`` starts N processes (several machines
add ``--nnodes``, ``--node-rank`` and ``--rdzv-endpoint``, docs/scaling.md). torchrun sets
RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT; every process reads the spec and
builds the data itself (the same seeded splits and preprocessing), then the processes join
one group for the training of the audited model only:

- first they compare the SHA-256 fingerprints of the data each one read (the spec's files,
  or the DataFrames the caller's script gave ``auditor.run`` in each process): when a
  rank's differ from rank 0's, every process stops with the same error naming the ranks
  and the inputs (:func:`check_same_data`);
- the model is wrapped in DistributedDataParallel, which averages the gradients across
  processes at every step (and gives every process rank 0's buffers, such as batch-norm
  running statistics);
- every epoch DistributedSampler, seeded with ``training.seed`` and ``set_epoch`` each
  epoch, deals each process its shard of one permutation of the training rows that every
  process draws alike; a step takes ``batch_size / N`` rows on each process, so one step
  covers ``training.batch_size`` rows in all: the rows one process takes in one step of the
  same spec (world size 1 deals the whole permutation to one process);
- every process validates on the whole validation split; the training and validation
  losses and the validation figure are averaged across processes, and rank 0's stop
  decision is broadcast, so every process stops at the same epoch;
- after the last epoch the processes meet at a barrier and leave the group; rank 0 alone
  evaluates, audits and writes, and the others end (``auditor.pipeline``).

Declared but not launched by torchrun, the model trains in one process with the same steps
and row order, and the model's notes say so. The CUDA path (NCCL, one GPU per process chosen
by LOCAL_RANK) is the same code with CUDA tensors.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.errors import DataError, DeviceError, Location, SpecError, UsageError
from auditor.in_memory import FRAME_FORMAT

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from auditor.types import Spec

#: ``training.distributed.backend`` -> what it means (the schema's enum is read from here).
BACKENDS: dict[str, str] = {
    "auto": "NCCL on CUDA devices, gloo otherwise",
    "gloo": "gloo (CPU tensors; CUDA tensors too, more slowly than NCCL)",
    "nccl": "NCCL (CUDA devices only, one GPU per process)",
}

MSG_NOT_DECLARED = (
    "launched by torchrun as {world} processes, but training.distributed is not declared: "
    "each process would run the whole audit; declare it (distributed: {{backend: auto}}) or "
    "run auditor without torchrun"
)
MSG_VENDOR = (
    "launched by torchrun as {world} processes, but a vendor's model (model.vendor) is "
    "audited as it is and nothing is trained: run auditor without torchrun"
)
MSG_TUNING = (
    "a search does not run under torchrun ({world} processes): run it with auditor tune "
    "(--workers N shares its trials), write the chosen values into the spec, then train "
    "that spec with torchrun"
)
MSG_BATCH = (
    "batch_size ({batch}) is the rows of one step across all {world} processes, so it must "
    "be a multiple of {world}"
)
MSG_DEVICE_TYPE = (
    "data-parallel training runs on CPU or CUDA devices, and this run trains on {device!r}"
)
MSG_DEVICE_INDEX = (
    "under torchrun each process trains on the GPU of its LOCAL_RANK, so training.device "
    "cannot name {device!r}: write cuda or auto"
)
MSG_FEW_GPUS = (
    "LOCAL_RANK {local_rank} has no GPU: this machine has {n} CUDA device(s), so launch at "
    "most {n} processes per machine"
)
MSG_NCCL_NEEDS_CUDA = "backend 'nccl' needs CUDA devices, and this run trains on {device!r}"
MSG_UNAVAILABLE = "backend {backend!r} is not available in this PyTorch build{hint}"
MSG_NO_DISTRIBUTED = "this PyTorch build has no torch.distributed: train without torchrun"
MSG_DONE = (
    "rank {rank} of {world}: training done with the other processes; rank 0 evaluates, "
    "audits and writes the outputs"
)
MSG_BAD_ENVIRONMENT = "torchrun's {name} is {value!r}, not a whole number"
MSG_DATA_DIFFERS = "{differences}: {fix}"
MSG_INPUT_DIFFERS = "rank {rank}'s {what} differs from rank 0's (fingerprint {theirs} vs {ours})"
MSG_INPUT_ONLY_ONE = "rank {rank} has a {what} and rank 0 has none"
MSG_INPUT_MISSING = "rank {rank} has no {what} and rank 0 has one"
MSG_MORE_DIFFERENCES = "and {n} more"
FIX_FRAMES = "every process must build the same frames"
FIX_FILES = "every process must read the same files (was one changed while they read it?)"
#: Differences a message names; the rest are counted.
MAX_DIFFERENCES_NAMED = 3
#: Hex digits of a fingerprint a message shows.
SHORT_FINGERPRINT = 12

NOTE_PARALLEL = (
    "Trained data-parallel in {world} processes (torchrun, {backend}): each step averaged "
    "the gradients of {world} batches of {per_process} {unit} ({batch} {unit} a step, "
    "training.batch_size); rank 0 evaluated the model and wrote this report."
)
NOTE_ONE_PROCESS = (
    "training.distributed is declared, but the run was not launched by torchrun with more "
    "than one process: trained in one process, in steps of {batch} {unit} "
    "(training.batch_size), as data-parallel processes would together."
)


@dataclass(frozen=True)
class Processes:
    """Where this process stands: torchrun's rank, world size and local rank.

    ``backend`` is the resolved backend of a data-parallel run (None for one process).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    launched: bool = False  # by torchrun (RANK and WORLD_SIZE are in the environment)
    backend: str | None = None

    @property
    def main(self) -> bool:
        """Whether this process evaluates, audits and writes (rank 0)."""
        return self.rank == 0

    @property
    def parallel(self) -> bool:
        """Whether several processes train together."""
        return self.world_size > 1

    def done(self) -> str:
        """What a process other than rank 0 says when it ends (it writes nothing)."""
        return MSG_DONE.format(rank=self.rank, world=self.world_size)


ONE_PROCESS = Processes()


def _whole(env: Mapping[str, str], name: str, default: int = 0) -> int:
    value = env.get(name, str(default))
    try:
        return int(value)
    except ValueError:
        raise UsageError(MSG_BAD_ENVIRONMENT.format(name=name, value=value)) from None


def launched_processes(env: Mapping[str, str] | None = None) -> Processes:
    """This process's place from torchrun's environment; one process without it.

    Reads only the environment (no torch import), so the pipeline can ask before anything.
    """
    env = os.environ if env is None else env
    if "RANK" not in env or "WORLD_SIZE" not in env:
        return ONE_PROCESS
    return Processes(
        rank=_whole(env, "RANK"),
        world_size=_whole(env, "WORLD_SIZE", 1),
        local_rank=_whole(env, "LOCAL_RANK"),
        launched=True,
    )


def processes_for(spec: Spec, env: Mapping[str, str] | None = None) -> Processes:
    """This process's place, checked against the spec before any work is done.

    Raises
    ------
    SpecError
        Several processes were launched for a spec that cannot share its training: no
        ``training.distributed``, a vendor's model, a search, or a batch size that the
        processes cannot split evenly.
    DeviceError
        The device or backend cannot serve a data-parallel run (nccl without CUDA, MPS, a
        GPU index named in the spec, fewer GPUs than processes on this machine).
    """
    processes = launched_processes(env)
    if not processes.parallel:
        return processes
    training, world = spec.training, processes.world_size
    if spec.model.vendor is not None:
        raise SpecError(MSG_VENDOR.format(world=world), spec.locate(("model", "vendor")))
    if training.distributed is None:
        raise SpecError(MSG_NOT_DECLARED.format(world=world), spec.locate(("training",)))
    if spec.tuning is not None:
        raise SpecError(MSG_TUNING.format(world=world), spec.locate(("tuning",)))
    if training.batch_size % world:
        raise SpecError(
            MSG_BATCH.format(batch=training.batch_size, world=world),
            spec.locate(("training", "batch_size")),
        )
    device = process_device(spec, processes)
    backend = resolve_backend(
        training.distributed.backend,
        device,
        location=spec.locate(("training", "distributed", "backend")),
    )
    return Processes(
        rank=processes.rank,
        world_size=world,
        local_rank=processes.local_rank,
        launched=True,
        backend=backend,
    )


def process_device(spec: Spec, processes: Processes) -> torch.device:
    """The device this process trains on: the spec's, and under several processes on CUDA
    the GPU of this process's LOCAL_RANK (DeviceError when it cannot be)."""
    import torch

    from auditor.train.device import resolve_device

    where = spec.locate(("training", "device"))
    requested = spec.training.device
    device = resolve_device(requested, location=where)
    if not processes.parallel:
        return device
    if device.type not in ("cpu", "cuda"):
        raise DeviceError(MSG_DEVICE_TYPE.format(device=str(device)), where)
    if device.type == "cpu":
        return device
    if ":" in requested:
        raise DeviceError(MSG_DEVICE_INDEX.format(device=requested), where)
    count = torch.cuda.device_count()
    if processes.local_rank >= count:
        raise DeviceError(MSG_FEW_GPUS.format(local_rank=processes.local_rank, n=count), where)
    return torch.device("cuda", processes.local_rank)


def resolve_backend(requested: str, device: torch.device, *, location=None) -> str:
    """The backend for ``training.distributed.backend`` on ``device`` (auto: NCCL on CUDA,
    gloo otherwise); DeviceError when this build or device cannot use it."""
    import torch.distributed as dist

    if not dist.is_available():
        raise DeviceError(MSG_NO_DISTRIBUTED, location)
    name = requested
    if name == "auto":
        name = "nccl" if device.type == "cuda" else "gloo"
    if name == "nccl" and device.type != "cuda":
        raise DeviceError(MSG_NCCL_NEEDS_CUDA.format(device=str(device)), location)
    available = dist.is_nccl_available() if name == "nccl" else dist.is_gloo_available()
    if not available:
        hint = " (a CUDA build of PyTorch has it)" if name == "nccl" else ""
        raise DeviceError(MSG_UNAVAILABLE.format(backend=name, hint=hint), location)
    return name


class Shards:
    """How one process takes its training rows each epoch and agrees with the others.

    With one process (``world_size`` 1: declared but not launched by torchrun, or a model
    rank 0 trains alone afterwards, such as a learning curve's) it deals the whole
    permutation and agrees with itself; nothing is exchanged.

    Parameters
    ----------
    rows : int
        Training rows (every process holds all of them; it trains on its shard).
    batch_size : int
        ``training.batch_size``: the rows of one step across all processes.
    seed : int
        ``training.seed``: the permutation of epoch ``e`` is drawn from ``seed + e``.
    processes : Processes
        This process's rank and the world size.
    device : torch.device
        Where the rows, the model and the exchanged figures live.
    unit : str
        What a row is, in the notes and the record (``sequences`` for a language model).
    """

    def __init__(
        self,
        *,
        rows: int,
        batch_size: int,
        seed: int,
        processes: Processes,
        device: torch.device,
        unit: str = "rows",
    ) -> None:
        from torch.utils.data import DistributedSampler

        self.unit = unit
        self.rank, self.world_size = processes.rank, processes.world_size
        self.backend = processes.backend
        self.exchanging = processes.parallel
        self.rows, self.seed, self.device = int(rows), int(seed), device
        self.batch_size = int(batch_size)
        self.per_process = max(1, self.batch_size // self.world_size)
        common = {"num_replicas": self.world_size, "rank": self.rank, "drop_last": False}
        self.sampler = DistributedSampler(range(self.rows), shuffle=True, seed=self.seed, **common)
        # oversampling: the processes deal out one weighted draw, position by position
        self.dealer = DistributedSampler(range(self.rows), shuffle=False, **common)
        self.rows_per_epoch = len(self.sampler)  # ceil(rows / world): the last rows repeat
        self._positions: torch.Tensor | None = None

    def epoch_rows(self, epoch: int, cumulative_weights: torch.Tensor | None = None):
        """This process's training rows for ``epoch`` (1-based), in order, on the device.

        Without weights: DistributedSampler's shard of the epoch's permutation. With
        cumulative per-row weights (oversampling): its shard of one weighted draw with
        replacement that every process makes alike (seeded with ``seed + epoch``).
        """
        import torch

        if cumulative_weights is None:
            self.sampler.set_epoch(epoch)
            return torch.as_tensor(list(self.sampler), dtype=torch.int64).to(self.device)
        generator = torch.Generator()
        generator.manual_seed(self.seed + epoch)
        weights = cumulative_weights.cpu()
        u = torch.rand(self.rows, generator=generator, dtype=torch.float64)
        drawn = torch.searchsorted(weights, u * weights[-1], right=True).clamp_(max=self.rows - 1)
        if self._positions is None:
            self._positions = torch.as_tensor(list(self.dealer), dtype=torch.int64)
        return drawn.index_select(0, self._positions).to(self.device)

    def wrap(self, model):
        """The module that trains: DistributedDataParallel around ``model`` when processes
        exchange gradients, else ``model`` itself."""
        if not self.exchanging:
            return model
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids, output_device=None)

    def mean(self, *values: float) -> tuple[float, ...]:
        """Each figure averaged across the processes (the figures themselves alone)."""
        if not self.exchanging:
            return tuple(values)
        import torch
        import torch.distributed as dist

        summed = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(summed)
        return tuple(float(v) / self.world_size for v in summed.cpu().tolist())

    def total(self, *values: float) -> tuple[float, ...]:
        """Each figure summed across the processes (float64; the figures themselves alone)."""
        if not self.exchanging:
            return tuple(float(v) for v in values)
        import torch
        import torch.distributed as dist

        summed = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(summed)
        return tuple(float(v) for v in summed.cpu().tolist())

    def same_weights(self, model) -> bool:
        """Whether every process holds the same weights: a float64 checksum of each
        parameter (its sum and its sum of squares, weighed by position) is compared by its
        maximum and minimum across the processes (True with one process)."""
        if not self.exchanging:
            return True
        import torch
        import torch.distributed as dist

        with torch.no_grad():
            sums = [
                (k + 1) * p.detach().double().sum() + p.detach().double().square().sum()
                for k, p in enumerate(model.parameters())
            ]
            checksum = torch.stack(sums).to(self.device)
        high, low = checksum.clone(), checksum.clone()
        dist.all_reduce(high, op=dist.ReduceOp.MAX)
        dist.all_reduce(low, op=dist.ReduceOp.MIN)
        return bool(torch.equal(high, low))

    def step_order(self, epoch: int):
        """The whole step order of ``epoch`` across the processes: every process's shard
        interleaved, so step ``s`` of all processes takes positions ``s * batch_size`` to
        ``(s + 1) * batch_size`` (a language model weighs each step's loss by the tokens
        of the whole step, which every process counts alike without exchanging)."""
        import torch
        from torch.utils.data import DistributedSampler

        parts = []
        for rank in range(self.world_size):
            sampler = DistributedSampler(
                range(self.rows),
                num_replicas=self.world_size,
                rank=rank,
                shuffle=True,
                seed=self.seed,
                drop_last=False,
            )
            sampler.set_epoch(epoch)
            parts.append(torch.as_tensor(list(sampler), dtype=torch.int64))
        return torch.stack(parts, 1).reshape(-1).to(self.device)

    def agree(self, decision: bool) -> bool:
        """Rank 0's ``decision``, on every process (a time budget reads each one's clock)."""
        if not self.exchanging:
            return decision
        import torch
        import torch.distributed as dist

        flag = torch.tensor([1 if decision else 0], dtype=torch.int64, device=self.device)
        dist.broadcast(flag, src=0)
        return bool(flag.item())

    def describe(self) -> dict[str, Any]:
        """What the run records: processes, backend and the batch per process and per step."""
        return {
            "processes": self.world_size,
            "backend": self.backend,
            "rank": self.rank,
            "batch_per_process": self.per_process,
            "batch_per_step": self.per_process * self.world_size,
            f"{self.unit}_per_process": self.rows_per_epoch,
        }

    def note(self) -> str:
        """The sentence the model's notes carry (the report shows it)."""
        if self.exchanging:
            return NOTE_PARALLEL.format(
                world=self.world_size,
                backend=self.backend,
                per_process=self.per_process,
                batch=self.per_process * self.world_size,
                unit=self.unit,
            )
        return NOTE_ONE_PROCESS.format(batch=self.batch_size, unit=self.unit)


# --------------------------------------------------------------------------- same data
def _inputs(sources: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """A dataset's sources by key (the split a file or frame is read as, else its role)."""
    return {str(s.get("split") or s.get("role")): s for s in sources}


def _input_words(key: str, source: Mapping[str, Any]) -> str:
    """How a message names one input: '`train` frame', '`holdout` file client.csv'."""
    if source.get("format") == FRAME_FORMAT:
        return f"`{key}` frame"
    return f"`{key}` file {Path(str(source.get('path', ''))).name}"


def _short(digest: Any) -> str:
    return f"{str(digest)[:SHORT_FINGERPRINT]}…"


def data_differences(per_rank: Sequence[Sequence[Mapping[str, Any]]]) -> DataError | None:
    """The error every process raises when a rank's inputs differ from rank 0's, or None.

    ``per_rank[r]``: the sources rank ``r`` read (``Dataset.sources``: each input's key,
    format, path and SHA-256). A pure function of what every process gathered, so each one
    decides alike and raises the same error, or none does.
    """
    ours = _inputs(per_rank[0])
    found: list[tuple[str, str, list[Mapping[str, Any]]]] = []  # (sentence, key, sources)
    for rank, sources in enumerate(per_rank[1:], start=1):
        theirs = _inputs(sources)
        for key in [*ours, *(k for k in theirs if k not in ours)]:
            mine, other = ours.get(key), theirs.get(key)
            if mine is not None and other is not None:
                if mine.get("sha256") == other.get("sha256"):
                    continue
                sentence = MSG_INPUT_DIFFERS.format(
                    rank=rank,
                    what=_input_words(key, other),
                    theirs=_short(other.get("sha256")),
                    ours=_short(mine.get("sha256")),
                )
            elif other is not None:
                sentence = MSG_INPUT_ONLY_ONE.format(rank=rank, what=_input_words(key, other))
            else:
                sentence = MSG_INPUT_MISSING.format(rank=rank, what=_input_words(key, mine))
            found.append((sentence, key, [s for s in (mine, other) if s is not None]))
    if not found:
        return None
    named = [sentence for sentence, _, _ in found[:MAX_DIFFERENCES_NAMED]]
    if len(found) > MAX_DIFFERENCES_NAMED:
        named.append(MSG_MORE_DIFFERENCES.format(n=len(found) - MAX_DIFFERENCES_NAMED))
    frames = any(s.get("format") == FRAME_FORMAT for _, _, both in found for s in both)
    _, key, (first, *_) = found[0]
    where = (
        Location(path=("data", key))
        if first.get("format") == FRAME_FORMAT
        else Location(file=str(first.get("path", "")))
    )
    message = MSG_DATA_DIFFERS.format(
        differences="; ".join(named), fix=FIX_FRAMES if frames else FIX_FILES
    )
    return DataError(message, where)


def gathered_text(text: str, processes: Processes, device: torch.device) -> list[str]:
    """Every process's ``text``, by rank, on every process (inside the process group).

    Each travels as UTF-8 bytes in a tensor, padded to the longest (the lengths are
    gathered first), never pickled; every process joins both collectives.
    """
    import torch
    import torch.distributed as dist

    data = text.encode("utf-8")
    length = torch.tensor([len(data)], dtype=torch.int64, device=device)
    lengths = [torch.zeros_like(length) for _ in range(processes.world_size)]
    dist.all_gather(lengths, length)
    sizes = [int(n.item()) for n in lengths]
    buffer = torch.zeros(max(max(sizes), 1), dtype=torch.uint8, device=device)
    if data:
        buffer[: len(data)] = torch.frombuffer(bytearray(data), dtype=torch.uint8).to(device)
    buffers = [torch.zeros_like(buffer) for _ in range(processes.world_size)]
    dist.all_gather(buffers, buffer)
    return [
        b[:n].cpu().numpy().tobytes().decode("utf-8") for b, n in zip(buffers, sizes, strict=True)
    ]


def check_same_data(
    sources: Sequence[Mapping[str, Any]], processes: Processes, device: torch.device
) -> None:
    """Raise the same DataError on every process when a rank read other data than rank 0.

    Every process hands in the fingerprints of the inputs it read (``Dataset.sources``: the
    frames given to the API or the spec's files); they are gathered on every process and
    compared with rank 0's, so every process reaches the same decision (none waits in a
    collective while another raises). Nothing is exchanged outside a data-parallel group.
    """
    import torch.distributed as dist

    if not processes.parallel or not dist.is_available() or not dist.is_initialized():
        return
    keys = ("split", "role", "format", "path", "sha256")
    mine = [{k: s[k] for k in keys if s.get(k) is not None} for s in sources]
    texts = gathered_text(json.dumps(mine, sort_keys=True), processes, device)
    error = data_differences([json.loads(t) for t in texts])
    if error is not None:
        raise error


@contextmanager
def process_group(
    spec: Spec,
    processes: Processes,
    device: torch.device,
    *,
    sources: Sequence[Mapping[str, Any]] | None = None,
) -> Iterator[bool]:
    """Join the process group (several processes and ``training.distributed``), leave it after.

    Yields whether this process joined. Once joined, the processes compare the fingerprints
    of the data each one read (``sources``, the dataset's; :func:`check_same_data`): when a
    rank's differ from rank 0's, every process raises the same DataError. On success the
    processes meet at a barrier before leaving, so none ends while another still trains;
    after an error the group is left at once.
    """
    declared = spec.training.distributed
    if declared is None or not processes.parallel:
        yield False
        return
    import datetime as dt

    import torch
    import torch.distributed as dist

    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(
        backend=processes.backend,
        init_method="env://",
        rank=processes.rank,
        world_size=processes.world_size,
        timeout=dt.timedelta(seconds=float(declared.timeout)),
        device_id=device if device.type == "cuda" else None,
    )
    try:
        check_same_data(sources or (), processes, device)
        yield True
        if device.type == "cuda":
            dist.barrier(device_ids=[device.index])
        else:
            dist.barrier()
    finally:
        dist.destroy_process_group()


def shards_for(
    spec: Spec, processes: Processes, device: torch.device, *, rows: int, unit: str = "rows"
) -> Shards | None:
    """The :class:`Shards` of one training inside :func:`process_group` (None when the spec
    declares no ``training.distributed``; one process's when not launched in parallel)."""
    if spec.training.distributed is None:
        return None
    return Shards(
        rows=rows,
        batch_size=spec.training.batch_size,
        seed=spec.training.seed,
        processes=processes if processes.parallel else ONE_PROCESS,
        device=device,
        unit=unit,
    )


@contextmanager
def data_parallel(
    spec: Spec,
    processes: Processes,
    device: torch.device,
    *,
    rows: int,
    sources: Sequence[Mapping[str, Any]] | None = None,
) -> Iterator[Shards | None]:
    """:func:`process_group` for one training of ``rows`` rows (``sources``: the data this
    process read, compared with rank 0's), yielding its :func:`shards_for` (None when the
    spec declares no ``training.distributed``)."""
    with process_group(spec, processes, device, sources=sources):
        yield shards_for(spec, processes, device, rows=rows)


def from_rank_zero(make: Callable[[], str], processes: Processes, device: torch.device) -> str:
    """Rank 0's ``make()`` on every process of the group (``make`` runs on rank 0 alone), or
    ``make()`` itself outside a group: how a tokenizer trained once reaches every process.

    The text travels as :func:`gathered_text` carries it (the other ranks send nothing).
    """
    import torch.distributed as dist

    if not processes.parallel or not dist.is_available() or not dist.is_initialized():
        return make()
    return gathered_text(make() if processes.main else "", processes, device)[0]
