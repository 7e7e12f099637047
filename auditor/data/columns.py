"""Column roles (features, target, id, sensitive), type inference and target encoding."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from auditor.errors import DataError, Location

if TYPE_CHECKING:  # pragma: no cover
    from auditor.spec.typed import Data

MSG_MISSING_COLUMN = "column {name!r} is not in {where}{hint}"
MSG_NO_FEATURES = "no feature columns are left after target, id, sensitive and excluded columns"
MSG_NOT_NUMERIC = "column {name!r} is declared numeric but holds text such as {example!r}"
MSG_BINARY_CLASSES = "a binary target needs exactly 2 distinct values; {name!r} has {n}: {values}"
MSG_TOO_FEW_CLASSES = "a classification target needs at least 2 distinct values; {name!r} has {n}"
MSG_POSITIVE_ABSENT = "positive class {positive!r} is not a value of {name!r} (values: {values})"
MSG_REGRESSION_TARGET = (
    "a regression target must be numeric; {name!r} holds values such as {example!r}"
)
MSG_UNKNOWN_CLASS = "the holdout's target has value(s) never seen in training: {values}"
MSG_NO_TARGET_ROWS = "every row's target {name!r} is missing"
MSG_INFINITE_TARGET = (
    "target column {name!r} holds {count} infinite value(s) (first in data row {row}, "
    "{value}); a regression target must be a finite number: correct those rows or remove them"
)


def column_hint(name: str, available) -> str:
    """``"; did you mean 'x'?"`` for the closest column name, or ``""``."""
    close = difflib.get_close_matches(name, [str(c) for c in available], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def missing_column_message(name: str, available, *, where: str = "the data") -> str:
    """The one-line message for a column that is not in the data, with a suggestion."""
    return MSG_MISSING_COLUMN.format(name=name, where=where, hint=column_hint(name, available))


def infer_type(values: pd.Series) -> str:
    """``"numeric"`` for numbers and booleans, ``"categorical"`` for anything else."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return "numeric"
    return "categorical"


def feature_columns(
    frame: pd.DataFrame, data: Data, target: str, where
) -> tuple[list[str], dict[str, str]]:
    """The raw feature columns and their types (``"numeric"`` or ``"categorical"``).

    Features are ``data.include`` when given, else every column except the target, the id
    column, the sensitive columns (unless ``sensitive_as_features``), the split's group and
    time columns, and ``data.exclude``. ``data.types`` overrides the inferred types.
    """
    for key in ("include", "exclude", "sensitive"):
        for i, name in enumerate(getattr(data, key)):
            if name not in frame.columns:
                raise DataError(
                    missing_column_message(name, frame.columns), where(("data", key, i))
                )
    id_column = data.id_column
    if id_column and id_column not in frame.columns:
        raise DataError(
            missing_column_message(id_column, frame.columns), where(("data", "id_column"))
        )
    types = data.types
    for name in types:
        if name not in frame.columns:
            raise DataError(
                missing_column_message(name, frame.columns), where(("data", "types", name))
            )

    excluded = {target, id_column, *data.exclude}
    if not data.sensitive_as_features:
        excluded |= set(data.sensitive)
    include = list(data.include)
    if include:
        columns = [c for c in include if c not in excluded]
    else:
        excluded |= {data.split.group_column, data.split.time_column}
        columns = [c for c in frame.columns if c not in excluded]
    if not columns:
        raise DataError(MSG_NO_FEATURES, where(("data", "include" if include else "exclude")))
    kinds = {}
    for c in columns:
        kind = types.get(c) or infer_type(frame[c])
        if kind == "numeric" and not (
            pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])
        ):
            coerced = pd.to_numeric(frame[c], errors="coerce")
            bad = frame[c][coerced.isna() & frame[c].notna()]
            if len(bad):
                raise DataError(
                    MSG_NOT_NUMERIC.format(name=c, example=bad.iloc[0]), where(("data", "types", c))
                )
        kinds[c] = kind
    return columns, kinds


def _sort_key(value: Any):
    if isinstance(value, (bool, np.bool_)):
        return (0, int(value), "")
    if isinstance(value, (int, float, np.integer, np.floating)):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def _plain(value: Any) -> Any:
    """A JSON-friendly Python scalar (numpy scalars unwrapped, 1.0 -> 1)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def same_value(a: Any, b: Any) -> bool:
    """Whether two target values name the same class (1 == 1.0 == '1'; True == 'true')."""
    if isinstance(a, (bool, np.bool_)) or isinstance(b, (bool, np.bool_)):
        return str(a).lower() == str(b).lower()
    try:
        if a == b:
            return True
    except (TypeError, ValueError):
        pass
    return str(a) == str(b)


def target_classes(values: pd.Series, *, task: str, positive: Any, target: str, where) -> list[Any]:
    """The classes in encoded order (binary: ``classes[1]`` is the positive class)."""
    seen = sorted({_plain(v) for v in values.dropna().unique()}, key=_sort_key)
    if task == "binary":
        if len(seen) != 2:
            shown = ", ".join(map(repr, seen[:5])) + (", ..." if len(seen) > 5 else "")
            raise DataError(
                MSG_BINARY_CLASSES.format(name=target, n=len(seen), values=shown),
                where(("objective", "target")),
            )
        if positive is None:
            chosen = next(
                (
                    i
                    for i, v in enumerate(seen)
                    if same_value(v, 1) or same_value(v, True) or str(v).lower() == "yes"
                ),
                1,
            )
        else:
            chosen = next((i for i, v in enumerate(seen) if same_value(v, positive)), None)
            if chosen is None:
                raise DataError(
                    MSG_POSITIVE_ABSENT.format(
                        positive=positive, name=target, values=", ".join(map(repr, seen))
                    ),
                    where(("objective", "positive")),
                )
        return [seen[1 - chosen], seen[chosen]]
    if len(seen) < 2:
        raise DataError(
            MSG_TOO_FEW_CLASSES.format(name=target, n=len(seen)), where(("objective", "target"))
        )
    if positive is not None and not any(same_value(v, positive) for v in seen):
        raise DataError(
            MSG_POSITIVE_ABSENT.format(
                positive=positive, name=target, values=", ".join(map(repr, seen))
            ),
            where(("objective", "positive")),
        )
    return seen


def encode_target(
    values: pd.Series, *, task: str, classes: list[Any], file: str | None = None
) -> np.ndarray:
    """Class indices (int64) for classification, float64 for regression."""
    if task == "regression":
        return values.astype("float64").to_numpy()
    lookup = {str(_plain(c)).lower(): i for i, c in enumerate(classes)}
    positions, uniques = pd.factorize(values, use_na_sentinel=True)  # one lookup per value
    per_unique = np.array(
        [lookup.get(str(_plain(u)).lower(), -1) for u in uniques] + [-1], dtype=np.int64
    )
    codes = per_unique[positions]  # the NA sentinel -1 picks the trailing -1
    if (codes < 0).any():
        unknown = sorted({str(u) for u, c in zip(uniques, per_unique, strict=False) if c < 0})
        raise DataError(
            MSG_UNKNOWN_CLASS.format(values=", ".join(unknown[:5])), Location(file=file)
        )
    return codes


def check_regression_target(values: pd.Series, target: str, where) -> None:
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        example = values.dropna().iloc[0] if values.notna().any() else None
        raise DataError(
            MSG_REGRESSION_TARGET.format(name=target, example=example),
            where(("objective", "target")),
        )


def check_finite_target(values: pd.Series, target: str, file: str | None) -> None:
    """Refuse a regression target holding +inf or -inf (nothing can be learned from or
    judged against an infinite value; missing targets were dropped before).

    Parameters
    ----------
    values : Series
        The numeric target column of one file, as read (its index the file's row order).
    target : str
        The target column's name.
    file : str or None
        The file, for the error's location.

    Raises
    ------
    DataError
        Located at the file and ``objective.target``: how many values are infinite, and
        the first one's data row (1-based, the header not counted).
    """
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    infinite = np.isinf(numbers)
    if not infinite.any():
        return
    first = int(np.argmax(infinite))
    label = values.index[first]
    row = int(label) + 1 if isinstance(label, (int, np.integer)) else first + 1
    raise DataError(
        MSG_INFINITE_TARGET.format(
            name=target,
            count=int(infinite.sum()),
            row=row,
            value="inf" if numbers[first] > 0 else "-inf",
        ),
        Location(file=file, path=("objective", "target")),
    )


def group_frame(frame: pd.DataFrame, sensitive: list[str]) -> pd.DataFrame:
    """Sensitive columns as strings ('missing' for NaN), positional (0..n-1) index."""
    out = {}
    for c in sensitive:
        positions, uniques = pd.factorize(frame[c], use_na_sentinel=True)
        names = np.array([str(_plain(u)) for u in uniques] + ["missing"], dtype=object)
        out[c] = names[positions]
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)), columns=list(sensitive))
