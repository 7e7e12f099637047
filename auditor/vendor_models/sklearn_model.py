"""Predicting with a scikit-learn-like estimator (loaded from skops or, if allowed, pickle).

Input ``raw``: the estimator gets a DataFrame of the client's columns. When it knows the
columns it was fitted on (``feature_names_in_``, e.g. a Pipeline with a ColumnTransformer)
exactly those are passed, whatever ``data`` selects as features (reading a sensitive
column is noted); otherwise the spec's feature columns are passed as a numeric matrix.
Input ``preprocessed``: the estimator gets ``dataset.X`` (as a DataFrame with
``dataset.feature_names`` when it was fitted with column names).

Classification uses ``predict_proba`` when the estimator has it (columns reordered from
the estimator's ``classes_`` to the target's classes), else ``predict`` (labels, hard
scores). Regression uses ``predict``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from auditor.errors import one_line
from auditor.vendor_models.inputs import (
    batches,
    float_matrix,
    n_rows,
    numeric_raw_columns,
    preprocessed,
    raw_frame,
    resolve_columns,
)
from auditor.vendor_models.outputs import (
    column_order,
    is_index_classes,
    labels_to_scores,
    preview,
    probabilities_to_scores,
    shape_error,
)

if TYPE_CHECKING:  # pragma: no cover
    from auditor.types import Dataset
    from auditor.vendor_models.context import VendorContext

MSG_NOT_AN_ESTIMATOR = "the file holds a {type}, not a model with a predict method"
MSG_NOTE_INDEX_CLASSES = (
    "the model's classes are 0..{k_minus_1}: read as indices into the target's classes "
    "in their encoded order"
)
MSG_PREDICT_FAILED = "the vendor model failed on split {split!r}: {reason}"
MSG_WIDTH = "the model expects {expected} input column(s); input {input!r} gives {got}"
MSG_PREPROCESSED_NAMES = (
    "the model was fitted on columns {model} but the preprocessed matrix has {data}"
)


class EstimatorBackend:
    """A fitted estimator with ``predict`` (and ``predict_proba`` for scores)."""

    def __init__(self, ctx: VendorContext, model: Any, *, pickle_loaded: bool):
        self.ctx = ctx
        self.model = model
        self.pickle_loaded = pickle_loaded
        ds = ctx.dataset
        if not callable(getattr(model, "predict", None)):
            raise ctx.error(MSG_NOT_AN_ESTIMATOR.format(type=_type_name(model)))
        self.use_proba = ds.task != "regression" and callable(getattr(model, "predict_proba", None))
        self.has_scores = ds.task == "regression" or self.use_proba
        self.order = None
        if ds.task != "regression":
            classes = getattr(model, "classes_", None)
            if classes is None:
                ctx.note(
                    "the model declares no classes_; its probability columns are taken in "
                    "the target's class order"
                )
            self.order = column_order(
                None if classes is None else list(classes), ds.classes, error=ctx.error
            )
            if classes is not None and is_index_classes(list(classes), ds.classes):
                ctx.note(MSG_NOTE_INDEX_CLASSES.format(k_minus_1=len(ds.classes) - 1))
        if not self.use_proba and ds.task != "regression":
            ctx.note("the model has no predict_proba: scores are hard 0/1 labels")
        names = getattr(model, "feature_names_in_", None)
        self.names = None if names is None else [str(n) for n in names]
        expected = getattr(model, "n_features_in_", None)
        if ctx.settings.input == "raw":
            if self.names is not None:
                self.columns = resolve_columns(ctx, self.names)
            else:
                self.columns = numeric_raw_columns(ctx, kind="scikit-learn")
                self._check_width(expected, len(self.columns))
        else:
            self.columns = None
            width = len(ds.feature_names)
            if self.names is not None and self.names != list(ds.feature_names):
                raise ctx.error(
                    MSG_PREPROCESSED_NAMES.format(
                        model=preview(self.names), data=preview(ds.feature_names)
                    ),
                    field=("model", "vendor", "input"),
                )
            self._check_width(expected, width)
        self.info = {
            "estimator": _type_name(model),
            "classes": None
            if getattr(model, "classes_", None) is None
            else [c.item() if hasattr(c, "item") else c for c in model.classes_],
        }

    def _check_width(self, expected: Any, got: int) -> None:
        if expected is not None and int(expected) != got:
            raise self.ctx.error(
                MSG_WIDTH.format(expected=int(expected), input=self.ctx.settings.input, got=got),
                field=("model", "vendor", "input"),
            )

    def _inputs(self, dataset: Dataset, split: str):
        import pandas as pd

        if self.columns is not None:
            frame = raw_frame(dataset, split, self.columns)
            return frame if self.names is not None else float_matrix(frame, dtype=np.float64)
        X = preprocessed(dataset, split)
        if self.names is not None:
            return pd.DataFrame(X, columns=self.names)
        return X

    def predict(self, dataset: Dataset, split: str) -> np.ndarray:
        ds, ctx = dataset, self.ctx
        n = n_rows(ds, split)
        k = len(ds.classes) if ds.task != "regression" else 0
        data = self._inputs(ds, split)
        parts = []
        for rows in batches(n, ctx.batch_rows):
            chunk = data.iloc[rows] if hasattr(data, "iloc") else data[rows]
            try:
                method = self.model.predict_proba if self.use_proba else self.model.predict
                out = method(chunk)
            except Exception as exc:  # the vendor's code: any failure is the model's
                raise ctx.error(
                    MSG_PREDICT_FAILED.format(split=split, reason=one_line(exc))
                ) from None
            parts.append(np.asarray(out))
        out = np.concatenate(parts) if parts else np.empty((0,))
        if ds.task == "regression":
            if out.ndim == 2 and out.shape[1] == 1:
                out = out[:, 0]
            if out.shape != (n,):
                raise shape_error(out.shape, task=ds.task, n=n, n_classes=k, error=ctx.error)
            return out.astype(np.float64)
        if self.use_proba:
            return probabilities_to_scores(
                out, task=ds.task, n=n, n_classes=k, order=self.order, error=ctx.error
            )
        if out.ndim != 1 or out.shape[0] != n:
            if not (out.ndim == 2 and out.shape == (n, 1)):
                raise shape_error(out.shape, task=ds.task, n=n, n_classes=k, error=ctx.error)
            out = out[:, 0]
        return labels_to_scores(out, task=ds.task, classes=ds.classes, error=ctx.error)


def _type_name(obj: Any) -> str:
    t = type(obj)
    return f"{t.__module__}.{t.__qualname__}"
