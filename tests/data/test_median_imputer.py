"""MedianImputer: scikit-learn's SimpleImputer with its medians found by a partition."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer

from auditor.data.preprocess import MedianImputer


def _matrices(seed: int):
    """Random matrices with missing values, an all-missing column, ties and odd/even rows."""
    rng = np.random.default_rng(seed)
    for trial in range(120):
        n, k = int(rng.integers(1, 50)), int(rng.integers(1, 5))
        X = rng.normal(size=(n, k)) * 10.0 ** float(rng.integers(-4, 5))
        X[rng.random((n, k)) < 0.3] = np.nan
        if trial % 7 == 0:
            X[:, 0] = np.nan
        if trial % 5 == 0:
            X = np.round(X, 1)  # ties
        yield X.astype(np.float32 if trial % 2 else np.float64)


@pytest.mark.parametrize("keep_empty", [True, False])
def test_same_statistics_and_output_as_scikit_learn(keep_empty):
    for X in _matrices(0):
        ours = MedianImputer(strategy="median", keep_empty_features=keep_empty).fit(X)
        theirs = SimpleImputer(strategy="median", keep_empty_features=keep_empty).fit(X)
        assert ours.statistics_.dtype == theirs.statistics_.dtype
        np.testing.assert_array_equal(ours.statistics_, theirs.statistics_)
        with warnings.catch_warnings():  # an all-missing column dropped: both warn
            warnings.simplefilter("ignore", UserWarning)
            np.testing.assert_array_equal(ours.transform(X), theirs.transform(X))
        assert ours.n_features_in_ == theirs.n_features_in_


def test_a_frame_keeps_its_column_names():
    frame = pd.DataFrame({"a": [1.0, np.nan, 3.0, 10.0], "b": [np.nan, 2.0, 2.0, 5.0]})
    ours = MedianImputer(strategy="median").fit(frame)
    assert list(ours.feature_names_in_) == ["a", "b"]
    np.testing.assert_array_equal(ours.statistics_, [3.0, 2.0])
    assert list(ours.get_feature_names_out()) == ["a", "b"]


@pytest.mark.parametrize(
    "params",
    [{"strategy": "mean"}, {"strategy": "median", "add_indicator": True}],
    ids=["mean", "indicator"],
)
def test_other_settings_fit_as_scikit_learn_does(params):
    X = np.array([[1.0, np.nan], [np.nan, 4.0], [7.0, 5.0], [2.0, np.nan]])
    ours, theirs = MedianImputer(**params).fit(X), SimpleImputer(**params).fit(X)
    np.testing.assert_array_equal(ours.statistics_, theirs.statistics_)
    np.testing.assert_array_equal(ours.transform(X), theirs.transform(X))


def test_infinite_values_are_refused_as_scikit_learn_refuses_them():
    X = np.array([[1.0], [np.inf], [3.0]])
    with pytest.raises(ValueError, match="infinity"):
        SimpleImputer(strategy="median").fit(X)
    with pytest.raises(ValueError, match="infinity"):
        MedianImputer(strategy="median").fit(X)
