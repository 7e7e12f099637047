"""k-fold cross-validation of the trained configuration (``evaluation.cross_validation``).

    train split --cut_folds--> k (fit rows, held-out rows) views of it
    each view: train_model on its fit rows -> scores on its held-out rows -> every metric
    -> {"per_fold": [{fold, rows, metric: value}], ...} for the fold_stability check

The folds are cut by the catalogued strategies (:data:`auditor.tuning.catalogue.CV_STRATEGIES`,
the same as ``tuning.cv``'s): random, stratified or grouped. Each fold keeps the
preprocessing fitted on the whole train split, as the search's folds do. The held-out rows
are scored at the audited model's decision threshold, so a fold's F1 is the one the model
would have there. Only the train split is read: the test split, the holdout and audit
files never reach it.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from auditor.errors import DataError, one_line

if TYPE_CHECKING:  # pragma: no cover
    from auditor.types import Dataset, Spec

MSG_FOLDS = "cannot cut the {rows} training rows into {folds} {label}: {reason}"
NO_RETRAINING = "a vendor's model cannot be retrained on folds of the train split"


def cut_folds(spec: Spec, view: Dataset, cv, seed: int, where: tuple, notes: list[str]):
    """The folds of ``view``'s train split, each a dataset whose validation split is the
    held-out fold (preprocessing unchanged); sklearn's warnings become ``notes``.

    ``cv`` has ``folds``, ``strategy`` and ``group_column`` (``tuning.cv``,
    ``evaluation.cross_validation``); ``where`` is its place in the spec, for
    the located error when the rows cannot be cut (fewer rows of a class than folds).
    """
    from auditor.tuning.catalogue import CV_STRATEGIES

    strategy = CV_STRATEGIES[cv.strategy]
    if view.task not in strategy.tasks:  # the default 'stratified' for regression
        strategy = CV_STRATEGIES["random"]
    y = view.y["train"]
    frame = view.frames["train"]
    groups = frame[cv.group_column].astype(str).to_numpy() if strategy.needs_groups else None
    splitter = strategy.build(cv.folds, int(seed))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            parts = list(splitter.split(np.zeros((len(y), 1)), y, groups))
    except ValueError as exc:
        message = MSG_FOLDS.format(
            rows=len(y), folds=cv.folds, label=strategy.label, reason=one_line(exc)
        )
        raise DataError(message, spec.locate(where + ("folds",))) from None
    notes.extend(one_line(w.message) for w in caught)
    views = []
    for fit, held in parts:
        views.append(
            replace(
                view,
                frames={"train": frame.iloc[fit], "validation": frame.iloc[held]},
                X={"train": view.X["train"][fit], "validation": view.X["train"][held]},
                y={"train": y[fit], "validation": y[held]},
                groups={
                    "train": view.groups["train"].iloc[fit],
                    "validation": view.groups["train"].iloc[held],
                },
                class_weights=None,  # recomputed from the fold's own rows when asked for
            )
        )
    return views


def _on_fold_rows(spec: Spec) -> Spec:
    """The spec as each fold trains it: on the fold's training rows only, even when the
    audited model was retrained on train and validation (the held-out fold is a fold's
    validation split, which that would train on)."""
    from auditor.types import Spec as SpecType

    if spec.training.train_on == "train":
        return spec
    values = {**spec.values, "training": {**spec.values["training"], "train_on": "train"}}
    return SpecType(path=spec.path, values=values, positions=dict(spec.positions))


def cross_validate(
    spec: Spec, dataset: Dataset, threshold: float | None, *, progress=None
) -> dict[str, Any] | None:
    """Every metric of the task on each held-out fold (None without the section).

    Returns
    -------
    dict or None
        ``{"folds", "strategy", "group_column", "seed", "rows", "threshold", "notes",
        "per_fold": [{"fold", "rows", <metric>: value, ...}]}``.
    """
    folds = spec.evaluation.cross_validation
    if folds is None or spec.model.vendor is not None:
        return None
    from auditor.metrics import Rows, decisions, metric_names, point_metrics
    from auditor.train import train_model
    from auditor.tuning.search import search_view

    notes: list[str] = []
    view = search_view(dataset)  # the train (and validation) splits alone
    spec = _on_fold_rows(spec)
    seed = int(folds.seed)
    views = cut_folds(spec, view, folds, seed, ("evaluation", "cross_validation"), notes)
    task = dataset.task
    k = len(dataset.classes) if task != "regression" else None
    names = metric_names(task)
    bar = progress.bar(total=len(views), desc="folds") if progress is not None else None
    per_fold = []
    try:
        for i, fold in enumerate(views, start=1):
            scores = np.asarray(train_model(spec, fold).predict(fold, "validation"))
            y = np.asarray(fold.y["validation"])
            rows = Rows(task, y, scores, decisions(task, scores, threshold), n_classes=k)
            per_fold.append({"fold": i, "rows": int(len(y)), **point_metrics(rows, names)})
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return {
        "folds": int(folds.folds),
        "strategy": folds.strategy,
        "group_column": folds.group_column,
        "seed": seed,
        "rows": int(len(view.y["train"])),
        "threshold": threshold,
        "notes": notes,
        "per_fold": per_fold,
    }
