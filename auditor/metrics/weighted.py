"""Metrics from weighted sums of per-row columns, for many weight vectors at once.

A split's rows are turned once into a matrix of per-row columns (one-hot truth, one-hot
prediction, true positives, per-row log loss, calibration-bin memberships, absolute errors,
...). For a weight matrix ``W`` of shape (B, n) - one row per bootstrap resample, or a single
row of ones for the point estimate - every sum a metric needs is ``W @ columns``: one matrix
product. Ranking metrics (ROC-AUC, average precision) use rows sorted once by score, so that
per-resample true/false positive counts at every threshold are cumulative sums of ``W``
along the sorted order; ties are grouped with ``np.add.reduceat``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ECE_BINS = 10  # equal-width probability bins of the expected calibration error
# Bootstrap resamples of ranking metrics use at most this many consecutive score groups
# (pairs inside one group count as ties). Point estimates are always exact, and each
# resample is shifted by (exact - grouped) of the point estimate; the grouping changes a
# resample's ROC-AUC by at most about 1 / (2 * RANK_GROUPS) before that correction.
RANK_GROUPS = 4096


@dataclass
class _Ranking:
    """One score column prepared for the ranking metrics (ROC-AUC, average precision).

    Exact path (point estimates): ``order`` sorts the rows by score; ``starts`` marks the
    groups of tied scores. Grouped path (bootstrap resamples): the rows sorted by score are
    cut into at most ``RANK_GROUPS`` consecutive score groups (never splitting ties), and
    inside each group the positives come first; ``seg_order`` puts the rows in that order
    (None when the Rows layout already is), so one ``np.add.reduceat`` over the weights
    gives the positive and negative weight of every group for every resample.
    """

    order: np.ndarray
    positive: np.ndarray  # (n,) 0/1 in ascending-score order
    starts: np.ndarray | None  # first row of each group of tied scores; None = no ties
    seg_order: np.ndarray | None
    seg_starts: np.ndarray  # first row of each non-empty (group, class) segment
    pos_segments: np.ndarray  # segments holding positives ...
    pos_groups: np.ndarray  # ... and their groups
    neg_segments: np.ndarray  # segments holding negatives ...
    neg_groups: np.ndarray  # ... and their groups
    n_groups: int
    grouped_exact: bool  # True when the groups are exactly the groups of tied scores


def _score_groups(sorted_scores: np.ndarray, max_groups: int) -> tuple[np.ndarray, bool]:
    """Group id of each row of ascending scores: tie groups, merged to at most max_groups."""
    n = sorted_scores.size
    tie_starts = np.concatenate(([0], np.flatnonzero(np.diff(sorted_scores)) + 1))
    if tie_starts.size <= max_groups:
        cuts = tie_starts
    else:
        wanted = np.linspace(0, n, max_groups, endpoint=False)
        cuts = np.unique(tie_starts[np.searchsorted(tie_starts, wanted, side="right") - 1])
    groups = np.searchsorted(cuts, np.arange(n), side="right") - 1
    return groups, cuts.size == tie_starts.size


def _ranking(
    score: np.ndarray, positive: np.ndarray, *, layout_grouped: bool = False, max_groups: int = 0
) -> _Ranking:
    """Prepare one score column; ``layout_grouped`` when rows already are in grouped order."""
    max_groups = max_groups or RANK_GROUPS
    order = np.argsort(score, kind="stable")
    s = score[order]
    pos = positive[order].astype(np.float64)
    change = np.flatnonzero(np.diff(s)) + 1
    starts = None if change.size == s.size - 1 else np.concatenate(([0], change))
    groups, exact = _score_groups(s, max_groups)
    grouped = np.lexsort((1.0 - pos, groups))  # by group, positives first
    seg_order = None if layout_grouped else order[grouped]
    slot = 2 * groups[grouped] + (1 - pos[grouped]).astype(np.intp)  # 2 * group + negative
    seg_starts = np.concatenate(([0], np.flatnonzero(np.diff(slot)) + 1))
    seg_slot = slot[seg_starts]
    is_pos = seg_slot % 2 == 0
    return _Ranking(
        order,
        pos,
        starts,
        seg_order,
        seg_starts,
        np.flatnonzero(is_pos),
        seg_slot[is_pos] // 2,
        np.flatnonzero(~is_pos),
        seg_slot[~is_pos] // 2,
        int(groups[-1]) + 1 if groups.size else 0,
        exact,
    )


def binary_layout(score: np.ndarray, positive: np.ndarray, *, max_groups: int = 0) -> np.ndarray:
    """Row permutation that puts binary rows in grouped ranking order (see _Ranking)."""
    max_groups = max_groups or RANK_GROUPS
    order = np.argsort(score, kind="stable")
    groups, _ = _score_groups(score[order], max_groups)
    pos = positive[order].astype(np.float64)
    return order[np.lexsort((1.0 - pos, groups))]


def _regression_columns(y_true: np.ndarray, scores: np.ndarray) -> dict[str, np.ndarray]:
    """Per-row columns of a regression task: the target, its square and the errors."""
    y = y_true.astype(np.float64)
    p = scores if scores.ndim == 1 else scores.reshape(-1)
    err = y - p
    return {
        "y1": y,
        "y2": y * y,
        "abs": np.abs(err),
        "sq": err * err,
        "ape": np.abs(err) / np.maximum(np.abs(y), np.finfo(np.float64).eps),
    }


def _stack_columns(
    columns: dict[str, np.ndarray],
) -> tuple[dict[str, slice | int], np.ndarray]:
    """Each named column's index (a slice for a block), and all columns side by side."""
    names: dict[str, slice | int] = {}
    blocks, at = [], 0
    for name, col in columns.items():
        if col.ndim == 1:
            names[name] = at
            blocks.append(col[:, None])
            at += 1
        else:
            names[name] = slice(at, at + col.shape[1])
            blocks.append(col)
            at += col.shape[1]
    return names, np.hstack(blocks)


class Rows:
    """One split's truth and predictions, arranged for weighted metric computation.

    Parameters
    ----------
    task : {"binary", "multiclass", "regression"}
    y_true : ndarray (n,)
        Class index (classification) or value (regression).
    scores : ndarray
        Binary: (n,) positive-class probability; multiclass: (n, K); regression: (n,).
    y_pred : ndarray (n,)
        Predicted class index (after the threshold) or predicted value.
    n_classes : int, optional
        Number of classes (defaults to what the data shows).
    positive_index : int
        The positive class for binary precision/recall/F1 (1).

    Notes
    -----
    For binary tasks the rows are permuted once into grouped ranking order (ascending score
    groups, positives first inside a group); ``perm`` holds that permutation so callers can
    align their own per-row columns with ``rows.take``.
    """

    def __init__(
        self,
        task: str,
        y_true,
        scores,
        y_pred,
        *,
        n_classes: int | None = None,
        positive_index: int = 1,
    ):
        self.task = task
        y_true = np.asarray(y_true)
        scores = np.asarray(scores, dtype=np.float64)
        y_pred = np.asarray(y_pred)
        self.n = int(y_true.shape[0])
        self.positive_index = positive_index
        self.perm: np.ndarray | None = None
        if task == "binary":
            self.perm = binary_layout(scores, np.asarray(y_true) == positive_index)
            y_true, scores, y_pred = y_true[self.perm], scores[self.perm], y_pred[self.perm]
        self.y_true, self.scores, self.y_pred = y_true, scores, y_pred
        columns: dict[str, np.ndarray] = {"n": np.ones(self.n)}
        self.rankings: list[_Ranking] = []
        if task == "regression":
            columns.update(_regression_columns(y_true, scores))
        else:
            columns.update(self._classification_columns(y_true, scores, y_pred, n_classes))
        self._names, matrix = _stack_columns(columns)
        self._columns = {np.dtype(np.float64): matrix}
        self._shift: tuple[np.ndarray, np.ndarray] | None = None
        self._atoms: Atoms | None = None

    def _classification_columns(
        self, y_true: np.ndarray, scores: np.ndarray, y_pred: np.ndarray, n_classes: int | None
    ) -> dict[str, np.ndarray]:
        """Per-row classification columns; sets ``n_classes`` and the rankings."""
        task = self.task
        k = n_classes or int(max(y_true.max(initial=0), y_pred.max(initial=0)) + 1)
        k = max(k, 2)
        self.n_classes = k
        yi, pi = y_true.astype(np.intp), y_pred.astype(np.intp)
        eps = np.finfo(np.float64).eps
        rows = np.arange(self.n)
        if task == "binary":
            p = np.clip(scores, 0.0, 1.0)
            p_true = np.where(yi == 1, p, 1.0 - p)
            brier = (p - yi) ** 2
            conf, hit = p, (yi == 1).astype(np.float64)
            self.rankings.append(_ranking(p, yi == 1, layout_grouped=True))
        else:
            onehot_y = np.zeros((self.n, k))
            onehot_y[rows, yi] = 1.0
            onehot_p = np.zeros((self.n, k))
            onehot_p[rows, pi] = 1.0
            proba = scores
            p_true = proba[rows, yi]
            brier = ((proba - onehot_y) ** 2).sum(axis=1)
            conf = proba.max(axis=1)
            hit = (proba.argmax(axis=1) == yi).astype(np.float64)
            for c in range(k):
                self.rankings.append(_ranking(proba[:, c], yi == c))
        bins = np.minimum((conf * ECE_BINS).astype(np.intp), ECE_BINS - 1).clip(0)
        self._ece_bins = bins
        ece_gap = np.zeros((self.n, ECE_BINS))  # each row's calibration gap in its bin
        ece_gap[rows, bins] = hit - conf
        columns: dict[str, np.ndarray] = {}
        if task == "binary":  # class 0 counts follow from class 1 and n (see Sums)
            y1, p1 = (yi == 1).astype(np.float64), (pi == 1).astype(np.float64)
            columns.update(y1=y1, pred1=p1, tp1=y1 * p1)
        else:
            columns.update(y=onehot_y, pred=onehot_p, tp=onehot_y * onehot_p)
        columns.update(
            logloss=-np.log(np.clip(p_true, eps, 1.0 - eps)), brier=brier, ece_gap=ece_gap
        )
        return columns

    def columns(self, dtype) -> np.ndarray:
        """The per-row column matrix in ``dtype`` (converted once, then cached)."""
        dtype = np.dtype(dtype)
        if dtype not in self._columns:
            self._columns[dtype] = self._columns[np.dtype(np.float64)].astype(dtype)
        return self._columns[dtype]

    def take(self, values: np.ndarray) -> np.ndarray:
        """Per-row values in this object's row order (binary rows are sorted by score)."""
        return values if self.perm is None else np.asarray(values)[self.perm]

    def ranking_shift(self) -> tuple[np.ndarray, np.ndarray]:
        """Exact minus grouped (ROC-AUC, AP) point estimates per ranking (0 when exact)."""
        if self._shift is None:
            ones = np.ones((1, self.n))
            shifts = []
            for r in self.rankings:
                if r.grouped_exact:
                    shifts.append((0.0, 0.0))
                    continue
                exact, grouped = _auc_ap_exact(ones, r), _auc_ap_grouped(ones, r)
                shifts.append(
                    (float(exact[0][0] - grouped[0][0]), float(exact[1][0] - grouped[1][0]))
                )
            self._shift = (np.array([a for a, _ in shifts]), np.array([b for _, b in shifts]))
        return self._shift

    def atoms(self) -> Atoms | None:
        """Binary rows cut into runs alike in truth, decision, ranking group and ECE bin.

        The rows are in grouped ranking order, so such runs are contiguous; only the
        continuous columns (log loss, Brier, calibration gaps) vary inside one. None for
        other tasks, or when the runs would not be much fewer than the rows.
        """
        if self.task != "binary" or self.n == 0:
            return None
        if self._atoms is None:
            change = np.zeros(self.n, dtype=bool)
            change[0] = True
            change[self.rankings[0].seg_starts] = True
            change[1:] |= self.y_pred[1:] != self.y_pred[:-1]
            change[1:] |= self._ece_bins[1:] != self._ece_bins[:-1]
            starts = np.flatnonzero(change)
            if starts.size > self.n // 10:
                return None
            matrix = self._columns[np.dtype(np.float64)]
            sizes = np.diff(np.append(starts, self.n))
            means = np.add.reduceat(matrix, starts, axis=0) / sizes[:, None]
            from auditor.metrics.cell_bootstrap import covariance_root

            dev = matrix - np.repeat(means, sizes, axis=0)
            self._atoms = Atoms(
                sizes=sizes.astype(np.float64),
                means=means.astype(np.float32),
                root=covariance_root(dev.T @ dev),
                seg_starts=np.searchsorted(starts, self.rankings[0].seg_starts),
            )
        return self._atoms

    def sums(self, weights: np.ndarray, noise: np.ndarray | None = None) -> Sums:
        """The weighted column sums for a (B, n) weight matrix.

        With ``noise`` (B, columns), ``weights`` are (B, atoms) weights of :meth:`atoms`
        and ``noise`` the resampled sum of the rows' deviations from their atom's mean.
        """
        return Sums(self, weights, noise)


@dataclass
class Atoms:
    """Runs of alike rows (:meth:`Rows.atoms`), for resamples drawn from run totals."""

    sizes: np.ndarray  # (A,) rows per run
    means: np.ndarray  # (A, columns) the run's mean row
    root: np.ndarray  # (columns, columns) square root of the within-run deviations' covariance
    seg_starts: np.ndarray  # the first run of each ranking segment


class Sums:
    """Weighted sums of a Rows object's columns for a (B, n) weight matrix."""

    def __init__(self, rows: Rows, weights: np.ndarray, noise: np.ndarray | None = None):
        self.rows = rows
        self.task = rows.task
        self.positive_index = rows.positive_index
        self.weights = weights
        self.atoms = None if noise is None else rows.atoms()
        if self.atoms is not None:
            totals = (weights @ self.atoms.means).astype(np.float64) + noise
        else:
            totals = (weights @ rows.columns(weights.dtype)).astype(np.float64)
        self._values = {name: totals[:, where] for name, where in rows._names.items()}
        if rows.task == "binary":
            n, y1, p1, tp1 = (self._values[k] for k in ("n", "y1", "pred1", "tp1"))
            self._values.update(
                y=np.column_stack([n - y1, y1]),
                pred=np.column_stack([n - p1, p1]),
                tp=np.column_stack([n - y1 - p1 + tp1, tp1]),
            )
        self._ranking: tuple[np.ndarray, np.ndarray] | None = None

    def __getitem__(self, name: str) -> np.ndarray:
        return self._values[name]

    def ranking(self) -> tuple[np.ndarray, np.ndarray]:
        """(ROC-AUC, average precision) per resample; one-vs-rest macro for multiclass."""
        if self._ranking is None:
            point = self.weights.shape[0] == 1
            starts = None if self.atoms is None else self.atoms.seg_starts
            pairs = [
                _auc_ap_exact(self.weights, r)
                if point
                else _auc_ap_grouped(self.weights, r, starts)
                for r in self.rows.rankings
            ]
            aucs = np.stack([p[0] for p in pairs], axis=1)
            aps = np.stack([p[1] for p in pairs], axis=1)
            if not point:
                shift_auc, shift_ap = self.rows.ranking_shift()
                aucs, aps = aucs + shift_auc, aps + shift_ap
            if aucs.shape[1] == 1:
                self._ranking = (aucs[:, 0], aps[:, 0])
            else:
                self._ranking = (_nanmean_rows(aucs), _nanmean_rows(aps))
        return self._ranking


def _nanmean_rows(a: np.ndarray) -> np.ndarray:
    ok = np.isfinite(a)
    count = ok.sum(axis=1)
    total = np.where(ok, a, 0.0).sum(axis=1)
    out = np.full(a.shape[0], np.nan)
    np.divide(total, count, out=out, where=count > 0)
    return out


def _auc_ap_from_groups(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ROC-AUC and average precision from per-group positive/negative weights (B, G).

    Groups are in ascending score order; pairs inside a group count as ties (half). Works in
    the inputs' precision (float32 resample counts are exact integers up to 2**24 rows);
    the final sums accumulate in float64.
    """
    cpos = np.cumsum(pos, axis=1)
    cneg = np.cumsum(neg, axis=1)
    p_tot = cpos[:, -1].astype(np.float64)
    n_tot = cneg[:, -1].astype(np.float64)
    cneg -= 0.5 * neg  # negatives below each group, ties counting half
    u = np.einsum("ij,ij->i", pos, cneg, dtype=np.float64)  # Mann-Whitney U
    cneg += 0.5 * neg
    # tp: positives scored at or above the group; flagged: all rows scored there.
    tp = np.subtract(p_tot.astype(pos.dtype)[:, None], cpos, out=cpos)
    tp += pos
    flagged = np.subtract(n_tot.astype(neg.dtype)[:, None], cneg, out=cneg)
    flagged += neg
    flagged += tp
    np.maximum(flagged, np.asarray(1e-12, dtype=flagged.dtype), out=flagged)
    precision = np.divide(tp, flagged, out=tp)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = np.where((p_tot > 0) & (n_tot > 0), u / (p_tot * n_tot), np.nan)
        ap_num = np.einsum("ij,ij->i", pos, precision, dtype=np.float64)
        ap = np.where(p_tot > 0, ap_num / p_tot, np.nan)
    return auc, ap


def _auc_ap_exact(weights: np.ndarray, r: _Ranking) -> tuple[np.ndarray, np.ndarray]:
    """Exact ROC-AUC and average precision (groups = tied scores); for few weight rows."""
    w = weights[:, r.order].astype(np.float64)
    pos = w * r.positive
    neg = w - pos
    if r.starts is not None:
        pos = np.add.reduceat(pos, r.starts, axis=1)
        neg = np.add.reduceat(neg, r.starts, axis=1)
    return _auc_ap_from_groups(pos, neg)


def _auc_ap_grouped(
    weights: np.ndarray, r: _Ranking, atom_starts: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """ROC-AUC and average precision over score groups for many weight rows (one pass).

    ``atom_starts``: ``weights`` are per run of :meth:`Rows.atoms`, and these the first run
    of each segment.
    """
    if atom_starts is not None:
        seg = np.add.reduceat(weights, atom_starts, axis=1)
    else:
        w = weights if r.seg_order is None else np.take(weights, r.seg_order, axis=1)
        seg = np.add.reduceat(w, r.seg_starts, axis=1)
    pos = np.zeros((seg.shape[0], r.n_groups), dtype=seg.dtype)
    neg = np.zeros_like(pos)
    pos[:, r.pos_groups] = seg[:, r.pos_segments]
    neg[:, r.neg_groups] = seg[:, r.neg_segments]
    return _auc_ap_from_groups(pos, neg)
