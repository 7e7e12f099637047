"""Building the Dataset: spec -> Dataset (tables, column roles, splits, fitted preprocessing).

``build_dataset(spec)`` reads the training file (and the optional holdout), assigns column
roles, encodes the target, splits the rows (seeded), treats infinite feature values as
missing, drops training rows when the spec asks, fits the preprocessing on the training
rows only and transforms every split. Every split must keep at least
:data:`auditor.data.splits.MIN_SPLIT_ROWS` rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.data.sources import (
    DEFAULT_ENCODING,
    TEXT_FORMATS,
    detect_format,
    fingerprinted,
    read_table,
)
from auditor.errors import DataError, Location
from auditor.types import LM_TASKS, TEXT_TASKS

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

    from auditor.types import Dataset, Spec

#: The preprocessing's statistics (medians, scales, categories, fences) are fitted on at
#: most this many rows, a seeded sample of larger training or development data: they have
#: settled long before (LightGBM bins its features on a sample of the same size), and the
#: fit stays a second on any file. Every row is still transformed.
FIT_ROWS = 200_000
FIT_SEED = 20_000
MSG_TARGET_MISSING = "target column {name!r} is not in the {role} data{hint}"
MSG_ALL_DROPPED = "every training row was dropped by preprocessing ({reason})"
MSG_FEW_LEFT = (
    "only {left} of the {n} training rows are left after preprocessing dropped rows "
    "({reason}); every split needs at least {minimum} rows: keep the rows (missing: median, "
    "outliers: clip_iqr) or use more data"
)
MSG_THRESHOLD_ROWS = (
    "setting aside {fraction:g} of the {n} rows of {split!r} to choose the threshold on "
    "leaves {left} row(s) there and {taken} for the threshold; every split needs at least "
    "{minimum} rows: change evaluation.threshold.chosen_on.fraction or use a larger file"
)
#: How the too-few-rows message names a file audited as a split of its own, by role.
FILE_WORDS = {
    "holdout": "the holdout file",
    "audit": "audit file {key!r}",
    "threshold": "the file the threshold is chosen on",
    "reference": "the development data file",
}


def balanced_class_weights(y_train: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-class weights ``n / (K * count)`` (float32); a class absent from ``y_train`` gets 0."""
    import numpy as np

    counts = np.bincount(y_train, minlength=n_classes).astype(np.float64)
    weights = np.where(counts > 0, len(y_train) / (n_classes * np.maximum(counts, 1)), 0.0)
    return weights.astype(np.float32)


@dataclass
class _Tables:
    """The data files as read: key -> table, key -> file, and their fingerprints.

    Keys are ``train``, ``holdout``, each audit file's split name, ``threshold`` (a file of
    rows to choose a decision threshold on) and ``reference`` (the development data, whose
    target is optional: without it the reference only serves the drift checks).
    """

    tables: dict[str, pd.DataFrame]
    files: dict[str, Path]
    sources: list[dict[str, Any]]
    roles: dict[str, str]
    labels: dict[str, str]


def _data_files(spec: Spec) -> tuple[dict[str, Path], dict[str, str], dict[str, str]]:
    """(key -> file, key -> role, key -> label) of every data file the spec names."""
    data = spec.data
    files, roles, labels = {}, {}, {}
    if data.train:
        files["train"], roles["train"] = spec.resolve_path(data.train), "train"
    if data.holdout:
        files["holdout"], roles["holdout"] = spec.resolve_path(data.holdout), "holdout"
    for entry in data.audit:
        files[entry.name], roles[entry.name] = spec.resolve_path(entry.path), "audit"
        labels[entry.name] = entry.label
    chosen = spec.evaluation.threshold.chosen_on
    if chosen is not None and chosen.path:
        files["threshold"], roles["threshold"] = spec.resolve_path(chosen.path), "threshold"
        labels["threshold"] = "rows the threshold is chosen on"
    if data.reference is not None:
        files["reference"], roles["reference"] = spec.resolve_path(data.reference.path), "reference"
        labels["reference"] = data.reference.label
    return files, roles, labels


def _read_sources(spec: Spec) -> _Tables:
    """Read every data file; each but the reference must hold the target."""
    from auditor.data.columns import column_hint

    data, target = spec.data, spec.objective.target
    encoding = data.encoding or DEFAULT_ENCODING
    files, roles, labels = _data_files(spec)
    tables: dict[str, pd.DataFrame] = {}
    sources: list[dict[str, Any]] = []
    for role, path in files.items():
        frame = read_table(path, data.format, encoding=encoding)
        if target not in frame.columns and roles[role] != "reference":
            raise DataError(
                MSG_TARGET_MISSING.format(
                    name=target, role=role, hint=column_hint(target, frame.columns)
                ),
                Location(file=str(path), path=("objective", "target")),
            )
        kind = detect_format(path, data.format)
        sources.append(
            {
                "role": roles[role],
                "split": role,
                "format": kind,
                **({"encoding": encoding} if kind in TEXT_FORMATS else {}),
                "rows": int(len(frame)),
                "columns": int(frame.shape[1]),
                **fingerprinted(path),  # a DataFrame given to the API: says what was hashed
            }
        )
        tables[role] = frame
    return _Tables(tables, files, sources, roles, labels)


def _generate_and_read(spec: Spec) -> _Tables:
    """Create missing example data first when ``data.generate`` is set; then read the files."""
    if spec.data.generate is not None:
        from auditor.data.examples import ensure_example_data

        ensure_example_data(spec.typed, spec.base_dir)
    return _read_sources(spec)


def _check_other_columns(
    read: _Tables, base: str, columns: list[str], sensitive: list[str]
) -> None:
    """Every file but the one the features were taken from holds the features and the
    sensitive columns (the reference may lack some: it is compared where it has them)."""
    from auditor.data.columns import missing_column_message

    for key, table in read.tables.items():
        if key == base or read.roles[key] == "reference":
            continue
        where = "the holdout" if key == "holdout" else f"the {read.roles[key]} file"
        for c in [*columns, *sensitive]:
            if c not in table.columns:
                raise DataError(
                    missing_column_message(c, table.columns, where=where),
                    Location(file=str(read.files[key])),
                )


def _drop_rows_without_target(read: _Tables, target: str) -> dict[str, int]:
    """Rows without a target cannot be learned from or judged: dropped, and counted."""
    from auditor.data.columns import MSG_NO_TARGET_ROWS

    dropped = {}
    for role in list(read.tables):
        if target not in read.tables[role].columns:  # a reference without the target
            continue
        keep = read.tables[role][target].notna()
        dropped[role] = int((~keep).sum())
        read.tables[role] = read.tables[role][keep]
        if len(read.tables[role]) == 0:
            raise DataError(
                MSG_NO_TARGET_ROWS.format(name=target), Location(file=str(read.files[role]))
            )
    return dropped


def _require_file_rows(read: _Tables, target: str) -> None:
    """Every file audited as a split of its own has at least MIN_SPLIT_ROWS rows."""
    from auditor.data.splits import require_rows

    for key, table in read.tables.items():
        role = read.roles[key]
        if role == "train":
            continue  # make_split says how its rows would split
        field = _file_field(read, key)
        require_rows(
            int(len(table)),
            what=FILE_WORDS[role].format(key=key),
            where=Location(file=str(read.files[key]), path=field),
            labelled=target in table.columns,
        )


def _file_field(read: _Tables, key: str) -> tuple:
    """The spec field that names a data file (for an error's location)."""
    role = read.roles[key]
    if role == "audit":
        return ("data", "audit")
    if role == "threshold":
        return ("evaluation", "threshold", "chosen_on", "path")
    if role == "reference":
        return ("data", "reference", "path")
    return ("data", role)


def _encode(spec: Spec, read: _Tables) -> tuple[list[Any], dict[str, np.ndarray]]:
    """The classes (none for regression) and every table's encoded target."""
    from auditor.data.columns import (
        check_finite_target,
        check_regression_target,
        encode_target,
        target_classes,
    )

    task, target = spec.task, spec.objective.target
    labelled = {k: t for k, t in read.tables.items() if target in t.columns}
    learned = [k for k in labelled if read.roles[k] != "reference"]
    if "train" in labelled:
        learned = ["train"]
    import pandas as pd

    train = pd.concat([labelled[k][target] for k in learned], ignore_index=True)
    if task == "regression":
        check_regression_target(train, target, spec.locate)
        for key, table in labelled.items():
            check_finite_target(table[target], target, str(read.files[key]))
        classes: list[Any] = []
    else:
        classes = target_classes(
            train, task=task, positive=spec.objective.positive, target=target, where=spec.locate
        )
    y = {
        role: encode_target(t[target], task=task, classes=classes, file=str(read.files[role]))
        for role, t in labelled.items()
    }
    return classes, y


def _drop_training_rows(spec: Spec, frames, y, numeric: list[str], info: dict) -> dict:
    """Apply ``missing: drop`` and ``outliers: drop`` to the training rows; the screening."""
    from auditor.data.preprocess import outlier_screening, rows_to_drop

    masks, drop_fences = rows_to_drop(frames["train"], spec.data.preprocessing, numeric)
    screening: dict[str, Any] = {}
    if drop_fences is not None:  # outliers: drop
        screening = outlier_screening(drop_fences, frames["train"][numeric])
    dropped = masks["missing"] | masks["outliers"]
    info["dropped_rows"] = {
        "missing": int(masks["missing"].sum()),
        "outliers": int(masks["outliers"].sum()),
    }
    reasons = [k for k in ("missing", "outliers") if masks[k].any()]
    if dropped.all():
        raise DataError(
            MSG_ALL_DROPPED.format(reason=" and ".join(reasons)),
            spec.locate(("data", "preprocessing", reasons[0])),
        )
    _require_rows_left(spec, int(len(dropped)), int((~dropped).sum()), reasons)
    if dropped.any():
        frames["train"] = frames["train"][~dropped]
        y["train"] = y["train"][~dropped]
    return screening


def _require_rows_left(spec: Spec, n: int, left: int, reasons: list[str]) -> None:
    """The training rows left after dropping still make a split of MIN_SPLIT_ROWS rows."""
    from auditor.data.splits import MIN_SPLIT_ROWS

    if reasons and left < MIN_SPLIT_ROWS:
        raise DataError(
            MSG_FEW_LEFT.format(
                left=left, n=n, reason=" and ".join(reasons), minimum=MIN_SPLIT_ROWS
            ),
            spec.locate(("data", "preprocessing", reasons[0])),
        )


def _preprocessing_info(
    spec: Spec, frames, columns, numeric, categorical, names, fitted_on: str
) -> dict:
    prep = spec.data.preprocessing
    return {
        "missing": prep.missing,
        "missing_indicator": bool(prep.missing_indicator),
        "outliers": prep.outliers,
        "scaling": prep.scaling,
        "categorical": prep.categorical,
        "imbalance": prep.imbalance,
        "numeric": numeric,
        "categorical_columns": categorical,
        "features_out": len(names),
        "fitted_on": fitted_on,
        "fitted_rows": int(len(frames[fitted_on])),
        "missing_values": {
            name: int(f[[c for c in columns if c in f.columns]].isna().sum().sum())
            for name, f in frames.items()
        },
    }


def _split_tables(spec: Spec, read: _Tables, y_all: dict[str, np.ndarray]):
    """(frames, targets, split info) per split: the seeded split of train (or, for
    audit-only data, every audit file as it is, less the rows a threshold is chosen on),
    then the holdout, the threshold rows and the reference."""
    from auditor.data.splits import make_split

    frames: dict[str, pd.DataFrame] = {}
    y: dict[str, np.ndarray] = {}
    if "train" in read.tables:
        train_table = read.tables["train"]
        positions, split_info = make_split(
            train_table,
            y_all["train"],
            spec.data.split,
            task=spec.task,
            where=spec.locate,
            file=str(read.files["train"]),
        )
        frames = {name: train_table.iloc[pos] for name, pos in positions.items()}
        y = {name: y_all["train"][pos] for name, pos in positions.items()}
    else:
        split_info = {"strategy": "none", "note": "audit-only data: every file is audited as it is"}
    for key, role in read.roles.items():
        if role in ("train", "reference") or key in frames:
            continue
        frames[key], y[key] = read.tables[key], y_all[key]
    chosen = spec.evaluation.threshold.chosen_on
    if chosen is not None and chosen.path is None and chosen.split in frames:
        split_info["threshold_rows"] = _take_threshold_rows(frames, y, chosen, read.labels)
        _require_threshold_rows(spec, frames, chosen, split_info["threshold_rows"])
    if "reference" in read.tables:
        frames["reference"] = read.tables["reference"]
        if "reference" in y_all:
            y["reference"] = y_all["reference"]
    return frames, y, split_info


def _take_threshold_rows(frames, y, chosen, labels) -> dict[str, Any]:
    """Move a seeded fraction of an audit split's rows into the split ``threshold``."""
    import numpy as np

    source = chosen.split
    n = len(frames[source])
    take = max(1, int(round(chosen.fraction * n)))
    picked = np.zeros(n, dtype=bool)
    picked[np.random.default_rng(chosen.seed).choice(n, take, replace=False)] = True
    frames["threshold"], y["threshold"] = frames[source][picked], y[source][picked]
    labels["threshold"] = f"rows of {labels.get(source, source)} the threshold is chosen on"
    frames[source], y[source] = frames[source][~picked], y[source][~picked]
    return {"from": source, "rows": int(take), "fraction": float(chosen.fraction)}


def _require_threshold_rows(spec: Spec, frames, chosen, taken: dict[str, Any]) -> None:
    """Both the audit split and the rows set aside from it keep MIN_SPLIT_ROWS rows."""
    from auditor.data.splits import MIN_SPLIT_ROWS

    left, rows = int(len(frames[chosen.split])), int(taken["rows"])
    if min(left, rows) < MIN_SPLIT_ROWS:
        raise DataError(
            MSG_THRESHOLD_ROWS.format(
                fraction=float(chosen.fraction),
                n=left + rows,
                split=chosen.split,
                left=left,
                taken=rows,
                minimum=MIN_SPLIT_ROWS,
            ),
            spec.locate(("evaluation", "threshold", "chosen_on", "fraction")),
        )


def fit_sample(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``, or a seeded sample of :data:`FIT_ROWS` of its rows (in their order).

    What the preprocessing is fitted on, and what the outlier screen sets its fences on:
    quartiles of 200,000 rows are as good as a million's, at a fifth of the cost.
    """
    import numpy as np

    if len(frame) <= FIT_ROWS:
        return frame
    rng = np.random.default_rng(FIT_SEED)
    return frame.iloc[np.sort(rng.choice(len(frame), FIT_ROWS, replace=False))]


def text_feature_columns(spec: Spec, columns: list[str]) -> list[str]:
    """The feature columns the model reads as free text (a text classifier's
    ``model.encoder.text_column``): typed ``"text"``, kept out of the tabular matrix."""
    encoder = getattr(spec.model, "encoder", None)
    if spec.model.architecture != "text_classifier" or encoder is None:
        return []
    return [c for c in columns if c == encoder.text_column]


def _fit_transform(spec: Spec, frames, columns, numeric, categorical, info: dict, screening):
    """(fitted preprocessor, X per split, feature names); the preprocessing info is filled in."""

    from auditor.data.preprocess import (
        OutlierClipper,
        build_preprocessor,
        outlier_screening,
        transform_rows,
    )

    prep = spec.data.preprocessing
    fitted_on = "train" if "train" in frames else "reference"
    if fitted_on not in frames or not set(columns) <= set(frames[fitted_on].columns):
        info["fitted_on"] = None  # audit-only data without development rows to fit it on
        return None, {}, []
    if not columns:  # only a text column, which the model reads itself: no tabular matrix
        import numpy as np

        info["fitted_on"] = None
        empty = {name: np.empty((len(f), 0), dtype=np.float32) for name, f in frames.items()}
        return None, empty, []
    preprocessor = build_preprocessor(prep, numeric, categorical)
    fit_frame = fit_sample(frames[fitted_on])
    preprocessor.fit(fit_frame[columns])
    X = {
        name: transform_rows(preprocessor, f[columns])
        for name, f in frames.items()
        if set(columns) <= set(f.columns)
    }
    feature_names = [str(n) for n in preprocessor.get_feature_names_out()]
    info.update(
        _preprocessing_info(spec, frames, columns, numeric, categorical, feature_names, fitted_on)
    )
    if len(fit_frame) < len(frames[fitted_on]):
        info["fitted_rows"] = int(len(fit_frame))
        info["fitted_sample_of"] = int(len(frames[fitted_on]))
    if numeric and prep.outliers in ("clip_iqr", "clip_zscore"):
        clipper: OutlierClipper = preprocessor.named_transformers_["num"].named_steps["clip"]
        info["clipped_values"] = {
            name: int(clipper.outside(f[numeric]).sum()) for name, f in frames.items()
        }
        screening = outlier_screening(clipper, frames[fitted_on][numeric])
    info.update(screening)
    return preprocessor, X, feature_names


def _class_weights(spec: Spec, y_train, classes: list[Any], info: dict) -> np.ndarray | None:
    """Balanced class weights when ``imbalance`` asks for them (recorded in ``info``), else None."""
    if spec.task == "regression" or spec.data.preprocessing.imbalance == "none":
        return None
    class_weights = balanced_class_weights(y_train, len(classes))
    info["class_weights"] = {str(c): float(w) for c, w in zip(classes, class_weights, strict=True)}
    return class_weights


def _reading_info(spec: Spec, read: _Tables) -> dict[str, Any]:
    """``{"file_encoding": ...}`` when a text file (CSV, JSON Lines) was read, else empty."""
    if any(source["format"] in TEXT_FORMATS for source in read.sources):
        return {"file_encoding": spec.data.encoding or DEFAULT_ENCODING}
    return {}


def build_dataset(spec: Spec) -> Dataset:
    """Build the Dataset the later stages share.

    Parameters
    ----------
    spec : Spec
        A validated spec with every default applied.

    Returns
    -------
    Dataset
        Every field filled; ``X`` float32 per split, ``y`` encoded, ``groups`` as strings.
        ``preprocessing_info`` says, among others, the text encoding the files were read
        in (``file_encoding``) and, when there were any, the infinite feature values
        treated as missing (``infinite_values``: split -> column -> count).

    Raises
    ------
    DataError
        A data file is missing or unreadable (or does not decode in ``data.encoding``),
        lacks what the spec needs, gives a split of fewer than
        :data:`~auditor.data.splits.MIN_SPLIT_ROWS` rows, or holds an infinite regression
        target; located at the file or at the spec field concerned.
    """
    if spec.task in TEXT_TASKS:  # generated text: the audit files' text columns, no split
        from auditor.text.audit import read_text_data

        return read_text_data(spec)
    if spec.task in LM_TASKS:  # a language model: the corpus deduplicated, then split
        from auditor.data.corpus import build_corpus_dataset

        return build_corpus_dataset(spec)
    from auditor.data.columns import feature_columns, group_frame
    from auditor.data.preprocess import infinite_to_missing
    from auditor.types import Dataset

    data, task, target = spec.data, spec.task, spec.objective.target
    read = _generate_and_read(spec)
    base = (
        "train"
        if "train" in read.tables
        else next(k for k, r in read.roles.items() if r == "audit")
    )
    columns, kinds = feature_columns(read.tables[base], data, target, spec.locate)
    for column in text_feature_columns(spec, columns):
        kinds[column] = "text"  # read by the model as text: never one-hot, never a category
    sensitive = list(data.sensitive)
    _check_other_columns(read, base, columns, sensitive)
    info: dict[str, Any] = _reading_info(spec, read)
    info["missing_target_rows"] = _drop_rows_without_target(read, target)
    _require_file_rows(read, target)
    classes, y_all = _encode(spec, read)
    frames, y, split_info = _split_tables(spec, read, y_all)

    numeric = [c for c in columns if kinds[c] == "numeric"]
    categorical = [c for c in columns if kinds[c] == "categorical"]
    infinite = infinite_to_missing(frames, numeric)
    if infinite:
        info["infinite_values"] = infinite
    screening = _drop_training_rows(spec, frames, y, numeric, info) if "train" in frames else {}
    split_info["sizes"] = {name: int(len(f)) for name, f in frames.items()}
    tabular = [c for c in columns if kinds[c] != "text"]
    preprocessor, X, feature_names = _fit_transform(
        spec, frames, tabular, numeric, categorical, info, screening
    )
    class_weights = _class_weights(spec, y["train"], classes, info) if "train" in y else None
    roles = {k: ("reference" if k == "reference" else read.roles.get(k, k)) for k in frames}
    return Dataset(
        task=task,
        target=target,
        frames=frames,
        X=X,
        y=y,
        groups={
            name: group_frame(f, sensitive)
            for name, f in frames.items()
            if set(sensitive) <= set(f.columns)
        },
        feature_columns=columns,
        column_types=kinds,
        feature_names=feature_names,
        classes=classes,
        sensitive=sensitive,
        id_column=data.id_column,
        preprocessor=preprocessor,
        sources=read.sources,
        split_info=split_info,
        preprocessing_info=info,
        class_weights=class_weights,
        split_roles=roles,
        split_labels={k: v for k, v in read.labels.items() if k in frames},
    )
