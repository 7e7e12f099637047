"""The chat-completions client against a server the tests start on 127.0.0.1."""
# ruff: noqa: F811 - the chat_server fixture is imported, then requested by name

from __future__ import annotations

import json
import socket

import pytest

pytest.importorskip("httpx")

from auditor.errors import AuditorError, ExitCode  # noqa: E402
from auditor.text.endpoint import (  # noqa: E402
    Budget,
    ChatClient,
    EndpointError,
    resolve_key,
    resolve_url,
)
from auditor.text.rubrics import (  # noqa: E402
    PAIRWISE,
    RUBRICS,
    parse_score,
    parse_winner,
    prompt_hashes,
)
from tests.text.chat_server import ChatServer, chat_server  # noqa: E402, F401

MESSAGES = [{"role": "user", "content": "What are the opening hours?"}]


def client(server: ChatServer, **kw) -> ChatClient:
    kw.setdefault("backoff_s", 0.001)
    return ChatClient(server.url, "fake-judge", **kw)


def test_a_completion_reads_text_and_usage(chat_server):
    with client(chat_server) as c:
        reply = c.complete(MESSAGES, temperature=0.0, max_tokens=32, seed=7)
    assert reply.text == "Answer: What are the opening hours?"
    assert reply.prompt_tokens == 5 and reply.completion_tokens == 6 and reply.attempts == 1
    body = chat_server.knobs.requests[0]["body"]
    assert body == {
        "model": "fake-judge",
        "messages": MESSAGES,
        "temperature": 0.0,
        "max_tokens": 32,
        "seed": 7,
    }
    assert c.usage.requests == 1 and c.usage.prompt_tokens == 5


@pytest.mark.parametrize("status", [429, 500, 503])
def test_passing_failures_are_retried_until_success(chat_server, status):
    chat_server.knobs.fail_first = (status, status)
    with client(chat_server, retries=3) as c:
        reply = c.complete(MESSAGES)
    assert reply.text is not None and reply.attempts == 3
    assert len(chat_server.knobs.requests) == 3 and c.usage.retries == 2


def test_retries_stop_at_their_limit_and_the_request_is_counted_failed(chat_server):
    chat_server.knobs.fail_first = (500,) * 10
    with client(chat_server, retries=2) as c:
        reply = c.complete(MESSAGES)
    assert reply.text is None and reply.error == "HTTP 500" and reply.attempts == 3
    assert len(chat_server.knobs.requests) == 3
    assert c.usage.failed == 1


def test_a_refused_key_is_one_clear_error(chat_server):
    chat_server.knobs.api_key = "s3cret-key"
    with client(chat_server, api_key="wrong", api_key_env="JUDGE_KEY") as c:
        with pytest.raises(EndpointError) as err:
            c.complete(MESSAGES)
    message = str(err.value)
    assert err.value.exit_code == ExitCode.INVALID_INPUT and isinstance(err.value, AuditorError)
    assert "HTTP 401" in message and "JUDGE_KEY" in message and "\n" not in message
    assert "wrong" not in message and "s3cret" not in message
    with client(chat_server, api_key="s3cret-key") as c:  # the right key passes
        assert c.complete(MESSAGES).text
        assert "s3cret" not in repr(c)
    sent = chat_server.knobs.requests[-1]["headers"]
    assert {k.lower(): v for k, v in sent.items()}["authorization"] == "Bearer s3cret-key"


def test_an_unreachable_endpoint_is_one_clear_error():
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = ChatClient(f"http://127.0.0.1:{port}/v1", "m", retries=1, backoff_s=0.001)
    with pytest.raises(EndpointError) as err:
        c.complete(MESSAGES)
    assert "cannot reach the judge endpoint" in str(err.value) and f":{port}" in str(err.value)
    assert err.value.exit_code == ExitCode.INVALID_INPUT and "\n" not in str(err.value)


def test_a_wrong_path_is_refused_with_the_servers_reason(chat_server):
    c = ChatClient(chat_server.url.replace("/v1", "/v2"), "m", backoff_s=0.001)
    with pytest.raises(EndpointError, match=r"HTTP 404 \(no route /v2/chat/completions\)"):
        c.complete(MESSAGES)


def test_the_token_budget_is_checked_before_each_request(chat_server):
    budget = Budget(tokens=80)
    with client(chat_server) as c:
        replies = c.complete_many([{"messages": MESSAGES, "max_tokens": 40}] * 10, budget=budget)
    sent = [r for r in replies if not r.skipped]
    skipped = [r for r in replies if r.skipped]
    # each request reserves its prompt (27 characters / 3 = 9) and 40 reply tokens, and
    # uses 11: the k-th is sent while 11 k + 49 <= 80, so 3 are sent and 7 refused
    assert len(sent) == 3 and len(skipped) == 7 and budget.refused == 7
    assert len(chat_server.knobs.requests) == 3
    assert budget.used == sum(r.tokens for r in sent) == 33 <= 80
    assert budget.as_dict()["requests_refused"] == 7


def test_concurrent_requests_keep_their_order(chat_server):
    chat_server.knobs.latency_s = 0.02
    asks = [{"messages": [{"role": "user", "content": f"question {i}"}]} for i in range(12)]
    with client(chat_server, concurrency=4) as c:
        replies = c.complete_many(asks)
    assert [r.text for r in replies] == [f"Answer: question {i}" for i in range(12)]
    assert c.usage.requests == 12


def test_url_and_key_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("JUDGE_URL", "http://127.0.0.1:9/v1/")
    assert resolve_url("http://x/v1", "JUDGE_URL", field="judge", what="judge") == (
        "http://127.0.0.1:9/v1"
    )
    monkeypatch.delenv("JUDGE_URL")
    assert resolve_url("http://x/v1", "JUDGE_URL", field="judge", what="judge") == "http://x/v1"
    with pytest.raises(EndpointError, match="JUDGE_URL"):
        resolve_url(None, "JUDGE_URL", field="judge", what="judge")
    monkeypatch.delenv("JUDGE_KEY", raising=False)
    with pytest.raises(EndpointError, match=r"JUDGE_KEY \(judge.api_key_env\) is not set"):
        resolve_key("JUDGE_KEY", field="judge.api_key_env")
    assert resolve_key(None, field="judge.api_key_env") is None


# ---------------------------------------------------------------------- rubrics
@pytest.mark.parametrize(
    "reply, score, how",
    [
        ('{"score": 4, "reason": "supported"}', 4, "json"),
        ('```json\n{"score": 5, "reason": "all there"}\n```', 5, "json"),
        ('{"score": 4.0, "reason": "x"}', 4, "json"),
        ('{"score": 4.5, "reason": "x"}', None, "failed"),
        ('{"score": "4", "reason": "x"}', None, "failed"),
        ('{"score": 7}', None, "failed"),
        ('{"score": true}', None, "failed"),
        ("Score: 3\nOne figure is missing.", 3, "fallback"),
        ("score = 2/5", 2, "fallback"),
        ("**Score:** 5", 5, "fallback"),
        ("I would rather not say.", None, "failed"),
        ("", None, "failed"),
    ],
)
def test_the_parser_is_strict_with_a_tolerant_fallback(reply, score, how):
    parsed = parse_score(reply)
    assert (parsed.score, parsed.how) == (score, how)


@pytest.mark.parametrize(
    "reply, winner",
    [
        ('{"winner": "A", "reason": "x"}', "A"),
        ('{"winner": "b"}', "B"),
        ('{"winner": "tie"}', "tie"),
        ('{"winner": "C"}', None),
        ("Winner: B", "B"),
        ("no idea", None),
    ],
)
def test_the_pairwise_parser(reply, winner):
    assert parse_winner(reply) == winner


def test_each_rubric_takes_its_inputs_and_has_a_stable_hash():
    assert RUBRICS["groundedness"].inputs == ("context", "response")
    assert RUBRICS["groundedness"].optional == ("question",)
    assert RUBRICS["relevance"].inputs == ("question", "response")
    assert RUBRICS["coherence"].inputs == ("question", "response")
    assert RUBRICS["fluency"].inputs == ("response",)
    assert RUBRICS["similarity"].inputs == ("question", "reference", "response")
    row = {"context": "Open 9 to 5.", "response": "We open at 9."}
    text = RUBRICS["groundedness"].messages(row)[1]["content"]
    assert "<context>\nOpen 9 to 5.\n</context>" in text and "<question>" not in text
    assert "{" + "response}" not in text
    with_q = RUBRICS["groundedness"].messages({**row, "question": "When?"})[1]["content"]
    assert "<question>\nWhen?\n</question>" in with_q
    hashes = prompt_hashes([*RUBRICS, "pairwise"])
    assert len(set(hashes.values())) == 6 and all(len(h) == 64 for h in hashes.values())
    assert hashes["pairwise"] == PAIRWISE.sha256
    assert json.dumps(hashes)  # recorded as is in results
