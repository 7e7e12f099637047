"""The search: an Optuna study over the declared space, on the train and validation rows.

    Dataset --search_view--> the train and validation splits alone (the test split, the
            holdout and audit files are not in it, so no trial can read them)
    trial: values drawn from the space -> the spec with them -> train_model on the train
            split (or on the other folds of it) -> the metric on the validation split (or
            the held-out fold), reported to the pruner after every epoch (every fold)
    the spec's own configuration, scored the same way (not a trial of the budget)
    the best of both -> the spec with the chosen values, retrained as tuning.retrain says

Optuna is imported when a search starts; a spec with ``tuning`` on an installation
without it stops with one located line (exit code 2), as ``auditor validate`` says first.
The study lives in memory, created in one place (:func:`_create_study`); ``auditor tune``
puts it in a storage that worker processes share (:mod:`auditor.tuning.workers`).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from auditor.errors import AuditorError, SpecError, one_line
from auditor.tuning import space as sp
from auditor.tuning.catalogue import METHODS, PRUNERS

if TYPE_CHECKING:  # pragma: no cover
    from auditor.spec.typed import Tuning
    from auditor.types import Dataset, Spec

#: The splits a search may read; every other split is left out of its view of the data.
SEARCH_SPLITS: tuple[str, ...] = ("train", "validation")
BEST_SHOWN = 5  # trials in the results' best-trials table
SPEC_OWN = "spec"  # ``same_as`` of a trial that drew the spec's own configuration
#: User attribute of a trial a shared study's worker opened past the trial budget (another
#: worker took the last trial first); it is failed at once and is not in the record.
BEYOND_BUDGET = "beyond_budget"

MSG_NOTHING_SCORED = (
    "no configuration could be scored: {counts}, and the spec's own configuration gave {reason}"
)
MSG_NOT_FINITE = "a validation {metric} that is not a finite number (did training diverge?)"


@dataclass
class Score:
    """What scoring one configuration found."""

    value: float
    epochs: int  # the epoch count whose weights were kept (the mean over folds, rounded)
    folds: list[float] = field(default_factory=list)  # each fold's value (cv)
    reported: int = 0  # values reported to the pruner


@dataclass
class TrialRecord:
    """One scored configuration, as results.json lists it (``number`` None: the spec's)."""

    number: int | None
    state: str  # complete, pruned or failed
    values: dict[str, Any]
    value: float | None
    epochs: int | None
    folds: list[float]
    reported: int
    seconds: float
    reason: str | None = None
    same_as: int | str | None = None  # an earlier trial (or the spec's own) it repeated


@dataclass
class TuningOutcome:
    """Everything the search did and chose (results.json ``tuning``)."""

    method: str
    method_label: str
    pruning: str
    metric: str
    direction: str
    scored_on: str  # "validation" or "cv"
    cv: dict[str, Any] | None
    budget: dict[str, Any]
    seed: int
    counts: dict[str, int]
    seconds: float
    declared: dict[str, Any]  # the resolved tuning section (the resolved spec leaves it out)
    baseline: TrialRecord
    chosen: dict[str, Any]
    improvement: float | None
    retrain: dict[str, Any]
    trials: list[TrialRecord]
    best: list[TrialRecord]
    notes: list[str] = field(default_factory=list)
    # each searched option's share of the variation in the metric (Optuna's fANOVA), or
    # None with the reason in importance_note (too few complete trials, one value only)
    importance: dict[str, float] | None = None
    importance_note: str | None = None


class _Failed(Exception):
    """A trial that could not be scored (Optuna records it as failed)."""


def import_optuna(spec: Spec):
    """Optuna, or the located refusal a spec with ``tuning`` gets without it."""
    from auditor.spec.tuning_rules import MSG_NEEDS_OPTUNA

    try:
        import optuna
    except ImportError:
        raise SpecError(MSG_NEEDS_OPTUNA, spec.locate(("tuning",))) from None
    return optuna


def search_view(dataset: Dataset) -> Dataset:
    """The dataset with the train and validation splits only: what every trial reads."""

    def keep(table: dict) -> dict:
        return {k: v for k, v in table.items() if k in SEARCH_SPLITS}

    return replace(
        dataset,
        frames=keep(dataset.frames),
        X=keep(dataset.X),
        y=keep(dataset.y),
        groups=keep(dataset.groups),
        split_roles=keep(dataset.split_roles),
        split_labels=keep(dataset.split_labels),
        sources=[s for s in dataset.sources if s.get("role") == "train"],
    )


def fold_views(spec: Spec, view: Dataset, notes: list[str]) -> list[Dataset]:
    """The cross-validation folds of the train split that score trials (``tuning.cv``)."""
    from auditor.cross_validation import cut_folds

    tuning = spec.tuning
    return cut_folds(spec, view, tuning.cv, int(tuning.seed), ("tuning", "cv"), notes)


class _Scorer:
    """Scores a configuration: trains it and measures the metric on held-out rows."""

    def __init__(self, spec: Spec, view: Dataset, folds: list[Dataset] | None, optuna):
        self.spec = spec
        self.tuning: Tuning = spec.tuning
        self.view = view
        self.folds = folds
        self.optuna = optuna

    def spec_with(self, values: dict[str, Any]) -> Spec:
        """The spec as one trial trains it: the drawn values set, no search, train rows."""
        from auditor.types import Spec

        doc = sp.applied(self.spec.values, values)
        doc["tuning"] = None
        return Spec(path=self.spec.path, values=doc, positions=self.spec.positions)

    def score(self, values: dict[str, Any], trial=None) -> Score:
        """The configuration's value; with a trial, reported to its pruner as it goes."""
        trial_spec = self.spec_with(values)
        if self.folds is None:
            report = None if trial is None else self._reporter(trial)
            value, kept, reported = self._train(trial_spec, self.view, report)
            return Score(value=value, epochs=kept, reported=reported)
        values_by_fold, epochs = [], []
        for k, fold in enumerate(self.folds, start=1):
            value, kept, _ = self._train(trial_spec, fold, None)
            values_by_fold.append(value)
            epochs.append(kept)
            if trial is not None and math.isfinite(value):
                self._reporter(trial)(k, sum(values_by_fold) / k)
        mean = sum(values_by_fold) / len(values_by_fold)
        return Score(
            value=mean,
            epochs=max(1, int(round(sum(epochs) / len(epochs)))),
            folds=values_by_fold,
            reported=len(values_by_fold) if trial is not None else 0,
        )

    def _reporter(self, trial) -> Callable[[int, float], None]:
        def report(step: int, value: float) -> None:
            trial.report(value, step)
            if trial.should_prune():
                raise self.optuna.TrialPruned(f"pruned at step {step}")

        return report

    def _train(
        self, trial_spec: Spec, view: Dataset, report: Callable[[int, float], None] | None
    ) -> tuple[float, int, int]:
        """Train on ``view``'s train split: (value at the kept epoch, that epoch, reports)."""
        from auditor.train import train_model
        from auditor.train.monitor import LOSS, metric_value

        metric, task = self.tuning.metric, view.task
        y_val = view.y.get("validation")  # a language model has no labels
        by_epoch: dict[int, float] = {}

        def on_epoch(epoch: int, val_loss: float, scores, measured: dict) -> None:
            if metric == LOSS:
                value = val_loss
            elif metric in measured:  # the loop measured it already (early stopping's)
                value = measured[metric]
            else:
                value = metric_value(metric, task, y_val, scores)
            by_epoch[epoch] = value
            if report is not None and math.isfinite(value):
                report(epoch, value)

        predictor = train_model(trial_spec, view, on_epoch=on_epoch)
        kept = int(predictor.info["kept_epoch"])
        reported = sum(1 for v in by_epoch.values() if math.isfinite(v)) if report else 0
        return by_epoch.get(kept, math.nan), kept, reported


def tune(
    spec: Spec, dataset: Dataset, *, progress=None, workers=None, out_dir=None
) -> tuple[Spec, TuningOutcome | None]:
    """Search the spec's ``tuning`` space; the spec with the chosen values, and the record.

    Parameters
    ----------
    spec : Spec
        Resolved spec; without ``tuning`` it is returned as it is, with None.
    dataset : Dataset
        Only its train and validation splits reach the search (:func:`search_view`).
    progress : auditor.progress.Progress, optional
        A bar over the trials on a terminal.
    workers : auditor.tuning.workers.Workers, optional
        ``auditor tune``: the study in a storage shared by worker processes (these and
        others that join it), the spec's own configuration scored here.
    out_dir : Path, optional
        The run folder (with ``workers`` and no storage, the journal file goes there).

    Returns
    -------
    (Spec, TuningOutcome or None)
        The spec to train and audit (the chosen values in ``model``/``training``,
        ``tuning`` null, ``training.train_on`` and ``epochs`` as ``retrain`` says), and
        what the search did.
    """
    if spec.tuning is None:
        return spec, None
    optuna = import_optuna(spec)
    tuning = spec.tuning
    started = time.perf_counter()
    notes: list[str] = []
    view = search_view(dataset)
    folds = fold_views(spec, view, notes) if tuning.cv is not None else None
    scorer = _Scorer(spec, view, folds, optuna)
    with _optuna_quiet(optuna):
        if workers is not None:  # auditor tune: trials shared by worker processes
            from auditor.tuning.workers import search_shared

            study, baseline = search_shared(
                workers, scorer, dataset, out_dir, started=started, progress=progress, notes=notes
            )
        else:
            baseline = _score_baseline(scorer)
            seen: dict[str, tuple[str, int | str, Score | None, str | None]] = {}
            if baseline.state == "complete":
                seen[sp.key(baseline.values)] = ("complete", SPEC_OWN, _score_of(baseline), None)
            study = _create_study(optuna, spec)
            objective = _objective(scorer, seen)
            _optimize(study, objective, tuning, started, progress)
    trials = [_record(t, optuna) for t in study.trials]
    trials = [t for t in trials if t is not None]
    outcome = _outcome(spec, tuning, baseline, trials, time.perf_counter() - started, notes)
    outcome.importance, outcome.importance_note = _importance(optuna, study, int(tuning.seed))
    return _chosen_spec(spec, outcome), outcome


#: Complete trials below which no option's importance is estimated.
IMPORTANCE_TRIALS = 4


def _importance(optuna, study, seed: int) -> tuple[dict[str, float] | None, str | None]:
    """Each option's importance (fANOVA, shares summing to 1), or None and why not.

    Options drawn in only some trials (a dropout only for mlp) are left out by Optuna,
    which needs every option in every complete trial it compares.
    """
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if len(complete) < IMPORTANCE_TRIALS:
        return None, (
            f"{len(complete)} complete trials; at least {IMPORTANCE_TRIALS} are needed to "
            "estimate which options matter"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = optuna.importance.get_param_importances(
                study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=seed)
            )
    except (ValueError, RuntimeError) as exc:
        return None, one_line(exc)
    if not values:
        return None, "no option was drawn in every complete trial"
    return {str(k): round(float(v), 4) for k, v in values.items()}, None


def _score_of(record: TrialRecord) -> Score:
    return Score(value=record.value, epochs=record.epochs, folds=record.folds)


def _score_baseline(scorer: _Scorer) -> TrialRecord:
    """The spec's own configuration, scored like a trial (never pruned)."""
    values = sp.spec_values(scorer.tuning.space, scorer.spec.values)
    started = time.perf_counter()
    reason = None
    try:
        score = scorer.score(values)
    except (RuntimeError, FloatingPointError) as exc:
        score, reason = None, one_line(exc)
    seconds = round(time.perf_counter() - started, 4)
    if score is not None and not math.isfinite(score.value):
        reason = MSG_NOT_FINITE.format(metric=scorer.tuning.metric)
    ok = score is not None and reason is None
    return TrialRecord(
        number=None,
        state="complete" if ok else "failed",
        values=values,
        value=score.value if ok else None,
        epochs=score.epochs if score is not None else None,
        folds=score.folds if score is not None else [],
        reported=0,
        seconds=seconds,
        reason=reason,
    )


def _create_study(optuna, spec: Spec, *, storage=None, study_name=None, worker: int = 0):
    """The study: the method's sampler, the pruner, the direction; kept in memory, or in a
    ``storage`` that worker processes share (created by the first, loaded by the others).

    ``worker`` offsets the sampler's seed, so that workers draw different values; a grid
    keeps its seed, so that trial k is the same grid point in every worker.
    """
    tuning = spec.tuning
    method = METHODS[tuning.method]
    sampler = method.build(
        optuna,
        seed=int(tuning.seed) + (0 if method.enumerates else int(worker)),
        startup_trials=int(tuning.startup_trials),
        grid=sp.grid(tuning.space) if method.enumerates else None,
        parallel=storage is not None,
    )
    pruner = PRUNERS[tuning.pruning].build(
        optuna,
        startup_trials=int(tuning.startup_trials),
        warmup_epochs=int(tuning.warmup_epochs),
    )
    return optuna.create_study(
        direction=tuning.direction,
        sampler=sampler,
        pruner=pruner,
        study_name=study_name or spec.name,
        storage=storage,
        load_if_exists=storage is not None,
    )


def _objective(scorer: _Scorer, seen: dict, *, shared=None) -> Callable[[Any], float]:
    """The function Optuna calls for each trial (a repeated configuration is not retrained:
    training is seeded, so it would find the same value). ``shared(trial, key)`` looks the
    configuration up among other workers' trials (an entry like ``seen``'s, or None)."""
    optuna = scorer.optuna
    tuning = scorer.tuning
    enumerates = METHODS[tuning.method].enumerates

    def objective(trial) -> float:
        values = sp.sample(trial, tuning.space, scorer.spec.values, enumerate_grid=enumerates)
        trial.set_user_attr("values", values)
        key = sp.key(values)
        earlier = seen.get(key)
        if earlier is None and shared is not None:
            earlier = shared(trial, key)
        if earlier is not None:
            return _repeat(trial, earlier, optuna)
        started = time.perf_counter()
        try:
            score = scorer.score(values, trial)
        except optuna.TrialPruned:
            seen[key] = ("pruned", trial.number, None, None)
            raise
        except AuditorError:
            raise
        except (RuntimeError, FloatingPointError) as exc:  # a configuration that breaks
            _failed(trial, key, seen, one_line(exc))
        finally:
            trial.set_user_attr("seconds", round(time.perf_counter() - started, 4))
        if not math.isfinite(score.value):
            _failed(trial, key, seen, MSG_NOT_FINITE.format(metric=tuning.metric))
        trial.set_user_attr("epochs", score.epochs)
        trial.set_user_attr("folds", score.folds)
        trial.set_user_attr("reported", score.reported)
        seen[key] = ("complete", trial.number, score, None)
        return score.value

    return objective


def _failed(trial, key: str, seen: dict, reason: str) -> None:
    trial.set_user_attr("reason", reason)
    seen[key] = ("failed", trial.number, None, reason)
    raise _Failed(reason)


def _repeat(trial, earlier: tuple, optuna) -> float:
    """A trial that drew an earlier configuration ends as that one did."""
    state, number, score, reason = earlier
    trial.set_user_attr("same_as", number)
    trial.set_user_attr("seconds", 0.0)
    if state == "pruned":
        raise optuna.TrialPruned(f"the configuration of trial {number}, which was pruned")
    if state == "failed":
        trial.set_user_attr("reason", reason)
        raise _Failed(reason)
    trial.set_user_attr("epochs", score.epochs)
    trial.set_user_attr("folds", score.folds)
    trial.set_user_attr("reported", 0)
    return score.value


def _optimize(study, objective, tuning: Tuning, started: float, progress) -> None:
    """Run the trials within the budget (what the baseline took counts against seconds)."""
    timeout = None
    if tuning.seconds is not None:
        timeout = float(tuning.seconds) - (time.perf_counter() - started)
        if timeout <= 0:
            return
    total = tuning.trials
    if total is None and METHODS[tuning.method].enumerates:
        total = sp.grid_size(tuning.space)
    bar = progress.bar(total=total, desc="tune") if progress is not None and total else None
    callbacks = [] if bar is None else [_bar_callback(bar)]
    try:
        study.optimize(
            objective,
            n_trials=tuning.trials,
            timeout=timeout,
            catch=(_Failed,),
            callbacks=callbacks,
        )
    finally:
        if bar is not None:
            bar.close()


def _bar_callback(bar):
    def update(study, trial) -> None:
        try:
            best = study.best_value
        except ValueError:  # no trial completed yet
            best = None
        bar.update(1, **({"best": best} if best is not None else {}))

    return update


@contextmanager
def _optuna_quiet(optuna) -> Iterator[None]:
    """Optuna's own log lines off while the search runs (results.json says it all)."""
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


def _record(trial, optuna) -> TrialRecord | None:
    """A finished Optuna trial as a record (None for one the budget cut off)."""
    states = {
        optuna.trial.TrialState.COMPLETE: "complete",
        optuna.trial.TrialState.PRUNED: "pruned",
        optuna.trial.TrialState.FAIL: "failed",
    }
    state = states.get(trial.state)
    if state is None or trial.user_attrs.get(BEYOND_BUDGET):
        return None
    attrs = trial.user_attrs
    return TrialRecord(
        number=int(trial.number),
        state=state,
        values=dict(attrs.get("values", {})),
        value=float(trial.value) if state == "complete" else None,
        epochs=attrs.get("epochs"),
        folds=list(attrs.get("folds", [])),
        reported=int(attrs.get("reported", len(trial.intermediate_values))),
        seconds=float(attrs.get("seconds", 0.0)),
        reason=attrs.get("reason") if state == "failed" else None,
        same_as=attrs.get("same_as"),
    )


def _better(a: float, b: float, direction: str) -> bool:
    return a > b if direction == "maximize" else a < b


def _outcome(
    spec: Spec,
    tuning: Tuning,
    baseline: TrialRecord,
    trials: list[TrialRecord],
    seconds: float,
    notes: list[str],
) -> TuningOutcome:
    """The record of the search and its choice: the best complete trial, unless the spec's
    own configuration scored at least as well."""
    direction = tuning.direction
    complete = [t for t in trials if t.state == "complete"]
    sign = -1.0 if direction == "maximize" else 1.0
    ranked = sorted(complete, key=lambda t: (sign * t.value, t.number))
    counts = {
        "run": len(trials),
        **{s: sum(1 for t in trials if t.state == s) for s in ("complete", "pruned", "failed")},
        "repeated": sum(1 for t in trials if t.same_as is not None),
    }
    best = ranked[0] if ranked else None
    if best is None and baseline.state != "complete":
        listed = ", ".join(f"{n} {s}" for s, n in counts.items() if s != "run")
        message = MSG_NOTHING_SCORED.format(counts=listed, reason=baseline.reason)
        raise SpecError(message, spec.locate(("tuning", "space")))
    use_trial = best is not None and (
        baseline.state != "complete" or _better(best.value, baseline.value, direction)
    )
    picked = best if use_trial else baseline
    improvement = None
    if baseline.state == "complete":
        improvement = -sign * (picked.value - baseline.value)
    return TuningOutcome(
        method=tuning.method,
        method_label=METHODS[tuning.method].label,
        pruning=tuning.pruning,
        metric=tuning.metric,
        direction=direction,
        scored_on="validation" if tuning.cv is None else "cv",
        cv=None
        if tuning.cv is None
        else {
            "folds": tuning.cv.folds,
            "strategy": tuning.cv.strategy,
            "group_column": tuning.cv.group_column,
        },
        budget={"trials": tuning.trials, "seconds": tuning.seconds},
        seed=int(tuning.seed),
        counts=counts,
        seconds=round(seconds, 4),
        declared=sp.plain_value(spec.values["tuning"]),
        baseline=baseline,
        chosen={
            "source": "trial" if use_trial else SPEC_OWN,
            "trial": picked.number,
            "values": dict(picked.values),
            "value": picked.value,
            "epochs": picked.epochs,
        },
        improvement=improvement,
        retrain={
            "on": tuning.retrain,
            "epochs": picked.epochs if tuning.retrain == "train_and_validation" else None,
        },
        trials=trials,
        best=ranked[:BEST_SHOWN],
        notes=notes,
    )


def untuned_spec(tuned: Spec, outcome: TuningOutcome) -> Spec | None:
    """The spec's own configuration, trained as the chosen one is (``retrain``), to measure
    what the search gained on rows it never saw; None when the search kept it anyway."""
    from auditor.types import Spec

    if outcome.chosen["source"] == SPEC_OWN or outcome.baseline.state != "complete":
        return None
    doc = sp.applied(tuned.values, outcome.baseline.values)
    if outcome.retrain["on"] == "train_and_validation":
        doc["training"]["epochs"] = int(outcome.baseline.epochs or doc["training"]["epochs"])
    return Spec(path=tuned.path, values=doc, positions=dict(tuned.positions))


def _chosen_spec(spec: Spec, outcome: TuningOutcome) -> Spec:
    """The spec to train and audit: the chosen values, no search, rows as retrain says."""
    from auditor.types import Spec

    doc = sp.applied(spec.values, outcome.chosen["values"])
    doc["tuning"] = None
    if outcome.retrain["on"] == "train_and_validation":
        training = doc["training"]
        training["train_on"] = "train_and_validation"
        training["epochs"] = int(outcome.retrain["epochs"])
        training["early_stopping"]["enabled"] = False
    return Spec(path=spec.path, values=doc, positions=dict(spec.positions))
