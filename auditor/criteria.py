"""An acceptance criterion as a type: what it measures, its bounds, and the finding it judges.

A criterion names a measurement (a performance metric, a fairness metric, or a check
measured in a metric or on its own), where it is measured (split, sensitive feature), its
bounds and severity. Which findings it is about, which of those it judges when there are
several, and how it reads in plain words are decided here, from the catalogues; the
verdict only asks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from auditor.judge import Bound
from auditor.splits import split_adjective, split_phrase

if TYPE_CHECKING:  # pragma: no cover
    from auditor.types import Finding

Kind = Literal["check", "fairness", "performance", "text"]


def same_features(found: str | None, wanted: str) -> bool:
    """'sex&age_band' names the same intersection as 'age_band & sex'."""
    if found is None:
        return False
    return sorted(p.strip() for p in found.split("&")) == sorted(
        p.strip() for p in wanted.split("&")
    )


@dataclass(frozen=True)
class Waiver:
    """A signed acceptance of a failed criterion, until a date."""

    reason: str
    approver: str
    expires: str

    def valid_on(self, today: dt.date) -> bool:
        """Whether the waiver still counts on ``today`` (its last day included)."""
        try:
            return dt.date.fromisoformat(str(self.expires)) >= today
        except ValueError:
            return False


@dataclass(frozen=True)
class Criterion:
    """One acceptance criterion of the resolved spec (``acceptance[i]``)."""

    metric: str | None
    check: str | None
    split: str
    sensitive: str | None
    at_least: float | None
    at_most: float | None
    severity: Literal["blocking", "advisory"]
    require: Literal["point", "confidence"]
    rationale: str
    waiver: Waiver | None
    feature: str | None = None  # the raw feature column a check on drivers is about
    baseline: str | None = None  # the baseline a baseline_improvement criterion compares with
    pass_at: float | None = None  # a text metric's per-row threshold: the pass rate is bounded
    calibrated_judge: bool = False  # counts only when the judge is calibrated on the metric
    change: bool = False  # bounds the change against the previous report (auditor.against)

    # ------------------------------------------------------------------ bounds
    @property
    def bounds(self) -> tuple[Bound, ...]:
        """Its bounds, ``at_least`` first."""
        out = []
        if self.at_least is not None:
            out.append(Bound(float(self.at_least), "at_least"))
        if self.at_most is not None:
            out.append(Bound(float(self.at_most), "at_most"))
        return tuple(out)

    @property
    def bound(self) -> float | None:
        """The bound shown beside the value: ``at_least`` when set, else ``at_most``."""
        return self.bounds[0].value if self.bounds else None

    @property
    def direction(self) -> Literal["at_least", "at_most"] | None:
        """The direction of :attr:`bound`."""
        return self.bounds[0].direction if self.bounds else None

    @property
    def blocking(self) -> bool:
        """Whether failing it makes the model NOT READY."""
        return self.severity == "blocking"

    def uncalibrated_judge(self, finding: Finding) -> str | None:
        """Why a criterion asking for a calibrated judge counts only as advisory (None: it counts).

        It counts when the finding's figure is from a judge people's ratings calibrate.
        """
        if not self.calibrated_judge:
            return None
        judged = (finding.details or {}).get("judge")
        if not judged:
            return "no judge scored this figure, and the criterion asks for a calibrated judge"
        return (
            None if judged.get("calibrated") else judged.get("why") or "the judge is uncalibrated"
        )

    # ------------------------------------------------------------------ what it measures
    @property
    def kind(self) -> Kind:
        """A check's measurement, a fairness metric, a text metric or a performance metric."""
        from auditor.metrics.fairness import FAIRNESS_METRICS
        from auditor.text.catalogue import TEXT_METRICS

        if self.check:
            return "check"
        if self.metric in TEXT_METRICS:
            return "text"
        return "fairness" if self.metric in FAIRNESS_METRICS else "performance"

    @property
    def check_name(self) -> str:
        """The check whose findings it judges (``performance`` and ``fairness`` included)."""
        return self.check or self.kind

    def per_split(self) -> bool:
        """Whether its finding is measured on a split (``split`` then selects it)."""
        if self.kind != "check":
            return True
        from auditor.checks import get_check

        return get_check(self.check).per_split

    def label(self) -> str:
        """What is measured, in words: 'Generalization gap in F1 score'."""
        from auditor.metrics import METRICS
        from auditor.metrics.fairness import FAIRNESS_METRICS

        if self.kind == "check":
            from auditor.checks import get_check

            what = get_check(self.check).label
            if self.feature:
                what += f" of {self.feature!r}"
            if self.baseline:  # "Improvement over the majority baseline"
                named = what.replace("the trivial baseline", f"the {self.baseline} baseline")
                what = named if named != what else f"{what} (against the {self.baseline} baseline)"
            if self.metric in METRICS:
                what += f" in {METRICS[self.metric].label}"
            return what
        if self.kind == "fairness":
            return FAIRNESS_METRICS[self.metric].label
        if self.kind == "text":
            from auditor.text.catalogue import TEXT_METRICS, pass_rate_words

            metric = TEXT_METRICS[self.metric]
            if self.pass_at is None:
                return metric.label
            return f"Share of rows with {metric.label} {pass_rate_words(metric, self.pass_at)}"
        return METRICS[self.metric].label if self.metric in METRICS else str(self.metric)

    def describe(self, labels: Mapping[str, str] | None = None) -> str:
        """Plain words: 'F1 score on the test split is at least 0.80'.

        ``labels`` names the spec's own splits (audit files, development data).
        """
        where = ""
        if self.per_split():
            template = "on {where}"
            if self.kind == "check":
                from auditor.checks import get_check

                template = get_check(self.check).where
            label = (labels or {}).get(self.split)
            where = template.format(
                split=split_adjective(self.split, label), where=split_phrase(self.split, label)
            )
        across = f" across {self.sensitive.replace('&', ' and ')}" if self.sensitive else ""
        text = f"{self.label()}{across} {where}".replace("  ", " ").strip()
        if self.change:
            lead = text[:1] if text[1:2].isupper() else text[:1].lower()  # "ROC-AUC" stays
            text = f"Change in {lead}{text[1:]} against the previous report"
        text += " is " + " and ".join(b.words for b in self.bounds)
        if self.require == "confidence":
            text += " (the whole confidence interval)"
        return text

    # ------------------------------------------------------------------ its findings
    def candidates(self, findings: Sequence[Finding]) -> list[Finding]:
        """The findings this criterion is about (several: one per sensitive feature...)."""
        pool = [f for f in findings if f.check == self.check_name]
        if self.kind == "text":
            pool = [
                f
                for f in pool
                if f.metric == self.metric
                and f.split == self.split
                and f.details.get("pass_at") == self.pass_at
                and (f.sensitive is None) == (self.sensitive is None)
            ]
            # segments too small to judge never set the figure while others can
            pool = [f for f in pool if f.status != "inconclusive"] or pool
        elif self.kind == "check":
            if self.metric and any(f.metric for f in pool):
                pool = [f for f in pool if f.metric == self.metric]
            if self.per_split():
                # a check that could not run at all says why in one split-less finding
                pool = [f for f in pool if f.split == self.split] or [
                    f for f in pool if f.split is None and f.status in ("skipped", "error")
                ]
        else:
            pool = [f for f in pool if f.metric == self.metric and f.split == self.split]
        if self.feature:  # a check on one feature: its findings name it in details
            pool = [f for f in pool if f.details.get("feature") == self.feature] or [
                f for f in pool if f.status in ("skipped", "error")
            ]
        if any("baseline" in f.details for f in pool):  # baseline_improvement's findings
            pool = [
                f
                for f in pool
                if f.details.get("baseline") == self.baseline
                or (self.baseline is None and f.details.get("reference"))
            ] or [f for f in pool if f.status in ("skipped", "error")]
        if self.sensitive and self.kind != "performance":
            pool = [f for f in pool if same_features(f.sensitive, self.sensitive)]
        elif self.kind == "check" and any(  # a split-wide finding beside its segments'
            f.sensitive is None and f.status not in ("skipped", "error") for f in pool
        ):
            pool = [f for f in pool if f.sensitive is None]
        return pool

    def pick(self, pool: Sequence[Finding]) -> Finding:
        """The finding it judges among several: the one furthest on the wrong side."""
        usable = [f for f in pool if f.value is not None]
        if len(pool) == 1 or not usable:
            return pool[0]
        if self.at_most is not None:
            return max(usable, key=lambda f: f.value)
        return min(usable, key=lambda f: f.value)

    def why_missing(self, findings: Sequence[Finding], task: str) -> str:
        """Why no finding is about it (a metric that does not apply, a split absent, ...)."""
        from auditor.metrics import METRICS
        from auditor.metrics.fairness import FAIRNESS_METRICS

        broken = [f for f in findings if f.check == self.check_name and f.status == "error"]
        if broken:
            return broken[0].summary.rstrip(".")
        for catalogue in (METRICS, FAIRNESS_METRICS):
            entry = catalogue.get(self.metric or "")
            if entry is not None and task not in entry.tasks:
                return f"{entry.label} does not apply to a {task} model"
        uncovered = [
            f for f in findings if f.check == "prediction_coverage" and f.split == self.split
        ]
        if uncovered:
            return uncovered[0].details.get("reason") or uncovered[0].summary.rstrip(".")
        if not any(f.split == self.split for f in findings):
            if self.split == "holdout":
                return "there is no holdout split (data.holdout is not set)"
            return f"there is no {self.split} split"
        if self.sensitive:
            return f"no sensitive feature or intersection is called {self.sensitive!r}"
        if self.kind == "performance" and self.metric in METRICS:
            return (
                f"{METRICS[self.metric].label} was not computed on the {self.split} split "
                "(does the predictor give scores?)"
            )
        return "no check produced this measurement"
