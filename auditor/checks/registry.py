"""The check catalogue: every check registered once, with the properties every stage reads.

A check is a pure function ``check(ctx) -> list[Finding]`` of a :class:`CheckContext`
(the resolved spec, the dataset, the evaluation, and the check's own catalogue entry; the
context memoises the bootstrap estimates several checks share). Checks measure: they hold
no thresholds and compare nothing themselves. A diagnostic bound comes from
``evaluation.diagnostics`` through :meth:`CheckContext.diagnostic` and is judged by
:func:`auditor.judge.judge`; acceptance bounds are judged by the verdict.

The catalogue says, for each check, what validation and the verdict need to know: whether
a criterion may bound its value (``bounded``; those names are the schema's criterion
``check`` enum), the tasks it applies to, the spec settings it needs, whether its findings
are per split, which metrics it is measured in, and the label a criterion on it reads.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from auditor.judge import Bound, Direction, judge
from auditor.splits import CLIENT_ROLES, EVALUATED_ROLES, bootstrap_seed, split_phrase
from auditor.types import TASKS, Category, Dataset, Evaluation, Finding, Spec

if TYPE_CHECKING:  # pragma: no cover
    from auditor.metrics.performance import Metric

UNKNOWN_CHECK = "Unknown check {name!r}. Available checks: {available}."
CHECK_FAILED = "The check {name!r} could not run: {error}"

#: Which way each ``evaluation.diagnostics`` setting bounds its figure (the schema's
#: diagnostics properties, exactly; a test keeps the two equal). None: the setting is a
#: level that informs a finding (more data would help) rather than a bound it can break.
DIAGNOSTIC_DIRECTIONS: dict[str, Direction | None] = {
    "suspicious_score": "at_most",
    "single_feature_auc": "at_most",
    "generalization_gap": "at_most",
    "max_missing_rate": "at_most",
    "max_duplicate_rate": "at_most",
    "min_class_share": "at_least",
    "baseline_margin": "at_least",
    "max_fold_spread": "at_most",
    "max_outlier_rate": "at_most",
    "overfitting_rise": "at_most",
    "learning_curve_gain": None,
    "max_fairness_difference": "at_most",
    "min_fairness_ratio": "at_least",
    "max_numeric_drift": "at_most",
    "max_categorical_drift": "at_most",
    "max_domain_auc": "at_most",
    "max_prior_shift": "at_most",
    "max_group_share_shift": "at_most",
    "max_unseen_share": "at_most",
    "max_performance_drop": "at_most",
    "max_group_calibration_error": "at_most",
    "max_memorized_rate": "at_most",
    "max_contamination_rate": "at_most",
}


@dataclass(frozen=True)
class At:
    """Where a finding was measured: in a metric, on a split, across a sensitive feature.

    Given as part of a finding's key, each part that is set is both in the id
    (``fit.generalization_gap.f1.test``) and in the finding's field of that name.
    """

    metric: str | None = None
    split: str | None = None
    sensitive: str | None = None

    def parts(self) -> list[str]:
        """The parts that are set, in id order (metric, split, sensitive feature)."""
        return [p for p in (self.metric, self.split, self.sensitive) if p]

    def fields(self) -> dict[str, str]:
        """The finding fields the parts that are set fill."""
        return {k: v for k, v in vars(self).items() if v}


@dataclass(frozen=True)
class Measurement:
    """What a check measured: a value, its interval, the rows, and the bound that judges it.

    ``bound`` is the diagnostic bound from ``evaluation.diagnostics`` (None: the value only
    informs, or only a criterion judges it).
    """

    value: float | None
    ci: tuple[float, float] | None = None
    n: int | None = None
    bound: Bound | None = None
    replicates: Any = field(default=None, repr=False)  # (B,) bootstrap replicates, if any


class UnknownCheckError(ValueError):
    """A check name that is not in the registry."""


def any_metric(metric: Metric) -> bool:
    """Every performance metric (for checks measured in the metric a criterion names)."""
    return True


@dataclass(frozen=True, kw_only=True)
class Check:
    """One catalogued check.

    Attributes
    ----------
    name : str
        Catalogue name (``generalization_gap``).
    category : {"data", "fit", "performance", "fairness"}
        Where the report shows it.
    fn : callable
        ``fn(ctx) -> list[Finding]``.
    label : str
        What it measures, as a criterion on it reads (``Generalization gap``).
    description : str
        One sentence for the schema and the docs.
    bounded : bool
        Whether an acceptance criterion may bound its value (``{check: name}``).
    per_split : bool
        Whether its findings are per split (a criterion's ``split`` then selects one).
    tasks : tuple of str
        The tasks it applies to: by default the tabular ones (binary, multiclass,
        regression); the generated-text checks (``auditor.checks.text_*``) give
        ``TEXT_TASKS``. :func:`~auditor.checks.run_checks` runs only a check of the spec's
        task, and a criterion on a check of another task is refused.
    requires : tuple of str
        Spec settings (dotted) it needs; a criterion on it without them is refused.
    measured_in : callable or None
        For checks measured in a performance metric: which metrics (``Metric -> bool``);
        None when the check takes no metric.
    value_range : (float or None, float or None)
        The values it measures; a criterion's bound outside them can never be decided.
    where : str
        Where a criterion on it is measured, in words (``{where}``: the split as a sentence
        names it, "the test split"; ``{split}``: its adjective, "training"); unused when
        the check is not per split.
    roles : tuple of str or None
        The roles of the splits it measures (``holdout``, ``audit``, ...); None: any split.
    """

    name: str
    category: Category
    fn: Callable[[CheckContext], list[Finding]]
    label: str
    description: str
    bounded: bool = False
    per_split: bool = True
    tasks: tuple[str, ...] = TASKS
    requires: tuple[str, ...] = ()
    measured_in: Callable[[Metric], bool] | None = None
    value_range: tuple[float | None, float | None] = (None, None)
    where: str = "on {where}"
    roles: tuple[str, ...] | None = None


CHECKS: dict[str, Check] = {}


def register(name: str, category: Category, *, label: str, description: str, **properties: Any):
    """Decorator: catalogue ``fn`` as the check ``name`` (properties: see :class:`Check`)."""

    def wrap(fn: Callable[[CheckContext], list[Finding]]):
        if name in CHECKS:  # pragma: no cover - registration happens once, at import
            raise ValueError(f"check {name!r} registered twice")
        check = Check(
            name=name, category=category, fn=fn, label=label, description=description, **properties
        )
        CHECKS[name] = check

        @functools.wraps(fn)
        def bound(ctx: CheckContext) -> list[Finding]:
            """The check run with its own catalogue entry in the context."""
            return fn(ctx.for_check(check))

        return bound

    return wrap


def get_check(name: str) -> Check:
    """The catalogued check ``name``; an unknown name lists the available ones."""
    try:
        return CHECKS[name]
    except KeyError:
        raise UnknownCheckError(
            UNKNOWN_CHECK.format(name=name, available=", ".join(CHECKS))
        ) from None


def criterion_checks() -> list[str]:
    """Names of checks whose value an acceptance criterion can bound (schema enum)."""
    return [c.name for c in CHECKS.values() if c.bounded]


# ---------------------------------------------------------------------- context
# Binary wrong decisions per decision (false positives, false negatives), for the cost of
# errors: computed from the same weighted sums and resamples as the metrics.
_ERROR_RATES = {
    "false_positive_rate": lambda s: (s["pred1"] - s["tp1"]) / np.maximum(s["n"], 1e-12),
    "false_negative_rate": lambda s: (s["y1"] - s["tp1"]) / np.maximum(s["n"], 1e-12),
}


@dataclass
class CheckContext:
    """What a check reads (spec, dataset, evaluation) and how it builds its findings.

    ``check`` is the running check's catalogue entry (:func:`auditor.checks.run_checks`
    gives each check its own context through :meth:`for_check`, sharing the memo).
    """

    spec: Spec
    dataset: Dataset
    evaluation: Evaluation
    check: Check | None = None
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False)

    def for_check(self, check: Check) -> CheckContext:
        """The same context for ``check`` (the memoised estimates are shared)."""
        return replace(self, check=check)

    # -- spec sections
    @property
    def settings(self):
        """The typed ``evaluation`` section of the spec."""
        return self.spec.evaluation

    @property
    def confidence(self) -> float:
        """The level of every interval (``evaluation.confidence``)."""
        return float(self.settings.confidence)

    @property
    def resamples(self) -> int:
        """Bootstrap resamples (``evaluation.bootstrap``; 0: no intervals)."""
        return int(self.settings.bootstrap)

    @property
    def min_group_size(self) -> int:
        """Rows a group needs to be judged (``evaluation.min_group_size``)."""
        return int(self.settings.min_group_size)

    @property
    def addressee(self):
        """Whom the steps about a model not trained here address (the vendor; the caller).

        The caller for a model given in memory: :func:`auditor.words.addressee`.
        """
        from auditor.words import addressee_of

        return addressee_of(self.spec)

    @property
    def criteria(self):
        """The spec's acceptance criteria (typed)."""
        return self.spec.acceptance

    @property
    def task(self) -> str:
        """The evaluation's task."""
        return self.evaluation.task

    @property
    def has_scores(self) -> bool:
        """Whether the predictor gives scores (not labels only)."""
        return bool(self.evaluation.has_scores)

    def seed(self, split: str, purpose: int) -> int:
        """Bootstrap seed for one split and purpose (deterministic, distinct)."""
        return bootstrap_seed(self.settings.seed, split, purpose)

    def cell_draws(self, rows: int) -> bool:
        """Whether resampled per-cell sums of ``rows`` rows are drawn from cell totals.

        Above :data:`~auditor.metrics.cell_bootstrap.ATOM_ROWS` rows, unless the run
        compares two models on the same rows (``model.compare``, the tuning gain), whose
        replicates must then share the row-by-row weights to be paired.
        """
        from auditor.metrics.cell_bootstrap import ATOM_ROWS

        paired = self.spec.model.compare != "none" or bool(self.evaluation.untuned)
        return rows >= ATOM_ROWS and not paired

    def splits(self) -> list[str]:
        """The evaluated splits, in the dataset's order."""
        return list(self.evaluation.splits)

    def phrase(self, split: str | None) -> str:
        """How a sentence names a split: 'the test split', 'the client, 2026 Q3 data'."""
        return split_phrase(split, self.dataset.split_labels.get(split or ""))

    def role(self, split: str) -> str:
        """What a split is for: train, validation, test, holdout, audit, reference."""
        return self.dataset.split_roles.get(split, split)

    def evaluated_splits(self) -> list[str]:
        """The splits a fit figure is judged on: validation and the client's splits."""
        return [s for s in self.splits() if self.role(s) in EVALUATED_ROLES]

    def client_splits(self) -> list[str]:
        """The evaluated splits of the data audited as the client's: test, holdout, audit."""
        return [s for s in self.splits() if self.role(s) in CLIENT_ROLES]

    def criterion_metrics(self, *, check: str | None = None) -> list[str]:
        """Metrics named by criteria (all of them, or those of criteria on ``check``)."""
        out = []
        for c in self.criteria:
            if check is not None and c.check != check:
                continue
            if c.metric and c.metric not in out:
                out.append(c.metric)
        return out

    # -- judging against the diagnostics
    def diagnostic(self, setting: str) -> Bound:
        """The ``evaluation.diagnostics`` bound called ``setting``."""
        direction = DIAGNOSTIC_DIRECTIONS[setting]
        if direction is None:  # pragma: no cover - a level, not a bound
            raise KeyError(f"diagnostics.{setting} is not a bound")
        return Bound(float(getattr(self.settings.diagnostics, setting)), direction)

    def diagnose(self, value: float, bound: Bound) -> str:
        """``pass`` or ``warn``: a diagnostic's value judged against its bound."""
        return judge(value, None, [bound], breach="warn").status

    # -- building findings
    def finding(
        self, *key: Any, measured: Measurement | None = None, bound: Bound | None = None, **fields
    ) -> Finding:
        """A finding of the running check; its id is the category and ``key``.

        A key part that is an :class:`At` also sets the finding's metric, split and
        sensitive feature. ``measured`` gives the value, its interval, the rows and the
        diagnostic bound; the
        status, when not given, is the value judged against that bound (``pass`` without
        one). ``bound`` alone fills ``threshold`` and ``direction``. Every other field is
        :class:`~auditor.types.Finding`'s.
        """
        if measured is not None:
            bound = measured.bound
            fields.update(
                value=measured.value, ci=measured.ci, n=measured.n, replicates=measured.replicates
            )
            if "status" not in fields:
                fields["status"] = "pass" if bound is None else self.diagnose(measured.value, bound)
        if bound is not None:
            fields.setdefault("threshold", bound.value)
            fields.setdefault("direction", bound.direction)
        parts = [self.check.category]
        for k in key:
            if isinstance(k, At):
                parts += k.parts()
                fields.update(k.fields())
            else:
                parts.append(str(k))
        return Finding(
            id=".".join(parts),
            check=self.check.name,
            category=self.check.category,
            **fields,
        )

    def skipped(
        self, title: str, summary: str, *, key: str | None = None, **fields: Any
    ) -> list[Finding]:
        """The single finding of a check that does not apply here (id ``<category>.<check>``)."""
        return [
            self.finding(
                key or self.check.name, status="skipped", title=title, summary=summary, **fields
            )
        ]

    # -- memoised estimates
    def memo(self, key: Any, build: Callable[[], Any]) -> Any:
        """``build()`` once per ``key``, shared by every check of the run."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def metric_set(self) -> list[str]:
        """Performance metrics reported on every split."""
        from auditor.metrics import METRICS, metric_names

        def build():
            wanted = list(self.settings.metrics) or metric_names(
                self.task, has_scores=self.has_scores
            )
            for name in [self.evaluation.primary_metric, *self.criterion_metrics()]:
                if name in METRICS and name not in wanted:
                    wanted.append(name)
            return [
                n for n in wanted if METRICS[n].applies_to(self.task, has_scores=self.has_scores)
            ]

        return self.memo("metric_set", build)

    def rows(self, split: str):
        """The split's rows arranged for weighted metrics (:class:`~auditor.metrics.Rows`)."""
        from auditor.metrics import Rows

        def build():
            e = self.evaluation.splits[split]
            k = len(self.evaluation.classes) if self.task != "regression" else None
            return Rows(self.task, e.y_true, e.scores, e.y_pred, n_classes=k)

        return self.memo(("rows", split), build)

    def estimates_by_atoms(self, split: str) -> bool:
        """Whether :meth:`estimates` drew ``split``'s resamples per run of alike rows.

        Then no other model's replicates are paired with them row by row.
        """
        from auditor.metrics.bootstrap import draws_per_run

        rows = self.rows(split)
        return draws_per_run(rows, self.resamples, self.cell_draws(rows.n))

    def estimates(self, split: str):
        """Every reported metric's Estimate (with replicates) on ``split``, by name."""
        from auditor.metrics import bootstrap_rows

        return self.memo(
            ("estimates", split),
            lambda: bootstrap_rows(
                self.rows(split),
                self.metric_set(),
                resamples=self.resamples,
                confidence=self.confidence,
                seed=self.seed(split, 0),
                extra=_ERROR_RATES if self.task == "binary" else None,
                by_atoms=self.cell_draws(self.rows(split).n),
            ),
        )

    def partitions(self) -> list[tuple[str, list[str]]]:
        """Sensitive partitions: each feature, then intersections (``a&b``) when enabled."""
        names = list(self.dataset.sensitive)
        out = [(n, [n]) for n in names]
        if self.settings.intersections and len(names) > 1:
            for size in range(2, len(names) + 1):
                for combo in itertools.combinations(names, size):
                    out.append(("&".join(combo), list(combo)))
        return out
