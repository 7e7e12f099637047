"""`auditor init`: the starter spec inferred from data is right and passes validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from auditor.cli import main
from auditor.spec import load_spec
from auditor.spec.init import infer_task, looks_sensitive, spec_name, starter_spec
from tests.spec.specdata import loan_frame


def _init(tmp_path: Path, frame: pd.DataFrame, target: str, capsys, *extra: str) -> Path:
    data = tmp_path / "table.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "specs" / "starter.yaml"
    code = main(["init", "--data", str(data), "--target", target, "--out", str(out), *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"wrote {out}" in captured.out
    return out


def _validates(path: Path, capsys) -> str:
    code = main(["validate", str(path)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def test_binary_starter_spec(tmp_path: Path, capsys):
    out = _init(tmp_path, loan_frame(), "approved", capsys)
    text = out.read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    assert (out.parent / text.split("$schema=")[1].split("\n")[0]).resolve().is_file()
    assert "valid (binary, 200 rows, 4 criteria)" in _validates(out, capsys)
    spec = load_spec(out)
    assert spec.values["objective"]["positive"] == 1
    assert spec.values["data"]["id_column"] == "applicant_id"
    assert spec.values["data"]["train"] == "../table.csv"
    assert spec.values["data"]["include"] == ["income", "region"]  # age, sex: sensitive
    assert spec.values["data"]["sensitive"] == []
    assert "# sensitive: [age, sex]" in text


def test_dates_are_left_out_and_a_time_split_is_suggested(tmp_path: Path, capsys):
    frame = loan_frame()
    frame["applied_on"] = pd.date_range("2024-01-01", periods=len(frame), freq="D").strftime(
        "%Y-%m-%d"
    )
    frame["notes"] = ["2024 was a good year"] * len(frame)  # text starting with digits only
    out = _init(tmp_path, frame, "approved", capsys)
    text = out.read_text()
    spec = load_spec(out)
    assert "applied_on" not in spec.values["data"]["include"]
    assert "notes" in spec.values["data"]["include"]
    assert "# split: {strategy: time, time_column: applied_on}" in text
    out.write_text(
        text.replace("  # split: {strategy: time", "  split: {strategy: time").replace(
            "  split: {strategy: stratified", "  # split: {strategy: stratified"
        )
    )
    assert "valid (binary" in _validates(out, capsys)
    assert load_spec(out).values["data"]["split"]["strategy"] == "time"


def test_suggested_sensitive_columns_validate_once_uncommented(tmp_path: Path, capsys):
    out = _init(tmp_path, loan_frame(), "approved", capsys)
    text = out.read_text().replace("  # sensitive:", "  sensitive:").replace("  # - {", "  - {")
    out.write_text(text)
    assert "valid (binary, 200 rows, 6 criteria)" in _validates(out, capsys)
    assert load_spec(out).values["data"]["sensitive"] == ["age", "sex"]


def test_multiclass_and_regression_starters_validate(tmp_path: Path, capsys):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=120),
            "sex": rng.choice(["f", "m"], 120),
            "level": rng.choice(["low", "medium", "high"], 120),
            "cost": rng.gamma(2.0, 100.0, 120),
        }
    )
    out = _init(tmp_path, frame, "level", capsys)
    assert "valid (multiclass, 120 rows" in _validates(out, capsys)
    out = _init(tmp_path, frame, "cost", capsys, "--force", "--name", "claims cost!")
    assert "valid (regression, 120 rows" in _validates(out, capsys)
    values = load_spec(out).values
    assert values["data"]["split"]["strategy"] == "random"
    assert values["name"] == "claims-cost"


def test_init_refuses_to_overwrite_without_force(tmp_path: Path, capsys):
    out = _init(tmp_path, loan_frame(), "approved", capsys)
    out.write_text("mine\n")
    code = main(
        ["init", "--data", str(tmp_path / "table.csv"), "--target", "approved", "--out", str(out)]
    )
    err = capsys.readouterr().err
    assert code == 2 and "already exists; use --force" in err
    assert out.read_text() == "mine\n"
    leftovers = [p for p in out.parent.iterdir() if p.name != out.name]
    assert leftovers == []


@pytest.mark.parametrize(
    "target, message",
    [
        ("aproved", "column 'aproved' is not in the data (did you mean 'approved'?)"),
        ("constant", "has a single value (1); nothing to predict"),
    ],
)
def test_init_bad_target(tmp_path: Path, capsys, target, message):
    frame = loan_frame().assign(constant=1)
    data = tmp_path / "t.csv"
    frame.to_csv(data, index=False)
    code = main(
        ["init", "--data", str(data), "--target", target, "--out", str(tmp_path / "s.yaml")]
    )
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "s.yaml").exists()


def test_init_writes_name_yaml_in_the_current_folder(tmp_path: Path, capsys, monkeypatch):
    loan_frame().to_parquet(tmp_path / "loans 2024.parquet", index=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["init", "--data", "../loans 2024.parquet", "--target", "approved"]) == 0
    capsys.readouterr()
    out = work / "loans-2024.yaml"
    assert load_spec(out).values["data"]["train"] == "../loans 2024.parquet"
    assert "valid (binary, 200 rows" in _validates(Path("loans-2024.yaml"), capsys)


def test_init_missing_data_file(tmp_path: Path, capsys):
    code = main(["init", "--data", str(tmp_path / "no.csv"), "--target", "y"])
    assert code == 2
    assert "data file not found" in capsys.readouterr().err


@pytest.mark.parametrize(
    "values, task",
    [
        ([0, 1, 1, 0], "binary"),
        ([True, False, True, True], "binary"),
        (["yes", "no", "no", "yes"], "binary"),
        ([0, 1, 2, 2], "multiclass"),
        ([0.0, 1.0, 2.0, np.nan], "multiclass"),
        (["a", "b", "c", "a"], "multiclass"),
        (list(range(30)), "regression"),
        ([0.5, 1.5, 2.25, 3.0], "regression"),
    ],
)
def test_infer_task(values, task):
    assert infer_task(pd.Series(values))[0] == task


@pytest.mark.parametrize(
    "name, expected",
    [
        ("sex", True),
        ("Gender", True),
        ("age_band", True),
        ("AgeBand", True),
        ("race", True),
        ("ethnicity", True),
        ("marital_status", True),
        ("date_of_birth", True),
        ("religion", True),
        ("disability_flag", True),
        ("citizenship", True),
        ("mileage", False),
        ("average", False),
        ("usage", False),
        ("page_views", False),
        ("racecar", False),
        ("income", False),
        ("sexton_score", False),
    ],
)
def test_looks_sensitive(name, expected):
    assert looks_sensitive(name) is expected


def test_spec_name_is_always_valid():
    assert spec_name("loans 2024 (final)") == "loans-2024-final"
    assert spec_name("___") == "model"


def test_starter_spec_positive_guess_prefers_yes():
    frame = pd.DataFrame({"y": ["no", "yes", "no"], "x": [1, 2, 3]})
    text = starter_spec(frame, target="y", data_path="d.csv", name="n")
    assert "  positive: 'yes'" in text


# --------------------------------------------------------------------------- audit-only
def _scores_file(tmp_path: Path, frame: pd.DataFrame, name: str = "scores.csv") -> Path:
    rng = np.random.default_rng(1)
    path = tmp_path / name
    pd.DataFrame(
        {"applicant_id": frame["applicant_id"], "p_approved": rng.random(len(frame))}
    ).to_csv(path, index=False)
    return path


def test_init_with_a_predictions_file_writes_an_audit_only_spec_that_runs(tmp_path: Path, capsys):
    frame = loan_frame()
    scores = _scores_file(tmp_path, frame)
    reference = tmp_path / "dev.csv"
    loan_frame(seed=5).to_csv(reference, index=False)
    out = _init(
        tmp_path, frame, "approved", capsys, "--model", str(scores), "--reference", str(reference)
    )
    assert "valid (binary, table 200 rows, reference 200 rows" in _validates(out, capsys)
    spec = load_spec(out)
    assert spec.data.train is None and [a.path for a in spec.data.audit] == ["../table.csv"]
    assert spec.model.vendor.format == "predictions"
    assert spec.model.vendor.score_column == "p_approved"
    assert spec.data.reference.path == "../dev.csv"
    assert all(c.check != "generalization_gap" for c in spec.acceptance)  # nothing is trained
    assert main(["run", str(out), "--out", str(tmp_path / "run"), "--quiet"]) in (0, 1, 3)


@pytest.mark.parametrize(
    "model, fmt",
    [("vendor.onnx", "onnx"), ("model.pt", "torchscript"), ("pipe.skops", "skops")],
)
def test_init_infers_the_model_format_from_the_file_name(tmp_path: Path, capsys, model, fmt):
    out = _init(tmp_path, loan_frame(), "approved", capsys, "--model", str(tmp_path / model))
    text = out.read_text()
    assert f"    format: {fmt}" in text and "  audit:" in text and "  train:" not in text


def test_init_with_an_unknown_model_file_says_which_endings_it_knows(tmp_path: Path, capsys):
    data = tmp_path / "table.csv"
    loan_frame().to_csv(data, index=False)
    code = main(
        [
            "init",
            "--data",
            str(data),
            "--target",
            "approved",
            "--model",
            "m.bin",
            "--out",
            str(tmp_path / "s.yaml"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "cannot tell the format of model file m.bin" in err and ".onnx" in err
    assert len(err.strip().splitlines()) == 1


def _latin1_file(tmp_path: Path) -> Path:
    """The loan data with one non-ASCII city name, saved in latin-1."""
    frame = loan_frame(120)
    frame["city"] = ["Zürich" if i % 3 == 0 else "Basel" for i in range(len(frame))]
    data = tmp_path / "loans.csv"
    frame.to_csv(data, index=False, encoding="latin-1")
    return data


def test_init_names_its_encoding_option_when_the_file_does_not_decode(tmp_path: Path, capsys):
    data = _latin1_file(tmp_path)
    code = main(["init", "--data", str(data), "--target", "approved"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith(f"{data}: cannot read csv file: the byte at offset")
    assert "auditor init --encoding latin-1" in err and "Traceback" not in err


@pytest.mark.parametrize("model", [None, "scores.csv"])
def test_init_with_an_encoding_writes_it_into_the_spec(tmp_path: Path, capsys, model):
    data = _latin1_file(tmp_path)
    out = tmp_path / "spec.yaml"
    extra = []
    if model:
        frame = pd.read_csv(data, encoding="latin-1")
        pd.DataFrame({"applicant_id": frame["applicant_id"], "score": 0.5}).to_csv(
            tmp_path / model, index=False
        )
        extra = ["--model", str(tmp_path / model)]
    argv = ["init", "--data", str(data), "--target", "approved", "--out", str(out)]
    assert main([*argv, "--encoding", "latin-1", *extra]) == 0
    capsys.readouterr()
    assert "  encoding: latin-1  # how the text files are encoded" in out.read_text()
    assert load_spec(out).data.encoding == "latin-1"
    _validates(out, capsys)


def test_init_refuses_an_unknown_encoding(tmp_path: Path, capsys):
    data = _latin1_file(tmp_path)
    code = main(["init", "--data", str(data), "--target", "approved", "--encoding", "latin-9x"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("unknown text encoding 'latin-9x'")
