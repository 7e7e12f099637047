"""In-memory fingerprints: a DataFrame hashes as the CSV file it writes; an estimator, a
torch module and a function hash what they are (content, not object identity or bytes of
a pickle), and change when it changes."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import skops.io as sio

from auditor import fingerprint
from auditor.in_memory import hold_model
from tests.api.tiny import FEATURES, tiny_frame, tiny_model


def test_a_frame_hashes_as_the_csv_file_to_csv_writes(tmp_path):
    frame = tiny_frame(rows=300)
    frame.to_csv(tmp_path / "f.csv", index=False)
    assert fingerprint.sha256_frame(frame) == fingerprint.sha256_file(tmp_path / "f.csv")
    changed = frame.copy()
    changed.loc[7, "x1"] += 1e-9
    assert fingerprint.sha256_frame(changed) != fingerprint.sha256_frame(frame)


def test_an_estimator_hashes_its_parameters_and_fitted_state_not_its_identity(tmp_path):
    frame = tiny_frame(rows=300)
    model = tiny_model(frame)
    digest = fingerprint.sha256_estimator(model)
    assert fingerprint.sha256_estimator(tiny_model(frame)) == digest  # refit alike
    sio.dump(model, tmp_path / "m.skops")
    assert fingerprint.sha256_estimator(sio.load(tmp_path / "m.skops")) == digest
    other = copy.deepcopy(model)
    other.coef_ = other.coef_ + 1e-12
    assert fingerprint.sha256_estimator(other) != digest
    assert fingerprint.sha256_estimator(copy.deepcopy(model).set_params(C=2.0)) != digest
    assert fingerprint.sha256_estimator(tiny_model(tiny_frame(rows=300, seed=9))) != digest


def test_a_torch_module_hashes_its_type_and_weights():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    module = torch.nn.Linear(2, 1)
    digest = fingerprint.sha256_torch_module(module)
    assert fingerprint.sha256_torch_module(copy.deepcopy(module)) == digest
    with torch.no_grad():
        module.bias += 1.0
    assert fingerprint.sha256_torch_module(module) != digest


def test_a_function_hashes_its_name_and_source():
    namespace: dict = {}
    exec("def predict(rows):\n    return rows['x1'] > 0\n", namespace)  # no source file
    digest, hashed = fingerprint.sha256_function(namespace["predict"])
    assert hashed == fingerprint.HASHED_FUNCTION_NO_SOURCE

    def predict(rows):
        return rows[FEATURES].sum(axis=1) > 0

    first, hashed = fingerprint.sha256_function(predict)
    assert hashed == fingerprint.HASHED_FUNCTION and first != digest
    held = hold_model(predict)
    assert held.kind == "function" and held.sha256 == first
    assert held.name.endswith("test_a_function_hashes_its_name_and_source.<locals>.predict")


def test_model_kinds_are_told_apart():
    frame = tiny_frame(rows=200)
    assert hold_model(tiny_model(frame)).kind == "estimator"
    torch = pytest.importorskip("torch")
    assert hold_model(torch.nn.Linear(2, 1)).kind == "torch"
    assert hold_model(np.mean).kind == "function"
    with pytest.raises(TypeError, match="got builtins.str"):
        hold_model("model.skops")
