"""Split strategies: sizes, coverage, seeding, and the guarantee each one makes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.data import splits
from auditor.errors import DataError, Location
from auditor.spec.typed import section

SPLIT = ("data", "split")

WHERE = Location(file="spec.yaml")


def where(path):
    return Location(file="spec.yaml", path=path)


def _assert_partition(parts, n):
    allrows = np.concatenate(list(parts.values()))
    assert len(allrows) == n and len(np.unique(allrows)) == n
    assert all(len(v) > 0 for v in parts.values())


def test_random_split_sizes_seeded():
    a = splits.random_split(1000, validation=0.2, test=0.1, seed=3)
    b = splits.random_split(1000, validation=0.2, test=0.1, seed=3)
    c = splits.random_split(1000, validation=0.2, test=0.1, seed=4)
    _assert_partition(a, 1000)
    assert {k: len(v) for k, v in a.items()} == {"train": 700, "validation": 200, "test": 100}
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(np.sort(a["test"]), np.sort(c["test"]))


def test_stratified_keeps_class_shares():
    rng = np.random.default_rng(0)
    y = (rng.uniform(size=2000) < 0.1).astype(int)  # 10% minority
    parts = splits.stratified_split(y, validation=0.2, test=0.2, seed=1)
    _assert_partition(parts, 2000)
    share = y.mean()
    for k, idx in parts.items():
        assert abs(y[idx].mean() - share) < 0.005, k
    assert len(parts["test"]) == 400 and len(parts["validation"]) == 400


def test_group_split_never_shares_a_group():
    rng = np.random.default_rng(0)
    groups = pd.Series(rng.integers(0, 60, size=3000), name="customer")
    parts = splits.group_split(groups, validation=0.2, test=0.2, seed=5, where=WHERE)
    _assert_partition(parts, 3000)
    seen = {k: set(groups.iloc[v]) for k, v in parts.items()}
    assert not seen["train"] & seen["test"]
    assert not seen["train"] & seen["validation"]
    assert not seen["validation"] & seen["test"]
    assert 0.1 < len(parts["test"]) / 3000 < 0.3


def test_group_split_needs_three_groups():
    with pytest.raises(DataError, match="has 2 distinct value"):
        splits.group_split(
            pd.Series([1, 2] * 10, name="g"), validation=0.2, test=0.2, seed=0, where=WHERE
        )


def test_time_split_trains_on_the_past_even_with_ties():
    rng = np.random.default_rng(0)
    days = pd.Series(
        pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 30, 500), unit="D")
    )
    times = splits.time_order(days.dt.strftime("%Y-%m-%d"), WHERE)
    parts = splits.time_split(times, validation=0.2, test=0.2)
    _assert_partition(parts, 500)
    assert times[parts["train"]].max() < times[parts["validation"]].min()
    assert times[parts["validation"]].max() < times[parts["test"]].min()


def test_time_column_that_is_not_a_time():
    with pytest.raises(DataError, match="neither numeric nor a date/time: 'soon'"):
        splits.time_order(pd.Series(["2024-01-01", "soon"], name="when"), WHERE)


def test_make_split_records_info_and_errors():
    frame = pd.DataFrame({"g": np.arange(100) % 10, "t": np.arange(100)})
    y = np.arange(100) % 2
    parts, info = splits.make_split(
        frame,
        y,
        section(SPLIT, strategy="group", group_column="g", validation=0.2, test=0.2, seed=0),
        task="binary",
        where=where,
    )
    assert info["strategy"] == "group" and info["group_column"] == "g"
    assert sum(info["sizes"].values()) == 100
    with pytest.raises(DataError) as err:
        splits.make_split(
            frame,
            y,
            section(SPLIT, strategy="time", time_column="when"),
            task="binary",
            where=where,
        )
    assert err.value.location.path == ("data", "split", "time_column")
    assert "did you mean" not in err.value.message or "'t'" in err.value.message
    _, info = splits.make_split(
        frame,
        y.astype(float),
        section(SPLIT, strategy="stratified"),
        task="regression",
        where=where,
    )
    assert "random" in info["note"]


def test_too_few_rows():
    with pytest.raises(DataError, match="too few to split"):
        splits.make_split(
            pd.DataFrame({"a": [1, 2]}),
            np.array([0, 1]),
            section(SPLIT, strategy="random"),
            task="binary",
            where=where,
        )
