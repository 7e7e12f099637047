"""Seeded data and spec helpers for the vendor tests.

Datasets come from auditor's own example generators (``loan``: binary, ``triage``:
multiclass, ``claims``: regression), split and preprocessed here with a small sklearn
transformer, so every test knows exactly which rows each split holds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from auditor.data.examples import generate
from auditor.spec import load_schema
from auditor.types import Dataset, Spec

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = load_schema()
VENDOR_SCHEMA = SCHEMA["properties"]["model"]["properties"]["vendor"]

EXAMPLES = {
    # name: (target, id column, classes in encoded order, columns never used as features)
    "loan": ("approved", "applicant_id", [0, 1], ["application_date", "branch_id"]),
    "triage": ("triage_level", "visit_id", ["low", "medium", "high"], []),
    "claims": ("claim_cost", "claim_id", [], []),
}
TASKS = {"loan": "binary", "triage": "multiclass", "claims": "regression"}
SENSITIVE = ["sex", "age_band"]


def vendor_settings(**overrides) -> dict:
    """``model.vendor`` with the schema's defaults applied, then ``overrides``."""
    values = {k: v["default"] for k, v in VENDOR_SCHEMA["properties"].items() if "default" in v}
    values.update(overrides)
    return values


def build_dataset(
    name: str = "loan",
    rows: int = 500,
    seed: int = 3,
    *,
    numeric_only: bool = False,
    id_column: bool = True,
    classes: list | None = None,
) -> Dataset:
    """A Dataset of a generator: train/validation/test 60/20/20 and a holdout of rows/5."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    target, id_col, default_classes, drop = EXAMPLES[name]
    task = TASKS[name]
    classes = default_classes if classes is None else classes
    main = generate(name, rows, seed)
    holdout = generate(name, max(rows // 5, 50), seed + 1, shift=1.0)
    if holdout[id_col].isin(main[id_col]).any():  # keep ids unique across the two files
        holdout[id_col] = "H" + holdout[id_col].astype(str)
    skip = {target, id_col, *SENSITIVE, *drop}
    features = [c for c in main.columns if c not in skip]
    types = {
        c: ("numeric" if pd.api.types.is_numeric_dtype(main[c]) else "categorical")
        for c in features
    }
    if numeric_only:
        features = [c for c in features if types[c] == "numeric"]
        types = {c: types[c] for c in features}
    numeric = [c for c in features if types[c] == "numeric"]
    categorical = [c for c in features if types[c] == "categorical"]

    order = np.random.default_rng(seed).permutation(len(main))
    cut1, cut2 = int(0.6 * len(main)), int(0.8 * len(main))
    frames = {
        "train": main.iloc[order[:cut1]],
        "validation": main.iloc[order[cut1:cut2]],
        "test": main.iloc[order[cut2:]],
        "holdout": holdout,
    }
    parts = [("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric)]
    if categorical:
        parts.append(
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical)
        )
    pre = ColumnTransformer(parts).fit(frames["train"][features])
    X = {s: pre.transform(f[features]).astype(np.float32) for s, f in frames.items()}
    if task == "regression":
        y = {s: f[target].to_numpy(dtype=np.float64) for s, f in frames.items()}
    else:
        lookup = {c: i for i, c in enumerate(classes)}
        y = {s: f[target].map(lookup).to_numpy(dtype=np.int64) for s, f in frames.items()}
    return Dataset(
        task=task,
        target=target,
        frames=frames,
        X=X,
        y=y,
        groups={s: f[SENSITIVE].astype(str).reset_index(drop=True) for s, f in frames.items()},
        feature_columns=features,
        column_types=types,
        feature_names=[str(n) for n in pre.get_feature_names_out()],
        classes=list(classes),
        sensitive=list(SENSITIVE),
        id_column=id_col if id_column else None,
        preprocessor=pre,
    )


def make_spec(tmp_path: Path, dataset: Dataset, **vendor) -> Spec:
    """A resolved spec (only the fields the vendor loader reads) in ``tmp_path``."""
    return Spec(
        path=tmp_path / "spec.yaml",
        values={
            "version": 1,
            "name": "vendor-test",
            "objective": {"task": dataset.task, "target": dataset.target},
            "data": {"id_column": dataset.id_column},
            "model": {"vendor": vendor_settings(**vendor)},
        },
        positions={("data", "id_column"): (7, 3)},
    )


def all_rows(dataset: Dataset) -> pd.DataFrame:
    """Every row of every split, once (holdout ids differ from the train file's)."""
    return pd.concat(list(dataset.frames.values()), ignore_index=True)


def one_line_error(excinfo) -> str:
    text = str(excinfo.value)
    assert "\n" not in text
    return text
