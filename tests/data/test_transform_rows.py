"""transform_rows gives exactly the numbers of the fitted ColumnTransformer's transform.

It encodes each distinct categorical value once instead of every row; these frames hold
what could make the two differ: missing values of several kinds (NaN, None, pd.NA),
categories the fit never saw, infrequent categories bucketed together, numbers and
booleans in categorical columns, category and nullable dtypes, missing indicators.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.data.preprocess import build_preprocessor, transform_rows
from auditor.spec.typed import section

PREP = ("data", "preprocessing")


def _frame(n: int, seed: int, *, unseen: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    colors = np.array(["red", "green", "blue", "teal", "plum", "rare"], dtype=object)
    color = rng.choice(colors, n, p=[0.4, 0.3, 0.15, 0.1, 0.04, 0.01]).astype(object)
    color[rng.random(n) < 0.05] = None
    color[rng.random(n) < 0.05] = np.nan
    if unseen:
        color[rng.random(n) < 0.1] = "violet"  # never in the rows it was fitted on
    x = rng.normal(size=n)
    x[rng.random(n) < 0.1] = np.nan
    count = pd.array(rng.integers(0, 6, n), dtype="Int64")
    count[rng.random(n) < 0.1] = pd.NA
    return pd.DataFrame(
        {
            "x": x,
            "count": count,
            "flag": rng.random(n) < 0.3,
            "color": color,
            "size": pd.Categorical(rng.choice(["S", "M", "L"], n)),
            "grade": rng.choice([1, 2, 3.0, 4], n).astype(object),  # numbers as categories
            "city": pd.array(rng.choice(["Basel", "Zürich", None], n), dtype="string"),
        }
    )


NUMERIC, CATEGORICAL = ["x", "count", "flag"], ["color", "size", "grade", "city"]
SETTINGS = [
    {},
    {"categorical": "ordinal"},
    {"max_categories": 3},
    {"min_frequency": 0.05, "missing_indicator": True, "scaling": "robust"},
    {"outliers": "clip_iqr", "missing": "most_frequent"},
]


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: ",".join(s) or "defaults")
@pytest.mark.parametrize("unseen", [False, True], ids=["seen", "unseen"])
def test_transform_rows_equals_the_transformer(settings, unseen):
    prep = section(PREP, **settings)
    pre = build_preprocessor(prep, NUMERIC, CATEGORICAL).fit(_frame(600, seed=1))
    rows = _frame(900, seed=2, unseen=unseen)
    expected = np.asarray(pre.transform(rows), dtype=np.float32)
    got = transform_rows(pre, rows)
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_transform_rows_of_one_row_and_of_one_kind_only():
    prep = section(PREP)
    fitted = _frame(300, seed=3)
    for numeric, categorical in ((NUMERIC, []), ([], CATEGORICAL)):
        pre = build_preprocessor(prep, numeric, categorical).fit(fitted)
        for rows in (fitted.iloc[:1], fitted):
            expected = np.asarray(pre.transform(rows), dtype=np.float32)
            np.testing.assert_array_equal(transform_rows(pre, rows), expected)
