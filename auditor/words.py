"""Words shared by every stage's sentences: counts ('1 row', '2 rows', '3 blocking
criteria') and whom a next step about the audited model turns to (:func:`addressee`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditor.in_memory import MEMORY_FORMAT

#: Plurals that do not add -s or -es.
IRREGULAR = {
    "criterion": "criteria",
    "is": "are",
    "was": "were",
    "has": "have",
    "does": "do",
    "this": "these",
}


def plural(word: str) -> str:
    """The plural of ``word`` (of its last word: 'blocking criterion' -> 'blocking criteria')."""
    head, _, last = word.rpartition(" ")
    lead = f"{head} " if head else ""
    if last in IRREGULAR:
        return lead + IRREGULAR[last]
    if last.endswith(("s", "x", "ch", "sh")):
        return f"{lead}{last}es"
    if last.endswith("y") and len(last) > 1 and last[-2] not in "aeiou":
        return f"{lead}{last[:-1]}ies"
    return f"{lead}{last}s"


def form(n: int, word: str, many: str | None = None) -> str:
    """``word`` for a count of one, its plural (``many``, or :func:`plural`) otherwise."""
    return word if int(n) == 1 else (many or plural(word))


def count_words(n: int, word: str, many: str | None = None, *, zero: str | None = None) -> str:
    """'1 row', '2 rows', '0 rows' (or, with ``zero="no"``, 'no rows'); thousands with commas.

    Examples
    --------
    >>> count_words(1, "row"), count_words(1200, "row"), count_words(0, "row", zero="no")
    ('1 row', '1,200 rows', 'no rows')
    >>> count_words(3, "blocking criterion")
    '3 blocking criteria'
    """
    n = int(n)
    lead = zero if n == 0 and zero else f"{n:,}"
    return f"{lead} {form(n, word, many)}"


# --------------------------------------------------------------------------- addressee
@dataclass(frozen=True)
class Addressee:
    """Whom a next step about a model not trained here turns to, in the steps' own words.

    ``ask`` starts a question about how the model was trained or validated (``opening`` at
    the start of a sentence): 'ask the vendor whether ...' for a vendor's model, 'check whether
    ...' for the caller's own model; ``model`` and ``figures`` name the model and the
    figures reported for it.
    """

    ask: str
    model: str
    figures: str

    @property
    def opening(self) -> str:
        """``ask`` as a sentence's first words: 'Ask the vendor', 'Check'."""
        return self.ask[:1].upper() + self.ask[1:]


#: A vendor's model (a file of model.vendor, or a generated-text audit's responses).
VENDOR = Addressee(
    ask="ask the vendor",
    model="the vendor's model",
    figures="the vendor's reported figures",
)
#: The caller's own model: given in memory (``auditor.run(model=...)``) or trained here.
CALLER = Addressee(
    ask="check",
    model="the model",
    figures="the figures measured on the development data",
)


def addressee(model_format: str | None, *, responses: bool = False) -> Addressee:
    """Whom the next steps address for a model of ``model_format`` (``model.vendor.format``).

    :data:`VENDOR` for a vendor's model file (any format but ``python``) or, with
    ``responses``, a generated-text audit's responses; :data:`CALLER` for a model given in
    memory (format ``python``: the caller's own estimator, module or function) and for a
    model trained here (``None``). The one place that decides the wording: every step that
    would say "ask the vendor" reads it.

    Examples
    --------
    >>> addressee("onnx").opening, addressee("python").opening, addressee(None).ask
    ('Ask the vendor', 'Check', 'check')
    """
    if model_format is None:
        return VENDOR if responses else CALLER
    return CALLER if model_format == MEMORY_FORMAT else VENDOR


def addressee_of(spec: Any) -> Addressee:
    """:func:`addressee` of a spec: its ``model.vendor.format``; a generated-text audit
    (responses, a vendor's) without one addresses the vendor."""
    from auditor.types import TEXT_TASKS

    vendor = spec.model.vendor
    return addressee(
        vendor.format if vendor is not None else None, responses=spec.task in TEXT_TASKS
    )
