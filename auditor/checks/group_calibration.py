"""Calibration within groups (predictive parity): a score should mean the same in every group.

For each sensitive feature and intersection, on the splits fairness is measured on, each
group's rows are put in equal-count bins of the positive-class score (by rank within the
group: :data:`MAX_BINS` bins, fewer so that each holds at least :data:`MIN_BIN_ROWS` rows,
one bin for a group of fewer than ``2 * MIN_BIN_ROWS`` rows), and the observed outcome rate
of each bin is compared with its mean score. A group's expected calibration error (ECE) is
the row-weighted mean of ``|observed - mean score|`` over its bins; the headline is the
worst ECE among the groups large enough to judge (``evaluation.min_group_size``): a smaller
group is listed as too small to judge and never sets it.

Intervals: the bins are fixed by the observed ranks and the rows resampled (Poisson
bootstrap weights, :func:`auditor.metrics.bootstrap.resample_apply`, drawn once per split
for every partition): each resample's per-bin sums are one sparse product of the (B, n)
weights with the rows' (1, outcome, score) columns. ECE is a sum of absolute values, so its
plug-in value and its replicates are biased upward: noise alone makes it > 0. How much is
the group's *noise floor*, the ECE a perfectly calibrated model would show on these bins,
``sqrt(2 / pi) * sum_b sqrt(sum_{i in b} s_i (1 - s_i)) / n`` (each bin's gap is then a mean
of independent ``y_i - s_i`` of variance ``s_i (1 - s_i)``). The bootstrap's own bias is
smaller than that, so the hull of the percentile and the basic interval
(:func:`auditor.metrics.hull_interval`, which the fairness figures use) can still sit above
0 for a calibrated group; its lower end is therefore lowered by the noise floor (clipped at
0). That interval covers 0 for calibrated groups and a planted +0.15 shift
(tests/checks/test_group_calibration.py), at the price of a lower end one noise floor too
low when the group is clearly miscalibrated.

The trade-off: when base rates differ, equal error rates across groups and calibration
within groups cannot both hold (Kleinberg, Mullainathan & Raghavan 2016; Chouldechova
2017). The finding says so whenever the spec declares both kinds of criterion, or both are
broken here, and which one the spec holds the model to (its blocking criteria).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from auditor.checks.fairness import MSG_NAME_SENSITIVE, fairness_splits
from auditor.checks.groups import (
    collect_rows_step,
    partition_codes,
    positive_class,
    small_groups_text,
)
from auditor.checks.registry import At, CheckContext, Measurement, register
from auditor.checks.text import advice, ci_text, finite, num, pct
from auditor.criteria import same_features
from auditor.judge import Bound, judge
from auditor.metrics.bootstrap import hull_interval, percentile_interval, resample_apply
from auditor.metrics.fairness import FAIRNESS_METRICS, aggregate, group_rates, row_columns
from auditor.types import CLASSIFICATION, Finding

NAME = "group_calibration"
MAX_BINS = 10  # score bins per group at most
MIN_BIN_ROWS = 100  # rows a bin holds at least (fewer bins for smaller groups)
SEED_PURPOSE = 89  # ctx.seed(split, SEED_PURPOSE): not used by any other check
ERROR_RATES = frozenset({"tpr", "fpr", "fnr"})  # rates of the error-rate parity metrics
ERROR_RATE_GAP = "equalized_odds_difference"  # the error-rate gap judged for "both broken"
DIAGNOSTIC = "max_group_calibration_error"

BINNING = (
    "up to {max_bins} equal-count bins of each group's scores (by rank), each of at least "
    "{min_rows} rows"
)
MSG_REGRESSION = "Calibration within groups does not apply to a regression target."
MSG_NO_SCORES = (
    "Calibration within groups was not measured: the model gives decisions only, no scores."
)
MSG_NO_SENSITIVE = (
    "Calibration within groups was not measured: the spec names no sensitive features "
    "(data.sensitive)."
)
MSG_ASK_SCORES = "Ask for the model's scores (probabilities) to judge calibration by group."
MSG_SHARED = (
    "Every group of {sens} is off by about as much (the worst minus the best: {gap}{ci}): "
    "the scores are miscalibrated for everyone, not unequal between the groups."
)
TRADEOFF = (
    "Here {outcome} is more common for {high} than for {low} (base rate {high_rate} vs "
    "{low_rate}): a model cannot have both equal error rates and equally calibrated scores "
    "for {which_groups}; {held}."
)
HELD = {
    "error_rates": "this spec holds it to equal error rates",
    "calibration": "this spec holds it to equally calibrated scores",
    "both": "this spec holds it to both, so one must give way to the other",
    "neither": "this spec holds it to neither (no blocking criterion on either)",
}


def bin_count(rows: int) -> int:
    """Score bins for a group of ``rows`` rows (1 to :data:`MAX_BINS`)."""
    return int(max(1, min(MAX_BINS, rows // MIN_BIN_ROWS)))


def rank_bins(scores: np.ndarray, codes: np.ndarray, n_groups: int):
    """(bin of each row within its group, bins per group): equal-count bins by rank.

    Rows are ranked by score within their group (ties in row order, so the bins hold
    equal counts whatever the ties); a group of ``m`` rows in ``k`` bins puts rank ``r``
    in bin ``r * k // m``.
    """
    sizes = np.bincount(codes, minlength=n_groups)
    k = np.array([bin_count(int(s)) for s in sizes], dtype=np.int64)
    order = np.lexsort((scores, codes))  # by group, then score
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    g = codes[order]
    rank = np.arange(len(codes)) - start[g]
    bins = np.empty(len(codes), dtype=np.int64)
    bins[order] = rank * k[g] // np.maximum(sizes[g], 1)
    return bins, k


@dataclass
class _Partition:
    """One partition's bins: each row's cell (group x bin) and where each group's cells start."""

    sens: str
    labels: list[str]
    codes: np.ndarray  # group per row
    cells: np.ndarray  # cell per row
    offsets: np.ndarray  # (G + 1,) first cell of each group
    sizes: np.ndarray  # rows per group

    @property
    def n_cells(self) -> int:
        return int(self.offsets[-1])


def _partition(frame, sens: str, columns: list[str], scores: np.ndarray) -> _Partition:
    codes, labels = partition_codes(frame, columns)
    bins, k = rank_bins(scores, codes, len(labels))
    offsets = np.concatenate([[0], np.cumsum(k)])
    return _Partition(
        sens, labels, codes, offsets[codes] + bins, offsets, np.bincount(codes, minlength=len(k))
    )


def _cell_matrix(part: _Partition, cols: np.ndarray):
    """(n, 3 * cells) sparse matrix: row i holds its (1, outcome, score) in its cell's columns."""
    import scipy.sparse as sp

    n = len(cols)
    where = 3 * part.cells[:, None] + np.arange(3)
    return sp.csr_array(
        (cols.ravel(), (np.repeat(np.arange(n), 3), where.ravel())), shape=(n, 3 * part.n_cells)
    )


def _cell_draws(ctx: CheckContext, split: str, part: _Partition, cols: np.ndarray):
    """(B, 3 * cells) resampled (rows, outcomes, scores) per cell, from cell totals."""
    from auditor.metrics.cell_bootstrap import cell_replicates

    reps = cell_replicates(
        part.cells,
        cols,
        part.n_cells,
        resamples=ctx.resamples,
        seed=ctx.seed(split, SEED_PURPOSE),
        discrete=[0, 1],  # rows and outcomes; the scores get the deviation term
    )
    return reps.reshape(reps.shape[0], -1)


def _noise_floor(part: _Partition, scores: np.ndarray) -> np.ndarray:
    """Each group's ECE under perfect calibration, in expectation on its bins (G,)."""
    variance = np.bincount(part.cells, scores * (1.0 - scores), part.n_cells)
    spread = np.add.reduceat(np.sqrt(np.maximum(variance, 0.0)), part.offsets[:-1])
    return np.sqrt(2.0 / np.pi) * spread / np.maximum(part.sizes, 1)


def _interval(replicates, value, floor: float, confidence: float):
    """The hull interval of an ECE, its lower end lowered by the noise floor."""
    ci = hull_interval(replicates, value, confidence, lower=0.0, upper=1.0)
    if ci is None:
        return None
    return max(0.0, ci[0] - float(floor)), ci[1]


def _figures(part: _Partition, sums: np.ndarray) -> dict[str, np.ndarray]:
    """Per-group figures from per-cell sums (..., cells, 3): ECE, base rate, mean score."""
    rows, hits, scored = sums[..., 0], sums[..., 1], sums[..., 2]
    starts = part.offsets[:-1]
    n = np.add.reduceat(rows, starts, axis=-1)
    safe = np.where(n > 0, n, np.nan)
    gap = np.add.reduceat(np.abs(hits - scored), starts, axis=-1)
    return {
        "n": n,
        "ece": gap / safe,
        "base_rate": np.add.reduceat(hits, starts, axis=-1) / safe,
        "mean_score": np.add.reduceat(scored, starts, axis=-1) / safe,
    }


def _worst(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The largest value over the kept groups (last axis), NaN when none is kept."""
    masked = np.where(keep, values, np.nan)
    if not keep.any():
        return np.full(masked.shape[:-1], np.nan)
    return np.fmax.reduce(masked, axis=-1)


def _spread(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    masked = np.where(keep, values, np.nan)
    return np.fmax.reduce(masked, axis=-1) - np.fmin.reduce(masked, axis=-1)


def _shared(fig, rep_fig, worst: int, best: int, floor, bound: Bound, confidence: float):
    """Whether every judged group is off by about as much: (shared, gap, its interval).

    Shared when even the best calibrated group breaks the bound and the worst is not
    clearly worse than it: the gap (the worst group's ECE minus the best one's) has a
    percentile interval reaching 0, or, without resamples, lies within the two groups'
    noise floors. A miscalibration every group shares is the model's, not unequal
    treatment; a gap that is merely uncertain (small groups) is not called shared.
    """
    gap = float(fig["ece"][worst] - fig["ece"][best])
    ci = None
    if rep_fig is not None:
        ci = percentile_interval(rep_fig["ece"][:, worst] - rep_fig["ece"][:, best], confidence)
    alike = gap <= float(floor[worst] + floor[best]) if ci is None else ci[0] <= 0.0
    return bool(alike and not bound.holds(float(fig["ece"][best]))), gap, ci


# ------------------------------------------------------------------ the check
@register(
    NAME,
    "fairness",
    label="Worst group calibration error",
    description="Calibration within groups (predictive parity): each sensitive group's "
    "observed outcome rate per score bin and its expected calibration error with an "
    "interval; the worst group large enough to judge sets the figure.",
    bounded=True,
    tasks=CLASSIFICATION,
    value_range=(0.0, 1.0),
)
def group_calibration(ctx: CheckContext) -> list[Finding]:
    """Calibration of the positive-class score within each sensitive group.

    Parameters
    ----------
    ctx : CheckContext
        The run's spec, dataset and evaluation, bound to this check.

    Returns
    -------
    list of Finding
        One per split and partition: ``fairness.group_calibration.<split>.<sensitive>``;
        one skipped finding without scores or sensitive features.
    """
    if ctx.task == "regression":
        return ctx.skipped("Calibration by group", MSG_REGRESSION)
    if not ctx.dataset.sensitive:
        return ctx.skipped(
            "Calibration by group", MSG_NO_SENSITIVE, recommendation=MSG_NAME_SENSITIVE
        )
    if not ctx.has_scores:
        return ctx.skipped("Calibration by group", MSG_NO_SCORES, recommendation=MSG_ASK_SCORES)
    positive = positive_class(ctx)
    out: list[Finding] = []
    for split in fairness_splits(ctx):
        e = ctx.evaluation.splits[split]
        scores = np.asarray(e.scores, dtype=np.float64)
        if scores.ndim == 2:
            scores = scores[:, positive]
        hit = (np.asarray(e.y_true).astype(int) == positive).astype(np.float64)
        cols = np.column_stack([np.ones_like(hit), hit, scores])
        parts = [_partition(e.groups, sens, columns, scores) for sens, columns in ctx.partitions()]
        reps = None
        if ctx.resamples > 0 and ctx.cell_draws(len(hit)):
            reps = {p.sens: _cell_draws(ctx, split, p, cols) for p in parts}
        elif ctx.resamples > 0 and len(hit):
            matrices = {p.sens: _cell_matrix(p, cols.astype(np.float32)) for p in parts}
            reps = resample_apply(
                len(hit),
                lambda w, m=matrices: {
                    k: np.asarray(w @ s, dtype=np.float64) for k, s in m.items()
                },
                resamples=ctx.resamples,
                seed=ctx.seed(split, SEED_PURPOSE),
            )
        error_cols = row_columns(ctx.task, e.y_true, e.y_pred, positive)
        for part in parts:
            point = np.stack(
                [np.bincount(part.cells, cols[:, j], part.n_cells) for j in range(3)], 1
            )
            rep = None if reps is None else reps[part.sens].reshape(-1, part.n_cells, 3)
            out.append(_finding(ctx, split, part, point, rep, scores, hit, error_cols))
    return out


def _group_rows(ctx, part, fig, rep_fig, floor, small, needed) -> list[dict[str, Any]]:
    rows = []
    for i, label in enumerate(part.labels):
        ci = None
        if rep_fig is not None:
            ci = _interval(rep_fig["ece"][:, i], fig["ece"][i], floor[i], ctx.confidence)
        rows.append(
            {
                "group": label,
                "n": int(part.sizes[i]),
                "base_rate": finite(fig["base_rate"][i]),
                "mean_score": finite(fig["mean_score"][i]),
                "ece": finite(fig["ece"][i]),
                "ece_low": finite(ci[0]) if ci else None,
                "ece_high": finite(ci[1]) if ci else None,
                "noise_floor": finite(floor[i]),
                "bins": int(part.offsets[i + 1] - part.offsets[i]),
                "inconclusive": bool(small[i]),
                "needed": int(needed[i]),
            }
        )
    return rows


def _curves(part: _Partition, point: np.ndarray, small: np.ndarray, fig) -> list[dict[str, Any]]:
    """Each group's calibration curve: mean score and observed rate per bin, with counts."""
    curves = []
    for i, label in enumerate(part.labels):
        cells = point[part.offsets[i] : part.offsets[i + 1]]
        used = cells[:, 0] > 0
        curves.append(
            {
                "group": label,
                "n": int(part.sizes[i]),
                "predicted": (cells[used, 2] / cells[used, 0]).tolist(),
                "observed": (cells[used, 1] / cells[used, 0]).tolist(),
                "counts": cells[used, 0].astype(int).tolist(),
                "ece": finite(fig["ece"][i]),
                "inconclusive": bool(small[i]),
            }
        )
    return curves


def _applies(c, split: str, sens: str) -> bool:
    return c.split == split and (c.sensitive is None or same_features(c.sensitive, sens))


def _tradeoff(ctx, split, part, fig, rep_fig, keep, value, error_cols) -> dict[str, Any] | None:
    """The base-rate gap and whether the impossibility applies here (None: under 2 groups)."""
    if keep.sum() < 2:
        return None
    gap = finite(_spread(fig["base_rate"], keep))
    ci = None
    if rep_fig is not None:
        ci = hull_interval(_spread(rep_fig["base_rate"], keep), gap, ctx.confidence, lower=0.0)
    differ = gap is not None and (ci[0] > 0 if ci else gap > 0)
    error_criteria = [
        c
        for c in ctx.criteria
        if c.kind == "fairness"
        and ERROR_RATES & set(FAIRNESS_METRICS[c.metric].rates)
        and _applies(c, split, part.sens)
    ]
    calibration_criteria = [
        c for c in ctx.criteria if c.check == NAME and _applies(c, split, part.sens)
    ]
    # the error-rate gap over the judgeable groups (equalized odds: the TPR or FPR gap)
    sums = np.zeros((len(part.labels), error_cols.shape[1]))
    np.add.at(sums, part.codes, error_cols)
    error_gap = finite(
        aggregate(FAIRNESS_METRICS[ERROR_RATE_GAP], group_rates(ctx.task, sums), mask=keep)
    )
    error_broken = (
        error_gap is not None
        and ctx.diagnose(error_gap, ctx.diagnostic("max_fairness_difference")) == "warn"
    )
    if calibration_criteria:
        calibration_broken = value is not None and any(
            judge(value, None, c.bounds).status == "fail" for c in calibration_criteria
        )
    else:
        calibration_broken = value is not None and ctx.diagnose(value, _bound(ctx)) == "warn"
    declared = bool(error_criteria) and bool(calibration_criteria)
    broken = error_broken and calibration_broken
    held = {
        (True, True): "both",
        (True, False): "error_rates",
        (False, True): "calibration",
        (False, False): "neither",
    }[
        (
            any(c.blocking for c in error_criteria),
            any(c.blocking for c in calibration_criteria),
        )
    ]
    rates = np.where(keep, fig["base_rate"], np.nan)
    high, low = int(np.nanargmax(rates)), int(np.nanargmin(rates))
    return {
        "base_rate_gap": gap,
        "base_rate_gap_low": ci[0] if ci else None,
        "base_rate_gap_high": ci[1] if ci else None,
        "base_rates_differ": bool(differ),
        "highest_base_rate": part.labels[high],
        "lowest_base_rate": part.labels[low],
        "error_rate_gap": error_gap,
        "error_rate_criteria": len(error_criteria),
        "calibration_criteria": len(calibration_criteria),
        "both_declared": declared,
        "both_broken": bool(broken),
        "held_to": held,
        "stated": bool(differ and (declared or broken)),
        "_high": high,
        "_low": low,
    }


def _bound(ctx: CheckContext) -> Bound:
    return ctx.diagnostic(DIAGNOSTIC)


def _finding(ctx, split, part, point, rep, scores, hit, error_cols) -> Finding:
    sens = part.sens
    fig = _figures(part, point)
    rep_fig = None if rep is None else _figures(part, rep)
    small = part.sizes < ctx.min_group_size
    needed = np.maximum(ctx.min_group_size - part.sizes, 0)
    keep = ~small
    floor = _noise_floor(part, scores)
    value = finite(_worst(fig["ece"], keep))
    ci = replicates = None
    if rep_fig is not None and value is not None:
        replicates = _worst(rep_fig["ece"], keep)
        worst = int(np.nanargmax(np.where(keep, fig["ece"], np.nan)))
        ci = _interval(replicates, value, floor[worst], ctx.confidence)
    pos_label = str(ctx.evaluation.classes[positive_class(ctx)])
    outcome = f"{ctx.dataset.target} = {pos_label}"
    binning = BINNING.format(max_bins=MAX_BINS, min_rows=MIN_BIN_ROWS)
    where = f"across {sens} on {ctx.phrase(split)}"
    bound = _bound(ctx)
    ece = np.where(keep, fig["ece"], np.nan)
    worst = best = None
    if value is None:
        status = "inconclusive"
        summary = (
            f"No group of {sens} on {ctx.phrase(split)} has the {ctx.min_group_size} rows "
            "needed to judge its calibration."
        )
    else:
        worst, best = int(np.nanargmax(ece)), int(np.nanargmin(ece))
        status = ctx.diagnose(value, bound)
        level = f"{100 * ctx.confidence:g}%"
        interval = f", {level} CI {num(ci[0], digits=3)} to {num(ci[1], digits=3)}" if ci else ""
        interval += f"; noise alone gives about {num(floor[worst], digits=3)} on its bins"
        summary = (
            f"Scores for {part.labels[worst]} are off from the observed rate of {outcome} "
            f"by {num(value, digits=3)} on average (expected calibration error{interval})"
        )
        judged = int(keep.sum())
        if judged > 1:
            summary += (
                f", the worst of the {judged} groups of {sens.replace('&', ' and ')} large "
                f"enough to judge on {ctx.phrase(split)}; "
                f"the best calibrated, {part.labels[best]}, is off by "
                f"{num(fig['ece'][best], digits=3)}"
            )
        else:
            summary += f" {where}"
        summary += "."
    shared = gap = gap_ci = None
    if status == "warn" and worst is not None and int(keep.sum()) > 1:
        shared, gap, gap_ci = _shared(fig, rep_fig, worst, best, floor, bound, ctx.confidence)
        if shared:
            summary += " " + MSG_SHARED.format(
                sens=sens.replace("&", " and "),
                gap=num(gap, digits=3),
                ci=ci_text(gap_ci, ctx.confidence),
            )
    if small.any():
        summary += " " + small_groups_text(part.labels, part.sizes, needed, ctx.min_group_size)
    tradeoff = _tradeoff(ctx, split, part, fig, rep_fig, keep, value, error_cols)
    if tradeoff is not None and tradeoff["stated"]:
        summary += " " + TRADEOFF.format(
            outcome=outcome,
            high=part.labels[tradeoff["_high"]],
            low=part.labels[tradeoff["_low"]],
            high_rate=pct(fig["base_rate"][tradeoff["_high"]]),
            low_rate=pct(fig["base_rate"][tradeoff["_low"]]),
            which_groups="both groups" if keep.sum() == 2 else "every group",
            held=HELD[tradeoff["held_to"]],
        )
    if tradeoff is not None:
        tradeoff = {k: v for k, v in tradeoff.items() if not k.startswith("_")}
    summary += f" Binning: {binning}."
    recommendation = ""
    if status == "warn" and shared:
        recommendation = advice(
            ctx,
            f"The scores are off by about as much for every group on {ctx.phrase(split)}: "
            "recalibrate them for everyone (on held-out data) before reading them as "
            "probabilities; no group needs its own correction.",
            vendor=f"The scores are off by about as much for every group on {ctx.phrase(split)}: "
            f"{ctx.addressee.ask} how the scores were calibrated and on which data; until then, "
            "do not read them as probabilities for any group.",
        )
    elif status == "warn":
        recommendation = advice(
            ctx,
            f"Scores mean different things for different groups {where}: check whether "
            f"{part.labels[worst]} is under-represented or differently labelled in the "
            "training data, and recalibrate the scores (for example per group, on held-out "
            "data) before reading them as probabilities.",
            vendor=f"Scores mean different things for different groups {where}: "
            f"{ctx.addressee.ask} how the scores were calibrated and on which data, and whether "
            f"{part.labels[worst]} was represented in it; until then, do not read the scores "
            "as probabilities for that group.",
        )
    elif small.any():  # the step the group sizes and fairness checks give, said once
        recommendation = collect_rows_step(part.labels, needed, ctx.min_group_size, sens)
    title_value = num(value, digits=3)
    return ctx.finding(
        NAME,
        At(split=split, sensitive=sens),
        status=status,
        measured=Measurement(value, ci, len(hit), bound, replicates=replicates),
        title=f"Calibration by {sens} on {split}",
        summary=summary,
        recommendation=recommendation,
        details={
            "calibration_by_group": _group_rows(ctx, part, fig, rep_fig, floor, small, needed),
            "binning": binning,
            "worst_group": part.labels[worst] if worst is not None else None,
            "highest_group": part.labels[worst] if worst is not None else None,
            "lowest_group": part.labels[best] if best is not None else None,
            "min_group_size": ctx.min_group_size,
            "positive_class": pos_label,
            "tradeoff": tradeoff,
            # the worst group off by about as much as the best: the model's miscalibration,
            # not a difference between groups (the verdict's fairness step leaves it out)
            "shared_by_groups": shared,
            "gap_worst_best": gap,
            "gap_ci": list(gap_ci) if gap_ci is not None else None,
        },
        chart={
            "kind": "group_calibration",
            "title": f"Calibration by {sens} on {split}: worst group "
            + (f"{part.labels[worst]} off by {title_value}" if worst is not None else "n/a"),
            "groups": _curves(part, point, small, fig),
        },
    )
