"""Format 'predictions': planted scores come back aligned by id, for every split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from vendor_helpers import all_rows, build_dataset, make_spec, one_line_error

from auditor.errors import ExitCode, ModelFileError, SpecError
from auditor.vendor_models import load_vendor_model
from auditor.vendor_models import predictions_file as pf
from auditor.vendor_models.outputs import MSG_UNKNOWN_LABELS


def _write(frame: pd.DataFrame, path):
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif path.suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_csv(path, index=False)
    return path


def _planted_binary(dataset, seed=0):
    rows = all_rows(dataset)
    rng = np.random.default_rng(seed)
    planted = pd.DataFrame(
        {dataset.id_column: rows[dataset.id_column], "score": rng.uniform(size=len(rows)).round(6)}
    )
    return planted.sample(frac=1.0, random_state=seed).reset_index(drop=True)  # shuffled


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_planted_binary_scores_align_by_id_in_every_split(tmp_path, loan, suffix):
    planted = _planted_binary(loan)
    _write(planted, tmp_path / f"preds{suffix}")
    predictor = load_vendor_model(
        make_spec(tmp_path, loan, format="predictions", path=f"preds{suffix}"), loan
    )
    truth = dict(zip(planted[loan.id_column], planted["score"], strict=True))
    assert predictor.kind == "vendor:predictions"
    assert predictor.has_scores and predictor.history == []
    for split in ("train", "validation", "test", "holdout"):
        got = predictor.predict(loan, split)
        expected = np.array([truth[i] for i in loan.frames[split][loan.id_column]])
        assert got.shape == (len(loan.frames[split]),)
        if suffix == ".jsonl":  # pandas' JSON reader parses floats to within one ulp
            np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0)
        else:
            np.testing.assert_array_equal(got, expected)


def test_info_fingerprints_the_file(tmp_path, loan):
    import hashlib

    path = _write(_planted_binary(loan), tmp_path / "preds.csv")
    predictor = load_vendor_model(
        make_spec(tmp_path, loan, format="predictions", path="preds.csv"), loan
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    info = predictor.info
    assert info["sha256"] == info["fingerprint"] == digest
    assert info["files"] == {"preds.csv": digest}
    assert info["format"] == "predictions" and info["path"] == str(path)
    assert info["pickle_loaded"] is False and info["input"] == "raw"
    assert isinstance(info["notes"], list) and info["trusted_types"] == []


def test_multiclass_score_columns_by_class(tmp_path, triage):
    rows = all_rows(triage)
    rng = np.random.default_rng(1)
    proba = rng.dirichlet([1, 1, 1], size=len(rows))
    planted = pd.DataFrame({triage.id_column: rows[triage.id_column]})
    for k, c in enumerate(triage.classes):
        planted[f"p_{c}"] = proba[:, k]
    _write(planted.iloc[::-1], tmp_path / "preds.csv")
    predictor = load_vendor_model(
        make_spec(tmp_path, triage, format="predictions", path="preds.csv", score_column="p_"),
        triage,
    )
    by_id = dict(zip(rows[triage.id_column], range(len(rows)), strict=True))
    for split in triage.frames:
        got = predictor.predict(triage, split)
        idx = [by_id[i] for i in triage.frames[split][triage.id_column]]
        np.testing.assert_allclose(got, proba[idx], rtol=0, atol=1e-12)


def test_regression_predictions(tmp_path, claims):
    rows = all_rows(claims)
    planted = pd.DataFrame(
        {claims.id_column: rows[claims.id_column], "predicted_cost": np.arange(len(rows)) * 10.5}
    )
    _write(planted.sample(frac=1.0, random_state=3), tmp_path / "preds.parquet")
    predictor = load_vendor_model(
        make_spec(
            tmp_path,
            claims,
            format="predictions",
            path="preds.parquet",
            score_column="predicted_cost",
        ),
        claims,
    )
    lookup = dict(zip(planted[claims.id_column], planted["predicted_cost"], strict=True))
    got = predictor.predict(claims, "holdout")
    ids = claims.frames["holdout"][claims.id_column]
    np.testing.assert_array_equal(got, [lookup[i] for i in ids])


def test_missing_ids_name_count_and_example(tmp_path, loan):
    planted = _planted_binary(loan)
    holdout_ids = set(loan.frames["holdout"][loan.id_column])
    dropped = sorted(holdout_ids)[:7]
    _write(planted[~planted[loan.id_column].isin(dropped)], tmp_path / "preds.csv")
    predictor = load_vendor_model(
        make_spec(tmp_path, loan, format="predictions", path="preds.csv"), loan
    )
    predictor.predict(loan, "train")  # complete
    assert predictor.covers(loan, "train") and not predictor.covers(loan, "holdout")
    with pytest.raises(ModelFileError) as excinfo:
        predictor.predict(loan, "holdout")
    text = one_line_error(excinfo)
    assert f"no prediction for 7 of the {len(holdout_ids)} row(s) of split 'holdout'" in text
    example = text.rsplit("e.g. id ", 1)[1].strip("'")
    assert example in dropped
    assert excinfo.value.exit_code == ExitCode.INVALID_INPUT
    assert excinfo.value.location.file == str(tmp_path / "preds.csv")
    assert excinfo.value.location.path == ("model", "vendor", "path")


def test_labels_only_gives_hard_scores(tmp_path, loan, triage):
    rows = all_rows(loan)
    labels = (np.arange(len(rows)) % 3 == 0).astype(int)
    planted = pd.DataFrame({loan.id_column: rows[loan.id_column], "decision": labels})
    _write(planted, tmp_path / "labels.csv")
    predictor = load_vendor_model(
        make_spec(tmp_path, loan, format="predictions", path="labels.csv", label_column="decision"),
        loan,
    )
    assert predictor.has_scores is False and predictor.info["has_scores"] is False
    lookup = dict(zip(planted[loan.id_column], labels, strict=True))
    got = predictor.predict(loan, "test")
    np.testing.assert_array_equal(got, [lookup[i] for i in loan.frames["test"][loan.id_column]])
    assert set(np.unique(got)) <= {0.0, 1.0}

    rows = all_rows(triage)
    names = np.array(triage.classes)[np.arange(len(rows)) % 3]
    _write(
        pd.DataFrame({triage.id_column: rows[triage.id_column], "level": names}),
        tmp_path / "levels.csv",
    )
    predictor = load_vendor_model(
        make_spec(tmp_path, triage, format="predictions", path="levels.csv", label_column="level"),
        triage,
    )
    got = predictor.predict(triage, "holdout")
    expected = dict(zip(rows[triage.id_column], np.arange(len(rows)) % 3, strict=True))
    idx = [expected[i] for i in triage.frames["holdout"][triage.id_column]]
    np.testing.assert_array_equal(got, np.eye(3)[idx])


def test_unknown_labels_are_refused(tmp_path, loan):
    rows = all_rows(loan)
    _write(
        pd.DataFrame({loan.id_column: rows[loan.id_column], "decision": "maybe"}),
        tmp_path / "labels.csv",
    )
    with pytest.raises(ModelFileError) as excinfo:
        load_vendor_model(
            make_spec(
                tmp_path, loan, format="predictions", path="labels.csv", label_column="decision"
            ),
            loan,
        )
    assert MSG_UNKNOWN_LABELS.split("{")[0] in one_line_error(excinfo)
    assert "'maybe'" in str(excinfo.value)


def test_scores_outside_unit_interval_are_refused(tmp_path, loan):
    planted = _planted_binary(loan)
    planted.loc[3, "score"] = 1.7
    _write(planted, tmp_path / "preds.csv")
    with pytest.raises(ModelFileError) as excinfo:
        load_vendor_model(make_spec(tmp_path, loan, format="predictions", path="preds.csv"), loan)
    example = str(planted.loc[3, loan.id_column])
    assert one_line_error(excinfo).endswith(
        pf.MSG_SCORES_OUT_OF_RANGE.format(column="score", count=1, value=1.7, example=example)
    )
    assert excinfo.value.location.path == ("model", "vendor", "score_column")


def test_predictions_need_an_id_column(tmp_path):
    ds = build_dataset("loan", 200, 9, id_column=False)
    ds_with = build_dataset("loan", 200, 9)
    _write(_planted_binary(ds_with), tmp_path / "preds.csv")
    with pytest.raises(SpecError) as excinfo:
        load_vendor_model(make_spec(tmp_path, ds, format="predictions", path="preds.csv"), ds)
    assert excinfo.value.message == pf.MSG_NEEDS_ID
    assert excinfo.value.location.path == ("data", "id_column")


def test_file_without_id_or_score_columns(tmp_path, loan):
    planted = _planted_binary(loan)
    _write(planted.rename(columns={loan.id_column: "row"}), tmp_path / "a.csv")
    with pytest.raises(ModelFileError) as excinfo:
        load_vendor_model(make_spec(tmp_path, loan, format="predictions", path="a.csv"), loan)
    assert "has no id column 'applicant_id'" in one_line_error(excinfo)

    _write(planted.rename(columns={"score": "prob"}), tmp_path / "b.csv")
    with pytest.raises(ModelFileError) as excinfo:
        load_vendor_model(make_spec(tmp_path, loan, format="predictions", path="b.csv"), loan)
    assert "has no score or label column(s) (looked for 'score'" in one_line_error(excinfo)


def test_duplicate_ids_are_refused(tmp_path, loan):
    planted = _planted_binary(loan)
    planted = pd.concat([planted, planted.iloc[:2]], ignore_index=True)
    _write(planted, tmp_path / "preds.csv")
    with pytest.raises(ModelFileError) as excinfo:
        load_vendor_model(make_spec(tmp_path, loan, format="predictions", path="preds.csv"), loan)
    assert "gives 2 id(s) more than once" in one_line_error(excinfo)


def test_numeric_ids_match_text_ids(tmp_path, claims):
    # the data reads its ids as integers; a vendor file writing them as text must match
    ds = build_dataset("claims", 120, 8)
    start = 1000
    for split, frame in ds.frames.items():
        frame = frame.copy()
        frame[ds.id_column] = np.arange(start, start + len(frame), dtype=np.int64)
        start += len(frame)
        ds.frames[split] = frame
    rows = all_rows(ds)
    planted = pd.DataFrame(
        {ds.id_column: rows[ds.id_column].astype(str), "score": np.linspace(0, 1, len(rows))}
    )
    _write(planted, tmp_path / "preds.jsonl")
    predictor = load_vendor_model(
        make_spec(tmp_path, ds, format="predictions", path="preds.jsonl"), ds
    )
    lookup = dict(zip(rows[ds.id_column], planted["score"], strict=True))
    np.testing.assert_allclose(
        predictor.predict(ds, "test"), [lookup[i] for i in ds.frames["test"][ds.id_column]]
    )


def test_rows_for_unknown_ids_are_noted_not_used(tmp_path, loan):
    planted = _planted_binary(loan)
    strangers = pd.DataFrame({loan.id_column: [f"Z{i}" for i in range(5)], "score": 0.5})
    _write(pd.concat([planted, strangers], ignore_index=True), tmp_path / "preds.csv")
    predictor = load_vendor_model(
        make_spec(tmp_path, loan, format="predictions", path="preds.csv"), loan
    )
    assert pf.MSG_NOTE_EXTRA.format(count=5) in predictor.info["notes"]
    assert predictor.info["rows_in_file"] == len(planted) + 5
