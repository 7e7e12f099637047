"""The feature preprocessing, built from scikit-learn transformers and fitted on train rows.

``build_preprocessor`` returns an unfitted ``ColumnTransformer``:

- numeric columns: :class:`OutlierClipper` (float conversion, optional IQR / z-score clipping
  with fences fitted on the training rows, of the columns the shared screening rule
  :func:`auditor.data.screening.screenable` judges continuous) -> :class:`MedianImputer`
  (scikit-learn's ``SimpleImputer``, its medians found faster; optionally with missing
  indicators) -> a scaler (standard, min-max, robust or none);
- categorical columns: :class:`CategoryCaster` (values as strings, missing as ``"missing"``)
  -> ``OneHotEncoder`` (capped, rare categories bucketed as infrequent) or ``OrdinalEncoder``
  (unknown categories encoded as -1).

Row dropping (``missing: drop``, ``outliers: drop``) is done on the training rows only, by
:func:`rows_to_drop`, before fitting; the other splits are imputed / left as they are.

Infinite values (``inf``, ``-inf``, or a number too large for a float) in a numeric feature
column are missing values: :func:`infinite_to_missing` replaces them by NaN in every split
before anything else, so they follow ``missing`` (imputed, or their training rows dropped)
and the data checks count them as missing; ``Dataset.preprocessing_info["infinite_values"]``
says how many there were per split and column.

The outlier rules (``clip_iqr``, ``clip_zscore``, ``drop``) leave alone the columns the data
checks do not screen either: count-like or ordinal columns (at most
:data:`~auditor.data.screening.DISCRETE_MAX_VALUES` distinct whole numbers) and columns piled
up on one value (two equal training quartiles); :func:`outlier_screening` says which.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.impute import SimpleImputer
from sklearn.utils.validation import check_is_fitted

from auditor.data.screening import not_screened_reason, screenable

if TYPE_CHECKING:  # pragma: no cover
    from auditor.spec.typed import Preprocessing

MISSING_CATEGORY = "missing"
IQR_DEFAULT = 1.5
ZSCORE_DEFAULT = 3.0
CLIP_METHODS = ("none", "iqr", "zscore")


def _as_float_matrix(X: Any) -> np.ndarray:
    """Numeric values as a float64 matrix; values that are not numbers become NaN."""
    if isinstance(X, pd.DataFrame):
        if all(pd.api.types.is_numeric_dtype(t) for t in X.dtypes):  # one block copy
            return X.to_numpy(dtype=np.float64, na_value=np.nan)
        cols = [
            pd.to_numeric(X[c], errors="coerce").astype("float64").to_numpy(na_value=np.nan)
            for c in X.columns
        ]
        return np.column_stack(cols) if cols else np.empty((len(X), 0))
    arr = np.asarray(X)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    return arr.astype("float64")


class _ColumnNames:
    """Input column bookkeeping shared by the two transformers below (sklearn conventions)."""

    def _remember_columns(self, X, n_features: int) -> None:
        self.n_features_in_ = n_features
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)

    def get_feature_names_out(self, input_features=None):
        if input_features is None:
            input_features = getattr(
                self, "feature_names_in_", [f"x{i}" for i in range(self.n_features_in_)]
            )
        return np.asarray(input_features, dtype=object)


class OutlierClipper(_ColumnNames, TransformerMixin, BaseEstimator):
    """Convert to float and clip each screened column to fences fitted on the training rows.

    Only the columns :func:`auditor.data.screening.screenable` finds continuous on the
    training rows get fences; count-like, ordinal, piled-up and empty columns keep
    infinite fences (they are converted, never clipped).

    Parameters
    ----------
    method : {"none", "iqr", "zscore"}
        ``iqr``: [Q1 - factor*IQR, Q3 + factor*IQR]; ``zscore``: mean +- factor*std;
        ``none``: only the float conversion.
    factor : float or None
        The IQR multiple or the z-score; None means 1.5 (iqr) or 3 (zscore).

    Attributes
    ----------
    lower_, upper_ : ndarray of float
        The fences per column (-inf / inf where a column is not screened).
    screened_ : ndarray of bool
        Which columns the fences apply to (none when ``method="none"``).
    not_screened_ : dict of str to str
        Column name -> reason key of :data:`auditor.data.screening.NOT_SCREENED`, for the
        columns left alone (empty when ``method="none"``).
    """

    def __init__(self, method: str = "none", factor: float | None = None):
        self.method = method
        self.factor = factor

    def fit(self, X, y=None):
        if self.method not in CLIP_METHODS:
            raise ValueError(
                f"unknown clipping method {self.method!r}; available: {', '.join(CLIP_METHODS)}"
            )
        arr = _as_float_matrix(X)
        self._remember_columns(X, arr.shape[1])
        names = [str(n) for n in self.get_feature_names_out()]
        lower = np.full(arr.shape[1], -np.inf)
        upper = np.full(arr.shape[1], np.inf)
        reasons = (
            {} if self.method == "none" else {n: screenable(arr[:, j]) for j, n in enumerate(names)}
        )
        screened = np.asarray([reasons.get(n, "none") is None for n in names], dtype=bool)
        if screened.any():
            sub = arr[:, screened]
            if self.method == "iqr":
                k = IQR_DEFAULT if self.factor is None else float(self.factor)
                q1, q3 = np.nanpercentile(sub, [25, 75], axis=0)
                lower[screened], upper[screened] = q1 - k * (q3 - q1), q3 + k * (q3 - q1)
            else:
                k = ZSCORE_DEFAULT if self.factor is None else float(self.factor)
                mean, std = np.nanmean(sub, axis=0), np.nanstd(sub, axis=0)
                lower[screened], upper[screened] = mean - k * std, mean + k * std
        self.lower_ = lower
        self.upper_ = upper
        self.screened_ = screened
        self.not_screened_ = {n: why for n, why in reasons.items() if why is not None}
        return self

    def transform(self, X):
        check_is_fitted(self, "lower_")
        arr = _as_float_matrix(X)
        if self.method == "none":
            return arr
        with np.errstate(invalid="ignore"):
            return np.clip(arr, self.lower_, self.upper_)

    def outside(self, X) -> np.ndarray:
        """Boolean matrix: where a value lies beyond the fitted fences (NaN is not)."""
        check_is_fitted(self, "lower_")
        arr = _as_float_matrix(X)
        with np.errstate(invalid="ignore"):
            return (arr < self.lower_) | (arr > self.upper_)


class CategoryCaster(_ColumnNames, TransformerMixin, BaseEstimator):
    """Categorical values as strings (a NumPy unicode matrix); missing values become ``"missing"``.

    Unicode rather than object: scikit-learn's encoders count and sort a unicode column with
    NumPy, but look an object column up value by value in Python (seconds per 100,000 rows).
    """

    def fit(self, X, y=None):
        frame = pd.DataFrame(X)
        self._remember_columns(X, frame.shape[1])
        return self

    def transform(self, X):
        check_is_fitted(self, "n_features_in_")
        frame = pd.DataFrame(X)
        columns = []
        for col in frame.columns:
            positions, uniques = pd.factorize(frame[col], use_na_sentinel=True)
            names = np.array([_category_text(u) for u in uniques] + [MISSING_CATEGORY], dtype=str)
            columns.append(names[positions])  # the NA sentinel -1 picks MISSING_CATEGORY
        if not columns:
            return np.empty(frame.shape, dtype=str)
        return np.column_stack(columns)


class MedianImputer(SimpleImputer):
    """``SimpleImputer`` whose medians are ``np.nanmedian``'s (a partition per column)
    rather than a masked-array median's (a sort of the whole matrix): the same statistics,
    a twentieth of the fitting time on 200,000 rows. Another strategy, missing indicators,
    a marker other than NaN or a matrix with infinite values fit as scikit-learn does."""

    def fit(self, X, y=None):
        arr = X.to_numpy() if isinstance(X, pd.DataFrame) else np.asarray(X)
        plain = (
            self.strategy == "median"
            and not self.add_indicator
            and isinstance(self.missing_values, float)
            and np.isnan(self.missing_values)
            and arr.ndim == 2
            and arr.dtype.kind == "f"
            and len(arr) > 0
        )
        if not plain or np.isinf(arr).any():
            return super().fit(X, y)
        super().fit(X.iloc[:1] if isinstance(X, pd.DataFrame) else arr[:1], y)  # the layout
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column
            medians = np.nanmedian(arr, axis=0)
        empty = np.isnan(medians)
        medians[empty] = 0.0 if self.keep_empty_features else np.nan
        self.statistics_ = medians.astype(self.statistics_.dtype, copy=False)
        return self


def _category_text(value: Any) -> str:
    """One spelling per category: 3.0 and 3 read the same; booleans as true/false."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _scaler(name: str):
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

    return {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}[name]()


def build_preprocessor(prep: Preprocessing, numeric: list[str], categorical: list[str]):
    """An unfitted ColumnTransformer for the typed ``data.preprocessing`` section.

    Parameters
    ----------
    prep : Preprocessing
        The typed ``data.preprocessing`` section.
    numeric, categorical : list of str
        Raw feature columns of each type, in order.

    Returns
    -------
    sklearn.compose.ColumnTransformer
        Raw frame -> dense float matrix; column names from ``get_feature_names_out``.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

    transformers = []
    if numeric:
        clip = {"clip_iqr": "iqr", "clip_zscore": "zscore"}.get(prep.outliers, "none")
        missing = prep.missing
        strategy = "median" if missing == "drop" else missing  # other splits are imputed
        imputer = MedianImputer(
            strategy=strategy,
            fill_value=prep.fill_value if strategy == "constant" else None,
            add_indicator=bool(prep.missing_indicator),
            keep_empty_features=True,
        )
        steps = [
            ("clip", OutlierClipper(method=clip, factor=prep.outlier_factor)),
            ("impute", imputer),
        ]
        scaling = prep.scaling
        if scaling != "none":
            steps.append(("scale", _scaler(scaling)))
        transformers.append(("num", Pipeline(steps), list(numeric)))
    if categorical:
        if prep.categorical == "ordinal":
            encoder = OrdinalEncoder(
                handle_unknown="use_encoded_value", unknown_value=-1, dtype=np.float32
            )
        else:
            min_frequency = prep.min_frequency or None
            encoder = OneHotEncoder(
                handle_unknown="infrequent_if_exist",
                max_categories=prep.max_categories,
                min_frequency=min_frequency,
                sparse_output=False,
                dtype=np.float32,
            )
        transformers.append(
            ("cat", Pipeline([("cast", CategoryCaster()), ("encode", encoder)]), list(categorical))
        )
    return ColumnTransformer(
        transformers, remainder="drop", sparse_threshold=0.0, verbose_feature_names_out=True
    )


def transform_rows(preprocessor, frame: pd.DataFrame) -> np.ndarray:
    """``preprocessor.transform(frame)`` as a float32 matrix: the same numbers, faster.

    The fitted :func:`build_preprocessor` transformer is applied piece by piece into one
    preallocated float32 matrix. A categorical column holds few distinct values, so its
    pipeline (caster, encoder) encodes each distinct value once and every row takes its
    value's encoding; scikit-learn's encoders would look every row up in Python (seconds
    per million rows).

    Parameters
    ----------
    preprocessor : sklearn.compose.ColumnTransformer
        Fitted, as :func:`build_preprocessor` builds it.
    frame : DataFrame
        Raw rows holding the transformer's columns.

    Returns
    -------
    ndarray of float32, shape (rows, features out)
    """
    check_is_fitted(preprocessor)
    blocks = []
    for name, pipeline, columns in preprocessor.transformers_:
        if isinstance(pipeline, str) or len(columns) == 0:  # "drop" / "passthrough" remainder
            continue
        part = frame[list(columns)]
        blocks.append(
            _encode_distinct(pipeline, part) if name == "cat" else pipeline.transform(part)
        )
    out = np.empty((len(frame), sum(b.shape[1] for b in blocks)), dtype=np.float32)
    at = 0
    for block in blocks:
        out[:, at : at + block.shape[1]] = block
        at += block.shape[1]
    return out


def _encoded_widths(encoder, columns: int) -> list[int] | None:
    """How many output columns each input column has (None: not known, transform plainly)."""
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

    if isinstance(encoder, OrdinalEncoder):
        return [1] * columns
    if isinstance(encoder, OneHotEncoder):
        widths = getattr(encoder, "_n_features_outs", None)  # scikit-learn >= 1.1
        return list(widths) if widths is not None and len(widths) == columns else None
    return None


def _encode_distinct(pipeline, part: pd.DataFrame) -> np.ndarray:
    """The categorical pipeline's output for ``part``, computed on its distinct values."""
    widths = _encoded_widths(pipeline.steps[-1][1], part.shape[1])
    if widths is None or len(part) == 0:
        return pipeline.transform(part)
    codes, distinct = [], []
    for column in part.columns:
        c, u = pd.factorize(part[column], use_na_sentinel=False)  # a missing value is one
        codes.append(c)
        distinct.append(np.asarray(u, dtype=object))
    k = max(len(u) for u in distinct)
    small = pd.DataFrame(
        {
            col: np.concatenate([u, np.repeat(u[:1], k - len(u))])
            for col, u in zip(part.columns, distinct, strict=True)
        },
        columns=part.columns,
    )
    encoded = np.asarray(pipeline.transform(small))
    if encoded.shape[1] != sum(widths):
        return pipeline.transform(part)
    out = np.empty((len(part), encoded.shape[1]), dtype=np.float32)
    at = 0
    for c, width in zip(codes, widths, strict=True):
        out[:, at : at + width] = encoded[c, at : at + width]
        at += width
    return out


def infinite_to_missing(
    frames: dict[str, pd.DataFrame], numeric: list[str]
) -> dict[str, dict[str, int]]:
    """Replace +inf and -inf in the numeric feature columns of every split by NaN.

    Parameters
    ----------
    frames : dict of str to DataFrame
        The splits' raw rows; a split holding infinite values gets a copy with NaN in
        their place (the others are left as they are, not copied).
    numeric : list of str
        The numeric feature columns (a split lacking one is skipped for it); a column
        declared numeric but read as text counts ``"inf"`` too.

    Returns
    -------
    dict
        ``{split: {column: count}}`` of the values replaced, only splits and columns
        that had any (empty when no value was infinite).
    """
    counts: dict[str, dict[str, int]] = {}
    for name, frame in list(frames.items()):
        masks = {}
        for column in numeric:
            if column not in frame.columns:
                continue
            values = frame[column]
            if pd.api.types.is_bool_dtype(values):
                continue
            numbers = pd.to_numeric(values, errors="coerce")
            infinite = np.isinf(numbers.to_numpy(dtype=np.float64, na_value=np.nan))
            if infinite.any():
                masks[column] = infinite
        if masks:
            frame = frame.copy()
            for column, infinite in masks.items():
                frame[column] = frame[column].mask(infinite)
            frames[name] = frame
            counts[name] = {c: int(m.sum()) for c, m in masks.items()}
    return counts


def rows_to_drop(
    frame: pd.DataFrame, prep: Preprocessing, numeric: list[str]
) -> tuple[dict[str, np.ndarray], OutlierClipper | None]:
    """Training rows removed by ``missing: drop`` and ``outliers: drop`` (boolean masks).

    Outlier fences are the IQR fences of the training rows (``outlier_factor`` or 1.5), on
    the columns the shared screening rule judges continuous on these rows; a value of a
    count-like or piled-up column never drops its row. Returns the masks and, for
    ``outliers: drop``, the fitted fences (for :func:`outlier_screening`), else None.
    """
    n = len(frame)
    masks = {"missing": np.zeros(n, bool), "outliers": np.zeros(n, bool)}
    if not numeric:
        return masks, None
    values = frame[numeric]
    if prep.missing == "drop":
        masks["missing"] = np.isnan(_as_float_matrix(values)).any(axis=1)
    clipper = None
    if prep.outliers == "drop":
        clipper = OutlierClipper(method="iqr", factor=prep.outlier_factor).fit(values)
        masks["outliers"] = clipper.outside(values).any(axis=1) & ~masks["missing"]
    return masks, clipper


def outlier_screening(clipper: OutlierClipper, frame: pd.DataFrame) -> dict[str, Any]:
    """What an outlier rule did per column, for ``Dataset.preprocessing_info``.

    Parameters
    ----------
    clipper : OutlierClipper
        Fitted on the training rows (its columns are those of ``frame``).
    frame : DataFrame
        The training rows it was fitted on (numeric columns only).

    Returns
    -------
    dict
        ``outliers_screened``: the columns the fences apply to; ``outliers_not_screened``:
        column -> why it was left alone (plain words); ``outliers_beyond_fences``: column ->
        training values beyond its fences (screened columns only).
    """
    check_is_fitted(clipper, "lower_")
    names = [str(n) for n in clipper.get_feature_names_out()]
    outside = clipper.outside(frame).sum(axis=0)
    screened = [n for n, s in zip(names, clipper.screened_, strict=True) if s]
    return {
        "outliers_screened": screened,
        "outliers_not_screened": {
            n: not_screened_reason(why) for n, why in clipper.not_screened_.items()
        },
        "outliers_beyond_fences": {
            n: int(k) for n, k, s in zip(names, outside, clipper.screened_, strict=True) if s
        },
    }


def numeric_feature_mask(feature_names: list[str]) -> np.ndarray:
    """Which preprocessed columns are scaled numeric values (not indicators, not categories)."""
    return np.asarray(
        [
            n.startswith("num__") and not n.startswith("num__missingindicator_")
            for n in feature_names
        ],
        dtype=bool,
    )
