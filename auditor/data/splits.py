"""Seeded train / validation / test splits: random, stratified, group and time-ordered.

Every strategy returns positions (0-based row numbers into the frame), sorted, disjoint and
together covering every row. The same inputs and seed always give the same split.

Every split needs at least :data:`MIN_SPLIT_ROWS` rows: fewer cannot be trained, judged or
bootstrapped meaningfully, so :func:`make_split` refuses a file that would give a smaller
split, and :func:`require_rows` a file audited as a split of its own (a holdout, an audit
file, the development data), each with one located line that says how many rows there are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from auditor.errors import DataError, Location

if TYPE_CHECKING:  # pragma: no cover
    from auditor.spec.typed import Split

STRATEGIES: tuple[str, ...] = ("random", "stratified", "group", "time")
SPLIT_NAMES: tuple[str, ...] = ("train", "validation", "test")
#: The fewest rows any split may have (train, validation, test, a holdout, an audit file,
#: the rows a threshold is chosen on, the development data).
MIN_SPLIT_ROWS = 20

MSG_UNKNOWN_STRATEGY = "unknown split strategy {name!r}; available: {available}"
MSG_TOO_FEW_ROWS = (
    "{n} rows are too few to split into train, validation and test: the {strategy} split "
    "gives {sizes}, and every split needs at least {minimum} rows; {hint}"
)
MSG_HINT_MORE_ROWS = (
    "use a file of at least {needed} rows (with data.split.validation {validation:g} and "
    "data.split.test {test:g})"
)
MSG_HINT_UNEVEN = (
    "the {strategy} split by {column!r} leaves a split short: raise data.split.validation "
    "or data.split.test, or use more rows"
)
MSG_FILE_TOO_FEW_ROWS = (
    "{what} has {n} row(s){qualifier}, too few to audit: every split needs at least "
    "{minimum} rows; add rows to the file or leave it out of the spec"
)
MSG_TOO_FEW_GROUPS = "column {column!r} has {n} distinct value(s); a group split needs at least 3"
MSG_BAD_TIME = "column {column!r} is neither numeric nor a date/time: {example!r}"
MSG_NEEDS_COLUMN = "split strategy {strategy!r} needs data.split.{key}"


def _counts(n: int, validation: float, test: float) -> tuple[int, int, int]:
    n_test = int(round(n * test))
    n_val = int(round(n * validation))
    return n - n_val - n_test, n_val, n_test


def rows_needed(validation: float, test: float, minimum: int = MIN_SPLIT_ROWS) -> int:
    """The fewest rows whose random split gives every split at least ``minimum`` rows.

    Parameters
    ----------
    validation, test : float
        The fractions of ``data.split``.
    minimum : int
        The rows each split needs.

    Returns
    -------
    int
        The smallest file that a random (or stratified) split cuts into large enough splits.
    """
    n = 3 * minimum
    while min(_counts(n, validation, test)) < minimum:
        n += 1
    return n


def _check(
    parts: dict[str, np.ndarray], n: int, split: Split, where: Location
) -> dict[str, np.ndarray]:
    """The parts, sorted; a DataError when one has fewer than MIN_SPLIT_ROWS rows."""
    sizes = {k: len(v) for k, v in parts.items()}
    if min(sizes.values()) < MIN_SPLIT_ROWS:
        validation, test = float(split.validation), float(split.test)
        needed = rows_needed(validation, test)
        column = split.group_column if split.strategy == "group" else split.time_column
        if n < needed or split.strategy not in ("group", "time"):
            hint = MSG_HINT_MORE_ROWS.format(needed=needed, validation=validation, test=test)
        else:
            hint = MSG_HINT_UNEVEN.format(strategy=split.strategy, column=column)
        raise DataError(
            MSG_TOO_FEW_ROWS.format(
                n=n,
                strategy=split.strategy,
                sizes=", ".join(f"{k} {v}" for k, v in sizes.items()),
                minimum=MIN_SPLIT_ROWS,
                hint=hint,
            ),
            where,
        )
    return {k: np.sort(v.astype(np.int64)) for k, v in parts.items()}


def require_rows(n: int, *, what: str, where: Location, labelled: bool = True) -> None:
    """Refuse a file audited as a split of its own when it has fewer than MIN_SPLIT_ROWS rows.

    Parameters
    ----------
    n : int
        Its rows (with a target, when ``labelled``).
    what : str
        How the message names it (``"the holdout file"``, ``"audit file 'q3'"``).
    where : Location
        The file (and the spec field naming it).
    labelled : bool
        Whether ``n`` counts only rows with a target (rows without one were dropped).

    Raises
    ------
    DataError
        ``n < MIN_SPLIT_ROWS``.
    """
    if n < MIN_SPLIT_ROWS:
        raise DataError(
            MSG_FILE_TOO_FEW_ROWS.format(
                what=what,
                n=n,
                qualifier=" with a target" if labelled else "",
                minimum=MIN_SPLIT_ROWS,
            ),
            where,
        )


def random_split(n: int, *, validation: float, test: float, seed: int) -> dict[str, np.ndarray]:
    """Shuffle the rows and cut them into the three splits."""
    order = np.random.default_rng(seed).permutation(n)
    n_train, n_val, _ = _counts(n, validation, test)
    return {
        "train": order[:n_train],
        "validation": order[n_train : n_train + n_val],
        "test": order[n_train + n_val :],
    }


def stratified_split(
    y: np.ndarray, *, validation: float, test: float, seed: int
) -> dict[str, np.ndarray]:
    """Cut each class separately, so every split keeps the class shares (to rounding).

    Rounding is balanced across classes: the overall split sizes are those of a random split.
    """
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    n = len(y)
    _, n_val_total, n_test_total = _counts(n, validation, test)
    classes = np.unique(y)
    per_class = [rng.permutation(np.flatnonzero(y == c)) for c in classes]
    sizes = np.array([len(p) for p in per_class], dtype=float)
    n_test = _apportion(sizes, n_test_total)
    n_val = _apportion(sizes, n_val_total, cap=sizes - n_test)
    parts: dict[str, list[np.ndarray]] = {s: [] for s in SPLIT_NAMES}
    for idx, t, v in zip(per_class, n_test, n_val, strict=True):
        parts["test"].append(idx[:t])
        parts["validation"].append(idx[t : t + v])
        parts["train"].append(idx[t + v :])
    return {k: np.concatenate(v) for k, v in parts.items()}


def _apportion(sizes: np.ndarray, total: int, cap: np.ndarray | None = None) -> np.ndarray:
    """Integer shares of ``total`` proportional to ``sizes`` (largest remainder method)."""
    exact = sizes * total / max(sizes.sum(), 1)
    out = np.floor(exact).astype(int)
    cap = sizes.astype(int) if cap is None else cap.astype(int)
    out = np.minimum(out, cap)
    for i in np.argsort(-(exact - out), kind="stable"):
        if out.sum() >= total:
            break
        if out[i] < cap[i]:
            out[i] += 1
    return out


def group_split(
    groups: pd.Series, *, validation: float, test: float, seed: int, where: Location
) -> dict[str, np.ndarray]:
    """Assign whole groups to splits (shuffled), so no group appears in two splits.

    Groups are taken in a seeded random order; test is filled first, then validation, each
    up to its share of rows; the remaining groups train. Missing values form one group.
    """
    keys = groups.astype(object).where(groups.notna(), "__missing__").astype(str).to_numpy()
    uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    if len(uniq) < 3:
        raise DataError(MSG_TOO_FEW_GROUPS.format(column=groups.name, n=len(uniq)), where)
    n = len(keys)
    _, n_val, n_test = _counts(n, validation, test)
    order = np.random.default_rng(seed).permutation(len(uniq))
    assign = np.zeros(len(uniq), dtype=int)  # 0 train, 1 validation, 2 test
    filled = [0, 0, 0]
    targets = {2: n_test, 1: n_val}
    pos = 0
    for split in (2, 1):
        # take groups until the share is reached, keep at least one group for train
        while pos < len(order) - 1 and filled[split] < targets[split]:
            if split == 2 and pos >= len(order) - 2:
                break
            g = order[pos]
            assign[g] = split
            filled[split] += counts[g]
            pos += 1
        if filled[split] == 0 and pos < len(order) - 1:
            assign[order[pos]] = split
            pos += 1
    row_split = assign[inverse]
    return {
        "train": np.flatnonzero(row_split == 0),
        "validation": np.flatnonzero(row_split == 1),
        "test": np.flatnonzero(row_split == 2),
    }


def time_order(values: pd.Series, where: Location) -> np.ndarray:
    """Sortable numbers for a time column: numbers as they are, else parsed dates/times."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64").to_numpy()
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        try:
            parsed = pd.to_datetime(values, errors="raise", format="mixed")
        except (ValueError, TypeError):
            coerced = pd.to_datetime(values, errors="coerce", format="mixed")
            bad = values[coerced.isna() & values.notna()]
            example = bad.iloc[0] if len(bad) else values.iloc[0]
            raise DataError(
                MSG_BAD_TIME.format(column=values.name, example=example), where
            ) from None
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    numbers = parsed.astype("datetime64[ns]").astype("int64").astype("float64")
    return np.where(parsed.isna().to_numpy(), np.nan, numbers)


def time_split(times: np.ndarray, *, validation: float, test: float) -> dict[str, np.ndarray]:
    """Earliest rows train, then validation, then the latest rows test.

    A cut never separates rows with the same time: ties move to the earlier split, so
    every training time is strictly before every test time. Missing times sort first.
    """
    t = np.where(np.isnan(times), -np.inf, times)
    order = np.argsort(t, kind="stable")
    ts = t[order]
    n = len(t)
    n_train, n_val, _ = _counts(n, validation, test)

    def tie_safe(cut: int) -> int:
        while 0 < cut < n and ts[cut] == ts[cut - 1]:
            cut += 1
        return cut

    cut1 = tie_safe(n_train)
    cut2 = tie_safe(max(cut1, n_train + n_val))
    return {"train": order[:cut1], "validation": order[cut1:cut2], "test": order[cut2:]}


def make_split(
    frame: pd.DataFrame,
    y: np.ndarray | None,
    split: Split,
    *,
    task: str,
    where: Any,
    file: str | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Split ``frame`` as ``data.split`` says.

    Parameters
    ----------
    frame : DataFrame
        The training file's rows (after rows without a target were removed).
    y : ndarray
        The encoded target, for stratification.
    split : dict
        The resolved ``data.split`` section.
    task : str
        The objective's task; stratification needs classes.
    where : callable
        ``where(path_tuple) -> Location`` for errors about the spec (``Spec.locate``).
    file : str, optional
        The training file: a split of fewer than :data:`MIN_SPLIT_ROWS` rows is then an
        error located at it (and ``data.split``), else at ``data.split.strategy``.

    Returns
    -------
    positions : dict
        ``{"train": ndarray, "validation": ndarray, "test": ndarray}`` of row positions.
    info : dict
        ``{strategy, seed, validation, test, sizes, ...}`` for the results.

    Raises
    ------
    DataError
        An unknown strategy, a missing or unusable group or time column, or a split that
        would have fewer than :data:`MIN_SPLIT_ROWS` rows (the sizes it would get, and
        how many rows would do).
    """
    strategy = split.strategy
    validation, test, seed = float(split.validation), float(split.test), int(split.seed)
    n = len(frame)
    info: dict[str, Any] = {
        "strategy": strategy,
        "seed": seed,
        "validation": validation,
        "test": test,
    }
    here = where(("data", "split", "strategy"))
    if strategy == "random":
        parts = random_split(n, validation=validation, test=test, seed=seed)
    elif strategy == "stratified":
        if task == "regression":
            info["note"] = "stratification needs classes; the regression target was split at random"
            parts = random_split(n, validation=validation, test=test, seed=seed)
        else:
            parts = stratified_split(y, validation=validation, test=test, seed=seed)
    elif strategy == "group":
        parts = _group_parts(frame, split, info, where, here)
    elif strategy == "time":
        parts = _time_parts(frame, split, info, where, here)
    else:
        raise DataError(
            MSG_UNKNOWN_STRATEGY.format(name=strategy, available=", ".join(STRATEGIES)), here
        )
    short = here if file is None else Location(file=file, path=("data", "split"))
    parts = _check(parts, n, split, short)
    info["sizes"] = {k: int(len(v)) for k, v in parts.items()}
    return parts, info


def _group_parts(
    frame: pd.DataFrame, split: Split, info: dict[str, Any], where: Any, here: Location
) -> dict[str, np.ndarray]:
    """Split by ``group_column`` (no group in two splits); records the groups per split."""
    column = split.group_column
    if not column:
        raise DataError(MSG_NEEDS_COLUMN.format(strategy=split.strategy, key="group_column"), here)
    loc = where(("data", "split", "group_column"))
    _require_column(frame, column, loc)
    parts = group_split(
        frame[column],
        validation=float(split.validation),
        test=float(split.test),
        seed=int(split.seed),
        where=loc,
    )
    info["group_column"] = column
    info["groups"] = {k: int(frame[column].iloc[v].nunique(dropna=False)) for k, v in parts.items()}
    return parts


def _time_parts(
    frame: pd.DataFrame, split: Split, info: dict[str, Any], where: Any, here: Location
) -> dict[str, np.ndarray]:
    """Split by ``time_column`` (the past trains, the future tests); records the time ranges."""
    column = split.time_column
    if not column:
        raise DataError(MSG_NEEDS_COLUMN.format(strategy=split.strategy, key="time_column"), here)
    loc = where(("data", "split", "time_column"))
    _require_column(frame, column, loc)
    times = time_order(frame[column], loc)
    parts = time_split(times, validation=float(split.validation), test=float(split.test))
    info["time_column"] = column
    info["ranges"] = {
        k: [str(frame[column].iloc[v].min()), str(frame[column].iloc[v].max())]
        for k, v in parts.items()
        if len(v)
    }
    return parts


def _require_column(frame: pd.DataFrame, column: str, where: Location) -> None:
    if column not in frame.columns:
        from auditor.data.columns import missing_column_message

        raise DataError(missing_column_message(column, frame.columns), where)
