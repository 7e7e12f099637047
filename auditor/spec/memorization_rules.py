"""Rules of ``data.corpus`` and ``evaluation.memorization`` for generated text.

The corpus must be a readable file with at least one word; a JSON Lines corpus must hold
its declared text field; the span that counts as memorized cannot be shorter than the
n-grams that find it; the metric contamination compares must be a text metric the spec's
columns allow; a criterion on memorization or contamination needs the corpus (the
settings alone do not: a resolved spec writes every default).
"""

from __future__ import annotations

import json

from auditor.errors import SpecError
from auditor.spec.rules import RuleContext, spec_rule
from auditor.spec.suggest import did_you_mean
from auditor.types import TEXT_TASKS

#: Non-blank JSON lines read to check the declared field.
PROBE_LINES = 200
MSG_CORPUS_MISSING = "corpus file not found: {path}"
MSG_CORPUS_UNREADABLE = "corpus file cannot be read: {reason}"
MSG_CORPUS_NO_FIELD = "line {line} of {name} has no text field '{field}'{hint}"
MSG_CORPUS_NOT_JSON = "line {line} of {name} is not a JSON object"
MSG_CORPUS_EMPTY = "the corpus {name} holds no word: nothing can be looked up in it"
MSG_SPAN_BELOW_NGRAM = (
    "memorized_words ({words}) is shorter than ngram ({ngram}): spans shorter than an n-gram "
    "cannot be found; use at least {ngram}"
)
MSG_METRIC_UNKNOWN = "'{name}' is not a text metric{hint}"
MSG_METRIC_NEEDS = "{name} needs the {role} column: set data.text.{role}"
MSG_NEEDS_CORPUS = "check '{check}' needs data.corpus: the training corpus to look for"
CORPUS_CHECKS = ("memorization", "contamination")


def _text(ctx: RuleContext) -> bool:
    return ctx.task in TEXT_TASKS


@spec_rule("memorization_settings", applies="text")
def check_memorization_settings(ctx: RuleContext) -> list[SpecError]:
    if not _text(ctx):
        return []
    from auditor.text.catalogue import TEXT_METRICS

    settings = ctx.spec.evaluation.memorization
    here = ("evaluation", "memorization")
    errors = []
    if settings.memorized_words < settings.ngram:
        message = MSG_SPAN_BELOW_NGRAM.format(words=settings.memorized_words, ngram=settings.ngram)
        errors.append(ctx.error(here + ("memorized_words",), message))
    name = settings.metric
    if name is not None:
        if name not in TEXT_METRICS:
            hint = did_you_mean(name, TEXT_METRICS)
            errors.append(
                ctx.error(here + ("metric",), MSG_METRIC_UNKNOWN.format(name=name, hint=hint))
            )
        elif ctx.spec.data.text is not None:
            named = ctx.spec.data.text.named()
            for role in TEXT_METRICS[name].inputs:
                if role not in named:
                    message = MSG_METRIC_NEEDS.format(name=name, role=role)
                    errors.append(ctx.error(here + ("metric",), message))
    if ctx.spec.data.corpus is None:
        for i, c in enumerate(ctx.spec.acceptance):
            if c.check in CORPUS_CHECKS:
                message = MSG_NEEDS_CORPUS.format(check=c.check)
                errors.append(ctx.error(("acceptance", i, "check"), message))
    return errors


@spec_rule("corpus_file", needs_data=True, applies="text")
def check_corpus_file(ctx: RuleContext) -> list[SpecError]:
    """The corpus exists, is readable, holds a word and (JSON Lines) its text field."""
    corpus = ctx.spec.data.corpus
    if corpus is None or not _text(ctx):
        return []
    from auditor.text.memorization import _WORD, detect_format

    path = ctx.resolve_path(corpus.path)
    at = ("data", "corpus", "path")
    if not path.is_file():
        return [ctx.error(at, MSG_CORPUS_MISSING.format(path=path))]
    jsonl = detect_format(path, corpus.format) == "jsonl"
    has_word, checked = False, 0
    try:
        with open(path, encoding=ctx.spec.data.encoding, errors="replace") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                text = line
                if jsonl:
                    try:
                        obj = json.loads(line)
                    except ValueError:
                        obj = None
                    if not isinstance(obj, dict):
                        message = MSG_CORPUS_NOT_JSON.format(line=number, name=path.name)
                        return [ctx.error(("data", "corpus", "format"), message)]
                    if not isinstance(obj.get(corpus.field), str):
                        hint = did_you_mean(corpus.field, [k for k in obj if isinstance(k, str)])
                        message = MSG_CORPUS_NO_FIELD.format(
                            line=number, name=path.name, field=corpus.field, hint=hint
                        )
                        return [ctx.error(("data", "corpus", "field"), message)]
                    text, checked = obj[corpus.field], checked + 1
                has_word = has_word or bool(_WORD.search(text.lower()))
                if has_word and (not jsonl or checked >= PROBE_LINES):
                    break
    except OSError as exc:
        return [ctx.error(at, MSG_CORPUS_UNREADABLE.format(reason=exc))]
    return [] if has_word else [ctx.error(at, MSG_CORPUS_EMPTY.format(name=path.name))]
