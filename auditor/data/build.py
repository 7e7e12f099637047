"""Building the Dataset: spec -> Dataset (tables, column roles, splits, fitted preprocessing).

``build_dataset(spec)`` reads the training file (and the optional holdout), assigns column
roles, encodes the target, splits the rows (seeded), drops training rows when the spec asks,
fits the preprocessing on the training rows only and transforms every split.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.data.sources import detect_format, read_table, sha256_file
from auditor.errors import DataError, Location

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from auditor.types import Dataset, Spec

MSG_TARGET_MISSING = "target column {name!r} is not in the {role} data{hint}"
MSG_ALL_DROPPED = "every training row was dropped by preprocessing ({reason})"


def balanced_class_weights(y_train: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-class weights ``n / (K * count)`` (float32); a class absent from ``y_train`` gets 0."""
    import numpy as np

    counts = np.bincount(y_train, minlength=n_classes).astype(np.float64)
    weights = np.where(counts > 0, len(y_train) / (n_classes * np.maximum(counts, 1)), 0.0)
    return weights.astype(np.float32)


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

    Raises
    ------
    DataError
        A data file is missing or unreadable, or lacks what the spec needs; located at the
        file or at the spec field concerned.
    """
    import numpy as np
    import pandas as pd

    from auditor.data.columns import (
        MSG_NO_TARGET_ROWS,
        check_regression_target,
        column_hint,
        encode_target,
        feature_columns,
        group_frame,
        missing_column_message,
        target_classes,
    )
    from auditor.data.preprocess import (
        OutlierClipper,
        build_preprocessor,
        outlier_screening,
        rows_to_drop,
    )
    from auditor.data.splits import make_split
    from auditor.types import Dataset

    values = spec.values
    data = values["data"]
    objective = values["objective"]
    task, target = objective["task"], objective["target"]
    where = spec.locate
    if data.get("generate"):
        from auditor.data.examples import ensure_example_data

        ensure_example_data(values, spec.base_dir)

    fmt = data.get("format", "auto")
    files = {"train": spec.resolve_path(data["train"])}
    if data.get("holdout"):
        files["holdout"] = spec.resolve_path(data["holdout"])
    tables: dict[str, pd.DataFrame] = {}
    sources: list[dict[str, Any]] = []
    for role, path in files.items():
        frame = read_table(path, fmt)
        if target not in frame.columns:
            raise DataError(
                MSG_TARGET_MISSING.format(
                    name=target, role=role, hint=column_hint(target, frame.columns)
                ),
                Location(file=str(path), path=("objective", "target")),
            )
        sources.append(
            {
                "role": role,
                "path": str(path),
                "format": detect_format(path, fmt),
                "rows": int(len(frame)),
                "columns": int(frame.shape[1]),
                "sha256": sha256_file(path),
            }
        )
        tables[role] = frame

    train_file = tables["train"]
    columns, kinds = feature_columns(train_file, data, target, where)
    sensitive = list(data.get("sensitive") or [])
    if "holdout" in tables:
        hold = tables["holdout"]
        for c in [*columns, *sensitive]:
            if c not in hold.columns:
                raise DataError(
                    missing_column_message(c, hold.columns, where="the holdout"),
                    Location(file=str(files["holdout"])),
                )

    # rows without a target cannot be learned from or judged
    info: dict[str, Any] = {"missing_target_rows": {}}
    for role in list(tables):
        keep = tables[role][target].notna()
        info["missing_target_rows"][role] = int((~keep).sum())
        tables[role] = tables[role][keep]
        if len(tables[role]) == 0:
            raise DataError(MSG_NO_TARGET_ROWS.format(name=target), Location(file=str(files[role])))

    if task == "regression":
        check_regression_target(tables["train"][target], target, where)
        classes: list[Any] = []
    else:
        classes = target_classes(
            tables["train"][target],
            task=task,
            positive=objective.get("positive"),
            target=target,
            where=where,
        )
    y_all = {
        role: encode_target(t[target], task=task, classes=classes, file=str(files[role]))
        for role, t in tables.items()
    }

    positions, split_info = make_split(
        tables["train"], y_all["train"], data.get("split") or {}, task=task, where=where
    )
    frames: dict[str, pd.DataFrame] = {}
    y: dict[str, np.ndarray] = {}
    for name, pos in positions.items():
        frames[name] = tables["train"].iloc[pos]
        y[name] = y_all["train"][pos]
    if "holdout" in tables:
        frames["holdout"] = tables["holdout"]
        y["holdout"] = y_all["holdout"]

    prep = data.get("preprocessing") or {}
    numeric = [c for c in columns if kinds[c] == "numeric"]
    categorical = [c for c in columns if kinds[c] == "categorical"]
    masks, drop_fences = rows_to_drop(frames["train"], prep, numeric)
    screening: dict[str, Any] = {}
    if drop_fences is not None:  # outliers: drop
        screening = outlier_screening(drop_fences, frames["train"][numeric])
    dropped = masks["missing"] | masks["outliers"]
    info["dropped_rows"] = {
        "missing": int(masks["missing"].sum()),
        "outliers": int(masks["outliers"].sum()),
    }
    if dropped.all():
        reasons = [k for k in ("missing", "outliers") if masks[k].any()]
        raise DataError(
            MSG_ALL_DROPPED.format(reason=" and ".join(reasons)),
            where(("data", "preprocessing", reasons[0])),
        )
    if dropped.any():
        frames["train"] = frames["train"][~dropped]
        y["train"] = y["train"][~dropped]
    split_info["sizes"] = {name: int(len(f)) for name, f in frames.items()}

    preprocessor = build_preprocessor(prep, numeric, categorical)
    preprocessor.fit(frames["train"][columns])
    X = {
        name: np.ascontiguousarray(preprocessor.transform(f[columns]), dtype=np.float32)
        for name, f in frames.items()
    }
    feature_names = [str(n) for n in preprocessor.get_feature_names_out()]

    info.update(
        {
            "missing": prep.get("missing", "median"),
            "missing_indicator": bool(prep.get("missing_indicator", False)),
            "outliers": prep.get("outliers", "none"),
            "scaling": prep.get("scaling", "standard"),
            "categorical": prep.get("categorical", "onehot"),
            "imbalance": prep.get("imbalance", "none"),
            "numeric": numeric,
            "categorical_columns": categorical,
            "features_out": len(feature_names),
            "fitted_on": "train",
            "fitted_rows": int(len(frames["train"])),
            "missing_values": {
                name: int(f[columns].isna().sum().sum()) for name, f in frames.items()
            },
        }
    )
    if numeric and prep.get("outliers") in ("clip_iqr", "clip_zscore"):
        clipper: OutlierClipper = preprocessor.named_transformers_["num"].named_steps["clip"]
        info["clipped_values"] = {
            name: int(clipper.outside(f[numeric]).sum()) for name, f in frames.items()
        }
        screening = outlier_screening(clipper, frames["train"][numeric])
    info.update(screening)

    class_weights = None
    if task != "regression" and prep.get("imbalance", "none") != "none":
        class_weights = balanced_class_weights(y["train"], len(classes))
        info["class_weights"] = {
            str(c): float(w) for c, w in zip(classes, class_weights, strict=True)
        }

    groups = {name: group_frame(f, sensitive) for name, f in frames.items()}
    return Dataset(
        task=task,
        target=target,
        frames=frames,
        X=X,
        y=y,
        groups=groups,
        feature_columns=columns,
        column_types=kinds,
        feature_names=feature_names,
        classes=classes,
        sensitive=sensitive,
        id_column=data.get("id_column"),
        preprocessor=preprocessor,
        sources=sources,
        split_info=split_info,
        preprocessing_info=info,
        class_weights=class_weights,
    )
