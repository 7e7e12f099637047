"""Data checks on planted defects, one row per case."""

from __future__ import annotations

import numpy as np
import pytest

from auditor.checks import CheckContext
from auditor.checks.data import (
    class_balance,
    data_summary,
    duplicate_rate,
    missing_rate,
    outliers,
    train_test_overlap,
)
from tests.checks.factory import make_binary_case, make_spec

SIZES = {"train": 1000, "validation": 400, "test": 400}


def _plant_missing(ds):
    ds.frames["train"].loc[ds.frames["train"].index[:300], "x2"] = np.nan  # 30%


def _plant_outliers(ds):
    ds.frames["train"].loc[ds.frames["train"].index[:100], "x2"] = 1e6  # 10%


def _plant_duplicates(ds):
    f = ds.frames["train"]
    f.iloc[1:51] = f.iloc[[0] * 50].to_numpy()  # 50 copies of row 0 -> 5%


def _plant_overlap(ds):
    test, train = ds.frames["test"], ds.frames["train"]
    test.iloc[:40] = train.iloc[:40].to_numpy()  # 10% of test rows are training rows


def _plant_imbalance(ds):
    y = ds.y["train"]
    y[:] = 0
    y[:20] = 1  # 2% positives


# (case, planting, check, finding id, status without defect, status with defect, expected value)
CASES = [
    ("missing", _plant_missing, missing_rate, "data.missing_rate.train", 0.3),
    ("outliers", _plant_outliers, outliers, "data.outliers.train", 0.1),
    ("duplicates", _plant_duplicates, duplicate_rate, "data.duplicate_rate.train", 0.05),
    ("overlap", _plant_overlap, train_test_overlap, "data.train_test_overlap.test", 0.1),
    ("imbalance", _plant_imbalance, class_balance, "data.class_balance.train", 0.02),
]


@pytest.mark.parametrize(
    "case, plant, check, finding_id, expected", CASES, ids=[c[0] for c in CASES]
)
def test_planted_data_defect(case, plant, check, finding_id, expected):
    spec = make_spec()
    clean_ds, clean_ev = make_binary_case(seed=6, sizes=SIZES)
    clean = {f.id: f for f in check(CheckContext(spec, clean_ds, clean_ev))}[finding_id]
    assert clean.status == "pass", clean.summary
    ds, ev = make_binary_case(seed=6, sizes=SIZES)
    plant(ds)
    found = {f.id: f for f in check(CheckContext(spec, ds, ev))}[finding_id]
    assert found.status == "warn" and found.recommendation
    assert found.value == pytest.approx(expected, abs=0.01)  # normal data has ~0.7% IQR outliers


def test_thresholds_come_from_the_spec():
    ds, ev = make_binary_case(seed=6, sizes=SIZES)
    _plant_missing(ds)
    lenient = make_spec(evaluation={"diagnostics": {"max_missing_rate": 0.5}})
    f = {f.id: f for f in missing_rate(CheckContext(lenient, ds, ev))}["data.missing_rate.train"]
    assert f.status == "pass" and f.threshold == 0.5


def test_summary_counts_rows_and_columns():
    ds, ev = make_binary_case(seed=6, sizes=SIZES)
    f = data_summary(CheckContext(make_spec(), ds, ev))[0]
    assert f.details["rows"] == SIZES and f.value == sum(SIZES.values())
    assert "1,800 rows" in f.summary


def _add_count_columns(ds, seed=0):
    """A skewed count (0..7, like chronic conditions), a rare 0/1 flag and a zero-heavy amount."""
    rng = np.random.default_rng(seed)
    for f in ds.frames.values():
        n = len(f)
        f["conditions"] = np.minimum(rng.poisson(0.6, n) + rng.binomial(1, 0.08, n) * 4, 7)
        f["flag"] = (rng.random(n) < 0.06).astype(int)
        f["debt"] = np.where(rng.random(n) < 0.8, 0.0, rng.gamma(2.0, 500.0, n))
    for c in ("conditions", "flag", "debt"):
        ds.feature_columns.append(c)
        ds.column_types[c] = "numeric"


def test_outliers_do_not_flag_legitimate_discrete_tails():
    """Tukey's fence would flag ~8-11% of a skewed count; such columns are not screened."""
    spec = make_spec()
    ds, ev = make_binary_case(seed=6, sizes=SIZES)
    _add_count_columns(ds)
    x = ds.frames["train"]["conditions"]
    q1, q3 = x.quantile([0.25, 0.75])
    naive = float(((x < q1 - 1.5 * (q3 - q1)) | (x > q3 + 1.5 * (q3 - q1))).mean())
    assert naive > 0.05  # the plain rule would warn on this column
    found = {f.id: f for f in outliers(CheckContext(spec, ds, ev))}
    for split in ds.frames:
        f = found[f"data.outliers.{split}"]
        assert f.status == "pass", f.summary
        assert set(f.details["not_screened"]) == {"conditions", "flag", "debt"}
        assert "count-like" in f.details["not_screened"]["conditions"]
        assert "two training quartiles are equal" in f.details["not_screened"]["debt"]
        assert (
            "not screened, being count-like or piled up on one value: conditions, flag, "
            "debt." in f.summary
        )
        assert "conditions" not in f.details["columns"]
    # a continuous column next to them is still screened: a planted defect still warns
    _plant_outliers(ds)
    f = {f.id: f for f in outliers(CheckContext(spec, ds, ev))}["data.outliers.train"]
    assert f.status == "warn" and f.value == pytest.approx(0.1, abs=0.01)


def test_skewed_continuous_tails_are_not_outliers_but_errors_are():
    """Exponential durations: ~4.5% beyond Tukey's fence, ~3% beyond the skew-adjusted one."""
    spec = make_spec()
    ds, ev = make_binary_case(seed=6, sizes=SIZES)
    rng = np.random.default_rng(1)
    for f in ds.frames.values():
        f["duration"] = rng.exponential(5.0, len(f))
    ds.feature_columns.append("duration")
    ds.column_types["duration"] = "numeric"
    found = {f.id: f for f in outliers(CheckContext(spec, ds, ev))}
    for split in ds.frames:
        rate = found[f"data.outliers.{split}"].details["columns"]["duration"]
        assert 0.015 < rate < 0.04, (split, rate)
        assert found[f"data.outliers.{split}"].status == "pass"
    # symmetric columns keep Tukey's fences exactly
    x = ds.frames["train"]["x2"]
    q1, q3 = x.quantile([0.25, 0.75])
    fence = found["data.outliers.train"].details["fences"]["x2"]
    iqr = q3 - q1
    assert fence[0] == pytest.approx(q1 - 1.5 * iqr, abs=0.1 * iqr)
    assert fence[1] == pytest.approx(q3 + 1.5 * iqr, abs=0.1 * iqr)
    skewed = found["data.outliers.train"].details["fences"]["duration"]
    d = ds.frames["train"]["duration"]
    assert skewed[1] > d.quantile(0.75) + 1.5 * (d.quantile(0.75) - d.quantile(0.25))
    # a unit error on 10% of the rows is still found
    ds.frames["train"].loc[ds.frames["train"].index[:100], "duration"] = 1e6
    f = {f.id: f for f in outliers(CheckContext(spec, ds, ev))}["data.outliers.train"]
    assert f.status == "warn" and "duration" in f.recommendation


def test_outliers_skipped_when_no_column_is_continuous():
    spec = make_spec()
    ds, ev = make_binary_case(seed=6, sizes=SIZES)
    _add_count_columns(ds)
    ds.feature_columns[:] = ["conditions", "flag", "color"]
    (f,) = outliers(CheckContext(spec, ds, ev))
    assert f.status == "skipped" and "'conditions' is count-like" in f.summary


def test_outlier_fences_of_a_large_split_come_from_a_seeded_sample(monkeypatch):
    """Above FIT_ROWS development rows the fences are set on the preprocessing's sample."""
    import auditor.data.build as build

    spec = make_spec()
    ds, ev = make_binary_case(seed=6, sizes=SIZES)
    _plant_outliers(ds)
    whole = {f.id: f for f in outliers(CheckContext(spec, ds, ev))}["data.outliers.train"]
    monkeypatch.setattr(build, "FIT_ROWS", 400)
    sampled = {f.id: f for f in outliers(CheckContext(spec, ds, ev))}["data.outliers.train"]
    rows = len(ds.frames["train"])
    assert whole.details["fence_rows"] == rows
    assert sampled.details["fence_rows"] == 400
    assert f"a seeded sample of 400 of {rows:,} rows" in sampled.summary
    assert f"of {rows:,} rows" not in whole.summary
    # fences from 400 rows still find the planted 10% (rates are measured on every row)
    assert sampled.status == "warn" and sampled.value >= 0.1
    assert sampled.details["fences"] != whole.details["fences"]
