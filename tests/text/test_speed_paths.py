"""The fast paths of the text metrics give the figures of the slow ones: intervals resampled
per distinct value (the same bootstrap), distinct rows computed once (the same values),
and the sentence-start test read backwards (the same decision as the regex)."""

from __future__ import annotations

import importlib
import random

import numpy as np
import pytest

from auditor.text.aggregate import aggregate, aggregate_gap, levels, pass_rate

# the module itself (auditor.text re-exports its function ``aggregate`` under that name)
agg = importlib.import_module("auditor.text.aggregate")


def _row_path(monkeypatch):
    """Force the row-by-row bootstrap (no value is shared by enough rows)."""
    monkeypatch.setattr(agg, "LEVEL_FACTOR", 10**9)


def test_levels_are_used_only_when_rows_share_values():
    assert levels(np.array([1.0, 1.0, 2.0, 2.0, 2.0, 1.0, 1.0, 2.0])) is not None
    assert levels(np.arange(8, dtype=float)) is None  # every row distinct
    assert levels(np.array([1.0, np.nan] * 8)) is None  # not finite: per row
    found, counts = levels(np.array([[1.0, 2.0]] * 6 + [[3.0, 4.0]] * 2))
    assert found.tolist() == [[1.0, 2.0], [3.0, 4.0]] and counts.tolist() == [6.0, 2.0]


def test_the_per_value_interval_matches_the_row_by_row_one(monkeypatch):
    rng = np.random.default_rng(3)
    scores = rng.choice([1.0, 2.0, 3.0, 4.0, 5.0], p=[0.1, 0.1, 0.2, 0.3, 0.3], size=4000)
    fast = aggregate(scores, resamples=2000, seed=1, confidence=0.95)
    rate = pass_rate(scores, 4.0, resamples=2000, seed=1, confidence=0.95)
    _row_path(monkeypatch)
    slow = aggregate(scores, resamples=2000, seed=1, confidence=0.95)
    slow_rate = pass_rate(scores, 4.0, resamples=2000, seed=1, confidence=0.95)
    assert fast.value == slow.value and rate.value == slow_rate.value
    # the same bootstrap, another random stream: the bounds agree to Monte-Carlo noise
    # (the interval is about 0.07 wide; its bounds' noise at 2000 resamples about 0.003)
    assert fast.low == pytest.approx(slow.low, abs=0.01)
    assert fast.high == pytest.approx(slow.high, abs=0.01)
    assert rate.low == pytest.approx(slow_rate.low, abs=0.006)
    assert rate.high == pytest.approx(slow_rate.high, abs=0.006)


def test_the_per_value_interval_covers_the_truth_at_its_level():
    covered, trials = 0, 200
    for t in range(trials):
        rng = np.random.default_rng(1000 + t)
        hits = (rng.random(300) < 0.2).astype(float)
        est = aggregate(hits, resamples=400, seed=t, confidence=0.9)
        covered += est.low <= 0.2 <= est.high
    assert 0.84 <= covered / trials <= 0.96


def test_a_corpus_figure_is_resampled_per_distinct_row_of_statistics(monkeypatch):
    pytest.importorskip("sacrebleu")
    from auditor.text import reference

    rng = np.random.default_rng(0)
    refs = ["the refund takes five days", "we ship within two days", "call us any time"]
    hyps = ["the refund takes 5 days", "we ship in two days", "call any time", "no idea"]
    responses = [hyps[int(i)] for i in rng.integers(0, 4, size=2000)]
    references = [refs[min(hyps.index(r), 2)] for r in responses]
    stats = reference.corpus_stats("bleu", responses, references)
    assert levels(stats) is not None

    def corpus(s):
        return reference.corpus_score("bleu", s)

    fast = aggregate(stats, resamples=1000, seed=2, confidence=0.95, corpus=corpus)
    _row_path(monkeypatch)
    slow = aggregate(stats, resamples=1000, seed=2, confidence=0.95, corpus=corpus)
    assert fast.value == slow.value
    assert fast.low == pytest.approx(slow.low, abs=1.0) and fast.high == pytest.approx(
        slow.high, abs=1.0
    )


def test_the_gap_interval_covers_the_planted_gap_either_way(monkeypatch):
    rng = np.random.default_rng(4)
    a = (rng.random(3000) < 0.30).astype(float)
    b = (rng.random(5000) < 0.20).astype(float)
    point, ci = aggregate_gap(a, b, resamples=1000, seed=5, confidence=0.95)
    assert point == pytest.approx(a.mean() - b.mean())
    assert ci[0] < 0.1 < ci[1] and ci[0] > 0.05
    _row_path(monkeypatch)
    point_rows, ci_rows = aggregate_gap(a, b, resamples=1000, seed=5, confidence=0.95)
    assert point_rows == point
    assert ci_rows[0] == pytest.approx(ci[0], abs=0.006)
    assert ci_rows[1] == pytest.approx(ci[1], abs=0.006)
    assert aggregate_gap(a, b[:0], resamples=100, seed=1, confidence=0.9)[1] is None


def test_repeated_rows_get_the_libraries_values():
    pytest.importorskip("sacrebleu")
    pytest.importorskip("rouge_score")
    from auditor.text import reference

    rng = random.Random(1)
    words = "refund order ship days the a five 5 two we you call time any within".split()
    pool = [
        (" ".join(rng.choices(words, k=rng.randint(1, 9))), " ".join(rng.choices(words, k=6)))
        for _ in range(40)
    ]
    rows = [rng.choice(pool) for _ in range(400)]  # many repeats
    responses, references = [r for r, _ in rows], [t for _, t in rows]
    for name in ("bleu", "chrf"):
        fast = reference.corpus_stats(name, responses, references)
        np.testing.assert_array_equal(
            fast, reference._library_stats(name, responses, references), err_msg=name
        )
        metric = reference._sacrebleu_metric(name, True)
        each = [metric._compute_score_from_stats(row.copy()).score for row in fast]
        np.testing.assert_allclose(reference.sentence_scores(name, fast), each)
    scorer = reference._rouge_scorer()
    want = [scorer.score(t, r)["rougeL"].fmeasure for r, t in rows]
    np.testing.assert_allclose(reference.rouge_l(responses, references), want)


def test_the_sentence_start_read_backwards_equals_the_regex():
    from auditor.text.grounding import _SENTENCE_START, _opens_sentence

    rng = random.Random(0)
    alphabet = list("ab .!?:;\n\t\"'(xY,")
    for _ in range(20_000):
        prefix = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        text = prefix + "Word"
        assert _opens_sentence(text, len(prefix)) == bool(_SENTENCE_START.search(prefix)), prefix


def test_personal_data_rows_skip_only_rows_that_cannot_hold_any():
    from auditor.text.safety import added_personal_data, personal_data_rows

    responses = [
        "Write to agent@support.example for help.",
        "Call 555 0142 7788 today.",
        "No contact details here.",
        "Your e-mail me@mail.example is on file.",
        "Write to agent@support.example for help.",
    ]
    prompts = ["q", "q", "q", "my e-mail is me@mail.example", "q"]
    got = personal_data_rows(responses, prompts)
    want = [
        float(any(added_personal_data(r, f"{p}\n").values()))
        for r, p in zip(responses, prompts, strict=True)
    ]
    assert got.tolist() == want == [1.0, 1.0, 0.0, 0.0, 1.0]


def test_the_13a_tokens_equal_sacrebleus_on_random_and_realistic_text():
    pytest.importorskip("sacrebleu")
    from auditor.text import reference
    from auditor.text.example import support

    metric = reference._sacrebleu_metric("bleu", False)
    tokens = reference._Tokens13a(metric)
    assert tokens.rules is not None  # the fast path is the one tested
    rng = random.Random(0)
    alphabet = list("ab1 2.,-\n&;<>\"'{}[]`~^_|\\/:@?!()*+$%#=xyZü日") + [
        "&quot;",
        "&amp;",
        "&lt;",
        "&gt;",
        "<skipped>",
        "-\n",
    ]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25))) for _ in range(5000)]
    frame = support(np.random.default_rng(1), 300)
    texts += frame["response"].tolist() + frame["context"].tolist()
    for text in texts:
        assert tokens(text) == metric._preprocess_segment(text).split(), text
