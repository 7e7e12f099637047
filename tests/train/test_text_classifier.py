"""A text classifier fine-tuned from a pre-trained encoder, audited like any classifier.

The "pre-trained encoder" of most tests is a tiny BERT built from a config and saved to a
folder (as transformers saves one); the bundled example fine-tunes the shipped
all-MiniLM-L6-v2 on gensim's labelled review sentences with a planted group difference.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from tiny_encoder import BAD, FILLER, GOOD

from auditor.data import build_dataset
from auditor.errors import SpecError
from auditor.spec.defaults import apply_defaults
from auditor.train.text_classifier import train_text_classifier
from auditor.types import Spec

REPO = Path(__file__).resolve().parents[2]


def reviews(n: int, seed: int, *, classes: int = 2) -> pd.DataFrame:
    """Sentences whose label is the sentiment of their opinion words; group "b" writes most
    negative ones (the planted difference a fair-looking model still reproduces)."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        label = int(rng.integers(classes))
        words = list(rng.choice(FILLER, size=5))
        pool = GOOD if label == classes - 1 else BAD if label == 0 else GOOD[:4] + BAD[:4]
        words += list(rng.choice(pool, size=2))
        rng.shuffle(words)
        group = "b" if rng.random() < (0.15 if label == classes - 1 else 0.85) else "a"
        rows.append({"review": " ".join(words) + " .", "group": group, "label": label})
    return pd.DataFrame(rows)


def classifier_spec(folder: Path, encoder: Path, frame: pd.DataFrame, **changes) -> Spec:
    frame.to_csv(folder / "reviews.csv", index=False)
    task = changes.pop("task", "binary")
    values = {
        "version": 1,
        "name": "text-classifier",
        "objective": {"task": task, "target": "label"},
        "data": {
            "train": "reviews.csv",
            "sensitive": ["group"],
            "split": {"strategy": "stratified", "validation": 0.2, "test": 0.25, "seed": 2},
        },
        "model": {
            "architecture": "text_classifier",
            "encoder": {
                "model": str(encoder),
                "text_column": "review",
                "max_length": 16,
                **changes.pop("encoder_settings", {}),
            },
            "dropout": 0.0,
        },
        "training": {
            "optimizer": "adamw",
            "learning_rate": 0.003,
            "batch_size": 16,
            "epochs": 6,
            "device": "cpu",
            "seed": 4,
            **changes.pop("training", {}),
        },
        "evaluation": {
            "bootstrap": 200,
            "min_group_size": 10,
            "learning_curve": {"enabled": False},
        },
    }
    if task == "binary":
        values["objective"]["positive"] = 1
    return Spec(path=folder / "spec.yaml", values=apply_defaults(values))


def test_scores_come_out_shaped_like_a_tabular_classifiers(tmp_path, encoder):
    spec = classifier_spec(tmp_path, encoder, reviews(160, seed=1))
    dataset = build_dataset(spec)
    p = train_text_classifier(spec, dataset)
    scores = p.predict(dataset, "test")
    assert scores.shape == (len(dataset.y["test"]),) and ((scores >= 0) & (scores <= 1)).all()
    accuracy = ((scores > 0.5) == dataset.y["test"]).mean()
    assert accuracy > 0.85  # the opinion words decide the label
    assert p.kind == "trained" and p.has_scores and p.info["architecture"] == "text_classifier"
    assert p.history and p.info["trainable_parameters"] == p.info["parameters"]


def test_multiclass_scores_are_probabilities_per_class(tmp_path, encoder):
    spec = classifier_spec(tmp_path, encoder, reviews(150, seed=2, classes=3), task="multiclass")
    dataset = build_dataset(spec)
    scores = train_text_classifier(spec, dataset).predict(dataset, "validation")
    assert scores.shape == (len(dataset.y["validation"]), 3)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, atol=1e-5)


def test_two_cpu_runs_give_identical_weights_and_the_test_rows_never_reach_them(tmp_path, encoder):
    frame = reviews(120, seed=3)
    first = tmp_path / "a"
    first.mkdir()
    spec = classifier_spec(first, encoder, frame)
    dataset = build_dataset(spec)
    a = train_text_classifier(spec, dataset)
    b = train_text_classifier(spec, dataset)
    assert a.info["fingerprint"] == b.info["fingerprint"]
    changed = dataset.frames["test"].copy()
    changed["review"] = "the film ."
    dataset.frames["test"] = changed
    c = train_text_classifier(spec, dataset)
    assert c.info["fingerprint"] == a.info["fingerprint"]


def test_a_frozen_encoder_keeps_its_weights_and_only_the_head_learns(tmp_path, encoder):
    from transformers import AutoModel

    spec = classifier_spec(
        tmp_path,
        encoder,
        reviews(120, seed=4),
        encoder_settings={"freeze_encoder": True, "head_learning_rate": 0.05},
        training={"learning_rate": 0.05, "epochs": 20},
    )
    dataset = build_dataset(spec)
    p = train_text_classifier(spec, dataset)
    base = AutoModel.from_pretrained(encoder).state_dict()
    for name, value in p.model.encoder.state_dict().items():
        assert torch.equal(value, base[name]), name
    head = sum(q.numel() for q in p.model.head.parameters())
    assert p.info["trainable_parameters"] == head and p.info["freeze_encoder"] is True
    assert p.info["head_learning_rate"] == 0.05


def test_saved_folder_holds_the_encoder_and_the_head_as_safetensors(tmp_path, encoder):
    from safetensors.torch import load_file
    from transformers import AutoModel

    spec = classifier_spec(tmp_path, encoder, reviews(120, seed=5), training={"epochs": 1})
    dataset = build_dataset(spec)
    p = train_text_classifier(spec, dataset)
    files = p.save(tmp_path / "model")
    assert {"model", "config", "head", "tokenizer", "training"} <= set(files)
    assert not list((tmp_path / "model").glob("*.bin"))
    loaded = AutoModel.from_pretrained(tmp_path / "model")
    for name, value in loaded.state_dict().items():
        assert torch.equal(value, p.model.encoder.state_dict()[name])
    head = load_file(str(tmp_path / "model" / "head.safetensors"))
    assert torch.equal(head["weight"], p.model.head.weight.detach())


def test_the_whole_tabular_audit_runs_and_finds_the_planted_group_difference(tmp_path, encoder):
    import yaml

    from auditor.pipeline import run

    frame = reviews(240, seed=6)
    spec = classifier_spec(tmp_path, encoder, frame)
    values = dict(spec.values)
    values["acceptance"] = [
        {"metric": "roc_auc", "split": "test", "at_least": 0.8},
        {
            "metric": "demographic_parity_difference",
            "sensitive": "group",
            "split": "test",
            "at_most": 0.2,
        },
    ]
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(values), encoding="utf-8")
    outcome = run(tmp_path / "spec.yaml", out=tmp_path / "out", quiet=True)
    findings = {f["id"]: f for f in outcome.results["findings"]}
    for expected in (
        "performance.roc_auc.test",
        "performance.ece.test",
        "performance.calibration.test",
        "fairness.group_calibration.test.group",
        "fit.baseline_improvement.roc_auc.test",
        "fairness.demographic_parity_difference.test.group",
    ):
        assert expected in findings, expected
    # ground truth: the selection rates the planted shares give a model that reads sentiment
    test = outcome.results["criteria"]
    assert test[0]["status"] == "pass"
    dpd = findings["fairness.demographic_parity_difference.test.group"]
    assert dpd["value"] > 0.4 and test[1]["status"] == "fail"
    assert outcome.results["verdict"]["status"] == "NOT READY"


def test_the_bundled_classifier_finds_its_planted_group_difference(tmp_path):
    from auditor.pipeline import run

    outcome = run(REPO / "specs" / "reviews-classifier.yaml", out=tmp_path / "out", quiet=True)
    criteria = {c["description"].split(" on ")[0]: c for c in outcome.results["criteria"]}
    dpd = next(v for k, v in criteria.items() if k.startswith("Demographic parity"))
    assert dpd["status"] == "fail" and dpd["value"] > 0.2
    assert outcome.results["verdict"]["status"] == "NOT READY"
    assert (tmp_path / "out" / "report.pdf").stat().st_size > 10_000
    assert outcome.results["model"]["info"]["encoder_fingerprint"]


# ------------------------------------------------------------------ rules
BASE = """\
version: 1
name: tc
objective: {{task: {task}, target: label}}
data: {{train: reviews.csv}}
model:
  architecture: {architecture}
{encoder}"""


@pytest.mark.parametrize(
    ("task", "architecture", "encoder", "line", "message"),
    [
        (
            "regression",
            "text_classifier",
            "  encoder: {text_column: review}\n",
            6,
            "objective.task must be binary or multiclass",
        ),
        ("binary", "text_classifier", "", 6, "set model.encoder.text_column"),
        (
            "binary",
            "mlp",
            "  encoder: {text_column: review}\n",
            7,
            "model.encoder applies to architecture text_classifier only",
        ),
        (
            "binary",
            "text_classifier",
            "  encoder: {text_column: reveiw}\n",
            7,
            "did you mean 'review'?",
        ),
        (
            "binary",
            "text_classifier",
            "  encoder: {text_column: label}\n",
            7,
            "names the target 'label'",
        ),
    ],
)
def test_text_classifier_rules(tmp_path, task, architecture, encoder, line, message):
    from auditor.spec import load_spec

    reviews(40, seed=1).to_csv(tmp_path / "reviews.csv", index=False)
    path = tmp_path / "spec.yaml"
    path.write_text(BASE.format(task=task, architecture=architecture, encoder=encoder))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert message in str(err.value) and f"spec.yaml:{line}:" in str(err.value)
