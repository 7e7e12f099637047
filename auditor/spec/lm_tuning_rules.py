"""Rules of a language model's search (``tuning`` with ``objective.task: language_model``).

Trials are ranked by the validation loss (mean nats per token; perplexity is its
exponential, so the order is the same), each trained on the train documents and scored on
the validation documents: no cross-validation folds, and the chosen configuration is
trained again on the train split. A space names only the options the declared
architecture reads: ``model.transformer``'s sizes and ``model.dropout`` for a
``transformer_lm``; ``model.pretrained``'s fine-tuning and LoRA settings for a
``pretrained_lm`` (the LoRA ones only with ``fine_tune: lora``); the training section's
optimisation settings for both. Width and heads, when either is searched, are listed as
choices, and every combination of them divides.
"""

from __future__ import annotations

import itertools

from auditor.errors import SpecError
from auditor.spec.rules import RuleContext, spec_rule
from auditor.tuning import space as sp
from auditor.tuning.catalogue import NOT_TUNABLE, tunable_options
from auditor.types import LM_TASKS

#: Training options a language model reads (the rest of ``training`` is tabular only).
TRAINING = tuple(
    f"training.{name}"
    for name in (
        "optimizer",
        "learning_rate",
        "momentum",
        "batch_size",
        "epochs",
        "weight_decay",
        "schedule.name",
        "schedule.step_size",
        "schedule.gamma",
        "schedule.patience",
        "schedule.max_learning_rate",
        "gradient_clip",
        "warmup_steps",
        "gradient_accumulation",
        "early_stopping.enabled",
        "early_stopping.patience",
        "early_stopping.min_delta",
        "early_stopping.restore_best",
    )
)
#: Architecture -> the model options it reads that a search may draw.
MODEL: dict[str, tuple[str, ...]] = {
    "transformer_lm": (
        "model.transformer.layers",
        "model.transformer.width",
        "model.transformer.heads",
        "model.dropout",
    ),
    "pretrained_lm": (
        "model.pretrained.fine_tune",
        "model.pretrained.lora.rank",
        "model.pretrained.lora.alpha",
        "model.pretrained.lora.dropout",
        "model.pretrained.freeze",
        "model.pretrained.learning_rates",
    ),
}
LORA = (
    "model.pretrained.lora.rank",
    "model.pretrained.lora.alpha",
    "model.pretrained.lora.dropout",
)
#: Options a language model reads that no search may draw, with the reason.
FIXED = {
    "model.transformer.context_length": "it sets the sequences every perplexity is measured "
    "over, so trials with different lengths would not compare",
    "training.early_stopping.metric": "a language model stops early on its validation loss",
}
SIZES = ("model.transformer.width", "model.transformer.heads")

MSG_METRIC = (
    "a language model's trials are ranked by their validation loss (perplexity is its "
    "exponential): tuning.metric must be loss, got {metric!r}"
)
MSG_CV = (
    "a language model's trials are scored on the validation documents; cross-validation "
    "over documents is not available: remove tuning.cv"
)
MSG_RETRAIN = (
    "a language model is trained on the train documents alone (the validation documents "
    "decide early stopping): tuning.retrain must be train"
)
MSG_NOT_READ = "{architecture} does not read '{option}'; a search over it may draw: {options}"
MSG_FIXED = "'{option}' cannot be tuned for a language model: {reason}"
MSG_LORA_ONLY = (
    "'{option}' is read with model.pretrained.fine_tune: lora only (the spec fine-tunes "
    "{how}): set fine_tune to lora, or tune it with a 'when' on model.pretrained.fine_tune"
)
MSG_SIZES_CHOICES = (
    "width must be a multiple of heads in every trial: list '{option}' as choices, not a range"
)
MSG_SIZES_DIVIDE = (
    "width {width} is not a multiple of heads {heads}, a combination this space can draw "
    "(model.transformer.width must divide by model.transformer.heads in every trial)"
)


def lm_tunable(architecture: str) -> tuple[str, ...]:
    """The options a search of ``architecture`` may draw: its model's, then training's."""
    return MODEL.get(architecture, ()) + TRAINING


@spec_rule("lm_tuning", applies="lm")
def check_lm_tuning(ctx: RuleContext) -> list[SpecError]:
    """The ranking figure, the rows, and a space of options the architecture reads."""
    tuning = ctx.spec.tuning
    if ctx.task not in LM_TASKS or tuning is None:
        return []
    errors = []
    if tuning.metric is not None and tuning.metric != "loss":
        errors.append(ctx.error(("tuning", "metric"), MSG_METRIC.format(metric=tuning.metric)))
    if tuning.cv is not None:
        errors.append(ctx.error(("tuning", "cv"), MSG_CV, key=True))
    if tuning.retrain != "train":
        errors.append(ctx.error(("tuning", "retrain"), MSG_RETRAIN))
    errors += _space_errors(ctx)
    return errors


def _space_errors(ctx: RuleContext) -> list[SpecError]:
    spec = ctx.spec
    architecture = spec.model.architecture
    allowed = lm_tunable(architecture)
    errors, sizes = [], {}
    for i, entry in enumerate(spec.tuning.space):
        here = ("tuning", "space", i, "option")
        option = entry.option
        if option in NOT_TUNABLE or option not in tunable_options():
            continue  # the tuning rules say why (auditor.spec.tuning_rules)
        if option in FIXED:
            errors.append(ctx.error(here, MSG_FIXED.format(option=option, reason=FIXED[option])))
        elif option not in allowed:
            message = MSG_NOT_READ.format(
                architecture=architecture, option=option, options=", ".join(allowed)
            )
            errors.append(ctx.error(here, message))
        elif option in LORA and not _lora_in_trials(spec, entry):
            how = spec.model.pretrained.fine_tune
            errors.append(ctx.error(here, MSG_LORA_ONLY.format(option=option, how=how)))
        elif option in SIZES:
            if entry.choices is None:
                errors.append(ctx.error(here, MSG_SIZES_CHOICES.format(option=option)))
            else:
                sizes[option] = (i, sp.choices_of(entry))
    if not errors and sizes:
        errors += _sizes_errors(ctx, sizes)
    return errors


def _lora_in_trials(spec, entry) -> bool:
    """Whether the trials that draw a LoRA option fine-tune with LoRA: the spec's own
    ``fine_tune`` is lora, or the entry is drawn only when the trial's is."""
    when = (entry.when or {}).get("model.pretrained.fine_tune")
    if when is not None:
        allowed = when if isinstance(when, (list, tuple)) else [when]
        return list(allowed) == ["lora"]
    tuned = any(e.option == "model.pretrained.fine_tune" for e in spec.tuning.space)
    return (
        spec.model.pretrained is not None
        and spec.model.pretrained.fine_tune == "lora"
        and (not tuned)
    )


def _sizes_errors(ctx: RuleContext, sizes: dict[str, tuple[int, list]]) -> list[SpecError]:
    """Every width the space can draw divides by every heads it can draw."""
    t = ctx.spec.model.transformer
    widths = sizes.get(SIZES[0], (None, [t.width]))[1]
    heads = sizes.get(SIZES[1], (None, [t.heads]))[1]
    at = sizes.get(SIZES[0], sizes.get(SIZES[1]))[0]
    for width, head in itertools.product(widths, heads):
        if int(width) % int(head):
            message = MSG_SIZES_DIVIDE.format(width=width, heads=head)
            return [ctx.error(("tuning", "space", at, "choices"), message)]
    return []


MSG_GAIN_NEEDS_TUNING = (
    "tuning_gain compares the chosen configuration with the spec's own: it needs a tuning section"
)
MSG_GAIN_SPLIT = (
    "a language model's tuning gain is measured on the test documents, which the search "
    "never read: use split test, not {split!r}"
)


@spec_rule("lm_tuning_criteria", applies="lm")
def check_lm_tuning_criteria(ctx: RuleContext) -> list[SpecError]:
    """A criterion on the tuning gain needs a search, and is judged on the test split."""
    from auditor.train.lm_evaluate import UNSEEN

    if ctx.task not in LM_TASKS:
        return []
    errors = []
    for i, c in enumerate(ctx.spec.acceptance):
        if c.check != "tuning_gain":
            continue
        if ctx.spec.tuning is None:
            errors.append(ctx.error(("acceptance", i, "check"), MSG_GAIN_NEEDS_TUNING))
        elif c.split not in UNSEEN:
            errors.append(
                ctx.error(("acceptance", i, "split"), MSG_GAIN_SPLIT.format(split=c.split))
            )
    return errors
