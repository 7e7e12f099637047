"""Turning a vendor model's raw output into canonical scores.

Canonical scores (see :class:`auditor.types.Predictor`): binary -> (n,) probability of the
positive class; multiclass -> (n, K) probabilities in the order of ``dataset.classes``;
regression -> (n,) predictions. Labels (when a vendor gives no scores) become hard 0/1
scores (one-hot for multiclass).

Rules for tensor outputs of ONNX and TorchScript models (``output: auto``):

- binary: an (n,) or (n, 1) output is the positive-class score; an (n, 2) output holds
  both classes and column 1 is taken. Values outside [0, 1] are logits: sigmoid
  (one column) or softmax (two columns) is applied.
- multiclass: an (n, K) output; if any value is outside [0, 1] or a row does not sum to 1
  (within 1e-3) the output is taken as logits and softmax is applied.
- regression: an (n,) or (n, 1) output, used as is.

``output: probabilities`` never transforms (values outside [0, 1] are an error);
``output: logits`` always applies sigmoid/softmax.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from auditor.errors import ModelFileError
from auditor.vendor_models.files import listing

ErrorFactory = Callable[[str], ModelFileError]

MSG_SHAPE = "the model's output has shape {got}; a {task} task with {what} expects {expected}"
MSG_NOT_FINITE = (
    "the model's output has {count} missing or non-finite value(s) (first at row {row})"
)
MSG_OUT_OF_RANGE = (
    "{what} must lie in [0, 1]; {count} value(s) do not (min {low:.4g}, max {high:.4g})"
)
MSG_UNKNOWN_LABELS = (
    "predicted label(s) {labels} are not classes of the target (classes: {classes})"
)
MSG_CLASSES_MISMATCH = "the model's classes {model} do not match the target's classes {classes}"
MSG_NOT_NUMERIC = "the model's output is not numeric (dtype {dtype})"

SUM_TOLERANCE = 1e-3


def class_key(value: Any) -> str:
    """A comparable key for a class label: 1, 1.0, '1', True and np.int64(1) agree."""
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).strip()


def preview(values: Sequence[Any], limit: int = 5) -> str:
    """``[v1, v2, ... (N in all)]``, numpy scalars shown as the Python values they hold."""
    return "[" + listing(values, limit, lambda v: repr(v.item() if hasattr(v, "item") else v)) + "]"


def class_indices(labels: Any, classes: Sequence[Any], *, error: ErrorFactory) -> np.ndarray:
    """Map predicted labels to class indices 0..K-1 (the order of ``classes``)."""
    lookup = {class_key(c): i for i, c in enumerate(classes)}
    arr = np.asarray(labels, dtype=object).ravel()
    keys, inverse = np.unique(
        np.array([class_key(v) for v in arr], dtype=object), return_inverse=True
    )
    unknown = [k for k in keys if k not in lookup]
    if unknown and all(k in {str(i) for i in range(len(classes))} for k in keys):
        lookup = {str(i): i for i in range(len(classes))}  # labels are class indices
        unknown = []
    if unknown:
        raise error(MSG_UNKNOWN_LABELS.format(labels=preview(unknown), classes=preview(classes)))
    mapped = np.array([lookup[k] for k in keys], dtype=np.int64)
    return mapped[inverse.ravel()]


def hard_scores(indices: np.ndarray, *, task: str, n_classes: int) -> np.ndarray:
    """Class indices as hard scores: binary (n,) 0/1, multiclass one-hot (n, K)."""
    if task == "binary":
        return (indices == 1).astype(np.float64)
    out = np.zeros((len(indices), n_classes), dtype=np.float64)
    out[np.arange(len(indices)), indices] = 1.0
    return out


def labels_to_scores(
    labels: Any, *, task: str, classes: Sequence[Any], error: ErrorFactory
) -> np.ndarray:
    """Predicted labels -> hard scores in the canonical shape."""
    return hard_scores(
        class_indices(labels, classes, error=error), task=task, n_classes=len(classes)
    )


def column_order(
    model_classes: Sequence[Any] | None, classes: Sequence[Any], *, error: ErrorFactory
) -> np.ndarray | None:
    """Permutation taking the model's probability columns to the target's class order.

    ``None`` when the model declares no classes (its columns are then taken in the
    target's order).
    """
    if model_classes is None:
        return None
    model_keys = [class_key(c) for c in model_classes]
    target_keys = [class_key(c) for c in classes]
    if sorted(model_keys) != sorted(target_keys) or len(set(model_keys)) != len(model_keys):
        if is_index_classes(model_classes, classes):
            return np.arange(len(classes))
        raise error(
            MSG_CLASSES_MISMATCH.format(
                model=preview(list(model_classes)), classes=preview(list(classes))
            )
        )
    position = {k: i for i, k in enumerate(model_keys)}
    return np.array([position[k] for k in target_keys], dtype=np.int64)


def is_index_classes(model_classes: Sequence[Any], classes: Sequence[Any]) -> bool:
    """Whether a model's classes are the class indices 0..K-1 of targets with other values.

    A model fitted on encoded targets (``dataset.y``) knows its classes as 0..K-1; they are
    then read as indices into the target's classes (in their encoded order).
    """
    keys = [class_key(c) for c in model_classes]
    return keys == [str(i) for i in range(len(classes))] and sorted(keys) != sorted(
        class_key(c) for c in classes
    )


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out = np.empty_like(z, dtype=np.float64)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _is_probability_rows(a: np.ndarray) -> bool:
    return bool(np.all((a >= 0) & (a <= 1)) and np.allclose(a.sum(axis=1), 1.0, atol=SUM_TOLERANCE))


def _check_finite(a: np.ndarray, error: ErrorFactory) -> None:
    bad = ~np.isfinite(a)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise error(MSG_NOT_FINITE.format(count=int(bad.sum()), row=row))


def _as_float(output: Any, error: ErrorFactory) -> np.ndarray:
    a = np.asarray(output)
    if a.dtype.kind not in "fiub":
        raise error(MSG_NOT_NUMERIC.format(dtype=a.dtype))
    return a.astype(np.float64, copy=False)


def expected_shape(task: str, n: int, n_classes: int) -> str:
    if task == "multiclass":
        return f"({n}, {n_classes})"
    if task == "binary":
        return f"({n},), ({n}, 1) or ({n}, 2)"
    return f"({n},) or ({n}, 1)"


def _what(task: str, n_classes: int) -> str:
    return (
        f"{n_classes} classes"
        if task == "multiclass"
        else ("2 classes" if task == "binary" else "one target")
    )


def shape_error(got: tuple, *, task: str, n: int, n_classes: int, error: ErrorFactory):
    return error(
        MSG_SHAPE.format(
            got=tuple(got),
            task=task,
            what=_what(task, n_classes),
            expected=expected_shape(task, n, n_classes),
        )
    )


def tensor_to_scores(
    output: Any, *, task: str, n: int, n_classes: int, mode: str, error: ErrorFactory
) -> tuple[np.ndarray, str]:
    """A float tensor from a model -> canonical scores, and the rule applied (see module doc).

    Parameters
    ----------
    output : array-like
        The model's output for ``n`` rows.
    mode : {"auto", "probabilities", "logits"}
        Whether values are probabilities, logits, or decided from the values.
    """
    a = _as_float(output, error)
    if a.ndim == 2 and a.shape[1] == 1 and task != "multiclass":
        a = a[:, 0]
    if a.shape[:1] != (n,):
        raise shape_error(a.shape, task=task, n=n, n_classes=n_classes, error=error)
    _check_finite(a, error)
    if task == "regression":
        if a.ndim != 1:
            raise shape_error(a.shape, task=task, n=n, n_classes=n_classes, error=error)
        return a, "prediction"
    if task == "binary":
        if a.ndim == 1:
            logits = mode == "logits" or (mode == "auto" and bool(np.any((a < 0) | (a > 1))))
            if logits:
                return _sigmoid(a), "sigmoid of a logit"
            check_range(a, "probabilities", error)
            return a, "positive-class probability"
        if a.ndim == 2 and a.shape[1] == 2:
            logits = mode == "logits" or (mode == "auto" and not _is_probability_rows(a))
            if logits:
                return _softmax(a)[:, 1], "softmax of two logits, column 1"
            check_range(a, "probabilities", error)
            return a[:, 1], "class probabilities, column 1"
        raise shape_error(a.shape, task=task, n=n, n_classes=n_classes, error=error)
    if a.ndim != 2 or a.shape[1] != n_classes:
        raise shape_error(a.shape, task=task, n=n, n_classes=n_classes, error=error)
    logits = mode == "logits" or (mode == "auto" and not _is_probability_rows(a))
    if logits:
        return _softmax(a), "softmax of logits"
    check_range(a, "probabilities", error)
    return a, "class probabilities"


def check_range(a: np.ndarray, what: str, error: ErrorFactory) -> None:
    """Raise ``error`` unless every value of ``a`` (scores) lies in [0, 1]."""
    bad = (a < 0) | (a > 1)
    if bad.any():
        raise error(
            MSG_OUT_OF_RANGE.format(
                what=what, count=int(bad.sum()), low=float(a.min()), high=float(a.max())
            )
        )


def probabilities_to_scores(
    proba: Any, *, task: str, n: int, n_classes: int, order: np.ndarray | None, error: ErrorFactory
) -> np.ndarray:
    """``predict_proba``-style output (n, K) in the model's class order -> canonical scores."""
    a = _as_float(proba, error)
    if a.ndim != 2 or a.shape != (n, n_classes):
        raise shape_error(a.shape, task=task, n=n, n_classes=n_classes, error=error)
    _check_finite(a, error)
    check_range(a, "probabilities", error)
    if order is not None:
        a = a[:, order]
    return a[:, 1] if task == "binary" else a


def validate_scores(
    scores: Any, *, task: str, n: int, n_classes: int, has_scores: bool, error: ErrorFactory
) -> np.ndarray:
    """The last gate before scores leave the vendor package: shape, finiteness, range."""
    a = _as_float(scores, error)
    want_2d = task == "multiclass"
    ok = (a.shape == (n, n_classes)) if want_2d else (a.shape == (n,))
    if not ok:
        raise shape_error(a.shape, task=task, n=n, n_classes=n_classes, error=error)
    _check_finite(a, error)
    if task != "regression":
        check_range(a, "scores" if has_scores else "hard scores", error)
    return np.ascontiguousarray(a, dtype=np.float64)
