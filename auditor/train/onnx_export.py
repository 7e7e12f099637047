"""ONNX export of the fitted preprocessing plus the trained network, as one graph.

skl2onnx is not available, so the preprocessing graph is built here, node by node, from
the fitted scikit-learn objects of :mod:`auditor.data.preprocess` (the only transformers
the data stage uses), then joined to the network exported by ``torch.onnx.export``.

The graph takes one input per raw feature column, named after the column, shape (n, 1):

- numeric columns as ``double`` (missing values as NaN);
- categorical columns as ``string``: the value as text, missing values as ``""`` or
  ``"missing"``; integral numbers may be written ``"3"`` or ``"3.0"``, booleans
  ``"true"``/``"True"``.

It returns ``scores`` like ``Predictor.predict``: binary (n,) positive-class probability,
multiclass (n, K) probabilities, regression (n,) in the target's units. This is exactly
what the vendor ``onnx`` format feeds with ``input: raw``, so a trained model can later be
audited like a vendor's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MSG_UNSUPPORTED = "cannot express {what} in ONNX"
OPSET = 17
ML_OPSET = 3
IR_VERSION = (
    8  # what opset 17 needs; onnxruntime reads it (the onnx package writes newer by default)
)


class _Graph:
    """A tiny builder: unique names, nodes and constant initializers."""

    def __init__(self):
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._n = 0

    def name(self, stem: str) -> str:
        self._n += 1
        return f"pre_{stem}_{self._n}"

    def const(self, value: np.ndarray, stem: str = "c") -> str:
        from onnx import numpy_helper

        name = self.name(stem)
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(
        self,
        op_type: str,
        inputs: list[str],
        stem: str | None = None,
        domain: str = "",
        **attrs: Any,
    ) -> str:
        from onnx import helper

        out = self.name(stem or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], domain=domain, **attrs))
        return out


def _numeric_block(g: _Graph, pipeline, inputs: list[str]) -> str:
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

    steps = dict(pipeline.named_steps)
    x = g.op("Concat", inputs, "num", axis=1) if len(inputs) > 1 else inputs[0]
    mask = g.op("IsNaN", [x], "isnan")
    zero = g.const(np.zeros((1, len(inputs)), dtype=np.float64))
    x0 = g.op("Where", [mask, zero, x], "nan0")
    clip = steps["clip"]
    lower = g.const(np.asarray(clip.lower_, dtype=np.float64).reshape(1, -1), "lower")
    upper = g.const(np.asarray(clip.upper_, dtype=np.float64).reshape(1, -1), "upper")
    clipped = g.op("Max", [g.op("Min", [x0, upper]), lower], "clipped")
    imputer = steps["impute"]
    if not isinstance(imputer, SimpleImputer):
        raise ValueError(MSG_UNSUPPORTED.format(what=type(imputer).__name__))
    stats = g.const(np.asarray(imputer.statistics_, dtype=np.float64).reshape(1, -1), "stats")
    out = g.op("Where", [mask, stats, clipped], "imputed")
    if (
        imputer.add_indicator
        and imputer.indicator_ is not None
        and len(imputer.indicator_.features_)
    ):
        idx = g.const(np.asarray(imputer.indicator_.features_, dtype=np.int64), "ind_idx")
        ind = g.op("Cast", [g.op("Gather", [mask, idx], axis=1)], "indicator", to=11)  # double
        out = g.op("Concat", [out, ind], "with_ind", axis=1)
    scaler = steps.get("scale")
    if isinstance(scaler, StandardScaler):
        center = scaler.mean_ if scaler.with_mean else np.zeros_like(scaler.scale_)
        scale = scaler.scale_ if scaler.with_std else np.ones_like(scaler.mean_)
        out = g.op(
            "Div",
            [g.op("Sub", [out, g.const(center.reshape(1, -1))]), g.const(scale.reshape(1, -1))],
        )
    elif isinstance(scaler, MinMaxScaler):
        out = g.op(
            "Add",
            [
                g.op("Mul", [out, g.const(scaler.scale_.reshape(1, -1))]),
                g.const(scaler.min_.reshape(1, -1)),
            ],
        )
    elif isinstance(scaler, RobustScaler):
        center = scaler.center_ if scaler.center_ is not None else np.zeros_like(scaler.scale_)
        out = g.op(
            "Div",
            [
                g.op("Sub", [out, g.const(np.asarray(center, float).reshape(1, -1))]),
                g.const(np.asarray(scaler.scale_, float).reshape(1, -1)),
            ],
        )
    elif scaler is not None:
        raise ValueError(MSG_UNSUPPORTED.format(what=type(scaler).__name__))
    return out


def _spellings(text: str) -> list[str]:
    """The ways a category may arrive as text (see CategoryCaster and vendor feeding)."""
    from auditor.data.preprocess import MISSING_CATEGORY

    out = [text]
    if text in ("true", "false"):
        out.append(text.capitalize())
    elif text.lstrip("-").isdigit():
        out.append(f"{text}.0")
    elif text == MISSING_CATEGORY:
        out.append("")
    return out


def _label_encoder(g: _Graph, x: str, codes: dict[str, int], default: int) -> str:
    keys, values = [], []
    for text, code in codes.items():
        for spelling in _spellings(text):
            if spelling not in keys:
                keys.append(spelling)
                values.append(code)
    return g.op(
        "LabelEncoder",
        [x],
        "codes",
        domain="ai.onnx.ml",
        keys_strings=keys,
        values_int64s=values,
        default_int64=default,
    )


def _categorical_block(g: _Graph, pipeline, inputs: list[str]) -> str:
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

    encoder = pipeline.named_steps["encode"]
    blocks = []
    for i, x in enumerate(inputs):
        categories = [str(c) for c in encoder.categories_[i]]
        if isinstance(encoder, OneHotEncoder):
            infrequent = getattr(encoder, "infrequent_categories_", [None] * len(inputs))[i]
            rare = set() if infrequent is None else {str(c) for c in infrequent}
            frequent = [c for c in categories if c not in rare]
            width = len(frequent) + (1 if rare else 0)
            codes = {c: frequent.index(c) if c in frequent else len(frequent) for c in categories}
            unknown = (
                len(frequent) if (rare and encoder.handle_unknown == "infrequent_if_exist") else -1
            )
            code = _label_encoder(g, x, codes, unknown)
            hot = g.op("Equal", [code, g.const(np.arange(width, dtype=np.int64).reshape(1, -1))])
            blocks.append(g.op("Cast", [hot], "onehot", to=11))
        elif isinstance(encoder, OrdinalEncoder):
            codes = {c: j for j, c in enumerate(categories)}
            code = _label_encoder(g, x, codes, int(encoder.unknown_value))
            blocks.append(g.op("Cast", [code], "ordinal", to=11))
        else:
            raise ValueError(MSG_UNSUPPORTED.format(what=type(encoder).__name__))
    return g.op("Concat", blocks, "cat", axis=1) if len(blocks) > 1 else blocks[0]


def preprocessing_graph(preprocessor, *, output: str = "features"):
    """An ONNX model of the fitted ColumnTransformer: raw columns in, float ``output`` out."""
    from onnx import TensorProto, helper

    g = _Graph()
    graph_inputs, blocks = [], []
    for name, pipeline, columns in preprocessor.transformers_:
        if name == "remainder" or pipeline == "drop":
            continue
        kind = TensorProto.DOUBLE if name == "num" else TensorProto.STRING
        for col in columns:
            graph_inputs.append(helper.make_tensor_value_info(str(col), kind, ["rows", 1]))
        names = [str(c) for c in columns]
        if name == "num":
            blocks.append(_numeric_block(g, pipeline, names))
        elif name == "cat":
            blocks.append(_categorical_block(g, pipeline, names))
        else:
            raise ValueError(MSG_UNSUPPORTED.format(what=f"transformer {name!r}"))
    joined = g.op("Concat", blocks, "joined", axis=1) if len(blocks) > 1 else blocks[0]
    g.nodes.append(helper.make_node("Cast", [joined], [output], to=TensorProto.FLOAT))
    graph = helper.make_graph(
        g.nodes,
        "auditor_preprocessing",
        graph_inputs,
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, ["rows", None])],
        initializer=g.initializers,
    )
    return helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)],
        ir_version=IR_VERSION,
    )


def pipeline_model(preprocessor, network_bytes: bytes):
    """Join the preprocessing graph to the exported network (its input ``features``)."""
    import onnx
    from onnx import compose, helper

    network = onnx.load_from_string(network_bytes)
    pre = preprocessing_graph(preprocessor)
    pre.ir_version = network.ir_version
    imports = {o.domain: o.version for o in network.opset_import}
    if imports.get("", OPSET) != OPSET:
        raise ValueError(MSG_UNSUPPORTED.format(what=f"network opset {imports['']}"))
    network.opset_import.extend(
        [helper.make_opsetid("ai.onnx.ml", ML_OPSET)] if "ai.onnx.ml" not in imports else []
    )
    merged = compose.merge_models(pre, network, io_map=[("features", "features")])
    onnx.checker.check_model(merged)
    return merged
