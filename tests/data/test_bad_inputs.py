"""Inputs a new user hands the tool: each is refused with one located line (exit code 2) or
handled by the declared preprocessing and said in the results; never an internal error.

Every row generates its bad input (seeded, small) in ``tmp_path``, writes a spec next to it
and runs the command line as a user would (``auditor run`` or ``auditor validate``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from auditor.checks.data import infinite_note
from auditor.cli import main
from auditor.data.build import FILE_WORDS, MSG_THRESHOLD_ROWS
from auditor.data.columns import MSG_INFINITE_TARGET
from auditor.data.sources import MSG_DECODE, MSG_UNKNOWN_ENCODING
from auditor.data.splits import (
    MIN_SPLIT_ROWS,
    MSG_FILE_TOO_FEW_ROWS,
    MSG_HINT_MORE_ROWS,
    MSG_TOO_FEW_ROWS,
    rows_needed,
)
from auditor.errors import ExitCode
from auditor.vendor_models.outputs import MSG_UNKNOWN_LABELS, preview
from auditor.vendor_models.predictions_file import (
    MSG_NO_SPLIT_COVERED,
    MSG_NOTE_REFERENCE_UNSCORED,
    MSG_NOTE_UNCOVERED,
    MSG_SCORES_OUT_OF_RANGE,
)

VERDICT_CODES = {ExitCode.READY, ExitCode.NOT_READY, ExitCode.CONDITIONAL}


# --------------------------------------------------------------------------- inputs
def _frame(rows: int, seed: int = 0, *, task: str = "binary", first_id: int = 0) -> pd.DataFrame:
    """Seeded rows: an id, two numeric and one categorical feature, sex, and the target y."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    frame = pd.DataFrame(
        {
            "id": np.arange(first_id, first_id + rows),
            "x": x.round(6),
            "z": rng.normal(size=rows).round(6),
            "color": rng.choice(["blue", "green"], rows),
            "sex": rng.choice(["f", "m"], rows),
        }
    )
    if task == "regression":
        frame["y"] = (3 * x + rng.normal(0, 0.5, rows)).round(4)
    else:
        frame["y"] = (x + rng.normal(0, 0.5, rows) > 0).astype(int)
    return frame


def _write_spec(folder: Path, data: dict, *, task: str = "binary", **sections) -> Path:
    metric = "r2" if task == "regression" else "f1"
    values = {
        "version": 1,
        "name": "bad-input",
        "objective": {"task": task, "target": "y"},
        "data": data,
        "training": {"epochs": 2},
        "evaluation": {"bootstrap": 200},
        "acceptance": [{"metric": metric, "at_least": 0.1, "severity": "advisory"}],
        **sections,
    }
    if "model" in sections:  # a vendor's model is audited: nothing is trained
        del values["training"]
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    return path


def _where(spec: Path, key: str) -> str:
    """``spec:line:column`` of the value of the first ``key:`` the spec writes."""
    for number, text in enumerate(spec.read_text(encoding="utf-8").splitlines(), start=1):
        if text.strip().startswith(f"{key}:"):
            column = len(text) - len(text.lstrip()) + len(key) + 3  # 1-based, after "key: "
            return f"{spec}:{number}:{column}"
    raise AssertionError(f"{key} is not written in {spec}")


def _audit_only(
    folder: Path, preds: pd.DataFrame, *, rows: int = 40, evaluation: dict | None = None, **vendor
) -> Path:
    """Two audit files (q3, q4) of ``rows`` rows each, audited through a predictions file."""
    _frame(rows, 1, first_id=1000).to_csv(folder / "q3.csv", index=False)
    _frame(rows, 2, first_id=2000).to_csv(folder / "q4.csv", index=False)
    preds.to_csv(folder / "preds.csv", index=False)
    return _write_spec(
        folder,
        {
            "audit": [{"path": "q3.csv"}, {"path": "q4.csv"}],
            "id_column": "id",
            "sensitive": ["sex"],
        },
        model={"vendor": {"format": "predictions", "path": "preds.csv", **vendor}},
        evaluation={"bootstrap": 200, **(evaluation or {})},
    )


def _scores(rows: int = 40, seed: int = 5) -> pd.DataFrame:
    """A score for every row of the two audit files of :func:`_audit_only`."""
    ids = np.concatenate([np.arange(1000, 1000 + rows), np.arange(2000, 2000 + rows)])
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"id": ids, "score": rng.uniform(size=len(ids)).round(4)})


# --------------------------------------------------------------------------- the table
@dataclass
class Case:
    """One bad input: how to make it, the command, and what the user must see."""

    name: str
    make: Callable[[Path], tuple[Path, dict[str, Any]]]  # -> (spec, facts for the checks)
    command: str = "run"
    code: int | None = int(ExitCode.INVALID_INPUT)  # None: any verdict's code (handled)
    line: Callable[[Path, dict[str, Any]], str] | None = None  # the one line on stderr
    results: Callable[[dict[str, Any], dict[str, Any]], None] | None = None


# ---- 1. infinite values
PLANTED_INF = {"x": [3, 10, 50, 77], "z": [7]}


def _infinite_features(folder: Path, *, missing: str = "median") -> tuple[Path, dict]:
    frame = _frame(300)
    for column, rows in PLANTED_INF.items():
        frame.loc[rows, column] = [np.inf if i % 2 == 0 else -np.inf for i in range(len(rows))]
    frame.loc[[11], "x"] = np.nan  # one value really missing
    frame.to_csv(folder / "train.csv", index=False)
    spec = _write_spec(
        folder,
        {
            "train": "train.csv",
            "id_column": "id",
            "sensitive": ["sex"],
            "preprocessing": {"missing": missing},
        },
    )
    text = (folder / "train.csv").read_text(encoding="utf-8")
    assert "inf" in text and "-inf" in text  # pandas writes them so, and reads them back
    return spec, {"planted": {c: len(r) for c, r in PLANTED_INF.items()}}


def _check_infinite_counted(results: dict, facts: dict) -> None:
    """Counted per split and column, and said by the missing-values check of each split."""
    counted = results["data"]["preprocessing"]["infinite_values"]
    per_column: dict[str, int] = {}
    for columns in counted.values():
        for column, n in columns.items():
            per_column[column] = per_column.get(column, 0) + n
    assert per_column == facts["planted"]
    for split, columns in counted.items():
        finding = _finding(results, f"data.missing_rate.{split}")
        assert finding["summary"].endswith(infinite_note(sum(columns.values())))


def _check_infinite(results: dict, facts: dict) -> None:
    _check_infinite_counted(results, facts)
    prep = results["data"]["preprocessing"]
    # imputed as missing values are (the one NaN planted besides them counts too)
    assert sum(prep["missing_values"].values()) == sum(facts["planted"].values()) + 1
    assert prep["missing"] == "median"


def _check_infinite_dropped(results: dict, facts: dict) -> None:
    _check_infinite_counted(results, facts)
    prep = results["data"]["preprocessing"]
    assert prep["missing_values"]["train"] == 0
    # every training row with an infinite value is dropped (no row holds two; the one
    # missing value may be a training row too)
    infinite_rows = sum(prep["infinite_values"]["train"].values())
    assert prep["dropped_rows"]["missing"] in (infinite_rows, infinite_rows + 1)
    assert results["data"]["split"]["sizes"]["train"] == prep["fitted_rows"]


def _infinite_target(folder: Path) -> tuple[Path, dict]:
    frame = _frame(120, task="regression")
    frame.loc[[4, 40], "y"] = [np.inf, -np.inf]
    frame.to_csv(folder / "train.csv", index=False)
    return _write_spec(folder, {"train": "train.csv"}, task="regression"), {
        "file": folder / "train.csv"
    }


# ---- 2. too few rows
def _tiny_train(folder: Path) -> tuple[Path, dict]:
    _frame(5).to_csv(folder / "train.csv", index=False)
    spec = _write_spec(folder, {"train": "train.csv", "sensitive": ["sex"]})
    return spec, {"file": folder / "train.csv"}


def _tiny_train_line(spec: Path, facts: dict) -> str:
    sizes = "train 3, validation 1, test 1"  # the seeded stratified split of 5 rows
    hint = MSG_HINT_MORE_ROWS.format(needed=rows_needed(0.2, 0.2), validation=0.2, test=0.2)
    message = MSG_TOO_FEW_ROWS.format(
        n=5, strategy="stratified", sizes=sizes, minimum=MIN_SPLIT_ROWS, hint=hint
    )
    return f"{facts['file']}: data.split: {message}"


def _tiny_holdout(folder: Path) -> tuple[Path, dict]:
    _frame(200).to_csv(folder / "train.csv", index=False)
    holdout = _frame(MIN_SPLIT_ROWS - 1, 9, first_id=500)
    holdout.loc[0, "y"] = np.nan  # a row without a target does not count
    holdout.to_csv(folder / "holdout.csv", index=False)
    spec = _write_spec(folder, {"train": "train.csv", "holdout": "holdout.csv"})
    return spec, {"file": folder / "holdout.csv", "rows": MIN_SPLIT_ROWS - 2}


def _tiny_holdout_line(spec: Path, facts: dict) -> str:
    message = MSG_FILE_TOO_FEW_ROWS.format(
        what=FILE_WORDS["holdout"],
        n=facts["rows"],
        qualifier=" with a target",
        minimum=MIN_SPLIT_ROWS,
    )
    return f"{facts['file']}: data.holdout: {message}"


def _tiny_audit_file(folder: Path) -> tuple[Path, dict]:
    spec = _audit_only(folder, _scores(rows=5), rows=5)
    return spec, {"file": folder / "q3.csv"}


def _tiny_audit_line(spec: Path, facts: dict) -> str:
    message = MSG_FILE_TOO_FEW_ROWS.format(
        what=FILE_WORDS["audit"].format(key="q3"),
        n=5,
        qualifier=" with a target",
        minimum=MIN_SPLIT_ROWS,
    )
    return f"{facts['file']}: data.audit: {message}"


def _few_threshold_rows(folder: Path) -> tuple[Path, dict]:
    chosen_on = {"split": "q3", "fraction": 0.2, "seed": 1}  # 8 of q3's 40 rows
    spec = _audit_only(
        folder,
        _scores(),
        evaluation={"threshold": {"strategy": "best_f1", "chosen_on": chosen_on}},
    )
    return spec, {}


def _few_threshold_rows_line(spec: Path, facts: dict) -> str:
    message = MSG_THRESHOLD_ROWS.format(
        fraction=0.2, n=40, split="q3", left=32, taken=8, minimum=MIN_SPLIT_ROWS
    )
    return f"{_where(spec, 'fraction')}: evaluation.threshold.chosen_on.fraction: {message}"


def _minimum_train(folder: Path, task: str) -> tuple[Path, dict]:
    n = rows_needed(0.2, 0.2)  # every split of the seeded split gets exactly the minimum
    _frame(n, 3, task=task).to_csv(folder / "train.csv", index=False)
    _frame(MIN_SPLIT_ROWS, 4, task=task, first_id=900).to_csv(folder / "holdout.csv", index=False)
    spec = _write_spec(
        folder,
        {"train": "train.csv", "holdout": "holdout.csv", "id_column": "id", "sensitive": ["sex"]},
        task=task,
    )
    return spec, {}


def _check_minimum(results: dict, facts: dict) -> None:
    sizes = results["data"]["split"]["sizes"]
    assert min(sizes.values()) == MIN_SPLIT_ROWS, sizes


def _minimum_audit(folder: Path) -> tuple[Path, dict]:
    spec = _audit_only(folder, _scores(rows=MIN_SPLIT_ROWS), rows=MIN_SPLIT_ROWS)
    return spec, {}


# ---- 3. encodings
def _latin1(folder: Path, *, encoding: str | None = None) -> tuple[Path, dict]:
    frame = _frame(200)
    frame["color"] = np.where(frame["color"] == "blue", "bleu clair", "vert foncé")
    frame.to_csv(folder / "train.csv", index=False, encoding="latin-1")
    data = {"train": "train.csv", "sensitive": ["sex"]}
    if encoding is not None:
        data["encoding"] = encoding
    raw = (folder / "train.csv").read_bytes()
    return _write_spec(folder, data), {"file": folder / "train.csv", "offset": raw.index(b"\xe9")}


def _latin1_line(spec: Path, facts: dict) -> str:
    message = MSG_DECODE.format(fmt="csv", offset=facts["offset"], byte=0xE9, encoding="utf-8")
    return f"{_where(spec, 'train')}: data.train: {facts['file']}: {message}"


def _check_latin1(results: dict, facts: dict) -> None:
    assert results["data"]["preprocessing"]["file_encoding"] == "latin-1"
    assert [s["encoding"] for s in results["data"]["sources"]] == ["latin-1"]
    assert "cat__color_vert foncé" in results["data"]["feature_names"]


def _unknown_encoding_line(spec: Path, facts: dict) -> str:
    message = MSG_UNKNOWN_ENCODING.format(encoding="latin-9x")
    return f"{_where(spec, 'encoding')}: data.encoding: {message}"


# ---- 4. predictions files
def _ids_cover_no_split(folder: Path) -> tuple[Path, dict]:
    preds = _scores()
    preds = preds[~preds["id"].isin([1003, 1007, 2005])]
    return _audit_only(folder, preds), {"file": folder / "preds.csv"}


def _ids_cover_no_split_line(spec: Path, facts: dict) -> str:
    message = MSG_NO_SPLIT_COVERED.format(
        counts="'q3' 2 of 40, 'q4' 1 of 40", example="1003", split="q3", id_column="id"
    )
    return f"{facts['file']}: data.id_column: {message}"


def _ids_cover_one_split(folder: Path) -> tuple[Path, dict]:
    preds = _scores()
    preds = preds[~preds["id"].isin([1003, 1007])]  # q3 lacks two rows, q4 is complete
    return _audit_only(folder, preds), {}


def _check_one_split(results: dict, facts: dict) -> None:
    info = results["model"]["info"]
    note = MSG_NOTE_UNCOVERED.format(count=2, total=40, split="q3", example="1003")
    assert note in info["notes"]
    assert info["rows_without_prediction"] == {"q3": 2}
    assert "q4" in results["evaluation"]["metrics"] and "q3" not in results["evaluation"]["metrics"]


def _reference_unscored(folder: Path) -> tuple[Path, dict]:
    """The vendor's development data declared as the reference, but not in its scores."""
    spec = _audit_only(folder, _scores())
    _frame(40, 3, first_id=3000).to_csv(folder / "dev.csv", index=False)
    values = yaml.safe_load(spec.read_text(encoding="utf-8"))
    values["data"]["reference"] = {"path": "dev.csv"}
    spec.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    return spec, {}


def _check_reference_unscored(results: dict, facts: dict) -> None:
    notes = results["model"]["info"]["notes"]
    assert MSG_NOTE_REFERENCE_UNSCORED.format(split="reference", rows="40 rows") in notes
    assert not any("so that split is not evaluated" in note for note in notes)
    assert set(results["evaluation"]["metrics"]) == {"q3", "q4"}
    drift = [f for f in results["findings"] if f["check"] == "feature_drift"]
    assert drift and all(f["status"] != "skipped" for f in drift)  # compared all the same


def _scores_out_of_range(folder: Path) -> tuple[Path, dict]:
    preds = _scores()
    preds.loc[[4, 9, 60], "score"] = [1.7, -0.2, 2.5]
    return _audit_only(folder, preds), {"file": folder / "preds.csv", "example": preds["id"][4]}


def _scores_out_of_range_line(spec: Path, facts: dict) -> str:
    message = MSG_SCORES_OUT_OF_RANGE.format(
        column="score", count=3, value=1.7, example=str(facts["example"])
    )
    return f"{facts['file']}: model.vendor.score_column: {message}"


def _unknown_labels(folder: Path) -> tuple[Path, dict]:
    preds = _scores()
    preds["decision"] = np.where(preds["score"] > 0.5, 1, 0)
    preds.loc[[2, 30], "decision"] = [2, 7]
    preds = preds.drop(columns="score")
    spec = _audit_only(folder, preds, score_column=None, label_column="decision")
    return spec, {"file": folder / "preds.csv"}


def _unknown_labels_line(spec: Path, facts: dict) -> str:
    message = MSG_UNKNOWN_LABELS.format(labels=preview(["2", "7"]), classes=preview([0, 1]))
    return f"{facts['file']}: model.vendor.label_column: {message}"


CASES = [
    Case(
        "infinite-feature-values-are-missing",
        _infinite_features,
        code=None,
        results=_check_infinite,
    ),
    Case(
        "infinite-feature-values-dropped-with-missing-drop",
        lambda folder: _infinite_features(folder, missing="drop"),
        code=None,
        results=_check_infinite_dropped,
    ),
    Case(
        "infinite-regression-target",
        _infinite_target,
        line=lambda spec, facts: (
            f"{facts['file']}: objective.target: "
            + MSG_INFINITE_TARGET.format(name="y", count=2, row=5, value="inf")
        ),
    ),
    Case("five-row-training-file", _tiny_train, line=_tiny_train_line),
    Case("holdout-below-the-minimum", _tiny_holdout, line=_tiny_holdout_line),
    Case("five-row-audit-file", _tiny_audit_file, line=_tiny_audit_line),
    Case("threshold-rows-below-the-minimum", _few_threshold_rows, line=_few_threshold_rows_line),
    Case(
        "binary-splits-of-exactly-the-minimum",
        lambda folder: _minimum_train(folder, "binary"),
        code=None,
        results=_check_minimum,
    ),
    Case(
        "regression-splits-of-exactly-the-minimum",
        lambda folder: _minimum_train(folder, "regression"),
        code=None,
        results=_check_minimum,
    ),
    Case(
        "audit-files-of-exactly-the-minimum",
        _minimum_audit,
        code=None,
        results=_check_minimum,
    ),
    Case("latin-1-file-read-as-utf-8", _latin1, command="validate", line=_latin1_line),
    Case("latin-1-file-read-as-utf-8-run", _latin1, line=_latin1_line),
    Case(
        "latin-1-file-declared",
        lambda folder: _latin1(folder, encoding="latin-1"),
        code=None,
        results=_check_latin1,
    ),
    Case(
        "unknown-encoding-name",
        lambda folder: _latin1(folder, encoding="latin-9x"),
        command="validate",
        line=_unknown_encoding_line,
    ),
    Case("predictions-cover-no-split", _ids_cover_no_split, line=_ids_cover_no_split_line),
    Case(
        "predictions-cover-one-split",
        _ids_cover_one_split,
        code=None,
        results=_check_one_split,
    ),
    Case(
        "predictions-skip-the-development-data",
        _reference_unscored,
        code=None,
        results=_check_reference_unscored,
    ),
    Case("scores-outside-0-1", _scores_out_of_range, line=_scores_out_of_range_line),
    Case("labels-the-target-never-takes", _unknown_labels, line=_unknown_labels_line),
]


def _finding(results: dict, finding_id: str) -> dict:
    found = [f for f in results["findings"] if f["id"] == finding_id]
    assert found, f"no finding {finding_id}"
    return found[0]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, capsys):
    spec, facts = case.make(tmp_path)
    out = tmp_path / "out"
    argv = ["run", str(spec), "--out", str(out), "--quiet"]
    code = main(argv if case.command == "run" else ["validate", str(spec)])
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, err
    assert code != ExitCode.INTERNAL
    if case.code is None:  # handled: the audit ran to its verdict, and says what it did
        assert code in VERDICT_CODES, err
        assert err == ""
        results = json.loads((out / "results.json").read_text(encoding="utf-8"))
        errors = [f["id"] for f in results["findings"] if f["status"] == "error"]
        assert errors == []
        case.results(results, facts)
        return
    assert code == case.code
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0] == case.line(spec, facts)
    assert not out.exists() or not (out / "results.json").exists()
