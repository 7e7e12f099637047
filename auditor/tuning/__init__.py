"""Hyperparameter search with Optuna, on the training and validation rows alone.

    Dataset --search_view--> train and validation splits --trials--> chosen configuration
    Spec + chosen values --> the spec the model stage trains (tuning left out)

The entry point :func:`tune` is in :mod:`auditor.tuning.search`; the vocabularies (methods,
pruners, folds, tunable options) are in :mod:`auditor.tuning.catalogue` and the space in
:mod:`auditor.tuning.space`. Optuna is an optional extra (``pip install 'auditor[tune]'``),
imported only when a search starts.
"""

from auditor.tuning.search import TrialRecord, TuningOutcome, search_view, tune

__all__ = ["TrialRecord", "TuningOutcome", "search_view", "tune"]
