"""Weak segments: slices of one or two features where the model does much worse than overall.

Beyond the declared sensitive features, every other raw feature column is cut into slices
(a numeric column into :data:`BINS` quantile bins plus its missing values; a categorical one
into its :data:`TOP_VALUES` most frequent values and the rest), and so is every pair of
columns (their slices crossed), up to :data:`MAX_SLICES` slices of at least
``evaluation.min_group_size`` rows. Each slice's error (the share of wrong decisions for a
classifier, the absolute error for regression) is compared with the rest of the rows by a
one-sided z-test, and the p-values of all the slices searched are controlled for the
false-discovery rate at :data:`FDR` with Benjamini-Hochberg
(:func:`auditor.metrics.drift.false_discovery`), so that searching hundreds of slices does
not report chance shortfalls. A discovered slice is reported when it is also material: at
least :data:`MIN_ACCURACY_GAP` of accuracy below the overall figure, or an MAE at least
:data:`MIN_MAE_RATIO` times the overall one. A pair slice is not listed when one of its
two single-feature slices already is.

The value a criterion bounds is the shortfall of the worst reported slice (overall accuracy
minus the slice's, or the slice's MAE minus the overall MAE; 0 when none is reported), with
its interval: the shortfall against the overall figure is exactly ``(1 - n_slice / n)``
times the shortfall against the rest of the rows, whose normal interval it scales.
Everything is counted with ``np.bincount`` over integer slice codes: no loop over rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from auditor.checks.registry import At, CheckContext, Measurement, register
from auditor.checks.text import advice, num
from auditor.metrics.drift import as_floats
from auditor.splits import CLIENT_ROLE_ORDER
from auditor.types import Finding

BINS = 5  # quantile bins of a numeric column
EDGE_ROWS = 100_000  # the bins' edges come from a seeded sample of at most this many values
TOP_VALUES = 8  # categories kept as slices of their own; the rest form one slice
MAX_SLICES = 1_000  # slices searched (single features first, then pairs in column order)
FDR = 0.05  # false-discovery rate over the slices searched (Benjamini-Hochberg)
MIN_ACCURACY_GAP = 0.05  # a reported slice is at least this much less accurate than overall
MIN_MAE_RATIO = 1.2  # ... or has an MAE at least this many times the overall MAE
SHOWN = 3  # slices named in the summary
CHART_ROWS = 8  # slices drawn


@dataclass
class Column:
    """One feature's rows as slice codes 0..k-1, with each slice's words."""

    name: str
    codes: np.ndarray  # (n,) int64
    words: list[str]  # "income below 32,000", "region is 'north'"


def _short(text: str, limit: int = 36) -> str:
    """A chart label of at most ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _edge(value: float) -> str:
    """A bin edge in words: 8 rather than 8.00 for a whole number."""
    return f"{value:,.0f}" if float(value).is_integer() else num(value)


def _numeric_column(name: str, values: np.ndarray) -> Column:
    x = as_floats(values)
    finite = np.isfinite(x)
    ok = x[finite]
    if ok.size > EDGE_ROWS:  # the slices' edges from a seeded sample: as good, far cheaper
        ok = ok[np.random.default_rng(0).integers(0, ok.size, EDGE_ROWS)]
    edges = np.unique(np.quantile(ok, np.linspace(0, 1, BINS + 1)[1:-1])) if ok.size else []
    edges = np.asarray(edges, dtype=np.float64)
    codes = np.searchsorted(edges, np.where(finite, x, 0.0), side="right").astype(np.int64)
    k = len(edges) + 1
    codes[~finite] = k
    if len(edges) == 0:
        words = [f"any {name}"]
    else:
        words = [f"{name} below {_edge(edges[0])}"]
        words += [
            f"{name} from {_edge(a)} to {_edge(b)}"
            for a, b in zip(edges[:-1], edges[1:], strict=True)
        ]
        words += [f"{name} {_edge(edges[-1])} or more"]
    return Column(name, codes, [*words, f"{name} missing"])


def _categorical_column(name: str, values) -> Column:
    import pandas as pd

    codes, uniques = pd.factorize(pd.Series(values).astype(object), use_na_sentinel=True)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    keep = np.argsort(-counts, kind="stable")[:TOP_VALUES]
    remap = np.full(len(uniques) + 1, len(keep), dtype=np.int64)  # the rest (and missing)
    remap[keep] = np.arange(len(keep))
    out = remap[np.where(codes >= 0, codes, len(uniques))]
    words = [f"{name} is '{uniques[i]}'" for i in keep]
    return Column(name, out, [*words, f"{name} another value or missing"])


def slice_columns(frame, columns: list[str], kinds: dict[str, str]) -> list[Column]:
    """Every column cut into slices (numeric: quantile bins; categorical: frequent values)."""
    import pandas as pd

    out = []
    for c in columns:
        if kinds.get(c) == "numeric":
            out.append(_numeric_column(c, pd.to_numeric(frame[c], errors="coerce").to_numpy()))
        else:
            out.append(_categorical_column(c, frame[c].to_numpy()))
    return out


@dataclass
class Slices:
    """Counts of the slices searched: rows, error sums, squared error sums, words, parents."""

    n: np.ndarray
    err: np.ndarray
    err2: np.ndarray
    words: list[str]
    parents: list[tuple[int, ...]]  # indices of the single-feature slices it crosses


def search(columns: list[Column], error: np.ndarray, *, min_rows: int) -> Slices:
    """Counts of single-feature slices, then pairs, of at least ``min_rows`` rows (capped)."""
    e, e2 = error, error * error
    n_l, s_l, q_l, words, parents = [], [], [], [], []
    single_index: dict[tuple[int, int], int] = {}
    single_count: dict[tuple[int, int], int] = {}
    for i, col in enumerate(columns):
        k = len(col.words)
        cnt = np.bincount(col.codes, minlength=k)
        se = np.bincount(col.codes, weights=e, minlength=k)
        sq = np.bincount(col.codes, weights=e2, minlength=k)
        for j in range(k):
            single_count[(i, j)] = int(cnt[j])
        for j in np.flatnonzero(cnt >= min_rows):
            single_index[(i, int(j))] = len(n_l)
            n_l.append(cnt[j]), s_l.append(se[j]), q_l.append(sq[j])
            words.append(col.words[j]), parents.append(())
    for a in range(len(columns)):
        for b in range(a + 1, len(columns)):
            if len(n_l) >= MAX_SLICES:
                break
            ca, cb = columns[a], columns[b]
            kb = len(cb.words)
            code = ca.codes * kb + cb.codes
            size = len(ca.words) * kb
            cnt = np.bincount(code, minlength=size)
            se = np.bincount(code, weights=e, minlength=size)
            sq = np.bincount(code, weights=e2, minlength=size)
            for j in np.flatnonzero(cnt >= min_rows)[: MAX_SLICES - len(n_l)]:
                ja, jb = divmod(int(j), kb)
                if cnt[j] in (single_count.get((a, ja)), single_count.get((b, jb))):
                    continue  # the same rows as one of its single-feature slices
                n_l.append(cnt[j]), s_l.append(se[j]), q_l.append(sq[j])
                words.append(f"{ca.words[ja]} and {cb.words[jb]}")
                parents.append(
                    tuple(
                        p
                        for p in (single_index.get((a, ja)), single_index.get((b, jb)))
                        if p is not None
                    )
                )
    return Slices(
        np.asarray(n_l, dtype=np.float64),
        np.asarray(s_l, dtype=np.float64),
        np.asarray(q_l, dtype=np.float64),
        words,
        parents,
    )


def shortfalls(s: Slices, total: int, err_sum: float, err2_sum: float, *, confidence: float):
    """Per slice: one-sided p-value, shortfall with its interval, error, slice half-width.

    The p-value is that the slice errs more than the rest of the rows; the shortfall is the
    slice's error minus the rest's, scaled to the overall figure.
    """
    from scipy.special import ndtr, ndtri

    n_r = total - s.n
    m_s = s.err / np.maximum(s.n, 1)
    m_r = (err_sum - s.err) / np.maximum(n_r, 1)
    v_s = np.maximum(s.err2 / np.maximum(s.n, 1) - m_s**2, 0.0)
    v_r = np.maximum((err2_sum - s.err2) / np.maximum(n_r, 1) - m_r**2, 0.0)
    se = np.sqrt(v_s / np.maximum(s.n, 1) + v_r / np.maximum(n_r, 1))
    diff = m_s - m_r
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, diff / se, np.where(diff > 0, np.inf, 0.0))
    p = 1.0 - ndtr(z)
    scale = n_r / total
    half = float(ndtri(0.5 + confidence / 2.0)) * se
    slice_half = float(ndtri(0.5 + confidence / 2.0)) * np.sqrt(v_s / np.maximum(s.n, 1))
    return p, diff * scale, (diff - half) * scale, (diff + half) * scale, m_s, slice_half


@register(
    "weak_segments",
    "performance",
    label="Shortfall of the weakest segment",
    description="Slices of one or two non-sensitive features where the model does much worse "
    "than overall (accuracy, or MAE for regression), searched with false-discovery control; "
    "the value is the worst reported slice's shortfall (0: none).",
    bounded=True,
    roles=CLIENT_ROLE_ORDER,
)
def weak_segments(ctx: CheckContext) -> list[Finding]:
    """The weakest slices of the client's splits, in plain words."""
    out = []
    for split in ctx.client_splits():
        out.append(_split_finding(ctx, split))
    if not out:
        return ctx.skipped(
            "No weak-segment search", "There is no test, holdout or audit split to search."
        )
    return out


def _split_finding(ctx: CheckContext, split: str) -> Finding:
    e = ctx.evaluation.splits[split]
    regression = ctx.task == "regression"
    y_true, y_pred = np.asarray(e.y_true), np.asarray(e.y_pred)
    error = (
        np.abs(y_pred - y_true).astype(np.float64)
        if regression
        else (y_pred != y_true).astype(np.float64)
    )
    ds = ctx.dataset
    skip = set(ds.sensitive) | {ds.id_column}
    # free text is not sliced: every review would be a slice of its own
    columns = [c for c in ds.tabular_columns if c not in skip]
    frame = ds.frames[split].reset_index(drop=True)
    total = len(error)
    cols = slice_columns(frame, columns, ds.column_types)
    s = search(cols, error, min_rows=max(ctx.min_group_size, 1))
    err_sum, err2_sum = float(error.sum()), float((error * error).sum())
    overall_err = err_sum / max(total, 1)
    metric = "mae" if regression else "accuracy"
    label = "MAE" if regression else "accuracy"
    to_metric = (lambda m: m) if regression else (lambda m: 1.0 - m)
    overall = to_metric(overall_err)
    texts = ds.text_columns
    if not columns and texts:
        return ctx.finding(
            ctx.check.name,
            At(None, split),
            measured=Measurement(0.0, None, total),
            title=f"Weak segments on {split}",
            summary=f"No slice of {ctx.phrase(split)} was searched: the only feature, "
            f"'{texts[0]}', is free text, which is not cut into slices.",
            details={"searched": 0, "text_columns": texts},
        )
    if len(s.n) == 0:
        return ctx.finding(
            ctx.check.name,
            At(None, split),
            measured=Measurement(0.0, None, total),
            title=f"Weak segments on {split}",
            summary=f"No slice of {ctx.phrase(split)} has {ctx.min_group_size} rows or more "
            "to search.",
            details={"searched": 0},
        )
    from auditor.metrics.drift import false_discovery

    p, gap, low, high, m_s, slice_half = shortfalls(
        s, total, err_sum, err2_sum, confidence=ctx.confidence
    )
    q = false_discovery(p)
    material = (
        (m_s >= overall_err * MIN_MAE_RATIO)
        if regression
        else (m_s - overall_err >= MIN_ACCURACY_GAP)
    )
    found = np.flatnonzero((q <= FDR) & material)
    found = found[np.argsort(-gap[found], kind="stable")]
    listed: list[int] = []
    discovered = {int(i): float(gap[i]) for i in found}
    for i in found:  # a pair is listed when clearly worse than a discovered parent slice
        parents = [discovered[pp] for pp in s.parents[i] if pp in discovered]
        if not parents or low[i] > max(parents):
            listed.append(int(i))
    rows = []
    shown = listed[:CHART_ROWS] or list(np.argsort(p, kind="stable")[:CHART_ROWS])
    for i in shown:
        v = to_metric(m_s[i])
        lo, hi = sorted((to_metric(m_s[i] - slice_half[i]), to_metric(m_s[i] + slice_half[i])))
        if not regression:
            lo, hi = max(lo, 0.0), min(hi, 1.0)
        rows.append(
            {
                "segment": s.words[i],
                "rows": int(s.n[i]),
                label: float(v),
                "low": float(lo),
                "high": float(hi),
                "shortfall": float(gap[i]),
                "shortfall_low": float(low[i]),
                "shortfall_high": float(high[i]),
                "p_value": float(p[i]),
                "q_value": float(q[i]),
                "reported": int(i) in listed,
            }
        )
    level = f"{100 * ctx.confidence:g}%"

    def words(r):
        return (
            f"rows with {r['segment']} ({r['rows']:,} rows): {label} {num(r[label])} "
            f"({level} CI {num(r['low'])} to {num(r['high'])}) against {num(overall)} overall"
        )

    if listed:
        worst = rows[0]
        value, ci = worst["shortfall"], (worst["shortfall_low"], worst["shortfall_high"])
        more = f"; {len(listed) - SHOWN} more" if len(listed) > SHOWN else ""
        summary = (
            f"The model does much worse on {len(listed)} of {len(s.n):,} slices searched "
            f"on {ctx.phrase(split)}: " + "; ".join(words(r) for r in rows[:SHOWN]) + more + "."
        )
        status = "warn"
        title = f"Weak segment: {worst['segment']}"
    else:
        value, ci = 0.0, None
        summary = (
            f"No slice of {ctx.phrase(split)} does much worse than overall ({label} "
            f"{num(overall)}): {len(s.n):,} slices of one or two features searched, "
            f"false discoveries controlled at {FDR:g}."
        )
        status = "pass"
        title = f"No weak segment on {split}"
    chart_rows = [{"label": "overall", "value": float(overall), "low": None, "high": None}]
    chart_rows += [
        {
            "label": f"{_short(r['segment'])} ({r['rows']:,})",
            "value": r[label],
            "low": r["low"],
            "high": r["high"],
        }
        for r in rows
    ]
    return ctx.finding(
        ctx.check.name,
        At(None, split),
        measured=Measurement(float(value), ci, total),
        status=status,
        title=title,
        summary=summary,
        recommendation=(
            advice(
                ctx,
                "Look at the rows of the weak slices: collect more of them, or check whether "
                "a feature the model lacks explains them.",
                vendor=f"{ctx.addressee.opening} whether the model saw cases like the weak "
                "slices in its training data, and how it performs on them in its own tests.",
            )
            if listed
            else ""
        ),
        details={
            "metric": metric,
            "overall": float(overall),
            "searched": int(len(s.n)),
            "reported": len(listed),
            "fdr": FDR,
            "min_rows": max(ctx.min_group_size, 1),
            "segments": rows,
        },
        chart={
            "kind": "metric_intervals",
            "title": (
                f"{label.capitalize()} is lowest for rows with {rows[0]['segment']}"
                if listed
                else f"No slice does much worse than {num(overall)} overall"
            )
            if not regression
            else (
                f"MAE is highest for rows with {rows[0]['segment']}"
                if listed
                else f"No slice does much worse than MAE {num(overall)} overall"
            ),
            "metric": label,
            "bound": None,
            "rows": chart_rows,
        },
    )
