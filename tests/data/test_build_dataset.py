"""build_dataset: roles, target encoding, splits, preprocessing fitted on train only."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from data_frames import planted_frame

from auditor.data import build_dataset
from auditor.data import columns as cols
from auditor.errors import DataError


def test_every_field_filled_and_shapes_align(make_spec, tmp_path):
    hold = planted_frame(200, seed=9)
    ds = build_dataset(
        make_spec(sensitive=["sex"], id_column="row_id", exclude=["day", "customer"], holdout=hold)
    )
    assert ds.splits == ["train", "validation", "test", "holdout"]
    for s in ds.splits:
        assert ds.X[s].dtype == np.float32 and ds.X[s].shape == (
            len(ds.frames[s]),
            len(ds.feature_names),
        )
        assert len(ds.y[s]) == len(ds.frames[s]) == len(ds.groups[s])
        assert list(ds.groups[s].columns) == ["sex"]
    assert ds.feature_columns == ["x1", "x2", "color"]
    assert ds.column_types == {"x1": "numeric", "x2": "numeric", "color": "categorical"}
    assert ds.classes == [0, 1] and ds.id_column == "row_id" and ds.sensitive == ["sex"]
    assert [s["role"] for s in ds.sources] == ["train", "holdout"]
    src = ds.sources[0]
    assert src["sha256"] == hashlib.sha256((tmp_path / "train.csv").read_bytes()).hexdigest()
    assert (src["rows"], src["columns"], src["format"]) == (600, 8, "csv")
    assert ds.split_info["sizes"] == {"train": 360, "validation": 120, "test": 120, "holdout": 200}
    assert ds.preprocessing_info["fitted_on"] == "train"


@pytest.mark.parametrize("name", ["train.parquet", "train.jsonl"])
def test_other_formats(make_spec, name):
    ds = build_dataset(make_spec(name=name, exclude=["day"]))
    assert ds.sources[0]["format"] == name.split(".")[1] and len(ds.y["train"]) == 360


def test_sensitive_excluded_unless_asked(make_spec):
    assert "sex" not in build_dataset(make_spec(sensitive=["sex"])).feature_columns
    ds = build_dataset(make_spec(sensitive=["sex"], sensitive_as_features=True))
    assert "sex" in ds.feature_columns and "cat__sex_f" in ds.feature_names


def test_include_and_types_override(make_spec):
    ds = build_dataset(make_spec(include=["x1", "customer"], types={"customer": "categorical"}))
    assert ds.feature_columns == ["x1", "customer"]
    assert ds.column_types["customer"] == "categorical"
    assert any(n.startswith("cat__customer_") for n in ds.feature_names)


def test_declared_numeric_text_column_is_an_error(make_spec):
    with pytest.raises(
        DataError, match="declared numeric but holds text such as '(red|green|blue)'"
    ) as err:
        build_dataset(make_spec(types={"color": "numeric"}))
    assert err.value.location.path == ("data", "types", "color")


def test_missing_columns_are_located(make_spec):
    with pytest.raises(DataError, match="did you mean 'sex'") as err:
        build_dataset(make_spec(sensitive=["sexx"]))
    assert err.value.location.path == ("data", "sensitive", 0)
    with pytest.raises(DataError, match="target column 'lable'"):
        build_dataset(make_spec(target="lable"))


@pytest.mark.parametrize(
    "values, positive, expected",
    [
        (["no", "yes"], None, ["no", "yes"]),
        (["yes", "no"], None, ["no", "yes"]),
        ([0, 1], None, [0, 1]),
        (["a", "b"], None, ["a", "b"]),
        (["a", "b"], "a", ["b", "a"]),
        ([True, False], None, [False, True]),
        ([2, 5], 2, [5, 2]),
    ],
)
def test_binary_positive_becomes_class_one(values, positive, expected):
    series = pd.Series(values * 5)
    classes = cols.target_classes(
        series, task="binary", positive=positive, target="t", where=lambda p: None
    )
    assert classes == expected
    codes = cols.encode_target(series, task="binary", classes=classes)
    assert (codes == (series.map(lambda v: str(v) == str(expected[1])).to_numpy())).all()


def test_target_errors():
    with pytest.raises(DataError, match="exactly 2 distinct values"):
        cols.target_classes(
            pd.Series([1, 2, 3]), task="binary", positive=None, target="t", where=lambda p: None
        )
    with pytest.raises(DataError, match="positive class 'z' is not a value"):
        cols.target_classes(
            pd.Series(["a", "b"]), task="binary", positive="z", target="t", where=lambda p: None
        )
    with pytest.raises(DataError, match="positive class 'z' is not a value"):
        cols.target_classes(
            pd.Series(["a", "b", "c"]),
            task="multiclass",
            positive="z",
            target="t",
            where=lambda p: None,
        )
    # a named multiclass positive keeps the sorted class order
    assert cols.target_classes(
        pd.Series(["c", "a", "b"]),
        task="multiclass",
        positive="c",
        target="t",
        where=lambda p: None,
    ) == ["a", "b", "c"]
    with pytest.raises(DataError, match="never seen in training: c"):
        cols.encode_target(pd.Series(["a", "c"]), task="multiclass", classes=["a", "b"])


def test_multiclass_classes_sorted(make_spec):
    frame = planted_frame()
    frame["level"] = np.where(frame.x1 > 0.5, "high", np.where(frame.x1 < -0.5, "low", "medium"))
    ds = build_dataset(
        make_spec(frame, task="multiclass", target="level", exclude=["label", "day"])
    )
    assert ds.classes == ["high", "low", "medium"]
    assert set(np.unique(ds.y["train"])) == {0, 1, 2}


def test_rows_without_target_are_removed(make_spec):
    frame = planted_frame().astype({"label": "float"})
    frame.loc[:9, "label"] = np.nan
    ds = build_dataset(make_spec(frame, exclude=["day"]))
    assert ds.preprocessing_info["missing_target_rows"]["train"] == 10
    assert sum(len(ds.y[s]) for s in ds.splits) == 590


def test_stratified_default_keeps_shares(make_spec):
    ds = build_dataset(make_spec(exclude=["day"]))
    share = np.concatenate([ds.y[s] for s in ds.splits]).mean()
    for s in ds.splits:
        assert abs(ds.y[s].mean() - share) < 0.01


@pytest.mark.parametrize("strategy", ["random", "group", "time"])
def test_split_strategies_through_the_spec(make_spec, strategy):
    ds = build_dataset(
        make_spec(
            split={
                "strategy": strategy,
                "group_column": "customer",
                "time_column": "day",
                "seed": 3,
            }
        )
    )
    assert ds.split_info["strategy"] == strategy
    assert "customer" not in ds.feature_columns and "day" not in ds.feature_columns
    if strategy == "group":
        assert not set(ds.frames["train"].customer) & set(ds.frames["test"].customer)
    if strategy == "time":
        assert (
            pd.to_datetime(ds.frames["train"].day).max()
            < pd.to_datetime(ds.frames["test"].day).min()
        )


def test_preprocessing_fitted_on_train_only(make_spec):
    """A strongly shifted test period must not move the scaler or the imputer."""
    frame = planted_frame(1000)
    order = np.argsort(frame.day.to_numpy(), kind="stable")
    late = order[700:]
    frame.loc[late, "x2"] += 100.0  # the latest 30% of rows are shifted far away
    frame.loc[frame.index[::7], "x2"] = np.nan
    ds = build_dataset(
        make_spec(
            frame,
            split={"strategy": "time", "time_column": "day", "test": 0.2},
            preprocessing={"missing": "mean"},
        )
    )
    train_x2 = pd.to_numeric(ds.frames["train"].x2)
    scaler = ds.preprocessor.named_transformers_["num"].named_steps["scale"]
    imputer = ds.preprocessor.named_transformers_["num"].named_steps["impute"]
    j = ds.feature_columns.index("x2")
    assert scaler.mean_[j] == pytest.approx(train_x2.mean())
    assert imputer.statistics_[j] == pytest.approx(train_x2.mean())
    assert train_x2.max() < 50  # none of the shifted rows trained
    assert abs(ds.X["train"][:, j].mean()) < 1e-5
    assert ds.X["test"][:, j].mean() > 10  # test stays far away: it was only transformed


def test_missing_drop_drops_training_rows_only(make_spec):
    frame = planted_frame(1000)
    frame.loc[frame.index[::10], "x1"] = np.nan
    ds = build_dataset(make_spec(frame, exclude=["day"], preprocessing={"missing": "drop"}))
    dropped = ds.preprocessing_info["dropped_rows"]["missing"]
    assert dropped > 0 and ds.frames["train"].x1.notna().all()
    assert ds.frames["test"].x1.isna().any()  # other splits are imputed, never dropped
    assert not np.isnan(ds.X["test"]).any()
    assert ds.split_info["sizes"]["train"] == 600 - dropped


def test_outliers_drop_clip_and_indicator(make_spec):
    frame = planted_frame(1000)
    frame.loc[frame.index[:5], "x2"] = 1e6
    frame.loc[frame.index[5:40], "x1"] = np.nan
    ds = build_dataset(
        make_spec(
            frame,
            exclude=["day"],
            split={"strategy": "random"},
            preprocessing={"outliers": "drop", "missing_indicator": True},
        )
    )
    assert ds.frames["train"].x2.max() < 1e3
    assert ds.preprocessing_info["dropped_rows"]["outliers"] >= 1
    assert "num__missingindicator_x1" in ds.feature_names
    clip = build_dataset(
        make_spec(
            frame,
            exclude=["day"],
            split={"strategy": "random"},
            preprocessing={"outliers": "clip_iqr", "scaling": "none"},
        )
    )
    j = clip.feature_columns.index("x2")
    q1, q3 = np.nanpercentile(pd.to_numeric(clip.frames["train"].x2), [25, 75])
    assert max(clip.X[s][:, j].max() for s in clip.splits) <= q3 + 1.5 * (q3 - q1) + 1e-3
    assert sum(clip.preprocessing_info["clipped_values"].values()) >= 5


@pytest.mark.parametrize("scaling", ["standard", "minmax", "robust", "none"])
def test_scalings(make_spec, scaling):
    ds = build_dataset(make_spec(exclude=["day"], preprocessing={"scaling": scaling}))
    x2 = ds.X["train"][:, ds.feature_columns.index("x2")]
    raw = pd.to_numeric(ds.frames["train"].x2).to_numpy()
    expected = {
        "standard": (raw - raw.mean()) / raw.std(),
        "minmax": (raw - raw.min()) / (raw.max() - raw.min()),
        "robust": (raw - np.median(raw)) / np.subtract(*np.percentile(raw, [75, 25])),
        "none": raw,
    }[scaling]
    np.testing.assert_allclose(x2, expected, rtol=1e-4, atol=1e-4)


def test_onehot_cap_and_unknown_categories(make_spec):
    rng = np.random.default_rng(0)
    frame = planted_frame(1000)
    frame["city"] = rng.choice(
        [f"c{i}" for i in range(30)] + ["rare"], size=1000, p=[0.0322] * 30 + [0.034]
    )
    frame.loc[frame.index[:2], "city"] = "tiny"  # below min_frequency
    hold = planted_frame(100, seed=5)
    hold["city"] = "never_seen"
    ds = build_dataset(
        make_spec(
            frame,
            exclude=["day"],
            holdout=hold,
            split={"strategy": "random"},
            preprocessing={"max_categories": 5},
        )
    )
    city = [n for n in ds.feature_names if n.startswith("cat__city_")]
    assert len(city) == 5 and "cat__city_infrequent_sklearn" in city
    block = ds.X["holdout"][:, [ds.feature_names.index(n) for n in city]]
    assert (block.sum(axis=1) == 1).all()  # unknown -> the infrequent bucket
    ordinal = build_dataset(
        make_spec(frame, exclude=["day"], holdout=hold, preprocessing={"categorical": "ordinal"})
    )
    j = ordinal.feature_names.index("cat__city")
    assert (ordinal.X["holdout"][:, j] == -1).all()


def test_groups_are_strings_with_missing(make_spec):
    frame = planted_frame()
    frame["band"] = np.where(frame.x2 > 5, 1.0, 2.0)
    frame.loc[:20, "band"] = np.nan
    ds = build_dataset(make_spec(frame, exclude=["day"], sensitive=["sex", "band"]))
    values = set(pd.concat([ds.groups[s] for s in ds.splits]).band)
    assert values == {"1", "2", "missing"}
    assert "band" not in ds.feature_columns


def test_class_weights_computed_on_train(make_spec):
    frame = planted_frame(1000)
    frame["label"] = (frame.x1 > 1.2).astype(int)  # ~12% positive
    ds = build_dataset(
        make_spec(frame, exclude=["day"], preprocessing={"imbalance": "class_weights"})
    )
    counts = np.bincount(ds.y["train"])
    np.testing.assert_allclose(ds.class_weights, len(ds.y["train"]) / (2 * counts), rtol=1e-6)
    assert build_dataset(make_spec(frame, exclude=["day"])).class_weights is None


def test_regression_target(make_spec):
    frame = planted_frame()
    frame["cost"] = 3 * frame.x1 + 10
    ds = build_dataset(make_spec(frame, task="regression", target="cost", exclude=["label", "day"]))
    assert ds.classes == [] and ds.y["train"].dtype == np.float64
    frame["cost"] = frame.color
    with pytest.raises(DataError, match="regression target must be numeric"):
        build_dataset(make_spec(frame, task="regression", target="cost", exclude=["label", "day"]))


def test_holdout_missing_feature_column(make_spec):
    with pytest.raises(DataError, match="'x2' is not in the holdout") as err:
        build_dataset(make_spec(exclude=["day"], holdout=planted_frame(50).drop(columns=["x2"])))
    assert err.value.location.file.endswith("holdout.csv")


@pytest.mark.parametrize(
    "missing, statistic",
    [
        ("mean", lambda v: v.mean()),
        ("median", lambda v: v.median()),
        ("most_frequent", lambda v: v.mode().min()),
        ("constant", lambda v: -7.5),
    ],
)
def test_each_imputation_fills_with_the_training_statistic(make_spec, missing, statistic):
    """Gaps in every split are filled with the figure computed on the training rows only."""
    frame = planted_frame(1000)
    frame["x2"] = np.round(frame.x2)  # a most frequent value that is not an accident
    late = np.argsort(frame.day.to_numpy(), kind="stable")[600:]
    frame.loc[late, "x2"] = 20.0  # the later splits: any statistic over them is far away
    frame.loc[frame.index[::6], "x2"] = np.nan
    ds = build_dataset(
        make_spec(
            frame,
            split={"strategy": "time", "time_column": "day"},
            preprocessing={
                "missing": missing,
                "fill_value": -7.5,
                "missing_indicator": True,
                "scaling": "none",
            },
        )
    )
    expected = statistic(pd.to_numeric(ds.frames["train"].x2).dropna())
    j = ds.feature_names.index("num__x2")
    flag = ds.feature_names.index("num__missingindicator_x2")
    assert ds.frames["train"].x2.max() < 20  # so a statistic fitted on every row would differ
    everything = pd.to_numeric(pd.concat([ds.frames[s].x2 for s in ds.splits])).dropna()
    assert missing == "constant" or abs(statistic(everything) - expected) > 0.5
    for s in ds.splits:
        gaps = ds.frames[s].x2.isna().to_numpy()
        assert gaps.any()
        np.testing.assert_allclose(ds.X[s][gaps, j], expected, rtol=1e-6)
        np.testing.assert_array_equal(ds.X[s][:, flag], gaps.astype(np.float32))
        np.testing.assert_allclose(
            ds.X[s][~gaps, j], pd.to_numeric(ds.frames[s].x2[~gaps]), rtol=1e-6
        )
    assert ds.preprocessing_info["missing"] == missing


@pytest.mark.parametrize("factor", [None, 1.0])
def test_zscore_clipping_uses_training_mean_and_std(make_spec, factor):
    frame = planted_frame(1000)
    frame.loc[frame.index[:8], "x2"] = 500.0
    ds = build_dataset(
        make_spec(
            frame,
            exclude=["day"],
            split={"strategy": "random"},
            preprocessing={"outliers": "clip_zscore", "outlier_factor": factor, "scaling": "none"},
        )
    )
    raw = pd.to_numeric(ds.frames["train"].x2).to_numpy()
    k = 3.0 if factor is None else factor
    low, high = raw.mean() - k * raw.std(), raw.mean() + k * raw.std()
    j = ds.feature_names.index("num__x2")
    for s in ds.splits:
        values = pd.to_numeric(ds.frames[s].x2).to_numpy()
        np.testing.assert_allclose(ds.X[s][:, j], np.clip(values, low, high), rtol=1e-5)
    assert ds.preprocessing_info["outliers"] == "clip_zscore"
    clipped = 0
    for c in ds.preprocessing_info["numeric"]:
        v = pd.to_numeric(ds.frames["train"][c]).to_numpy()
        clipped += int(((v < v.mean() - k * v.std()) | (v > v.mean() + k * v.std())).sum())
    assert ds.preprocessing_info["clipped_values"]["train"] == clipped > 0


def test_onehot_min_frequency_buckets_rare_categories(make_spec):
    """Categories rarer than min_frequency (a share of the training rows) share one column."""
    rng = np.random.default_rng(2)
    frame = planted_frame(2000)
    frame["city"] = rng.choice(["a", "b", "c", "d"], size=2000, p=[0.55, 0.35, 0.07, 0.03])
    spec = make_spec(
        frame,
        exclude=["day"],
        split={"strategy": "random"},
        preprocessing={"categorical": "onehot", "min_frequency": 0.05, "max_categories": 20},
    )
    city = [n for n in build_dataset(spec).feature_names if n.startswith("cat__city_")]
    assert city == ["cat__city_a", "cat__city_b", "cat__city_c", "cat__city_infrequent_sklearn"]


def test_the_same_table_in_every_format_gives_the_same_dataset(make_spec, tmp_path):
    """CSV, Parquet and JSON Lines of one table: same column types, same matrices, bit for bit."""
    import json

    frame = planted_frame(400).drop(columns=["day"])
    frame.loc[frame.index[::9], "x2"] = np.nan
    frame.loc[frame.index[::13], "color"] = None
    built = {}
    for name in ("train.csv", "train.parquet"):
        built[name] = build_dataset(make_spec(frame, name=name, sensitive=["sex"]))
    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    (tmp_path / "exact.jsonl").write_text(
        "".join(json.dumps(r, default=int) + "\n" for r in records)
    )
    spec = make_spec(frame, name="unused.csv", sensitive=["sex"])
    spec.values["data"]["train"] = "exact.jsonl"
    built["exact.jsonl"] = build_dataset(spec)
    reference = built["train.csv"]
    for name, ds in built.items():
        assert ds.column_types == reference.column_types, name
        assert ds.feature_names == reference.feature_names, name
        for s in reference.splits:
            assert np.array_equal(ds.X[s], reference.X[s]), (name, s)
            assert np.array_equal(ds.y[s], reference.y[s]), (name, s)
