"""The evaluate stage: predictions, decision threshold, baselines and learning curve.

``evaluate(spec, dataset, predictor) -> Evaluation`` computes once everything the checks need
that requires running or retraining a model; the checks themselves are pure functions of the
result. The decision threshold is chosen on the validation split only: the test split and
the holdout are never used to choose anything.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from auditor.metrics.performance import decisions, default_metric
from auditor.types import LM_TASKS, TEXT_TASKS, Dataset, Evaluation, Predictor, Spec, SplitEval

MISSING_COSTS = (
    "threshold strategy 'min_cost' needs evaluation.costs (false_positive, false_negative)"
)
NO_VALIDATION = (
    "threshold strategy {strategy!r} needs a validation split to choose the threshold on"
)
BASELINE_ROWS = 200_000  # the linear baseline learns from at most this many rows (seeded)
NOT_COVERED = "the vendor's predictions do not cover every row of {where}, so it is not evaluated"
NONE_COVERED = (
    "the vendor's predictions cover no split completely ({splits}): every row of at least "
    "one split needs a prediction, matched by data.id_column"
)
VALIDATION_NOT_COVERED = (
    "threshold strategy {strategy!r} chooses the threshold on the validation split, but the "
    "vendor's predictions do not cover it: use strategy 'fixed' or score the validation rows"
)


def primary_metric(spec: Spec, task: str, *, has_scores: bool = True) -> str:
    """The first of evaluation.metrics that applies, else the task's default."""
    return default_metric(task, has_scores=has_scores, wanted=spec.evaluation.metrics)


# ------------------------------------------------------------------ threshold
def threshold_candidates(y: np.ndarray, scores: np.ndarray):
    """For each distinct score t (descending): TP and FP when predicting positive at score >= t.

    Returns (thresholds, tp, fp, positives, negatives); a threshold above every score
    (predict nothing positive) is included first.
    """
    order = np.argsort(-scores, kind="stable")
    s, yy = scores[order], (y[order] == 1).astype(np.float64)
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # last row of each distinct score
    tp = np.cumsum(yy)[last]
    fp = np.cumsum(1.0 - yy)[last]
    top = math.nextafter(float(s[0]), math.inf) if len(s) else 1.0
    return (
        np.r_[top, s[last]],
        np.r_[0.0, tp],
        np.r_[0.0, fp],
        float(yy.sum()),
        float(len(yy) - yy.sum()),
    )


def threshold_split(dataset: Dataset) -> str:
    """The split a threshold is chosen on: the rows set aside for it (audit-only data), else
    the validation split."""
    return "threshold" if "threshold" in dataset.y else "validation"


def choose_threshold(
    spec: Spec, dataset: Dataset, validation_scores: np.ndarray | None
) -> tuple[float, dict[str, Any]]:
    """The binary decision threshold and how it was chosen (on validation data only).

    ``validation_scores`` are the predictor's scores on :func:`threshold_split`'s rows.
    """
    from auditor.errors import SpecError

    setting = spec.evaluation.threshold
    strategy = setting.strategy
    if strategy == "fixed":
        value = float(setting.value)
        return value, {"strategy": "fixed", "chosen_on": None, "value": value}
    on = threshold_split(dataset)
    if validation_scores is None and on in dataset.y:  # a vendor skipped it
        raise SpecError(
            VALIDATION_NOT_COVERED.format(strategy=strategy),
            spec.locate(("evaluation", "threshold", "strategy")),
        )
    if validation_scores is None or on not in dataset.y:
        raise SpecError(
            NO_VALIDATION.format(strategy=strategy),
            spec.locate(("evaluation", "threshold", "strategy")),
        )
    y = np.asarray(dataset.y[on]).astype(int)
    thresholds, tp, fp, pos, neg = threshold_candidates(
        y, np.asarray(validation_scores, dtype=float)
    )
    fn = pos - tp
    if strategy == "best_f1":
        denom = 2 * tp + fp + fn
        f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
        i = int(np.argmax(f1))
        return float(thresholds[i]), {
            "strategy": "best_f1",
            "chosen_on": on,
            "rows": int(len(y)),
            "value": float(thresholds[i]),
            "validation_f1": float(f1[i]),
        }
    costs = spec.evaluation.costs
    if costs is None:
        raise SpecError(MISSING_COSTS, spec.locate(("evaluation", "threshold", "strategy")))
    cost = float(costs.false_positive) * fp + float(costs.false_negative) * fn
    per_k = 1000.0 * cost / max(len(y), 1)
    i = int(np.argmin(cost))
    return float(thresholds[i]), {
        "strategy": "min_cost",
        "chosen_on": on,
        "rows": int(len(y)),
        "value": float(thresholds[i]),
        "validation_cost_per_1000": float(per_k[i]),
        "unit": costs.unit,
    }


# ------------------------------------------------------------------ baselines
def _point(
    task: str, y, scores, pred, n_classes: int | None, *, has_scores: bool = True
) -> dict[str, float]:
    from auditor.metrics import Rows, metric_names, point_metrics

    return point_metrics(
        Rows(task, y, scores, pred, n_classes=n_classes), metric_names(task, has_scores=has_scores)
    )


def baseline_split(dataset: Dataset) -> str | None:
    """The rows the baselines learn from: the training split, else the development data
    (when it holds the target), else none."""
    for split in ("train", "reference"):
        if split in dataset.y:
            return split
    return None


#: The trivial baselines of each task, the first the one a criterion without ``baseline``
#: compares with (always the majority class, or the training mean); ``linear`` is added
#: wherever the data have the preprocessed matrix.
TRIVIAL_BASELINES: dict[str, tuple[str, ...]] = {
    "binary": ("majority", "stratified"),
    "multiclass": ("majority", "stratified"),
    "regression": ("mean", "median"),
}


def _fit_linear(dataset: Dataset, fit_on: str, y_train: np.ndarray, seed: int):
    """A linear model fitted on a seeded sample of at most BASELINE_ROWS training rows."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression, Ridge

    task = dataset.task
    linear = Ridge(alpha=1.0) if task == "regression" else LogisticRegression(max_iter=500)
    with warnings.catch_warnings():
        # A baseline that has not fully converged is still a fair, simple reference.
        warnings.simplefilter("ignore", ConvergenceWarning)
        X_fit, y_fit = dataset.X[fit_on], y_train
        if len(y_fit) > BASELINE_ROWS:
            rng = np.random.default_rng(seed)
            pick = np.sort(rng.choice(len(y_fit), BASELINE_ROWS, replace=False))
            X_fit, y_fit = X_fit[pick], y_fit[pick]
        linear.fit(X_fit, y_fit)
    return linear


#: The TF-IDF baseline of a text column: word 1-2 grams, at most this many terms.
TFIDF_FEATURES = 20_000


def _fit_tfidf(dataset: Dataset, fit_on: str, y_train: np.ndarray, seed: int):
    """TF-IDF of the text column(s) (word 1-2 grams, fitted on the training rows only) and
    a logistic regression on them, or None when the data have no text column."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    columns = dataset.text_columns
    if not columns or dataset.task == "regression":
        return None
    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), max_features=TFIDF_FEATURES, sublinear_tf=True),
        LogisticRegression(max_iter=1000, random_state=seed),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(_joined_text(dataset.frames[fit_on], columns), y_train)
    return model, columns


def _joined_text(frame, columns: list[str]) -> list[str]:
    """Each row's text columns joined by a space (missing text as empty)."""
    parts = [frame[c].fillna("").astype(str) for c in columns]
    joined = parts[0]
    for p in parts[1:]:
        joined = joined + " " + p
    return joined.tolist()


def _trivial(task: str, y_train: np.ndarray, k: int | None, n: int, rng) -> dict[str, tuple]:
    """{baseline: (scores, decisions)} of the trivial baselines on ``n`` rows."""
    if task == "regression":
        mean, median = float(np.mean(y_train)), float(np.median(y_train))
        return {
            "mean": (np.full(n, mean), np.full(n, mean)),
            "median": (np.full(n, median), np.full(n, median)),
        }
    shares = np.bincount(y_train.astype(int), minlength=k) / max(len(y_train), 1)
    majority = int(np.argmax(shares))
    guess = rng.choice(k, size=n, p=shares)  # a random guess in the training shares
    if task == "binary":
        constant = np.full(n, shares[1])
        return {
            "majority": (constant, np.full(n, majority, dtype=np.int64)),
            "stratified": (guess.astype(np.float64), guess.astype(np.int64)),
        }
    return {
        "majority": (np.tile(shares, (n, 1)), np.full(n, majority, dtype=np.int64)),
        "stratified": (np.eye(k)[guess], guess.astype(np.int64)),
    }


def baseline_predictions(
    dataset: Dataset, threshold: float | None, *, seed: int = 0
) -> dict[str, dict[str, SplitEval]]:
    """{baseline: {split: SplitEval}}: what each simple model predicts on each split.

    The trivial baselines (:data:`TRIVIAL_BASELINES`: the majority class or the mean, a
    seeded random guess in the training shares, the median) and a linear model learn
    from :func:`baseline_split`'s rows (the linear model only where the data have the
    preprocessed matrix, and from a seeded sample of at most :data:`BASELINE_ROWS` of
    them: a linear model's fit has settled long before); they predict every other split
    with a target, on the same rows as the audited model, so that the checks score them
    with the same bootstrap resamples (paired differences).
    """
    task = dataset.task
    k = len(dataset.classes) if task != "regression" else None
    fit_on = baseline_split(dataset)
    if fit_on is None:
        return {}
    y_train = np.asarray(dataset.y[fit_on])
    linear = tfidf = None
    varied = len(np.unique(y_train)) > 1
    if varied and fit_on in dataset.X and dataset.X[fit_on].shape[1] > 0:
        linear = _fit_linear(dataset, fit_on, y_train, seed)
    if varied and fit_on in dataset.frames:
        tfidf = _fit_tfidf(dataset, fit_on, y_train, seed)
    out: dict[str, dict[str, SplitEval]] = {name: {} for name in TRIVIAL_BASELINES[task]}
    if linear is not None:
        out["linear"] = {}
    if tfidf is not None:
        out["tfidf"] = {}
    for i, split in enumerate(dataset.splits):
        if split not in dataset.y or dataset.role(split) == "threshold":
            continue
        y = np.asarray(dataset.y[split])
        if len(y) == 0:
            continue
        rng = np.random.default_rng([int(seed), 7919, i])
        for name, (s, pred) in _trivial(task, y_train, k, len(y), rng).items():
            out[name][split] = SplitEval(y_true=y, scores=s, y_pred=pred, groups=None)
        if linear is not None and split in dataset.X:
            if task == "regression":
                ls = linear.predict(dataset.X[split])
            else:
                proba = np.zeros((len(y), k))
                proba[:, linear.classes_.astype(int)] = linear.predict_proba(dataset.X[split])
                ls = proba[:, 1] if task == "binary" else proba
            out["linear"][split] = SplitEval(
                y_true=y, scores=ls, y_pred=decisions(task, ls, threshold), groups=None
            )
        if tfidf is not None and set(tfidf[1]) <= set(dataset.frames[split].columns):
            model, columns = tfidf
            proba = np.zeros((len(y), k))
            proba[:, model.classes_.astype(int)] = model.predict_proba(
                _joined_text(dataset.frames[split], columns)
            )
            ts = proba[:, 1] if task == "binary" else proba
            out["tfidf"][split] = SplitEval(
                y_true=y, scores=ts, y_pred=decisions(task, ts, threshold), groups=None
            )
    return {name: per for name, per in out.items() if per}


def baselines(
    dataset: Dataset,
    threshold: float | None,
    *,
    seed: int = 0,
    predictions: dict[str, dict[str, SplitEval]] | None = None,
) -> dict[str, dict[str, dict[str, float]]]:
    """Point metrics per baseline and split (every metric of the task): results.json's
    ``evaluation.baselines``. ``predictions``: :func:`baseline_predictions`, when already
    made."""
    if predictions is None:
        predictions = baseline_predictions(dataset, threshold, seed=seed)
    k = len(dataset.classes) if dataset.task != "regression" else None
    return {
        name: {
            split: _point(dataset.task, e.y_true, e.scores, e.y_pred, k) for split, e in per.items()
        }
        for name, per in predictions.items()
    }


# ------------------------------------------------------------------ learning curve
def _fraction_values(
    dataset: Dataset, model, predictor: Predictor, known: dict, rows, metric: str, threshold
) -> dict[str, float]:
    """``metric`` of ``model`` on its training ``rows`` and on the validation split."""
    from auditor.metrics import Rows, point_metrics

    task = dataset.task
    k = len(dataset.classes) if task != "regression" else None
    values = {}
    for split, sel in (("train", rows), ("validation", None)):
        if model is predictor and split in known:
            scores = known[split]
        else:
            scores = np.asarray(model.predict(dataset, split))
        y = np.asarray(dataset.y[split])
        if sel is not None:
            scores, y = scores[sel], y[sel]
        values[split] = point_metrics(
            Rows(task, y, scores, decisions(task, scores, threshold), n_classes=k), [metric]
        )[metric]
    return values


def learning_curve(
    spec: Spec,
    dataset: Dataset,
    predictor: Predictor,
    metric: str,
    threshold: float | None,
    *,
    progress=None,
    full_scores: dict[str, np.ndarray] | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Retrain on growing fractions of the training rows; (points, reason when skipped).

    ``full_scores``: the predictor's scores per split, already computed; the full fraction
    reuses them instead of predicting the training and validation rows again.
    """
    settings = spec.evaluation.learning_curve
    if not settings.enabled:
        return [], "it is switched off (evaluation.learning_curve.enabled: false)"
    if predictor.kind.startswith("vendor:"):
        return [], "a vendor model cannot be retrained on fractions of the data"
    if "train" not in dataset.y:  # pragma: no cover - audit-only data audit a vendor model
        return [], "there is no training split"
    from auditor.train import train_model

    n = len(dataset.y["train"])
    rng = np.random.default_rng(int(spec.training.seed))
    order = rng.permutation(n)
    known = full_scores or {}
    points = []
    for fraction in sorted(float(f) for f in settings.fractions):
        size = max(int(round(fraction * n)), 2)
        if progress is not None:
            progress.status(f"learning curve: {100 * fraction:.0f}% of the training rows")
        if size >= n:
            model, rows = predictor, np.arange(n)
        else:
            rows = np.sort(order[:size])
            model = train_model(spec, dataset, train_rows=rows)
        values = _fraction_values(dataset, model, predictor, known, rows, metric, threshold)
        points.append(
            {
                "fraction": fraction,
                "rows": int(size),
                "train": values["train"],
                "validation": values["validation"],
            }
        )
    return points, None


# ------------------------------------------------------------------ drift
def reference_split(dataset: Dataset) -> str | None:
    """The development data the client's data are compared with: ``reference``, else the
    training split."""
    for split in ("reference", "train"):
        if split in dataset.frames:
            return split
    return None


def compare_with_reference(
    spec: Spec, dataset: Dataset, notes: dict, *, progress=None, beside: list | None = None
) -> list:
    """Drift from the development data to every client split (holdout, audit files).

    Returns a list of :class:`auditor.drift.DriftResult`; when there is nothing to compare,
    ``notes["drift"]`` says why. ``beside``: a list that receives one
    :class:`DomainClassifiers` whose thread trains the domain classifiers while the caller
    goes on (the trees take one core for seconds, and most of an evaluation leaves the
    other idle); the caller settles it before reading any result's ``domain``. Without it,
    they are trained here.
    """
    from auditor.drift import DriftResult, domain_classifier, feature_drift

    reference = reference_split(dataset)
    current = [s for s in dataset.splits if dataset.role(s) in ("holdout", "audit")]
    if reference is None or not current:
        notes["drift"] = (
            "there are no client data to compare with the development data (data.holdout "
            "or data.audit)"
            if reference is not None
            else "there are no development data to compare with (data.reference)"
        )
        return []
    settings, evaluation = spec.evaluation.drift, spec.evaluation
    ref = dataset.frames[reference]
    columns = [c for c in dataset.feature_columns if c in ref.columns]
    out = []
    domains = DomainClassifiers()
    for i, split in enumerate(current):
        if progress is not None:
            progress.status(f"drift: {reference} against {split}")
        result = DriftResult(reference=reference, current=split)
        frame = dataset.frames[split]
        common = {"seed": int(evaluation.seed) * 31 + i, "confidence": float(evaluation.confidence)}
        if settings.domain_classifier and columns:
            domains.start(
                result,
                domain_classifier,
                ref,
                frame,
                columns,
                dataset.column_types,
                rows=int(settings.domain_rows),
                resamples=int(evaluation.bootstrap),
                **common,
            )
        elif not columns:
            result.note = "the development data hold none of the feature columns"
        else:
            result.note = "it is switched off (evaluation.drift.domain_classifier: false)"
        result.features = feature_drift(
            ref,
            frame,
            columns,
            dataset.column_types,
            settings,
            resamples=min(int(evaluation.bootstrap), 1000),
            **common,
        )
        out.append(result)
    if beside is None:
        domains.settle()
    else:
        beside.append(domains)
    return out


class DomainClassifiers:
    """The domain classifiers of :func:`compare_with_reference`, trained one after another
    on one thread beside the caller (numpy and the trees release the GIL); :meth:`settle`
    waits for them and sets each result's ``domain``, raising what a training raised."""

    def __init__(self) -> None:
        self._started: list[tuple[Any, Any]] = []
        self._pool = None

    def start(self, result, fn, *args, **kwargs) -> None:
        """Train ``fn(*args, **kwargs)`` on the thread, for ``result.domain``."""
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="domain")
        self._started.append((result, self._pool.submit(fn, *args, **kwargs)))

    def settle(self) -> None:
        """Wait for every training; each result gets its classifier."""
        started, self._started = self._started, []
        try:
            for result, future in started:
                result.domain = future.result()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)


# ------------------------------------------------------------------ the stage
def covered_splits(dataset: Dataset, predictor: Predictor) -> list[str]:
    """The splits the predictor scores completely (a predictions file may cover only some)."""
    covers = getattr(predictor, "covers", None)
    if covers is None:
        return list(dataset.splits)
    return [s for s in dataset.splits if covers(dataset, s)]


def _uncovered(spec: Spec, dataset: Dataset, covered: list[str]) -> dict[str, str]:
    """{split: why} for the splits the predictor does not cover; ModelFileError if none is."""
    from auditor.splits import split_phrase

    uncovered = {
        s: NOT_COVERED.format(where=split_phrase(s)) for s in dataset.splits if s not in covered
    }
    if uncovered and not covered:
        from auditor.errors import ModelFileError

        raise ModelFileError(
            NONE_COVERED.format(splits=", ".join(dataset.splits)),
            spec.locate(("model", "vendor", "path")),
        )
    return uncovered


def _split_evals(dataset: Dataset, covered: list[str], scores: dict, threshold) -> dict:
    """{split: SplitEval} of the covered splits: truth, scores, decisions and groups."""
    splits = {}
    for s in covered:
        groups = dataset.groups.get(s)
        if groups is not None:
            groups = groups.reset_index(drop=True)
        splits[s] = SplitEval(
            y_true=np.asarray(dataset.y[s]),
            scores=scores[s],
            y_pred=decisions(dataset.task, scores[s], threshold),
            groups=groups,
        )
    return splits


def _noted_learning_curve(
    spec: Spec, dataset: Dataset, predictor: Predictor, metric: str, threshold, notes, **kwargs
) -> list[dict[str, Any]]:
    """The learning curve's points; why it was skipped goes to ``notes["learning_curve"]``."""
    curve: list[dict[str, Any]] = []
    try:
        curve, reason = learning_curve(spec, dataset, predictor, metric, threshold, **kwargs)
        if reason:
            notes["learning_curve"] = reason
    except ImportError as exc:  # the training engine is not installed in this build
        notes["learning_curve"] = f"the training engine is unavailable ({exc})"
    return curve


def evaluate(
    spec: Spec,
    dataset: Dataset,
    predictor: Predictor,
    *,
    progress=None,
    learning_curve: bool = True,
    drift: list | None = None,
    tuning=None,
    settle: bool = True,
) -> Evaluation:
    """Predict every split, choose the threshold on validation, compute baselines and curves.

    A vendor's predictions file may score only some splits (say, the client holdout): a
    split the predictor does not cover (``predictor.covers(dataset, split)`` is false) is not
    evaluated, and ``notes["uncovered_splits"]`` says why, so that the checks report it and
    a criterion on it is an 'error' with that reason. Covering no split at all is a
    ModelFileError; choosing the threshold on an uncovered validation split is a SpecError.
    ``learning_curve: False`` skips the retraining on fractions; ``drift`` reuses another
    evaluation's comparison with the development data (a second model on the same data).
    ``tuning`` (the search's outcome) trains the spec's own configuration as the chosen one
    was trained and predicts the splits the search never read, for the tuning gain.
    ``settle: False`` returns while the domain classifiers may still be training on their
    thread (:func:`compare_with_reference`): :func:`settle_drift` waits for them, and
    :func:`auditor.checks.run_checks` does so before the check that reads them.

    Returns
    -------
    Evaluation
        With two extra attributes: ``has_scores`` (the predictor gives probabilities) and
        ``notes`` (why optional parts were skipped).
    """
    if dataset.task in TEXT_TASKS:  # generated text: measured per row by the text checks
        from auditor.text.audit import text_evaluation

        return text_evaluation(spec, dataset)
    if dataset.task in LM_TASKS:  # a language model: per-document likelihoods, extraction
        from auditor.train.lm_evaluate import lm_evaluation

        return lm_evaluation(spec, dataset, predictor, progress=progress, tuning=tuning)
    task = dataset.task
    has_scores = bool(predictor.has_scores)
    notes: dict[str, Any] = {}
    covered = covered_splits(dataset, predictor)
    uncovered = _uncovered(spec, dataset, covered)
    if uncovered:
        notes["uncovered_splits"] = uncovered
    beside: list = []  # the domain classifiers train on a thread while the rest runs
    if drift is None:  # a second model on the same data reuses the first one's comparison
        drift = compare_with_reference(spec, dataset, notes, progress=progress, beside=beside)
    scores = {s: np.asarray(predictor.predict(dataset, s)) for s in covered}
    threshold, info = (None, {})
    if task == "binary":
        threshold, info = choose_threshold(spec, dataset, scores.get(threshold_split(dataset)))
    audited = [s for s in covered if dataset.role(s) != "threshold" and s in dataset.y]
    splits = _split_evals(dataset, audited, scores, threshold)
    metric = primary_metric(spec, task, has_scores=has_scores)
    from auditor.importance import model_drivers

    drivers = model_drivers(
        spec,
        dataset,
        predictor,
        scores=scores,
        threshold=threshold,
        metric=metric,
        notes=notes,
        progress=progress,
    )
    pinfo = predictor.info or {}
    curve = []
    if learning_curve:
        curve = _noted_learning_curve(
            spec,
            dataset,
            predictor,
            metric,
            threshold,
            notes,
            progress=progress,
            full_scores=scores,
        )
    else:
        notes["learning_curve"] = "it is drawn for the audited model only"
    simple = baseline_predictions(dataset, threshold, seed=int(spec.training.seed))
    untuned = _untuned(spec, dataset, tuning, audited, progress=progress)
    folds = None
    if learning_curve:  # retraining extras are for the audited model only
        from auditor.cross_validation import cross_validate

        folds = cross_validate(spec, dataset, threshold, progress=progress)
    elif spec.evaluation.cross_validation is not None:
        notes["cross_validation"] = "it is measured for the audited model only"
    if settle:
        for domains in beside:
            domains.settle()
    evaluation = Evaluation(
        task=task,
        classes=list(dataset.classes),
        splits=splits,
        threshold=threshold,
        threshold_info=info,
        history=list(predictor.history or []),
        best_epoch=pinfo.get("best_epoch"),
        stopped_early=bool(pinfo.get("stopped_early", False)),
        baselines=baselines(dataset, threshold, predictions=simple),
        baseline_predictions=simple,
        learning_curve=curve,
        primary_metric=metric,
        has_scores=has_scores,
        notes=notes,
        drift=drift,
        drivers=drivers,
        tuning=tuning,
        untuned=untuned,
        cross_validation=folds,
    )
    evaluation.pending_drift = [] if settle else beside  # not a field: results never hold it
    return evaluation


def settle_drift(evaluation: Evaluation) -> None:
    """Wait for the domain classifiers an ``evaluate(..., settle=False)`` left training;
    each drift result then has its ``domain``."""
    pending = getattr(evaluation, "pending_drift", None) or []
    evaluation.pending_drift = []
    for domains in pending:
        domains.settle()


def _untuned(spec: Spec, dataset: Dataset, tuning, audited: list[str], *, progress=None):
    """{split: SplitEval} of the spec's own configuration on the splits the search never
    read (its threshold chosen as the model's is); empty without a search that changed it."""
    if tuning is None:
        return {}
    from auditor.train import train_model
    from auditor.tuning.search import SEARCH_SPLITS, untuned_spec

    own = untuned_spec(spec, tuning)
    unseen = [s for s in audited if s not in SEARCH_SPLITS]
    if own is None or not unseen:
        return {}
    if progress is not None:
        progress.status("the spec's own configuration, for the tuning gain")
    predictor = train_model(own, dataset)
    scores = {s: np.asarray(predictor.predict(dataset, s)) for s in unseen}
    threshold = None
    if dataset.task == "binary":
        split = threshold_split(dataset)
        at = np.asarray(predictor.predict(dataset, split)) if split in dataset.y else None
        threshold, _ = choose_threshold(own, dataset, at)
    return _split_evals(dataset, unseen, scores, threshold)
