"""The judge's rubrics: versioned 1-5 prompts for the five named metrics, and their parser.

One rubric per metric, with the row inputs it takes (groundedness: context, response and,
when the spec has one, the question; relevance and coherence: question and response;
fluency: response; similarity: question, reference and response). Each prompt is a fixed
text with a version; its SHA-256 (over the version, the system text and the template) is
recorded in the results beside every judged figure, so a figure says exactly which prompt
made it. The inputs are placed between ``<name>`` ... ``</name>`` tags.

The judge is asked to reply with a JSON object ``{"score": 1-5, "reason": "..."}``;
:func:`parse_score` reads that strictly and falls back to a ``Score: 4`` line. Any other
reply is a parse failure: counted and shown, never dropped silently.

A pairwise prompt (:data:`PAIRWISE`) asks which of two responses answers the question
better; it is asked in both orders (:mod:`auditor.text.judging`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

#: The version of every prompt below; change it whenever a prompt's wording changes.
RUBRIC_VERSION = "2026-12-1"
LOW, HIGH = 1, 5

SYSTEM = (
    "You are a careful evaluator of a customer-facing assistant's answers. You follow the "
    "rubric exactly and reply with one JSON object and nothing else."
)
REPLY_FORMAT = (
    'Reply with a JSON object: {"score": <an integer from 1 to 5>, "reason": "<one sentence>"}.'
)

_SCALES = {
    "groundedness": (
        "Rate how well every claim of the RESPONSE is supported by the CONTEXT.\n"
        "5: every claim, figure and name is stated in the context.\n"
        "4: all claims supported; minor wording that adds nothing new.\n"
        "3: mostly supported, one detail not in the context.\n"
        "2: several claims not in the context.\n"
        "1: the response contradicts the context or is mostly unsupported."
    ),
    "relevance": (
        "Rate how well the RESPONSE answers the QUESTION.\n"
        "5: answers it fully and directly.\n"
        "4: answers it, with minor omissions.\n"
        "3: partly answers it.\n"
        "2: mostly beside the point.\n"
        "1: does not answer it at all."
    ),
    "coherence": (
        "Rate how well the RESPONSE reads as a whole, as an answer to the QUESTION: its "
        "sentences follow from one another and its ideas are in a sensible order.\n"
        "5: fully coherent. 4: coherent, one awkward transition. 3: partly disjointed. "
        "2: mostly disjointed. 1: incoherent."
    ),
    "fluency": (
        "Rate the RESPONSE's language alone: grammar, syntax and choice of words.\n"
        "5: flawless. 4: one minor slip. 3: several slips, still clear. "
        "2: hard to read. 1: not readable."
    ),
    "similarity": (
        "Rate how similar in meaning the RESPONSE is to the REFERENCE answer to the "
        "QUESTION (wording may differ).\n"
        "5: the same meaning. 4: the same main point, a detail differs. 3: partly the same. "
        "2: mostly different. 1: different or contradictory."
    ),
}


@dataclass(frozen=True)
class Rubric:
    """One versioned judge prompt.

    Attributes
    ----------
    metric : str
        The metric it scores (``groundedness``).
    inputs : tuple of str
        The row inputs it needs, in prompt order.
    optional : tuple of str
        Inputs it uses when the spec names them (groundedness's question).
    scale : str
        The rubric's wording.
    version : str
        :data:`RUBRIC_VERSION`.
    """

    metric: str
    inputs: tuple[str, ...]
    optional: tuple[str, ...]
    scale: str
    version: str = RUBRIC_VERSION

    @property
    def template(self) -> str:
        """The user message with ``{role}`` placeholders (every input it can take)."""
        order = [r for r in ("question", "context", "reference", "response") if r in self.roles]
        blocks = "\n".join(f"<{r}>\n{{{r}}}\n</{r}>" for r in order)
        return f"{self.scale}\n\n{blocks}\n\n{REPLY_FORMAT}"

    @property
    def roles(self) -> tuple[str, ...]:
        """Every input it can take, required first."""
        return (*self.inputs, *self.optional)

    @property
    def sha256(self) -> str:
        """The prompt's fingerprint (version, system text and template)."""
        text = "\0".join((self.version, SYSTEM, self.template))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def messages(self, row: Mapping[str, str]) -> list[dict[str, str]]:
        """The chat messages judging one row (``row``: role -> text).

        An optional input the row lacks is left out of the prompt.
        """
        body = self.template
        for role in self.roles:
            if role not in row:  # optional and absent: drop its block
                body = body.replace(f"<{role}>\n{{{role}}}\n</{role}>\n", "")
        body = _fill(body, {r: str(row[r]) for r in self.roles if r in row})
        return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": body}]


RUBRICS: dict[str, Rubric] = {
    "groundedness": Rubric(
        "groundedness", ("context", "response"), ("question",), _SCALES["groundedness"]
    ),
    "relevance": Rubric("relevance", ("question", "response"), (), _SCALES["relevance"]),
    "coherence": Rubric("coherence", ("question", "response"), (), _SCALES["coherence"]),
    "fluency": Rubric("fluency", ("response",), (), _SCALES["fluency"]),
    "similarity": Rubric(
        "similarity", ("question", "reference", "response"), (), _SCALES["similarity"]
    ),
}
#: The metrics a judge can score, in report order.
JUDGED_METRICS: tuple[str, ...] = tuple(RUBRICS)

LABELS = {
    "groundedness": "Groundedness",
    "relevance": "Relevance",
    "coherence": "Coherence",
    "fluency": "Fluency",
    "similarity": "Similarity",
}


def _fill(template: str, values: Mapping[str, str]) -> str:
    """``template`` with each ``{name}`` of ``values`` replaced once (inserted text untouched)."""
    pattern = re.compile("|".join(re.escape("{" + k + "}") for k in values))
    return pattern.sub(lambda m: values[m.group(0)[1:-1]], template) if values else template


# ---------------------------------------------------------------------- parsing
_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
_SCORE_LINE = re.compile(r"\bscore\b\s*[:=]\s*\**\s*([1-5])(?:\s*/\s*5)?\b", re.IGNORECASE)


@dataclass(frozen=True)
class Parsed:
    """A judge's reply, read: the score (None: a parse failure), its reason, how it was read."""

    score: int | None
    reason: str
    how: str  # "json", "fallback" or "failed"


def _integral(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def parse_score(reply: str) -> Parsed:
    """Read a judge's reply: a JSON object ``{"score": 1-5, "reason": ...}``, else ``Score: 4``.

    The JSON object may stand alone or inside a code fence; its score must be an integer
    from 1 to 5 (``4.0`` counts as 4, ``4.5`` or ``"4"`` do not). Without a JSON object the
    reply is searched for a ``Score: N`` line. Anything else is a parse failure.
    """
    text = (reply or "").strip()
    match = _OBJECT.search(text)
    if match:
        try:
            obj = json.loads(match.group(0))
        except ValueError:
            obj = None
        if isinstance(obj, dict) and "score" in obj:
            score = _integral(obj.get("score"))
            if score is not None and LOW <= score <= HIGH:
                return Parsed(score, str(obj.get("reason") or ""), "json")
            return Parsed(None, text[:200], "failed")
    line = _SCORE_LINE.search(text)
    if line:
        return Parsed(int(line.group(1)), text[:200], "fallback")
    return Parsed(None, text[:200], "failed")


# ---------------------------------------------------------------------- pairwise
PAIRWISE_SCALE = (
    "Two assistants answered the same QUESTION. Decide which response, A or B, answers it "
    "better: correct, supported by the CONTEXT when one is given, and to the point. Do not "
    "prefer a response for its position or its length."
)
PAIRWISE_FORMAT = (
    'Reply with a JSON object: {"winner": "A", "B" or "tie", "reason": "<one sentence>"}.'
)


@dataclass(frozen=True)
class PairwiseRubric:
    """The pairwise prompt: which of two responses answers better (asked in both orders)."""

    version: str = RUBRIC_VERSION

    @property
    def template(self) -> str:
        """The user message with placeholders."""
        return (
            f"{PAIRWISE_SCALE}\n\n<question>\n{{question}}\n</question>\n"
            "<context>\n{context}\n</context>\n"
            "<response_a>\n{a}\n</response_a>\n<response_b>\n{b}\n</response_b>\n\n"
            f"{PAIRWISE_FORMAT}"
        )

    @property
    def sha256(self) -> str:
        """The prompt's fingerprint."""
        text = "\0".join((self.version, SYSTEM, self.template))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def messages(self, question: str, a: str, b: str, context: str | None) -> list[dict]:
        """The chat messages comparing responses ``a`` (shown first) and ``b``."""
        body = self.template
        if context is None:
            body = body.replace("<context>\n{context}\n</context>\n", "")
        body = _fill(body, {"question": question, "context": context or "", "a": a, "b": b})
        return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": body}]


PAIRWISE = PairwiseRubric()
_WINNER_LINE = re.compile(r"\bwinner\b\s*[:=]\s*\**\s*\"?(A|B|tie)\b", re.IGNORECASE)


def parse_winner(reply: str) -> str | None:
    """``"A"``, ``"B"`` or ``"tie"`` from a pairwise reply; None: a parse failure."""
    text = (reply or "").strip()
    match = _OBJECT.search(text)
    if match:
        try:
            obj = json.loads(match.group(0))
        except ValueError:
            obj = None
        if isinstance(obj, dict) and "winner" in obj:
            winner = str(obj["winner"]).strip()
            found = {"a": "A", "b": "B", "tie": "tie"}.get(winner.lower())
            return found
    line = _WINNER_LINE.search(text)
    if line:
        return {"a": "A", "b": "B"}.get(line.group(1).lower(), "tie")
    return None


def prompt_hashes(metrics) -> dict[str, str]:
    """metric -> its prompt's SHA-256 (with ``pairwise`` when asked for)."""
    out = {m: RUBRICS[m].sha256 for m in metrics if m in RUBRICS}
    if "pairwise" in metrics:
        out["pairwise"] = PAIRWISE.sha256
    return out
