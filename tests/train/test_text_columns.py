"""A text classifier's text column is text for every check: never one-hot encoded, never a
category in a drift test or a slice, compared with a TF-IDF baseline, drifted as words.

Planted effects: a label that is one keyword in the text (the TF-IDF baseline must find it),
client texts from another vocabulary (text drift must find it) and client texts from the
same distribution (it must not).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_text_classifier import classifier_spec, reviews
from tiny_encoder import FILLER

from auditor.data import build_dataset
from auditor.drift import domain_classifier, feature_drift
from auditor.evaluate import baseline_predictions
from auditor.metrics import Rows, point_metrics

#: Words the development texts never use: the client's drifted vocabulary.
OTHER = ["zorp", "blick", "quan", "mirel", "tovak", "spindle", "garrow", "hesk", "ulm", "vray"]


def keyword_reviews(n: int, seed: int) -> pd.DataFrame:
    """Filler sentences; the label is 1 exactly when the keyword 'brilliant' is in them."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        label = int(rng.integers(2))
        words = list(rng.choice(FILLER, size=6)) + (["brilliant"] if label else [])
        rng.shuffle(words)
        group = str(rng.choice(["a", "b"]))
        rows.append({"review": " ".join(words), "group": group, "label": label})
    return pd.DataFrame(rows)


def other_vocabulary(n: int, seed: int) -> pd.DataFrame:
    """Client texts mostly in words the development texts never use."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        label = int(rng.integers(2))
        words = list(rng.choice(OTHER, size=5)) + list(rng.choice(FILLER, size=2))
        rows.append({"review": " ".join(words) + " .", "group": "a", "label": label})
    return pd.DataFrame(rows)


def test_the_tfidf_baseline_finds_a_keyword_label_and_the_text_is_never_one_hot(tmp_path, encoder):
    spec = classifier_spec(tmp_path, encoder, keyword_reviews(300, seed=1))
    dataset = build_dataset(spec)
    assert dataset.column_types == {"review": "text"}
    # the text column is not in the tabular matrix: no one-hot column per distinct review
    assert dataset.feature_names == [] and dataset.X["train"].shape == (len(dataset.y["train"]), 0)
    found = baseline_predictions(dataset, 0.5, seed=3)
    assert "linear" not in found  # nothing tabular to fit a linear model on
    test = found["tfidf"]["test"]
    auc = point_metrics(Rows("binary", test.y_true, test.scores, test.y_pred), ["roc_auc"])
    assert auc["roc_auc"] > 0.95  # the keyword decides the label, TF-IDF sees it
    majority = found["majority"]["test"]
    assert len(np.unique(majority.scores)) == 1


def test_text_drift_is_found_for_another_vocabulary_and_not_for_the_same_distribution(
    tmp_path, encoder
):
    settings = classifier_spec(tmp_path, encoder, reviews(20, seed=0)).evaluation.drift
    kinds = {"review": "text"}
    ref = reviews(400, seed=11)
    same = reviews(400, seed=12)
    moved = other_vocabulary(400, seed=13)
    common = {"resamples": 200, "confidence": 0.95, "seed": 5}
    (stay,) = feature_drift(ref, same, ["review"], kinds, settings, **common)
    (went,) = feature_drift(ref, moved, ["review"], kinds, settings, **common)
    assert stay.kind == went.kind == "text"
    assert stay.unseen_share == 0.0 and stay.q_value >= settings.fdr
    assert went.unseen_share > 0.5 and went.q_value < 0.001 and went.value > stay.value
    assert "words per text" in went.reference_summary
    dc = {"rows": 400, "resamples": 200, "confidence": 0.95, "seed": 0}
    chance = domain_classifier(ref, same, ["review"], kinds, **dc)
    apart = domain_classifier(ref, moved, ["review"], kinds, **dc)
    assert chance.auc == pytest.approx(0.5, abs=0.08)
    assert apart.auc > 0.95 and apart.ci[0] > chance.ci[1]
    assert apart.drivers and all(d["feature"].startswith("review (words ") for d in apart.drivers)


def test_the_audit_types_the_text_column_as_text_in_every_check(tmp_path, encoder):
    import yaml

    from auditor.pipeline import run

    spec = classifier_spec(tmp_path, encoder, keyword_reviews(240, seed=6))
    other_vocabulary(120, seed=7).to_csv(tmp_path / "client.csv", index=False)
    values = dict(spec.values)
    values["data"] = {**values["data"], "holdout": "client.csv"}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(values), encoding="utf-8")
    results = run(tmp_path / "spec.yaml", out=tmp_path / "out", quiet=True).results
    findings = {f["id"]: f for f in results["findings"]}
    assert results["data"]["columns"] == {"review": "text"}
    assert findings["data.summary"]["details"]["model_inputs"] == 0
    # (a) the TF-IDF baseline is in the baselines table and is the one the model must beat
    tfidf = results["evaluation"]["baselines"]["tfidf"]["test"]
    assert tfidf["roc_auc"] > 0.95
    compared = findings["fit.baseline_improvement.roc_auc.test"]["details"]
    assert "tfidf" in {row["baseline"] for row in compared["baselines"]}
    assert compared["linear"] == pytest.approx(tfidf["roc_auc"])
    # (b) never a categorical drift test, an unseen category, a slice or a leakage screen
    drift = [f for f in results["findings"] if f["id"].startswith("drift.feature_drift")]
    review = [f for f in drift if f["details"].get("feature") == "review"]
    assert review and all(f["details"]["kind"] == "text" for f in review)
    assert review[0]["status"] == "warn" and "client's words never" in review[0]["summary"]
    unseen = [f for f in results["findings"] if f["id"].startswith("drift.unseen_categories")]
    assert unseen and all(f["details"]["columns"] == {} for f in unseen)
    assert "compared as words" in unseen[0]["summary"]
    domain = [f for f in results["findings"] if f["id"].startswith("drift.domain_classifier")]
    assert domain and domain[0]["value"] > 0.9  # the client's other vocabulary is told apart
    assert findings["fit.single_feature_leakage"]["status"] == "skipped"
    assert "free text" in findings["fit.single_feature_leakage"]["summary"]
    weak = [f for f in results["findings"] if f["id"].startswith("performance.weak_segments")]
    assert weak and all(f["details"]["searched"] == 0 for f in weak)
    # (4) permuting the text column is kept, and said to be the text column
    drivers = next(f for f in results["findings"] if f["id"].startswith("drivers.feature_imp"))
    assert "(the text column" in drivers["summary"]


def test_the_tfidf_baseline_scores_every_class_of_a_multiclass_text(tmp_path, encoder):
    frame = reviews(300, seed=2, classes=3)
    spec = classifier_spec(tmp_path, encoder, frame, task="multiclass")
    dataset = build_dataset(spec)
    test = baseline_predictions(dataset, None, seed=1)["tfidf"]["test"]
    assert test.scores.shape == (len(test.y_true), 3)
    np.testing.assert_allclose(test.scores.sum(axis=1), 1.0, atol=1e-9)
    # the opinion words decide the class: well above the 1/3 of a guess
    assert (test.y_pred == test.y_true).mean() > 0.6
