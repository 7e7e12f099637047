"""The one comparison: a measured value (and interval) against bounds."""

from __future__ import annotations

import math

import pytest

from auditor.judge import Bound, judge, rows_to_clear

AT_LEAST = [Bound(0.75, "at_least")]
BETWEEN = [Bound(0.8, "at_least"), Bound(1.25, "at_most")]

CASES = [
    # value, interval, bounds, require, status
    (0.80, (0.78, 0.82), AT_LEAST, "point", "pass"),
    (0.70, (0.60, 0.80), AT_LEAST, "point", "fail"),
    (0.80, (0.77, 0.83), AT_LEAST, "confidence", "pass"),
    # the case: 0.691 [0.605, 0.775] against at least 0.75 misses by its estimate
    (0.691, (0.605, 0.775), AT_LEAST, "confidence", "fail"),
    (0.78, (0.70, 0.86), AT_LEAST, "confidence", "inconclusive"),
    (0.60, (0.55, 0.65), AT_LEAST, "confidence", "fail"),
    (0.75, (0.70, 0.80), AT_LEAST, "confidence", "inconclusive"),  # on the bound
    (1.0, (0.9, 1.1), BETWEEN, "confidence", "pass"),
    (1.2, (1.1, 1.3), BETWEEN, "confidence", "inconclusive"),
    (1.3, (1.2, 1.4), BETWEEN, "confidence", "fail"),
    (0.7, (0.6, 0.85), BETWEEN, "point", "fail"),
]


@pytest.mark.parametrize("value, interval, bounds, require, status", CASES)
def test_statuses(value, interval, bounds, require, status):
    assert judge(value, interval, bounds, require=require).status == status


def test_a_missed_estimate_names_the_bound_it_misses():
    got = judge(1.3, (1.2, 1.4), BETWEEN, require="confidence")
    assert "bound 1.25" in got.reason and "estimate itself misses" in got.reason
    assert "more data" not in got.reason


def test_inconclusive_states_the_rows_that_would_clear_the_bound():
    got = judge(0.78, (0.70, 0.86), AT_LEAST, require="confidence", rows=500)
    # the interval reaches 0.08 below the value, the margin is 0.03: (0.08/0.03)^2 x 500
    expected = math.ceil(500 * (0.08 / 0.03) ** 2)
    assert got.rows_needed == expected
    assert f"about {expected:,} rows (now 500)" in got.reason
    on_bound = judge(0.75, (0.70, 0.80), AT_LEAST, require="confidence", rows=500)
    assert on_bound.rows_needed is None and "more rows alone cannot clear it" in on_bound.reason
    assert judge(0.78, (0.70, 0.86), AT_LEAST, require="confidence").rows_needed is None


@pytest.mark.parametrize("p, n, bound", [(0.8, 400, 0.77), (0.6, 2000, 0.58), (0.9, 150, 0.87)])
def test_rows_estimate_matches_the_normal_interval_of_a_proportion(p, n, bound):
    """For a proportion's Wald interval, the estimate is the n that puts its edge on the bound."""
    z = 1.959963984540054
    half = z * math.sqrt(p * (1 - p) / n)
    needed = rows_to_clear(p, (p - half, p + half), [Bound(bound, "at_least")], n)
    analytic = z**2 * p * (1 - p) / (p - bound) ** 2
    assert needed == pytest.approx(analytic, rel=1e-6, abs=1.0)
    wider = z * math.sqrt(p * (1 - p) / needed)
    assert p - wider >= bound - 1e-9  # at that many rows the interval clears the bound


def test_two_bounds_take_the_side_that_needs_more_rows():
    # crosses the upper bound only: the lower bound is far
    got = rows_to_clear(1.2, (1.1, 1.3), BETWEEN, 100)
    assert got == math.ceil(100 * (0.1 / 0.05) ** 2)
