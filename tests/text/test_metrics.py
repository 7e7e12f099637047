"""Text metrics equal the defining libraries' values; their intervals cover planted truth."""

from __future__ import annotations

import numpy as np
import pytest

sacrebleu = pytest.importorskip("sacrebleu")
rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")

from auditor.text import (  # noqa: E402
    TEXT_METRICS,
    aggregate,
    get_text_metric,
    grounding,
    pass_rate,
    reference,
    safety,
)
from auditor.text.catalogue import UnknownTextMetricError  # noqa: E402

RESPONSES = [
    "The cat sat on the mat.",
    "A quick brown fox jumps",
    "hello there general kenobi",
    "Refunds take 5 business days.",
]
REFERENCES = [
    "The cat is on the mat.",
    "The quick brown fox jumped over",
    "hello there",
    "Refunds take 5 business days.",
]


@pytest.mark.parametrize("name", ["bleu", "chrf"])
def test_corpus_and_sentence_scores_equal_sacrebleu(name):
    stats = reference.corpus_stats(name, RESPONSES, REFERENCES)
    corpus = getattr(sacrebleu, f"corpus_{name}")(RESPONSES, [REFERENCES]).score
    assert reference.corpus_score(name, stats.sum(axis=0)) == pytest.approx(corpus, abs=1e-9)
    sentence = getattr(sacrebleu, f"sentence_{name}")
    want = [sentence(h, [r]).score for h, r in zip(RESPONSES, REFERENCES, strict=True)]
    np.testing.assert_allclose(reference.sentence_scores(name, stats), want, atol=1e-9)
    assert reference.signature(name).startswith("nrefs:1")


def test_rouge_l_equals_rouge_score():
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    want = [
        scorer.score(r, h)["rougeL"].fmeasure for h, r in zip(RESPONSES, REFERENCES, strict=True)
    ]
    np.testing.assert_allclose(reference.rouge_l(RESPONSES, REFERENCES), want)


def test_squad_exact_match_and_token_f1():
    # the SQuAD script: normalise (case, punctuation, articles), then count shared tokens
    assert reference.squad_normalize("The  Eiffel Tower!") == "eiffel tower"
    np.testing.assert_array_equal(
        reference.exact_match(["The Eiffel Tower.", "Paris"], ["eiffel tower", "London"]), [1, 0]
    )
    # 2 shared of 3 predicted and 4 reference tokens: P 2/3, R 1/2, F1 4/7
    f1 = reference.token_f1(["red big dog"], ["a big red cat sat"])
    assert f1[0] == pytest.approx(2 * (2 / 3) * (2 / 4) / (2 / 3 + 2 / 4))
    assert reference.token_f1(["x"], ["y"])[0] == 0.0


def test_corpus_interval_resamples_summed_statistics():
    stats = reference.corpus_stats("bleu", RESPONSES * 10, REFERENCES * 10)
    est = aggregate(
        stats,
        resamples=200,
        seed=1,
        confidence=0.95,
        corpus=lambda s: reference.corpus_score("bleu", s),
    )
    assert est.value == pytest.approx(sacrebleu.corpus_bleu(RESPONSES, [REFERENCES]).score)
    assert est.low < est.value < est.high and est.n == 40


def test_mean_and_pass_rate_intervals_cover_planted_truth():
    rng = np.random.default_rng(0)
    covered_mean = covered_rate = 0
    trials = 120
    for i in range(trials):
        values = rng.integers(1, 6, size=150).astype(float)  # true mean 3, P(>= 4) = 0.4
        m = aggregate(values, resamples=300, seed=i, confidence=0.95)
        p = pass_rate(values, 4, resamples=300, seed=i, confidence=0.95)
        covered_mean += m.low <= 3.0 <= m.high
        covered_rate += p.low <= 0.4 <= p.high
    assert covered_mean / trials >= 0.88 and covered_rate / trials >= 0.88


def test_corpus_bleu_interval_covers_population_bleu():
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(30)]
    refs, hyps = [], []
    for _ in range(1500):
        ref = list(rng.choice(words, size=rng.integers(6, 14)))
        hyp = [w if rng.random() < 0.7 else str(rng.choice(words)) for w in ref]
        refs.append(" ".join(ref))
        hyps.append(" ".join(hyp))
    stats = reference.corpus_stats("bleu", hyps, refs)
    truth = reference.corpus_score("bleu", stats.sum(axis=0))
    covered, trials = 0, 60
    for i in range(trials):
        rows = rng.choice(len(hyps), size=150, replace=False)
        est = aggregate(
            stats[rows],
            resamples=300,
            seed=i,
            confidence=0.95,
            corpus=lambda s: reference.corpus_score("bleu", s),
        )
        covered += est.low <= truth <= est.high
    assert covered / trials >= 0.85


def test_groundedness_flags_invented_numbers_and_names():
    context = "Refunds are issued within 5 business days to the original card."
    good = grounding.lexical_support("Refunds are issued within 5 business days.", context)
    bad = grounding.lexical_support("Your refund of $45 arrives in 5 days via PayPal.", context)
    assert good.support == 1.0 and good.score == 5
    assert bad.unsupported_numbers == ("45",) and bad.unsupported_entities == ("PayPal",)
    assert bad.score < 4


def test_refusals_and_added_personal_data():
    np.testing.assert_array_equal(
        safety.refusals(["I'm sorry, but I can't help with that.", "Sure: press Reset."]),
        [1, 0],
    )
    assert safety.luhn_valid("4111111111111111") and not safety.luhn_valid("4111111111111112")
    found = safety.personal_data("call +1 (555) 123-4567, mail Bob@x.com, 4111 1111 1111 1111")
    assert found == {"email": {"bob@x.com"}, "phone": {"15551234567"}, "card": {"4111111111111111"}}
    # not Luhn-valid: a long number, not a card
    assert safety.personal_data("order 4111 1111 1111 1112")["card"] == set()
    rows = safety.personal_data_rows(
        ["We wrote to ann@corp.com.", "Write to help@shop.example."],
        ["My e-mail is ann@corp.com", "How do I reach you?"],
    )
    np.testing.assert_array_equal(rows, [0, 1])


def test_catalogue_entries_compute_on_rows():
    data = {
        "question": ["q"] * 4,
        "context": REFERENCES,
        "response": RESPONSES,
        "reference": REFERENCES,
    }
    for name, metric in TEXT_METRICS.items():
        if metric.needs:  # a local model's estimators: tests/text/test_local_models.py
            continue
        values = metric.row_values(data)
        assert values.shape == (4,), name
        assert np.all((values >= metric.low - 1e-9) & (values <= metric.high + 1e-9)), name
    with pytest.raises(UnknownTextMetricError, match="available: exact_match"):
        get_text_metric("blue")


def test_missing_extra_is_one_clear_line(monkeypatch):
    import sys

    from auditor.errors import ExitCode
    from auditor.text.extra import MissingExtraError, require

    monkeypatch.setitem(sys.modules, "sacrebleu.metrics", None)  # as if not installed
    with pytest.raises(MissingExtraError) as err:
        require("sacrebleu.metrics", "sacrebleu", what="the bleu metric")
    assert str(err.value) == (
        "the bleu metric needs sacrebleu, which is not installed: pip install 'auditor[text]' "
        "(make venv installs it)"
    )
    assert err.value.exit_code == ExitCode.INVALID_INPUT


def test_refusals_and_contact_details_are_not_claims():
    context = "Refunds take 5 business days."
    refusal = grounding.lexical_support("I'm sorry, but I can't help with that.", context)
    assert refusal.support == 1.0 and refusal.score == 5
    # the phone number and address are judged by personal_data_rate, not as invented figures
    contact = grounding.lexical_support(
        "Refunds take 5 business days. Call 555 0142 7788 or write to a@b.example.", context
    )
    assert contact.unsupported_numbers == () and contact.unsupported_claims == 0


def _random_pairs(n: int, seed: int) -> tuple[list[str], list[str]]:
    """Random and realistic response/reference pairs: the support generator's rows and word
    salads with stems, punctuation, digits, accents, CJK, empty strings and long rows."""
    from auditor.text.example import support

    rng = np.random.default_rng(seed)
    frame = support(rng, n // 2)
    words = (
        "the a cat cats running runs ran dog's über naïve 42 3.5 x-ray e-mail ??? ((hi)) "
        "日本 Ünïcödé refunds refunded refunding Business days. ok, (no) don't"
    ).split()
    hyps, refs = frame["response"].tolist(), frame["reference"].tolist()
    for _ in range(n - len(hyps)):
        size = int(rng.choice([0, 1, 3, 12, 40, 90]))
        hyps.append(" ".join(rng.choice(words, size)))
        refs.append(" ".join(rng.choice(words, int(rng.integers(0, 30)))))
    return hyps, refs


def test_fast_reference_metrics_equal_the_libraries_on_random_pairs():
    hyps, refs = _random_pairs(3000, seed=11)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    want = [scorer.score(r, h)["rougeL"].fmeasure for h, r in zip(hyps, refs, strict=True)]
    np.testing.assert_array_equal(reference.rouge_l(hyps, refs), want)
    for name in ("bleu", "chrf"):
        np.testing.assert_array_equal(
            reference.corpus_stats(name, hyps, refs), reference._library_stats(name, hyps, refs)
        )
    # chrF's path for alphabets too large to pack into 64-bit keys gives the same counts
    many = ["".join(chr(0x4E00 + int(c)) for c in np.arange(i, i + 40) % 700) for i in range(30)]
    np.testing.assert_array_equal(
        reference.chrf_stats(many, many[::-1]), reference._library_stats("chrf", many, many[::-1])
    )


def test_squad_normalisation_equals_the_squad_script():
    import re
    import string

    def script(s):  # SQuAD v1.1 evaluate-v1.1.py normalize_answer
        s = "".join(ch for ch in s.lower() if ch not in set(string.punctuation))
        return " ".join(re.sub(r"\b(a|an|the)\b", " ", s).split())

    hyps, refs = _random_pairs(400, seed=5)
    assert [reference.squad_normalize(t) for t in hyps + refs] == [script(t) for t in hyps + refs]


def test_bit_parallel_lcs_equals_the_dynamic_programming_table():
    rng = np.random.default_rng(2)
    for _ in range(500):
        a = rng.integers(0, 5, size=int(rng.integers(0, 70))).tolist()
        b = rng.integers(0, 5, size=int(rng.integers(0, 70))).tolist()
        table = np.zeros((len(a) + 1, len(b) + 1), dtype=int)
        for i in range(1, len(a) + 1):
            for j in range(1, len(b) + 1):
                up, left = table[i - 1, j], table[i, j - 1]
                table[i, j] = table[i - 1, j - 1] + 1 if a[i - 1] == b[j - 1] else max(up, left)
        assert reference.lcs_length(a, b) == table[-1, -1]
