"""Stage two of validation: cross-field rules, as plain functions in one registry.

Each rule takes a :class:`RuleContext` (the typed resolved spec, where each field is in
the file, and, for data-aware rules, a lazy view of the data files) and returns a list of
located :class:`~auditor.errors.SpecError`; an empty list means it passed. Register one
with ``@spec_rule("name")`` (``needs_data=True`` for rules that read data; they run only
when ``load_spec(..., check_data=True)``). The data-aware rules live in
:mod:`auditor.spec.data_rules`, the tuning section's in :mod:`auditor.spec.tuning_rules`.

What a name means (the tasks a metric applies to, the values it can take, what a check
needs) is read from the catalogues: :mod:`auditor.metrics.performance`,
:mod:`auditor.metrics.fairness` and :mod:`auditor.checks.registry`.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from auditor.errors import SpecError
from auditor.spec.schema import _located, fmt_number, fmt_value
from auditor.spec.suggest import did_you_mean
from auditor.spec.yamlio import Document
from auditor.types import CLASSIFICATION

if TYPE_CHECKING:  # pragma: no cover
    from auditor.criteria import Criterion
    from auditor.spec.data_rules import DataProbe
    from auditor.spec.typed import SpecValues

EARLY_STOPPING_LOSS = "loss"
MIN_TRAIN_SHARE = 0.4

MSG_SPLIT_TOO_BIG = (
    "validation ({validation}) and test ({test}) leave {train}% of the rows for training; "
    "at least 40% must remain"
)
MSG_SPLIT_NEEDS_COLUMN = "strategy '{strategy}' needs data.split.{column}"
MSG_STRATIFIED_REGRESSION = (
    "a stratified split keeps class shares and needs a classification task; "
    "use 'random', 'group' or 'time' for regression"
)
MSG_POSITIVE_REGRESSION = "'positive' names a class, and a regression task has none"
MSG_METRIC_TASK = (
    "metric '{metric}' is for {tasks}, but the task is '{task}' (use one of {options})"
)
MSG_FAIRNESS_TASK = "fairness metric '{metric}' applies to {tasks} tasks, not {task}"
MSG_CHECK_TASK = "check '{check}' applies only to {tasks} tasks"
MSG_CHECK_NEEDS = "check '{check}' needs {setting}"
MSG_CHECK_TAKES_NO_METRIC = "check '{check}' is not measured in a metric; remove 'metric'"
MSG_CHECK_NEEDS_FEATURE = "check '{check}' is about one feature: add 'feature' (a feature column)"
MSG_FEATURE_UNUSED = (
    "'feature' names the column a check on drivers is about ({checks}); {what} takes none"
)
MSG_CHECK_SPLIT = (
    "check '{check}' is measured on {roles} splits, and '{split}' is not one; use {options}"
)
MSG_CHECK_METRIC = "check '{check}' is not measured in '{metric}'; use one of {options}"
MSG_FAIRNESS_NEEDS_SENSITIVE = (
    "fairness metric '{metric}' needs 'sensitive': one of data.sensitive ({listed})"
)
MSG_FAIRNESS_NO_SENSITIVE = (
    "fairness metric '{metric}' needs 'sensitive', and data.sensitive lists no column"
)
MSG_SENSITIVE_NOT_LISTED = "'{name}' is not in data.sensitive ({listed}){hint}"
MSG_BOUND_UNIT = "must be between 0 and 1 for {metric} (a share, not a percentage), got {got}"
MSG_BOUND_RANGE = "must be {range} for {metric}, which can take no other value, got {got}"
MSG_BOUNDS_CROSSED = "at_least ({low}) is above at_most ({high}): no value can pass"
MSG_HOLDOUT_SPLIT = "split 'holdout' needs data.holdout (a separate data file)"
MSG_UNKNOWN_SPLIT = "no split is called '{name}'; the data define {listed}{hint}"
MSG_NEEDS_DATA = (
    "data needs 'train' (a file to learn from, split into train, validation and test) or "
    "'audit' (files to audit a model on as they are)"
)
MSG_AUDIT_NEEDS_VENDOR = (
    "audit-only data train nothing: declare the model to audit in model.vendor (from "
    "Python: auditor.run(spec, model=...)), or give data.train to train one"
)
MSG_HOLDOUT_NEEDS_TRAIN = (
    "data.holdout is evaluated beside a split of data.train; with "
    "audit-only data list it under data.audit"
)
MSG_AUDIT_NAME_TAKEN = "the split name '{name}' is {why}; give this file another name"
MSG_THRESHOLD_NEEDS_ROWS = (
    "threshold strategy '{strategy}' chooses the threshold on the validation split, and "
    "audit-only data have none: set evaluation.threshold.chosen_on (a fraction of an audit "
    "file, or a file of its own)"
)
MSG_CHOSEN_ON_SPLIT = "'{name}' is not an audit file's split name ({listed}){hint}"
MSG_COMPARE_NEEDS = (
    "model.compare trains an in-house model beside the vendor's: it needs model.vendor and "
    "data.train (the client data to train it on)"
)
MSG_PREPROCESSED_NEEDS_FIT = (
    "input 'preprocessed' needs this spec's preprocessing fitted on development rows: give "
    "data.train or data.reference, or use input 'raw'"
)
MSG_WAIVER_DATE = "'{value}' is not a real date (YYYY-MM-DD)"
MSG_EARLY_STOPPING_METRIC = (
    "unknown metric '{metric}' for early stopping; use 'loss' or one of {options}{hint}"
)
MSG_MIN_COST_NEEDS_COSTS = "threshold strategy 'min_cost' needs evaluation.costs"
MSG_THRESHOLD_NOT_BINARY = (
    "a decision threshold strategy applies only to binary tasks (task is '{task}')"
)
MSG_IMBALANCE_REGRESSION = "class imbalance handling needs a classification task"
MSG_NOT_FINITE = "must be a finite number, got {got}"
MSG_TARGET_AS_FEATURE = "the target '{target}' cannot also be {role}"
# The vendor stage raises these same refusals at run time (auditor/vendor_models/ imports
# them); validate says them first, without loading anything.
MSG_PREDICTIONS_NEED_ID = (
    "format 'predictions' joins the vendor's predictions to the data by id: set "
    "data.id_column to the column identifying a row"
)
MSG_PICKLE_REFUSED = (
    "format 'pickle' is refused: unpickling runs arbitrary code from the file; ask the "
    "vendor for skops, ONNX or a predictions file, or set model.vendor.allow_pickle: true "
    "if you trust the file completely"
)

RuleFn = Callable[["RuleContext"], list[SpecError]]
#: Which objectives a rule is about: tabular tasks, generated text, language models, any
#: (or a tuple of them: the tuning rules judge tabular and language-model specs alike).
Kind = Literal["tabular", "text", "lm", "any"]
Applies = Kind | tuple[Kind, ...]


@dataclass(frozen=True)
class SpecRule:
    """One registered cross-field rule."""

    name: str
    fn: RuleFn
    needs_data: bool = False
    applies: Applies = "tabular"


SPEC_RULES: dict[str, SpecRule] = {}


def spec_rule(
    name: str, *, needs_data: bool = False, applies: Applies = "tabular"
) -> Callable[[RuleFn], RuleFn]:
    """Register a rule function under ``name`` (decorator); ``applies`` says for which
    objectives it runs (a generation spec is judged by the text rules alone)."""

    def register(fn: RuleFn) -> RuleFn:
        if name in SPEC_RULES:  # pragma: no cover - programming error
            raise ValueError(f"spec rule {name!r} is registered twice")
        SPEC_RULES[name] = SpecRule(name=name, fn=fn, needs_data=needs_data, applies=applies)
        return fn

    return register


def get_spec_rule(name: str) -> SpecRule:
    """The registered rule ``name``; an unknown name lists the available ones."""
    try:
        return SPEC_RULES[name]
    except KeyError:
        raise KeyError(
            f"unknown spec rule {name!r}{did_you_mean(name, SPEC_RULES)}; "
            f"available: {', '.join(sorted(SPEC_RULES))}"
        ) from None


@dataclass
class RuleContext:
    """What a rule sees: the resolved spec (typed), positions, the spec's folder, the data."""

    values: dict[str, Any]
    doc: Document
    file: str | None
    base_dir: Path
    _probe: DataProbe | None = field(default=None, repr=False)

    @cached_property
    def spec(self) -> SpecValues:
        """The resolved spec as typed, frozen values."""
        from auditor.spec.typed import typed_spec

        return typed_spec(self.values)

    @property
    def task(self) -> str:
        return self.spec.objective.task

    @property
    def probe(self) -> DataProbe:
        if self._probe is None:
            from auditor.spec.data_rules import DataProbe

            self._probe = DataProbe(self)
        return self._probe

    def resolve_path(self, relative: str) -> Path:
        """A path from the spec, relative to the spec's folder (as ``Spec.resolve_path``)."""
        p = Path(relative).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def written(self, path: tuple) -> bool:
        """Whether the field was written in the file (not filled by a default)."""
        return tuple(path) in self.doc.positions

    def error(self, path: tuple, message: str, *, key: bool = False) -> SpecError:
        """A SpecError at the spec field ``path`` (its nearest written ancestor)."""
        return _located(self.doc, self.file, tuple(path), message, key=key)


def run_spec_rules(ctx: RuleContext, *, check_data: bool) -> list[SpecError]:
    """Run every registered rule (data-aware ones only with ``check_data``)."""
    import auditor.spec.data_rules  # noqa: F401 - registers the data-aware rules
    import auditor.spec.lm_generation_rules  # noqa: F401 - registers the answers' rules
    import auditor.spec.lm_rules  # noqa: F401 - registers the language-model rules
    import auditor.spec.lm_tuning_rules  # noqa: F401 - registers a language model's search
    import auditor.spec.text_classifier_rules  # noqa: F401 - registers the text classifier's
    import auditor.spec.text_models_rules  # noqa: F401 - registers the local-model rules
    import auditor.spec.text_rules  # noqa: F401 - registers the generated-text rules
    import auditor.spec.tuning_rules  # noqa: F401 - registers the tuning rules
    from auditor.types import LM_TASKS, TEXT_TASKS

    kind = "text" if ctx.task in TEXT_TASKS else "lm" if ctx.task in LM_TASKS else "tabular"
    errors: list[SpecError] = []
    for rule in SPEC_RULES.values():
        if rule.needs_data and not check_data:
            continue
        kinds = (rule.applies,) if isinstance(rule.applies, str) else rule.applies
        if kind not in kinds and "any" not in kinds:
            continue
        errors.extend(rule.fn(ctx))
    return errors


# --------------------------------------------------------------------------- helpers
def _pct(x: float) -> str:
    return f"{x:g}"


def listed(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "none"


def tasks_words(tasks: Sequence[str]) -> str:
    """'classification', 'regression', 'binary'."""
    return "classification" if tuple(tasks) == CLASSIFICATION else " and ".join(tasks)


def range_words(low: float | None, high: float | None) -> str:
    """'between 0 and 2', 'at least 0', 'at most 1'."""
    if low is not None and high is not None:
        return f"between {fmt_number(low)} and {fmt_number(high)}"
    return f"at least {fmt_number(low)}" if low is not None else f"at most {fmt_number(high)}"


def metric_fit_errors(ctx: RuleContext, metric: str | None, path: tuple) -> list[SpecError]:
    """Errors when a performance or fairness ``metric`` does not suit the task."""
    from auditor.metrics import METRICS, metric_names
    from auditor.metrics.fairness import FAIRNESS_METRICS

    entry = METRICS.get(metric or "") or FAIRNESS_METRICS.get(metric or "")
    if entry is None or ctx.task in entry.tasks:
        return []
    if metric in FAIRNESS_METRICS:
        message = MSG_FAIRNESS_TASK.format(
            metric=metric, tasks=tasks_words(entry.tasks), task=ctx.task
        )
    else:
        message = MSG_METRIC_TASK.format(
            metric=metric,
            tasks=tasks_words(entry.tasks),
            task=ctx.task,
            options=", ".join(metric_names(ctx.task)),
        )
    return [ctx.error(path, message)]


# --------------------------------------------------------------------------- the rules
@spec_rule("split_leaves_training")
def check_split_fractions(ctx: RuleContext) -> list[SpecError]:
    split = ctx.spec.data.split
    validation, test = split.validation, split.test
    if 1.0 - validation - test >= MIN_TRAIN_SHARE - 1e-9:
        return []
    path = ("data", "split", "test")
    if not ctx.written(path):
        path = ("data", "split", "validation")
    train = round(100 * (1.0 - validation - test), 1)
    return [
        ctx.error(
            path,
            MSG_SPLIT_TOO_BIG.format(
                validation=_pct(validation), test=_pct(test), train=_pct(train)
            ),
        )
    ]


@spec_rule("split_strategy_columns")
def check_split_columns(ctx: RuleContext) -> list[SpecError]:
    split = ctx.spec.data.split
    needs = {"group": "group_column", "time": "time_column"}.get(split.strategy)
    if needs and not getattr(split, needs):
        return [
            ctx.error(
                ("data", "split", "strategy"),
                MSG_SPLIT_NEEDS_COLUMN.format(strategy=split.strategy, column=needs),
            )
        ]
    return []


@spec_rule("stratified_needs_classes")
def check_stratified(ctx: RuleContext) -> list[SpecError]:
    path = ("data", "split", "strategy")
    # The default strategy is 'stratified'; only a strategy written by the user is wrong
    # for regression (the data stage splits a regression target at random by default).
    if (
        ctx.task == "regression"
        and ctx.spec.data.split.strategy == "stratified"
        and ctx.written(path)
    ):
        return [ctx.error(path, MSG_STRATIFIED_REGRESSION)]
    return []


@spec_rule("positive_names_a_class")
def check_positive(ctx: RuleContext) -> list[SpecError]:
    if ctx.spec.objective.positive is not None and ctx.task == "regression":
        return [ctx.error(("objective", "positive"), MSG_POSITIVE_REGRESSION)]
    return []


@spec_rule("target_not_a_feature")
def check_target_roles(ctx: RuleContext) -> list[SpecError]:
    data = ctx.spec.data
    target = ctx.spec.objective.target
    errors = []
    for field_name, role in (
        ("include", "a feature in data.include"),
        ("sensitive", "a sensitive column"),
    ):
        for i, name in enumerate(getattr(data, field_name)):
            if name == target:
                errors.append(
                    ctx.error(
                        ("data", field_name, i),
                        MSG_TARGET_AS_FEATURE.format(target=target, role=role),
                    )
                )
    if data.id_column == target:
        errors.append(
            ctx.error(
                ("data", "id_column"),
                MSG_TARGET_AS_FEATURE.format(target=target, role="the id column"),
            )
        )
    return errors


def _setting_present(ctx: RuleContext, dotted: str) -> bool:
    value: Any = ctx.spec
    for part in dotted.split("."):
        value = getattr(value, part, None)
    return value is not None


def _check_criterion_errors(ctx: RuleContext, c: Criterion, here: tuple) -> list[SpecError]:
    """What the check catalogue says about a criterion on a check."""
    from auditor.checks import get_check
    from auditor.metrics import METRICS

    check = get_check(c.check)
    at = here + ("check",)
    if ctx.task not in check.tasks:
        return [ctx.error(at, MSG_CHECK_TASK.format(check=c.check, tasks=tasks_words(check.tasks)))]
    for setting in check.requires:
        if not _setting_present(ctx, setting):
            return [ctx.error(at, MSG_CHECK_NEEDS.format(check=c.check, setting=setting))]
    if check.roles is not None and check.per_split:
        options = [s for s in defined_splits(ctx.spec) if split_role(ctx.spec, s) in check.roles]
        if split_role(ctx.spec, c.split) not in check.roles:
            message = MSG_CHECK_SPLIT.format(
                check=c.check,
                roles=" or ".join(check.roles),
                split=c.split,
                options=listed(options) if options else "a split of data.holdout or data.audit",
            )
            return [ctx.error(here + ("split",), message)]
    if c.metric is None or c.metric not in METRICS:
        return []
    if check.measured_in is None:
        return [ctx.error(here + ("metric",), MSG_CHECK_TAKES_NO_METRIC.format(check=c.check))]
    if not check.measured_in(METRICS[c.metric]):
        options = [m.name for m in METRICS.values() if check.measured_in(m)]
        options = [n for n in options if METRICS[n].applies_to(ctx.task)]
        message = MSG_CHECK_METRIC.format(check=c.check, metric=c.metric, options=listed(options))
        return [ctx.error(here + ("metric",), message)]
    return []


def _value_range(c: Criterion) -> tuple[str, tuple[float | None, float | None]] | None:
    """(what, range) the criterion's value lies in, from the catalogues (None: unbounded)."""
    from auditor.checks import get_check
    from auditor.metrics import METRICS
    from auditor.metrics.fairness import FAIRNESS_METRICS

    if c.check:
        what, value_range = c.check, get_check(c.check).value_range
    else:
        entry = METRICS.get(c.metric or "") or FAIRNESS_METRICS.get(c.metric or "")
        if entry is None:
            return None
        what, value_range = c.metric, entry.value_range
    if c.change:  # the difference of two values in [low, high] lies in [low - high, high - low]
        low, high = value_range
        spread = None if low is None or high is None else high - low
        return f"the change in {what}", (None, None) if spread is None else (-spread, spread)
    return what, value_range


def _bound_errors(ctx: RuleContext, c: Criterion, here: tuple) -> list[SpecError]:
    errors = []
    what_range = _value_range(c)
    if what_range is not None and what_range[1] != (None, None):
        what, (low, high) = what_range
        for bound in c.bounds:
            inside = (low is None or bound.value >= low) and (high is None or bound.value <= high)
            if inside or not math.isfinite(bound.value):  # .nan and .inf: check_finite says it
                continue
            template = MSG_BOUND_UNIT if (low, high) == (0.0, 1.0) else MSG_BOUND_RANGE
            message = template.format(
                metric=what, range=range_words(low, high), got=fmt_value(bound.value)
            )
            errors.append(ctx.error(here + (bound.direction,), message))
    if c.at_least is not None and c.at_most is not None and c.at_least > c.at_most:
        errors.append(
            ctx.error(
                here + ("at_most",), MSG_BOUNDS_CROSSED.format(low=c.at_least, high=c.at_most)
            )
        )
    return errors


def _sensitive_errors(ctx: RuleContext, c: Criterion, here: tuple) -> list[SpecError]:
    sensitive = list(ctx.spec.data.sensitive)
    errors = []
    if c.kind == "fairness" and not c.sensitive:
        message = (
            MSG_FAIRNESS_NEEDS_SENSITIVE.format(metric=c.metric, listed=listed(sensitive))
            if sensitive
            else MSG_FAIRNESS_NO_SENSITIVE.format(metric=c.metric)
        )
        errors.append(ctx.error(here, message))
    for part in str(c.sensitive or "").split("&") if c.sensitive else []:
        name = part.strip()
        if name not in sensitive:
            errors.append(
                ctx.error(
                    here + ("sensitive",),
                    MSG_SENSITIVE_NOT_LISTED.format(
                        name=name, listed=listed(sensitive), hint=did_you_mean(name, sensitive)
                    ),
                )
            )
    return errors


def _feature_errors(ctx: RuleContext, c: Criterion, here: tuple) -> list[SpecError]:
    """A check on drivers names its feature; no other criterion does (the column's
    existence is a data-aware rule: ``data_columns_exist``)."""
    from auditor.importance import FEATURE_CHECKS

    feature = getattr(c, "feature", None)
    if c.check in FEATURE_CHECKS and not feature:
        return [ctx.error(here, MSG_CHECK_NEEDS_FEATURE.format(check=c.check))]
    if feature and c.check not in FEATURE_CHECKS:
        checks = ", ".join(FEATURE_CHECKS)
        what = f"check '{c.check}'" if c.check else f"metric '{c.metric}'"
        message = MSG_FEATURE_UNUSED.format(checks=checks, what=what)
        return [ctx.error(here + ("feature",), message)]
    return []


MSG_BASELINE_TASK = (
    "baseline '{baseline}' is not one of a {task} model's baselines (use one of {allowed})"
)
MSG_BASELINE_UNUSED = (
    "'baseline' names what check 'baseline_improvement' compares with; {what} takes none"
)


def _baseline_errors(ctx: RuleContext, c: Criterion, here: tuple) -> list[SpecError]:
    """A criterion's ``baseline``: only on baseline_improvement, one the task has."""
    from auditor.evaluate import TRIVIAL_BASELINES

    baseline = getattr(c, "baseline", None)
    if not baseline:
        return []
    if c.check != "baseline_improvement":
        what = f"check '{c.check}'" if c.check else f"metric '{c.metric}'"
        return [ctx.error(here + ("baseline",), MSG_BASELINE_UNUSED.format(what=what))]
    task = ctx.task
    allowed = [*TRIVIAL_BASELINES.get(task, ()), "linear"]
    if baseline not in allowed:
        message = MSG_BASELINE_TASK.format(baseline=baseline, task=task, allowed=", ".join(allowed))
        return [ctx.error(here + ("baseline",), message)]
    return []


@spec_rule("criteria")
def check_criteria(ctx: RuleContext) -> list[SpecError]:
    errors: list[SpecError] = []
    for i, c in enumerate(ctx.spec.acceptance):
        here = ("acceptance", i)
        errors += metric_fit_errors(ctx, c.metric, here + ("metric",))
        errors += _sensitive_errors(ctx, c, here)
        errors += _bound_errors(ctx, c, here)
        if c.check:
            errors += _check_criterion_errors(ctx, c, here)
        errors += _feature_errors(ctx, c, here)
        errors += _baseline_errors(ctx, c, here)
        if ctx.spec.data.train or ctx.spec.data.audit:  # else data_sources says what is wrong
            errors += _split_errors(ctx, c.split, here + ("split",))
        if c.waiver is not None:
            try:
                _dt.date.fromisoformat(str(c.waiver.expires))
            except ValueError:
                errors.append(
                    ctx.error(
                        here + ("waiver", "expires"),
                        MSG_WAIVER_DATE.format(value=c.waiver.expires),
                    )
                )
    return errors


def defined_splits(spec: SpecValues) -> list[str]:
    """The splits the spec's data define, by name (criteria may name any of them)."""
    data = spec.data
    names = ["train", "validation", "test"] if data.train else []
    names += ["holdout"] if data.holdout else []
    names += [a.name for a in data.audit]
    names += ["reference"] if data.reference is not None else []
    return names


def split_role(spec: SpecValues, name: str) -> str:
    """What a split the spec names is for (audit files' names are 'audit' splits)."""
    return "audit" if name in {a.name for a in spec.data.audit} else name


def _split_errors(ctx: RuleContext, name: str, path: tuple) -> list[SpecError]:
    names = defined_splits(ctx.spec)
    if name in names:
        return []
    if name == "holdout" and ctx.spec.data.train:
        return [ctx.error(path, MSG_HOLDOUT_SPLIT)]
    return [
        ctx.error(
            path,
            MSG_UNKNOWN_SPLIT.format(
                name=name, listed=listed(names), hint=did_you_mean(name, names)
            ),
        )
    ]


@spec_rule("data_sources")
def check_data_sources(ctx: RuleContext) -> list[SpecError]:
    """Train or audit files; audit-only data audit a vendor's model; names are unique."""
    from auditor.splits import RESERVED

    data = ctx.spec.data
    if not data.train and not data.audit:
        return [ctx.error(("data",), MSG_NEEDS_DATA)]
    errors = []
    if not data.train:
        if ctx.spec.model.vendor is None:
            errors.append(ctx.error(("data", "audit"), MSG_AUDIT_NEEDS_VENDOR))
        if data.holdout:
            errors.append(ctx.error(("data", "holdout"), MSG_HOLDOUT_NEEDS_TRAIN))
    seen: set[str] = set()
    for i, entry in enumerate(data.audit):
        why = (
            "reserved for a split of its own"
            if entry.name in RESERVED
            else "already taken by another audit file"
            if entry.name in seen
            else None
        )
        if why:
            errors.append(
                ctx.error(
                    ("data", "audit", i), MSG_AUDIT_NAME_TAKEN.format(name=entry.name, why=why)
                )
            )
        seen.add(entry.name)
    return errors


@spec_rule("evaluation_metrics_fit_task")
def check_evaluation_metrics(ctx: RuleContext) -> list[SpecError]:
    errors = []
    for j, metric in enumerate(ctx.spec.evaluation.metrics):
        errors += metric_fit_errors(ctx, metric, ("evaluation", "metrics", j))
    return errors


@spec_rule("early_stopping_metric")
def check_early_stopping(ctx: RuleContext) -> list[SpecError]:
    from auditor.metrics import METRICS, metric_names

    metric = ctx.spec.training.early_stopping.metric
    path = ("training", "early_stopping", "metric")
    if metric == EARLY_STOPPING_LOSS:
        return []
    if metric not in METRICS:
        return [
            ctx.error(
                path,
                MSG_EARLY_STOPPING_METRIC.format(
                    metric=metric,
                    options=", ".join(sorted(metric_names(ctx.task))),
                    hint=did_you_mean(metric, [EARLY_STOPPING_LOSS, *sorted(METRICS)]),
                ),
            )
        ]
    return metric_fit_errors(ctx, metric, path)


@spec_rule("threshold_strategy")
def check_threshold(ctx: RuleContext) -> list[SpecError]:
    evaluation = ctx.spec.evaluation
    strategy = evaluation.threshold.strategy
    path = ("evaluation", "threshold", "strategy")
    if strategy != "fixed" and ctx.task != "binary":
        return [ctx.error(path, MSG_THRESHOLD_NOT_BINARY.format(task=ctx.task))]
    if strategy == "min_cost" and evaluation.costs is None:
        return [ctx.error(path, MSG_MIN_COST_NEEDS_COSTS)]
    chosen = evaluation.threshold.chosen_on
    audits = [a.name for a in ctx.spec.data.audit]
    if strategy != "fixed" and not ctx.spec.data.train and chosen is None:
        return [ctx.error(path, MSG_THRESHOLD_NEEDS_ROWS.format(strategy=strategy))]
    if chosen is not None and chosen.path is None and chosen.split not in audits:
        at = ("evaluation", "threshold", "chosen_on", "split")
        return [
            ctx.error(
                at,
                MSG_CHOSEN_ON_SPLIT.format(
                    name=chosen.split,
                    listed=listed(audits),
                    hint=did_you_mean(str(chosen.split), audits),
                ),
            )
        ]
    return []


@spec_rule("imbalance_needs_classes")
def check_imbalance(ctx: RuleContext) -> list[SpecError]:
    path = ("data", "preprocessing", "imbalance")
    if ctx.task == "regression" and ctx.spec.data.preprocessing.imbalance != "none":
        return [ctx.error(path, MSG_IMBALANCE_REGRESSION)]
    return []


@spec_rule("finite_numbers")
def check_finite(ctx: RuleContext) -> list[SpecError]:
    """``.nan`` and ``.inf`` are YAML numbers but never meaningful settings or bounds."""
    errors: list[SpecError] = []

    def walk(value: Any, path: tuple) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            errors.append(ctx.error(path, MSG_NOT_FINITE.format(got=fmt_value(value))))
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, path + (key,))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, path + (i,))

    walk(ctx.doc.values, ())
    return errors


@spec_rule("compare_needs_vendor_and_training")
def check_compare(ctx: RuleContext) -> list[SpecError]:
    spec = ctx.spec
    if spec.model.compare != "none" and (spec.model.vendor is None or not spec.data.train):
        return [ctx.error(("model", "compare"), MSG_COMPARE_NEEDS)]
    return []


@spec_rule("vendor_format_settings")
def check_vendor_format(ctx: RuleContext) -> list[SpecError]:
    vendor = ctx.spec.model.vendor
    if vendor is None:
        return []
    path = ("model", "vendor", "format")
    if vendor.format == "predictions" and not ctx.spec.data.id_column:
        return [ctx.error(path, MSG_PREDICTIONS_NEED_ID)]
    if vendor.format == "pickle" and not vendor.allow_pickle:
        return [ctx.error(path, MSG_PICKLE_REFUSED)]
    data = ctx.spec.data
    if vendor.input == "preprocessed" and not data.train and data.reference is None:
        return [ctx.error(("model", "vendor", "input"), MSG_PREPROCESSED_NEEDS_FIT)]
    return []


MSG_DISTRIBUTED_VENDOR = (
    "data-parallel training trains a model, and a vendor's model (model.vendor) is audited "
    "as it is: remove training.distributed"
)
MSG_DISTRIBUTED_NCCL_CPU = (
    "backend 'nccl' needs CUDA devices, and training.device is 'cpu': use gloo or auto"
)


@spec_rule("distributed_settings", applies=("tabular", "lm"))
def check_distributed(ctx: RuleContext) -> list[SpecError]:
    """``training.distributed``: a model to train, and a backend its device can use (the
    launch itself is checked when torchrun starts the processes, ``train.distributed``)."""
    training = ctx.spec.training
    if training.distributed is None:
        return []
    if ctx.spec.model.vendor is not None:
        return [ctx.error(("training", "distributed"), MSG_DISTRIBUTED_VENDOR, key=True)]
    if training.distributed.backend == "nccl" and training.device == "cpu":
        return [ctx.error(("training", "distributed", "backend"), MSG_DISTRIBUTED_NCCL_CPU)]
    return []
