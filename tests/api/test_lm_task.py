"""The Python API on a language-model task: the bundled news-lm spec, shrunk through the
dict form (a tiny transformer, two epochs), with its documents given as a DataFrame, gives
the criteria the command line gives on the same documents read from the bundled file.

The frame holds the file's documents one a row (column ``text``), read as the JSON Lines
file of its rows would be; the same documents, the same seeded deduplication, split, BPE
training and transformer training, so the values are equal to 1e-9 (the same code in the
same process). Its fingerprint row says what was hashed (the frame's CSV text); the
file's row is the file's bytes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import auditor
from auditor.cli import main
from auditor.errors import UsageError

pytest.importorskip("transformers")

SPEC = Path(__file__).resolve().parents[2] / "specs" / "news-lm.yaml"
CORPUS = SPEC.parent / "corpora" / "lee_background.cor"


def shrunk() -> dict:
    """news-lm as a mapping, small enough for a test: one block of width 32, two epochs."""
    values = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    values["data"]["text_processing"].update(vocabulary_size=400, max_length=128)
    values["model"]["transformer"] = {"layers": 1, "width": 32, "heads": 2, "context_length": 32}
    values["training"].update(epochs=2, device="cpu", batch_size=16)
    values["evaluation"] = {
        "bootstrap": 100,
        "extraction": {"documents": 20, "prefix_tokens": 8, "verbatim_tokens": 16},
        "learning_curve": {"enabled": False},
    }
    return values


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    import auditor.report

    root = tmp_path_factory.mktemp("news-lm")
    documents = [line.strip() for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    frame = pd.DataFrame({"text": [d for d in documents if d]})
    with pytest.MonkeyPatch.context() as patch:  # the report is not what this compares
        patch.setattr(auditor.report, "render_report", lambda *args, **kwargs: {})
        api = auditor.run(shrunk(), out=root / "api", data={"corpus": frame})
        on_disk = shrunk()
        on_disk["data"]["corpus"]["path"] = str(CORPUS)  # the bundled file, as it is
        (root / "spec.yaml").write_text(json.dumps(on_disk), encoding="utf-8")  # JSON is YAML
        code = main(["run", str(root / "spec.yaml"), "--out", str(root / "cli"), "--quiet"])
    cli = auditor.AuditResult.read(root / "cli" / "results.json")
    return api, cli, code, frame


def test_a_language_model_from_a_dataframe_gives_the_clis_criteria(both):
    api, cli, code, _ = both
    assert api.exit_code == cli.exit_code == code
    assert api.verdict == cli.verdict
    mine, theirs = api.criteria_frame(), cli.criteria_frame()
    assert list(mine["check"]) == list(theirs["check"]) == [
        "perplexity", "perplexity_gap", "extraction", "corpus_overlap", "lm_overfitting",
    ]  # fmt: skip
    assert list(mine["status"]) == list(theirs["status"])
    assert mine["value"].notna().all() and float(mine["value"][0]) > 1.0  # a perplexity
    for column in ("value", "ci_low", "ci_high"):
        np.testing.assert_allclose(
            mine[column].astype(float), theirs[column].astype(float), rtol=1e-9, atol=1e-12
        )
    assert api.results["data"]["split"]["sizes"] == cli.results["data"]["split"]["sizes"]
    assert api.results["data"]["split"]["corpus"] == cli.results["data"]["split"]["corpus"]


def test_the_corpus_fingerprint_says_what_was_hashed(both):
    api, cli, _, frame = both
    (source,) = [s for s in api.results["data"]["sources"] if s["role"] == "corpus"]
    assert source["path"] == "<DataFrame corpus>" and source["format"] == "dataframe"
    assert "to_csv" in source["hashed"]
    text = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    assert source["sha256"] == hashlib.sha256(text).hexdigest()
    assert source["rows"] == len(frame)
    (file,) = [s for s in cli.results["data"]["sources"] if s["role"] == "corpus"]
    assert file["sha256"] == hashlib.sha256(CORPUS.read_bytes()).hexdigest()
    assert "hashed" not in file and file["format"] == "lines"


def test_a_corpus_frame_is_a_language_models_alone():
    values = yaml.safe_load((SPEC.parent / "support-assistant.yaml").read_text("utf-8"))
    with pytest.raises(UsageError) as caught:
        auditor.validate(values, data={"corpus": pd.DataFrame({"text": ["a b c"]})})
    assert str(caught.value) == "data.corpus: " + auditor.api.MSG_CORPUS_TASK


def test_a_corpus_frame_without_its_text_column_is_one_located_line():
    frame = pd.DataFrame({"body": ["one document", "another"]})
    with pytest.raises(auditor.errors.AuditorError) as caught:
        auditor.validate(shrunk(), data={"corpus": frame})
    assert str(caught.value) == (
        "data.corpus.field: <DataFrame corpus>: the DataFrame has no text field 'text' as a "
        "column (columns: 'body')"
    )
