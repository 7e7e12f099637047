"""What a vendor model is fed: raw feature columns or the preprocessed matrix, in batches.

``input: raw`` gives the model the client's columns as they are in the data file (the
columns ``data`` selects as features, unless the model names the columns it reads);
``input: preprocessed`` gives it ``dataset.X``, the matrix produced by this spec's
preprocessing (fitted on the training rows).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from auditor.vendor_models.files import listing

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from auditor.types import Dataset
    from auditor.vendor_models.context import VendorContext

MSG_CATEGORICAL_RAW = (
    "input 'raw' feeds a {kind} model one float matrix, but feature column(s) {names} are "
    "categorical; use input: preprocessed, or a model with one named input per column"
)
MSG_TARGET_AS_INPUT = (
    "the model asks for the target column {name!r} as an input (that would leak the answer)"
)
MSG_UNKNOWN_COLUMNS = (
    "the model reads column(s) {names} that the data does not have (columns: {available})"
)
MSG_NOTE_SENSITIVE = "the vendor model reads the sensitive column(s) {names}"
MSG_NOTE_UNUSED = "feature column(s) not read by the vendor model: {names}"


def batches(n: int, size: int) -> Iterator[slice]:
    """Consecutive row slices of at most ``size`` rows covering ``range(n)``."""
    size = max(int(size), 1)
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def n_rows(dataset: Dataset, split: str) -> int:
    return int(len(dataset.y[split])) if split in dataset.y else int(len(dataset.frames[split]))


def numeric_raw_columns(ctx: VendorContext, *, kind: str) -> list[str]:
    """The raw feature columns for a model taking one float matrix; all must be numeric."""
    ds = ctx.dataset
    categorical = [c for c in ds.feature_columns if ds.column_types.get(c) == "categorical"]
    if categorical:
        raise ctx.error(
            MSG_CATEGORICAL_RAW.format(kind=kind, names=listing(categorical, 6)),
            field=("model", "vendor", "input"),
        )
    return list(ds.feature_columns)


def resolve_columns(ctx: VendorContext, wanted: Sequence[str]) -> list[str]:
    """Check that the columns a model names exist (and are not the target); note facts.

    Matching is exact first, then case-insensitive. Returns the data's column names.
    """
    ds = ctx.dataset
    available = [str(c) for c in next(iter(ds.frames.values())).columns]
    lower = {c.lower(): c for c in available}
    resolved, unknown = [], []
    for name in wanted:
        col = name if name in available else lower.get(str(name).lower())
        if col is None:
            unknown.append(name)
            continue
        if col == ds.target:
            raise ctx.error(MSG_TARGET_AS_INPUT.format(name=col))
        resolved.append(col)
    if unknown:
        raise ctx.error(
            MSG_UNKNOWN_COLUMNS.format(names=listing(unknown, 6), available=listing(available, 12))
        )
    sensitive = [c for c in resolved if c in ds.sensitive]
    if sensitive:
        ctx.note(MSG_NOTE_SENSITIVE.format(names=listing(sensitive, 6)))
    unused = [c for c in ds.feature_columns if c not in resolved]
    if unused:
        ctx.note(MSG_NOTE_UNUSED.format(names=listing(unused, 6)))
    return resolved


def raw_frame(dataset: Dataset, split: str, columns: Sequence[str]) -> pd.DataFrame:
    """The raw columns of one split (positional rows, aligned with ``dataset.X[split]``)."""
    frame = dataset.frames[split]
    return frame.loc[:, list(columns)].reset_index(drop=True)


def float_matrix(frame: pd.DataFrame, dtype=np.float32) -> np.ndarray:
    """Numeric columns as one float matrix; missing values become NaN."""
    return frame.to_numpy(dtype=dtype, na_value=np.nan)


def preprocessed(dataset: Dataset, split: str, dtype=np.float32) -> np.ndarray:
    return np.asarray(dataset.X[split], dtype=dtype)
