"""A minimal OpenAI-compatible chat-completions server for the judge and responder tests.

``POST /v1/chat/completions`` answers from the last user message, deterministically:

- a judge prompt (:mod:`auditor.text.rubrics`: inputs between ``<role>`` tags) gets
  ``{"score": s, "reason": ...}`` where ``s`` is the lexical support of the response in the
  context (else in the reference, else of the question in the response) on 1-5, moved one
  point for a seeded share of (prompt, seed) pairs (``disagree``: repeats then disagree);
- a pairwise prompt gets the response with more support as winner, or ``"A"`` whatever
  the responses for a seeded share of questions (``position_bias``);
- any other prompt (a responder's) gets :attr:`ServerKnobs.answer` of it.

Knobs (:class:`ServerKnobs`, changeable while it runs) plant what the tests look for: a
share of unparseable replies (``garbled``) and of ``Score: N`` replies (``plain``), HTTP
statuses returned before success for every distinct request (``fail_first``), latency, a
required API key, and the usage counts (words of the prompt and of the reply). Every
request is recorded (``requests``: body and headers).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

_TAG = re.compile(r"<(\w+)>\n(.*?)\n</\1>", re.DOTALL)
_WORD = re.compile(r"[a-z0-9]+")
STOP = frozenset(
    "the a an and or of to in on for is are be it this that with you your we our can by at "
    "as from will not do does have has was were".split()
)


def words(text: str) -> set[str]:
    """Content words, lower-cased."""
    return {w for w in _WORD.findall(text.lower()) if w not in STOP}


def support(part: str, whole: str) -> float:
    """Share of ``part``'s content words found in ``whole`` (1 for an empty part)."""
    mine = words(part)
    return 1.0 if not mine else len(mine & words(whole)) / len(mine)


def lexical_score(tags: dict[str, str]) -> int:
    """The fake judge's true score of a rubric prompt's inputs, 1-5."""
    response = tags.get("response", "")
    if "context" in tags:
        share = support(response, tags["context"])
    elif "reference" in tags:
        share = support(response, tags["reference"])
    elif "question" in tags:
        share = support(tags["question"], response)
    else:
        share = 0.75
    return int(1 + round(4 * share))


def uniform(*parts) -> float:
    """A deterministic uniform in [0, 1) from the parts."""
    digest = hashlib.sha256("\0".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass
class ServerKnobs:
    """What the fake server plants (see the module docstring)."""

    disagree: float = 0.0
    garbled: float = 0.0
    plain: float = 0.0
    position_bias: float = 0.0
    fail_first: tuple[int, ...] = ()  # statuses returned, in turn, before success
    latency_s: float = 0.0
    api_key: str | None = None
    answer: Callable[[str], str] = lambda prompt: f"Answer: {prompt[:60]}"
    requests: list[dict] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reply_to(self, body: dict) -> str:
        """The reply text for a request body."""
        prompt = body["messages"][-1]["content"]
        seed = body.get("seed")
        tags = dict(_TAG.findall(prompt))
        if "response_a" in tags:
            question = tags.get("question", "")
            if uniform("bias", question) < self.position_bias:
                return json.dumps({"winner": "A", "reason": "the first one"})
            basis = tags.get("context") or question
            a, b = support(tags["response_a"], basis), support(tags["response_b"], basis)
            winner = "A" if a > b else "B" if b > a else "tie"
            return json.dumps({"winner": winner, "reason": "better supported"})
        if not tags:
            return self.answer(prompt)
        if uniform("garbled", prompt, seed) < self.garbled:
            return "I would rather not put a number on this one."
        score = lexical_score(tags)
        if uniform("disagree", prompt, seed) < self.disagree:
            score += 1 if uniform("side", prompt, seed) < 0.5 or score == 1 else -1
            score = min(max(score, 1), 5)
        if uniform("plain", prompt, seed) < self.plain:
            return f"Score: {score}\nThe response is mostly supported."
        return json.dumps({"score": score, "reason": f"support gives {score}"})


class ChatServer:
    """The server on 127.0.0.1 (port 0: a free port), run in a thread."""

    def __init__(self, knobs: ServerKnobs | None = None):
        self.knobs = knobs or ServerKnobs()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                status, payload = server.handle(self.path, body, dict(self.headers))
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        """The base URL a client is given."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> ChatServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def handle(self, path: str, body: dict, headers: dict) -> tuple[int, dict]:
        knobs = self.knobs
        with knobs.lock:
            knobs.requests.append({"body": body, "headers": headers})
            key = json.dumps(body, sort_keys=True)
            attempt = knobs.attempts.get(key, 0)
            knobs.attempts[key] = attempt + 1
        if knobs.latency_s:
            time.sleep(knobs.latency_s)
        if path.rstrip("/") != "/v1/chat/completions":
            return 404, {"error": {"message": f"no route {path}"}}
        if knobs.api_key is not None:
            given = {k.lower(): v for k, v in headers.items()}.get("authorization")
            if given != f"Bearer {knobs.api_key}":
                return 401, {"error": {"message": "invalid api key"}}
        if attempt < len(knobs.fail_first):
            return knobs.fail_first[attempt], {"error": {"message": "try again"}}
        text = knobs.reply_to(body)
        prompt_words = sum(len(m["content"].split()) for m in body["messages"])
        return 200, {
            "id": f"chat-{len(knobs.requests)}",
            "object": "chat.completion",
            "model": body.get("model"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_words,
                "completion_tokens": len(text.split()),
                "total_tokens": prompt_words + len(text.split()),
            },
        }


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    """A fresh fake chat-completions server, stopped after the test."""
    server = ChatServer().start()
    try:
        yield server
    finally:
        server.stop()
