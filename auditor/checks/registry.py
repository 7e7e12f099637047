"""The check registry: every check registered once, with its name and category.

A check is a pure function ``check(ctx) -> list[Finding]`` of a :class:`CheckContext` (the
resolved spec's values, the dataset and the evaluation; the context only memoises the
bootstrap estimates several checks share). Checks hold no thresholds: diagnostic bounds
come from ``spec.evaluation.diagnostics``, acceptance bounds from the criteria (verdict).

Checks registered with ``criterion=True`` produce a measured value an acceptance criterion
may bound (``{check: <name>, ...}``); their names are the schema's criterion ``check`` enum.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from auditor.types import SPLITS, Dataset, Evaluation, Finding, Spec

UNKNOWN_CHECK = "Unknown check {name!r}. Available checks: {available}."
CHECK_FAILED = "The check {name!r} could not run: {error}"


class UnknownCheckError(ValueError):
    """A check name that is not in the registry."""


@dataclass(frozen=True)
class Check:
    name: str
    category: str
    fn: Callable[[CheckContext], list[Finding]]
    criterion: bool  # a criterion may bound its value ({check: name})
    description: str


CHECKS: dict[str, Check] = {}


def register(name: str, category: str, *, criterion: bool = False, description: str = ""):
    """Decorator: register ``fn`` as the check ``name`` in ``category``."""

    def wrap(fn: Callable[[CheckContext], list[Finding]]):
        if name in CHECKS:  # pragma: no cover - registration happens once, at import
            raise ValueError(f"check {name!r} registered twice")
        CHECKS[name] = Check(
            name, category, fn, criterion, description or (fn.__doc__ or "").strip()
        )
        return fn

    return wrap


def get_check(name: str) -> Check:
    try:
        return CHECKS[name]
    except KeyError:
        raise UnknownCheckError(
            UNKNOWN_CHECK.format(name=name, available=", ".join(CHECKS))
        ) from None


def skipped(check: str, category: str, title: str, summary: str, **fields: Any) -> list[Finding]:
    """The single finding of a check that does not apply here (id ``<category>.<check>``)."""
    return [
        Finding(
            id=f"{category}.{check}",
            check=check,
            category=category,
            status="skipped",
            title=title,
            summary=summary,
            **fields,
        )
    ]


def criterion_checks() -> list[str]:
    """Names of checks whose value an acceptance criterion can bound (schema enum)."""
    return [c.name for c in CHECKS.values() if c.criterion]


# ---------------------------------------------------------------------- context
# Binary wrong decisions per decision (false positives, false negatives), for the cost of
# errors: computed from the same weighted sums and resamples as the metrics.
_ERROR_RATES = {
    "false_positive_rate": lambda s: (s["pred1"] - s["tp1"]) / np.maximum(s["n"], 1e-12),
    "false_negative_rate": lambda s: (s["y1"] - s["tp1"]) / np.maximum(s["n"], 1e-12),
}


@dataclass
class CheckContext:
    """What every check reads: spec values, dataset, evaluation (+ memoised estimates)."""

    spec: Spec
    dataset: Dataset
    evaluation: Evaluation
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False)

    # -- spec sections
    @property
    def settings(self) -> dict[str, Any]:
        return self.spec["evaluation"]

    @property
    def diagnostics(self) -> dict[str, Any]:
        return self.settings["diagnostics"]

    @property
    def confidence(self) -> float:
        return float(self.settings["confidence"])

    @property
    def resamples(self) -> int:
        return int(self.settings["bootstrap"])

    @property
    def min_group_size(self) -> int:
        return int(self.settings["min_group_size"])

    @property
    def criteria(self) -> list[dict[str, Any]]:
        return list(self.spec.values.get("acceptance") or [])

    @property
    def task(self) -> str:
        return self.evaluation.task

    @property
    def has_scores(self) -> bool:
        return bool(self.evaluation.has_scores)

    def seed(self, split: str, purpose: int) -> int:
        """Bootstrap seed for one split and purpose (deterministic, distinct)."""
        return int(self.settings["seed"]) * 1_000_003 + SPLITS.index(split) * 101 + purpose

    def splits(self) -> list[str]:
        return [s for s in SPLITS if s in self.evaluation.splits]

    def criterion_metrics(self, *, check: str | None = None) -> list[str]:
        """Metrics named by criteria (all of them, or those of criteria on ``check``)."""
        out = []
        for c in self.criteria:
            if check is not None and c.get("check") != check:
                continue
            if c.get("metric") and c["metric"] not in out:
                out.append(c["metric"])
        return out

    # -- memoised estimates
    def memo(self, key: Any, build: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def metric_set(self) -> list[str]:
        """Performance metrics reported on every split."""
        from auditor.metrics import METRICS, metric_names

        def build():
            wanted = list(self.settings.get("metrics") or []) or metric_names(
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
        from auditor.metrics import Rows

        def build():
            e = self.evaluation.splits[split]
            k = len(self.evaluation.classes) if self.task != "regression" else None
            return Rows(self.task, e.y_true, e.scores, e.y_pred, n_classes=k)

        return self.memo(("rows", split), build)

    def estimates(self, split: str):
        """name -> Estimate (with replicates) of every reported metric on ``split``."""
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
            ),
        )

    def partitions(self) -> list[tuple[str, list[str]]]:
        """Sensitive partitions: each feature, then intersections (``a&b``) when enabled."""
        names = list(self.dataset.sensitive)
        out = [(n, [n]) for n in names]
        if self.settings.get("intersections", True) and len(names) > 1:
            for size in range(2, len(names) + 1):
                for combo in itertools.combinations(names, size):
                    out.append(("&".join(combo), list(combo)))
        return out
