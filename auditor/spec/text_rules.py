"""Cross-field and data-aware rules of a generation spec (``objective.task: generation``).

A generation spec audits a vendor's responses as they are: the rows are ``data.audit``
files whose columns ``data.text`` names (question, response, optional context and
reference) beside optional ``data.sensitive`` segment columns. Its criteria name text
metrics (:data:`auditor.text.catalogue.TEXT_METRICS`), optionally with a per-row
threshold (``pass_at``) that makes them bound the pass rate.
"""

from __future__ import annotations

import importlib.util

from auditor.errors import SpecError
from auditor.spec.data_rules import missing_column
from auditor.spec.rules import RuleContext, _bound_errors, _split_errors, listed, spec_rule
from auditor.spec.suggest import did_you_mean
from auditor.text.catalogue import TEXT_METRICS, extra_for, extra_name
from auditor.types import TEXT_TASKS

MSG_NEEDS_TEXT_COLUMNS = (
    "a generation objective needs data.text: the columns holding the question and the "
    "response (and, optionally, the context and a reference answer)"
)
MSG_TEXT_NOT_GENERATION = (
    "data.text names the columns of generated text; it needs objective.task: generation"
)
MSG_TEXT_NEEDS_AUDIT = (
    "a generation objective audits a vendor's responses as they are: give the files of "
    "responses as data.audit (nothing is trained from data.train)"
)
MSG_TEXT_NO_MODEL = "generation audits the responses in data.audit; {field} does not apply"
MSG_NOT_TEXT_METRIC = "{what} does not apply to a generation objective; text metrics: {names}{hint}"
MSG_NEEDS_INPUT = "{metric} needs the {role} column: set data.text.{role}"
MSG_PASS_AT_RANGE = "pass_at must lie within {metric}'s range {low} to {high}, got {value}"
MSG_PASS_AT_NOT_TEXT = "pass_at is a text metric's per-row threshold; {metric} is not a text metric"
MSG_SENSITIVE_UNKNOWN = "'{name}' is not listed in data.sensitive{hint}"
MSG_NEEDS_EXTRA = (
    "{metric} needs {package}, which is not installed: pip install 'auditor[{extra}]' "
    "(make venv installs it)"
)


def _is_text(ctx: RuleContext) -> bool:
    return ctx.task in TEXT_TASKS


@spec_rule("text_objective", applies="any")
def check_text_objective(ctx: RuleContext) -> list[SpecError]:
    data = ctx.spec.data
    if not _is_text(ctx):
        out = [ctx.error(("data", "text"), MSG_TEXT_NOT_GENERATION)] if data.text else []
        for i, c in enumerate(ctx.spec.acceptance):
            if c.pass_at is not None and c.metric not in TEXT_METRICS:
                out.append(
                    ctx.error(
                        ("acceptance", i, "pass_at"), MSG_PASS_AT_NOT_TEXT.format(metric=c.metric)
                    )
                )
        return out
    errors = []
    if data.text is None:
        errors.append(ctx.error(("objective", "task"), MSG_NEEDS_TEXT_COLUMNS))
    if data.train or not data.audit:
        where = ("data", "train") if data.train else ("data",)
        errors.append(ctx.error(where, MSG_TEXT_NEEDS_AUDIT))
    if ctx.spec.tuning is not None:
        errors.append(ctx.error(("tuning",), MSG_TEXT_NO_MODEL.format(field="tuning")))
    if ctx.spec.model.vendor is not None:
        errors.append(
            ctx.error(("model", "vendor"), MSG_TEXT_NO_MODEL.format(field="model.vendor"))
        )
    return errors


def _text_check(name: str) -> bool:
    """Whether ``name`` is a registered check of generated text (``auditor.checks.text_*``)."""
    from auditor.checks import CHECKS

    return name in CHECKS and any(t in TEXT_TASKS for t in CHECKS[name].tasks)


@spec_rule("text_criteria", applies="text")
def check_text_criteria(ctx: RuleContext) -> list[SpecError]:
    if not _is_text(ctx):
        return []
    text = ctx.spec.data.text
    named = text.named() if text else {}
    errors: list[SpecError] = []
    for i, c in enumerate(ctx.spec.acceptance):
        here = ("acceptance", i)
        if c.check and _text_check(c.check):  # a registered text check: its own rules say more
            errors += _bound_errors(ctx, c, here) + _split_errors(ctx, c.split, here + ("split",))
            continue
        if c.check or c.metric not in TEXT_METRICS:
            what = f"check {c.check}" if c.check else f"metric {c.metric}"
            key = "check" if c.check else "metric"
            errors.append(
                ctx.error(
                    here + (key,),
                    MSG_NOT_TEXT_METRIC.format(
                        what=what,
                        names=listed(list(TEXT_METRICS)),
                        hint=did_you_mean(str(c.metric or c.check), TEXT_METRICS),
                    ),
                )
            )
            continue
        metric = TEXT_METRICS[c.metric]
        for role in metric.inputs:
            if text is not None and role not in named:
                errors.append(
                    ctx.error(
                        here + ("metric",), MSG_NEEDS_INPUT.format(metric=c.metric, role=role)
                    )
                )
        errors += metric_criterion_errors(ctx, c, here)
        errors += _split_errors(ctx, c.split, here + ("split",))
        if c.sensitive and c.sensitive not in ctx.spec.data.sensitive:
            errors.append(
                ctx.error(
                    here + ("sensitive",),
                    MSG_SENSITIVE_UNKNOWN.format(
                        name=c.sensitive, hint=did_you_mean(c.sensitive, ctx.spec.data.sensitive)
                    ),
                )
            )
    return errors


def metric_criterion_errors(ctx: RuleContext, c, here: tuple) -> list[SpecError]:
    """A criterion on a text metric: its ``pass_at`` within the metric's range, and the
    extra that computes it installed (a vendor's responses and a language model's answers
    alike)."""
    metric = TEXT_METRICS[c.metric]
    errors = []
    if c.pass_at is not None and not metric.low <= c.pass_at <= metric.high:
        message = MSG_PASS_AT_RANGE.format(
            metric=c.metric, low=metric.low, high=metric.high, value=c.pass_at
        )
        errors.append(ctx.error(here + ("pass_at",), message))
    package = extra_for(c.metric)
    if package and importlib.util.find_spec(package[0]) is None:
        message = MSG_NEEDS_EXTRA.format(
            metric=c.metric, package=package[1], extra=extra_name(c.metric)
        )
        errors.append(ctx.error(here + ("metric",), message))
    return errors


@spec_rule("text_columns_exist", needs_data=True, applies="text")
def check_text_columns(ctx: RuleContext) -> list[SpecError]:
    if not _is_text(ctx):
        return []
    data = ctx.spec.data
    named: list[tuple[tuple, str]] = []
    if data.text is not None:
        named += [
            (("data", "text", role), col)
            for role, col in data.text.named().items()
            if not (role == "response" and ctx.spec.responder is not None)  # generated
        ]
    named += [(("data", "sensitive", i), col) for i, col in enumerate(data.sensitive)]
    if data.id_column:
        named.append((("data", "id_column"), data.id_column))
    return missing_audit_columns(ctx, named)


def missing_audit_columns(ctx: RuleContext, named: list[tuple[tuple, str]]) -> list[SpecError]:
    """A located error for each (spec path, column) that an audit file lacks."""
    probe = ctx.probe
    errors: list[SpecError] = []
    for role in probe.files():
        columns = probe.columns(role)
        if columns is None:
            continue
        errors += [
            missing_column(ctx, path, column, "audit", role, columns)
            for path, column in named
            if column not in columns
        ]
    return errors


import auditor.spec.counterfactual_rules  # noqa: E402, F401 - registers the counterfactual rules
import auditor.spec.judge_rules  # noqa: E402, F401 - registers the judge and responder rules
import auditor.spec.memorization_rules  # noqa: E402, F401 - registers data.corpus's rules
