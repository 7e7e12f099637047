"""Cross-field rules of the ``tuning`` section (and of ``training.train_on``).

A space entry names an option by its path (``training.learning_rate``); the options a
search may choose come from the tuning catalogue (:mod:`auditor.tuning.catalogue`), which
reads them off the schema, and every value an entry gives (a bound, a choice, a ``when``
value) is checked against that option's own schema, so a space can only draw values the
spec itself would accept.
"""

from __future__ import annotations

import math
from typing import Any

from auditor.errors import SpecError
from auditor.spec.rules import EARLY_STOPPING_LOSS, RuleContext, metric_fit_errors, spec_rule
from auditor.spec.schema import expected_words, fmt_value
from auditor.spec.suggest import did_you_mean

#: The objectives whose models a search trains (the tabular ones and language models).
TRAINED = ("tabular", "lm")

MSG_NEEDS_OPTUNA = (
    "tuning needs Optuna, which is not installed: pip install 'auditor[tune]' "
    "(make venv installs it)"
)
MSG_TUNING_VENDOR = "tuning trains models, and a vendor's model (model.vendor) is audited as it is"
MSG_TUNING_TRAIN_ON = (
    "trials are scored on the validation split, so they train on the train split alone: "
    "remove training.train_on and set tuning.retrain: train_and_validation instead"
)
MSG_TRAIN_ON_EARLY_STOPPING = (
    "train_and_validation trains on the rows early stopping would watch: set "
    "training.early_stopping.enabled: false (and the epochs to train)"
)
MSG_NO_BUDGET = (
    "{method} search needs a budget: a number of trials, or 'seconds' (only grid search "
    "ends by itself, when its grid is done)"
)
MSG_TUNING_METRIC = "unknown metric '{metric}' for tuning; use 'loss' or one of {options}{hint}"
MSG_DIRECTION = "{metric} is better when {way}, so the direction is {expected}, not {got}"
MSG_UNKNOWN_OPTION = (
    "unknown option '{option}'{hint}: a space entry names a model, training or "
    "data.augmentation option by its path, such as training.learning_rate"
)
MSG_NOT_TUNABLE = "'{option}' cannot be tuned: {reason}"
MSG_REPEATED_OPTION = "'{option}' is already tuned by tuning.space[{first}]"
MSG_NEEDS_VALUES = "give 'choices', or a range: 'low' and 'high'"
MSG_BOTH_FORMS = "give either 'choices' or a range ('low' and 'high'), not both"
MSG_RANGE_INCOMPLETE = "a range needs both 'low' and 'high'"
MSG_RANGE_NOT_NUMERIC = "'{option}' is not a number ({expected}): list its 'choices' instead"
MSG_RANGE_OPTIONS = "'{key}' belongs to a range ('low' and 'high'), and this entry lists choices"
MSG_INVALID_VALUE = "{value} is not a valid {option}: it must be {expected}"
MSG_LOW_HIGH = "low ({low}) must be below high ({high})"
MSG_LOG_LOW = "a log-uniform range needs low above 0, got {low}"
MSG_LOG_STEP = "a range is either log-uniform or stepped, not both"
MSG_STEP_DIVIDES = "high - low ({span}) must be a whole number of steps of {step}"
MSG_INTEGER = "'{option}' is an integer option, so '{key}' must be an integer, got {got}"
MSG_GRID_NEEDS_STEPS = (
    "grid search walks a finite grid: give '{option}' a 'step' or list its 'choices'"
)
MSG_REPEATED_CHOICE = "{value} is listed twice"
MSG_WHEN_SELF = "an entry cannot depend on its own option"
MSG_WHEN_LATER = (
    "'{option}' is tuned later in the space (tuning.space[{index}]): move that entry above this one"
)
MSG_CV_NEEDS_GROUP = "strategy 'group' needs {where}.group_column"
MSG_CV_GROUP_UNUSED = "group_column is read by strategy 'group' only"
MSG_CV_TASK = "strategy '{strategy}' applies to {tasks} tasks, and the task is '{task}'"


def optuna_available() -> bool:
    """Whether Optuna can be imported (without importing it)."""
    import importlib.util

    return importlib.util.find_spec("optuna") is not None


@spec_rule("tuning_needs_optuna", applies=TRAINED)
def check_optuna(ctx: RuleContext) -> list[SpecError]:
    if ctx.spec.tuning is None or optuna_available():
        return []
    return [ctx.error(("tuning",), MSG_NEEDS_OPTUNA, key=True)]


@spec_rule("tuning_trains_a_model", applies=TRAINED)
def check_tuning_model(ctx: RuleContext) -> list[SpecError]:
    spec = ctx.spec
    if spec.tuning is None:
        return []
    if spec.model.vendor is not None:
        return [ctx.error(("tuning",), MSG_TUNING_VENDOR, key=True)]
    if spec.training.train_on != "train":
        return [ctx.error(("training", "train_on"), MSG_TUNING_TRAIN_ON)]
    return []


@spec_rule("train_on_without_early_stopping")
def check_train_on(ctx: RuleContext) -> list[SpecError]:
    training = ctx.spec.training
    if training.train_on == "train_and_validation" and training.early_stopping.enabled:
        return [ctx.error(("training", "train_on"), MSG_TRAIN_ON_EARLY_STOPPING)]
    return []


@spec_rule("tuning_budget", applies=TRAINED)
def check_budget(ctx: RuleContext) -> list[SpecError]:
    from auditor.tuning.catalogue import METHODS

    tuning = ctx.spec.tuning
    if tuning is None or METHODS[tuning.method].enumerates:
        return []
    if tuning.trials is None and tuning.seconds is None:
        return [ctx.error(("tuning", "trials"), MSG_NO_BUDGET.format(method=tuning.method))]
    return []


@spec_rule("tuning_metric")
def check_tuning_metric(ctx: RuleContext) -> list[SpecError]:
    from auditor.metrics import METRICS, metric_names
    from auditor.tuning.catalogue import direction_of

    tuning = ctx.spec.tuning
    if tuning is None or tuning.metric is None:
        return []
    path = ("tuning", "metric")
    metric = tuning.metric
    known = metric == EARLY_STOPPING_LOSS or metric in METRICS
    if not ctx.written(path):  # the early-stopping metric: its own rule judges the name
        if not known or (metric != EARLY_STOPPING_LOSS and ctx.task not in METRICS[metric].tasks):
            return []
    elif not known:
        message = MSG_TUNING_METRIC.format(
            metric=metric,
            options=", ".join(metric_names(ctx.task)),
            hint=did_you_mean(metric, [EARLY_STOPPING_LOSS, *METRICS]),
        )
        return [ctx.error(path, message)]
    errors = metric_fit_errors(ctx, metric, path) if metric != EARLY_STOPPING_LOSS else []
    expected = direction_of(metric)
    if not errors and tuning.direction is not None and tuning.direction != expected:
        way = "higher" if expected == "maximize" else "lower"
        message = MSG_DIRECTION.format(
            metric=metric, way=way, expected=expected, got=tuning.direction
        )
        errors.append(ctx.error(("tuning", "direction"), message))
    return errors


@spec_rule("tuning_cv")
def check_cv(ctx: RuleContext) -> list[SpecError]:
    """Folds (``tuning.cv``, ``evaluation.cross_validation``) that can be cut as declared."""
    errors: list[SpecError] = []
    tuning = ctx.spec.tuning
    if tuning is not None and tuning.cv is not None:
        errors += _fold_errors(ctx, tuning.cv, ("tuning", "cv"))
    folds = ctx.spec.evaluation.cross_validation
    if folds is not None:
        errors += _fold_errors(ctx, folds, ("evaluation", "cross_validation"))
        if ctx.spec.model.vendor is not None:
            errors.append(ctx.error(("evaluation", "cross_validation"), MSG_CV_VENDOR))
    return errors


MSG_CV_VENDOR = (
    "cross-validation retrains the configuration on folds of the train split; a vendor's "
    "model (model.vendor) is audited as it is"
)


def _fold_errors(ctx: RuleContext, cv, here: tuple) -> list[SpecError]:
    from auditor.spec.rules import tasks_words
    from auditor.tuning.catalogue import CV_STRATEGIES

    strategy = CV_STRATEGIES[cv.strategy]
    if strategy.needs_groups and not cv.group_column:
        where = ".".join(here)
        return [ctx.error(here + ("strategy",), MSG_CV_NEEDS_GROUP.format(where=where))]
    if cv.group_column and not strategy.needs_groups:
        return [ctx.error(here + ("group_column",), MSG_CV_GROUP_UNUSED)]
    # like data.split: the default 'stratified' reads as random for regression
    if ctx.task not in strategy.tasks and ctx.written(here + ("strategy",)):
        message = MSG_CV_TASK.format(
            strategy=cv.strategy, tasks=tasks_words(strategy.tasks), task=ctx.task
        )
        return [ctx.error(here + ("strategy",), message)]
    return []


@spec_rule("tuning_space", applies=TRAINED)
def check_space(ctx: RuleContext) -> list[SpecError]:
    """Every entry names a tunable option once and gives values that option accepts."""
    from auditor.tuning.catalogue import METHODS

    tuning = ctx.spec.tuning
    if tuning is None:
        return []
    grid = METHODS[tuning.method].enumerates
    errors: list[SpecError] = []
    seen: dict[str, int] = {}
    order = {entry.option: i for i, entry in reversed(list(enumerate(tuning.space)))}
    for i, entry in enumerate(tuning.space):
        here = ("tuning", "space", i)
        problems = _option_errors(ctx, entry.option, here + ("option",), seen, i)
        if not problems:
            problems = _values_errors(ctx, entry, here, grid)
            problems += _when_errors(ctx, entry, here, order, i)
        seen.setdefault(entry.option, i)
        errors += problems
    return errors


def _option_errors(
    ctx: RuleContext, option: str, path: tuple, seen: dict[str, int], index: int
) -> list[SpecError]:
    from auditor.tuning.catalogue import NOT_TUNABLE, tunable_options

    if option in NOT_TUNABLE:
        return [ctx.error(path, MSG_NOT_TUNABLE.format(option=option, reason=NOT_TUNABLE[option]))]
    if option not in tunable_options():
        hint = did_you_mean(option, tunable_options())
        return [ctx.error(path, MSG_UNKNOWN_OPTION.format(option=option, hint=hint))]
    if option in seen:
        return [ctx.error(path, MSG_REPEATED_OPTION.format(option=option, first=seen[option]))]
    return []


def _invalid(option: str, value: Any) -> str | None:
    """Why ``value`` is not a valid value of ``option`` (None when it is)."""
    from jsonschema import Draft202012Validator

    from auditor.tuning.catalogue import option_schema

    schema = option_schema(option)
    if Draft202012Validator(schema).is_valid(value):
        return None
    return MSG_INVALID_VALUE.format(
        value=fmt_value(value), option=option, expected=expected_words(schema)
    )


def _values_errors(ctx: RuleContext, entry, here: tuple, grid: bool) -> list[SpecError]:
    has_range = entry.low is not None or entry.high is not None
    if entry.choices is None and not has_range:
        return [ctx.error(here, MSG_NEEDS_VALUES)]
    if entry.choices is not None and has_range:
        key = "low" if entry.low is not None else "high"
        return [ctx.error(here + (key,), MSG_BOTH_FORMS)]
    if entry.choices is not None:
        return _choices_errors(ctx, entry, here)
    return _range_errors(ctx, entry, here, grid)


def _choices_errors(ctx: RuleContext, entry, here: tuple) -> list[SpecError]:
    errors = []
    for key, given in (("step", entry.step is not None), ("log", entry.log)):
        if given:
            errors.append(ctx.error(here + (key,), MSG_RANGE_OPTIONS.format(key=key)))
    seen: list[Any] = []
    for k, value in enumerate(entry.choices):
        why = _invalid(entry.option, value)
        if why is None and value in seen:
            why = MSG_REPEATED_CHOICE.format(value=fmt_value(value))
        if why is not None:
            errors.append(ctx.error(here + ("choices", k), why))
        seen.append(value)
    return errors


def _range_errors(ctx: RuleContext, entry, here: tuple, grid: bool) -> list[SpecError]:
    from auditor.tuning.catalogue import option_kind, option_schema

    option, low, high = entry.option, entry.low, entry.high
    kind = option_kind(option)
    if kind == "choice":
        expected = expected_words(option_schema(option))
        key = "low" if low is not None else "high"
        return [
            ctx.error(here + (key,), MSG_RANGE_NOT_NUMERIC.format(option=option, expected=expected))
        ]
    if low is None or high is None:
        return [ctx.error(here + ("high" if high is None else "low",), MSG_RANGE_INCOMPLETE)]
    errors = []
    for key, value in (("low", low), ("high", high), ("step", entry.step)):
        if value is None or not math.isfinite(value):  # finite_numbers says it
            continue
        if kind == "integer" and not float(value).is_integer():
            why = MSG_INTEGER.format(option=option, key=key, got=fmt_value(value))
            errors.append(ctx.error(here + (key,), why))
        elif key != "step" and (why := _invalid(option, value)) is not None:
            errors.append(ctx.error(here + (key,), why))
    if errors:
        return errors
    if low >= high:
        return [
            ctx.error(
                here + ("high",), MSG_LOW_HIGH.format(low=fmt_value(low), high=fmt_value(high))
            )
        ]
    if entry.log and entry.step is not None:
        return [ctx.error(here + ("step",), MSG_LOG_STEP)]
    if entry.log and low <= 0:
        return [ctx.error(here + ("low",), MSG_LOG_LOW.format(low=fmt_value(low)))]
    if entry.step is not None:
        steps = (high - low) / entry.step
        if abs(steps - round(steps)) > 1e-9 * max(1.0, steps):
            span = fmt_value(float(high) - float(low))
            message = MSG_STEP_DIVIDES.format(span=span, step=fmt_value(entry.step))
            return [ctx.error(here + ("step",), message)]
    if grid and kind == "number" and entry.step is None:
        return [ctx.error(here + ("option",), MSG_GRID_NEEDS_STEPS.format(option=option))]
    return []


def _when_errors(
    ctx: RuleContext, entry, here: tuple, order: dict[str, int], index: int
) -> list[SpecError]:
    from auditor.tuning.catalogue import tunable_options

    errors = []
    for option, wanted in (entry.when or {}).items():
        path = here + ("when", option)
        if option == entry.option:
            errors.append(ctx.error(path, MSG_WHEN_SELF, key=True))
        elif option not in tunable_options():
            hint = did_you_mean(option, tunable_options())
            message = MSG_UNKNOWN_OPTION.format(option=option, hint=hint)
            errors.append(ctx.error(path, message, key=True))
        elif order.get(option, -1) > index:
            message = MSG_WHEN_LATER.format(option=option, index=order[option])
            errors.append(ctx.error(path, message, key=True))
        else:
            for value in wanted if isinstance(wanted, list) else [wanted]:
                why = _invalid(option, value)
                if why is not None:
                    errors.append(ctx.error(path, why))
    return errors
