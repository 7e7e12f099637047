"""The verdict: acceptance criteria judged against the findings; READY, CONDITIONAL, NOT READY.

Measuring and judging are separate: checks measure (findings), this module judges. Each
criterion finds the finding it refers to (metric or check, split, sensitive feature) and
yields pass, fail, inconclusive (a group too small to judge; or ``require: confidence``, the
estimate meets the bound and its interval reaches past it: the reason then estimates the
rows that would decide it) or error (no such finding: a metric that does not apply,
a holdout that does not exist, a check that could not run).

- NOT READY: a blocking criterion fails (unwaived), is inconclusive or is an error.
- CONDITIONAL: every blocking criterion holds, but an advisory criterion does not, or a
  diagnostic finding not covered by any criterion warns, fails or could not run.
- READY: otherwise.

A failed criterion with a waiver whose ``expires`` date is today or later (UTC) counts as
waived: shown, but not blocking. An expired waiver does not count.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from auditor.criteria import Criterion, same_features
from auditor.judge import fmt_number, judge
from auditor.types import TEXT_TASKS, CriterionOutcome, Finding, Spec, Verdict
from auditor.words import Addressee, addressee_of, count_words

NO_FINDING = "nothing was measured for it: {why}"
MSG_NOT_MEASURED = "the measurement could not be made: {summary}"
MSG_ALREADY_FAILS = (
    "already fails on the groups large enough to judge ({value}); smaller groups cannot make "
    "it pass"
)


def _today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


_fmt = fmt_number


def describe(criterion: Criterion) -> str:
    """Plain words: 'F1 score on the test split is at least 0.80'."""
    return criterion.describe()


# ------------------------------------------------------------------ judging
def judge_criterion(criterion: Criterion, finding: Finding) -> tuple[str, str, float | None]:
    """(status, reason, margin) of one criterion against the finding it is about.

    The comparison itself is :func:`auditor.judge.judge`; what is added here is what only a
    finding knows: a measurement that could not be made, and groups too small to judge.
    """
    if finding.status in ("error", "skipped"):
        return "error", MSG_NOT_MEASURED.format(summary=finding.summary), None
    value = finding.value
    if value is None or not math.isfinite(value):
        if finding.status == "inconclusive":
            return "inconclusive", finding.summary, None
        verdict = judge(value, None, criterion.bounds)
        return verdict.status, verdict.reason, None
    verdict = judge(value, finding.ci, criterion.bounds, require=criterion.require, rows=finding.n)
    details = finding.details or {}
    # against a reference group the bounds hold for every judgeable group: the finding's
    # value is one group's; the criterion judges each and keeps the worst
    rank = {"fail": 0, "inconclusive": 1, "pass": 2}
    for row in details.get("per_group") or []:
        if row.get("reference") or row.get("inconclusive") or row.get("value") is None:
            continue
        ci = (row["low"], row["high"]) if row.get("low") is not None else None
        one = judge(
            float(row["value"]), ci, criterion.bounds, require=criterion.require, rows=row.get("n")
        )
        if (rank.get(one.status, 0), one.margin) < (rank.get(verdict.status, 0), verdict.margin):
            verdict = one
    # groups too small to judge never set the figure: the judgeable groups decide, and a
    # small group only makes it inconclusive when, within its interval, it could break a
    # bound the judgeable groups meet
    outcomes = details.get("small_group_outcomes")
    if outcomes is not None:
        if verdict.status == "fail":
            return "fail", MSG_ALREADY_FAILS.format(value=_fmt(value)), verdict.margin
        if any(judge(float(x), None, criterion.bounds).status == "fail" for x in outcomes):
            reason = (
                "holds on the groups large enough to judge, but a group too small to judge "
                f"could change the outcome: {finding.summary}"
            )
            return "inconclusive", reason, verdict.margin
        return verdict.status, verdict.reason, verdict.margin
    if finding.status == "inconclusive":
        adequate = details.get("adequate_value")
        if adequate is not None and judge(float(adequate), None, criterion.bounds).status == "fail":
            return "fail", MSG_ALREADY_FAILS.format(value=_fmt(adequate)), verdict.margin
        return "inconclusive", finding.summary, verdict.margin
    return verdict.status, verdict.reason, verdict.margin


NO_PREVIOUS = (
    "it bounds the change against a previous report, and none was given (auditor run "
    "--against OLD/results.json, or report.against)"
)


def judge_change(c: Criterion, f: Finding, against) -> tuple[str, str, Any, float | None]:
    """(status, reason, change, margin) of a ``change`` criterion: the change of ``f``'s
    figure against the previous report, judged as a value is (its interval included)."""
    if against is None:
        return "error", NO_PREVIOUS, None, None
    if f.status in ("error", "skipped"):
        return "error", MSG_NOT_MEASURED.format(summary=f.summary), None, None
    ch = against.change(f)
    if ch.value is None:
        return "error", NO_FINDING.format(why=ch.reason), ch, None
    verdict = judge(ch.value, ch.ci, c.bounds, require=c.require, rows=f.n)
    return verdict.status, verdict.reason, ch, verdict.margin


def _outcome(i, c: Criterion, written: dict[str, Any], findings, task, today, labels, against):
    waiver = written.get("waiver")
    common = {
        "index": i,
        "criterion": dict(written),
        "description": c.describe(labels),
        "severity": c.severity,
        "bound": c.bound,
        "waiver": waiver,
    }
    pool = c.candidates(findings)
    if not pool:
        reason = NO_FINDING.format(why=c.why_missing(findings, task))
        return CriterionOutcome(status="error", reason=reason, **common)
    f = c.pick(pool)
    if c.change:
        status, reason, ch, margin = judge_change(c, f, against)
        return CriterionOutcome(
            status=status,
            value=None if ch is None else ch.value,
            ci=None if ch is None or ch.ci is None else tuple(ch.ci),
            margin=margin,
            reason=reason,
            finding_id=f.id,
            waived=False,
            **common,
        )
    status, reason, margin = judge_criterion(c, f)
    if c.kind == "text" and (f.details or {}).get("judge"):  # scored by the LLM judge
        from auditor.text.catalogue import TEXT_METRICS

        catalogue = TEXT_METRICS[c.metric].label
        common["description"] = common["description"].replace(catalogue, f.details["label"])
    uncalibrated = c.uncalibrated_judge(f)
    if uncalibrated and c.blocking:  # its scores do not count: shown, never blocking
        common["severity"] = "advisory"
        reason += f" (advisory, not blocking: {uncalibrated})"
    waived = status == "fail" and c.waiver is not None and c.waiver.valid_on(today)
    if status == "fail" and c.waiver is not None and not waived:
        reason += f" (the waiver expired on {c.waiver.expires})"
    elif waived:
        reason += f" - waived by {c.waiver.approver} until {c.waiver.expires}: {c.waiver.reason}"
    return CriterionOutcome(
        status=status,
        value=f.value,
        ci=tuple(f.ci) if f.ci else None,
        margin=margin,
        reason=reason,
        finding_id=f.id,
        waived=waived,
        **common,
    )


def evaluate_criteria(
    spec: Spec, findings: list[Finding], *, today: dt.date | None = None, against=None
) -> list[CriterionOutcome]:
    """Every acceptance criterion judged against the finding it is about (``against``:
    the :class:`~auditor.against.Against` a ``change`` criterion is judged with)."""
    today = today or _today()
    written = spec.values["acceptance"]
    return [
        _outcome(i, c, written[i], findings, spec.task, today, spec.split_labels, against)
        for i, c in enumerate(spec.acceptance)
    ]


# ------------------------------------------------------------------ the verdict
def _step_for(o: CriterionOutcome, by_id: dict[str, Finding], to: Addressee | None = None) -> str:
    """The step of one unmet criterion (``to``: whom it addresses for a model not trained
    here; None for a model trained here)."""
    f = by_id.get(o.finding_id or "")
    if o.status == "error":
        return f"Make '{o.description}' measurable: {o.reason}."
    if f is not None and f.recommendation:
        return f.recommendation
    if o.status == "inconclusive":
        return (
            f"Collect more evaluation data so that '{o.description}' can be decided ({o.reason})."
        )
    if to is not None:  # the user controls neither the features nor the training
        return (
            f"{to.opening} how the model can meet '{o.description}' (measured "
            f"{_fmt(o.value)}): whether it was trained on data like the client's and how it "
            "was validated on recent data; or revisit the bound with the stakeholders."
        )
    return (
        f"Improve the model until '{o.description}' holds (measured {_fmt(o.value)}): better "
        "features, more training data or tuning; or revisit the bound with the stakeholders."
    )


def _is_group_difference(f: Finding) -> bool:
    """A fairness diagnostic that warns of a difference between groups: not one whose
    problem every group shares (the model's own, as a calibration error every group
    shares), which keeps its own step rather than the fairness step's."""
    shared = bool((f.details or {}).get("shared_by_groups"))
    return f.category == "fairness" and f.status == "warn" and not shared


def _fairness_step(
    judged: set[str], warnings: list[Finding], to: Addressee | None = None
) -> str | None:
    """One step for the fairness diagnostics that warn of a difference between groups
    (``warnings``, :func:`_is_group_difference`), naming each attribute once.

    ``judged``: the attributes whose fairness criterion is not met (they have their own step,
    the finding's recommendation); the others are listed with the two groups furthest apart.
    ``to``: whom the step addresses for a model not trained here (None: trained here).
    """
    seen: dict[str, str] = {}
    for f in warnings:
        if not f.sensitive or f.sensitive in seen:
            continue
        if any(same_features(f.sensitive, s) for s in judged):
            continue
        lo, hi = (f.details or {}).get("lowest_group"), (f.details or {}).get("highest_group")
        seen[f.sensitive] = f"{f.sensitive} ({lo} vs {hi})" if lo and hi else f.sensitive
    if not seen:
        return None
    names = list(seen.values())
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    lead = (
        "Fairness diagnostics also warn across"
        if judged
        else "Investigate the differences in treatment across"
    )
    if to is not None:
        return (
            f"{lead} {listed}: {to.ask} which data the model was trained on and how it "
            "was tested for bias against these groups, look for columns of the client's data "
            "that act as proxies for these attributes, and agree a policy before adjusting "
            "decisions."
        )
    return (
        f"{lead} {listed}: check the training labels for historical bias against a group, "
        "look for features that act as proxies for these attributes, and agree a policy "
        "before adjusting decisions."
    )


WORDS = {"fail": "fails", "inconclusive": "cannot be decided", "error": "could not be measured"}


def blocking_findings(outcomes: list[CriterionOutcome]) -> set[str]:
    """Ids of the findings a blocking criterion is about (every other finding is advisory)."""
    return {o.finding_id for o in outcomes if o.severity == "blocking" and o.finding_id}


class _Steps:
    """Next steps, each once, with the findings it comes from (deduplicated by text)."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.sources: list[list[str]] = []

    def add(self, text: str, source: str | None, *, at: int | None = None) -> None:
        """Add ``text`` (or, when already there, only its ``source``)."""
        if text in self.texts:
            i = self.texts.index(text)
        else:
            i = len(self.texts) if at is None else at
            self.texts.insert(i, text)
            self.sources.insert(i, [])
        if source and source not in self.sources[i]:
            self.sources[i].append(source)

    def __contains__(self, text: str) -> bool:
        return text in self.texts

    def __len__(self) -> int:
        return len(self.texts)

    def lines(self) -> list[str]:
        """Each step, naming the findings it comes from: 'Do X. (from: A; B)'."""
        out = []
        for text, sources in zip(self.texts, self.sources, strict=True):
            if len(sources) > MAX_SOURCES_NAMED:
                rest = len(sources) - MAX_SOURCES_NAMED + 1
                sources = sources[: MAX_SOURCES_NAMED - 1] + [count_words(rest, "other finding")]
            out.append(text + (f" (from: {'; '.join(sources)})" if sources else ""))
        return out


MAX_SOURCES_NAMED = 3  # findings a step names; the rest are counted


def _source(f: Finding | None, fallback: str) -> str:
    return f.title if f is not None and f.title else fallback


def _next_steps(
    not_met: list[CriterionOutcome],
    diagnostics: list[Finding],
    by_id,
    *,
    to: Addressee | None = None,
) -> list[str]:
    """What to do: each unmet criterion's step, then one per kind of warning diagnostic.

    ``to``: whom the steps address for a model not trained here (None: trained here).

    Each step names the findings it comes from (their titles, after "from:"); a step is
    said once (the same text from several findings is one step naming them all), and
    diagnostics of one kind (the same check and metric) give one step naming each.
    """
    steps = _Steps()
    for o in not_met:
        f = by_id.get(o.finding_id or "")
        steps.add(_step_for(o, by_id, to), _source(f, o.description))
    advised: dict[tuple, str] = {}
    fairness_step_at = len(steps)
    fairness_warnings: list[Finding] = []
    for f in diagnostics:  # one step per kind of diagnostic: the report lists the others
        if _is_group_difference(f):
            fairness_step_at = min(fairness_step_at, len(steps))
            fairness_warnings.append(f)
            continue  # merged into one step below
        if not f.recommendation:
            continue
        key = (f.check, f.metric)
        text = f.recommendation if f.recommendation in steps else advised.get(key)
        steps.add(text or f.recommendation, f.title)
        advised.setdefault(key, f.recommendation)
    judged = {
        by_id[o.finding_id].sensitive
        for o in not_met
        if o.finding_id in by_id and by_id[o.finding_id].category == "fairness"
    }
    judged = {s for s in judged if s}
    step = _fairness_step(judged, fairness_warnings, to)
    if step:
        steps.add(step, None, at=fairness_step_at)
        for f in fairness_warnings:  # the attributes the step names, not the judged ones
            if f.sensitive and not any(same_features(f.sensitive, s) for s in judged):
                steps.add(step, f.title)
    return steps.lines()


def _status_and_reason(outcomes, blocking, advisory, diagnostics) -> tuple[str, str]:
    if blocking:
        first = blocking[0]
        return "NOT READY", (
            f"{count_words(len(blocking), 'blocking criterion is', 'blocking criteria are')} "
            "not met; "
            f"first: {first.description} {WORDS[first.status]}."
        )
    if advisory or diagnostics:
        parts = []
        if advisory:
            parts.append(count_words(len(advisory), "advisory criterion") + " not met")
        if diagnostics:
            parts.append(count_words(len(diagnostics), "diagnostic") + " raised a warning")
        return "CONDITIONAL", "Every blocking criterion is met, but " + " and ".join(parts) + "."
    if outcomes:
        return "READY", "Every acceptance criterion is met and no diagnostic raised a warning."
    return "READY", "No diagnostic raised a warning (the spec declares no acceptance criteria)."


def decide(
    spec: Spec, findings: list[Finding], *, today: dt.date | None = None, against=None
) -> tuple[list[CriterionOutcome], Verdict]:
    """Judge every acceptance criterion, then the verdict (nothing given is changed;
    ``against``: the :class:`~auditor.against.Against` of ``--against``)."""
    outcomes = evaluate_criteria(spec, findings, today=today, against=against)
    by_id = {f.id: f for f in findings}
    covered = {o.finding_id for o in outcomes if o.finding_id}
    not_met = [o for o in outcomes if o.status != "pass" and not o.waived]
    blocking = [o for o in not_met if o.severity == "blocking"]
    advisory = [o for o in not_met if o.severity == "advisory"]
    diagnostics = [
        f for f in findings if f.id not in covered and f.status in ("warn", "fail", "error")
    ]
    blockers = [
        f"{o.description}: {WORDS[o.status]}"
        + (f" (measured {_fmt(o.value)})" if o.value is not None else "")
        + (f" - {o.reason}" if o.reason and o.status != "fail" else "")
        for o in blocking
    ]
    # a model not trained here: a vendor's file, the caller's in memory, a text audit's responses
    not_ours = spec.model.vendor is not None or spec.task in TEXT_TASKS
    to = addressee_of(spec) if not_ours else None
    steps = _next_steps(blocking + advisory, diagnostics, by_id, to=to)
    status, reason = _status_and_reason(outcomes, blocking, advisory, diagnostics)
    waived = [o for o in outcomes if o.waived]
    if waived:
        reason = reason[:-1] + f" ({count_words(len(waived), 'failure')} waived)."
    if status == "READY" and not steps:
        steps = ["Have the approvers review and sign this report."]
    return outcomes, Verdict(status=status, reason=reason, blockers=blockers, next_steps=steps[:10])
