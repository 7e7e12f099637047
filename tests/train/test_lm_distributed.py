"""Data-parallel training of language models (``training.distributed`` under torchrun).

Two CPU processes (gloo) train a tiny transformer from scratch through ``auditor run`` and a
LoRA adapter on a tiny checkpoint; each is compared with one process training the same spec
(declared, not launched: the same DistributedSampler order, in steps of the whole
``training.batch_size``). A step's loss is weighed by the predicted tokens of the whole step
across the processes, so the two processes take the one process's steps, packed or not: only
the floating-point summation order differs. Measured: 1.8e-7 in the losses of both; 4.6e-5 in
the weights from scratch (AdamW at 0.01 carries the rounding along) and 1.2e-6 in the
adapter. The tests allow 1e-5 and 1e-3; steps of half the rows (one process alone on its
shard, no exchange) move the weights by 0.29. The corpora are sized so that every step is
whole (training sequences a multiple of the batch), which the tests check first.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from test_distributed import launch_two
from test_lm import random_docs

from auditor.cli import main
from auditor.errors import DeviceError, SpecError, SpecErrors
from auditor.spec import load_spec, rules
from auditor.train import distributed
from auditor.train.distributed import processes_for

LOSS_TOLERANCE = 1e-5
WEIGHT_TOLERANCE = 1e-3
BATCH = 8


def values(corpus: str, *, model: dict | None = None, processing: dict | None = None) -> dict:
    return {
        "version": 1,
        "name": "lm-ddp",
        "objective": {"task": "language_model"},
        "data": {
            "corpus": {"path": corpus},
            "split": {"validation": 0.2, "test": 0.2, "seed": 3},
            "text_processing": {"vocabulary_size": 300, "max_length": 60, **(processing or {})},
        },
        "model": model
        or {
            "architecture": "transformer_lm",
            "transformer": {"layers": 1, "width": 32, "heads": 2, "context_length": 32},
            "dropout": 0.0,
        },
        "training": {
            "optimizer": "adamw",
            "learning_rate": 0.01,
            "batch_size": BATCH,
            "epochs": 3,
            "device": "cpu",
            "seed": 5,
            "distributed": {"backend": "gloo"},
        },
        "evaluation": {
            "bootstrap": 50,
            "extraction": {"documents": 10, "prefix_tokens": 4, "verbatim_tokens": 8},
            "learning_curve": {"enabled": False},
        },
        "acceptance": [{"check": "perplexity", "split": "test", "at_most": 1000}],
        "report": {"output": "reports"},
    }


def write(folder: Path, spec: dict, docs: list[str]) -> Path:
    (folder / "corpus.txt").write_text("\n".join(docs) + "\n", encoding="utf-8")
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def launch(folder: Path, spec: Path) -> subprocess.CompletedProcess:
    return launch_two(spec, folder)


def run_folder(folder: Path) -> Path:
    (found,) = (folder / "reports" / "lm-ddp").iterdir()  # exactly one run folder
    return found


def results(folder: Path) -> dict:
    return json.loads((run_folder(folder) / "results.json").read_text())


def history(found: dict) -> np.ndarray:
    rows = found["model"]["history"]
    return np.array([(h["train_loss"], h["val_loss"]) for h in rows], dtype=np.float64)


def assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name, value in a.items():
        np.testing.assert_allclose(b[name], value, rtol=0, atol=WEIGHT_TOLERANCE, err_msg=name)


# --------------------------------------------------------------------------- from scratch
@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A transformer_lm spec (packed blocks) run by two torchrun processes and by one."""
    docs = random_docs(46, seed=4)  # 48 training blocks: six whole steps of 8
    two, one = tmp_path_factory.mktemp("two"), tmp_path_factory.mktemp("one")
    proc = launch(two, write(two, values("corpus.txt"), docs))
    alone = main(["run", str(write(one, values("corpus.txt"), docs)), "--quiet"])
    return proc, two, alone, one


def test_two_processes_train_a_language_model_and_rank_zero_alone_reports(scratch):
    proc, two, _, _ = scratch
    assert proc.returncode in (0, 1, 3), proc.stdout + proc.stderr
    assert distributed.MSG_DONE.format(rank=1, world=2) in proc.stdout
    out = run_folder(two)  # one run folder: rank 1 made none of its own
    assert (out / "model" / "model.safetensors").is_file()
    assert len(list(out.rglob("model.safetensors"))) == 1  # one artifact
    assert {"results.json", "report.pdf", "report.html"} <= {p.name for p in out.iterdir()}
    found = results(two)
    assert found["verdict"]["status"] in ("READY", "CONDITIONAL", "NOT READY")
    info = found["model"]["info"]
    per_process = info["train_sequences"] // 2
    assert info["distributed"] == {
        "processes": 2,
        "backend": "gloo",
        "rank": 0,
        "batch_per_process": BATCH // 2,
        "batch_per_step": BATCH,
        "sequences_per_process": per_process,
        "same_weights": True,  # the checksums of rank 0's and rank 1's weights agree
    }
    assert info["notes"][-1].startswith("Trained data-parallel in 2 processes (torchrun, gloo)")
    assert f"batches of {BATCH // 2} sequences ({BATCH} sequences a step" in info["notes"][-1]
    assert info["notes"][-1] in (out / "report.html").read_text()  # the report says so
    rates = [h["tokens_per_second"] for h in found["model"]["history"]]
    assert all(r > 0 for r in rates) and info["tokens_per_second"] > 0
    # every token of both processes is counted: each epoch every training block's 32
    epochs = len(found["model"]["history"])
    assert info["tokens_trained"] == epochs * info["train_sequences"] * 32


def test_two_processes_reach_the_weights_one_process_reaches(scratch):
    from safetensors.numpy import load_file

    _, two, alone, one = scratch
    assert alone in (0, 1, 3)
    a, b = results(one), results(two)
    assert a["model"]["info"]["train_sequences"] % BATCH == 0  # every step whole (see above)
    assert a["model"]["info"]["notes"][-1] == distributed.NOTE_ONE_PROCESS.format(
        batch=BATCH, unit="sequences"
    )
    np.testing.assert_allclose(history(b), history(a), rtol=0, atol=LOSS_TOLERANCE)
    assert history(a)[-1, 0] < history(a)[0, 0]  # the loss falls
    weights = [load_file(run_folder(f) / "model" / "model.safetensors") for f in (one, two)]
    assert_same_weights(*weights)
    # the tokenizer trained on rank 0 and handed to rank 1 is the one a single process trains
    tokenizers = [(run_folder(f) / "model" / "tokenizer.json").read_text() for f in (one, two)]
    assert tokenizers[0] == tokenizers[1]


# --------------------------------------------------------------------------- LoRA
@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A tiny transformer trained here, saved as a transformers checkpoint."""
    from auditor.data import build_dataset
    from auditor.spec.defaults import apply_defaults
    from auditor.train.lm import train_language_model
    from auditor.types import Spec

    base = tmp_path_factory.mktemp("pretrain")
    pre = values("corpus.txt")
    pre["model"]["transformer"]["context_length"] = 64
    pre["training"].pop("distributed")
    write(base, pre, random_docs(60, seed=1))
    spec = Spec(path=base / "spec.yaml", values=apply_defaults(pre))
    train_language_model(spec, build_dataset(spec)).save(base / "ckpt")
    return base / "ckpt"


def _fine_tuned(tmp_path_factory, checkpoint: Path, pretrained: dict, name: str):
    """The checkpoint fine-tuned over unpacked documents (a masked loss) by two torchrun
    processes and by one."""
    model = {
        "architecture": "pretrained_lm",
        "transformer": {"context_length": 64},
        "pretrained": {"path": str(checkpoint), **pretrained},
    }
    spec = values("corpus.txt", model=model, processing={"packing": False})
    docs = random_docs(40, seed=2)  # 24 training documents: three whole steps of 8
    two, one = tmp_path_factory.mktemp(f"{name}-two"), tmp_path_factory.mktemp(f"{name}-one")
    proc = launch(two, write(two, spec, docs))
    alone = main(["run", str(write(one, spec, docs)), "--quiet"])
    return proc, two, alone, one, checkpoint


@pytest.fixture(scope="module")
def lora(tmp_path_factory, checkpoint):
    """LoRA on the checkpoint, two processes and one."""
    adapter = {"rank": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["c_attn"]}
    return _fine_tuned(tmp_path_factory, checkpoint, {"fine_tune": "lora", "lora": adapter}, "lora")


@pytest.fixture(scope="module")
def full(tmp_path_factory, checkpoint):
    """Full fine-tuning of the checkpoint, two processes and one."""
    return _fine_tuned(tmp_path_factory, checkpoint, {"fine_tune": "full"}, "full")


def matching_runs(proc, two: Path, alone: int, one: Path) -> tuple[dict, dict]:
    """The one-process and two-process results of a fine-tuning, both finished, with
    whole steps, the same weights on every process and one process's loss history."""
    assert proc.returncode in (0, 1, 3), proc.stdout + proc.stderr
    assert alone in (0, 1, 3)
    a, b = results(one), results(two)
    assert a["model"]["info"]["train_sequences"] % BATCH == 0  # every step whole
    assert b["model"]["info"]["distributed"]["same_weights"] is True
    np.testing.assert_allclose(history(b), history(a), rtol=0, atol=LOSS_TOLERANCE)
    return a, b


def test_full_fine_tuning_under_two_processes_reaches_one_processs_weights(full):
    from safetensors.numpy import load_file

    proc, two, alone, one, _ = full
    a, b = matching_runs(proc, two, alone, one)
    trained = b["model"]["info"]["trainable_parameters"]
    assert trained == a["model"]["info"]["trainable_parameters"] > 4 * (32 + 96) * 10
    weights = [load_file(run_folder(f) / "model" / "model.safetensors") for f in (one, two)]
    assert_same_weights(*weights)


def test_lora_under_two_processes_trains_the_adapter_one_process_trains(lora):
    from peft import PeftModel
    from safetensors.numpy import load_file
    from transformers import AutoModelForCausalLM

    from auditor.train.lm_pretrained import peft_notices

    proc, two, alone, one, checkpoint = lora
    a, b = matching_runs(proc, two, alone, one)
    # rank 4 on c_attn (32 -> 96) of one block: only the adapter is trained
    assert b["model"]["info"]["trainable_parameters"] == 4 * (32 + 96)
    folder = run_folder(two) / "model"
    assert not (folder / "model.safetensors").exists()  # the adapter alone is written
    adapters = [
        load_file(run_folder(f) / "model" / "adapter_model.safetensors") for f in (one, two)
    ]
    assert adapters[0] and all("lora_" in k for k in adapters[0])
    assert_same_weights(*adapters)
    with peft_notices():
        loaded = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(checkpoint), folder)
    base = AutoModelForCausalLM.from_pretrained(checkpoint).eval()
    ids = torch.tensor([[0, 5, 9, 12, 7]])
    with torch.inference_mode():
        tuned, plain = loaded.eval()(input_ids=ids).logits, base(input_ids=ids).logits
    assert torch.isfinite(tuned).all() and not torch.allclose(tuned, plain)


# --------------------------------------------------------------------------- refusals
def torchrun_env(world: int = 2, rank: int = 0) -> dict[str, str]:
    return {"RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank)}


def test_a_language_model_spec_with_distributed_training_loads(tmp_path):
    spec = load_spec(write(tmp_path, values("corpus.txt"), random_docs(30, seed=1)))
    assert spec.training.distributed.backend == "gloo"
    assert processes_for(spec, torchrun_env(rank=1)).backend == "gloo"


def test_nccl_on_a_cpu_is_still_refused_for_a_language_model(tmp_path):
    spec = values("corpus.txt")
    spec["training"]["distributed"] = {"backend": "nccl"}
    with pytest.raises(SpecErrors) as excinfo:
        load_spec(write(tmp_path, spec, random_docs(30, seed=1)))
    assert str(excinfo.value).endswith(
        f"training.distributed.backend: {rules.MSG_DISTRIBUTED_NCCL_CPU}"
    )
    if torch.cuda.is_available():
        return
    spec["training"]["device"] = "auto"  # auto on a machine without CUDA: refused at launch
    loaded = load_spec(write(tmp_path, spec, random_docs(30, seed=1)))
    with pytest.raises(DeviceError, match="needs CUDA devices"):
        processes_for(loaded, torchrun_env())


def test_a_batch_the_processes_cannot_split_is_still_refused_for_a_language_model(tmp_path):
    loaded = load_spec(write(tmp_path, values("corpus.txt"), random_docs(30, seed=1)))
    with pytest.raises(SpecError) as excinfo:
        processes_for(loaded, torchrun_env(world=3))
    assert str(excinfo.value).endswith(distributed.MSG_BATCH.format(batch=BATCH, world=3))


# --------------------------------------------------------------------------- the pieces
def _shards(world: int, rank: int, rows: int = 21, batch: int = 4):
    from auditor.train.distributed import Processes, Shards

    processes = Processes(rank=rank, world_size=world, local_rank=rank)
    return Shards(
        rows=rows, batch_size=batch, seed=7, processes=processes, device=torch.device("cpu")
    )


def test_the_step_order_holds_every_processs_batch_of_each_step():
    first, second = _shards(2, 0), _shards(2, 1)
    whole = first.step_order(3)
    assert torch.equal(whole, second.step_order(3))  # every process counts alike
    parts = [first.epoch_rows(3), second.epoch_rows(3)]
    assert len(whole) == 22 and sorted(set(whole.tolist())) == list(range(21))  # one repeats
    for step in range(len(parts[0]) // 2):
        taken = sorted(int(i) for p in parts for i in p[step * 2 : (step + 1) * 2])
        assert taken == sorted(whole[step * 4 : (step + 1) * 4].tolist()), step
    assert torch.equal(_shards(1, 0).step_order(3), _shards(1, 0).epoch_rows(3))
    assert not torch.equal(whole, first.step_order(4))  # a new order each epoch


def test_outside_a_process_group_the_text_is_this_processs_own():
    from auditor.train.distributed import ONE_PROCESS, Processes, from_rank_zero

    cpu = torch.device("cpu")
    assert from_rank_zero(lambda: "mine", ONE_PROCESS, cpu) == "mine"
    assert from_rank_zero(lambda: "mine", Processes(rank=1, world_size=2), cpu) == "mine"
    assert _shards(1, 0).same_weights(torch.nn.Linear(2, 2))  # one process agrees with itself


def test_a_tokenizer_rebuilt_from_its_json_encodes_alike():
    from auditor.train.lm import encode, tokenizer_from_json, train_tokenizer

    docs = random_docs(30, seed=6)
    trained = train_tokenizer(docs, 300)
    rebuilt = tokenizer_from_json(trained.backend_tokenizer.to_str())
    assert encode(rebuilt, docs) == encode(trained, docs)
    assert (rebuilt.eos_token_id, rebuilt.pad_token_id) == (trained.eos_token_id,) * 2
    assert len(rebuilt) == len(trained)
