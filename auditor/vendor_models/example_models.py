"""The example vendor deliveries in formats other than skops, each built as the file's bytes.

All three learn from the *vendor's own* historical applications (a draw of the ``loan``
generator, another seed than the client's data) and never read ``sex``:

- :func:`loan_scores_csv`: the ``loan-scorecard`` Pipeline's scores for every row of the
  client's data files, a CSV of ``<id column>, <score column>`` (the vendor scored the
  client's applications itself and sent back only the scores);
- :func:`loan_onnx`: a logistic-regression scorecard as an ONNX graph, one input per raw
  column (numbers as ``double``, categories as ``string``, shape (n, 1)), with its own
  imputation, log transform, scaling and one-hot encoding inside, output ``probability``;
  it reads ``income`` and ``occupation``, the generator's proxies of sex;
- :func:`loan_torchscript`: a small network (7 -> 16 -> 1), compiled with
  ``torch.jit.script``, that takes the seven raw numeric columns of
  :data:`LOAN_NUMERIC_FEATURES`, in that order, as one float32 matrix and returns the
  approval probability (n,); it reads ``income`` but not ``occupation``, so less of the
  bias reaches it.

Heavy libraries (torch, onnx, scikit-learn) are imported only by the builder that needs them.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: Numeric columns the ONNX and TorchScript examples read (TorchScript: in this order).
LOAN_NUMERIC_FEATURES: tuple[str, ...] = (
    "age",
    "income",
    "employment_years",
    "credit_score",
    "loan_amount",
    "debt_to_income",
    "open_accounts",
)
#: Categorical columns the ONNX example reads, one-hot encoded inside its graph.
LOAN_CATEGORICAL_FEATURES: tuple[str, ...] = ("home_ownership", "purpose", "occupation", "region")
#: Money columns taken on a log scale by both models.
LOG_FEATURES: tuple[str, ...] = ("income", "loan_amount")
LOAN_TARGET = "approved"
#: Decimals of the scores in the example predictions file (as a vendor would send them).
SCORE_DECIMALS = 6
ONNX_OPSET, ONNX_ML_OPSET, ONNX_IR_VERSION = 17, 3, 8
ONNX_OUTPUT = "probability"
TORCH_HIDDEN, TORCH_EPOCHS, TORCH_LR = 16, 300, 0.01

MSG_NO_ID_COLUMN = "the example predictions file needs data.id_column (the rows are joined by it)"
MSG_NO_DATA_FILES = "the example predictions file needs the spec's data files; none exist"


def loan_scores_csv(
    model: Any,
    files: Sequence[Path],
    *,
    id_column: str,
    score_column: str = "score",
    fmt: str = "auto",
    encoding: str = "utf-8",
) -> bytes:
    """The vendor's scores for every row of the client's data files, as CSV bytes.

    Parameters
    ----------
    model : sklearn Pipeline
        The vendor's fitted model (``predict_proba`` on the raw columns it was fitted on).
    files : sequence of Path
        The client's data files (train and holdout); files that do not exist are skipped.
    id_column : str
        The column that identifies a row (``data.id_column``), written first.
    score_column : str
        The name of the score column (``model.vendor.score_column``).
    fmt, encoding : str
        How the data files are read (``data.format``, ``data.encoding``).

    Returns
    -------
    bytes
        ``id_column,score_column`` rows, in file order; scores rounded to
        :data:`SCORE_DECIMALS` decimals.
    """
    import pandas as pd
    from threadpoolctl import threadpool_limits

    from auditor.data.sources import read_table

    if not id_column:
        raise ValueError(MSG_NO_ID_COLUMN)
    features = [str(c) for c in model.feature_names_in_]
    parts = []
    for path in files:
        if not Path(path).exists():
            continue
        frame = read_table(Path(path), fmt, columns=[id_column, *features], encoding=encoding)
        X = frame[features].copy()
        categorical = [c for c in features if X[c].dtype.kind not in "biuf"]
        X[categorical] = X[categorical].astype(object)
        with threadpool_limits(limits=1, user_api="openmp"):
            scores = model.predict_proba(X)[:, 1]
        parts.append(
            pd.DataFrame({id_column: frame[id_column], score_column: scores.round(SCORE_DECIMALS)})
        )
    if not parts:
        raise ValueError(MSG_NO_DATA_FILES)
    return pd.concat(parts, ignore_index=True).to_csv(index=False).encode("utf-8")


def _vendor_frame(rows: int, seed: int):
    """The vendor's own historical applications (the seed already offset by the caller)."""
    from auditor.data.examples import generate

    return generate("loan", rows, seed)


def _numeric_stats(frame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Medians of the raw columns, then mean and spread after imputation and log scale."""
    X = frame[list(LOAN_NUMERIC_FEATURES)].to_numpy(dtype=np.float64, na_value=np.nan)
    median = np.nanmedian(X, axis=0)
    Z = _log_scale(np.where(np.isnan(X), median, X))
    return median, Z.mean(axis=0), np.maximum(Z.std(axis=0), 1e-12)


def _log_scale(X: np.ndarray) -> np.ndarray:
    """Money columns on a log scale (values below 1 count as 1)."""
    X = X.copy()
    for j, name in enumerate(LOAN_NUMERIC_FEATURES):
        if name in LOG_FEATURES:
            X[:, j] = np.log(np.maximum(X[:, j], 1.0))
    return X


def _scaled_numeric(frame, stats) -> np.ndarray:
    """The numeric columns imputed, log-scaled and standardised with ``stats``."""
    median, mean, std = stats
    X = frame[list(LOAN_NUMERIC_FEATURES)].to_numpy(dtype=np.float64, na_value=np.nan)
    return (_log_scale(np.where(np.isnan(X), median, X)) - mean) / std


def loan_onnx(rows: int, seed: int) -> bytes:
    """A logistic-regression loan scorecard as ONNX bytes (raw columns in; see module doc).

    Parameters
    ----------
    rows : int
        Rows of the vendor's training data.
    seed : int
        Seed of the vendor's training data (the client's seed plus the vendor offset).

    Returns
    -------
    bytes
        The serialised ONNX model (opset 17, ``ai.onnx.ml`` 3); the same for the same seed.
    """
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    frame = _vendor_frame(rows, seed)
    stats = _numeric_stats(frame)
    categories = [
        sorted(str(v) for v in frame[c].dropna().unique()) for c in LOAN_CATEGORICAL_FEATURES
    ]
    hot = [
        (frame[c].astype(str).to_numpy()[:, None] == np.array(k)[None, :]).astype(np.float64)
        for c, k in zip(LOAN_CATEGORICAL_FEATURES, categories, strict=True)
    ]
    X = np.hstack([_scaled_numeric(frame, stats), *hot])
    with threadpool_limits(limits=1):
        model = LogisticRegression(C=1.0, max_iter=2000).fit(X, frame[LOAN_TARGET].to_numpy())
    return _scorecard_graph(stats, categories, model.coef_[0], float(model.intercept_[0]))


def _scorecard_graph(stats, categories, coef: np.ndarray, intercept: float) -> bytes:
    """The ONNX graph of the fitted scorecard: per-column preparation, then a logistic."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits, inputs, blocks = [], [], [], []

    def const(name: str, value) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(kind: str, args: list[str], out: str, **attrs) -> str:
        nodes.append(helper.make_node(kind, args, [out], **attrs))
        return out

    for j, col in enumerate(LOAN_NUMERIC_FEATURES):
        inputs.append(helper.make_tensor_value_info(col, TensorProto.DOUBLE, ["rows", 1]))
        med = const(f"{col}_median", np.array([[stats[0][j]]]))
        x = op("Where", [op("IsNaN", [col], f"{col}_nan"), med, col], f"{col}_imputed")
        if col in LOG_FEATURES:
            x = op(
                "Log",
                [op("Max", [x, const(f"{col}_one", np.ones((1, 1)))], f"{col}_ge1")],
                x + "_log",
            )
        x = op("Sub", [x, const(f"{col}_mean", np.array([[stats[1][j]]]))], f"{col}_centred")
        blocks.append(op("Div", [x, const(f"{col}_std", np.array([[stats[2][j]]]))], f"{col}_z"))
    for col, cats in zip(LOAN_CATEGORICAL_FEATURES, categories, strict=True):
        inputs.append(helper.make_tensor_value_info(col, TensorProto.STRING, ["rows", 1]))
        code = op(
            "LabelEncoder",
            [col],
            f"{col}_code",
            domain="ai.onnx.ml",
            keys_strings=list(cats),
            values_int64s=list(range(len(cats))),
            default_int64=-1,  # unknown or missing: no category column set
        )
        codes = const(f"{col}_codes", np.arange(len(cats), dtype=np.int64).reshape(1, -1))
        blocks.append(op("Cast", [op("Equal", [code, codes], f"{col}_eq")], f"{col}_hot", to=11))
    x = op("Concat", blocks, "features", axis=1)
    w = const("weights", np.asarray(coef, dtype=np.float64).reshape(-1, 1))
    z = op(
        "Add",
        [op("MatMul", [x, w], "points"), const("intercept", np.array([[intercept]]))],
        "logit",
    )
    op("Sigmoid", [z], ONNX_OUTPUT)
    graph = helper.make_graph(
        nodes,
        "vendor_loan_scorecard",
        inputs,
        [helper.make_tensor_value_info(ONNX_OUTPUT, TensorProto.DOUBLE, ["rows", 1])],
        initializer=inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[
            helper.make_opsetid("", ONNX_OPSET),
            helper.make_opsetid("ai.onnx.ml", ONNX_ML_OPSET),
        ],
        ir_version=ONNX_IR_VERSION,
        producer_name="vendor-example",
    )
    onnx.checker.check_model(model)
    return model.SerializeToString()


def loan_torchscript(rows: int, seed: int) -> bytes:
    """A small scripted network scoring loans from the raw numeric columns, as bytes.

    Parameters
    ----------
    rows : int
        Rows of the vendor's training data.
    seed : int
        Seed of the vendor's training data and of the network's initial weights.

    Returns
    -------
    bytes
        A ``torch.jit.save`` archive of a module taking a float32 (n, 7) matrix of
        :data:`LOAN_NUMERIC_FEATURES` (missing values as NaN) and returning (n,)
        probabilities; the same for the same seed.
    """
    import io
    import warnings

    import torch

    frame = _vendor_frame(rows, seed)
    stats = _numeric_stats(frame)
    X = torch.from_numpy(_scaled_numeric(frame, stats).astype(np.float32))
    y = torch.from_numpy(frame[LOAN_TARGET].to_numpy(dtype=np.float32))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a few thousand rows: one thread is fast and reproducible
    try:
        net = _network(torch, seed)
        optimizer = torch.optim.Adam(net.parameters(), lr=TORCH_LR, weight_decay=1e-4)
        for _ in range(TORCH_EPOCHS):  # full batch
            optimizer.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(net(X)[:, 0], y)
            loss.backward()
            optimizer.step()
        module = _scorer_class(torch)(net, stats).eval()
        buffer = io.BytesIO()
        with warnings.catch_warnings():  # torch 2.13 deprecates TorchScript
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.jit.save(torch.jit.script(module), buffer)
    finally:
        torch.set_num_threads(threads)
    return buffer.getvalue()


def _network(torch, seed: int):
    """The 7 -> 16 -> 1 network, its initial weights drawn from ``seed`` (global RNG kept)."""
    width = len(LOAN_NUMERIC_FEATURES)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.nn.Sequential(
            torch.nn.Linear(width, TORCH_HIDDEN), torch.nn.ReLU(), torch.nn.Linear(TORCH_HIDDEN, 1)
        )


@functools.cache  # one class: scripting it again reuses its type (no mangled names)
def _scorer_class(torch):
    """The delivered module: imputation, log scale and scaling inside, then the network.

    The trained weights are copied into plain tensors (no ``nn.Linear`` submodules), so
    the saved archive holds one type of each name and its bytes do not depend on the
    order in which TorchScript happened to name two ``Linear`` types.
    """
    F = torch.nn.functional

    class LoanScorer(torch.nn.Module):
        def __init__(self, net, stats):
            super().__init__()
            median, mean, std = (torch.tensor(s, dtype=torch.float32) for s in stats)
            logs = [name in LOG_FEATURES for name in LOAN_NUMERIC_FEATURES]
            tensors = {
                "median": median,
                "mean": mean,
                "std": std,
                "log_columns": torch.tensor(logs),
                "hidden_weight": net[0].weight,
                "hidden_bias": net[0].bias,
                "output_weight": net[2].weight,
                "output_bias": net[2].bias,
            }
            for name, value in tensors.items():
                self.register_buffer(name, value.detach().clone())

        def forward(self, x):
            x = torch.where(torch.isnan(x), self.median, x)
            x = torch.where(self.log_columns, torch.log(torch.clamp(x, min=1.0)), x)
            z = (x - self.mean) / self.std
            hidden = F.relu(F.linear(z, self.hidden_weight, self.hidden_bias))
            return torch.sigmoid(F.linear(hidden, self.output_weight, self.output_bias))[:, 0]

    return LoanScorer
