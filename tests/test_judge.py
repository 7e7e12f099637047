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


# --------------------------------------------------------------------------- on the bound
# values equal to their bound mathematically, computed in floating point: each lands a few
# 1e-17 on one side or the other (the float decided pass or fail before the tolerance)
ON_THE_BOUND = [
    # value, bound, direction
    (0.7 - 0.6, 0.1, "at_least"),  # 0.09999999999999998: below
    (0.7 - 0.6, 0.1, "at_most"),
    (0.1 + 0.2, 0.3, "at_most"),  # 0.30000000000000004: above
    (0.1 + 0.2, 0.3, "at_least"),
    (1 - 0.9, 0.1, "at_least"),  # 0.09999999999999998
    (0.83 - 0.03, 0.8, "at_least"),  # a difference of two rates: 0.7999999999999999
    (0.46 - 0.36, 0.1, "at_most"),  # 0.10000000000000003
    (sum([0.1] * 10) / 10, 0.1, "at_most"),  # 0.09999999999999999 (a mean of ten)
    (3 * 0.1 - 0.3, 0.0, "at_most"),  # 5.6e-17 against a bound of 0
    (1e-17, 0.0, "at_most"),
]
OFF_THE_BOUND = [  # clearly outside: 1e-6 past the bound (relative and absolute)
    (0.1 - 1e-6, 0.1, "at_least"),
    (0.3 + 1e-6, 0.3, "at_most"),
    (0.8 - 1e-6, 0.8, "at_least"),
    (1e-6, 0.0, "at_most"),
    (1000.0 + 1e-3, 1000.0, "at_most"),  # 1e-6 relative
]


@pytest.mark.parametrize("value, bound, direction", ON_THE_BOUND)
def test_a_value_on_its_bound_up_to_float_error_meets_it(value, bound, direction):
    b = Bound(bound, direction)
    assert value != bound  # off by float error, not equal
    assert b.holds(value) and b.margin(value) == 0.0
    assert judge(value, None, [b]).status == "pass"
    assert judge(value, None, [b]).margin == 0.0
    # interval ends on the bound meet it too: the whole interval holds
    ends = (value, value + 0.05) if direction == "at_least" else (value - 0.05, value)
    assert judge(value, ends, [b], require="confidence").status == "pass"
    assert rows_to_clear(value, ends, [b], 100) == 100  # nothing to clear: the rows it has


@pytest.mark.parametrize("value, bound, direction", OFF_THE_BOUND)
def test_a_value_clearly_past_its_bound_still_fails(value, bound, direction):
    b = Bound(bound, direction)
    assert not b.holds(value) and b.margin(value) < 0
    assert judge(value, None, [b]).status == "fail"
    ends = (value - 0.05, value) if direction == "at_least" else (value, value + 0.05)
    assert judge(value, ends, [b], require="confidence").status == "fail"


def test_an_interval_end_on_the_bound_by_float_error_does_not_straddle_it():
    b = Bound(0.1, "at_least")
    low = 0.7 - 0.6  # 0.09999999999999998: the interval's end, on the bound
    assert judge(0.2, (low, 0.3), [b], require="confidence").status == "pass"
    assert judge(0.2, (low - 1e-6, 0.3), [b], require="confidence").status == "inconclusive"


def test_an_estimate_on_the_bound_by_float_error_says_rows_cannot_clear_it():
    b = Bound(0.1, "at_least")
    got = judge(0.7 - 0.6, (0.05, 0.15), [b], require="confidence", rows=500)
    assert got.status == "inconclusive" and got.rows_needed is None
    assert "more rows alone cannot clear it" in got.reason
