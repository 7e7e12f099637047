"""Format ``predictions``: a file of the vendor's scores or labels, one row per data row.

The file (CSV, Parquet or JSON Lines, by extension) must have the column named by
``data.id_column``; its rows are joined to each split's rows by that id (as text, so
``7`` and ``"7"`` agree). Which columns hold the predictions:

- binary: ``score_column`` (probability of the positive class, in [0, 1]);
- multiclass: one column per class, ``<score_column><class>`` (for example ``p_low``,
  ``p_medium``, ``p_high`` with ``score_column: p_``);
- regression: ``score_column`` (the predicted value);
- classification without scores: ``label_column`` (predicted labels); ``predict`` then
  returns hard 0/1 scores and ``has_scores`` is False.

Scores are preferred when both are present. Every row of a split needs a prediction: a
split some of whose rows have none is not evaluated (a note says how many rows, with an
example id), and a file that covers no split completely is an error saying so per split.
An id given twice in the file, a classification score outside [0, 1] (the column, how many
rows, an example) and a predicted label the target never takes (the labels and the
target's classes) are errors too. The file is read in ``data.encoding``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from auditor.errors import SpecError
from auditor.spec.rules import MSG_PREDICTIONS_NEED_ID as MSG_NEEDS_ID  # validate says it first
from auditor.vendor_models.files import listing
from auditor.vendor_models.outputs import SUM_TOLERANCE, class_key, labels_to_scores
from auditor.words import count_words

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from auditor.types import Dataset
    from auditor.vendor_models.context import VendorContext

MSG_NO_ID_IN_FILE = "the predictions file has no id column {name!r} (columns: {columns})"
MSG_NO_PREDICTION_COLUMNS = (
    "the predictions file has no {what} (looked for {wanted}; columns: {columns})"
)
MSG_DUPLICATE_IDS = "the predictions file gives {count} id(s) more than once, e.g. {example!r}"
MSG_MISSING_ROWS = (
    "the predictions file has no prediction for {count} of the {total} row(s) of split "
    "{split!r}, e.g. id {example!r}"
)
MSG_MISSING_VALUES = "the predictions file has {count} empty value(s) in column(s) {columns}"
MSG_NOT_NUMERIC = "column {column!r} of the predictions file is not numeric (e.g. {example!r})"
MSG_NOTE_SUMS = "multiclass scores of {count} row(s) do not sum to 1 (within 0.001)"
MSG_NOTE_EXTRA = "{count} row(s) of the predictions file match no row of the data"
MSG_NOTE_UNCOVERED = (
    "the predictions file has no prediction for {count} of the {total} row(s) of split "
    "{split!r} (e.g. id {example!r}), so that split is not evaluated"
)
MSG_NOTE_REFERENCE_UNSCORED = (
    "the predictions file has no prediction for the development data ({split!r}, {rows}): "
    "the features' drift is measured, but the model's performance there is not "
    "compared with the client's (add those rows' predictions to the file to compare)"
)
MSG_NO_SPLIT_COVERED = (
    "the predictions file covers no split completely: rows without a prediction: {counts} "
    "(e.g. id {example!r} of split {split!r}); every row of a split needs a prediction, "
    "matched by data.id_column {id_column!r}"
)
MSG_SCORES_OUT_OF_RANGE = (
    "column {column!r} of the predictions file has {count} score(s) outside [0, 1] "
    "(e.g. {value:g} for id {example!r}); a classification task needs probabilities: "
    "convert logits or points to probabilities, or give predicted labels in "
    "model.vendor.label_column instead"
)


def id_keys(values: pd.Series) -> np.ndarray:
    """Row ids as text keys, so that ids read as numbers and as text still match."""
    import pandas as pd

    s = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_integer_dtype(s) or pd.api.types.is_bool_dtype(s):
        return s.astype("int64").astype(str).to_numpy(dtype=object)
    if pd.api.types.is_string_dtype(s) and s.map(type).eq(str).all():
        return s.str.strip().to_numpy(dtype=object)
    return np.array([class_key(v) for v in s.to_numpy(dtype=object)], dtype=object)


class PredictionsBackend:
    """Scores (or labels) per id, looked up for the rows of each split."""

    pickle_loaded = False

    def __init__(
        self,
        ctx: VendorContext,
        index: pd.Index,
        scores: np.ndarray,
        has_scores: bool,
        id_column: str,
        columns: list[str],
    ):
        self.ctx = ctx
        self.index = index
        self.scores = scores
        self.has_scores = has_scores
        self.id_column = id_column
        self.info = {
            "id_column": id_column,
            "prediction_columns": columns,
            "rows_in_file": int(len(index)),
        }

    def covers(self, dataset: Dataset, split: str) -> bool:
        """Whether every row of ``split`` has a prediction (a split without ids has none)."""
        frame = dataset.frames[split]
        if self.id_column not in frame.columns:
            return False
        keys = id_keys(frame[self.id_column])
        return bool(np.all(self.index.get_indexer(keys) >= 0))

    def predict(self, dataset: Dataset, split: str) -> np.ndarray:
        keys = id_keys(dataset.frames[split][self.id_column])
        positions = self.index.get_indexer(keys)
        missing = positions < 0
        if missing.any():
            raise self.ctx.error(
                MSG_MISSING_ROWS.format(
                    count=int(missing.sum()),
                    total=len(keys),
                    split=split,
                    example=str(keys[int(np.argmax(missing))]),
                )
            )
        return self.scores[positions]


def _numeric(frame: pd.DataFrame, column: str, ctx: VendorContext) -> np.ndarray:
    import pandas as pd

    col = frame[column]
    values = pd.to_numeric(col, errors="coerce")
    bad = values.isna() & col.notna()
    if bad.any():
        raise ctx.error(MSG_NOT_NUMERIC.format(column=column, example=col[bad].iloc[0]))
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def load(ctx: VendorContext) -> PredictionsBackend:
    """Read and check the predictions file; see the module docstring for its layout."""
    ds = ctx.dataset
    id_column = ds.id_column
    if not id_column:
        raise SpecError(MSG_NEEDS_ID, ctx.spec.locate(("data", "id_column")))
    frame = _read_predictions(ctx, id_column)
    label_col = ctx.settings.label_column
    score_cols, has_scores = _prediction_columns(ctx, frame)
    columns = score_cols if has_scores else [label_col]
    empty = frame[columns].isna().sum()
    if int(empty.sum()):
        raise ctx.error(
            MSG_MISSING_VALUES.format(
                count=int(empty.sum()), columns=", ".join(repr(c) for c in empty.index[empty > 0])
            )
        )
    index = _id_index(ctx, frame, id_column)
    if has_scores:
        scores = _file_scores(ctx, frame, columns, index)
    else:
        scores = _label_scores(ctx, frame, label_col)
    _note_unmatched_rows(ctx, index, id_column)
    uncovered = _check_coverage(ctx, index, id_column)
    backend = PredictionsBackend(ctx, index, scores, has_scores, id_column, columns)
    if uncovered:
        backend.info["rows_without_prediction"] = uncovered
    return backend


def _read_predictions(ctx: VendorContext, id_column: str) -> pd.DataFrame:
    """The predictions file as a table that has the id column."""
    from auditor.data.sources import DEFAULT_ENCODING, read_table
    from auditor.errors import DataError

    encoding = ctx.spec.data.encoding or DEFAULT_ENCODING
    try:  # the data stage's reader (DataError on failure), in the data's encoding
        frame = read_table(ctx.path, encoding=encoding)
    except DataError as exc:
        raise ctx.error(exc.message) from None
    if id_column not in frame.columns:
        raise ctx.error(
            MSG_NO_ID_IN_FILE.format(name=id_column, columns=listing(frame.columns, 12, str))
        )
    return frame


def _prediction_columns(ctx: VendorContext, frame: pd.DataFrame) -> tuple[list[str], bool]:
    """The score columns the task needs, and whether the file has them all (else labels)."""
    settings = ctx.settings
    score_col, label_col = settings.score_column, settings.label_column
    task = ctx.dataset.task
    if task == "multiclass":
        score_cols = (
            [f"{score_col}{c}" for c in ctx.dataset.classes] if score_col is not None else []
        )
    else:
        score_cols = [score_col] if score_col is not None else []
    has_scores = bool(score_cols) and all(c in frame.columns for c in score_cols)
    use_labels = not has_scores and task != "regression" and label_col in frame.columns
    if not has_scores and not use_labels:
        raise _no_prediction_columns(ctx, frame, score_cols)
    if has_scores and label_col is not None and label_col in frame.columns:
        ctx.note(
            f"the predictions file has both scores and labels; the scores are used "
            f"and column {label_col!r} is ignored"
        )
    return score_cols, has_scores


def _no_prediction_columns(ctx: VendorContext, frame: pd.DataFrame, score_cols: list[str]):
    """The error for a file with neither the score columns nor the label column."""
    task, label_col = ctx.dataset.task, ctx.settings.label_column
    wanted = list(score_cols)
    if task != "regression" and label_col is not None:
        wanted.append(label_col)
    what = "prediction column" if task == "regression" else "score or label column(s)"
    field = (
        "model",
        "vendor",
        "score_column" if task == "regression" or label_col is None else "label_column",
    )
    return ctx.error(
        MSG_NO_PREDICTION_COLUMNS.format(
            what=what,
            wanted=", ".join(repr(w) for w in wanted)
            or "nothing: score_column and label_column are both null",
            columns=listing(frame.columns, 12, str),
        ),
        field=field,
    )


def _id_index(ctx: VendorContext, frame: pd.DataFrame, id_column: str) -> pd.Index:
    """The file's row ids as text keys; an id given twice is an error."""
    import pandas as pd

    keys = id_keys(frame[id_column])
    index = pd.Index(keys)
    if index.has_duplicates:
        dup = index[index.duplicated()]
        raise ctx.error(MSG_DUPLICATE_IDS.format(count=int(dup.nunique()), example=str(dup[0])))
    return index


def _file_scores(
    ctx: VendorContext, frame: pd.DataFrame, columns: list[str], index: pd.Index
) -> np.ndarray:
    """The vendor's scores: numeric, within [0, 1] for classification; notes bad sums."""
    task = ctx.dataset.task
    scores = np.column_stack([_numeric(frame, c, ctx) for c in columns])
    if task != "regression":
        _check_unit_interval(ctx, scores, columns, index)
    if task != "multiclass":
        scores = scores[:, 0]
    if task == "multiclass":
        off = ~np.isclose(scores.sum(axis=1), 1.0, atol=SUM_TOLERANCE)
        if off.any():
            ctx.note(MSG_NOTE_SUMS.format(count=int(off.sum())))
    return scores


def _check_unit_interval(
    ctx: VendorContext, scores: np.ndarray, columns: list[str], index: pd.Index
) -> None:
    """Refuse classification scores outside [0, 1]: the first such column, its count of
    rows outside and an example (id and value)."""
    outside = (scores < 0) | (scores > 1)
    if not outside.any():
        return
    j = int(np.argmax(outside.any(axis=0)))
    row = int(np.argmax(outside[:, j]))
    raise ctx.error(
        MSG_SCORES_OUT_OF_RANGE.format(
            column=columns[j],
            count=int(outside[:, j].sum()),
            value=float(scores[row, j]),
            example=str(index[row]),
        ),
        field=("model", "vendor", "score_column"),
    )


def _label_scores(ctx: VendorContext, frame: pd.DataFrame, label_col: str) -> np.ndarray:
    """Hard 0/1 scores from the vendor's predicted labels (with a note saying so)."""
    ds = ctx.dataset
    scores = labels_to_scores(
        frame[label_col].to_numpy(dtype=object),
        task=ds.task,
        classes=ds.classes,
        error=lambda m: ctx.error(m, field=("model", "vendor", "label_column")),
    )
    ctx.note(
        "the vendor gives labels only: scores are hard 0/1, so ranking metrics "
        "(ROC-AUC, PR-AUC) and calibration are not meaningful"
    )
    return scores


def _check_coverage(ctx: VendorContext, index: pd.Index, id_column: str) -> dict[str, int]:
    """Rows without a prediction per split (only splits that have some).

    A split with some is noted (count and an example id) and will not be evaluated; when
    every split with ids has some, nothing can be evaluated: a located error with the
    counts per split and an example.
    """
    missing: dict[str, tuple[int, int, str]] = {}
    checked = 0
    for split, frame in ctx.dataset.frames.items():
        if id_column not in frame.columns or not len(frame):
            continue
        checked += 1
        keys = id_keys(frame[id_column])
        absent = index.get_indexer(keys) < 0
        if absent.any():
            missing[split] = (int(absent.sum()), len(keys), str(keys[int(np.argmax(absent))]))
    if checked and len(missing) == checked:
        first, (_, _, example) = next(iter(missing.items()))
        raise ctx.error(
            MSG_NO_SPLIT_COVERED.format(
                counts=", ".join(f"{s!r} {m} of {n}" for s, (m, n, _) in missing.items()),
                example=example,
                split=first,
                id_column=id_column,
            ),
            field=("data", "id_column"),
        )
    for split, (count, total, example) in missing.items():
        if count == total and ctx.dataset.split_roles.get(split) == "reference":
            rows = count_words(total, "row")
            ctx.note(MSG_NOTE_REFERENCE_UNSCORED.format(split=split, rows=rows))
            continue
        ctx.note(MSG_NOTE_UNCOVERED.format(count=count, total=total, split=split, example=example))
    return {split: count for split, (count, _, _) in missing.items()}


def _note_unmatched_rows(ctx: VendorContext, index: pd.Index, id_column: str) -> None:
    """A note on the file's rows that match no row of any split."""
    used = [
        index.get_indexer(id_keys(f[id_column]))
        for f in ctx.dataset.frames.values()
        if id_column in f.columns
    ]
    used = np.concatenate(used) if used else np.empty(0, dtype=np.int64)
    seen = np.zeros(len(index), dtype=bool)
    seen[used[used >= 0]] = True
    extra = int(len(index) - seen.sum())
    if extra:
        ctx.note(MSG_NOTE_EXTRA.format(count=extra))
