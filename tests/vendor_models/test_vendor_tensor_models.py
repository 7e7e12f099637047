"""Formats 'torchscript' and 'onnx': small models built here, outputs compared exactly."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from vendor_helpers import make_spec, one_line_error

from auditor.errors import ModelFileError
from auditor.vendor_models import load_vendor_model

# torch 2.13 deprecates TorchScript, which is still the format vendors deliver in
pytestmark = [
    pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:`torch.jit.save` is deprecated:DeprecationWarning"),
]


def _net(width: int, out: int, *, sigmoid: bool = False, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    layers = [torch.nn.Linear(width, 8), torch.nn.ReLU(), torch.nn.Linear(8, out)]
    if sigmoid:
        layers.append(torch.nn.Sigmoid())
    return torch.nn.Sequential(*layers).eval()


def _run(net: torch.nn.Module, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return net(torch.from_numpy(np.asarray(X, dtype=np.float32))).double().numpy()


def _script(net, path):
    torch.jit.save(torch.jit.script(net), str(path))
    return path


# --------------------------------------------------------------------------- torchscript
def test_torchscript_probabilities_equal_the_model(tmp_path, loan):
    net = _net(loan.X["train"].shape[1], 1, sigmoid=True)
    _script(net, tmp_path / "m.pt")
    predictor = load_vendor_model(
        make_spec(tmp_path, loan, format="torchscript", path="m.pt", input="preprocessed"), loan
    )
    assert predictor.kind == "vendor:torchscript" and predictor.has_scores
    for split in loan.frames:
        # the scripted module against the eager one: float32, computed on different paths
        np.testing.assert_allclose(
            predictor.predict(loan, split), _run(net, loan.X[split])[:, 0], rtol=1e-5, atol=1e-6
        )


def test_torchscript_logits_get_sigmoid_and_softmax(tmp_path, loan, triage):
    net = _net(loan.X["train"].shape[1], 1, seed=1)
    with torch.no_grad():
        net[2].bias.fill_(3.0)  # logits well outside [0, 1]
    _script(net, tmp_path / "logit.pt")
    predictor = load_vendor_model(
        make_spec(tmp_path, loan, format="torchscript", path="logit.pt", input="preprocessed"), loan
    )
    logits = _run(net, loan.X["test"])[:, 0]
    np.testing.assert_allclose(
        predictor.predict(loan, "test"), 1 / (1 + np.exp(-logits)), rtol=1e-12
    )
    assert "output read as: sigmoid of a logit" in predictor.info["notes"]

    net3 = _net(triage.X["train"].shape[1], 3, seed=2)
    _script(net3, tmp_path / "multi.pt")
    predictor = load_vendor_model(
        make_spec(tmp_path, triage, format="torchscript", path="multi.pt", input="preprocessed"),
        triage,
    )
    z = _run(net3, triage.X["holdout"])
    soft = np.exp(z - z.max(axis=1, keepdims=True))
    soft /= soft.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(predictor.predict(triage, "holdout"), soft, rtol=1e-12)


def test_output_probabilities_refuses_logits(tmp_path, loan):
    net = _net(loan.X["train"].shape[1], 1, seed=1)
    with torch.no_grad():
        net[2].bias.fill_(3.0)
    _script(net, tmp_path / "logit.pt")
    predictor = load_vendor_model(
        make_spec(
            tmp_path,
            loan,
            format="torchscript",
            path="logit.pt",
            input="preprocessed",
            output="probabilities",
        ),
        loan,
    )
    with pytest.raises(ModelFileError) as excinfo:
        predictor.predict(loan, "test")
    assert "probabilities must lie in [0, 1]" in one_line_error(excinfo)


def test_torchscript_raw_numeric_columns(tmp_path, loan_numeric, loan):
    ds = loan_numeric
    raw = ds.frames["holdout"][ds.feature_columns].to_numpy(dtype=np.float32, na_value=np.nan)
    raw = np.nan_to_num(raw)  # the model below cleans NaN itself; compare on clean input

    class Clean(torch.nn.Module):
        def __init__(self, width: int):
            super().__init__()
            self.net = _net(width, 2, sigmoid=False, seed=3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = torch.nan_to_num(x) / 1000.0
            return torch.softmax(self.net(x), dim=1)

    module = Clean(len(ds.feature_columns)).eval()
    _script(module, tmp_path / "raw.pt")
    predictor = load_vendor_model(make_spec(tmp_path, ds, format="torchscript", path="raw.pt"), ds)
    expected = _run(module, raw)[:, 1]
    np.testing.assert_allclose(predictor.predict(ds, "holdout"), expected, rtol=1e-6)

    # the same model on a dataset with categorical features cannot take raw columns
    with pytest.raises(ModelFileError) as excinfo:
        load_vendor_model(make_spec(tmp_path, loan, format="torchscript", path="raw.pt"), loan)
    assert "are categorical; use input: preprocessed" in one_line_error(excinfo)


def test_torchscript_wrong_output_shape(tmp_path, loan):
    _script(_net(loan.X["train"].shape[1], 3), tmp_path / "three.pt")
    predictor = load_vendor_model(
        make_spec(tmp_path, loan, format="torchscript", path="three.pt", input="preprocessed"), loan
    )
    n = len(loan.frames["test"])
    with pytest.raises(ModelFileError) as excinfo:
        predictor.predict(loan, "test")
    assert (
        f"the model's output has shape ({n}, 3); a binary task with 2 classes expects "
        f"({n},), ({n}, 1) or ({n}, 2)"
    ) in one_line_error(excinfo)


def test_torchscript_small_batches_equal_one_batch(tmp_path, triage):
    net = _net(triage.X["train"].shape[1], 3, seed=5)
    _script(net, tmp_path / "m.pt")
    spec = make_spec(tmp_path, triage, format="torchscript", path="m.pt", input="preprocessed")
    whole = load_vendor_model(spec, triage).predict(triage, "train")
    batched = load_vendor_model(spec, triage, batch_rows=7).predict(triage, "train")
    # the same rows in other batch shapes: equal up to float32 rounding, not bit for bit
    np.testing.assert_allclose(whole, batched, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- onnx
def test_onnx_export_of_a_torch_model_equals_torch(tmp_path, loan):
    net = _net(loan.X["train"].shape[1], 1, sigmoid=True, seed=7)
    # torch 2.13's default (dynamo) exporter needs onnxscript, absent offline: use the
    # TorchScript-based exporter, whose several deprecation warnings are silenced here only
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            net,
            (torch.zeros(2, loan.X["train"].shape[1]),),
            str(tmp_path / "m.onnx"),
            dynamo=False,
            input_names=["x"],
            output_names=["probability"],
            dynamic_axes={"x": {0: "n"}, "probability": {0: "n"}},
        )
    predictor = load_vendor_model(
        make_spec(tmp_path, loan, format="onnx", path="m.onnx", input="preprocessed"), loan
    )
    assert predictor.kind == "vendor:onnx" and predictor.has_scores
    for split in loan.frames:
        np.testing.assert_allclose(
            predictor.predict(loan, split), _run(net, loan.X[split])[:, 0], rtol=1e-5, atol=1e-6
        )


def _named_input_graph(path, *, zipmap: bool, categories: dict[str, float]):
    """credit_score (float) and home_ownership (string) -> P(approved), built by hand.

    z = 0.01 * (credit_score - 650) + w[home_ownership]; outputs: 'label' (int64) and
    'probabilities' (an (n, 2) tensor, or with zipmap a sequence of {0: p0, 1: p1}).
    """
    import onnx
    from onnx import TensorProto, helper

    keys = list(categories)
    nodes = [
        helper.make_node("Sub", ["credit_score", "c650"], ["centred"]),
        helper.make_node("Mul", ["centred", "c001"], ["score_part"]),
        helper.make_node(
            "LabelEncoder",
            ["home_ownership"],
            ["home_part"],
            domain="ai.onnx.ml",
            keys_strings=keys,
            values_floats=[categories[k] for k in keys],
            default_float=0.0,
        ),
        helper.make_node("Add", ["score_part", "home_part"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["p1"]),
        helper.make_node("Sub", ["one", "p1"], ["p0"]),
        helper.make_node("Concat", ["p0", "p1"], ["proba"], axis=1),
        helper.make_node("ArgMax", ["proba"], ["label"], axis=1, keepdims=0),
    ]
    outputs = [helper.make_tensor_value_info("label", TensorProto.INT64, ["n"])]
    if zipmap:
        nodes.append(
            helper.make_node(
                "ZipMap",
                ["proba"],
                ["probabilities"],
                domain="ai.onnx.ml",
                classlabels_int64s=[0, 1],
            )
        )
        outputs.append(
            helper.make_value_info(
                "probabilities",
                helper.make_sequence_type_proto(
                    helper.make_map_type_proto(
                        TensorProto.INT64, helper.make_tensor_type_proto(TensorProto.FLOAT, [])
                    )
                ),
            )
        )
    else:
        nodes.append(helper.make_node("Identity", ["proba"], ["probabilities"]))
        outputs.append(helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["n", 2]))
    graph = helper.make_graph(
        nodes,
        "named_inputs",
        [
            helper.make_tensor_value_info("credit_score", TensorProto.FLOAT, ["n", 1]),
            helper.make_tensor_value_info("home_ownership", TensorProto.STRING, ["n", 1]),
        ],
        outputs,
        initializer=[
            helper.make_tensor("c650", TensorProto.FLOAT, [], [650.0]),
            helper.make_tensor("c001", TensorProto.FLOAT, [], [0.01]),
            helper.make_tensor("one", TensorProto.FLOAT, [], [1.0]),
        ],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 2)]
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


@pytest.mark.parametrize("zipmap", [False, True])
def test_onnx_named_per_column_inputs_with_strings(tmp_path, loan, zipmap):
    weights = {"own": 0.8, "mortgage": 0.2, "rent": -0.5}
    _named_input_graph(tmp_path / "named.onnx", zipmap=zipmap, categories=weights)
    predictor = load_vendor_model(make_spec(tmp_path, loan, format="onnx", path="named.onnx"), loan)
    assert predictor.info["onnx_output"] == "probabilities" and predictor.has_scores
    frame = loan.frames["holdout"]
    z = (0.01 * (frame["credit_score"].to_numpy(np.float32) - np.float32(650))).astype(
        np.float32
    ) + frame["home_ownership"].map(weights).to_numpy(np.float32)
    expected = 1 / (1 + np.exp(-z.astype(np.float64)))
    np.testing.assert_allclose(predictor.predict(loan, "holdout"), expected, rtol=1e-5)
    assert any("not read by the vendor model" in n for n in predictor.info["notes"])


def test_onnx_labels_only_output(tmp_path, loan):
    import onnx

    _named_input_graph(tmp_path / "named.onnx", zipmap=False, categories={"own": 1.0})
    model = onnx.load(str(tmp_path / "named.onnx"))
    keep = [o for o in model.graph.output if o.name == "label"]
    del model.graph.output[:]
    model.graph.output.extend(keep)
    onnx.save(model, str(tmp_path / "labels.onnx"))
    spec = make_spec(tmp_path, loan, format="onnx", path="labels.onnx")
    predictor = load_vendor_model(spec, loan)
    assert predictor.has_scores is False
    frame = loan.frames["test"]
    z = 0.01 * (frame["credit_score"].to_numpy(float) - 650) + (frame["home_ownership"] == "own")
    np.testing.assert_array_equal(predictor.predict(loan, "test"), (z > 0).astype(float))


def test_onnx_input_naming_no_column_is_refused(tmp_path, loan):
    import onnx

    _named_input_graph(tmp_path / "named.onnx", zipmap=False, categories={"own": 1.0})
    model = onnx.load(str(tmp_path / "named.onnx"))
    model.graph.input[0].name = "fico"
    for node in model.graph.node:
        node.input[:] = ["fico" if i == "credit_score" else i for i in node.input]
    onnx.save(model, str(tmp_path / "fico.onnx"))
    with pytest.raises(ModelFileError) as excinfo:
        load_vendor_model(make_spec(tmp_path, loan, format="onnx", path="fico.onnx"), loan)
    assert "the model reads column(s) 'fico' that the data does not have" in one_line_error(excinfo)


def test_onnx_wrong_output_shape_and_width(tmp_path, triage, loan):
    import onnx
    from onnx import TensorProto, helper

    width = triage.X["train"].shape[1]
    w = np.random.default_rng(0).normal(size=(width, 2)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "two_columns",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2])],
        initializer=[onnx.numpy_helper.from_array(w, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "two.onnx"))
    predictor = load_vendor_model(
        make_spec(tmp_path, triage, format="onnx", path="two.onnx", input="preprocessed"), triage
    )
    n = len(triage.frames["test"])
    with pytest.raises(ModelFileError) as excinfo:
        predictor.predict(triage, "test")
    assert (
        f"the model's output has shape ({n}, 2); a multiclass task with 3 classes expects ({n}, 3)"
    ) in one_line_error(excinfo)

    with pytest.raises(ModelFileError) as excinfo:
        load_vendor_model(
            make_spec(tmp_path, loan, format="onnx", path="two.onnx", input="preprocessed"), loan
        )
    assert (
        f"ONNX input 'x' expects {width} column(s); input 'preprocessed' gives "
        f"{loan.X['train'].shape[1]}"
    ) in one_line_error(excinfo)


def test_onnx_single_input_named_after_a_column(tmp_path, loan):
    import json

    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Div", ["debt_to_income", "one"], ["p"])],
        "one_column",
        [helper.make_tensor_value_info("debt_to_income", TensorProto.DOUBLE, ["n", 1])],
        [helper.make_tensor_value_info("p", TensorProto.DOUBLE, ["n", 1])],
        initializer=[helper.make_tensor("one", TensorProto.DOUBLE, [], [1.0])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "dti.onnx"))
    predictor = load_vendor_model(make_spec(tmp_path, loan, format="onnx", path="dti.onnx"), loan)
    np.testing.assert_array_equal(
        predictor.predict(loan, "holdout"), loan.frames["holdout"]["debt_to_income"].to_numpy(float)
    )
    json.dumps(predictor.info)  # goes into results.json


def test_onnx_integer_input_with_missing_values(tmp_path, loan):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Cast", ["employment_years"], ["p"], to=TensorProto.FLOAT)],
        "ints",
        [helper.make_tensor_value_info("employment_years", TensorProto.INT64, ["n", 1])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, ["n", 1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "ints.onnx"))
    missing = int(loan.frames["train"]["employment_years"].isna().sum())
    assert missing > 0  # the loan generator leaves ~4% of employment_years empty
    predictor = load_vendor_model(
        make_spec(tmp_path, loan, format="onnx", path="ints.onnx", output="logits"), loan
    )
    with pytest.raises(ModelFileError) as excinfo:
        predictor.predict(loan, "train")
    assert (
        f"column 'employment_years' has {missing} missing value(s) in split 'train'"
        in one_line_error(excinfo)
    )
