"""The learning curve of a language model: trained again on growing fractions of the
training documents, the validation perplexity at each (would more documents help?)."""

from __future__ import annotations

import numpy as np
import pytest
from test_lm import lm_spec, random_docs

from auditor.data import build_dataset
from auditor.train.lm import train_language_model
from auditor.train.lm_evaluate import lm_evaluation, lm_learning_curve


def phrase_docs(n: int, seed: int) -> list[str]:
    """Documents of five phrases each, drawn from 150 fixed six-word phrases: a model that
    has seen more documents knows more of the phrases (the planted effect)."""
    rng = np.random.default_rng(seed)
    vocab = random_docs(1, seed=seed, length=300)[0].rstrip(".").split()
    phrases = [" ".join(rng.choice(vocab, size=6)) for _ in range(150)]
    return [" ".join(rng.choice(phrases, size=5)) + "." for _ in range(n)]


def test_the_curve_retrains_on_nested_fractions_and_ends_with_the_model_itself(tmp_path):
    from auditor.checks import run_checks

    spec = lm_spec(
        tmp_path,
        phrase_docs(120, seed=6),
        training={"epochs": 15},
        evaluation={"learning_curve": {"fractions": [0.1, 0.5, 1.0]}},
    )
    dataset = build_dataset(spec)
    predictor = train_language_model(spec, dataset)
    evaluation = lm_evaluation(spec, dataset, predictor)
    points = evaluation.learning_curve
    n = len(dataset.frames["train"])
    assert [p["fraction"] for p in points] == [0.1, 0.5, 1.0]
    assert [p["rows"] for p in points] == [round(0.1 * n), round(0.5 * n), n]
    validation = [p["validation"] for p in points]
    # more documents show more of the phrases the validation documents are made of
    assert validation[0] > validation[1] > validation[2]
    nll, tokens = evaluation.text["validation"]["nll"], evaluation.text["validation"]["tokens"]
    assert validation[-1] == pytest.approx(np.exp(nll.sum() / tokens.sum()))
    found = {f.id: f for f in run_checks(spec, dataset, evaluation)}
    curve = found["fit.lm_learning_curve"]
    expected = (validation[1] - validation[2]) / validation[1] / 0.5 * 0.1
    assert curve.value == pytest.approx(expected)
    assert curve.details["more_data_helps"] is (expected > 0.005)
    assert curve.chart["kind"] == "learning_curve" and curve.chart["metric"] == "perplexity"
    # drawn against the training documents, not rows
    import matplotlib

    matplotlib.use("Agg")
    from auditor.report.charts import learning_curve

    figure = learning_curve(curve.chart)
    assert figure.axes[0].get_xlabel() == "training documents"


def test_a_switched_off_curve_is_skipped_with_its_reason(tmp_path):
    from auditor.checks import run_checks

    spec = lm_spec(
        tmp_path,
        random_docs(40, seed=6),
        training={"epochs": 1},
        evaluation={"learning_curve": {"enabled": False}},
    )
    dataset = build_dataset(spec)
    predictor = train_language_model(spec, dataset)
    assert lm_learning_curve(spec, dataset, predictor)[0] == []
    found = {f.id: f for f in run_checks(spec, dataset, lm_evaluation(spec, dataset, predictor))}
    assert found["fit.lm_learning_curve"].status == "skipped"
    assert "switched off" in found["fit.lm_learning_curve"].summary
