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

__all__ = ["ATOM_ROWS", "cell_replicates", "covariance_root", "poisson_totals"]

#: Rows from which the per-cell draws replace row-by-row weights (the baselines are then
#: compared with the model's own row-by-row resamples: ``checks.fit``). Below it a (B, n)
#: weight matrix costs less than a second.
ATOM_ROWS = 50_000


#: Resamples per block of :func:`poisson_totals`: block ``b`` has its own generator, so
#: the draws do not depend on how the blocks are shared among threads or chunks.
POISSON_BLOCK = 100


def poisson_totals(
    sizes: np.ndarray, resamples: int, seed: int, *, start: int = 0, dtype=np.float64
) -> np.ndarray:
    """(resamples, len(sizes)) Poisson(sizes) draws: each run's total bootstrap weight.

    Resample ``r`` is row ``r % POISSON_BLOCK`` of block ``r // POISSON_BLOCK``, drawn from
    ``default_rng([seed, 104_729, block])``; ``start`` (a multiple of POISSON_BLOCK) is the
    first resample. The blocks are drawn on two threads (NumPy draws without the GIL): a
    thousand resamples of ten thousand runs are ten million Poisson draws, about a second
    on one core.
    """
    if start % POISSON_BLOCK:
        raise ValueError(f"start {start} is not a multiple of {POISSON_BLOCK}")
    sizes = np.asarray(sizes, dtype=np.float64)
    out = np.empty((resamples, sizes.size), dtype=dtype)
    end = start + resamples
    blocks = range(start // POISSON_BLOCK, -(-end // POISSON_BLOCK))

    def draw(block: int) -> None:
        lo, hi = max(start, block * POISSON_BLOCK), min(end, (block + 1) * POISSON_BLOCK)
        rng = np.random.default_rng([int(seed), 104_729, block])
        out[lo - start : hi - start] = rng.poisson(sizes, size=(hi - lo, sizes.size))

    if len(blocks) > 1 and resamples * sizes.size >= 1_000_000:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(draw, blocks))
    else:
        for block in blocks:
            draw(block)
    return out


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
    weights = poisson_totals(sizes, resamples, seed)
    rng = np.random.default_rng([int(seed), 104_723])  # the deviations' noise
    to_cell = np.zeros((sizes.size, n_cells))
    to_cell[np.arange(sizes.size), atom_cell] = 1.0
    out = np.einsum("ba,aj,ac->bcj", weights, means, to_cell, optimize=True)
    continuous = [j for j in range(q) if j not in set(discrete)]
    if continuous:
        roots = _deviation_roots(cells, columns, atom, means, continuous, n_cells)
        noise = rng.standard_normal((resamples, n_cells, len(continuous)))
        out[:, :, continuous] += np.einsum("cij,bcj->bci", roots, noise)
    return out
