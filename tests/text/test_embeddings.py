"""Sentence-embedding estimators: the bundled all-MiniLM-L6-v2 on real sentences, the
1-5 mapping, embedding support, and every model-reading catalogue entry on tiny models."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sentence_transformers")

from auditor.text import embeddings  # noqa: E402
from auditor.text.catalogue import TEXT_METRICS  # noqa: E402
from auditor.text.embeddings import load_embedder  # noqa: E402
from tests.text.test_local_models import models  # noqa: E402, F401 - the tiny models

QUESTION = "How long does a refund take?"
REFERENCE = "Refunds are paid back within five business days."
PARAPHRASE = "You get your money back in five working days."
UNRELATED = "Our head office is in Leeds and is closed on Sundays."


@pytest.fixture(scope="module")
def minilm():
    return load_embedder()


def test_the_bundled_model_finds_a_paraphrase_closer_than_an_unrelated_answer(minilm):
    cos = embeddings.row_cosines(minilm, [PARAPHRASE, UNRELATED], [REFERENCE, REFERENCE])
    assert cos[0] > 0.6 and cos[0] - cos[1] > 0.3, cos
    relevance = embeddings.row_cosines(minilm, [QUESTION, QUESTION], [PARAPHRASE, UNRELATED])
    assert relevance[0] - relevance[1] > 0.3, relevance
    # on the judged metrics' 1-5 scale the paraphrase reads as similar, the other not
    five = embeddings.to_five(cos)
    assert five[0] >= 3.4 and five[1] <= 2.2


def test_embeddings_are_unit_float32_and_each_text_is_embedded_once(minilm):
    texts = [REFERENCE, PARAPHRASE, REFERENCE, ""]
    vectors = minilm.embed(texts)
    assert vectors.dtype == np.float32 and vectors.shape == (4, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(vectors[0], vectors[2])
    # another batch size gives the same vectors (up to float error)
    fresh = load_embedder(batch_size=1)
    fresh._memo.clear()
    np.testing.assert_allclose(fresh.embed(texts), vectors, atol=1e-5)
    assert minilm.embed([]).shape == (0, 384)


def test_embedding_support_separates_a_supported_answer_from_a_made_up_one(minilm):
    context = "Refunds are paid within five business days. Orders ship from Leeds."
    supported = "Refunds are paid within five business days."
    made_up = "Refunds are paid within five business days. You also get a free cinema ticket."
    mean = embeddings.embedding_support(minilm, [supported, made_up], [context, context])
    low = embeddings.embedding_support(minilm, [supported, made_up], [context, context], how="min")
    assert mean[0] > 0.95 and mean[0] - mean[1] > 0.2
    assert low[1] < mean[1]  # the minimum is the made-up sentence's own support
    edge = embeddings.embedding_support(minilm, ["", "Anything."], [context, ""])
    assert edge.tolist() == [1.0, 0.0]


def test_the_cosine_to_five_mapping():
    np.testing.assert_allclose(
        embeddings.to_five(np.array([-0.5, 0.0, 0.5, 0.8, 1.0])), [1.0, 1.0, 3.0, 4.2, 5.0]
    )
    assert embeddings.sentences("One. Two?\nThree!  ") == ["One.", "Two?", "Three!"]


def test_every_model_reading_catalogue_entry_computes_in_range_on_tiny_models(models):  # noqa: F811
    from auditor.text.local_models import TextModels

    class Settings:
        embedding = str(models["sentence"])
        language_model = str(models["trained"])
        batch_size = 4
        device = "cpu"

    data = {
        "question": ["how long do refunds take"] * 3 + ["the"],
        "context": ["the refund takes five business days. our office is closed."] * 4,
        "response": ["the refund takes five days", "our office", "", "closed on sundays. the"],
        "reference": ["a refund takes five business days"] * 4,
        "models": TextModels(Settings(), models["sentence"].parent),
    }
    reading = [m for m in TEXT_METRICS.values() if m.needs]
    assert {m.name for m in reading} >= {
        "similarity", "relevance", "coherence", "fluency", "semantic_similarity",
        "embedding_support", "perplexity",
    }  # fmt: skip
    for metric in reading:
        values = metric.row_values(data)
        assert values.shape == (4,), metric.name
        assert np.all((values >= metric.low - 1e-9) & (values <= metric.high + 1e-9)), metric.name
        assert metric.heuristic, metric.name
    # the figures on the 1-5 scale are the raw cosines mapped
    np.testing.assert_allclose(
        TEXT_METRICS["similarity"].row_values(data),
        embeddings.to_five(TEXT_METRICS["semantic_similarity"].row_values(data)),
    )
    # the corpus perplexity is computed from the summed statistics
    stats = TEXT_METRICS["perplexity"].rows(data)
    assert stats.shape == (4, 2)
    corpus = TEXT_METRICS["perplexity"].corpus(stats.sum(axis=0))
    assert corpus == pytest.approx(np.exp(stats[:, 0].sum() / stats[:, 1].sum()))


def test_a_model_metric_without_its_model_is_one_clear_error():
    from auditor.text.local_models import LocalModelError

    with pytest.raises(LocalModelError, match="fluency needs a local language model"):
        TEXT_METRICS["fluency"].row_values({"response": ["x"]})
