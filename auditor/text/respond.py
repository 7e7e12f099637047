"""Responses generated during the run (the spec's ``responder``) instead of read from a file.

The responder answers each row's question (with its context, when the spec names one,
as the passage to answer from) through an OpenAI-compatible endpoint
(:class:`auditor.text.endpoint.ChatClient`: ``url`` or ``url_env`` and ``model``) or a
local Hugging Face checkpoint folder (``checkpoint``:
:func:`auditor.text.local_models.generate_local`, imported only then). The responses fill
the ``data.text.response`` column of each audit frame; the decoding settings and the
responder's identity (endpoint and model, or the checkpoint's fingerprint) are recorded
with the audited model in the results. The API key is never recorded.
"""

from __future__ import annotations

from typing import Any

from auditor.errors import DataError
from auditor.text.endpoint import ChatClient, resolve_key, resolve_url

MSG_NO_LOCAL = (
    "responder.checkpoint generates with a local checkpoint, but this installation has no "
    "local generator (auditor.text.local_models.generate_local): install the text-models "
    "extra"
)
MSG_FAILED = "the responder gave no response for {count} of {rows} rows of {split} ({reason})"


def calls_model(spec) -> bool:
    """Whether this run generates the responses (a ``responder``) rather than reading them."""
    return getattr(spec, "responder", None) is not None


def prompt_of(question: str, context: str | None) -> str:
    """The user message for one row: the passage (when given), then the question."""
    if context:
        return f"Passage:\n{context}\n\nQuestion: {question}"
    return question


def decoding(spec) -> dict[str, Any]:
    """The responder's identity and decoding settings, as recorded in the results."""
    r = spec.responder
    out: dict[str, Any] = {
        "temperature": float(r.temperature),
        "max_tokens": int(r.max_tokens),
        "seed": int(r.seed),
        "system": r.system,
    }
    if r.checkpoint:
        out["checkpoint"] = r.checkpoint
    else:
        out["model"] = r.model
        out["url"] = resolve_url(r.url, r.url_env, field="responder", what="responder")
    return out


def generate_responses(spec, frame, split: str) -> tuple[list[str], dict[str, Any]]:
    """Responses to the rows of ``frame`` and what made them (identity, decoding, usage)."""
    r = spec.responder
    text = spec.data.text
    questions = frame[text.question].fillna("").astype(str).tolist()
    contexts = frame[text.context].fillna("").astype(str).tolist() if text.context else None
    prompts = [prompt_of(q, contexts[i] if contexts else None) for i, q in enumerate(questions)]
    info = decoding(spec)
    if r.checkpoint:
        try:
            from auditor.text.local_models import generate_local
        except ImportError:
            raise DataError(MSG_NO_LOCAL) from None
        path = spec.resolve_path(r.checkpoint)
        out = generate_local(
            path,
            prompts,
            temperature=float(r.temperature),
            max_tokens=int(r.max_tokens),
            seed=int(r.seed),
        )
        try:
            from auditor.text.local_models import describe_model

            info["fingerprint"] = describe_model(path).describe()
        except (ImportError, AttributeError):  # pragma: no cover - an older local_models
            pass
        return list(out), info
    client = ChatClient(
        info["url"],
        r.model,
        api_key=resolve_key(r.api_key_env, field="responder.api_key_env"),
        api_key_env=r.api_key_env,
        timeout_s=float(r.timeout_s),
        retries=int(r.retries),
        concurrency=int(r.concurrency),
        what="responder",
    )
    with client:
        asks = [
            {
                "messages": [
                    *([{"role": "system", "content": r.system}] if r.system else []),
                    {"role": "user", "content": p},
                ],
                "temperature": float(r.temperature),
                "max_tokens": int(r.max_tokens),
                "seed": int(r.seed),
            }
            for p in prompts
        ]
        replies = client.complete_many(asks)
    failed = [x for x in replies if x.text is None]
    if failed:
        raise DataError(
            MSG_FAILED.format(
                count=len(failed), rows=len(replies), split=split, reason=failed[0].error
            )
        )
    u = client.usage
    info["usage"] = {
        "requests": u.requests,
        "retries": u.retries,
        "prompt_tokens": u.prompt_tokens,
        "completion_tokens": u.completion_tokens,
        "seconds": round(u.seconds, 3),
    }
    return [x.text or "" for x in replies], info
