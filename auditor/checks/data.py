"""Data checks: size, missing values, outliers, duplicates, overlap, balance, representation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from auditor.checks.groups import (
    collect_rows_step,
    partition_codes,
    positive_class,
    small_groups_text,
)
from auditor.checks.registry import At, CheckContext, Measurement, register
from auditor.checks.text import advice, count_words, form, pct
from auditor.data.screening import (
    DISCRETE_MAX_VALUES,
    NOT_SCREENED,
    screenable,
    skew_adjusted_fences,
)
from auditor.judge import Bound
from auditor.splits import EVALUATED_ROLES
from auditor.types import CLASSIFICATION, Finding

TOP_COLUMNS = 15  # most columns shown in a per-column chart
SHARE = (0.0, 1.0)
TUKEY_FACTOR = 1.5  # the schema's documented meaning of a null outlier_factor
MSG_INFINITE_AS_MISSING = " {count:,} infinite values were treated as missing."
MSG_ONE_INFINITE_AS_MISSING = " 1 infinite value was treated as missing."


def infinite_note(count: int) -> str:
    """' 3 infinite values were treated as missing.' (one: ' 1 infinite value was ...')."""
    return (
        MSG_ONE_INFINITE_AS_MISSING if count == 1 else MSG_INFINITE_AS_MISSING.format(count=count)
    )


def _frames(ctx: CheckContext) -> dict:
    return {s: f for s, f in ctx.dataset.frames.items() if f is not None}


def _row_hashes(frame, columns) -> np.ndarray:
    import pandas as pd

    if not columns:
        return np.zeros(len(frame), dtype=np.uint64)
    return pd.util.hash_pandas_object(frame[columns], index=False).to_numpy()


def _inputs_words(ds) -> str:
    """'20 model inputs after preprocessing', and the text column(s) the model reads as text."""
    texts = ds.text_columns
    words = f"{count_words(len(ds.feature_names), 'model input')} after preprocessing"
    if texts:
        words += f", and the text column {', '.join(repr(c) for c in texts)} read as text"
    return words


def _bars(title: str, labels, values, xlabel: str, bound: float | None = None) -> dict:
    """A ``bars`` chart (see ``types.CHART_KINDS``)."""
    return {
        "kind": "bars",
        "title": title,
        "labels": [str(label) for label in labels],
        "values": [float(v) for v in values],
        "xlabel": xlabel,
        "bound": bound,
    }


@dataclass(frozen=True)
class _Words:
    """What a per-column screen says on one split."""

    title: str
    summary: str
    recommendation: str
    chart_title: str


def _judged_share(ctx, split, measured, *, summary, breach, recommendation, **fields):
    """A share on ``split`` judged against its diagnostic bound.

    ``summary`` ends with the ``breach`` clause (and carries the ``recommendation``) only
    when the bound is broken.
    """
    status = ctx.diagnose(measured.value, measured.bound)
    broken = status != "pass"
    return ctx.finding(
        ctx.check.name,
        At(split=split),
        status=status,
        measured=measured,
        summary=summary + (breach if broken else "."),
        recommendation=recommendation if broken else "",
        **fields,
    )


def _column_findings(ctx: CheckContext, bound, rates_by_split, words, *, xlabel: str, details):
    """One finding per split of a per-column share (missing values, outliers).

    ``rates_by_split`` maps a split to (column -> share Series, rows); ``words(split,
    worst_column, worst, bad_columns)`` says it; the worst column is judged against
    ``bound`` and the chart shows the highest columns.
    """
    out = []
    for split, (rates, rows) in rates_by_split.items():
        worst_col, worst = str(rates.idxmax()), float(rates.max())
        bad = [c for c, r in rates.items() if not bound.holds(r)]
        said = words(split, worst_col, worst, bad)
        top = rates.sort_values(ascending=False).head(TOP_COLUMNS)
        out.append(
            ctx.finding(
                ctx.check.name,
                At(split=split),
                measured=Measurement(worst, n=rows, bound=bound),
                title=said.title,
                summary=said.summary,
                recommendation=said.recommendation if bad else "",
                details={"columns": {c: float(r) for c, r in rates.items()}, **details},
                chart=_bars(said.chart_title, top.index, top.values, xlabel, bound.value),
            )
        )
    return out


@register(
    "data_summary",
    "data",
    label="Rows and columns",
    description="Rows and columns of every split.",
)
def data_summary(ctx: CheckContext) -> list[Finding]:
    """Rows and columns of every split and the number of model inputs.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One finding, ``data.summary``.
    """
    frames = _frames(ctx)
    sizes = {s: int(len(f)) for s, f in frames.items()}
    ds = ctx.dataset
    total = sum(sizes.values())
    parts = ", ".join(f"{n:,} {s}" for s, n in sizes.items())
    return [
        ctx.finding(
            "summary",
            status="pass",
            title="Rows and columns",
            summary=f"The audit uses {count_words(total, 'row')} ({parts}) with "
            f"{count_words(len(ds.feature_columns), 'feature column')} "
            f"({_inputs_words(ds)}).",
            value=float(total),
            n=total,
            details={
                "rows": sizes,
                "columns": {s: int(f.shape[1]) for s, f in frames.items()},
                "feature_columns": len(ds.feature_columns),
                "model_inputs": len(ds.feature_names),
                "column_types": dict(ds.column_types),
            },
            chart=_bars(
                f"{count_words(total, 'row')} across {count_words(len(sizes), 'split')}",
                sizes,
                sizes.values(),
                "rows",
            ),
        )
    ]


@register(
    "missing_rate",
    "data",
    label="Highest missing-value rate",
    description="Share of missing values per column.",
    bounded=True,
    value_range=SHARE,
)
def missing_rate(ctx: CheckContext) -> list[Finding]:
    """Missing values per column, on every split.

    The worst column's share of missing values on every split, against
    ``diagnostics.max_missing_rate``. Infinite values count as missing (the data stage
    replaced them, ``preprocessing_info["infinite_values"]``); the summary says how many.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One per split: ``data.missing_rate.<split>``.
    """
    bound = ctx.diagnostic("max_missing_rate")
    cols = list(ctx.dataset.feature_columns)
    infinite = (ctx.dataset.preprocessing_info or {}).get("infinite_values") or {}
    rates = {
        split: (frame[cols].isna().mean(), int(len(frame)))
        for split, frame in _frames(ctx).items()
        if cols and len(frame)
    }

    def words(split, worst_col, worst, bad) -> _Words:
        summary = (
            f"Column '{worst_col}' is missing in {pct(worst)} of the rows of {ctx.phrase(split)}"
            + (
                f"; {count_words(len(bad), 'column exceeds', 'columns exceed')} {pct(bound.value)}."
                if bad
                else f", the most of any column (acceptable up to {pct(bound.value)})."
            )
        )
        if worst == 0:
            summary = f"No values are missing in {ctx.phrase(split)}."
        chart_title = summary.split(";")[0]
        count = sum(int(n) for n in (infinite.get(split) or {}).values())
        if count:
            summary += infinite_note(count)
        recommendation = advice(
            ctx,
            f"Find out why {', '.join(bad[:3])} are so often missing; impute deliberately or "
            "drop the column.",
            vendor=f"Find out why {', '.join(bad[:3])} are so often missing in the client's "
            f"data, and {ctx.addressee.ask} how the model handles missing values there.",
        )
        return _Words(f"Missing values in {split}", summary, recommendation, chart_title)

    return _column_findings(ctx, bound, rates, words, xlabel="share missing", details={})


def _outlier_factor(ctx: CheckContext) -> float:
    prep = ctx.spec.data.preprocessing
    if prep.outlier_factor is None or prep.outliers == "clip_zscore":
        return TUKEY_FACTOR
    return float(prep.outlier_factor)


def _unscreened_note(unscreened: dict) -> str:
    """The clause naming the numeric columns left out of the outlier screen (or a full stop)."""
    return (
        f"; not screened, being count-like or piled up on one value: "
        f"{', '.join(list(unscreened)[:3])}{', ...' if len(unscreened) > 3 else ''}."
        if unscreened
        else "."
    )


def _outlier_rates(frames: dict, numeric: list[str], lo, hi) -> dict:
    """{split: (share of values beyond the fences per column, rows)}."""
    import pandas as pd

    rates = {}
    for split, frame in frames.items():
        x = frame[numeric].apply(pd.to_numeric, errors="coerce")
        rates[split] = (((x < lo) | (x > hi)).mean(), int(len(frame)))
    return rates


def _outlier_words(
    ctx: CheckContext, factor: float, bound: Bound, skipped_note: str, fences_of: str = "training"
):
    """The ``words(split, worst_col, worst, bad)`` of the outlier screen."""

    def words(split, worst_col, worst, bad) -> _Words:
        summary = (
            f"{pct(worst, digits=1)} of the values of '{worst_col}' in {ctx.phrase(split)} lie "
            f"outside the skew-adjusted {factor:g} IQR fences of the {fences_of} quartiles"
            + (
                f"; {count_words(len(bad), 'column exceeds', 'columns exceed')} {pct(bound.value)}"
                if bad
                else ""
            )
            + skipped_note
        )
        recommendation = advice(
            ctx,
            f"Check {', '.join(bad[:3])} for unit errors or data-entry mistakes; consider "
            "data.preprocessing.outliers: clip_iqr.",
            vendor=f"Check {', '.join(bad[:3])} for unit errors or data-entry mistakes, and "
            f"{ctx.addressee.ask} how the model treats values this far out.",
        )
        chart_title = summary.split(";")[0].split(" (")[0]
        return _Words(f"Outliers in {split}", summary, recommendation, chart_title)

    return words


@register(
    "outliers",
    "data",
    label="Highest outlier rate",
    description="Values outside the (skew-adjusted) IQR fences, per continuous numeric column.",
    bounded=True,
    value_range=SHARE,
)
def outliers(ctx: CheckContext) -> list[Finding]:
    """Outlying values per split, in the continuous numeric columns.

    The worst continuous numeric column's share of values beyond the skew-adjusted IQR
    fences of the training rows, on every split, against ``diagnostics.max_outlier_rate``.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One per split (``data.outliers.<split>``), or one skipped finding when no column is
        continuous enough to screen.
    """
    import pandas as pd

    bound = ctx.diagnostic("max_outlier_rate")
    factor = _outlier_factor(ctx)
    numeric = [
        c for c in ctx.dataset.feature_columns if ctx.dataset.column_types.get(c) == "numeric"
    ]
    frames = _frames(ctx)
    fences_from = "train" if "train" in frames else "reference"  # development rows
    if not numeric or fences_from not in frames:
        why = (
            "there are no numeric feature columns to screen"
            if not numeric
            else "there are no development rows (training split or data.reference) to set "
            "the fences on"
        )
        return ctx.skipped("Outliers", f"{why[0].upper()}{why[1:]}.")
    from auditor.data.build import fit_sample

    development = frames[fences_from]
    train = fit_sample(development)[numeric].apply(pd.to_numeric, errors="coerce")
    unscreened = {c: why for c in numeric if (why := screenable(train[c].to_numpy())) is not None}
    not_screened = {
        c: NOT_SCREENED[why].format(k=DISCRETE_MAX_VALUES) for c, why in unscreened.items()
    }
    numeric = [c for c in numeric if c not in unscreened]
    if not numeric:
        return ctx.skipped(
            "Outliers",
            "No numeric column is continuous enough for an outlier screen: "
            + "; ".join(f"'{c}' is {why}" for c, why in list(not_screened.items())[:4])
            + ".",
            details={"not_screened": not_screened},
        )
    lo, hi = skew_adjusted_fences(train[numeric], factor)
    rates = _outlier_rates(frames, numeric, lo, hi)
    fences_of = "training" if fences_from == "train" else "development data's"
    if len(train) < len(development):
        fences_of += f" (a seeded sample of {len(train):,} of {len(development):,} rows)"
    words = _outlier_words(ctx, factor, bound, _unscreened_note(unscreened), fences_of)
    details = {
        "factor": float(factor),
        "fences": {c: [float(lo[c]), float(hi[c])] for c in numeric},
        "not_screened": not_screened,
        "fence_rows": int(len(train)),
    }
    return _column_findings(
        ctx, bound, rates, words, xlabel="share of values beyond the fence", details=details
    )


@register(
    "duplicate_rate",
    "data",
    label="Duplicate-row rate",
    description="Duplicated rows within a split.",
    bounded=True,
    value_range=SHARE,
)
def duplicate_rate(ctx: CheckContext) -> list[Finding]:
    """Rows that repeat another row exactly, per split.

    The share of rows that repeat another row exactly (features and target), per split,
    against ``diagnostics.max_duplicate_rate``.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One per split: ``data.duplicate_rate.<split>``.
    """
    bound = ctx.diagnostic("max_duplicate_rate")
    features = list(ctx.dataset.feature_columns)
    out = []
    for split, frame in _frames(ctx).items():
        present = [c for c in [*features, ctx.dataset.target] if c in frame.columns]
        if len(frame) == 0 or not present:
            continue
        counted = duplicate_counts(frame, features, ctx.dataset.target, ctx.spec.data.id_column)
        out.append(_duplicate_finding(ctx, split, counted, bound, int(len(frame))))
    return out


def _mix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One 64-bit hash per row from two (order matters), as pandas combines column hashes."""
    with np.errstate(over="ignore"):
        return (a * np.uint64(0x9E3779B97F4A7C15)) ^ (b + np.uint64(0x632BE59BD9B4E019))


def _repeats(hashes: np.ndarray) -> int:
    """Rows that repeat an earlier row with the same hash."""
    _, counts = np.unique(hashes, return_counts=True)
    return int((counts - 1).sum())


def duplicate_counts(frame, features: list[str], target: str, id_column: str | None) -> dict:
    """How a split's rows repeat each other.

    ``duplicates``: rows that repeat another row exactly (features and target);
    ``copies``: those that also repeat its id (the same record twice; None without an id
    column); ``identical_cases``: duplicates with a different id (different cases that
    happen to have identical features and outcome, common in real data); ``conflicting``:
    rows whose features equal another row's but whose outcome differs, in
    ``conflicting_groups`` sets of identical features.
    """
    feats = [c for c in features if c in frame.columns]
    has_target = target in frame.columns
    # the wide frame is hashed once; the target's and the id's hashes are mixed in
    features_hash = _row_hashes(frame, feats)
    target_hash = _row_hashes(frame, [target]) if has_target else None
    both = features_hash if target_hash is None else _mix(features_hash, target_hash)
    duplicates = _repeats(both)
    has_id = bool(id_column) and id_column in frame.columns
    copies = _repeats(_mix(_row_hashes(frame, [id_column]), both)) if has_id else None
    conflicting = groups = 0
    if feats and has_target:
        import pandas as pd

        keys = pd.Series(features_hash)
        labels = keys.groupby(keys.values).transform("size")  # rows per feature set
        outcomes = pd.Series(target_hash).groupby(keys.values).nunique()
        mixed = outcomes[outcomes > 1].index
        in_mixed = keys.isin(mixed) & (labels > 1)
        conflicting, groups = int(in_mixed.sum()), int(len(mixed))
    return {
        "duplicates": duplicates,
        "copies": copies,
        "identical_cases": None if copies is None else duplicates - copies,
        "conflicting": conflicting,
        "conflicting_groups": groups,
    }


def duplicate_words(counted: dict, rows: int, where: str) -> str:
    """The sentences of the duplicate check: copies, identical cases, conflicting labels."""
    dup, copies, same = counted["duplicates"], counted["copies"], counted["identical_cases"]
    if copies is None:
        text = (
            f"{count_words(dup, 'row')} of {where} ({pct(dup / max(rows, 1), digits=1)}) "
            f"{form(dup, 'repeats', 'repeat')} another row exactly (features and target); "
            "without data.id_column a copy of a record cannot be told apart from a different "
            "case with identical features"
        )
    else:
        text = (
            f"{count_words(copies, 'row')} of {where} ({pct(copies / max(rows, 1), digits=1)}) "
            f"{form(copies, 'is a copy', 'are copies')} of another row (same id, features and "
            f"target); {count_words(same, 'other row')} {form(same, 'has', 'have')} the "
            "features and outcome of another row under a different id: different cases "
            "that look alike, common in real data and not a defect"
        )
    conflicting, groups = counted["conflicting"], counted["conflicting_groups"]
    if conflicting:
        text += (
            f". {count_words(conflicting, 'row')} in {count_words(groups, 'set')} of identical "
            f"features {form(conflicting, 'has', 'have')} different outcomes (conflicting "
            "labels): no model can be right on all of them"
        )
    else:
        text += ". No rows with identical features have different outcomes"
    return text


def _duplicate_finding(ctx: CheckContext, split: str, counted: dict, bound, rows: int):
    """The duplicate finding of one split: the copies (or, without ids, every duplicate)."""
    judged = counted["duplicates"] if counted["copies"] is None else counted["copies"]
    rate = judged / max(rows, 1)
    vendor = ctx.spec.model.vendor is not None
    return _judged_share(
        ctx,
        split,
        Measurement(rate, n=rows, bound=bound),
        title=f"Duplicated rows in {split}",
        summary=duplicate_words(counted, rows, ctx.phrase(split)),
        breach=f". The {'duplicates' if counted['copies'] is None else 'copies'} are more "
        f"than the {pct(bound.value, digits=1)} accepted.",
        recommendation=(
            "Remove the copied records from the client's data (or find out why the source "
            f"repeats them) before judging {ctx.addressee.model} on it."
            if vendor
            else "Remove copied records, or find out why the source repeats them."
        ),
        details=dict(counted),
    )


@register(
    "train_test_overlap",
    "data",
    label="Share of rows shared with training",
    description="Rows of an evaluation split that also appear in the training split (leakage).",
    bounded=True,
    value_range=SHARE,
)
def train_test_overlap(ctx: CheckContext) -> list[Finding]:
    """Evaluation rows that also appear in the training split (leakage).

    The share of an evaluation split's rows whose features equal a training row's
    (leakage), against ``diagnostics.max_duplicate_rate``.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One per evaluation split: ``data.train_test_overlap.<split>``.
    """
    frames = _frames(ctx)
    cols = list(ctx.dataset.feature_columns)
    if "train" not in frames or not cols:
        return ctx.skipped(
            "Overlap between splits",
            "Overlap was not checked: no training rows or feature columns.",
        )
    bound = ctx.diagnostic("max_duplicate_rate")
    train = np.unique(_row_hashes(frames["train"], cols))
    out = []
    for split in [s for s in frames if ctx.role(s) in EVALUATED_ROLES]:
        if len(frames[split]) == 0:
            continue
        h = _row_hashes(frames[split], cols)
        shared = int(np.isin(h, train, assume_unique=False).sum())
        rate = shared / len(h)
        out.append(
            _judged_share(
                ctx,
                split,
                Measurement(rate, n=len(h), bound=bound),
                title=f"Rows shared by train and {split}",
                summary=f"{shared:,} rows of {ctx.phrase(split)} ({pct(rate, digits=1)}) have "
                "exactly the same features as a training row",
                breach="; scores on this split are then inflated.",
                recommendation="Deduplicate before splitting, or split by entity "
                "(data.split.strategy: group) so the same record cannot be in both.",
                details={"shared_rows": shared},
            )
        )
    return out


@register(
    "class_balance",
    "data",
    label="Share of the rarest class",
    description="Share of each class.",
    bounded=True,
    tasks=CLASSIFICATION,
    value_range=SHARE,
)
def class_balance(ctx: CheckContext) -> list[Finding]:
    """The rarest class's share of every split, against ``diagnostics.min_class_share``.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One per split (``data.class_balance.<split>``); skipped for regression.
    """
    if ctx.task == "regression":
        return ctx.skipped("Class balance", "Class balance does not apply to a regression target.")
    bound = ctx.diagnostic("min_class_share")
    labels = [str(c) for c in ctx.dataset.classes]
    out = []
    for split, y in ctx.dataset.y.items():
        if len(y) == 0:
            continue
        shares = np.bincount(np.asarray(y).astype(int), minlength=len(labels)) / len(y)
        i = int(np.argmin(shares))
        rarest = f"'{labels[i]}', makes up {pct(shares[i], digits=1)} of {ctx.phrase(split)}"
        out.append(
            _judged_share(
                ctx,
                split,
                Measurement(float(shares[i]), n=int(len(y)), bound=bound),
                title=f"Class balance in {split}",
                summary=f"The rarest class, {rarest}",
                breach=f", below the {pct(bound.value)} needed to learn it reliably.",
                recommendation=advice(
                    ctx,
                    "Collect more examples of the rare class, or use "
                    "data.preprocessing.imbalance: class_weights.",
                    vendor="Judge the model in metrics fair to the rare class (balanced "
                    f"accuracy, recall), and {ctx.addressee.ask} how the model was trained "
                    "and validated for a class this rare.",
                ),
                details={"shares": dict(zip(labels, shares.tolist(), strict=True))},
                chart=_bars(
                    f"Rarest class '{labels[i]}': {pct(shares[i], digits=1)}",
                    labels,
                    shares,
                    "share of rows",
                    bound.value,
                ),
            )
        )
    return out


def _group_rows(labels, sizes, base, n: int, minimum: int) -> list[dict]:
    return [
        {
            "group": labels[j],
            "n": int(sizes[j]),
            "share": float(sizes[j] / max(n, 1)),
            "base_rate": float(base[j]),
            "inconclusive": bool(sizes[j] < minimum),
            "needed": int(max(minimum - sizes[j], 0)),
        }
        for j in range(len(labels))
    ]


def _partition_sizes(groups, columns, target) -> tuple[list, np.ndarray, np.ndarray]:
    """(labels, sizes, base rates) of the groups of one partition."""
    codes, labels = partition_codes(groups, columns)
    sizes = np.bincount(codes, minlength=len(labels))
    base = np.bincount(codes, weights=target, minlength=len(labels)) / np.maximum(sizes, 1)
    return labels, sizes, base


def _group_size_words(
    ctx: CheckContext, sens: str, split: str, labels, sizes, m: int
) -> tuple[str, str]:
    """(summary, recommendation) of one partition's group sizes on one split."""
    i = int(np.argmin(sizes))
    small = [labels[j] for j in range(len(labels)) if sizes[j] < m]
    summary = (
        f"The smallest group across {sens} in {ctx.phrase(split)} is {labels[i]} with "
        f"{count_words(int(sizes[i]), 'row')}"
        + (
            ". " + small_groups_text(labels, sizes, np.maximum(m - sizes, 0), m)
            if small
            else f"; every group has at least {count_words(m, 'row')}."
        )
    )
    recommendation = (
        collect_rows_step(labels, np.maximum(m - np.asarray(sizes), 0), m, sens) if small else ""
    )
    return summary, recommendation


@register(
    "group_size",
    "data",
    label="Smallest group size",
    description="Each sensitive group's (and intersection's) size, share and base rate.",
    bounded=True,
    value_range=(0.0, None),
)
def group_size(ctx: CheckContext) -> list[Finding]:
    """The size, share and base rate of every sensitive group and intersection.

    Each sensitive group's (and intersection's) size, share and base rate; the smallest
    group against ``evaluation.min_group_size``.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One per split and partition: ``data.group_size.<split>.<sensitive>``.
    """
    if not ctx.dataset.sensitive:
        return ctx.skipped("Sensitive groups", "No sensitive features are named.")
    m = ctx.min_group_size
    bound = Bound(float(m), "at_least")
    positive = positive_class(ctx) if ctx.task != "regression" else None
    out = []
    for split in ctx.splits():
        e = ctx.evaluation.splits[split]
        y = np.asarray(e.y_true)
        target = (y == positive).astype(float) if positive is not None else y.astype(float)
        for sens, columns in ctx.partitions():
            labels, sizes, base = _partition_sizes(e.groups, columns, target)
            i = int(np.argmin(sizes))
            summary, rec = _group_size_words(ctx, sens, split, labels, sizes, m)
            out.append(
                ctx.finding(
                    "group_size",
                    At(split=split, sensitive=sens),
                    measured=Measurement(float(sizes[i]), n=int(len(y)), bound=bound),
                    title=f"Groups of {sens} in {split}",
                    summary=summary,
                    recommendation=rec,
                    details={
                        "groups": _group_rows(labels, sizes, base, len(y), m),
                        "base_rate_is": "positive rate" if positive is not None else "mean target",
                    },
                    chart=_bars(
                        f"Smallest group of {sens}: {labels[i]} "
                        f"({count_words(int(sizes[i]), 'row')})",
                        labels,
                        sizes,
                        "rows",
                        float(m),
                    ),
                )
            )
    return out
