"""Rules of a language model's answers to held-out prompts (``evaluation.generations``).

A criterion that names a text metric (``metric: rouge_l``, optionally with ``pass_at``)
judges the answers the model writes on a split of ``evaluation.generations.splits``: the
generations must be on, the metric must read only the prompt, the answer and the reference
(a language model's prompts have no context column), the split must be one the answers are
written on, and the rows have no segments. The answer must leave room for a prompt within
the context.
"""

from __future__ import annotations

from auditor.errors import SpecError
from auditor.spec.rules import RuleContext, _bound_errors, listed, spec_rule
from auditor.spec.suggest import did_you_mean
from auditor.spec.text_rules import metric_criterion_errors
from auditor.text.catalogue import TEXT_METRICS
from auditor.train.lm_generations import ROLES
from auditor.types import LM_TASKS

MSG_OFF = (
    "{metric} scores the model's answers to held-out prompts: set "
    "evaluation.generations.enabled: true"
)
MSG_SPLIT = (
    "answers are written on {splits} (evaluation.generations.splits); {split!r} is not one{hint}"
)
MSG_INPUT = (
    "{metric} needs a {role}; a language model's answers have a prompt, the answer and a "
    "reference only: use one of {names}"
)
MSG_NO_SEGMENTS = "a language model's answers have no segments: remove sensitive"
MSG_NO_ROOM = (
    "evaluation.generations.max_new_tokens ({new}) leaves no room for a prompt within "
    "model.transformer.context_length ({context})"
)


def _lm_metrics() -> list[str]:
    """The text metrics a language model's answers can have (their inputs are the roles)."""
    return [m.name for m in TEXT_METRICS.values() if set(m.inputs) <= set(ROLES)]


@spec_rule("lm_generations", applies="lm")
def check_lm_generations(ctx: RuleContext) -> list[SpecError]:
    """The answers' length, and each criterion on a text metric of them."""
    if ctx.task not in LM_TASKS:
        return []
    spec = ctx.spec
    settings = spec.evaluation.generations
    errors = []
    context = spec.model.transformer.context_length
    written = ctx.written(("evaluation", "generations", "max_new_tokens"))
    if settings.enabled and written and settings.max_new_tokens >= context:
        message = MSG_NO_ROOM.format(new=settings.max_new_tokens, context=context)
        errors.append(ctx.error(("evaluation", "generations", "max_new_tokens"), message))
    for i, c in enumerate(spec.acceptance):
        if c.check or c.metric not in TEXT_METRICS:
            continue
        errors += _criterion_errors(ctx, c, ("acceptance", i))
    return errors


def _criterion_errors(ctx: RuleContext, c, here: tuple) -> list[SpecError]:
    settings = ctx.spec.evaluation.generations
    metric = TEXT_METRICS[c.metric]
    allowed = _lm_metrics()
    if not settings.enabled:
        return [ctx.error(here + ("metric",), MSG_OFF.format(metric=c.metric))]
    missing = [r for r in metric.inputs if r not in ROLES]
    if missing:
        message = MSG_INPUT.format(metric=c.metric, role=missing[0], names=listed(allowed))
        return [ctx.error(here + ("metric",), message)]
    errors = _bound_errors(ctx, c, here)
    if c.split not in settings.splits:
        message = MSG_SPLIT.format(
            splits=listed(list(settings.splits)),
            split=c.split,
            hint=did_you_mean(c.split, settings.splits),
        )
        errors.append(ctx.error(here + ("split",), message))
    if c.sensitive:
        errors.append(ctx.error(here + ("sensitive",), MSG_NO_SEGMENTS))
    return errors + metric_criterion_errors(ctx, c, here)
