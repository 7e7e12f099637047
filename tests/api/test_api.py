"""The Python API: validate, run and report on a spec mapping or file, DataFrames and
in-memory models (estimator, torch module, predict function), the result object, and the
errors (the CLI's exception tree, located by JSON path for a mapping)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import auditor
from auditor.errors import ExitCode, SpecError, SpecErrors, UsageError
from auditor.in_memory import MSG_MODEL_NOT_HELD
from auditor.spec.mapping import MSG_NOT_PLAIN
from tests.api.tiny import FEATURES, tiny_frame, tiny_model, tiny_spec

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return tiny_frame()


@pytest.fixture(scope="module")
def model(frame):
    return tiny_model(frame)


@pytest.fixture(scope="module")
def result(tmp_path_factory, frame, model):
    out = tmp_path_factory.mktemp("run")
    return auditor.run(tiny_spec(frame), out=out, model=model, junit=out / "ci" / "junit.xml")


# --------------------------------------------------------------------------- import
def test_import_auditor_loads_no_heavy_library():
    code = (
        "import sys, auditor; heavy = ('pandas', 'numpy', 'torch', 'sklearn', 'jsonschema');"
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- validate
def test_validate_a_mapping_with_a_dataframe_and_a_model(frame, model):
    spec = auditor.validate(tiny_spec(frame), model=model)
    assert spec.model.vendor.format == "python"
    assert spec.model.vendor.path == "<in-memory model>"
    assert spec.data.train == "<DataFrame train>"
    assert spec.values["acceptance"][0]["require"] == "point"  # defaults resolved


def test_validate_a_file_returns_the_typed_spec():
    spec = auditor.validate(REPO / "specs" / "vendor-audit.yaml")
    assert spec.name == "loan-vendor-audit" and spec.model.vendor.format == "skops"


def test_mapping_errors_are_located_by_json_path(frame, model):
    spec = tiny_spec(frame)
    spec["acceptance"][1]["at_most"] = "high"
    spec["objectiv"] = spec.pop("objective")
    with pytest.raises(SpecErrors) as caught:
        auditor.validate(spec, model=model)
    lines = str(caught.value).splitlines()
    assert "objectiv: unknown key 'objectiv' (did you mean 'objective'?)" in lines
    assert any(line.startswith("acceptance[1].at_most: must be ") for line in lines)
    for error in caught.value.errors:  # no file and no line: the JSON path is the place
        assert error.location.file is None and error.location.line is None
    assert caught.value.exit_code == ExitCode.INVALID_INPUT


def test_a_value_that_is_not_plain_is_located(frame):
    spec = tiny_spec(frame)
    spec["data"]["sensitive"] = {"group"}  # a set
    with pytest.raises(SpecError) as caught:
        auditor.validate(spec)
    assert str(caught.value) == "data.sensitive: " + MSG_NOT_PLAIN.format(kind="set")


def test_numpy_scalars_paths_and_tuples_are_plain_values(tmp_path, frame, model):
    frame.to_csv(tmp_path / "train.csv", index=False)
    spec = tiny_spec(tmp_path / "train.csv")  # a Path
    spec["acceptance"][0]["at_least"] = np.float64(0.7)
    spec["data"]["sensitive"] = ("group",)
    checked = auditor.validate(spec, model=model)
    assert checked.data.train == str(tmp_path / "train.csv")
    assert type(checked.values["acceptance"][0]["at_least"]) is float
    assert checked.values["data"]["sensitive"] == ["group"]


def test_data_rules_read_the_dataframe(frame, model):
    spec = tiny_spec(frame.drop(columns="group"))
    with pytest.raises(SpecErrors) as caught:
        auditor.validate(spec, model=model)
    assert str(caught.value) == (
        "data.sensitive[0]: column 'group' is not in the train file <DataFrame train>"
    )
    with pytest.raises(SpecErrors) as caught:
        auditor.validate(tiny_spec(frame.iloc[:0]), model=model)
    assert str(caught.value) == (
        "data.train: <DataFrame train>: data file has a header but no rows"
    )


def test_data_keys_replace_a_spec_files_paths_and_keep_its_lines(tmp_path, frame, model):
    spec = tiny_spec("absent.csv")  # never read: data= gives the frame
    (tmp_path / "spec.yaml").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    checked = auditor.validate(tmp_path / "spec.yaml", data={"train": frame}, model=model)
    assert checked.data.train == "<DataFrame train>"
    spec["acceptance"][0]["at_least"] = "high"
    (tmp_path / "bad.yaml").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    with pytest.raises(SpecErrors) as caught:
        auditor.validate(tmp_path / "bad.yaml", data={"train": frame}, model=model)
    assert str(caught.value).startswith(f"{tmp_path / 'bad.yaml'}:")  # file:line:col
    assert caught.value.errors[0].location.line is not None


def test_usage_errors_of_the_api(frame, model):
    with pytest.raises(UsageError, match="data key 'client' names no data in the spec"):
        auditor.validate(tiny_spec(frame), data={"client": frame}, model=model)
    with pytest.raises(UsageError, match=r"data\['train'\] must be a pandas DataFrame"):
        auditor.validate(tiny_spec("x.csv"), data={"train": [1, 2]}, model=model)
    with pytest.raises(UsageError, match="model must be a fitted scikit-learn estimator"):
        auditor.validate(tiny_spec(frame), model=42)
    with pytest.raises(UsageError, match="given both in the spec and in data="):
        auditor.validate(tiny_spec(frame), data={"train": frame}, model=model)
    with pytest.raises(UsageError, match="spec must be a path to a YAML file or a mapping"):
        auditor.validate(["version", 1])


def test_format_python_in_a_spec_file_is_refused_where_it_is_written(tmp_path, frame):
    frame.to_csv(tmp_path / "train.csv", index=False)
    spec = tiny_spec("train.csv")
    spec["model"] = {"vendor": {"format": "python", "path": "<in-memory model>"}}
    (tmp_path / "spec.yaml").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    with pytest.raises(SpecErrors) as caught:
        auditor.validate(tmp_path / "spec.yaml")
    (error,) = caught.value.errors
    assert error.message == MSG_MODEL_NOT_HELD
    assert error.location.path == ("model", "vendor", "format")
    assert error.location.line is not None


# --------------------------------------------------------------------------- the result
def test_result_exposes_verdict_criteria_findings_and_files(result):
    assert result.verdict == "NOT READY" and result.exit_code == 1
    assert [c.status for c in result.criteria] == ["pass", "fail", "fail"]
    assert result.criteria[1].bound == 0.1 and isinstance(result.criteria[1].ci, tuple)
    assert result.criteria[1].value > 0.25  # the planted bias: about 0.4
    ids = {f.id for f in result.findings}
    assert result.criteria[1].finding_id in ids
    assert {"results", "pdf", "html", "junit"} <= result.files.keys()
    assert b'<testsuite name="tiny-api-audit"' in result.files["junit"].read_bytes()
    assert json.loads(result.files["results"].read_text()) == result.results
    assert repr(result) == "<AuditResult NOT READY: 3 criteria>"


def test_a_rank_that_did_not_audit_says_so_instead_of_a_verdict(result):
    other = auditor.AuditResult({}, note="rank 1 of 2: rank 0 audits")
    assert result.audited and not other.audited and other.exit_code == 0
    for read in (
        lambda r: r.verdict,
        lambda r: r.reason,
        lambda r: r.criteria,
        lambda r: r.findings,
        lambda r: r.criteria_frame(),
        lambda r: r.findings_frame(),
    ):
        with pytest.raises(UsageError, match="rank 1 of 2: rank 0 audits: the verdict"):
            read(other)
    assert repr(other) == "<AuditResult: rank 1 of 2: rank 0 audits>"


def test_result_frames_hold_what_results_json_holds(result):
    criteria = result.criteria_frame()
    assert list(criteria["status"]) == [c["status"] for c in result.results["criteria"]]
    assert list(criteria["severity"]) == ["blocking", "blocking", "advisory"]
    np.testing.assert_allclose(criteria["ci_low"], [c["ci"][0] for c in result.results["criteria"]])
    findings = result.findings_frame()
    assert len(findings) == len(result.results["findings"])
    assert {"id", "status", "value", "ci_low", "ci_high", "advisory"} <= set(findings.columns)


def test_results_validate_against_the_results_schema(result):
    import jsonschema

    schema = json.loads((REPO / "schemas" / "results.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(result.results)
    assert result.results["spec_file"]["path"] == "<spec mapping>"
    assert "canonical JSON" in result.results["spec_file"]["hashed"]


def test_report_renders_again_from_a_result_or_a_results_file(tmp_path, result):
    files = auditor.report(result, out=tmp_path / "again")
    assert files["pdf"].read_bytes()[:5] == b"%PDF-"
    assert result.verdict in files["html"].read_text(encoding="utf-8")
    with pytest.raises(UsageError, match="give out="):
        auditor.report(result.results)
    assert auditor.report(result.files["results"])["pdf"].parent == result.out_dir


# --------------------------------------------------------------------------- model kinds
def test_a_predict_function_and_a_torch_module_get_the_estimators_numbers(
    tmp_path, frame, model, result
):
    import torch

    def predict(rows: pd.DataFrame) -> np.ndarray:
        return model.predict_proba(rows[FEATURES])[:, 1]

    module = torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.Sigmoid())
    with torch.no_grad():  # the same logistic regression, as a torch module (float32 in)
        module[0].weight.copy_(torch.as_tensor(model.coef_))
        module[0].bias.copy_(torch.as_tensor(model.intercept_))
    spec = tiny_spec(frame)  # features x1, x2 ('group' is sensitive): one float matrix
    expected = result.criteria_frame()
    for name, held in (("function", predict), ("torch", module)):
        run = auditor.run(spec, out=tmp_path / name, model=held)
        got = run.criteria_frame()
        assert list(got["status"]) == list(expected["status"])
        np.testing.assert_allclose(got["value"], expected["value"], atol=1e-4)
        assert run.results["model"]["info"]["in_memory"] == name


def test_a_predict_function_returning_labels_gets_hard_scores(tmp_path, frame, model):
    run = auditor.run(
        tiny_spec(frame), out=tmp_path, model=lambda rows: model.predict(rows[FEATURES])
    )
    assert run.results["model"]["info"]["has_scores"] is False
    assert run.verdict == "NOT READY"


def test_given_inputs_replace_what_the_file_says_about_data_and_model(tmp_path, frame, model):
    spec = tiny_spec("data/tiny.csv")
    spec["data"]["generate"] = {"example": "loan", "rows": 200, "seed": 1}
    spec["model"] = {"architecture": "mlp", "hidden": [8], "vendor": {"format": "onnx",
                     "path": "absent.onnx", "input": "raw"}}  # fmt: skip
    (tmp_path / "spec.yaml").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    checked = auditor.validate(tmp_path / "spec.yaml", data={"train": frame}, model=model)
    assert checked.data.generate is None  # the data is given: nothing is generated
    assert checked.values["model"]["vendor"]["format"] == "python"
    assert checked.values["model"]["vendor"]["input"] == "raw"  # how it is fed: kept
    assert "hidden" not in checked.values["model"] or checked.values["model"]["hidden"] != [8]
    assert not (tmp_path / "data").exists()
