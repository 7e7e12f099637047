"""The language-model fit checks on planted effects: memorization, overfitting, overlap.

Tiny corpora are generated here with known ground truth (a sentence repeated in fifty
documents, a corpus too small and random to generalise from, duplicates placed across
the splits); tiny transformers are trained on them on the CPU.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from auditor.checks import run_checks
from auditor.checks.lm_fit import perplexity_estimate
from auditor.data import build_dataset
from auditor.metrics.bootstrap import draw_weights
from auditor.spec.defaults import apply_defaults
from auditor.train.lm import train_language_model
from auditor.train.lm_evaluate import lm_evaluation
from auditor.types import Spec
from auditor.verdict import decide

SYLLABLES = ["ka", "to", "ri", "mu", "se", "lo", "na", "vi", "de", "po", "ga", "shi"]
SENTENCE = (
    "the harbour board said on tuesday that the new ferry timetable would start in march "
    "and that fares for pensioners would stay the same"
)


def random_docs(n: int, seed: int, length: int = 24) -> list[str]:
    rng = np.random.default_rng(seed)
    vocab = ["".join(rng.choice(SYLLABLES, size=int(rng.integers(1, 4)))) for _ in range(400)]
    return [" ".join(rng.choice(vocab, size=length)) + "." for _ in range(n)]


def lm_spec(folder: Path, docs: list[str], *, training=None, evaluation=None, acceptance=None):
    (folder / "corpus.txt").write_text("\n".join(docs) + "\n", encoding="utf-8")
    values = {
        "version": 1,
        "name": "lm-fit",
        "objective": {"task": "language_model"},
        "data": {
            "corpus": {"path": "corpus.txt"},
            "split": {"validation": 0.2, "test": 0.2, "seed": 3},
            "text_processing": {"vocabulary_size": 400, "max_length": 96},
        },
        "model": {
            "architecture": "transformer_lm",
            "transformer": {"layers": 2, "width": 64, "heads": 2, "context_length": 64},
            "dropout": 0.0,
        },
        "training": {
            "optimizer": "adamw",
            "learning_rate": 0.005,
            "batch_size": 4,
            "epochs": 30,
            "device": "cpu",
            "seed": 5,
            "early_stopping": {"enabled": False},
            **(training or {}),
        },
        "evaluation": {
            "bootstrap": 500,
            "extraction": {"documents": 100, "prefix_tokens": 6, "verbatim_tokens": 12},
            "learning_curve": {"enabled": False},  # tests/train/test_lm_curve.py
            **(evaluation or {}),
        },
        "acceptance": acceptance or [],
    }
    return Spec(path=folder / "spec.yaml", values=apply_defaults(values))


def audit(spec: Spec):
    dataset = build_dataset(spec)
    predictor = train_language_model(spec, dataset)
    evaluation = lm_evaluation(spec, dataset, predictor)
    findings = run_checks(spec, dataset, evaluation)
    return dataset, predictor, evaluation, {f.id: f for f in findings}


def memorizing_corpus() -> list[str]:
    """Fifty documents that open with the same sentence (different endings, so none is a
    near-duplicate of another), among thirty that do not."""
    tails = random_docs(50, seed=11, length=30)
    return [f"{SENTENCE} {tail}" for tail in tails] + random_docs(30, seed=12, length=40)


# ------------------------------------------------------------------ perplexity
def test_perplexity_is_exp_of_the_summed_nll_over_the_summed_tokens():
    rng = np.random.default_rng(0)
    tokens = rng.integers(5, 50, size=400).astype(float)
    nll = tokens * rng.uniform(2.0, 4.0, size=400)
    weights = draw_weights(np.random.default_rng(1), 2000, 400, dtype=np.float64)
    value, ci, reps = perplexity_estimate(nll, tokens, weights, 0.95)
    assert value == pytest.approx(np.exp(nll.sum() / tokens.sum()))
    assert ci[0] < value < ci[1]
    # the interval is the spread of document-level resamples: a larger corpus narrows it
    big = np.tile(nll, 4), np.tile(tokens, 4)
    w4 = draw_weights(np.random.default_rng(1), 2000, 1600, dtype=np.float64)
    _, ci4, _ = perplexity_estimate(*big, w4, 0.95)
    assert (ci4[1] - ci4[0]) < 0.7 * (ci[1] - ci[0])
    assert perplexity_estimate(nll, tokens, None, 0.95)[1] is None


def test_a_planted_overfit_shows_in_the_gap_and_the_turning_epoch(tmp_path):
    # thirty random documents: nothing to generalise, everything to memorise
    spec = lm_spec(tmp_path, random_docs(30, seed=8))
    _, predictor, evaluation, found = audit(spec)
    for split in ("train", "validation", "test"):
        f = found[f"fit.perplexity.{split}"]
        assert f.ci[0] <= f.value <= f.ci[1]
        assert f.n == len(evaluation.text[split]["tokens"])
    gap = found["fit.perplexity_gap.validation"]
    assert gap.value > 1.0 and gap.ci[0] > 0  # far worse on unseen documents
    train = found["fit.perplexity.train"].value
    assert gap.value == pytest.approx(found["fit.perplexity.validation"].value / train - 1)
    over = found["fit.overfitting"]
    assert over.check == "lm_overfitting" and over.status == "warn"
    lowest = min(predictor.history, key=lambda h: h["val_loss"])["epoch"]
    assert over.details["rising_from"] == lowest + 1
    assert over.chart["kind"] == "loss_curve" and over.chart["rising_from"] == lowest + 1
    assert found["fit.perplexity.test"].chart["kind"] == "metric_intervals"


# ------------------------------------------------------------------ extraction
def test_a_sentence_repeated_fifty_times_is_reported_as_memorized(tmp_path):
    spec = lm_spec(
        tmp_path,
        memorizing_corpus(),
        acceptance=[{"check": "extraction", "at_most": 0.05}],
    )
    dataset, _, evaluation, found = audit(spec)
    assert dataset.split_info["corpus"]["near_duplicates_removed"] == 0  # all fifty kept
    f = found["fit.extraction"]
    train = dataset.frames["train"]["text"]
    planted = float(train.str.startswith(SENTENCE).mean())
    assert f.value >= 0.9 * planted and f.ci[0] > 0.3
    assert f.details["reproduced"] >= 1 and f.details["examples"][0]["matched_tokens"] == 12
    example = f.details["examples"][0]
    assert example["completion"] == example["continuation"]
    assert SENTENCE.startswith((example["prefix"] + example["completion"]).strip())
    assert f.chart["kind"] == "histogram" and sum(f.chart["counts"]) == f.n
    outcomes, verdict = decide(spec, list(found.values()))
    assert verdict.status == "NOT READY"
    assert outcomes[0].finding_id == "fit.extraction" and outcomes[0].status == "fail"


def test_a_corpus_without_repeats_is_not_memorized(tmp_path):
    spec = lm_spec(
        tmp_path,
        random_docs(80, seed=13, length=40),
        acceptance=[{"check": "extraction", "at_most": 0.05}],
    )
    _, _, _, found = audit(spec)
    f = found["fit.extraction"]
    assert f.value == 0.0 and f.details["reproduced"] == 0
    assert "no training document was reproduced" in f.summary
    outcomes, verdict = decide(spec, list(found.values()))
    assert outcomes[0].status == "pass"
    # random documents still overfit: only that advisory diagnostic keeps it from READY
    assert verdict.status == "CONDITIONAL" and found["fit.overfitting"].status == "warn"


# ------------------------------------------------------------------ corpus overlap
def test_duplicates_across_splits_are_the_text_form_of_train_test_overlap(tmp_path):
    base = random_docs(60, seed=21, length=30)
    copies = [d.upper() for d in base[:20]]  # twenty exact duplicates (case changed)
    docs = base + copies
    on = lm_spec(tmp_path, docs, training={"epochs": 1})
    dataset_on = build_dataset(on)
    assert dataset_on.split_info["corpus"]["exact_duplicates_removed"] == 20
    assert all(o["exact"] + o["near"] == 0 for o in dataset_on.split_info["overlap"].values())

    off_dir = tmp_path / "off"
    off_dir.mkdir()
    off = lm_spec(off_dir, docs, training={"epochs": 1})
    off.values["data"]["text_processing"]["deduplicate"] = {
        **off.values["data"]["text_processing"]["deduplicate"],
        "exact": False,
        "near": False,
    }
    off = Spec(path=off.path, values=off.values)
    dataset = build_dataset(off)
    where = {int(p): s for s, f in dataset.frames.items() for p in f["position"]}
    truth = {"validation": 0, "test": 0}
    for k in range(20):
        a, b = where[k], where[60 + k]
        if "train" in (a, b) and a != b:
            truth[b if a == "train" else a] += 1
    assert sum(truth.values()) > 0
    predictor = train_language_model(off, dataset)
    findings = run_checks(off, dataset, lm_evaluation(off, dataset, predictor))
    by_id = {f.id: f for f in findings}
    for split in ("validation", "test"):
        f = by_id[f"data.corpus_overlap.{split}"]
        assert round(f.value * f.n) == truth[split]
        if truth[split]:
            assert f.ci[1] > 0 and "duplicate among the training documents" in f.summary
    assert by_id["data.corpus_duplicates"].details["exact"] == 0


def test_tabular_checks_do_not_run_for_a_language_model(tmp_path):
    spec = lm_spec(tmp_path, random_docs(30, seed=8), training={"epochs": 1})
    _, _, _, found = audit(spec)
    checks = {f.check for f in found.values()}
    assert checks == {
        "perplexity",
        "perplexity_gap",
        "lm_overfitting",
        "extraction",
        "lm_learning_curve",
        "corpus_duplicates",
        "corpus_overlap",
        "text",  # the generated-text metrics of its answers to held-out prompts
    }
    assert not any(f.status == "error" for f in found.values())
