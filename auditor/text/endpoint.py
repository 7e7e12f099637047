"""A small client of an OpenAI-compatible chat-completions endpoint (vLLM, Ollama, llama.cpp).

``POST {url}/chat/completions`` with the model, the messages, temperature, max tokens and
seed; the reply's first choice is the text and its ``usage`` the tokens counted. Requests
that fail for a passing reason (HTTP 429 and 5xx, a timeout, a dropped connection) are
retried a bounded number of times with exponential backoff (``Retry-After`` honoured up to
:data:`MAX_RETRY_AFTER_S`); a request that still fails is returned as failed, for the caller
to count. What a user can fix ends the run with one line (:class:`EndpointError`, exit code
2): an endpoint that cannot be reached, a key it refuses (401, 403), a model or path it does
not know (404) or a request it rejects (other 4xx).

A :class:`Budget` of rows and tokens is checked before each request: a request that could
take the tokens past the budget is not sent (its row is left unjudged and counted). The
estimate reserved for a request in flight is its prompt's characters over
:data:`CHARS_PER_TOKEN` plus ``max_tokens``; the actual ``usage`` replaces it on reply.

The API key is read from the environment variable the spec names and sent as a bearer
token; it is never part of a result, a message or a repr.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from auditor.errors import AuditorError, ExitCode, one_line

MSG_UNREACHABLE = (
    "cannot reach the {what} endpoint {url}: {reason} (is the server running, and is the "
    "address right?)"
)
MSG_REFUSED = "the {what} endpoint {url} refused the request: HTTP {status}{detail}{hint}"
MSG_KEY_HINT = " (check the API key in the environment variable {env})"
MSG_NO_KEY_ENV = "the environment variable {env} ({field}) is not set: it must hold the API key"
MSG_NO_URL = "{field}: neither url nor url_env gives the {what} endpoint's address"
MSG_URL_ENV_UNSET = (
    "the environment variable {env} ({field}.url_env) is not set and no url is given"
)
MSG_BAD_REPLY = (
    "the {what} endpoint {url} answered with something other than a chat completion: {reason}"
)

#: Characters per token in the reservation made before a request (a cautious estimate).
CHARS_PER_TOKEN = 3
#: The longest ``Retry-After`` honoured, in seconds.
MAX_RETRY_AFTER_S = 5.0
RETRYABLE = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class EndpointError(AuditorError):
    """An endpoint that cannot be used as declared (unreachable, refusing the key, ...)."""

    exit_code = ExitCode.INVALID_INPUT


def resolve_url(url: str | None, url_env: str | None, *, field: str, what: str) -> str:
    """The endpoint's base URL: ``url_env``'s value when set in the environment, else ``url``."""
    if url_env and os.environ.get(url_env):
        return os.environ[url_env].rstrip("/")
    if url:
        return url.rstrip("/")
    if url_env:
        raise EndpointError(MSG_URL_ENV_UNSET.format(env=url_env, field=field))
    raise EndpointError(MSG_NO_URL.format(field=field, what=what))


def resolve_key(env: str | None, *, field: str) -> str | None:
    """The API key from the environment variable ``env`` (None when no variable is named)."""
    if not env:
        return None
    key = os.environ.get(env)
    if not key:
        raise EndpointError(MSG_NO_KEY_ENV.format(env=env, field=field))
    return key


@dataclass(frozen=True)
class Reply:
    """One request's outcome.

    ``text`` is None when the request failed after its retries (``error`` says why) or was
    not sent because of the budget (``skipped``).
    """

    text: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    attempts: int = 0
    error: str | None = None
    skipped: bool = False

    @property
    def tokens(self) -> int:
        """Prompt and completion tokens together."""
        return self.prompt_tokens + self.completion_tokens


@dataclass
class Budget:
    """Rows and tokens a run may spend (None: no limit), shared by the requests in flight."""

    rows: int | None = None
    tokens: int | None = None
    used: int = 0
    reserved: int = 0
    refused: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reserve(self, estimate: int) -> bool:
        """Reserve ``estimate`` tokens for a request; False (and counted): over the budget."""
        with self._lock:
            if self.tokens is not None and self.used + self.reserved + estimate > self.tokens:
                self.refused += 1
                return False
            self.reserved += estimate
            return True

    def settle(self, estimate: int, actual: int) -> None:
        """Replace a request's reservation by the tokens it actually used."""
        with self._lock:
            self.reserved -= estimate
            self.used += actual

    def as_dict(self) -> dict:
        """What the results record: the limits, tokens used, requests refused."""
        return {
            "rows": self.rows,
            "tokens": self.tokens,
            "tokens_used": self.used,
            "requests_refused": self.refused,
        }


@dataclass
class Usage:
    """Totals over a client's requests."""

    requests: int = 0
    retries: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    def add(self, reply: Reply) -> None:
        """Count one reply."""
        if reply.skipped:
            return
        self.requests += 1
        self.retries += max(reply.attempts - 1, 0)
        self.failed += reply.text is None
        self.prompt_tokens += reply.prompt_tokens
        self.completion_tokens += reply.completion_tokens
        self.seconds += reply.seconds


class ChatClient:
    """A chat-completions client with retries, a concurrency limit and a token budget.

    Parameters
    ----------
    url : str
        The base URL (``http://127.0.0.1:8000/v1``); requests go to ``{url}/chat/completions``.
    model : str
        The model name sent with every request.
    api_key : str, optional
        Sent as ``Authorization: Bearer ...``; never stored in results or shown.
    timeout_s : float
        Per request.
    retries : int
        Further attempts after a passing failure (429, 5xx, timeout, dropped connection).
    concurrency : int
        Requests in flight at once (:meth:`complete_many`).
    backoff_s : float
        The first retry's wait; each further retry doubles it.
    what : str
        What the endpoint is for, in messages (``judge``, ``responder``).
    """

    def __init__(
        self,
        url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 30.0,
        retries: int = 3,
        concurrency: int = 1,
        backoff_s: float = 0.5,
        what: str = "judge",
        api_key_env: str | None = None,
    ):
        import httpx

        self.url = url.rstrip("/")
        self.model = model
        self.retries = int(retries)
        self.concurrency = max(int(concurrency), 1)
        self.backoff_s = float(backoff_s)
        self.what = what
        self._key_env = api_key_env
        headers = {"Content-Type": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(
            timeout=httpx.Timeout(float(timeout_s)),
            headers=headers,
            limits=httpx.Limits(max_connections=self.concurrency + 1),
        )
        self.usage = Usage()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ChatClient(url={self.url!r}, model={self.model!r})"

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ one request
    def complete(
        self,
        messages: Sequence[dict],
        *,
        temperature: float = 0.0,
        max_tokens: int = 256,
        seed: int | None = None,
        budget: Budget | None = None,
    ) -> Reply:
        """One chat completion, retried on passing failures; refused when over ``budget``."""
        estimate = sum(len(m.get("content", "")) for m in messages) // CHARS_PER_TOKEN
        estimate += int(max_tokens)
        if budget is not None and not budget.reserve(estimate):
            return Reply(None, skipped=True, error="over the token budget")
        body = {
            "model": self.model,
            "messages": list(messages),
            "temperature": float(temperature),
            "max_tokens": int(max_tokens),
        }
        if seed is not None:
            body["seed"] = int(seed)
        reply = self._send(body)
        if budget is not None:
            budget.settle(estimate, reply.tokens)
        with self._lock:
            self.usage.add(reply)
        return reply

    def _send(self, body: dict) -> Reply:
        import httpx

        start = time.perf_counter()
        error, after = "", None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self._wait(attempt, after))
                after = None
            try:
                response = self._http.post(f"{self.url}/chat/completions", json=body)
            except httpx.TimeoutException as exc:
                error = f"timed out ({one_line(exc) or 'no reply'})"
                continue
            except httpx.TransportError as exc:
                error = f"connection failed ({one_line(exc)})"
                if attempt == self.retries:
                    raise EndpointError(
                        MSG_UNREACHABLE.format(what=self.what, url=self.url, reason=one_line(exc))
                    ) from None
                continue
            if response.status_code in RETRYABLE:
                error = f"HTTP {response.status_code}"
                after = response.headers.get("retry-after")
                continue
            if response.status_code >= 400:
                raise self._refused(response)
            return self._read(response, attempt + 1, time.perf_counter() - start)
        return Reply(
            None, seconds=time.perf_counter() - start, attempts=self.retries + 1, error=error
        )

    def _wait(self, attempt: int, after: str | None) -> float:
        wait = self.backoff_s * 2 ** (attempt - 1)
        if after:
            try:
                wait = max(wait, min(float(after), MAX_RETRY_AFTER_S))
            except ValueError:
                pass
        return wait

    def _refused(self, response) -> EndpointError:
        detail = ""
        try:
            payload = response.json()
            message = payload.get("error", payload)
            message = message.get("message", message) if isinstance(message, dict) else message
            detail = f" ({one_line(str(message))})"
        except ValueError:
            detail = f" ({one_line(response.text)})" if response.text.strip() else ""
        hint = ""
        if response.status_code in (401, 403):
            hint = (
                MSG_KEY_HINT.format(env=self._key_env)
                if self._key_env
                else (
                    " (the endpoint wants an API key: name its environment variable in api_key_env)"
                )
            )
        return EndpointError(
            MSG_REFUSED.format(
                what=self.what, url=self.url, status=response.status_code, detail=detail, hint=hint
            )
        )

    def _read(self, response, attempts: int, seconds: float) -> Reply:
        try:
            payload = response.json()
            text = payload["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise EndpointError(
                MSG_BAD_REPLY.format(what=self.what, url=self.url, reason=one_line(repr(exc)))
            ) from None
        usage = payload.get("usage") or {}
        return Reply(
            text if isinstance(text, str) else "",
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            seconds=seconds,
            attempts=attempts,
        )

    # ------------------------------------------------------------------ many requests
    def complete_many(
        self, requests: Sequence[dict], *, budget: Budget | None = None
    ) -> list[Reply]:
        """:meth:`complete` for each request (keyword dicts), ``concurrency`` at once, in order."""
        if self.concurrency == 1 or len(requests) < 2:
            return [self.complete(**r, budget=budget) for r in requests]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = [pool.submit(self.complete, **r, budget=budget) for r in requests]
            try:
                return [f.result() for f in futures]
            except BaseException:
                for f in futures:  # an endpoint that cannot be used: send nothing more
                    f.cancel()
                raise
