"""Outlier preprocessing judges only the columns the data checks screen (fitted on train).

Generated data with known structure: ``x`` is continuous with planted extreme values,
``claims`` a Poisson count (a legitimate tail that Tukey's fence would cut), ``bonus`` a
zero-inflated amount (two equal training quartiles). Expected fences are computed here by
hand from the training rows, not read back from the code under test.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from auditor.data import build_dataset
from auditor.data.preprocess import OutlierClipper, rows_to_drop
from auditor.data.screening import DISCRETE_MAX_VALUES, NOT_SCREENED, screenable
from auditor.spec.typed import section

PREP = ("data", "preprocessing")

DISCRETE = NOT_SCREENED["discrete"].format(k=DISCRETE_MAX_VALUES)
PILED_UP = NOT_SCREENED["constant_iqr"]
HIGH, LOW = list(range(0, 1000, 97)), [5, 505]  # rows of x with planted extremes


def screening_frame(n: int = 1000, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(50, 10, size=n)
    x[HIGH] = 1e4
    x[LOW] = -1e4
    bonus = np.where(rng.uniform(size=n) < 0.6, 0.0, rng.exponential(100, size=n))
    logit = (np.clip(x, 20, 80) - 50) / 10
    return pd.DataFrame(
        {
            "row_id": np.arange(n),
            "x": x,
            "claims": rng.poisson(0.6, size=n),
            "bonus": bonus,
            "label": (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int),
        }
    )


def tukey(values, k: float = 1.5) -> tuple[float, float]:
    q1, q3 = np.percentile(np.asarray(values, dtype=float), [25, 75])
    return q1 - k * (q3 - q1), q3 + k * (q3 - q1)


def spec_for(make_spec, frame, outliers, **extra):
    return make_spec(
        frame,
        id_column="row_id",
        split=extra.pop("split", {"strategy": "random", "seed": 1}),
        preprocessing={"outliers": outliers, "scaling": "none", **extra},
    )


def test_the_generated_columns_are_what_the_tests_assume():
    frame = screening_frame()
    assert screenable(frame.x) is None
    assert screenable(frame.claims) == "discrete"
    assert screenable(frame.bonus) == "constant_iqr"
    # without the screening rule, Tukey's fence would cut the count's legitimate tail
    assert (frame.claims > tukey(frame.claims)[1]).sum() >= 10


def test_clip_iqr_leaves_counts_and_piled_up_columns_alone(make_spec):
    frame = screening_frame()
    ds = build_dataset(spec_for(make_spec, frame, "clip_iqr"))
    info = ds.preprocessing_info
    assert info["outliers_screened"] == ["x"]
    assert info["outliers_not_screened"] == {"claims": DISCRETE, "bonus": PILED_UP}
    train = ds.frames["train"]
    assert (train.claims > tukey(train.claims)[1]).sum() >= 5  # would have been clipped
    lo, hi = tukey(train.x)
    for s in ds.splits:
        f = ds.frames[s]
        for col in ("claims", "bonus"):
            j = ds.feature_names.index(f"num__{col}")
            np.testing.assert_allclose(ds.X[s][:, j], f[col].to_numpy(float), rtol=1e-6)
        j = ds.feature_names.index("num__x")
        np.testing.assert_allclose(ds.X[s][:, j], np.clip(f.x, lo, hi), rtol=1e-6)
    beyond = int(((train.x < lo) | (train.x > hi)).sum())
    assert beyond >= 4  # the planted extremes that landed in train, at least
    assert info["clipped_values"]["train"] == beyond
    assert info["outliers_beyond_fences"] == {"x": beyond}


def test_clip_zscore_uses_the_same_columns(make_spec):
    frame = screening_frame()
    ds = build_dataset(spec_for(make_spec, frame, "clip_zscore"))
    assert ds.preprocessing_info["outliers_screened"] == ["x"]
    assert set(ds.preprocessing_info["outliers_not_screened"]) == {"claims", "bonus"}
    raw = ds.frames["train"].x.to_numpy(float)
    lo, hi = raw.mean() - 3 * raw.std(), raw.mean() + 3 * raw.std()
    for s in ds.splits:
        f = ds.frames[s]
        np.testing.assert_allclose(
            ds.X[s][:, ds.feature_names.index("num__x")], np.clip(f.x, lo, hi), rtol=1e-5
        )
        j = ds.feature_names.index("num__claims")
        np.testing.assert_array_equal(ds.X[s][:, j], f.claims.to_numpy(np.float32))


def test_drop_removes_exactly_the_rows_beyond_the_continuous_fence(make_spec):
    frame = screening_frame()
    ds = build_dataset(spec_for(make_spec, frame, "drop"))
    held_out = set(ds.frames["validation"].row_id) | set(ds.frames["test"].row_id)
    before = frame[~frame.row_id.isin(held_out)]  # the training rows before dropping
    lo, hi = tukey(before.x)
    expected = set(before.row_id[(before.x < lo) | (before.x > hi)])
    dropped = set(before.row_id) - set(ds.frames["train"].row_id)
    assert dropped == expected
    assert expected & set(HIGH + LOW)  # planted extremes were in train and went
    assert ds.preprocessing_info["dropped_rows"]["outliers"] == len(expected)
    # a count's tail and a piled-up amount never drop a row
    assert (ds.frames["train"].claims > tukey(before.claims)[1]).sum() >= 5
    assert ds.frames["train"].bonus.max() > tukey(before.bonus)[1]
    info = ds.preprocessing_info
    assert info["outliers_screened"] == ["x"]
    assert info["outliers_not_screened"] == {"claims": DISCRETE, "bonus": PILED_UP}
    assert info["outliers_beyond_fences"] == {"x": len(expected)}
    assert ds.split_info["sizes"]["train"] == len(before) - len(expected)


def test_rows_to_drop_screens_on_the_frame_it_is_given():
    frame = screening_frame()
    masks, _ = rows_to_drop(frame, section(PREP, outliers="drop"), ["x", "claims", "bonus"])
    lo, hi = tukey(frame.x)
    np.testing.assert_array_equal(masks["outliers"], ((frame.x < lo) | (frame.x > hi)).to_numpy())
    counts_only, _ = rows_to_drop(frame, section(PREP, outliers="drop"), ["claims", "bonus"])
    assert not counts_only["outliers"].any()


def test_the_choice_is_fitted_on_train_only(make_spec):
    """Train (the earliest rows) decides; later rows cannot change what is screened."""
    n = 1000
    rng = np.random.default_rng(9)
    frame = screening_frame(n)
    frame["day"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n), unit="h")
    late = np.arange(n) >= 600
    # m: a count in train, continuous with huge values later (not screened: left alone)
    frame["m"] = np.where(late, rng.normal(0, 1, n) * 1e3, rng.poisson(1.0, n)).astype(float)
    # w: continuous in train, a far-off count later (screened: clipped at train's fence)
    frame["w"] = np.where(late, rng.integers(100, 103, n), rng.normal(0, 1, n)).astype(float)
    ds = build_dataset(
        spec_for(
            make_spec,
            frame,
            "clip_iqr",
            split={"strategy": "time", "time_column": "day", "validation": 0.2, "test": 0.2},
        )
    )
    train, test = ds.frames["train"], ds.frames["test"]
    assert train.row_id.max() < 600 <= test.row_id.min()  # the precondition of this test
    assert screenable(test.m) is None and screenable(test.w) == "discrete"
    info = ds.preprocessing_info
    assert info["outliers_not_screened"]["m"] == DISCRETE
    assert "w" in info["outliers_screened"] and "m" not in info["outliers_screened"]
    jm, jw = ds.feature_names.index("num__m"), ds.feature_names.index("num__w")
    np.testing.assert_allclose(ds.X["test"][:, jm], test.m, rtol=1e-6)  # untouched
    assert np.abs(test.m).max() > 1e3
    hi = tukey(train.w)[1]
    np.testing.assert_allclose(ds.X["test"][:, jw], hi, rtol=1e-6)  # every value clipped
    assert test.w.min() >= 100 > hi


def test_clipper_records_its_decision_and_survives_skops(tmp_path):
    from auditor.train.artifacts import load_preprocessing

    frame = screening_frame()[["x", "claims", "bonus"]]
    clipper = OutlierClipper(method="iqr").fit(frame)
    np.testing.assert_array_equal(clipper.screened_, [True, False, False])
    assert clipper.not_screened_ == {"claims": "discrete", "bonus": "constant_iqr"}
    assert np.isinf(clipper.lower_[1:]).all() and np.isinf(clipper.upper_[1:]).all()
    probe = pd.DataFrame({"x": [1e9], "claims": [1e9], "bonus": [-1e9]})
    np.testing.assert_allclose(clipper.transform(probe), [[tukey(frame.x)[1], 1e9, -1e9]])
    assert not clipper.outside(probe)[0, 1:].any()
    none = OutlierClipper(method="none").fit(frame)
    assert not none.screened_.any() and none.not_screened_ == {}

    import skops.io

    path = tmp_path / "clip.skops"
    path.write_bytes(skops.io.dumps(clipper))
    again = load_preprocessing(path)
    assert again.not_screened_ == clipper.not_screened_
    np.testing.assert_array_equal(again.screened_, clipper.screened_)
    np.testing.assert_array_equal(again.transform(probe), clipper.transform(probe))


@pytest.mark.parametrize("outliers", ["clip_iqr", "drop"])
def test_preprocessing_and_data_check_screen_the_same_columns(make_spec, outliers):
    from auditor.checks import data as data_checks
    from auditor.checks.registry import CheckContext
    from auditor.data import screening

    assert data_checks.screenable is screening.screenable  # one rule, re-exported
    assert data_checks.skew_adjusted_fences is screening.skew_adjusted_fences
    frame = screening_frame()
    frame.loc[::3, "x"] = np.nan  # NaN never decides anything
    spec = spec_for(make_spec, frame, outliers)
    ds = build_dataset(spec)
    found = data_checks.outliers(CheckContext(spec=spec, dataset=ds, evaluation=None))
    check_not_screened = found[0].details["not_screened"]
    assert check_not_screened == ds.preprocessing_info["outliers_not_screened"]
    assert set(found[0].details["fences"]) == set(ds.preprocessing_info["outliers_screened"])


def test_preprocess_imports_no_check_or_heavy_module():
    code = (
        "import sys, auditor.data.preprocess\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('torch', 'fairlearn', 'matplotlib', 'weasyprint') or m.startswith('auditor.checks')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    light = "import sys, auditor.data.screening; assert 'sklearn' not in sys.modules\n"
    subprocess.run([sys.executable, "-c", light], check=True)
