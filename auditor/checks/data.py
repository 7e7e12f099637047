"""Data checks: size, missing values, outliers, duplicates, overlap, balance, representation."""

from __future__ import annotations

import numpy as np

from auditor.checks.registry import CheckContext, register, skipped
from auditor.checks.text import pct, split_words

# The screening rule (which numeric columns an outlier rule may judge) is shared with the
# preprocessing (data.preprocessing.outliers); it lives in auditor.data.screening.
from auditor.data.screening import (  # noqa: F401 - re-exported
    DISCRETE_MAX_VALUES,
    NOT_SCREENED,
    screenable,
    skew_adjusted_fences,
)
from auditor.types import Finding

TOP_COLUMNS = 15  # most columns shown in a per-column chart


def _frames(ctx: CheckContext) -> dict:
    return {s: f for s, f in ctx.dataset.frames.items() if f is not None}


def _row_hashes(frame, columns) -> np.ndarray:
    import pandas as pd

    if not columns:
        return np.zeros(len(frame), dtype=np.uint64)
    return pd.util.hash_pandas_object(frame[columns], index=False).to_numpy()


@register("data_summary", "data", description="Rows and columns of every split.")
def data_summary(ctx: CheckContext) -> list[Finding]:
    frames = _frames(ctx)
    sizes = {s: int(len(f)) for s, f in frames.items()}
    ds = ctx.dataset
    total = sum(sizes.values())
    parts = ", ".join(f"{n:,} {s}" for s, n in sizes.items())
    return [
        Finding(
            id="data.summary",
            check="data_summary",
            category="data",
            status="pass",
            title="Rows and columns",
            summary=f"The audit uses {total:,} rows ({parts}) with {len(ds.feature_columns)} "
            f"feature columns ({len(ds.feature_names)} model inputs after preprocessing).",
            value=float(total),
            n=total,
            details={
                "rows": sizes,
                "columns": {s: int(f.shape[1]) for s, f in frames.items()},
                "feature_columns": len(ds.feature_columns),
                "model_inputs": len(ds.feature_names),
                "column_types": dict(ds.column_types),
            },
            chart={
                "kind": "bars",
                "title": f"{total:,} rows across {len(sizes)} splits",
                "labels": list(sizes),
                "values": [float(v) for v in sizes.values()],
                "xlabel": "rows",
                "bound": None,
            },
        )
    ]


@register("missing_rate", "data", criterion=True, description="Share of missing values per column.")
def missing_rate(ctx: CheckContext) -> list[Finding]:
    bound = float(ctx.diagnostics["max_missing_rate"])
    cols = list(ctx.dataset.feature_columns)
    out = []
    for split, frame in _frames(ctx).items():
        if not cols or len(frame) == 0:
            continue
        rates = frame[cols].isna().mean()
        worst_col = str(rates.idxmax())
        worst = float(rates.max())
        bad = [c for c, r in rates.items() if r > bound]
        top = rates.sort_values(ascending=False).head(TOP_COLUMNS)
        status = "warn" if bad else "pass"
        summary = (
            f"Column '{worst_col}' is missing in {pct(worst)} of the rows of {split_words(split)}"
            + (
                f"; {len(bad)} column(s) exceed {pct(bound)}."
                if bad
                else f", the most of any column (acceptable up to {pct(bound)})."
            )
        )
        if worst == 0:
            summary = f"No values are missing in {split_words(split)}."
        out.append(
            Finding(
                id=f"data.missing_rate.{split}",
                check="missing_rate",
                category="data",
                status=status,
                title=f"Missing values in {split}",
                summary=summary,
                value=worst,
                threshold=bound,
                direction="at_most",
                split=split,
                n=int(len(frame)),
                recommendation=(
                    f"Find out why {', '.join(bad[:3])} are so often missing; impute "
                    "deliberately or drop the column."
                    if bad
                    else ""
                ),
                details={"columns": {c: float(r) for c, r in rates.items()}},
                chart={
                    "kind": "bars",
                    "title": summary.split(";")[0],
                    "labels": [str(c) for c in top.index],
                    "values": [float(v) for v in top.values],
                    "xlabel": "share missing",
                    "bound": bound,
                },
            )
        )
    return out


@register(
    "outliers",
    "data",
    criterion=True,
    description="Values outside the (skew-adjusted) IQR fences, per continuous numeric column.",
)
def outliers(ctx: CheckContext) -> list[Finding]:
    import pandas as pd

    bound = float(ctx.diagnostics["max_outlier_rate"])
    prep = ctx.spec["data"].get("preprocessing") or {}
    factor = prep.get("outlier_factor")
    if factor is None or prep.get("outliers") == "clip_zscore":
        factor = 1.5  # Tukey's fence: the schema's documented meaning of a null outlier_factor
    numeric = [
        c for c in ctx.dataset.feature_columns if ctx.dataset.column_types.get(c) == "numeric"
    ]
    frames = _frames(ctx)
    if not numeric or "train" not in frames:
        return skipped(
            "outliers", "data", "Outliers", "There are no numeric feature columns to screen."
        )
    train = frames["train"][numeric].apply(pd.to_numeric, errors="coerce")
    unscreened = {c: why for c in numeric if (why := screenable(train[c].to_numpy())) is not None}
    not_screened = {
        c: NOT_SCREENED[why].format(k=DISCRETE_MAX_VALUES) for c, why in unscreened.items()
    }
    numeric = [c for c in numeric if c not in unscreened]
    if not numeric:
        return skipped(
            "outliers",
            "data",
            "Outliers",
            "No numeric column is continuous enough for an outlier screen: "
            + "; ".join(f"'{c}' is {why}" for c, why in list(not_screened.items())[:4])
            + ".",
            details={"not_screened": not_screened},
        )
    train = train[numeric]
    lo, hi = skew_adjusted_fences(train, factor)
    out = []
    for split, frame in frames.items():
        x = frame[numeric].apply(pd.to_numeric, errors="coerce")
        rates = ((x < lo) | (x > hi)).mean()
        worst_col, worst = str(rates.idxmax()), float(rates.max())
        bad = [c for c, r in rates.items() if r > bound]
        top = rates.sort_values(ascending=False).head(TOP_COLUMNS)
        summary = (
            f"{pct(worst, digits=1)} of the values of '{worst_col}' in {split_words(split)} lie "
            f"outside the skew-adjusted {factor:g} IQR fences of the training quartiles"
            + (f"; {len(bad)} column(s) exceed {pct(bound)}" if bad else "")
            + (
                f"; not screened, being count-like or piled up on one value: "
                f"{', '.join(list(unscreened)[:3])}{', ...' if len(unscreened) > 3 else ''}."
                if unscreened
                else "."
            )
        )
        out.append(
            Finding(
                id=f"data.outliers.{split}",
                check="outliers",
                category="data",
                status="warn" if bad else "pass",
                title=f"Outliers in {split}",
                summary=summary,
                value=worst,
                threshold=bound,
                direction="at_most",
                split=split,
                n=int(len(frame)),
                recommendation=(
                    f"Check {', '.join(bad[:3])} for unit errors or data-entry mistakes; "
                    "consider data.preprocessing.outliers: clip_iqr."
                    if bad
                    else ""
                ),
                details={
                    "columns": {c: float(r) for c, r in rates.items()},
                    "factor": float(factor),
                    "fences": {c: [float(lo[c]), float(hi[c])] for c in numeric},
                    "not_screened": not_screened,
                },
                chart={
                    "kind": "bars",
                    "title": summary.split(";")[0].split(" (")[0],
                    "labels": [str(c) for c in top.index],
                    "values": [float(v) for v in top.values],
                    "xlabel": "share of values beyond the fence",
                    "bound": bound,
                },
            )
        )
    return out


@register("duplicate_rate", "data", criterion=True, description="Duplicated rows within a split.")
def duplicate_rate(ctx: CheckContext) -> list[Finding]:
    bound = float(ctx.diagnostics["max_duplicate_rate"])
    cols = [*ctx.dataset.feature_columns, ctx.dataset.target]
    out = []
    for split, frame in _frames(ctx).items():
        present = [c for c in cols if c in frame.columns]
        if len(frame) == 0 or not present:
            continue
        h = _row_hashes(frame, present)
        _, counts = np.unique(h, return_counts=True)
        dup = int((counts - 1).sum())
        rate = dup / len(frame)
        bad = rate > bound
        out.append(
            Finding(
                id=f"data.duplicate_rate.{split}",
                check="duplicate_rate",
                category="data",
                status="warn" if bad else "pass",
                title=f"Duplicated rows in {split}",
                summary=(
                    f"{dup:,} rows of {split_words(split)} ({pct(rate, digits=1)}) repeat "
                    "another row exactly (features and target)"
                    + (f", more than the {pct(bound, digits=1)} accepted." if bad else ".")
                ),
                value=rate,
                threshold=bound,
                direction="at_most",
                split=split,
                n=int(len(frame)),
                recommendation="Remove duplicated records, or find out why the source repeats them."
                if bad
                else "",
                details={"duplicates": dup},
            )
        )
    return out


@register(
    "train_test_overlap",
    "data",
    criterion=True,
    description="Rows of an evaluation split that also appear in the training split (leakage).",
)
def train_test_overlap(ctx: CheckContext) -> list[Finding]:
    frames = _frames(ctx)
    cols = list(ctx.dataset.feature_columns)
    if "train" not in frames or not cols:
        return skipped(
            "train_test_overlap",
            "data",
            "Overlap between splits",
            "Overlap was not checked: no training rows or feature columns.",
        )
    bound = float(ctx.diagnostics["max_duplicate_rate"])
    train = np.unique(_row_hashes(frames["train"], cols))
    out = []
    for split in ("validation", "test", "holdout"):
        if split not in frames or len(frames[split]) == 0:
            continue
        h = _row_hashes(frames[split], cols)
        shared = int(np.isin(h, train, assume_unique=False).sum())
        rate = shared / len(h)
        bad = rate > bound
        out.append(
            Finding(
                id=f"data.train_test_overlap.{split}",
                check="train_test_overlap",
                category="data",
                status="warn" if bad else "pass",
                title=f"Rows shared by train and {split}",
                summary=(
                    f"{shared:,} rows of {split_words(split)} ({pct(rate, digits=1)}) have "
                    "exactly the same features as a training row"
                    + ("; scores on this split are then inflated." if bad else ".")
                ),
                value=rate,
                threshold=bound,
                direction="at_most",
                split=split,
                n=len(h),
                recommendation=(
                    "Deduplicate before splitting, or split by entity (data.split.strategy: "
                    "group) so the same record cannot be in both."
                    if bad
                    else ""
                ),
                details={"shared_rows": shared},
            )
        )
    return out


@register("class_balance", "data", criterion=True, description="Share of each class.")
def class_balance(ctx: CheckContext) -> list[Finding]:
    if ctx.task == "regression":
        return skipped(
            "class_balance",
            "data",
            "Class balance",
            "Class balance does not apply to a regression target.",
        )
    bound = float(ctx.diagnostics["min_class_share"])
    labels = [str(c) for c in ctx.dataset.classes]
    out = []
    for split, y in ctx.dataset.y.items():
        if len(y) == 0:
            continue
        shares = np.bincount(np.asarray(y).astype(int), minlength=len(labels)) / len(y)
        i = int(np.argmin(shares))
        bad = shares[i] < bound
        out.append(
            Finding(
                id=f"data.class_balance.{split}",
                check="class_balance",
                category="data",
                status="warn" if bad else "pass",
                title=f"Class balance in {split}",
                summary=(
                    f"The rarest class, '{labels[i]}', makes up {pct(shares[i], digits=1)} of "
                    f"{split_words(split)}"
                    + (f", below the {pct(bound)} needed to learn it reliably." if bad else ".")
                ),
                value=float(shares[i]),
                threshold=bound,
                direction="at_least",
                split=split,
                n=int(len(y)),
                recommendation=(
                    "Collect more examples of the rare class, or use "
                    "data.preprocessing.imbalance: class_weights."
                    if bad
                    else ""
                ),
                details={"shares": dict(zip(labels, shares.tolist(), strict=True))},
                chart={
                    "kind": "bars",
                    "title": f"Rarest class '{labels[i]}': {pct(shares[i], digits=1)}",
                    "labels": labels,
                    "values": shares.tolist(),
                    "xlabel": "share of rows",
                    "bound": bound,
                },
            )
        )
    return out


@register(
    "group_size",
    "data",
    criterion=True,
    description="Each sensitive group's (and intersection's) size, share and base rate.",
)
def group_size(ctx: CheckContext) -> list[Finding]:
    from auditor.checks.fairness import partition_codes, positive_class, small_groups_text

    if not ctx.dataset.sensitive:
        return skipped("group_size", "data", "Sensitive groups", "No sensitive features are named.")
    m = ctx.min_group_size
    positive = positive_class(ctx) if ctx.task != "regression" else None
    out = []
    for split in ctx.splits():
        e = ctx.evaluation.splits[split]
        y = np.asarray(e.y_true)
        target = (y == positive).astype(float) if positive is not None else y.astype(float)
        for sens, columns in ctx.partitions():
            codes, labels = partition_codes(e.groups, columns)
            sizes = np.bincount(codes, minlength=len(labels))
            base = np.bincount(codes, weights=target, minlength=len(labels)) / np.maximum(sizes, 1)
            i = int(np.argmin(sizes))
            small = [labels[j] for j in range(len(labels)) if sizes[j] < m]
            rows = [
                {
                    "group": labels[j],
                    "n": int(sizes[j]),
                    "share": float(sizes[j] / max(len(y), 1)),
                    "base_rate": float(base[j]),
                    "inconclusive": bool(sizes[j] < m),
                    "needed": int(max(m - sizes[j], 0)),
                }
                for j in range(len(labels))
            ]
            what = "positive rate" if positive is not None else "mean target"
            summary = (
                f"The smallest group across {sens} in {split_words(split)} is {labels[i]} with "
                f"{int(sizes[i]):,} rows"
                + (
                    ". " + small_groups_text(labels, sizes, np.maximum(m - sizes, 0), m)
                    if small
                    else f"; every group has at least {m} rows."
                )
            )
            out.append(
                Finding(
                    id=f"data.group_size.{split}.{sens}",
                    check="group_size",
                    category="data",
                    status="warn" if small else "pass",
                    title=f"Groups of {sens} in {split}",
                    summary=summary,
                    value=float(sizes[i]),
                    threshold=float(m),
                    direction="at_least",
                    split=split,
                    sensitive=sens,
                    n=int(len(y)),
                    recommendation=(
                        f"Collect more rows of {', '.join(small[:3])} so that fairness across "
                        f"{sens} can be judged."
                        if small
                        else ""
                    ),
                    details={"groups": rows, "base_rate_is": what},
                    chart={
                        "kind": "bars",
                        "title": f"Smallest group of {sens}: {labels[i]} ({int(sizes[i]):,} rows)",
                        "labels": labels,
                        "values": [float(s) for s in sizes],
                        "xlabel": "rows",
                        "bound": float(m),
                    },
                )
            )
    return out
