"""Per-cell draws from cell totals against the row-by-row Poisson bootstrap.

Ground truth: under the Poisson bootstrap a cell's resampled column sums have mean
``sum x`` and covariance ``sum x x^T`` over the cell's rows. The cell draws must reproduce
both (exactly in distribution for 0/1 columns; to the second moment for a continuous one),
and give the same intervals as drawing every row.
"""

from __future__ import annotations

import numpy as np
import pytest

from auditor.checks import CheckContext
from auditor.checks.fairness import fairness
from auditor.checks.group_calibration import group_calibration
from auditor.metrics import cell_bootstrap, percentile_interval, resample_apply
from auditor.metrics.cell_bootstrap import cell_replicates
from tests.checks.factory import make_calibration_case


def _rows(n=6000, seed=0):
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, 4, n)
    y = (rng.random(n) < 0.3 + 0.1 * cells).astype(float)
    score = 0.2 + 0.15 * cells + rng.normal(0, 0.5, n)  # most of its variance is within cells
    return cells, np.column_stack([np.ones(n), y, score])


def _theory(cells, cols, n_cells):
    mean = np.stack([np.bincount(cells, cols[:, j], n_cells) for j in range(3)], 1)
    second = np.einsum("ni,nj,nc->cij", cols, cols, np.eye(n_cells)[cells])
    return mean, second


def test_cell_sums_have_the_mean_and_covariance_of_the_row_by_row_bootstrap():
    cells, cols = _rows()
    reps = cell_replicates(cells, cols, 4, resamples=4000, seed=3, discrete=[0, 1])
    mean, second = _theory(cells, cols, 4)
    assert np.allclose(reps.mean(axis=0), mean, rtol=0.01)
    for c in range(4):
        cov = np.cov(reps[:, c, :].T)
        scale = np.sqrt(np.outer(np.diag(second[c]), np.diag(second[c])))
        assert np.all(np.abs(cov - second[c]) <= 0.1 * scale), (c, cov, second[c])


def test_zero_one_columns_are_drawn_exactly_as_integer_counts():
    cells, cols = _rows()
    reps = cell_replicates(cells, cols[:, :2], 4, resamples=50, seed=1, discrete=[0, 1])
    assert np.allclose(reps, np.round(reps))
    assert np.all(reps[..., 1] <= reps[..., 0])  # positives never exceed rows


def test_empty_cells_sum_to_zero_and_the_draws_are_seeded():
    cells, cols = _rows()
    a = cell_replicates(cells, cols, 6, resamples=20, seed=9, discrete=[0, 1])
    b = cell_replicates(cells, cols, 6, resamples=20, seed=9, discrete=[0, 1])
    assert np.array_equal(a, b)
    assert np.all(a[:, 4:, :] == 0)


def test_a_rate_interval_matches_the_row_by_row_draws():
    """The per-cell rate's 95% interval from cell totals and from every row agree."""
    cells, cols = _rows(n=20_000, seed=4)
    order = np.argsort(cells, kind="stable")
    bounds = np.searchsorted(cells[order], np.arange(5))
    sorted_cols = cols[order]

    def sums(w):
        return np.stack(
            [
                w[:, bounds[i] : bounds[i + 1]] @ sorted_cols[bounds[i] : bounds[i + 1]]
                for i in range(4)
            ],
            axis=1,
        )

    rows = resample_apply(len(cells), sums, resamples=2000, seed=5)
    drawn = cell_replicates(cells, cols, 4, resamples=2000, seed=6, discrete=[0, 1])
    for j in (1, 2):  # the outcome rate (exact) and the mean score (deviation term)
        for c in range(4):
            a = percentile_interval(rows[:, c, j] / rows[:, c, 0], 0.95)
            b = percentile_interval(drawn[:, c, j] / drawn[:, c, 0], 0.95)
            width = a[1] - a[0]
            assert abs(a[0] - b[0]) < 0.15 * width and abs(a[1] - b[1]) < 0.15 * width


# ------------------------------------------------------------------ in the checks
def _large_case(n: int, seed=0):
    """Groups A and B of n / 2 rows each, calibrated scores, different base rates."""
    return make_calibration_case(seed, n=(n // 2, n - n // 2))


@pytest.mark.parametrize("check", [fairness, group_calibration], ids=["fairness", "calibration"])
def test_the_checks_give_the_same_intervals_either_way(monkeypatch, check):
    """The same data through the row-by-row and the per-cell draws: intervals agree."""
    from tests.checks.factory import make_spec

    spec = make_spec(sensitive=("g",), evaluation={"bootstrap": 400})
    dataset, evaluation = _large_case(30_000)
    by_rows = {f.id: f for f in check(CheckContext(spec, dataset, evaluation))}
    monkeypatch.setattr(cell_bootstrap, "ATOM_ROWS", 1000)
    ctx = CheckContext(spec, dataset, evaluation)
    assert ctx.cell_draws(30_000)
    by_cells = {f.id: f for f in check(ctx)}
    assert by_rows.keys() == by_cells.keys()
    compared = 0
    for key, f in by_rows.items():
        g = by_cells[key]
        assert f.value == pytest.approx(g.value, abs=1e-12)  # point estimates do not move
        if f.ci is not None:
            width = f.ci[1] - f.ci[0]
            assert g.ci[0] == pytest.approx(f.ci[0], abs=0.25 * width + 1e-9), key
            assert g.ci[1] == pytest.approx(f.ci[1], abs=0.25 * width + 1e-9), key
            compared += 1
    assert compared >= 1


def test_a_comparison_run_keeps_row_by_row_draws(monkeypatch):
    """model.compare pairs two models' replicates row by row: no per-cell draws there."""
    from tests.checks.factory import make_spec

    monkeypatch.setattr(cell_bootstrap, "ATOM_ROWS", 1000)
    dataset, evaluation = _large_case(2000)
    spec = make_spec(sensitive=("g",))
    assert CheckContext(spec, dataset, evaluation).cell_draws(2000)
    values = dict(spec.values)
    values["model"] = {**values["model"], "compare": "linear"}
    paired = type(spec)(path=spec.path, values=values)
    assert not CheckContext(paired, dataset, evaluation).cell_draws(2000)


# ------------------------------------------------------------------ runs of alike rows
def _binary_rows(n=200_000, seed=2):
    from auditor.metrics import Rows, decisions

    rng = np.random.default_rng(seed)
    p = rng.beta(2, 3, n)
    y = (rng.random(n) < p).astype(np.int64)
    return Rows("binary", y, p, decisions("binary", p, 0.5), n_classes=2)


def test_every_binary_metric_interval_matches_the_row_by_row_draws():
    """Runs of alike rows (Poisson totals plus the deviation term) against every row."""
    from auditor.metrics import bootstrap_rows
    from auditor.metrics.performance import METRICS

    rows = _binary_rows()
    atoms = rows.atoms()
    assert atoms is not None and atoms.sizes.size < rows.n // 10
    assert atoms.sizes.sum() == rows.n
    names = [m for m, spec in METRICS.items() if "binary" in spec.tasks]
    kwargs = dict(resamples=600, confidence=0.95, seed=8)
    by_rows = bootstrap_rows(rows, names, **kwargs)
    by_atoms = bootstrap_rows(rows, names, by_atoms=True, **kwargs)
    for name in names:
        a, b = by_rows[name], by_atoms[name]
        assert a.value == b.value  # the point estimate is the rows' own
        if a.ci is None:
            continue
        width = a.ci[1] - a.ci[0]
        assert b.ci[0] == pytest.approx(a.ci[0], abs=0.2 * width + 1e-12), name
        assert b.ci[1] == pytest.approx(a.ci[1], abs=0.2 * width + 1e-12), name


def test_rows_without_few_runs_keep_the_row_by_row_draws():
    from auditor.metrics import Rows, bootstrap_rows

    rng = np.random.default_rng(0)
    n = 500
    p = rng.random(n)
    y_pred = rng.integers(0, 2, n)  # decisions unrelated to the scores: runs of one row
    rows = Rows("binary", (rng.random(n) < p).astype(int), p, y_pred, n_classes=2)
    assert rows.atoms() is None
    a = bootstrap_rows(rows, ["accuracy"], resamples=50, confidence=0.95, seed=1)
    b = bootstrap_rows(rows, ["accuracy"], resamples=50, confidence=0.95, seed=1, by_atoms=True)
    assert np.array_equal(a["accuracy"].replicates, b["accuracy"].replicates)


def test_poisson_totals_do_not_depend_on_the_chunks_and_have_poisson_moments():
    from auditor.metrics.cell_bootstrap import POISSON_BLOCK, poisson_totals

    sizes = np.array([1.0, 7.0, 40.0, 300.0] * 2500)  # 10,000 runs: drawn on two threads
    whole = poisson_totals(sizes, 3 * POISSON_BLOCK + 17, seed=5)
    parts = [
        poisson_totals(sizes, 2 * POISSON_BLOCK, seed=5),
        poisson_totals(sizes, POISSON_BLOCK + 17, seed=5, start=2 * POISSON_BLOCK),
    ]
    assert np.array_equal(whole, np.concatenate(parts))
    assert np.array_equal(whole, poisson_totals(sizes, 3 * POISSON_BLOCK + 17, seed=5))
    assert not np.array_equal(whole, poisson_totals(sizes, 3 * POISSON_BLOCK + 17, seed=6))
    by_size = whole.reshape(whole.shape[0], -1, 4)  # (resamples, repeats, size)
    np.testing.assert_allclose(by_size.mean(axis=(0, 1)), sizes[:4], rtol=0.01)
    np.testing.assert_allclose(by_size.var(axis=(0, 1)), sizes[:4], rtol=0.03)
    with pytest.raises(ValueError, match="multiple"):
        poisson_totals(sizes, 10, seed=5, start=3)
