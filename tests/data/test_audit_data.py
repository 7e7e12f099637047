"""The data stage for audit-only data: audit files, development data, threshold rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from auditor.data import build_dataset
from auditor.errors import DataError, SpecError
from auditor.spec import load_spec
from auditor.spec.defaults import split_name_for


def _frame(seed: int, n: int, *, with_target: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "id": np.arange(n) + 1000 * seed,
            "x": rng.normal(size=n),
            "color": rng.choice(["red", "blue"], n),
            "sex": rng.choice(["f", "m"], n),
            "y": rng.integers(0, 2, n),
        }
    )
    return frame if with_target else frame.drop(columns="y")


def _spec(folder: Path, *, reference=True, reference_target=True, chosen_on=None) -> Path:
    _frame(1, 300).to_csv(folder / "q3.csv", index=False)
    _frame(2, 200).to_csv(folder / "Q4 cases.csv", index=False)
    data = {
        "audit": [{"path": "q3.csv", "label": "client, Q3"}, {"path": "Q4 cases.csv"}],
        "id_column": "id",
        "sensitive": ["sex"],
    }
    if reference:
        _frame(3, 500, with_target=reference_target).to_csv(folder / "dev.csv", index=False)
        data["reference"] = {"path": "dev.csv"}
    values = {
        "version": 1,
        "name": "audit",
        "objective": {"task": "binary", "target": "y"},
        "data": data,
        "model": {"vendor": {"format": "onnx", "path": "m.onnx"}},
        "acceptance": [{"metric": "f1", "at_least": 0.5}],
    }
    if chosen_on is not None:
        values["evaluation"] = {"threshold": {"strategy": "best_f1", "chosen_on": chosen_on}}
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    return path


def test_audit_files_are_splits_of_their_own_named_for_their_files(tmp_path):
    spec = load_spec(_spec(tmp_path), check_data=False)
    ds = build_dataset(spec)
    assert ds.splits == ["q3", "q4_cases", "reference"]
    assert ds.role("q3") == "audit" and ds.role("reference") == "reference"
    assert ds.split_labels == {
        "q3": "client, Q3",
        "q4_cases": "q4_cases",
        "reference": "development data",
    }
    assert [len(ds.frames[s]) for s in ds.splits] == [300, 200, 500]
    # the preprocessing is fitted on the development data, the only rows that are not audited
    assert ds.preprocessing_info["fitted_on"] == "reference"
    assert set(ds.X) == {"q3", "q4_cases", "reference"}
    assert [s["role"] for s in ds.sources] == ["audit", "audit", "reference"]


def test_development_data_without_the_target_serve_drift_only(tmp_path):
    ds = build_dataset(load_spec(_spec(tmp_path, reference_target=False), check_data=False))
    assert "reference" in ds.frames and "reference" not in ds.y


def test_without_development_data_nothing_is_fitted(tmp_path):
    ds = build_dataset(load_spec(_spec(tmp_path, reference=False), check_data=False))
    assert ds.preprocessor is None and ds.X == {} and ds.preprocessing_info["fitted_on"] is None


def test_threshold_rows_are_a_seeded_fraction_left_out_of_the_audited_rows(tmp_path):
    chosen = {"split": "q3", "fraction": 0.2, "seed": 4}
    first = build_dataset(load_spec(_spec(tmp_path, chosen_on=chosen), check_data=False))
    again = build_dataset(load_spec(_spec(tmp_path, chosen_on=chosen), check_data=False))
    assert len(first.frames["threshold"]) == 60 and len(first.frames["q3"]) == 240
    ids = set(first.frames["threshold"]["id"])
    assert ids.isdisjoint(first.frames["q3"]["id"])  # never audited
    assert ids == set(again.frames["threshold"]["id"])  # seeded
    assert first.split_info["threshold_rows"] == {"from": "q3", "rows": 60, "fraction": 0.2}


def test_threshold_rows_from_a_file_of_their_own(tmp_path):
    _frame(9, 80).to_csv(tmp_path / "tune.csv", index=False)
    spec = load_spec(_spec(tmp_path, chosen_on={"path": "tune.csv"}), check_data=False)
    ds = build_dataset(spec)
    assert len(ds.frames["threshold"]) == 80 and len(ds.frames["q3"]) == 300


def test_an_audit_file_must_hold_the_features_of_the_first(tmp_path):
    path = _spec(tmp_path)
    _frame(2, 200).drop(columns="color").to_csv(tmp_path / "Q4 cases.csv", index=False)
    with pytest.raises(DataError, match="column 'color'"):
        build_dataset(load_spec(path, check_data=False))


@pytest.mark.parametrize(
    "path, name",
    [
        ("data/client_q3.csv", "client_q3"),
        ("Q4 cases.parquet", "q4_cases"),
        ("2026.csv", "audit_2026"),
    ],
)
def test_split_names_from_file_names(path, name):
    assert split_name_for(path) == name


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda v: v["evaluation"].update(threshold={"strategy": "best_f1"}),
            "set evaluation.threshold.chosen_on",
        ),
        (
            lambda v: v["evaluation"].update(
                threshold={"strategy": "best_f1", "chosen_on": {"split": "q9"}}
            ),
            "'q9' is not an audit file's split name (q3, q4_cases)",
        ),
        (
            lambda v: v["model"]["vendor"].update(input="preprocessed"),
            "give data.train or data.reference",
        ),
        (
            lambda v: v["data"].update(holdout="q3.csv"),
            "with audit-only data list it under data.audit",
        ),
        (
            lambda v: v["acceptance"].append(
                {"check": "domain_classifier", "split": "reference", "at_most": 0.6}
            ),
            "check 'domain_classifier' is measured on holdout or audit splits, and 'reference' "
            "is not one",
        ),
    ],
)
def test_audit_only_rules(tmp_path, change, message):
    path = _spec(tmp_path, reference=False)
    values = yaml.safe_load(path.read_text())
    values.setdefault("evaluation", {})
    change(values)
    path.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_spec(path, check_data=False)
    assert message in str(err.value)
