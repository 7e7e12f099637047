"""Judging rows with repeats, checking the judge (repeats, people, both orders), budgets."""
# ruff: noqa: F811 - the chat_server fixture is imported, then requested by name

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("httpx")

from scipy.stats import spearmanr  # noqa: E402
from sklearn.metrics import cohen_kappa_score  # noqa: E402

from auditor.text import example  # noqa: E402
from auditor.text.endpoint import Budget, ChatClient  # noqa: E402
from auditor.text.judging import (  # noqa: E402
    human_agreement,
    judge_pairs,
    judge_rows,
    krippendorff_alpha,
    repeat_agreement,
    weighted_kappa,
    weighted_spearman,
)
from auditor.text.rubrics import RUBRICS  # noqa: E402
from tests.text.chat_server import chat_server, lexical_score, uniform  # noqa: E402, F401

ROWS = 40


@pytest.fixture(scope="module")
def rows() -> dict[str, list[str]]:
    df = example.support(np.random.default_rng(3), ROWS)
    return {r: df[r].astype(str).tolist() for r in ("question", "context", "response", "reference")}


def _row(rows, i: int) -> dict[str, str]:
    return {r: rows[r][i] for r in ("question", "context", "response")}


def client(server, **kw) -> ChatClient:
    return ChatClient(server.url, "fake-judge", backoff_s=0.001, **kw)


def test_rows_are_judged_with_repeats_at_temperature_zero_and_varied_seeds(chat_server, rows):
    with client(chat_server, concurrency=4) as c:
        out = judge_rows(c, rows, ["groundedness", "fluency"], repeats=3, seed=11)
    g = out["groundedness"]
    assert g.scores.shape == (ROWS, 3) and g.parse_failures == 0 and g.unjudged == 0
    # the fake judge's score is the response's lexical support in the context, 1-5
    truth = [
        lexical_score({"context": rows["context"][i], "response": rows["response"][i]})
        for i in range(ROWS)
    ]
    np.testing.assert_array_equal(g.row_scores, truth)
    bodies = [r["body"] for r in chat_server.knobs.requests]
    assert len(bodies) == ROWS * 2 * 3
    assert {b["temperature"] for b in bodies} == {0.0} and {b["seed"] for b in bodies} == {
        11,
        12,
        13,
    }
    # groundedness takes the question too when the spec has one; fluency the response only
    prompts = [b["messages"][1]["content"] for b in bodies]
    assert sum("<question>" in p for p in prompts) == ROWS * 3
    summary = g.summary()
    assert summary["prompt_sha256"] == RUBRICS["groundedness"].sha256
    assert summary["judge_model"] == "fake-judge" and summary["tokens"] > 0
    assert summary["replies"] == ROWS * 3 and summary["judged"] == ROWS
    assert g.reasons[0].startswith("support gives")


def test_agreement_between_repeats_finds_a_planted_disagreement(chat_server, rows):
    with client(chat_server, concurrency=4) as c:
        calm = judge_rows(c, rows, ["groundedness"], repeats=3)["groundedness"]
        chat_server.knobs.disagree = 0.3
        moody = judge_rows(c, rows, ["groundedness"], repeats=3)["groundedness"]
    steady = repeat_agreement(calm.scores)
    assert steady["exact"] == 1.0 and steady["within_one"] == 1.0 and steady["alpha"] == 1.0
    shaky = repeat_agreement(moody.scores)
    # the planted disagreement moves a repeat by one point (the server's own replies)
    expected = np.array(
        [
            [
                json.loads(
                    chat_server.knobs.reply_to(
                        {"messages": RUBRICS["groundedness"].messages(_row(rows, i)), "seed": s}
                    )
                )["score"]
                for s in range(3)
            ]
            for i in range(ROWS)
        ]
    )
    np.testing.assert_array_equal(moody.scores, expected)
    spread = expected.max(axis=1) - expected.min(axis=1)
    assert shaky["exact"] == pytest.approx((spread == 0).mean(), abs=1e-12)
    assert shaky["within_one"] == pytest.approx((spread <= 1).mean(), abs=1e-12)
    assert shaky["exact"] < 0.7 and shaky["within_one"] >= shaky["exact"]
    assert shaky["alpha"] < steady["alpha"] and shaky["alpha_level"] == "interval"


def test_krippendorffs_alpha_matches_the_published_example():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 coders, 12 units
    n = np.nan
    data = np.array(
        [
            [1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
            [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n],
        ]
    ).T
    assert krippendorff_alpha(data, "nominal") == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha(data, "interval") == pytest.approx(0.849, abs=5e-4)


def test_parse_failures_are_counted_never_dropped(chat_server, rows):
    chat_server.knobs.garbled = 0.2
    chat_server.knobs.plain = 0.3
    with client(chat_server) as c:
        g = judge_rows(c, rows, ["groundedness"], repeats=3)["groundedness"]
    prompts = [b["body"] for b in chat_server.knobs.requests]
    garbled = sum(
        uniform("garbled", b["messages"][-1]["content"], b["seed"]) < 0.2 for b in prompts
    )
    assert 0 < g.parse_failures == garbled == int(np.isnan(g.scores).sum())
    assert g.fallback_parses > 0 and g.summary()["parse_failures"] == garbled
    assert g.unjudged == 0  # every row got replies; a failed repeat leaves the others


def test_the_rows_budget_judges_a_seeded_sample_and_counts_the_rest(chat_server, rows):
    with client(chat_server) as c:
        out = judge_rows(c, rows, ["groundedness", "relevance"], repeats=2, budget=Budget(rows=10))
    assert len(chat_server.knobs.requests) == 10 * 2 * 2
    for m in out.values():
        assert m.judged == 10 and m.unjudged == ROWS - 10
        assert m.summary()["replies"] == 20
    again = judge_rows(
        client(chat_server), rows, ["groundedness"], repeats=2, budget=Budget(rows=10)
    )
    judged = np.isfinite(out["groundedness"].row_scores)
    np.testing.assert_array_equal(judged, np.isfinite(again["groundedness"].row_scores))


def test_the_token_budget_leaves_whole_rows_unjudged(chat_server, rows):
    budget = Budget(tokens=6000)
    with client(chat_server) as c:
        g = judge_rows(c, rows, ["groundedness"], repeats=3, budget=budget)["groundedness"]
    assert 0 < g.judged < ROWS and g.unjudged == ROWS - g.judged
    assert budget.used == g.tokens <= 6000 and budget.refused > 0
    # rows are sent in order: the judged ones come first
    judged = np.isfinite(g.row_scores)
    assert judged[: g.judged].all() and not judged[g.judged + 1 :].any()


# ---------------------------------------------------------------------- people
def test_kappa_and_spearman_equal_sklearn_and_scipy():
    rng = np.random.default_rng(5)
    human = rng.integers(1, 6, 120).astype(float)
    judge = np.clip(human + rng.choice([-1, 0, 0, 1], 120), 1, 5)
    judge[:10] += 0.5  # medians of two repeats: rounded half up for kappa
    got = human_agreement(judge, human, resamples=0, seed=0, confidence=0.95)
    labels = np.clip(np.floor(judge + 0.5), 1, 5)
    assert got["rated"] == 120
    assert got["kappa"] == pytest.approx(
        cohen_kappa_score(labels, human, weights="quadratic", labels=[1, 2, 3, 4, 5]), abs=1e-12
    )
    assert got["spearman"] == pytest.approx(spearmanr(judge, human).statistic, abs=1e-12)
    # the vectorized replicates are the libraries' figures on the resampled rows
    weights = rng.poisson(1.0, size=(4, 120)).astype(float)
    for w, k, s in zip(
        weights,
        weighted_kappa(labels, human, weights),
        weighted_spearman(judge, human, weights),
        strict=True,
    ):
        assert k == pytest.approx(
            cohen_kappa_score(
                labels, human, weights="quadratic", labels=[1, 2, 3, 4, 5], sample_weight=w
            ),
            abs=1e-9,
        )
        drawn = np.repeat(np.arange(120), w.astype(int))
        assert s == pytest.approx(spearmanr(judge[drawn], human[drawn]).statistic, abs=1e-9)


def _judge_of(truth: np.ndarray, rng) -> np.ndarray:
    """A judge one point off in a third of rows, two points off in a tenth."""
    step = rng.choice([0, 0, 0, 0, 0, 0, 1, -1, 1, -1, 2], size=truth.shape)
    return np.clip(truth + step, 1, 5)


def test_the_human_agreement_intervals_cover_the_planted_truth():
    from scipy.stats import spearmanr as rho

    big = np.random.default_rng(0).integers(1, 6, 400_000).astype(float)
    judged = _judge_of(big, np.random.default_rng(1))
    true_kappa = cohen_kappa_score(judged, big, weights="quadratic", labels=[1, 2, 3, 4, 5])
    true_rho = rho(judged, big).statistic
    covered = {"kappa": 0, "spearman": 0}
    trials = 40
    for t in range(trials):
        rng = np.random.default_rng(100 + t)
        human = rng.integers(1, 6, 150).astype(float)
        got = human_agreement(_judge_of(human, rng), human, resamples=400, seed=t, confidence=0.9)
        covered["kappa"] += got["kappa_ci"][0] <= true_kappa <= got["kappa_ci"][1]
        covered["spearman"] += got["spearman_ci"][0] <= true_rho <= got["spearman_ci"][1]
    # 90% intervals: coverage near 0.9 (a binomial of 40 trials rarely falls under 0.75)
    assert covered["kappa"] / trials >= 0.75 and covered["spearman"] / trials >= 0.75


def test_rows_without_a_human_rating_are_left_out():
    judge = np.array([5, 4, np.nan, 2, 1, 3.0])
    human = np.array([5, np.nan, 3, 2, 1, 3.0])
    got = human_agreement(judge, human, resamples=50, seed=0, confidence=0.9)
    assert got["rated"] == 4 and got["kappa"] == pytest.approx(1.0)
    assert (
        human_agreement(judge[:1], human[:1], resamples=0, seed=0, confidence=0.9)["kappa"] is None
    )


# ---------------------------------------------------------------------- pairwise
def test_pairwise_is_asked_in_both_orders_and_finds_a_planted_position_bias(chat_server, rows):
    # the second response drops the answer's second half: the first is better supported
    others = [
        " ".join(r.split()[: max(2, len(r.split()) // 3)]) + " call us" for r in rows["response"]
    ]
    with client(chat_server) as c:  # one at a time: the server sees the requests in order
        fair = judge_pairs(c, rows["question"], rows["response"], others, rows["context"])
        bodies = [b["body"]["messages"][1]["content"] for b in chat_server.knobs.requests]
        chat_server.knobs.position_bias = 0.5
        biased = judge_pairs(c, rows["question"], rows["response"], others, rows["context"])
    # both orders: each row's responses appear once as A and once as B
    first = bodies[0::2]
    second = bodies[1::2]
    for i in range(ROWS):
        assert f"<response_a>\n{rows['response'][i]}\n</response_a>" in first[i]
        assert f"<response_b>\n{rows['response'][i]}\n</response_b>" in second[i]
    assert np.nanmean(fair.consistent()) == 1.0 and fair.parse_failures == 0
    biased_rows = np.array([uniform("bias", q) < 0.5 for q in rows["question"]])
    consistency = biased.consistent()
    # a biased row answers A in both orders: inconsistent unless the true answer is a tie
    assert np.nanmean(consistency) == pytest.approx(
        1 - (biased_rows & (np.array(fair.first) != "tie")).mean(), abs=1e-9
    )
    assert biased.first_shown().mean() > fair.first_shown().mean()
    outcomes = fair.outcomes()
    assert np.isfinite(outcomes).all() and outcomes.mean() > 0.5
