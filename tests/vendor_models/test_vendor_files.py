"""Every format: missing, empty and corrupt files are one-line, located ModelFileErrors;
the registry equals the schema's enum; the fingerprint is the file's SHA-256."""

from __future__ import annotations

import json

import numpy as np
import pytest
from vendor_helpers import SCHEMA, VENDOR_SCHEMA, make_spec, one_line_error

from auditor.errors import ExitCode, ModelFileError
from auditor.vendor_models import files, format_names, load_vendor_model
from auditor.vendor_models.registry import MSG_UNKNOWN_FORMAT, get_loader

SUFFIX = {
    "predictions": ".csv",
    "onnx": ".onnx",
    "torchscript": ".pt",
    "skops": ".skops",
    "pickle": ".pkl",
}
CORRUPT_MESSAGE = {
    "predictions": "cannot read csv file",
    "onnx": "not a readable ONNX model",
    "torchscript": "not a readable TorchScript file",
    "skops": "not a readable skops file",
    "pickle": "not a readable pickle file",
}


def _settings(fmt: str, name: str) -> dict:
    extra = {"allow_pickle": True} if fmt == "pickle" else {}
    return {"format": fmt, "path": name, **extra}


def test_registry_equals_schema_enum():
    assert format_names() == VENDOR_SCHEMA["properties"]["format"]["enum"]
    for name in format_names():
        assert callable(get_loader(name))


def test_unknown_format_lists_the_known_ones():
    with pytest.raises(ModelFileError) as excinfo:
        get_loader("h5")
    assert excinfo.value.message == MSG_UNKNOWN_FORMAT.format(
        name="h5", available="predictions, onnx, torchscript, skops, pickle, python"
    )


def test_every_vendor_field_has_a_description_and_optional_ones_a_default():
    required = set(VENDOR_SCHEMA["required"])
    for name, field in VENDOR_SCHEMA["properties"].items():
        assert field.get("description"), name
        assert name in required or "default" in field, name


@pytest.mark.parametrize("fmt", list(SUFFIX))
def test_missing_file(tmp_path, loan, fmt):
    with pytest.raises(ModelFileError) as excinfo:
        load_vendor_model(make_spec(tmp_path, loan, **_settings(fmt, "absent" + SUFFIX[fmt])), loan)
    err = excinfo.value
    assert err.message == files.MSG_MISSING
    assert err.location.file == str(tmp_path / ("absent" + SUFFIX[fmt]))
    assert err.location.path == ("model", "vendor", "path")
    assert err.exit_code == ExitCode.INVALID_INPUT
    assert (
        one_line_error(excinfo) == f"{tmp_path}/absent{SUFFIX[fmt]}: model.vendor.path: "
        f"{files.MSG_MISSING}"
    )


@pytest.mark.parametrize("fmt", list(SUFFIX))
def test_empty_file_and_directory(tmp_path, loan, fmt):
    (tmp_path / ("empty" + SUFFIX[fmt])).write_bytes(b"")
    with pytest.raises(ModelFileError) as excinfo:
        load_vendor_model(make_spec(tmp_path, loan, **_settings(fmt, "empty" + SUFFIX[fmt])), loan)
    assert excinfo.value.message == files.MSG_EMPTY
    (tmp_path / "folder").mkdir()
    with pytest.raises(ModelFileError) as excinfo:
        load_vendor_model(make_spec(tmp_path, loan, **_settings(fmt, "folder")), loan)
    assert excinfo.value.message == files.MSG_NOT_A_FILE


@pytest.mark.parametrize("fmt", list(SUFFIX))
def test_corrupt_file_is_one_line(tmp_path, loan, fmt):
    name = "garbage" + SUFFIX[fmt]
    (tmp_path / name).write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ModelFileError) as excinfo:
        load_vendor_model(make_spec(tmp_path, loan, **_settings(fmt, name)), loan)
    text = one_line_error(excinfo)
    assert CORRUPT_MESSAGE[fmt] in text
    assert excinfo.value.location.file == str(tmp_path / name)
    assert excinfo.value.location.path == ("model", "vendor", "path")
    assert len(excinfo.value.message) < 300


def test_fingerprint_is_sha256_of_the_model_file(tmp_path, loan):
    import hashlib
    import pickle

    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(max_iter=300).fit(loan.X["train"], loan.y["train"])
    data = pickle.dumps(model)
    (tmp_path / "m.pkl").write_bytes(data)
    predictor = load_vendor_model(
        make_spec(
            tmp_path, loan, format="pickle", path="m.pkl", input="preprocessed", allow_pickle=True
        ),
        loan,
    )
    assert predictor.info["fingerprint"] == hashlib.sha256(data).hexdigest()
    # the predictor's info is JSON-serialisable (it goes into results.json)
    json.dumps(predictor.info)


def test_schema_is_valid_json_schema():
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(SCHEMA)
