"""Format ``torchscript``: a model saved with ``torch.jit.save``, run on the CPU.

Input: ``preprocessed`` feeds ``dataset.X`` as one float32 tensor (n, features); ``raw``
feeds the spec's raw feature columns as one float32 tensor, so they must all be numeric.
Output: a tensor; a tuple or list gives its first tensor; a dict gives its
``probabilities`` (or ``probs``, ``proba``) entry, or its only entry. The tensor is read
with the rules of :func:`auditor.vendor_models.outputs.tensor_to_scores` (logits get a sigmoid or
softmax when ``output`` is ``auto`` and the values are not probabilities, or when it is
``logits``).
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
)
from auditor.vendor_models.outputs import tensor_to_scores

if TYPE_CHECKING:  # pragma: no cover
    from auditor.types import Dataset
    from auditor.vendor_models.context import VendorContext

MSG_CORRUPT = "not a readable TorchScript file: {reason}"
MSG_RUN_FAILED = "the vendor model failed on split {split!r} (input {shape} float32): {reason}"
MSG_OUTPUT_TYPE = (
    "the model returned a {type}; expected a tensor, a tuple of tensors or a dict of tensors"
)
MSG_NOTE_DEPRECATED = (
    "TorchScript is deprecated in torch {version}; ask the vendor for ONNX for future deliveries"
)
PROBABILITY_KEYS = ("probabilities", "probability", "probs", "proba")


class TorchScriptBackend:
    pickle_loaded = False
    has_scores = True

    def __init__(self, ctx: VendorContext, module: Any):
        self.ctx = ctx
        self.module = module
        self.columns = (
            numeric_raw_columns(ctx, kind="TorchScript") if ctx.settings.input == "raw" else None
        )
        self.info = {"torch_module": getattr(module, "original_name", type(module).__name__)}

    def _tensor(self, out: Any):
        import torch

        if isinstance(out, (tuple, list)) and out:
            out = next((o for o in out if isinstance(o, torch.Tensor)), out[0])
        if isinstance(out, dict):
            key = next((k for k in PROBABILITY_KEYS if k in out), None)
            if key is None and len(out) == 1:
                key = next(iter(out))
            out = out.get(key) if key is not None else out
        if not isinstance(out, torch.Tensor):
            raise self.ctx.error(MSG_OUTPUT_TYPE.format(type=type(out).__name__))
        return out.detach().to("cpu", torch.float64).numpy()

    def predict(self, dataset: Dataset, split: str) -> np.ndarray:
        import torch

        ctx = self.ctx
        n = n_rows(dataset, split)
        X = (
            float_matrix(raw_frame(dataset, split, self.columns))
            if self.columns is not None
            else preprocessed(dataset, split)
        )
        parts = []
        with torch.inference_mode():
            for rows in batches(n, ctx.batch_rows):
                chunk = torch.from_numpy(np.ascontiguousarray(X[rows]))
                try:
                    out = self.module(chunk)
                except Exception as exc:  # the vendor's code: any failure is the model's
                    raise ctx.error(
                        MSG_RUN_FAILED.format(
                            split=split, shape=tuple(chunk.shape), reason=one_line(exc)
                        )
                    ) from None
                parts.append(self._tensor(out))
        out = np.concatenate(parts) if parts else np.empty((0,))
        k = len(dataset.classes) if dataset.task != "regression" else 0
        scores, rule = tensor_to_scores(
            out, task=dataset.task, n=n, n_classes=k, mode=ctx.settings.output, error=ctx.error
        )
        ctx.note(f"output read as: {rule}")
        return scores


def load(ctx: VendorContext) -> TorchScriptBackend:
    """``torch.jit.load`` on the CPU, in evaluation mode."""
    import warnings

    import torch

    try:
        with warnings.catch_warnings():
            # torch 2.13 deprecates TorchScript; the spec asked for it, the notes say so
            warnings.filterwarnings(
                "ignore", message=".*torch.jit.load.* is deprecated", category=DeprecationWarning
            )
            module = torch.jit.load(str(ctx.path), map_location="cpu")
    except Exception as exc:  # zip/format errors of a damaged or foreign file
        raise ctx.error(MSG_CORRUPT.format(reason=one_line(exc))) from None
    module.eval()
    ctx.note(MSG_NOTE_DEPRECATED.format(version=torch.__version__))
    return TorchScriptBackend(ctx, module)
