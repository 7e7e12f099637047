"""Format ``onnx``: a model in ONNX, run by onnxruntime on the CPU.

Inputs
    ``preprocessed``: the model must have one input; it gets ``dataset.X``.
    ``raw`` with one input not named after a column: it gets the spec's raw feature columns
    as one matrix (all must be numeric). ``raw`` otherwise: one input per column, matched to
    the data's columns by name (exactly, then ignoring case); string inputs get the column as text
    (missing values as ""), numeric inputs as numbers. An input that names no column, or
    names the target, is an error; reading a sensitive column is noted.
    Each input gets the element type it declares (float, double, int64, int32, string,
    bool) and rank (1: (n,), 2: (n, width)).
Outputs
    A model with one output: that output. Otherwise, in order: an output whose name
    contains "prob" (for example skl2onnx's ``output_probability``); else, for regression,
    the first float tensor; else, for classification, the first float tensor whose last
    dimension is 1, 2 (binary) or K (multiclass); else an output whose name contains
    "label". A sequence of maps (class -> probability) becomes a matrix, the map keys
    matched to the target's classes (or taken as class indices 0..K-1). Integer, string
    or bool tensors are labels: scores are then hard 0/1 and ``has_scores`` is False.
    Float tensors follow :func:`auditor.vendor_models.outputs.tensor_to_scores`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from auditor.errors import one_line
from auditor.vendor_models.files import sha256_file
from auditor.vendor_models.inputs import (
    batches,
    n_rows,
    numeric_raw_columns,
    raw_frame,
    resolve_columns,
)
from auditor.vendor_models.outputs import class_key, labels_to_scores, tensor_to_scores

if TYPE_CHECKING:  # pragma: no cover
    from auditor.types import Dataset
    from auditor.vendor_models.context import VendorContext

MSG_CORRUPT = "not a readable ONNX model: {reason}"
MSG_ONE_INPUT = "input {input!r} feeds one matrix, but the ONNX model has {count} inputs ({names})"
MSG_INPUT_TYPE = "ONNX input {name!r} has type {type}, which auditor cannot feed"
MSG_WIDTH = "ONNX input {name!r} expects {expected} column(s); input {input!r} gives {got}"
MSG_NO_OUTPUT = "cannot tell which ONNX output holds the predictions (outputs: {outputs})"
MSG_RUN_FAILED = "the vendor model failed on split {split!r}: {reason}"
MSG_MAP_KEYS = (
    "the ONNX probability map has keys {keys}, which match neither the classes {classes} "
    "nor 0..{last}"
)
MSG_MISSING_INTEGER = (
    "ONNX input {name!r} takes whole numbers, but column {column!r} has {count} missing "
    "value(s) in split {split!r}"
)
MSG_NOTE_PROVIDER = "run by onnxruntime {version} on {provider}"

_ELEMENT_TYPES: dict[str, Any] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(string)": object,
    "tensor(bool)": np.bool_,
}
_FLOAT_OUTPUTS = ("tensor(float)", "tensor(double)", "tensor(float16)")
_LABEL_OUTPUTS = ("tensor(int64)", "tensor(int32)", "tensor(string)", "tensor(bool)")


def _dtype(ctx: VendorContext, node: Any):
    if node.type not in _ELEMENT_TYPES:
        raise ctx.error(MSG_INPUT_TYPE.format(name=node.name, type=node.type))
    return _ELEMENT_TYPES[node.type]


def _last_dim(node: Any):
    shape = list(node.shape or [])
    return shape[-1] if len(shape) >= 2 and isinstance(shape[-1], int) else None


def _pick_output(ctx: VendorContext, outputs: list) -> Any:
    if len(outputs) == 1:
        return outputs[0]
    for out in outputs:
        if "prob" in out.name.lower():
            return out
    floats = [o for o in outputs if o.type in _FLOAT_OUTPUTS]
    if ctx.task == "regression" and floats:
        return floats[0]
    widths = (1, 2) if ctx.task == "binary" else (ctx.n_classes,)
    for out in floats:
        if _last_dim(out) in widths:
            return out
    for out in outputs:
        if "label" in out.name.lower():
            return out
    raise ctx.error(MSG_NO_OUTPUT.format(outputs=", ".join(f"{o.name} {o.type}" for o in outputs)))


class OnnxBackend:
    pickle_loaded = False

    def __init__(self, ctx: VendorContext, session: Any):
        import onnxruntime as ort

        self.ctx = ctx
        self.session = session
        inputs = session.get_inputs()
        names = ", ".join(i.name for i in inputs)
        mode = ctx.settings.input
        ds = ctx.dataset
        # plan: list of (input name, dtype, rank, columns or None for X)
        self.plan: list[tuple[str, Any, int, list[str] | None]] = []
        columns_in_data = {str(c).lower() for c in next(iter(ds.frames.values())).columns}
        one_matrix = mode == "preprocessed" or (
            len(inputs) == 1 and inputs[0].name.lower() not in columns_in_data
        )
        if one_matrix:
            if len(inputs) != 1:
                raise ctx.error(
                    MSG_ONE_INPUT.format(input=mode, count=len(inputs), names=names),
                    field=("model", "vendor", "input"),
                )
            node = inputs[0]
            columns = None if mode == "preprocessed" else numeric_raw_columns(ctx, kind="ONNX")
            width = len(ds.feature_names) if columns is None else len(columns)
            expected = _last_dim(node)
            if expected is not None and expected != width:
                raise ctx.error(
                    MSG_WIDTH.format(name=node.name, expected=expected, input=mode, got=width),
                    field=("model", "vendor", "input"),
                )
            rank = max(len(node.shape or [2]), 1)
            self.plan.append((node.name, _dtype(ctx, node), rank, columns))
        else:
            columns = resolve_columns(ctx, [i.name for i in inputs])
            for node, col in zip(inputs, columns, strict=True):
                self.plan.append((node.name, _dtype(ctx, node), len(node.shape or [1, 1]), [col]))
        self.output = _pick_output(ctx, session.get_outputs())
        self.labels = self.output.type in _LABEL_OUTPUTS
        self.has_scores = ctx.task == "regression" or not self.labels
        if self.labels and ctx.task != "regression":
            ctx.note(f"ONNX output {self.output.name!r} holds labels: scores are hard 0/1")
        ctx.note(
            MSG_NOTE_PROVIDER.format(
                version=ort.__version__, provider=", ".join(session.get_providers())
            )
        )
        self.info = {
            "onnx_inputs": [(i.name, i.type, list(i.shape or [])) for i in inputs],
            "onnx_output": self.output.name,
        }

    def _feeds(self, dataset: Dataset, split: str) -> dict[str, np.ndarray]:
        feeds = {}
        for name, dtype, rank, columns in self.plan:
            if columns is None:
                arr = np.asarray(dataset.X[split])
            else:
                frame = raw_frame(dataset, split, columns)
                if dtype is object:
                    text = frame.astype(object).where(frame.notna(), "").astype(str)
                    arr = text.to_numpy(dtype=object)
                else:
                    arr = frame.to_numpy(dtype=np.float64, na_value=np.nan)
                    if np.dtype(dtype).kind in "iub" and np.isnan(arr).any():
                        raise self.ctx.error(
                            MSG_MISSING_INTEGER.format(
                                name=name,
                                column=columns[0],
                                count=int(np.isnan(arr).sum()),
                                split=split,
                            )
                        )
            arr = arr.astype(dtype, copy=False)
            if rank == 1 and arr.ndim == 2 and arr.shape[1] == 1:
                arr = arr[:, 0]
            feeds[name] = arr
        return feeds

    def _to_array(self, out: Any) -> np.ndarray:
        if isinstance(out, list) and out and isinstance(out[0], dict):
            return self._maps_to_matrix(out)
        return np.asarray(out)

    def _maps_to_matrix(self, maps: list[dict]) -> np.ndarray:
        ctx, classes = self.ctx, self.ctx.dataset.classes
        keys = list(maps[0].keys())
        target = {class_key(c): i for i, c in enumerate(classes)}
        if sorted(class_key(k) for k in keys) == sorted(target):
            order = [next(k for k in keys if class_key(k) == class_key(c)) for c in classes]
        elif sorted(keys, key=str) == sorted(range(len(classes)), key=str):
            order = list(range(len(classes)))
        else:
            raise ctx.error(
                MSG_MAP_KEYS.format(keys=keys[:6], classes=list(classes)[:6], last=len(classes) - 1)
            )
        return np.array([[m[k] for k in order] for m in maps], dtype=np.float64)

    def predict(self, dataset: Dataset, split: str) -> np.ndarray:
        ctx = self.ctx
        n = n_rows(dataset, split)
        feeds = self._feeds(dataset, split)
        parts = []
        for rows in batches(n, ctx.batch_rows):
            try:
                batch = {k: v[rows] for k, v in feeds.items()}
                out = self.session.run([self.output.name], batch)[0]
            except Exception as exc:  # onnxruntime's own error types
                raise ctx.error(MSG_RUN_FAILED.format(split=split, reason=one_line(exc))) from None
            parts.append(self._to_array(out))
        out = np.concatenate(parts) if parts else np.empty((0,))
        k = len(dataset.classes) if dataset.task != "regression" else 0
        if self.labels and dataset.task != "regression":
            if out.ndim == 2 and out.shape[1] == 1:
                out = out[:, 0]
            return labels_to_scores(
                out, task=dataset.task, classes=dataset.classes, error=ctx.error
            )
        scores, rule = tensor_to_scores(
            out, task=dataset.task, n=n, n_classes=k, mode=ctx.settings.output, error=ctx.error
        )
        ctx.note(f"output {self.output.name!r} read as: {rule}")
        return scores


def load(ctx: VendorContext) -> OnnxBackend:
    """An onnxruntime session on the CPU."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only; auditor reports its own
    try:
        session = ort.InferenceSession(
            str(ctx.path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # InvalidProtobuf, Fail, NoSuchFile, ...
        raise ctx.error(MSG_CORRUPT.format(reason=one_line(exc))) from None
    backend = OnnxBackend(ctx, session)
    backend.extra_files = _external_data_files(ctx)
    return backend


def _external_data_files(ctx: VendorContext) -> dict[str, str]:
    """SHA-256 of the external weight files an ONNX model refers to (fingerprinted too)."""
    import onnx

    try:
        model = onnx.load(str(ctx.path), load_external_data=False)
    except Exception:  # pragma: no cover - onnxruntime already read it
        return {}
    names = set()
    for tensor in model.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            names.update(e.value for e in tensor.external_data if e.key == "location")
    return {name: sha256_file(ctx.path.parent / name) for name in sorted(names)}
