"""Stage two of validation: cross-field rules, as plain functions in one registry.

Each check takes a :class:`RuleContext` (the resolved values, where each field is in the
file, and, for data-aware checks, a lazy view of the data files) and returns a list of
located :class:`~auditor.errors.SpecError`; an empty list means it passed. Register one
with ``@spec_rule("name")`` (``needs_data=True`` for checks that read data; they run only
when ``load_spec(..., check_data=True)``). The data-aware checks live in
:mod:`auditor.spec.data_rules`.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.errors import SpecError
from auditor.spec.schema import _located, fmt_value
from auditor.spec.suggest import did_you_mean
from auditor.spec.yamlio import Document

if TYPE_CHECKING:  # pragma: no cover
    from auditor.spec.data_rules import DataProbe

# --------------------------------------------------------------------------- metric groups
# The schema's enums must equal these groups (tests/spec/test_schema.py asserts it).
REGRESSION_METRICS: frozenset[str] = frozenset({"mae", "rmse", "r2", "mape"})
CLASSIFICATION_METRICS: frozenset[str] = frozenset(
    {
        "accuracy",
        "balanced_accuracy",
        "precision",
        "recall",
        "f1",
        "f1_macro",
        "f1_weighted",
        "roc_auc",
        "pr_auc",
        "log_loss",
        "brier",
        "ece",
    }
)
CLASSIFICATION_TASKS = ("binary", "multiclass")
ALL_TASKS = ("binary", "multiclass", "regression")
# Fairness metric -> the tasks it applies to.
FAIRNESS_TASKS: dict[str, tuple[str, ...]] = {
    "demographic_parity_difference": CLASSIFICATION_TASKS,
    "demographic_parity_ratio": CLASSIFICATION_TASKS,
    "equalized_odds_difference": CLASSIFICATION_TASKS,
    "equalized_odds_ratio": CLASSIFICATION_TASKS,
    "equal_opportunity_difference": CLASSIFICATION_TASKS,
    "worst_group_accuracy": CLASSIFICATION_TASKS,
    "accuracy_difference": CLASSIFICATION_TASKS,
    "mae_difference": ("regression",),
    "mean_prediction_difference": ALL_TASKS,
}
FAIRNESS_METRICS: frozenset[str] = frozenset(FAIRNESS_TASKS)
PERFORMANCE_METRICS: frozenset[str] = REGRESSION_METRICS | CLASSIFICATION_METRICS
# Metrics whose value is a share in [0, 1]; a bound outside it can never be decided.
# (Brier is not: the multiclass Brier score reaches 2.)
UNIT_INTERVAL_METRICS: frozenset[str] = frozenset(
    {
        "accuracy",
        "balanced_accuracy",
        "precision",
        "recall",
        "f1",
        "f1_macro",
        "f1_weighted",
        "roc_auc",
        "pr_auc",
        "ece",
        "demographic_parity_difference",
        "demographic_parity_ratio",
        "equalized_odds_difference",
        "equalized_odds_ratio",
        "equal_opportunity_difference",
        "worst_group_accuracy",
        "accuracy_difference",
    }
)


def metric_tasks(metric: str) -> tuple[str, ...]:
    """The tasks a performance or fairness metric applies to."""
    if metric in REGRESSION_METRICS:
        return ("regression",)
    if metric in CLASSIFICATION_METRICS:
        return CLASSIFICATION_TASKS
    return FAIRNESS_TASKS.get(metric, ALL_TASKS)


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
MSG_METRIC_REGRESSION_ONLY = "metric '{metric}' is for regression, but the task is '{task}'"
MSG_METRIC_CLASSIFICATION_ONLY = (
    "metric '{metric}' is for classification, but the task is regression "
    "(use one of mae, rmse, r2, mape)"
)
MSG_FAIRNESS_TASK = "fairness metric '{metric}' applies to {tasks} tasks, not {task}"
MSG_EXPECTED_COST_NEEDS_COSTS = "check 'expected_cost' needs evaluation.costs"
MSG_EXPECTED_COST_NOT_BINARY = "check 'expected_cost' applies only to binary tasks"
MSG_FAIRNESS_NEEDS_SENSITIVE = (
    "fairness metric '{metric}' needs 'sensitive': one of data.sensitive ({listed})"
)
MSG_FAIRNESS_NO_SENSITIVE = (
    "fairness metric '{metric}' needs 'sensitive', and data.sensitive lists no column"
)
MSG_SENSITIVE_NOT_LISTED = "'{name}' is not in data.sensitive ({listed}){hint}"
MSG_BOUND_UNIT = "must be between 0 and 1 for {metric} (a share, not a percentage), got {got}"
MSG_BOUNDS_CROSSED = "at_least ({low}) is above at_most ({high}): no value can pass"
MSG_HOLDOUT_SPLIT = "split 'holdout' needs data.holdout (a separate data file)"
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
# The vendor stage raises these same refusals at run time (auditor/vendor_models/ imports them);
# validate says them first, without loading anything.
MSG_PREDICTIONS_NEED_ID = (
    "format 'predictions' joins the vendor's predictions to the data by id: set "
    "data.id_column to the column identifying a row"
)
MSG_PICKLE_REFUSED = (
    "format 'pickle' is refused: unpickling runs arbitrary code from the file; ask the "
    "vendor for skops, ONNX or a predictions file, or set model.vendor.allow_pickle: true "
    "if you trust the file completely"
)

CheckFn = Callable[["RuleContext"], list[SpecError]]


@dataclass(frozen=True)
class SpecRule:
    name: str
    fn: CheckFn
    needs_data: bool = False


SPEC_RULES: dict[str, SpecRule] = {}


def spec_rule(name: str, *, needs_data: bool = False) -> Callable[[CheckFn], CheckFn]:
    """Register a check function under ``name`` (decorator)."""

    def register(fn: CheckFn) -> CheckFn:
        if name in SPEC_RULES:  # pragma: no cover - programming error
            raise ValueError(f"spec check {name!r} is registered twice")
        SPEC_RULES[name] = SpecRule(name=name, fn=fn, needs_data=needs_data)
        return fn

    return register


def get_spec_rule(name: str) -> SpecRule:
    """The registered check ``name``; an unknown name lists the available ones."""
    try:
        return SPEC_RULES[name]
    except KeyError:
        raise KeyError(
            f"unknown spec check {name!r}{did_you_mean(name, SPEC_RULES)}; "
            f"available: {', '.join(sorted(SPEC_RULES))}"
        ) from None


@dataclass
class RuleContext:
    """What a check sees: resolved values, positions, the spec's folder, the data."""

    values: dict[str, Any]
    doc: Document
    file: str | None
    base_dir: Path
    _probe: DataProbe | None = field(default=None, repr=False)

    @property
    def task(self) -> str:
        return self.values["objective"]["task"]

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
    """Run every registered check (data-aware ones only with ``check_data``)."""
    import auditor.spec.data_rules  # noqa: F401 - registers the data-aware checks

    errors: list[SpecError] = []
    for check in SPEC_RULES.values():
        if check.needs_data and not check_data:
            continue
        errors.extend(check.fn(ctx))
    return errors


# --------------------------------------------------------------------------- helpers
def _pct(x: float) -> str:
    return f"{x:g}"


def listed(names: list[str]) -> str:
    return ", ".join(names) if names else "none"


def metric_fit_errors(ctx: RuleContext, metric: str | None, path: tuple) -> list[SpecError]:
    """Errors when ``metric`` does not suit the task."""
    if metric is None:
        return []
    task = ctx.task
    tasks = metric_tasks(metric)
    if task in tasks:
        return []
    if metric in FAIRNESS_METRICS:
        shown = "classification" if tasks == CLASSIFICATION_TASKS else " and ".join(tasks)
        return [ctx.error(path, MSG_FAIRNESS_TASK.format(metric=metric, tasks=shown, task=task))]
    if task == "regression":
        return [ctx.error(path, MSG_METRIC_CLASSIFICATION_ONLY.format(metric=metric))]
    return [ctx.error(path, MSG_METRIC_REGRESSION_ONLY.format(metric=metric, task=task))]


# --------------------------------------------------------------------------- the checks
@spec_rule("split_leaves_training")
def check_split_fractions(ctx: RuleContext) -> list[SpecError]:
    split = ctx.values["data"]["split"]
    validation, test = split["validation"], split["test"]
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
    split = ctx.values["data"]["split"]
    needs = {"group": "group_column", "time": "time_column"}.get(split["strategy"])
    if needs and not split.get(needs):
        return [
            ctx.error(
                ("data", "split", "strategy"),
                MSG_SPLIT_NEEDS_COLUMN.format(strategy=split["strategy"], column=needs),
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
        and ctx.values["data"]["split"]["strategy"] == "stratified"
        and ctx.written(path)
    ):
        return [ctx.error(path, MSG_STRATIFIED_REGRESSION)]
    return []


@spec_rule("positive_names_a_class")
def check_positive(ctx: RuleContext) -> list[SpecError]:
    objective = ctx.values["objective"]
    if objective.get("positive") is not None and objective["task"] == "regression":
        return [ctx.error(("objective", "positive"), MSG_POSITIVE_REGRESSION)]
    return []


@spec_rule("target_not_a_feature")
def check_target_roles(ctx: RuleContext) -> list[SpecError]:
    data = ctx.values["data"]
    target = ctx.values["objective"]["target"]
    errors = []
    for field_name, role in (
        ("include", "a feature in data.include"),
        ("sensitive", "a sensitive column"),
    ):
        for i, name in enumerate(data[field_name]):
            if name == target:
                errors.append(
                    ctx.error(
                        ("data", field_name, i),
                        MSG_TARGET_AS_FEATURE.format(target=target, role=role),
                    )
                )
    if data.get("id_column") == target:
        errors.append(
            ctx.error(
                ("data", "id_column"),
                MSG_TARGET_AS_FEATURE.format(target=target, role="the id column"),
            )
        )
    return errors


@spec_rule("criteria")
def check_criteria(ctx: RuleContext) -> list[SpecError]:
    errors: list[SpecError] = []
    sensitive = list(ctx.values["data"]["sensitive"])
    has_holdout = bool(ctx.values["data"].get("holdout"))
    for i, criterion in enumerate(ctx.values.get("acceptance", [])):
        here = ("acceptance", i)
        metric = criterion.get("metric")
        errors += metric_fit_errors(ctx, metric, here + ("metric",))
        if metric in FAIRNESS_METRICS and not criterion.get("check"):
            if not criterion.get("sensitive"):
                message = (
                    MSG_FAIRNESS_NEEDS_SENSITIVE.format(metric=metric, listed=listed(sensitive))
                    if sensitive
                    else MSG_FAIRNESS_NO_SENSITIVE.format(metric=metric)
                )
                errors.append(ctx.error(here, message))
        if criterion.get("sensitive"):
            for part in str(criterion["sensitive"]).split("&"):
                name = part.strip()
                if name not in sensitive:
                    errors.append(
                        ctx.error(
                            here + ("sensitive",),
                            MSG_SENSITIVE_NOT_LISTED.format(
                                name=name,
                                listed=listed(sensitive),
                                hint=did_you_mean(name, sensitive),
                            ),
                        )
                    )
        if metric in UNIT_INTERVAL_METRICS and not criterion.get("check"):
            for bound in ("at_least", "at_most"):
                value = criterion.get(bound)
                if value is not None and not 0.0 <= value <= 1.0:
                    errors.append(
                        ctx.error(
                            here + (bound,),
                            MSG_BOUND_UNIT.format(metric=metric, got=fmt_value(value)),
                        )
                    )
        low, high = criterion.get("at_least"), criterion.get("at_most")
        if low is not None and high is not None and low > high:
            errors.append(
                ctx.error(here + ("at_most",), MSG_BOUNDS_CROSSED.format(low=low, high=high))
            )
        if criterion.get("check") == "expected_cost":
            if ctx.task != "binary":
                errors.append(ctx.error(here + ("check",), MSG_EXPECTED_COST_NOT_BINARY))
            elif not ctx.values["evaluation"].get("costs"):
                errors.append(ctx.error(here + ("check",), MSG_EXPECTED_COST_NEEDS_COSTS))
        if criterion.get("split") == "holdout" and not has_holdout:
            errors.append(ctx.error(here + ("split",), MSG_HOLDOUT_SPLIT))
        waiver = criterion.get("waiver")
        if waiver:
            try:
                _dt.date.fromisoformat(str(waiver["expires"]))
            except ValueError:
                errors.append(
                    ctx.error(
                        here + ("waiver", "expires"),
                        MSG_WAIVER_DATE.format(value=waiver["expires"]),
                    )
                )
    return errors


@spec_rule("evaluation_metrics_fit_task")
def check_evaluation_metrics(ctx: RuleContext) -> list[SpecError]:
    errors = []
    for j, metric in enumerate(ctx.values["evaluation"]["metrics"]):
        errors += metric_fit_errors(ctx, metric, ("evaluation", "metrics", j))
    return errors


@spec_rule("early_stopping_metric")
def check_early_stopping(ctx: RuleContext) -> list[SpecError]:
    metric = ctx.values["training"]["early_stopping"]["metric"]
    path = ("training", "early_stopping", "metric")
    if metric == EARLY_STOPPING_LOSS:
        return []
    if metric not in PERFORMANCE_METRICS:
        task_metrics = sorted(
            REGRESSION_METRICS if ctx.task == "regression" else CLASSIFICATION_METRICS
        )
        return [
            ctx.error(
                path,
                MSG_EARLY_STOPPING_METRIC.format(
                    metric=metric,
                    options=", ".join(task_metrics),
                    hint=did_you_mean(metric, [EARLY_STOPPING_LOSS, *sorted(PERFORMANCE_METRICS)]),
                ),
            )
        ]
    return metric_fit_errors(ctx, metric, path)


@spec_rule("threshold_strategy")
def check_threshold(ctx: RuleContext) -> list[SpecError]:
    evaluation = ctx.values["evaluation"]
    strategy = evaluation["threshold"]["strategy"]
    path = ("evaluation", "threshold", "strategy")
    if strategy != "fixed" and ctx.task != "binary":
        return [ctx.error(path, MSG_THRESHOLD_NOT_BINARY.format(task=ctx.task))]
    if strategy == "min_cost" and not evaluation.get("costs"):
        return [ctx.error(path, MSG_MIN_COST_NEEDS_COSTS)]
    return []


@spec_rule("imbalance_needs_classes")
def check_imbalance(ctx: RuleContext) -> list[SpecError]:
    path = ("data", "preprocessing", "imbalance")
    if ctx.task == "regression" and ctx.values["data"]["preprocessing"]["imbalance"] != "none":
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


@spec_rule("vendor_format_settings")
def check_vendor_format(ctx: RuleContext) -> list[SpecError]:
    vendor = (ctx.values.get("model") or {}).get("vendor")
    if not vendor:
        return []
    path = ("model", "vendor", "format")
    if vendor["format"] == "predictions" and not ctx.values["data"].get("id_column"):
        return [ctx.error(path, MSG_PREDICTIONS_NEED_ID)]
    if vendor["format"] == "pickle" and not vendor.get("allow_pickle"):
        return [ctx.error(path, MSG_PICKLE_REFUSED)]
    return []
