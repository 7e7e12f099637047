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
