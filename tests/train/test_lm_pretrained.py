"""Fine-tuning a local pre-trained checkpoint: LoRA and full, freezing, per-group learning
rates, warmup, gradient accumulation, instruction/response pairs, artifacts, rules.

The "pre-trained checkpoint" is a tiny transformer trained from scratch here (once per
module) on one generated corpus and saved as transformers saves a model; fine-tuning then
reads it from its folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from test_lm import lm_spec, random_docs, same_weights

from auditor.data import build_dataset
from auditor.errors import SpecError
from auditor.train.lm import (
    fit_lm,
    learned_documents,
    lm_loop_config,
    token_sequences,
    train_language_model,
)
from auditor.train.lm_pretrained import (
    fine_tune_language_model,
    load_checkpoint,
    matches,
    parameter_groups,
    peft_notices,
)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A tiny GPT-2 pre-trained on one corpus, saved to a folder (safetensors + tokenizer)."""
    folder = tmp_path_factory.mktemp("pretrain")
    spec = lm_spec(
        folder,
        random_docs(60, seed=1),
        training={"epochs": 2},
        model={"transformer": {"layers": 1, "width": 32, "heads": 2, "context_length": 64}},
    )
    train_language_model(spec, build_dataset(spec)).save(folder / "ckpt")
    return folder / "ckpt"


def tune_spec(folder: Path, checkpoint: Path, *, pretrained=None, training=None, docs=None, **kw):
    return lm_spec(
        folder,
        docs or random_docs(50, seed=2),
        model={
            "architecture": "pretrained_lm",
            "transformer": {"context_length": 64},
            "pretrained": {"path": str(checkpoint), **(pretrained or {})},
        },
        training={"epochs": 2, **(training or {})},
        **kw,
    )


def base_state(checkpoint: Path) -> dict[str, torch.Tensor]:
    return dict(load_checkpoint(checkpoint)[0].named_parameters())


# ------------------------------------------------------------------ LoRA
def test_lora_trains_only_the_adapters_and_saves_an_adapter_peft_loads(tmp_path, checkpoint):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    spec = tune_spec(
        tmp_path,
        checkpoint,
        pretrained={
            "fine_tune": "lora",
            "lora": {"rank": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["c_attn", "c_fc"]},
        },
        training={"learning_rate": 0.02},
    )
    p = fine_tune_language_model(spec, build_dataset(spec))
    trainable = [n for n, q in p.model.named_parameters() if q.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    assert any("c_attn" in n for n in trainable) and any("c_fc" in n for n in trainable)
    assert not any("c_proj" in n for n in trainable)
    # rank 4 on c_attn (32 -> 96) and c_fc (32 -> 128) of one block: 4 * (32 + 96 + 32 + 128)
    assert p.info["trainable_parameters"] == 4 * (32 + 96 + 32 + 128)
    base = base_state(checkpoint)  # the checkpoint itself is unchanged by LoRA training
    for name, value in p.model.named_parameters():
        if "lora_" not in name:
            key = name.removeprefix("base_model.model.").replace(".base_layer", "")
            assert torch.equal(value.detach(), base[key].detach()), name
    assert p.history[-1]["val_loss"] < p.history[0]["val_loss"] + 1e-9
    files = p.save(tmp_path / "model")
    folder = tmp_path / "model"
    assert {"adapter_model", "adapter_config", "tokenizer", "training"} <= set(files)
    assert not (folder / "model.safetensors").exists()
    assert not list(folder.glob("*.bin")) and not list(folder.glob("*.pt"))
    adapter = json.loads((folder / "adapter_config.json").read_text())
    assert adapter["r"] == 4 and adapter["lora_alpha"] == 8
    assert sorted(adapter["target_modules"]) == ["c_attn", "c_fc"]
    with peft_notices():
        loaded = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(checkpoint), folder)
    ids = torch.tensor([[0, 5, 9, 12, 7]])
    with torch.inference_mode():
        assert torch.allclose(loaded.eval()(input_ids=ids).logits, p.model(input_ids=ids).logits)
    described = json.loads((folder / "training.json").read_text())
    assert described["config"]["architecture"] == "pretrained_lm"
    assert described["config"]["fine_tune"] == "lora"


def test_two_cpu_lora_runs_give_identical_weights(tmp_path, checkpoint):
    runs = []
    for k in range(2):
        (tmp_path / str(k)).mkdir()
        spec = tune_spec(tmp_path / str(k), checkpoint, pretrained={"fine_tune": "lora"})
        runs.append(fine_tune_language_model(spec, build_dataset(spec)))
    assert same_weights(*runs)
    assert runs[0].info["fingerprint"] == runs[1].info["fingerprint"]


def test_lora_without_target_modules_takes_pefts_default_for_the_model_type(tmp_path, checkpoint):
    spec = tune_spec(tmp_path, checkpoint, pretrained={"lora": {"target_modules": None}})
    p = fine_tune_language_model(spec, build_dataset(spec))
    trainable = [n for n, q in p.model.named_parameters() if q.requires_grad]
    assert trainable and all(".c_attn." in n for n in trainable)  # peft's GPT-2 default


# ------------------------------------------------------------------ full fine-tuning
def test_full_fine_tune_with_frozen_layers_and_per_group_rates(tmp_path, checkpoint):
    from transformers import AutoModelForCausalLM

    spec = tune_spec(
        tmp_path,
        checkpoint,
        pretrained={
            "fine_tune": "full",
            "freeze": ["transformer.wte", "transformer.wpe.*"],
            "learning_rates": [{"parameters": "transformer.h.0.attn.*", "learning_rate": 0.001}],
        },
    )
    p = fine_tune_language_model(spec, build_dataset(spec))
    base = base_state(checkpoint)
    tuned = dict(p.model.named_parameters())
    for name in ("transformer.wte.weight", "transformer.wpe.weight"):
        assert not tuned[name].requires_grad and torch.equal(tuned[name], base[name])
    moved = [n for n in tuned if tuned[n].requires_grad and not torch.equal(tuned[n], base[n])]
    assert "transformer.h.0.mlp.c_fc.weight" in moved
    assert "transformer.h.0.attn.c_attn.weight" in moved
    groups = p.info["parameter_groups"]
    assert [g["lr"] for g in groups] == [0.001, 0.01]
    attention = [n for n in tuned if matches(n, "transformer.h.0.attn.*")]
    assert groups[0]["parameters"] == len(attention) == 4
    files = p.save(tmp_path / "model")
    assert "model" in files and "adapter_model" not in files
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path / "model").eval()
    ids = torch.tensor([[0, 5, 9, 12, 7]])
    with torch.inference_mode():
        assert torch.allclose(loaded(input_ids=ids).logits, p.model(input_ids=ids).logits)


def test_parameter_groups_take_the_first_matching_rate():
    from types import SimpleNamespace

    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2))
    model[1].bias.requires_grad_(False)
    rates = (
        SimpleNamespace(parameters="1.*", learning_rate=0.1),
        SimpleNamespace(parameters="*.weight", learning_rate=0.2),
    )
    groups = parameter_groups(model, SimpleNamespace(learning_rates=rates), learning_rate=0.3)
    assert [g["lr"] for g in groups] == [0.1, 0.2, 0.3]
    assert [len(g["params"]) for g in groups] == [1, 1, 1]  # 1.weight; 0.weight; 0.bias
    assert groups[0]["params"][0] is model[1].weight


# ------------------------------------------------------------------ warmup and accumulation
def tiny_model(seed: int = 0):
    from auditor.train.architectures import build_model

    torch.manual_seed(seed)
    return build_model(
        {
            "architecture": "transformer_lm",
            "vocab_size": 50,
            "layers": 1,
            "width": 16,
            "heads": 2,
            "context_length": 8,
            "dropout": 0.0,
        }
    )


def loop(tmp_path, **kw):
    """One epoch of fit_lm on 16 fixed packed rows, SGD; returns the trained model."""
    from auditor.train.device import resolve_precision

    spec = lm_spec(
        tmp_path,
        random_docs(20, seed=3),
        training={
            "optimizer": "sgd",
            "learning_rate": 0.5,
            "epochs": 1,
            "batch_size": 8,
            **kw.pop("training", {}),
        },
    )
    cfg = lm_loop_config(spec)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 50, size=(16, 9)).astype(np.int64)
    model = tiny_model()
    fit_lm(
        model,
        cfg,
        train_ids=ids,
        train_predicted=np.ones((16, 8), dtype=bool),
        val_docs=[list(range(1, 12))],
        context_length=8,
        pad_id=0,
        device=torch.device("cpu"),
        precision=resolve_precision("fp32", torch.device("cpu")),
        **kw,
    )
    return model


def moved(model) -> float:
    start = dict(tiny_model().named_parameters())
    with torch.no_grad():
        return sum(float((p - start[n]).abs().sum()) for n, p in model.named_parameters())


def test_gradient_accumulation_equals_the_larger_batch(tmp_path):
    big = loop(tmp_path, training={"batch_size": 8})
    accumulated = loop(tmp_path, training={"batch_size": 4}, accumulation=2)
    single = loop(tmp_path, training={"batch_size": 4})
    a, b, c = (dict(m.named_parameters()) for m in (big, accumulated, single))
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)
    assert not all(torch.allclose(a[k], c[k], atol=1e-5) for k in a)


def test_warmup_starts_the_rate_near_zero(tmp_path):
    plain = moved(loop(tmp_path))
    warm = moved(loop(tmp_path, warmup_steps=1_000_000))
    assert plain > 0 and warm < plain * 1e-4


def test_warmup_and_accumulation_are_read_from_the_spec(tmp_path, checkpoint):
    spec = tune_spec(tmp_path, checkpoint, training={"warmup_steps": 4, "gradient_accumulation": 2})
    p = fine_tune_language_model(spec, build_dataset(spec))
    assert p.info["warmup_steps"] == 4 and p.info["gradient_accumulation"] == 2


# ------------------------------------------------------------------ instruction/response pairs
PAIR_TEMPLATE = "Instruction: {instruction}\nResponse: {response}"


def pairs(n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    docs = random_docs(2 * n, seed=seed, length=3)
    return [
        {"instruction": docs[2 * i], "response": docs[2 * i + 1], "id": int(rng.integers(99))}
        for i in range(n)
    ]


def test_the_loss_is_on_the_response_tokens_only(tmp_path):
    from auditor.train.lm import train_tokenizer

    tok = train_tokenizer(random_docs(30, seed=1), 300)
    texts = ["Instruction: ka to\nResponse: ri mu se", "Instruction: lo\nResponse: na"]
    prompt_chars = [len("Instruction: ka to\nResponse: "), len("Instruction: lo\nResponse: ")]
    docs, _, starts = learned_documents(
        tok, texts, max_length=None, truncation="cut", prompt_chars=prompt_chars
    )
    for doc, start, text, chars in zip(docs, starts, texts, prompt_chars, strict=True):
        assert tok.decode(doc[start:-1]) == text[chars:]  # the response, then end-of-text
        assert tok.decode(doc[1:start]) == text[:chars]
    ids, predicted = token_sequences(
        docs, context_length=40, packing=False, pad_id=0, starts=starts
    )
    for row, doc, start in zip(predicted, docs, starts, strict=True):
        # position j predicts token j + 1: the response's tokens and the closing end-of-text
        assert np.flatnonzero(row).tolist() == list(range(start - 1, len(doc) - 1))


def test_pairs_with_a_prompt_template_fine_tune_on_their_responses(tmp_path, checkpoint):
    records = pairs(40, seed=4)
    (tmp_path / "pairs.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    spec = tune_spec(tmp_path, checkpoint, docs=["unused"] * 3)
    values = dict(spec.values)
    values["data"] = {
        **values["data"],
        "corpus": {**values["data"]["corpus"], "path": "pairs.jsonl", "format": "jsonl"},
        "text_processing": {
            **values["data"]["text_processing"],
            "template": PAIR_TEMPLATE,
            "response_field": "response",
            "packing": False,
            "max_length": 60,
        },
    }
    spec = type(spec)(path=spec.path, values=values)
    dataset = build_dataset(spec)
    frame = dataset.frames["train"]
    # the prompt's trailing space goes with the response (" word", as tokenizers join it)
    assert all(
        t[c:].startswith(" ") and t[c + 1 :] in {r["response"] for r in records}
        for t, c in zip(frame["text"], frame["prompt_chars"], strict=True)
    )
    p = fine_tune_language_model(spec, dataset)
    assert p.info["learned_tokens"] == "responses"
    texts = frame["text"].tolist()[:5]
    chars = frame["prompt_chars"].tolist()[:5]
    _, counts = p.nll(texts, chars)
    docs, starts = p.learned(texts, chars)
    assert all(len(d) <= 61 for d in docs)  # nothing cut: every response is learned
    assert counts.tolist() == [len(d) - s for d, s in zip(docs, starts, strict=True)]
    _, whole = p.nll(texts)
    assert (whole > counts).all()


# ------------------------------------------------------------------ spec rules
PRETRAINED_YAML = """\
version: 1
name: lm-pretrained
objective: {{task: language_model}}
data:
  corpus: {{path: corpus.txt}}
  text_processing: {{max_length: 30{processing}}}
model:
  architecture: pretrained_lm
  transformer: {{context_length: {context}}}
  pretrained:
    path: {path}
    fine_tune: {fine_tune}
    lora: {{target_modules: {targets}}}
    freeze: {freeze}
    learning_rates: {rates}
evaluation:
  extraction: {{prefix_tokens: 4, verbatim_tokens: 8}}
acceptance:
  - {{check: perplexity, split: test, at_most: 100}}
"""


def load_pretrained(tmp_path, checkpoint, **fields):
    from auditor.spec import load_spec

    (tmp_path / "corpus.txt").write_text("\n".join(random_docs(30, seed=1)) + "\n")
    values = {
        "processing": "",
        "context": 32,
        "path": str(checkpoint),
        "fine_tune": "lora",
        "targets": "[c_attn]",
        "freeze": "[]",
        "rates": "[]",
        **fields,
    }
    path = tmp_path / "spec.yaml"
    path.write_text(PRETRAINED_YAML.format(**values), encoding="utf-8")
    return load_spec(path)


def test_a_valid_pretrained_spec_loads(tmp_path, checkpoint):
    spec = load_pretrained(tmp_path, checkpoint)
    assert spec.model.pretrained.fine_tune == "lora"
    assert spec.model.pretrained.lora.rank == 8 and spec.model.pretrained.lora.alpha == 16
    assert spec.training.warmup_steps == 0 and spec.training.gradient_accumulation == 1


@pytest.mark.parametrize(
    ("fields", "line", "message"),
    [
        ({"path": "no/such/folder"}, 11, "checkpoint folder not found"),
        ({"targets": "[c_atn]"}, 13, "target module 'c_atn' is no module of the checkpoint"),
        ({"targets": "[c_atn]"}, 13, "did you mean 'c_attn'?"),
        (
            {"fine_tune": "full", "freeze": "['transformer.h.9.*']"},
            14,
            "pattern 'transformer.h.9.*' matches no parameter",
        ),
        (
            {"rates": "[{parameters: 'nothing.*', learning_rate: 0.1}]"},
            15,
            "pattern 'nothing.*' matches no trainable parameter",
        ),
        ({"context": 4096}, 9, "exceeds the positions the checkpoint attends over (64)"),
        (
            {"processing": ", response_field: response"},
            6,
            "response_field names a field of the template",
        ),
    ],
)
def test_pretrained_rules_are_located_one_line_errors(tmp_path, checkpoint, fields, line, message):
    with pytest.raises(SpecError) as err:
        load_pretrained(tmp_path, checkpoint, **fields)
    text = str(err.value)
    assert message in text
    assert f"spec.yaml:{line}:" in text
    assert "Traceback" not in text


def test_a_checkpoint_without_safetensors_is_refused(tmp_path, checkpoint):
    import shutil

    folder = tmp_path / "pickled"
    shutil.copytree(checkpoint, folder)
    (folder / "model.safetensors").unlink()
    torch.save({}, folder / "pytorch_model.bin")
    with pytest.raises(SpecError, match="holds no safetensors weights"):
        load_pretrained(tmp_path, checkpoint, path=str(folder))


@pytest.mark.parametrize(
    ("template", "packing", "message"),
    [
        ("Q: {response} A: {instruction}", "false", "must be the template's last field"),
        (PAIR_TEMPLATE.replace("\n", " "), "true", "set data.text_processing.packing to false"),
    ],
)
def test_response_field_rules(tmp_path, checkpoint, template, packing, message):
    (tmp_path / "pairs.jsonl").write_text(
        "\n".join(json.dumps(r) for r in pairs(20, seed=1)) + "\n"
    )
    text = PRETRAINED_YAML.replace("corpus.txt", "pairs.jsonl").replace(
        "{{max_length: 30{processing}}}",
        f"{{{{max_length: 30, template: '{template.replace('{', '{{').replace('}', '}}')}', "
        "response_field: response, "
        f"packing: {packing}}}}}",
    )
    from auditor.spec import load_spec

    path = tmp_path / "spec.yaml"
    path.write_text(
        text.format(
            context=32,
            path=str(checkpoint),
            fine_tune="lora",
            targets="[c_attn]",
            freeze="[]",
            rates="[]",
        )
    )
    with pytest.raises(SpecError, match=message):
        load_spec(path)


def test_pretrained_lm_needs_its_checkpoint_and_the_section_needs_it(tmp_path, checkpoint):
    text = PRETRAINED_YAML.format(
        processing="",
        context=32,
        path=str(checkpoint),
        fine_tune="lora",
        targets="[c_attn]",
        freeze="[]",
        rates="[]",
    )
    from auditor.spec import load_spec

    path = tmp_path / "spec.yaml"
    (tmp_path / "corpus.txt").write_text("\n".join(random_docs(30, seed=1)) + "\n")
    path.write_text(text.split("  pretrained:")[0] + text.split("learning_rates: []\n")[1])
    with pytest.raises(SpecError, match="fine-tunes a local checkpoint"):
        load_spec(path)
    path.write_text(text.replace("architecture: pretrained_lm", "architecture: transformer_lm"))
    with pytest.raises(SpecError, match="model.pretrained applies to architecture pretrained_lm"):
        load_spec(path)


def test_language_model_training_options_are_refused_for_tabular_specs(tmp_path):
    from auditor.spec import load_spec

    (tmp_path / "t.csv").write_text("x,y\n" + "\n".join(f"{i},{i % 2}" for i in range(40)))
    path = tmp_path / "spec.yaml"
    path.write_text(
        "version: 1\nname: t\nobjective: {task: binary, target: y}\ndata: {train: t.csv}\n"
        "training:\n  warmup_steps: 10\n  gradient_accumulation: 2\n"
        "evaluation:\n  base_comparison: {general: t.csv}\n"
    )
    with pytest.raises(SpecError) as err:
        load_spec(path)
    text = str(err.value)
    assert "training.warmup_steps applies to objective.task: language_model only" in text
    assert "evaluation.base_comparison applies to objective.task: language_model only" in text
    assert all(f"spec.yaml:{line}:" in text for line in (6, 7, 9))


# ------------------------------------------------------------------ before vs after fine-tuning
def test_paired_loss_difference_by_hand():
    from auditor.checks.lm_base import paired_loss_difference

    base, tuned, tokens = np.array([4.0, 6.0, 2.0]), np.array([3.0, 3.0, 2.0]), np.array([2, 3, 1])
    value, ci, reps = paired_loss_difference(base, tuned, tokens, None, 0.95)
    assert value == pytest.approx((1.0 + 3.0 + 0.0) / 6) and ci is None and reps is None
    weights = np.array([[1.0, 1.0, 1.0], [2.0, 0.0, 1.0], [0.0, 3.0, 0.0]])
    _, _, reps = paired_loss_difference(base, tuned, tokens, weights, 0.95)
    np.testing.assert_allclose(reps, [4 / 6, 2 / 5, 9 / 9])


def base_findings(tmp_path, checkpoint, *, pretrained, training=None, general=True):
    from auditor.checks import run_checks
    from auditor.train.lm_evaluate import lm_evaluation

    unseen = random_docs(80, seed=1)[60:]  # the checkpoint's kind of text, never trained on
    (tmp_path / "general.txt").write_text("\n".join(unseen) + "\n")
    spec = tune_spec(
        tmp_path,
        checkpoint,
        pretrained=pretrained,
        training=training,
        evaluation={"base_comparison": {"general": "general.txt" if general else None}},
    )
    dataset = build_dataset(spec)
    predictor = fine_tune_language_model(spec, dataset)
    evaluation = lm_evaluation(spec, dataset, predictor)
    return {f.id: f for f in run_checks(spec, dataset, evaluation)}, evaluation


def test_fine_tuning_gain_and_forgetting_are_measured_against_the_checkpoint(tmp_path, checkpoint):
    findings, evaluation = base_findings(
        tmp_path,
        checkpoint,
        pretrained={"fine_tune": "full"},
        training={"epochs": 4, "learning_rate": 0.02},
    )
    test = evaluation.text["test"]
    assert test["base_nll"].shape == test["nll"].shape
    gain = findings["fit.fine_tuning_gain.test"]
    expected = (test["base_nll"].sum() - test["nll"].sum()) / test["tokens"].sum()
    assert gain.value == pytest.approx(expected)
    assert gain.ci[0] > 0  # a new vocabulary: fine-tuning on it helps beyond doubt
    forgot = findings["fit.forgetting"]
    general = evaluation.text["general"]
    assert general["documents"] == 20
    expected = (general["nll"].sum() - general["base_nll"].sum()) / general["tokens"].sum()
    assert forgot.value == pytest.approx(expected)
    assert forgot.ci[0] > 0  # full fine-tuning on other text at a high rate forgets
    assert "lost some of what it knew" in forgot.summary


def test_without_a_general_corpus_forgetting_is_skipped(tmp_path, checkpoint):
    findings, evaluation = base_findings(
        tmp_path, checkpoint, pretrained={"fine_tune": "lora"}, general=False
    )
    assert "general" not in evaluation.text
    assert findings["fit.forgetting"].status == "skipped"
    assert "fit.fine_tuning_gain.validation" in findings


@pytest.mark.parametrize(
    ("architecture", "base", "criterion", "message"),
    [
        (
            "transformer_lm",
            "{enabled: true}",
            "{check: fine_tuning_gain, split: test, at_least: 0}",
            "fine_tuning_gain compares the checkpoint before and after fine-tuning",
        ),
        (
            "pretrained_lm",
            "{enabled: true}",
            "{check: forgetting, at_most: 0.5}",
            "forgetting is measured on a general held-out corpus",
        ),
        (
            "pretrained_lm",
            "{enabled: false}",
            "{check: fine_tuning_gain, split: test, at_least: 0}",
            "fine_tuning_gain needs evaluation.base_comparison.enabled: true",
        ),
        (
            "pretrained_lm",
            "{general: missing.txt}",
            "{check: forgetting, at_most: 0.5}",
            "missing.txt: corpus file not found",
        ),
        (
            "transformer_lm",
            "{general: corpus.txt}",
            "{check: perplexity, split: test, at_most: 100}",
            "evaluation.base_comparison.general compares the checkpoint before and after",
        ),
    ],
)
def test_base_comparison_rules(tmp_path, checkpoint, architecture, base, criterion, message):
    from auditor.spec import load_spec

    (tmp_path / "corpus.txt").write_text("\n".join(random_docs(30, seed=1)) + "\n")
    model = (
        f"  architecture: pretrained_lm\n  transformer: {{context_length: 32}}\n"
        f"  pretrained: {{path: {checkpoint}}}\n"
        if architecture == "pretrained_lm"
        else "  architecture: transformer_lm\n"
    )
    path = tmp_path / "spec.yaml"
    path.write_text(
        "version: 1\nname: b\nobjective: {task: language_model}\n"
        "data: {corpus: {path: corpus.txt}, text_processing: {max_length: 30}}\n"
        f"model:\n{model}"
        "evaluation:\n  extraction: {prefix_tokens: 4, verbatim_tokens: 8}\n"
        f"  base_comparison: {base}\n"
        f"acceptance:\n  - {criterion}\n"
    )
    with pytest.raises(SpecError, match=message.replace("(", r"\(")):
        load_spec(path)
