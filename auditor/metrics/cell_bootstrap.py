"""Resampled per-cell sums drawn from cell totals: the Poisson bootstrap without the rows.

The fairness and group-calibration checks need, for every resample, each cell's sums of a
few per-row columns (rows, positives, predicted positives, ... or rows, outcomes, scores).
Drawn row by row that is a (B, n) weight matrix: about 5 s per 1,000 resamples of a
million rows, for sums over a few dozen cells.

Under the Poisson bootstrap (each row drawn a Poisson(1) number of times, independently)
the total weight of ``m`` rows is exactly Poisson(m). So when every *discrete* column is
constant inside a cell, refined into *atoms* (cell x the discrete columns' values), each
atom's resampled sums are its Poisson(m) weight times the atom's mean row: the same
distribution as drawing every row, at the cost of B x atoms draws. A continuous column (a
score, an absolute error) varies inside an atom; its resampled sum is then the atom's
weight times its mean plus the resampled sum of the deviations from that mean, which has
mean 0, is uncorrelated with the weight, and has covariance ``sum r r^T`` over the cell's
rows. That part is drawn as a normal with exactly that covariance per cell, so every
resampled sum has the mean and covariance of the row-by-row bootstrap (normality of the
deviation part is the only approximation, and it is a sum over the cell's rows).

Callers use it above :data:`ATOM_ROWS` rows (tested to agree with the row-by-row draws in
``tests/metrics/test_cell_bootstrap.py``) and only where no other model's replicates must
be paired with these row by row (``model.compare`` draws per row).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["ATOM_ROWS", "cell_replicates", "covariance_root"]

#: Rows from which the per-cell draws replace row-by-row weights (more than the 100,000-row
#: sample the baselines are compared on, which must stay paired row by row).
ATOM_ROWS = 200_000


def _atoms(cells: np.ndarray, columns: np.ndarray, discrete: Sequence[int]):
    """(atom of each row, cell of each atom): cells refined by the discrete columns' values."""
    key = cells.astype(np.int64)
    for j in discrete:
        values, codes = np.unique(columns[:, j], return_inverse=True)
        key = key * values.size + codes
    unique_keys, atom = np.unique(key, return_inverse=True)
    first = np.zeros(unique_keys.size, dtype=np.int64)
    first[atom[::-1]] = np.arange(len(atom))[::-1]  # the first row of each atom
    return atom, cells[first]


def _deviation_roots(cells, columns, atom, means, continuous, n_cells) -> np.ndarray:
    """(cells, k, k) square roots of each cell's covariance of within-atom deviations."""
    k = len(continuous)
    dev = columns[:, continuous] - means[atom][:, continuous]
    cov = np.empty((n_cells, k, k))
    for a in range(k):
        for b in range(a, k):
            cov[:, a, b] = cov[:, b, a] = np.bincount(cells, dev[:, a] * dev[:, b], n_cells)
    return covariance_root(cov)


def covariance_root(cov: np.ndarray) -> np.ndarray:
    """R with R @ R.T == cov, for symmetric positive semi-definite matrices (..., k, k).

    A normal draw ``R @ z`` has covariance ``cov``; rounding's tiny negative eigenvalues are
    taken as 0.
    """
    values, vectors = np.linalg.eigh(cov)
    return vectors * np.sqrt(np.clip(values, 0.0, None))[..., None, :]


def cell_replicates(
    cells,
    columns,
    n_cells: int,
    *,
    resamples: int,
    seed: int,
    discrete: Sequence[int],
) -> np.ndarray:
    """Resampled sums of ``columns`` per cell, (B, n_cells, q), drawn from cell totals.

    Parameters
    ----------
    cells : ndarray of int (n,)
        Each row's cell, in ``range(n_cells)``.
    columns : ndarray (n, q)
        Per-row columns to sum.
    n_cells : int
        Cells (empty ones get sums of 0).
    resamples : int
        B.
    seed : int
        Seed of the draws.
    discrete : sequence of int
        The columns with few distinct values (counts, 0/1 indicators): their sums are
        drawn exactly; the others (scores, errors) get the normal deviation term.

    Returns
    -------
    ndarray (B, n_cells, q)
    """
    cells = np.asarray(cells, dtype=np.int64)
    columns = np.asarray(columns, dtype=np.float64)
    q = columns.shape[1]
    atom, atom_cell = _atoms(cells, columns, discrete)
    sizes = np.bincount(atom).astype(np.float64)
    means = np.stack([np.bincount(atom, columns[:, j]) for j in range(q)], axis=1)
    means /= sizes[:, None]
    rng = np.random.default_rng([int(seed), 104_729])
    weights = rng.poisson(sizes, size=(resamples, sizes.size)).astype(np.float64)
    to_cell = np.zeros((sizes.size, n_cells))
    to_cell[np.arange(sizes.size), atom_cell] = 1.0
    out = np.einsum("ba,aj,ac->bcj", weights, means, to_cell, optimize=True)
    continuous = [j for j in range(q) if j not in set(discrete)]
    if continuous:
        roots = _deviation_roots(cells, columns, atom, means, continuous, n_cells)
        noise = rng.standard_normal((resamples, n_cells, len(continuous)))
        out[:, :, continuous] += np.einsum("cij,bcj->bci", roots, noise)
    return out
