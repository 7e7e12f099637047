"""Rules of the LLM judge and the responder in a generation spec, with located one-line errors.

- ``judge`` and ``responder`` apply to a generation objective only;
- the judge needs an address (``url`` or ``url_env``), and each metric it scores needs its
  rubric's inputs among ``data.text``'s columns;
- ``data.text.ratings`` names metrics the judge scores (did-you-mean), and it and
  ``data.text.compare`` need a judge;
- a criterion with ``calibrated_judge``, and one on ``judge_agreement``, is on a metric the
  judge scores and people rated;
- the responder is an endpoint (``url``/``url_env`` with ``model``) or a local
  ``checkpoint``, not both;
- an endpoint needs the text extra's client (httpx);
- (data-aware) the ratings and compare columns exist in every audit file.
"""

from __future__ import annotations

import importlib.util

from auditor.errors import SpecError
from auditor.spec.rules import RuleContext, listed, spec_rule
from auditor.spec.suggest import did_you_mean
from auditor.spec.text_rules import missing_audit_columns
from auditor.types import TEXT_TASKS

MSG_NOT_GENERATION = "{field} applies to generated text; it needs objective.task: generation"
MSG_JUDGE_NO_URL = "the judge needs an address: set judge.url or judge.url_env"
MSG_JUDGE_INPUT = "the judge's {metric} rubric needs the {role} column: set data.text.{role}"
MSG_RATINGS_NOT_JUDGED = (
    "data.text.ratings names {metric}, which the judge does not score (judge.metrics: "
    "{metrics}){hint}"
)
MSG_NEEDS_JUDGE = "{field} is read by the judge: declare a judge section"
MSG_CALIBRATED_NOT_JUDGED = (
    "calibrated_judge needs a judge that scores {metric}: add it to judge.metrics"
)
MSG_CALIBRATED_NO_RATINGS = (
    "calibrated_judge needs people's ratings of {metric} to calibrate the judge against: "
    "set data.text.ratings.{metric}"
)
MSG_AGREEMENT_METRIC = (
    "check judge_agreement is measured per judged metric: name one of judge.metrics "
    "({metrics}) as metric{hint}"
)
MSG_RESPONDER_EITHER = (
    "the responder is an endpoint (url or url_env, with model) or a local checkpoint, not both"
)
MSG_RESPONDER_NONE = (
    "the responder needs an endpoint (url or url_env, with model) or a local checkpoint"
)
MSG_RESPONDER_MODEL = "an endpoint responder needs responder.model: the model name to ask for"
MSG_NEEDS_HTTPX = (
    "{field} calls an endpoint through httpx, which is not installed: pip install "
    "'auditor[text]' (make venv installs it)"
)


def _endpoint(section) -> bool:
    return bool(section.url or section.url_env)


@spec_rule("judge_settings", applies="any")
def check_judge(ctx: RuleContext) -> list[SpecError]:
    """The judge and responder sections, the ratings and compare columns, calibrated criteria."""
    spec = ctx.spec
    judge, responder = spec.judge, spec.responder
    text = spec.data.text
    errors: list[SpecError] = []
    if ctx.task not in TEXT_TASKS:
        for name, section in (("judge", judge), ("responder", responder)):
            if section is not None:
                errors.append(ctx.error((name,), MSG_NOT_GENERATION.format(field=name)))
        return errors
    named = text.named() if text else {}
    ratings = dict(text.ratings) if text and text.ratings else {}
    if judge is None:
        if ratings:
            field = "data.text.ratings"
            errors.append(
                ctx.error(("data", "text", "ratings"), MSG_NEEDS_JUDGE.format(field=field))
            )
        if text is not None and text.compare:
            field = "data.text.compare"
            errors.append(
                ctx.error(("data", "text", "compare"), MSG_NEEDS_JUDGE.format(field=field))
            )
    else:
        errors += _judge_errors(ctx, judge, named, ratings)
    for i, c in enumerate(spec.acceptance):
        if c.check == "judge_agreement":
            errors += _agreement_criterion(ctx, i, c, judge, ratings)
        if not c.calibrated_judge:
            continue
        here = ("acceptance", i, "calibrated_judge")
        if judge is None or c.metric not in judge.metrics:
            errors.append(ctx.error(here, MSG_CALIBRATED_NOT_JUDGED.format(metric=c.metric)))
        elif c.metric not in ratings:
            errors.append(ctx.error(here, MSG_CALIBRATED_NO_RATINGS.format(metric=c.metric)))
    if responder is not None:
        if _endpoint(responder) and responder.checkpoint:
            errors.append(ctx.error(("responder", "checkpoint"), MSG_RESPONDER_EITHER))
        elif not _endpoint(responder) and not responder.checkpoint:
            errors.append(ctx.error(("responder",), MSG_RESPONDER_NONE))
        elif _endpoint(responder) and not responder.model:
            errors.append(ctx.error(("responder",), MSG_RESPONDER_MODEL))
        if _endpoint(responder) and importlib.util.find_spec("httpx") is None:
            errors.append(ctx.error(("responder",), MSG_NEEDS_HTTPX.format(field="responder")))
    return errors


def _agreement_criterion(ctx: RuleContext, i: int, c, judge, ratings: dict) -> list[SpecError]:
    """A criterion on judge_agreement names a judged metric people rated."""
    here = ("acceptance", i)
    if judge is None:
        return [ctx.error(here + ("check",), MSG_NEEDS_JUDGE.format(field="check judge_agreement"))]
    if c.metric not in judge.metrics:
        hint = did_you_mean(str(c.metric), judge.metrics)
        return [
            ctx.error(
                here + ("metric",),
                MSG_AGREEMENT_METRIC.format(metrics=listed(list(judge.metrics)), hint=hint),
            )
        ]
    if c.metric not in ratings:
        return [ctx.error(here + ("metric",), MSG_CALIBRATED_NO_RATINGS.format(metric=c.metric))]
    return []


def _judge_errors(ctx: RuleContext, judge, named: dict, ratings: dict) -> list[SpecError]:
    from auditor.text.rubrics import RUBRICS

    errors = []
    if not _endpoint(judge):
        errors.append(ctx.error(("judge",), MSG_JUDGE_NO_URL))
    elif importlib.util.find_spec("httpx") is None:
        errors.append(ctx.error(("judge",), MSG_NEEDS_HTTPX.format(field="judge")))
    for i, metric in enumerate(judge.metrics):
        for role in RUBRICS[metric].inputs:
            if named and role not in named:
                errors.append(
                    ctx.error(
                        ("judge", "metrics", i), MSG_JUDGE_INPUT.format(metric=metric, role=role)
                    )
                )
    for metric in ratings:
        if metric not in judge.metrics:
            errors.append(
                ctx.error(
                    ("data", "text", "ratings", metric),
                    MSG_RATINGS_NOT_JUDGED.format(
                        metric=metric,
                        metrics=listed(list(judge.metrics)),
                        hint=did_you_mean(metric, judge.metrics),
                    ),
                    key=True,
                )
            )
    return errors


@spec_rule("judge_columns_exist", needs_data=True, applies="text")
def check_judge_columns(ctx: RuleContext) -> list[SpecError]:
    """The ratings and compare columns exist in every audit file."""
    text = ctx.spec.data.text
    if ctx.task not in TEXT_TASKS or text is None:
        return []
    named = [(("data", "text", "ratings", m), col) for m, col in (text.ratings or {}).items()]
    if text.compare:
        named.append((("data", "text", "compare"), text.compare))
    return missing_audit_columns(ctx, named)
