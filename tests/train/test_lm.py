"""Training a language model from the spec: tokenizer, sequences, loop, artifacts, rules.

Tiny transformers from a config on tiny generated corpora; everything on the CPU.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from auditor.data import build_dataset
from auditor.errors import SpecError
from auditor.spec.defaults import apply_defaults
from auditor.train.lm import (
    document_ids,
    document_windows,
    token_sequences,
    train_language_model,
    train_tokenizer,
)
from auditor.types import Spec

REPO = Path(__file__).resolve().parents[2]
SYLLABLES = ["ka", "to", "ri", "mu", "se", "lo", "na", "vi", "de", "po", "ga", "shi"]


def words(rng: np.random.Generator, n: int) -> list[str]:
    return ["".join(rng.choice(SYLLABLES, size=int(rng.integers(1, 4)))) for _ in range(n)]


def random_docs(n: int, seed: int, length: int = 30) -> list[str]:
    rng = np.random.default_rng(seed)
    vocab = words(rng, 400)
    return [" ".join(rng.choice(vocab, size=length)) + "." for _ in range(n)]


def lm_spec(
    folder: Path,
    docs: list[str],
    *,
    training: dict | None = None,
    model: dict | None = None,
    processing: dict | None = None,
    evaluation: dict | None = None,
    acceptance: list | None = None,
) -> Spec:
    """A language-model spec over ``docs`` written to ``folder/corpus.txt``."""
    (folder / "corpus.txt").write_text("\n".join(docs) + "\n", encoding="utf-8")
    values = {
        "version": 1,
        "name": "lm-test",
        "objective": {"task": "language_model"},
        "data": {
            "corpus": {"path": "corpus.txt"},
            "split": {"validation": 0.2, "test": 0.2, "seed": 3},
            "text_processing": {"vocabulary_size": 300, "max_length": 64, **(processing or {})},
        },
        "model": {
            "architecture": "transformer_lm",
            "transformer": {"layers": 1, "width": 32, "heads": 2, "context_length": 32},
            "dropout": 0.0,
            **(model or {}),
        },
        "training": {
            "optimizer": "adamw",
            "learning_rate": 0.01,
            "batch_size": 8,
            "epochs": 3,
            "device": "cpu",
            "seed": 5,
            **(training or {}),
        },
        "evaluation": {
            "bootstrap": 200,
            "extraction": {"documents": 50, "prefix_tokens": 4, "verbatim_tokens": 8},
            # retraining on fractions is tested on its own (test_lm_curve.py)
            "learning_curve": {"enabled": False},
            **(evaluation or {}),
        },
        "acceptance": acceptance or [],
    }
    return Spec(path=folder / "spec.yaml", values=apply_defaults(values))


def weights(predictor) -> dict[str, torch.Tensor]:
    return predictor.state()


def same_weights(a, b) -> bool:
    wa, wb = weights(a), weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


# ------------------------------------------------------------------ sequences
def test_packed_blocks_predict_every_training_token_once():
    docs = [[0, 5, 6, 7, 0], [0, 8, 9, 0], [0, 4, 4, 4, 4, 4, 0]]
    ids, predicted = token_sequences(docs, context_length=4, packing=True, pad_id=0)
    stream = [0, 5, 6, 7, 0, 8, 9, 0, 4, 4, 4, 4, 4, 0]  # one end-of-text between documents
    assert ids.shape == (3, 5) and predicted.all()
    assert ids[:, 1:].ravel().tolist() == stream[1:13]  # targets: each token once, in order
    assert ids[1, 0] == ids[0, -1]  # blocks overlap by the one token they predict from


def test_unpacked_rows_never_predict_padding():
    docs = [[0, 5, 6, 0], [0, 8, 0]]
    ids, predicted = token_sequences(docs, context_length=5, packing=False, pad_id=0)
    assert ids.tolist() == [[0, 5, 6, 0, 0, 0], [0, 8, 0, 0, 0, 0]]
    assert predicted.sum(axis=1).tolist() == [3, 2]


def test_document_windows_score_every_token_once():
    rng = np.random.default_rng(1)
    docs = [[0, *rng.integers(1, 50, size=k).tolist(), 0] for k in (3, 10, 31, 64)]
    ids, predicted, owner = document_windows(docs, context_length=8, pad_id=0)
    counts = np.bincount(owner, weights=predicted.sum(axis=1), minlength=len(docs))
    assert counts.tolist() == [len(d) - 1 for d in docs]


def test_truncation_cuts_or_drops_long_documents():
    tok = train_tokenizer(random_docs(40, seed=2), 300)
    texts = ["ka to ri " * 30, "mu se"]
    cut, n_cut = document_ids(tok, texts, max_length=10, truncation="cut")
    dropped, n_dropped = document_ids(tok, texts, max_length=10, truncation="drop")
    assert n_cut == n_dropped == 1
    assert len(cut[0]) == 12 and cut[0][0] == cut[0][-1] == tok.eos_token_id
    assert dropped[0] == [] and dropped[1] == cut[1]


# ------------------------------------------------------------------ training
def test_two_cpu_runs_give_identical_weights(tmp_path):
    spec = lm_spec(tmp_path, random_docs(40, seed=4))
    dataset = build_dataset(spec)
    a = train_language_model(spec, dataset)
    b = train_language_model(spec, dataset)
    assert same_weights(a, b)
    assert a.info["fingerprint"] == b.info["fingerprint"]
    assert [h["train_loss"] for h in a.history] == [h["train_loss"] for h in b.history]


def with_test_documents_replaced(docs: list[str], dataset) -> list[str]:
    """``docs`` with every test document of ``dataset`` rewritten (same positions, other
    text), so the train and validation documents are the same."""
    replaced = list(docs)
    fresh = random_docs(len(docs), seed=99)
    for k, position in enumerate(dataset.frames["test"]["position"]):
        replaced[int(position)] = fresh[k]
    return replaced


def test_the_test_documents_never_reach_the_tokenizer_or_the_weights(tmp_path):
    docs = random_docs(50, seed=6)
    spec = lm_spec(tmp_path, docs)
    first = build_dataset(spec)
    replaced = with_test_documents_replaced(docs, first)
    other = tmp_path / "other"
    other.mkdir()
    spec2 = lm_spec(other, replaced)
    second = build_dataset(spec2)
    for split in ("train", "validation"):
        assert first.frames[split]["text"].tolist() == second.frames[split]["text"].tolist()
    assert first.frames["test"]["text"].tolist() != second.frames["test"]["text"].tolist()
    a = train_language_model(spec, first)
    b = train_language_model(spec2, second)
    assert same_weights(a, b)
    assert a.tokenizer.get_vocab() == b.tokenizer.get_vocab()
    assert [h["val_loss"] for h in a.history] == [h["val_loss"] for h in b.history]


def test_early_stopping_watches_validation_loss_and_keeps_the_best_weights(tmp_path):
    # planted overfit: few unpredictable documents, a large learning rate, many epochs
    spec = lm_spec(
        tmp_path,
        random_docs(30, seed=8),
        training={"epochs": 40, "learning_rate": 0.02, "early_stopping": {"patience": 2}},
        model={"transformer": {"layers": 2, "width": 64, "heads": 2, "context_length": 32}},
    )
    dataset = build_dataset(spec)
    p = train_language_model(spec, dataset)
    info, history = p.info, p.history
    assert info["stopped_early"] and info["stop_reason"] == "early_stopping"
    assert info["epochs_run"] == info["best_epoch"] + 2 < 40
    best = min(history, key=lambda h: h["val_loss"])
    assert best["epoch"] == info["best_epoch"] == info["kept_epoch"]
    nll, tokens = p.nll(dataset.frames["validation"]["text"].tolist())
    assert nll.sum() / tokens.sum() == pytest.approx(best["val_loss"], rel=1e-6)


def test_time_budget_stops_after_the_epoch_that_spends_it(tmp_path):
    spec = lm_spec(tmp_path, random_docs(30, seed=8), training={"epochs": 50, "time_budget": 1e-6})
    p = train_language_model(spec, build_dataset(spec))
    assert p.info["epochs_run"] == 1 and p.info["stop_reason"] == "time_budget"


class _Bar:
    def __init__(self, seen):
        self.seen = seen

    def update(self, n=1, **postfix):
        self.seen.append(postfix)

    def close(self):
        pass


class _Progress:
    def __init__(self):
        self.seen: list[dict] = []

    def bar(self, total, desc):
        return _Bar(self.seen)


def test_progress_shows_tokens_per_second(tmp_path):
    spec = lm_spec(tmp_path, random_docs(30, seed=8), training={"epochs": 2})
    progress = _Progress()
    p = train_language_model(spec, build_dataset(spec), progress=progress)
    assert len(progress.seen) == 2
    assert all({"loss", "val_ppl", "tok_s"} <= set(s) for s in progress.seen)
    assert all(h["tokens_per_second"] > 0 for h in p.history)
    assert p.info["tokens_per_second"] > 0
    assert p.info["tokens_trained"] == 2 * int(token_count(p, spec))


def token_count(predictor, spec) -> int:
    """Predicted tokens of one epoch (every packed training token once)."""
    dataset = build_dataset(spec)
    docs = predictor.documents(dataset.frames["train"]["text"].tolist())
    ids, predicted = token_sequences(
        docs, context_length=32, packing=True, pad_id=predictor.tokenizer.pad_token_id
    )
    return int(predicted.sum())


def test_unpacked_training_runs(tmp_path):
    spec = lm_spec(
        tmp_path, random_docs(30, seed=8), processing={"packing": False, "max_length": 31}
    )
    p = train_language_model(spec, build_dataset(spec))
    assert p.info["train_sequences"] == len(build_dataset(spec).frames["train"])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_trains_under_bf16_autocast(tmp_path):  # pragma: no cover - GPU only
    spec = lm_spec(tmp_path, random_docs(40, seed=4), training={"device": "cuda"})
    p = train_language_model(spec, build_dataset(spec))
    assert p.info["precision"] == "bf16" and p.info["device"].startswith("cuda")
    assert np.isfinite(p.history[-1]["val_loss"])


# ------------------------------------------------------------------ artifacts
def test_saved_folder_loads_in_transformers_with_equal_logits(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    spec = lm_spec(tmp_path, random_docs(40, seed=4))
    p = train_language_model(spec, build_dataset(spec))
    files = p.save(tmp_path / "model")
    assert {"model", "config", "tokenizer", "training"} <= set(files)
    assert not list((tmp_path / "model").glob("*.bin")) and not list(
        (tmp_path / "model").glob("*.pt")
    )
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path / "model").eval()
    tok = AutoTokenizer.from_pretrained(tmp_path / "model")
    text = "ka to ri mu se lo na vi."
    ids = tok(text, return_tensors="pt")["input_ids"]
    assert ids[0].tolist() == p.tokenizer(text)["input_ids"]
    with torch.inference_mode():
        expected = p.model(input_ids=ids).logits
        got = loaded(input_ids=ids).logits
    assert torch.allclose(expected, got, atol=1e-6)
    described = json.loads((tmp_path / "model" / "training.json").read_text())
    assert described["task"] == "language_model"
    assert described["config"]["architecture"] == "transformer_lm"


# ------------------------------------------------------------------ spec rules
BASE_YAML = """\
version: 1
name: lm-rules
objective: {{task: {task}}}
data:
  corpus: {{path: corpus.txt}}
{data}model:
  architecture: {architecture}
  transformer: {{layers: 1, width: {width}, heads: 2, context_length: 32}}
evaluation:
  extraction: {{prefix_tokens: 8, verbatim_tokens: {verbatim}}}
acceptance:
  - {criterion}
"""


def load(tmp_path, **fields):
    from auditor.spec import load_spec

    (tmp_path / "corpus.txt").write_text("\n".join(random_docs(30, seed=1)) + "\n")
    values = {
        "task": "language_model",
        "data": "",
        "architecture": "transformer_lm",
        "width": 32,
        "verbatim": 16,
        "criterion": "{check: perplexity, split: test, at_most: 100}",
        **fields,
    }
    path = tmp_path / "spec.yaml"
    path.write_text(BASE_YAML.format(**values), encoding="utf-8")
    return load_spec(path)


def test_a_valid_language_model_spec_loads(tmp_path):
    spec = load(tmp_path)
    assert spec.task == "language_model"
    assert spec.model.transformer.context_length == 32
    assert spec.data.text_processing.deduplicate.jaccard == 0.8


@pytest.mark.parametrize(
    ("fields", "line", "message"),
    [
        (
            {"architecture": "mlp"},
            7,
            "a language_model objective trains transformer_lm, pretrained_lm, not 'mlp'",
        ),
        ({"width": 33}, 8, "model.transformer.width (33) must be a multiple of heads (2)"),
        ({"verbatim": 30}, 10, "prefix_tokens + verbatim_tokens (38) must fit within"),
        (
            {"criterion": "{metric: accuracy, at_least: 0.9}"},
            12,
            "metric accuracy does not apply to a language_model objective",
        ),
        (
            {"criterion": "{check: perplexty, split: test, at_most: 9}"},
            12,
            "did you mean 'perplexity'?",
        ),
        (
            {"criterion": "{check: perplexity, split: test, at_most: 0.5}"},
            12,
            "must be at least 1 for perplexity",
        ),
        (
            {"criterion": "{check: perplexity_gap, split: train, at_most: 0.5}"},
            12,
            "use split validation or test",
        ),
        ({"data": "  train: corpus.txt\n"}, 6, "data.train does not apply"),
        (
            {"task": "binary, target: y", "data": "  train: corpus.txt\n"},
            None,
            "architecture 'transformer_lm' is a language model",
        ),
    ],
)
def test_language_model_rules_are_located_one_line_errors(tmp_path, fields, line, message):
    with pytest.raises(SpecError) as err:
        load(tmp_path, **fields)
    text = str(err.value)
    assert message in text
    if line is not None:
        assert f"spec.yaml:{line}:" in text
    assert all("Traceback" not in part for part in text.splitlines())


# ------------------------------------------------------------------ the bundled example
EXAMPLE = REPO / "specs" / "news-lm.yaml"


def test_the_bundled_example_validates():
    from auditor.spec import load_spec

    spec = load_spec(EXAMPLE)
    assert spec.task == "language_model" and spec.model.architecture == "transformer_lm"
    assert spec.resolve_path(spec.data.corpus.path).is_file()


def test_a_tinier_bundled_example_runs_end_to_end_to_a_pdf_with_a_verdict(tmp_path):
    import jsonschema
    import yaml

    from auditor.pipeline import run

    values = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    values["data"]["corpus"]["path"] = str(REPO / "specs" / values["data"]["corpus"]["path"])
    values["model"]["transformer"] = {"layers": 1, "width": 32, "heads": 2, "context_length": 64}
    values["training"].update(epochs=2, time_budget=None)
    values["evaluation"] = {
        "bootstrap": 200,
        "extraction": {"documents": 40, "prefix_tokens": 8, "verbatim_tokens": 16},
        "learning_curve": {"fractions": [0.5, 1.0]},
    }
    spec_path = tmp_path / "news-lm-tiny.yaml"
    spec_path.write_text(yaml.safe_dump(values), encoding="utf-8")
    outcome = run(spec_path, out=tmp_path / "out", quiet=True)
    results = outcome.results
    assert outcome.exit_code in (0, 1, 3)
    assert results["verdict"]["status"] in ("READY", "CONDITIONAL", "NOT READY")
    assert (tmp_path / "out" / "report.pdf").stat().st_size > 10_000
    schema = json.loads((REPO / "schemas" / "results.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(results)
    ids = {f["id"] for f in results["findings"]}
    assert {"fit.perplexity.test", "fit.perplexity_gap.test", "fit.extraction"} <= ids
    assert {"fit.overfitting", "data.corpus_duplicates", "data.corpus_overlap.test"} <= ids
    curve = next(f for f in results["findings"] if f["id"] == "fit.lm_learning_curve")
    assert curve["status"] == "pass" and len(results["evaluation"]["learning_curve"]) == 2
    # the report shows what fits a language model, and no tabular section
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Perplexity per split" in html and "Learning curve:" in html
    assert 'id="sec-fit"' in html and 'id="sec-data"' in html
    assert 'id="sec-performance"' not in html and 'id="sec-fairness"' not in html
    assert "feature columns" not in html and "The corpus" in html
    # text from the corpus reaches the report escaped
    from auditor.report.render import render_html

    extraction = next(f for f in results["findings"] if f["id"] == "fit.extraction")
    extraction["details"]["examples"] = [
        {
            "document": 3,
            "matched_tokens": 16,
            "prefix": "<script>alert(1)</script>",
            "continuation": "a & b",
            "completion": "a & b",
        }
    ]
    page = render_html(results, spec_text="", attachments=[])
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "Training documents reproduced furthest" in page
    assert results["data"]["split"]["corpus"]["exact_duplicates_removed"] == 7
    assert (tmp_path / "out" / "model" / "model.safetensors").is_file()
    assert [c["status"] for c in results["criteria"]][2:4] == ["pass", "pass"]


@pytest.mark.parametrize(
    ("content", "corpus", "message"),
    [
        (None, "{path: absent.txt}", "data.corpus.path: absent.txt: corpus file not found"),
        ("\n\n", "{path: corpus.txt}", "corpus.txt: the corpus holds no document with text"),
        (
            '{"body": "a"}\n',
            "{path: corpus.jsonl, field: text}",
            "data.corpus.field: corpus.jsonl: line 1 has no text field 'text'",
        ),
    ],
)
def test_an_unreadable_corpus_is_a_located_spec_error(tmp_path, content, corpus, message):
    from auditor.spec import load_spec

    if content is not None:
        name = "corpus.jsonl" if "jsonl" in corpus else "corpus.txt"
        (tmp_path / name).write_text(content, encoding="utf-8")
    path = tmp_path / "spec.yaml"
    path.write_text(
        f"version: 1\nname: c\nobjective: {{task: language_model}}\ndata:\n  corpus: {corpus}\n"
        "model: {architecture: transformer_lm}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert message in str(err.value) and "spec.yaml:5:" in str(err.value)


@pytest.mark.parametrize(
    ("corpus", "template", "message"),
    [
        ("corpus.txt", "Q: {instruction}", "a template fills the fields of JSON Lines records"),
        ("pairs.jsonl", "no fields here", "the template names no field"),
        ("pairs.jsonl", "Q: {instruction} A: {answer}", "line 1 has no text field 'answer'"),
    ],
)
def test_template_rules_are_located_at_the_template(tmp_path, corpus, template, message):
    from auditor.spec import load_spec

    (tmp_path / "corpus.txt").write_text("a document\n", encoding="utf-8")
    (tmp_path / "pairs.jsonl").write_text(
        json.dumps({"instruction": "Say hi.", "response": "Hi."}) + "\n", encoding="utf-8"
    )
    path = tmp_path / "spec.yaml"
    path.write_text(
        f"version: 1\nname: t\nobjective: {{task: language_model}}\ndata:\n"
        f"  corpus: {{path: {corpus}}}\n  text_processing:\n    template: {json.dumps(template)}\n"
        "model: {architecture: transformer_lm}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert message in str(err.value)
    assert "spec.yaml:7:" in str(err.value) and "data.text_processing.template" in str(err.value)


def test_a_template_corpus_trains(tmp_path):
    pairs = [
        {"instruction": f"Repeat {w}.", "response": f"{w} {w}."} for w in random_docs(30, seed=3)
    ]
    (tmp_path / "pairs.jsonl").write_text(
        "\n".join(json.dumps(p) for p in pairs) + "\n", encoding="utf-8"
    )
    spec = lm_spec(tmp_path, ["unused"], processing={"template": "Q: {instruction}\nA: {response}"})
    spec.values["data"]["corpus"] = {"path": "pairs.jsonl", "format": "auto", "field": "text"}
    spec = Spec(path=spec.path, values=spec.values)
    dataset = build_dataset(spec)
    assert dataset.frames["train"]["text"].str.startswith("Q: Repeat ").all()
    p = train_language_model(spec, dataset)
    assert p.info["train_documents"] == len(dataset.frames["train"])


def test_a_language_model_without_transformers_installed_is_one_located_line(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a, **k: None if name == "transformers" else real(name, *a, **k),
    )
    with pytest.raises(SpecError) as err:
        load(tmp_path)
    assert "needs transformers, which is not installed: pip install 'auditor[text-models]'" in str(
        err.value
    )
    assert "spec.yaml:3:" in str(err.value)
