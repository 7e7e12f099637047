"""Format ``python``: a model held in memory, given to ``auditor.run(model=...)``.

Three kinds, each audited like the vendor file format it resembles:

- a fitted scikit-learn estimator: fed and read as a skops model is
  (:class:`auditor.vendor_models.sklearn_model.EstimatorBackend`);
- a ``torch.nn.Module``: fed and read as a TorchScript model is (one float32 tensor; put
  in evaluation mode);
- a predict function ``f(frame) -> scores or labels``: it receives a DataFrame of the
  feature columns (``input: raw``) or of the preprocessed matrix (``input: preprocessed``);
  a float output is scores, read by the rules of ONNX and TorchScript outputs
  (:func:`auditor.vendor_models.outputs.tensor_to_scores`), anything else labels.

A spec file cannot name this format: only the Python API holds a model
(:mod:`auditor.in_memory`). Nothing is unpickled, and the fingerprint says what was hashed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from auditor.errors import one_line
from auditor.in_memory import MSG_MODEL_NOT_HELD, held_model
from auditor.vendor_models.inputs import batches, n_rows, preprocessed, raw_frame, resolve_columns
from auditor.vendor_models.outputs import labels_to_scores, tensor_to_scores

if TYPE_CHECKING:  # pragma: no cover
    from auditor.types import Dataset
    from auditor.vendor_models.context import VendorContext

MSG_FUNCTION_FAILED = "the predict function failed on split {split!r}: {reason}"
#: Rows the function is first called on, to learn whether it returns scores or labels.
PROBE_ROWS = 8


class FunctionBackend:
    """A predict function: DataFrame -> scores (float) or labels (anything else)."""

    pickle_loaded = False

    def __init__(self, ctx: VendorContext, function: Any):
        self.ctx = ctx
        self.function = function
        ds = ctx.dataset
        self.columns = (
            resolve_columns(ctx, ds.feature_columns) if ctx.settings.input == "raw" else None
        )
        split = next(iter(ds.frames))
        probe = np.asarray(self._call(self._inputs(ds, split).iloc[:PROBE_ROWS], split))
        self.has_scores = ds.task == "regression" or probe.dtype.kind == "f"
        self.info = {"function": getattr(function, "__qualname__", type(function).__name__)}
        if not self.has_scores:
            ctx.note("the predict function returns labels: scores are hard 0/1 labels")

    def _inputs(self, dataset: Dataset, split: str):
        import pandas as pd

        if self.columns is not None:
            return raw_frame(dataset, split, self.columns)
        return pd.DataFrame(preprocessed(dataset, split), columns=list(dataset.feature_names))

    def _call(self, frame, split: str):
        try:
            return self.function(frame)
        except Exception as exc:  # the caller's code: any failure is the model's
            reason = f"{type(exc).__name__}: {one_line(exc)}"  # KeyError: 'x', not 'x'
            raise self.ctx.error(MSG_FUNCTION_FAILED.format(split=split, reason=reason)) from None

    def predict(self, dataset: Dataset, split: str) -> np.ndarray:
        ctx = self.ctx
        n = n_rows(dataset, split)
        k = len(dataset.classes) if dataset.task != "regression" else 0
        frame = self._inputs(dataset, split)
        parts = [
            np.asarray(self._call(frame.iloc[rows], split)) for rows in batches(n, ctx.batch_rows)
        ]
        out = np.concatenate(parts) if parts else np.empty((0,))
        if not self.has_scores:
            return labels_to_scores(
                out, task=dataset.task, classes=dataset.classes, error=ctx.error
            )
        scores, rule = tensor_to_scores(
            out, task=dataset.task, n=n, n_classes=k, mode=ctx.settings.output, error=ctx.error
        )
        ctx.note(f"output read as: {rule}")
        return scores


def load(ctx: VendorContext):
    """The backend for the model held in memory (a located error when none is held)."""
    held = held_model(ctx.path)
    if held is None:
        raise ctx.error(MSG_MODEL_NOT_HELD, field=("model", "vendor", "format"))
    if held.kind == "estimator":
        from auditor.vendor_models.sklearn_model import EstimatorBackend

        backend = EstimatorBackend(ctx, held.model, pickle_loaded=False)
    elif held.kind == "torch":
        from auditor.vendor_models.torchscript_model import TorchScriptBackend

        held.model.eval()  # as torch.jit.load'ed models are: no dropout, fixed batch norm
        backend = TorchScriptBackend(ctx, held.model)
        backend.info = {"torch_module": held.name}
    else:
        backend = FunctionBackend(ctx, held.model)
    backend.info.update({"in_memory": held.kind, "object": held.name, "hashed": held.hashed})
    return backend
