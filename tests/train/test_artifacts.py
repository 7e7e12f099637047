"""Saved models reload without pickle and predict identically; ONNX matches torch."""

from __future__ import annotations

import hashlib
import json
import pickle

import numpy as np
import pytest
import torch
from train_problems import problem

from auditor.errors import ModelFileError
from auditor.train import artifacts, train_model
from auditor.train.artifacts import load_trained


def _no_pickle(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("pickle was used")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    monkeypatch.setattr(torch, "load", refuse)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_save_and_reload_without_pickle(make_run, tmp_path, monkeypatch, task):
    spec, ds = make_run(
        task,
        training={"epochs": 3},
        model={"batch_norm": True},
        preprocessing={"outliers": "clip_iqr", "missing_indicator": True},
    )
    p = train_model(spec, ds)
    files = p.save(tmp_path / "model")
    assert set(files) == {"weights", "config", "preprocessing"}
    assert p.info["fingerprint"] == hashlib.sha256(files["weights"].read_bytes()).hexdigest()
    meta = json.loads(files["config"].read_text())
    assert meta["config"]["architecture"] == "mlp" and meta["task"] == task
    _no_pickle(monkeypatch)
    q = load_trained(tmp_path / "model")
    for split in ds.splits:
        assert np.array_equal(q.predict(ds, split), p.predict(ds, split))
    # the reloaded preprocessing maps raw rows to the same matrix
    raw = ds.frames["test"]
    np.testing.assert_array_equal(
        q.preprocessor.transform(raw[ds.feature_columns]).astype(np.float32), ds.X["test"]
    )
    assert np.array_equal(q.predict_frame(raw), p.predict(ds, "test"))
    assert q.info["fingerprint"] == p.info["fingerprint"] and q.classes == ds.classes


def test_untrusted_types_in_preprocessing_are_refused(tmp_path):
    import skops.io
    from sklearn.linear_model import LogisticRegression

    path = tmp_path / "preprocessing.skops"
    path.write_bytes(skops.io.dumps(LogisticRegression()))
    with pytest.raises(ModelFileError, match="not trusted: sklearn.linear_model"):
        artifacts.load_preprocessing(path)


def test_missing_files_are_located(tmp_path):
    with pytest.raises(ModelFileError, match=artifacts.MSG_MISSING_FILE) as err:
        load_trained(tmp_path)
    assert err.value.location.file.endswith("model.json")


def raw_feeds(frame, columns, column_types):
    """Raw columns fed the way the vendor ``onnx`` format feeds them (input: raw)."""
    feeds = {}
    for c in columns:
        col = frame[[c]]
        if column_types[c] == "numeric":
            feeds[c] = col.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            feeds[c] = col.astype(object).where(col.notna(), "").astype(str).to_numpy(dtype=object)
    return feeds


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_onnx_export_matches_torch(make_run, tmp_path, task):
    import onnxruntime

    frame = problem(task, n=800)
    frame.loc[frame.index[::13], "x2"] = np.nan
    frame.loc[frame.index[::17], "color"] = None
    spec, ds = make_run(
        task,
        frame=frame,
        training={"epochs": 3, "export_onnx": True},
        model={"architecture": "resmlp"},
        preprocessing={"missing_indicator": True, "outliers": "clip_iqr"},
    )
    p = train_model(spec, ds)
    files = p.save(tmp_path / "model")
    assert set(files) == {"weights", "config", "preprocessing", "onnx", "onnx_network"}
    meta = json.loads(files["config"].read_text())
    assert (
        meta["onnx"]["model"]["input"] == "raw"
        and meta["onnx"]["network"]["input"] == "preprocessed"
    )
    assert meta["onnx"]["model"]["inputs"] == ds.feature_columns
    network = onnxruntime.InferenceSession(
        str(files["onnx_network"]), providers=["CPUExecutionProvider"]
    )
    pipeline = onnxruntime.InferenceSession(str(files["onnx"]), providers=["CPUExecutionProvider"])
    tol = 1e-5 * (60 if task == "regression" else 1)  # regression scores are in the target's units
    for split in ("test", "validation"):
        expected = p.predict(ds, split)
        got = network.run(["scores"], {"features": ds.X[split]})[0]
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=tol)
        feeds = raw_feeds(ds.frames[split], ds.feature_columns, ds.column_types)
        got = pipeline.run(["scores"], feeds)[0]
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=tol)


@pytest.mark.parametrize(
    "preprocessing",
    [
        {"scaling": "standard", "missing_indicator": True, "outliers": "clip_iqr"},
        {"scaling": "minmax", "missing": "constant", "fill_value": 99, "outliers": "clip_zscore"},
        {"scaling": "robust", "missing": "most_frequent", "categorical": "ordinal"},
        {"scaling": "none", "missing": "mean", "max_categories": 3},
    ],
)
def test_preprocessing_graph_equals_sklearn(make_run, preprocessing):
    """The hand-built ONNX preprocessing gives sklearn's matrix, unseen categories included."""
    import onnxruntime

    from auditor.train.onnx_export import preprocessing_graph

    rng = np.random.default_rng(3)
    frame = problem("binary", n=900)
    frame["shade"] = rng.choice(
        ["a", "b", "c", "d", "e"], size=900, p=[0.5, 0.3, 0.15, 0.045, 0.005]
    )
    frame["flag"] = rng.choice([True, False], size=900)
    frame["rooms"] = rng.integers(1, 5, size=900).astype(float)
    frame.loc[frame.index[::11], "x1"] = np.nan
    frame.loc[frame.index[::5], "x3"] = 40.0  # outliers
    frame.loc[frame.index[::19], "shade"] = None
    hold = problem("binary", n=120, seed=9)
    hold["shade"] = rng.choice(["a", "zzz"], size=120)  # an unseen category
    hold["flag"] = True
    hold["rooms"] = rng.integers(1, 7, size=120).astype(float)  # unseen 5, 6
    spec, ds = make_run(
        frame=frame,
        holdout=hold,
        types={"rooms": "categorical", "flag": "categorical"},
        preprocessing=preprocessing,
    )
    model = preprocessing_graph(ds.preprocessor)
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    for split in ds.splits:
        got = session.run(
            ["features"], raw_feeds(ds.frames[split], ds.feature_columns, ds.column_types)
        )[0]
        np.testing.assert_allclose(got, ds.X[split], rtol=1e-6, atol=1e-6)


def test_fresh_holdout_rows_through_saved_artifacts(make_run, tmp_path):
    """A later audit can score new raw rows with the saved files alone."""
    spec, ds = make_run(training={"epochs": 3})
    p = train_model(spec, ds)
    p.save(tmp_path / "m")
    fresh = problem("binary", n=50, seed=42)
    q = load_trained(tmp_path / "m")
    X = ds.preprocessor.transform(fresh[ds.feature_columns]).astype(np.float32)
    assert np.array_equal(q.predict_frame(fresh), p.predict_matrix(X))


def test_exported_model_audits_like_a_vendor_model(make_run, tmp_path):
    """model.onnx (raw columns in) through the vendor ``onnx`` format gives the same scores."""
    import copy

    vendor = pytest.importorskip("auditor.vendor_models")
    from auditor.spec.defaults import apply_defaults
    from auditor.types import Spec

    frame = problem("binary", n=600)
    frame.loc[frame.index[::9], "x1"] = np.nan
    spec, ds = make_run(frame=frame, training={"epochs": 3, "export_onnx": True})
    p = train_model(spec, ds)
    files = p.save(tmp_path / "model")
    values = copy.deepcopy(spec.values)
    values["model"]["vendor"] = {"format": "onnx", "path": str(files["onnx"]), "input": "raw"}
    audited = vendor.load_vendor_model(Spec(path=spec.path, values=apply_defaults(values)), ds)
    for split in ds.splits:
        np.testing.assert_allclose(audited.predict(ds, split), p.predict(ds, split), atol=1e-6)
