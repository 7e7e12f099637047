"""Data-parallel training (``training.distributed``): the spec, the shards, and torchrun.

The end-to-end test launches two CPU processes with torchrun (gloo) on a small generated
problem and compares them with one process training the same spec. The comparison is
meaningful because ``training.batch_size`` is the rows of one step across all processes:
each of the two processes takes half of every step's rows (DistributedSampler's shard of
the same permutation), and DistributedDataParallel averages the two half-batch gradients,
which is the full batch's mean gradient. Only the floating-point summation order differs
(two means of 16 rows averaged, against one mean of 32), so the two runs agree to float32
rounding: observed differences are about 3e-8 in the losses and metrics and 3e-7 in the
weights; the test allows 1e-6 and 1e-5 (a real difference in what is trained, such as a
shard twice the size, a different row order or no gradient averaging, moves them by 1e-3
or more).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from train_problems import problem

from auditor.cli import main
from auditor.errors import DeviceError, SpecError, SpecErrors, UsageError
from auditor.spec import load_spec, rules
from auditor.train import distributed
from auditor.train.distributed import Processes, Shards, launched_processes, processes_for
from tests.local_processes import torchrun_two
from tests.spec.located import assert_refused_on_one_line

SPEC = """\
version: 1
name: ddp-check
objective: {task: binary, target: y, purpose: Data-parallel check.}
data:
  train: train.csv
  sensitive: [sex]
  split: {strategy: stratified, validation: 0.2, test: 0.2, seed: 1}
model: {architecture: mlp, hidden: [16]}
training:
  batch_size: 32
  epochs: 8
  learning_rate: 0.01
  device: cpu
  seed: 3
  distributed: {backend: gloo}
evaluation:
  bootstrap: 50
  learning_curve: {enabled: false}
acceptance:
  - {metric: roc_auc, split: test, at_least: 0.5}
report: {output: reports}
"""
DISTRIBUTED = "  distributed: {backend: gloo}"  # line 15
LOSS_TOLERANCE = 1e-6  # losses, validation figures and audited metrics
WEIGHT_TOLERANCE = 1e-5  # every weight of the saved model


def edit(old: str, new: str, text: str = SPEC) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def write(folder: Path, text: str = SPEC) -> Path:
    """The spec in ``folder`` beside its 400-row training file (240 train rows)."""
    if not (folder / "train.csv").exists():
        problem("binary", n=400, seed=3).to_csv(folder / "train.csv", index=False)
    path = folder / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def torchrun_env(world: int = 2, rank: int = 0) -> dict[str, str]:
    return {"RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank)}


# --------------------------------------------------------------------------- the spec
CASES = [
    (
        "unknown-backend",
        edit(DISTRIBUTED, "  distributed: {backend: ncll}"),
        15,
        "training.distributed.backend",
        "must be one of auto, gloo, nccl, got 'ncll' (did you mean 'nccl'?)",
    ),
    (
        "unknown-key",
        edit(DISTRIBUTED, "  distributed: {backnd: gloo}"),
        15,
        "training.distributed.backnd",
        "unknown key 'backnd' (did you mean 'backend'?)",
    ),
    (
        "not-an-object",
        edit(DISTRIBUTED, "  distributed: yes"),
        15,
        "training.distributed",
        "must be a mapping or null, got 'yes'",
    ),
    (
        "zero-timeout",
        edit(DISTRIBUTED, "  distributed: {timeout: 0}"),
        15,
        "training.distributed.timeout",
        "must be a number greater than 0",
    ),
    (
        "nccl-on-cpu",
        edit(DISTRIBUTED, "  distributed: {backend: nccl}"),
        15,
        "training.distributed.backend",
        rules.MSG_DISTRIBUTED_NCCL_CPU,
    ),
]


@pytest.mark.parametrize(
    "text, line, path, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_broken_distributed_option_is_refused_on_one_located_line(
    tmp_path: Path, capsys, text, line, path, message
):
    spec = write(tmp_path, text)
    assert_refused_on_one_line(main, capsys, spec, line, path, message)


def test_a_vendor_model_has_nothing_to_train_in_parallel(tmp_path: Path):
    vendor = "model: {vendor: {format: onnx, path: m.onnx}}"
    text = edit("model: {architecture: mlp, hidden: [16]}", vendor)
    with pytest.raises(SpecErrors) as excinfo:
        load_spec(write(tmp_path, text), check_data=False)
    expected = f"{tmp_path / 'spec.yaml'}:15:3: training.distributed: "
    assert str(excinfo.value) == expected + rules.MSG_DISTRIBUTED_VENDOR


def test_the_option_resolves_its_defaults_and_is_null_when_absent(tmp_path: Path):
    declared = load_spec(write(tmp_path, edit(DISTRIBUTED, "  distributed: {}"))).training
    assert (declared.distributed.backend, declared.distributed.timeout) == ("auto", 1800)
    assert load_spec(write(tmp_path, edit(DISTRIBUTED + "\n", ""))).training.distributed is None


def test_the_backends_are_the_schema_enum():
    from auditor.spec import load_schema

    node = load_schema()["properties"]["training"]["properties"]["distributed"]
    assert node["properties"]["backend"]["enum"] == list(distributed.BACKENDS)


# --------------------------------------------------------------------------- the launch
def test_torchrun_environment_gives_rank_world_and_local_rank():
    assert launched_processes({}) == Processes()
    found = launched_processes({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"})
    assert (found.rank, found.world_size, found.local_rank, found.launched) == (3, 4, 1, True)
    assert not found.main and found.parallel
    with pytest.raises(UsageError, match="RANK is 'x'"):
        launched_processes({"RANK": "x", "WORLD_SIZE": "2"})


def test_one_process_or_not_launched_needs_nothing_from_the_spec(tmp_path: Path):
    spec = load_spec(write(tmp_path, edit(DISTRIBUTED + "\n", "")), check_data=False)
    assert processes_for(spec, {}) == Processes()
    assert processes_for(spec, torchrun_env(world=1)).world_size == 1


def test_two_processes_join_with_the_resolved_backend(tmp_path: Path):
    spec = load_spec(write(tmp_path, edit(DISTRIBUTED, "  distributed: {}")), check_data=False)
    found = processes_for(spec, torchrun_env(rank=1))
    assert (found.rank, found.world_size, found.backend) == (1, 2, "gloo")  # auto on a CPU


def _refusal(tmp_path: Path, text: str, env: dict[str, str]) -> str:
    spec = load_spec(write(tmp_path, text), check_data=False)
    with pytest.raises((SpecError, DeviceError)) as excinfo:
        processes_for(spec, env)
    assert excinfo.value.exit_code == 2
    return str(excinfo.value)


def test_torchrun_without_the_option_is_refused_at_training(tmp_path: Path):
    message = _refusal(tmp_path, edit(DISTRIBUTED + "\n", ""), torchrun_env())
    assert message == f"{tmp_path / 'spec.yaml'}:9:1: training: " + (
        distributed.MSG_NOT_DECLARED.format(world=2)
    )


def test_torchrun_with_a_batch_the_processes_cannot_split_is_refused(tmp_path: Path):
    message = _refusal(tmp_path, SPEC, torchrun_env(world=3))
    expected = distributed.MSG_BATCH.format(batch=32, world=3)
    assert message == f"{tmp_path / 'spec.yaml'}:10:15: training.batch_size: {expected}"


def test_torchrun_with_a_search_is_refused_at_tuning(tmp_path: Path):
    pytest.importorskip("optuna")
    text = SPEC + "tuning:\n  trials: 2\n  space:\n    - {option: model.dropout, choices: [0.1]}\n"
    message = _refusal(tmp_path, text, torchrun_env())
    assert message.endswith(f"tuning: {distributed.MSG_TUNING.format(world=2)}")


def test_torchrun_for_a_vendor_model_is_refused(tmp_path: Path):
    text = edit(DISTRIBUTED + "\n", "").replace(
        "model: {architecture: mlp, hidden: [16]}", "model: {vendor: {format: onnx, path: m.onnx}}"
    )
    message = _refusal(tmp_path, text, torchrun_env())
    assert message.endswith(f"model.vendor: {distributed.MSG_VENDOR.format(world=2)}")


@pytest.mark.parametrize(
    "backend, chosen", [("auto", "gloo"), ("gloo", "gloo"), ("nccl", None)], ids=str
)
def test_each_backend_on_a_cpu(backend, chosen):
    import torch

    cpu = torch.device("cpu")
    if chosen is None:
        with pytest.raises(DeviceError, match="needs CUDA devices"):
            distributed.resolve_backend(backend, cpu)
    else:
        assert distributed.resolve_backend(backend, cpu) == chosen


def test_nccl_needs_cuda_devices(tmp_path: Path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: nccl is allowed")
    text = edit(DISTRIBUTED, "  distributed: {backend: nccl}")
    text = edit("device: cpu", "device: auto", text)
    message = _refusal(tmp_path, text, torchrun_env())
    assert message.endswith(distributed.MSG_NCCL_NEEDS_CUDA.format(device="cpu"))


# --------------------------------------------------------------------------- the shards
def _shards(world: int, rank: int, *, rows: int = 40, batch: int = 8) -> Shards:
    import torch

    processes = Processes(rank=rank, world_size=world, local_rank=rank)
    device = torch.device("cpu")  # dealing rows needs no process group
    return Shards(rows=rows, batch_size=batch, seed=7, processes=processes, device=device)


def test_each_step_of_two_processes_takes_the_rows_of_one_processs_step():
    from torch.utils.data import DistributedSampler

    alone, first, second = _shards(1, 0), _shards(2, 0), _shards(2, 1)
    assert (first.per_process, first.rows_per_epoch, alone.per_process) == (4, 20, 8)
    orders = []
    for epoch in (1, 2):
        whole = alone.epoch_rows(epoch).tolist()
        parts = [first.epoch_rows(epoch).tolist(), second.epoch_rows(epoch).tolist()]
        for step in range(5):
            taken = sorted(p for part in parts for p in part[step * 4 : (step + 1) * 4])
            assert taken == sorted(whole[step * 8 : (step + 1) * 8]), (epoch, step)
        sampler = DistributedSampler(range(40), num_replicas=2, rank=1, shuffle=True, seed=7)
        sampler.set_epoch(epoch)
        assert parts[1] == list(sampler)  # DistributedSampler's shard, seeded, per epoch
        orders.append(whole)
    assert orders[0] != orders[1] and sorted(orders[0]) == list(range(40))


def test_oversampling_deals_out_one_weighted_draw():
    import torch

    weights = torch.cumsum(torch.linspace(0.1, 2.0, 40, dtype=torch.float64), 0)
    whole = _shards(1, 0).epoch_rows(3, weights)
    parts = [_shards(2, r).epoch_rows(3, weights) for r in (0, 1)]
    assert torch.equal(torch.stack(parts, 1).reshape(-1), whole)
    assert not torch.equal(whole, _shards(1, 0).epoch_rows(4, weights))


# --------------------------------------------------------------------------- torchrun
def launch_two(spec: Path, folder: Path) -> subprocess.CompletedProcess:
    """``auditor run SPEC --quiet`` in two torchrun processes on 127.0.0.1, in ``folder``."""
    return torchrun_two(["-m", "auditor", "run", str(spec), "--quiet"], cwd=folder, timeout=300)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The spec run by two torchrun processes, and by one process (this one)."""
    two, one = tmp_path_factory.mktemp("two"), tmp_path_factory.mktemp("one")
    proc = launch_two(write(two), two)
    alone = main(["run", str(write(one)), "--quiet"])
    return proc, two, alone, one


def _files(folder: Path) -> list[str]:
    """Every file under ``folder`` (hidden ones too), by its path relative to it."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def _run_folder(folder: Path) -> Path:
    (found,) = (folder / "reports" / "ddp-check").iterdir()  # exactly one run folder
    return found


def test_two_processes_complete_and_rank_zero_alone_writes(runs):
    proc, two, _, one = runs
    assert proc.returncode == 0, proc.stdout + proc.stderr  # READY, like one process
    assert distributed.MSG_DONE.format(rank=1, world=2) in proc.stdout
    assert proc.stdout.count("READY: ") == 1  # one verdict, rank 0's
    out = _run_folder(two)  # one run folder: rank 1 made none of its own
    written = _files(out)
    assert written == _files(_run_folder(one))  # what one process writes, once
    assert {"results.json", "report.pdf", "report.html", "model/model.safetensors"} <= set(written)
    assert not [name for name in written if name.endswith(".tmp")]  # nothing half-written
    beside = sorted(str(p.relative_to(two)) for p in two.iterdir() if p.is_file())
    assert beside == ["spec.yaml", "train.csv"]
    info = json.loads((out / "results.json").read_text())["model"]["info"]
    assert info["distributed"] == {
        "processes": 2,
        "backend": "gloo",
        "rank": 0,
        "batch_per_process": 16,
        "batch_per_step": 32,
        "rows_per_process": 120,
    }
    assert info["notes"][0].startswith("Trained data-parallel in 2 processes (torchrun, gloo)")
    assert info["notes"][0] in (out / "report.html").read_text()  # the report says so


def test_not_launched_by_torchrun_one_process_trains_and_says_so(runs):
    _, _, alone, one = runs
    assert alone == 0
    out = _run_folder(one)
    info = json.loads((out / "results.json").read_text())["model"]["info"]
    assert info["distributed"]["processes"] == 1
    assert info["notes"] == [distributed.NOTE_ONE_PROCESS.format(batch=32, unit="rows")]
    assert info["notes"][0] in (out / "report.html").read_text()  # the report says so


def test_two_processes_train_the_model_one_process_trains(runs):
    from safetensors.numpy import load_file

    _, two, _, one = runs
    a, b = (json.loads((_run_folder(f) / "results.json").read_text()) for f in (one, two))
    history = [(h["train_loss"], h["val_loss"], h["val_metric"]) for h in a["model"]["history"]]
    other = [(h["train_loss"], h["val_loss"], h["val_metric"]) for h in b["model"]["history"]]
    assert len(history) == len(other) == 8  # both stop at the same epoch
    np.testing.assert_allclose(other, history, rtol=0, atol=LOSS_TOLERANCE)
    assert a["evaluation"]["threshold"] == b["evaluation"]["threshold"]
    for split, metrics in a["evaluation"]["metrics"].items():
        for name, figure in metrics.items():
            mine = b["evaluation"]["metrics"][split][name]
            if figure["value"] is None:
                assert mine["value"] is None
                continue
            assert abs(mine["value"] - figure["value"]) <= LOSS_TOLERANCE, (split, name)
    assert a["verdict"]["status"] == b["verdict"]["status"] == "READY"
    weights = [load_file(_run_folder(f) / "model" / "model.safetensors") for f in (one, two)]
    for name, value in weights[0].items():
        np.testing.assert_allclose(weights[1][name], value, rtol=0, atol=WEIGHT_TOLERANCE)
