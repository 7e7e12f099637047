"""Judging a measurement against a bound: the one comparison diagnostics and criteria share.

Measuring and judging are separate (Evidently's metric/test split): a check measures a
value and its interval; :func:`judge` compares them with one or more :class:`Bound` and
says whether the bound holds. A diagnostic calls a breach ``warn``; an acceptance
criterion calls it ``fail``. No check compares a value with a threshold itself.

A value on its bound meets it, and "on" allows for floating-point error: a value within
``ON_BOUND_RELATIVE`` (1e-9) of the bound, relative to the larger of the two, or within
``ON_BOUND_ABSOLUTE`` (1e-12) of it, is on the bound (margin 0). So a difference of two
rates that equals its bound but computes a few 1e-17 past it (0.7 - 0.6 is
0.09999999999999998 against ``at_least: 0.1``) meets the bound whichever way the rounding
fell; a value 1e-6 past a bound does not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Direction = Literal["at_least", "at_most"]
Require = Literal["point", "confidence"]
JudgedStatus = Literal["pass", "warn", "fail", "inconclusive", "error"]

#: A value this close to its bound, relative to the larger magnitude, is on it (meets it).
ON_BOUND_RELATIVE = 1e-9
#: ... or this close in absolute terms (a bound of 0, a difference that should be 0).
ON_BOUND_ABSOLUTE = 1e-12

MSG_UNDEFINED = "the measured value is undefined"
MSG_NO_INTERVAL = (
    "the whole confidence interval must meet the bound, but no interval was computed "
    "(evaluation.bootstrap is 0)"
)
MSG_INTERVAL_MISSES = "the whole interval {low} to {high} misses the bound"
MSG_STRADDLES = (
    "the estimate {value} meets the bound {bound}, but its confidence interval {low} to "
    "{high} reaches past it"
)
MSG_ROWS_NEEDED = (
    "; at the measured value, about {rows} rows (now {now}) would narrow the interval "
    "enough to clear it (an estimate: the interval narrows as 1/sqrt(rows))"
)
MSG_ON_THE_BOUND = "; the estimate lies on the bound, so more rows alone cannot clear it"
MSG_MISSES = "measured {value}, bound {bound}"
MSG_MISSES_CONFIDENCE = (
    "measured {value}, bound {bound}: the estimate itself misses the bound (interval {low} "
    "to {high})"
)


def fmt_number(x: float | None) -> str:
    """A figure in a reason: 0.8123 -> '0.81', 1234 -> '1,234', None -> 'n/a'."""
    if x is None or not math.isfinite(x):
        return "n/a"
    if float(x).is_integer() and abs(x) >= 10:
        return f"{x:,.0f}"
    return f"{x:.2f}" if abs(x) < 10 else f"{x:,.1f}"


@dataclass(frozen=True)
class Bound:
    """One side a value must stay on: ``at_least`` or ``at_most`` ``value``."""

    value: float
    direction: Direction

    def on(self, x: float) -> bool:
        """Whether ``x`` lies on the bound, up to floating-point error.

        ``math.isclose`` with :data:`ON_BOUND_RELATIVE` and :data:`ON_BOUND_ABSOLUTE`.
        """
        return math.isclose(x, self.value, rel_tol=ON_BOUND_RELATIVE, abs_tol=ON_BOUND_ABSOLUTE)

    def margin(self, x: float) -> float:
        """Signed distance of ``x`` to the bound: positive on the good side, 0 on it (``on``)."""
        if self.on(x):
            return 0.0
        return x - self.value if self.direction == "at_least" else self.value - x

    def holds(self, x: float) -> bool:
        """Whether ``x`` meets the bound (a value on the bound, to 1e-9 relative, meets it).

        Examples
        --------
        >>> Bound(0.1, "at_least").holds(0.7 - 0.6), Bound(0.1, "at_least").holds(0.099999)
        (True, False)
        """
        return self.margin(x) >= 0

    @property
    def words(self) -> str:
        """'at least 0.80' / 'at most 0.10'."""
        return f"{self.direction.replace('_', ' ')} {fmt_number(self.value)}"


@dataclass(frozen=True)
class Judgement:
    """What :func:`judge` decided: the status, the margin and, unless it passed, why.

    ``rows_needed``: for an inconclusive ``require: confidence`` judgement, the estimated
    rows for the interval to clear the bound at the measured value (None: not estimated).
    """

    status: JudgedStatus
    margin: float | None = None
    reason: str = ""
    rows_needed: int | None = None


def margin(value: float, bounds: Sequence[Bound]) -> float:
    """The smallest margin over ``bounds`` (negative when any is broken)."""
    return min(b.margin(value) for b in bounds)


def rows_to_clear(
    value: float, interval: tuple[float, float], bounds: Sequence[Bound], rows: int
) -> int | None:
    """Estimated rows for ``interval`` to clear ``bounds`` at the measured ``value``.

    The interval's reach on the side of each bound it crosses shrinks as 1/sqrt(rows), so
    ``rows * (reach / margin) ** 2`` rows bring it inside the margin. An estimate: it
    assumes the value stays where it was measured. None when the value lies on a bound
    (no number of rows clears it) or ``rows`` is unknown.

    Examples
    --------
    >>> rows_to_clear(0.82, (0.78, 0.86), [Bound(0.80, "at_least")], 1000)
    4000
    """
    if rows <= 0:
        return None
    need = float(rows)
    for b in bounds:
        end = min(interval) if b.direction == "at_least" else max(interval)
        if b.holds(end):
            continue
        room = b.margin(value)
        if room <= 0:
            return None
        need = max(need, rows * (abs(value - end) / room) ** 2)
    return int(math.ceil(need - 1e-9))


def _worst(value: float, bounds: Sequence[Bound]) -> Bound:
    """The bound ``value`` is closest to (or furthest beyond)."""
    return min(bounds, key=lambda b: b.margin(value))


def _straddles(value, interval, bounds, rows: int | None) -> Judgement:
    low, high = interval
    crossed = [
        b
        for b in bounds
        if not b.holds(min(interval) if b.direction == "at_least" else max(interval))
    ]
    reason = MSG_STRADDLES.format(
        value=fmt_number(value),
        low=fmt_number(low),
        high=fmt_number(high),
        bound=fmt_number(_worst(value, crossed or bounds).value),
    )
    needed = rows_to_clear(value, interval, bounds, rows) if rows else None
    if needed is not None:
        reason += MSG_ROWS_NEEDED.format(rows=f"{needed:,}", now=f"{rows:,}")
    elif rows and min(b.margin(value) for b in bounds) <= 0:
        reason += MSG_ON_THE_BOUND
    return Judgement("inconclusive", margin(value, bounds), reason, rows_needed=needed)


def judge(
    value: float | None,
    interval: tuple[float, float] | None,
    bounds: Sequence[Bound],
    *,
    require: Require = "point",
    breach: Literal["warn", "fail"] = "fail",
    rows: int | None = None,
) -> Judgement:
    """Judge a measured ``value`` (and its ``interval``) against ``bounds``.

    Parameters
    ----------
    value : float or None
        The point estimate; None or NaN cannot be judged (``error``).
    interval : (float, float) or None
        Its confidence interval; only read when ``require`` is ``"confidence"``.
    bounds : sequence of Bound
        Every bound must hold.
    require : {"point", "confidence"}
        ``point``: the estimate must meet the bounds; ``confidence``: the whole interval
        must. Under ``confidence`` an estimate that misses a bound is a breach whatever its
        interval; only an estimate that meets the bounds with an interval reaching past
        them is ``inconclusive``.
    breach : {"warn", "fail"}
        The status of a broken bound: diagnostics warn, criteria fail.
    rows : int, optional
        Rows the value was measured on; an inconclusive judgement then estimates the rows
        that would clear the bound (:func:`rows_to_clear`).

    Returns
    -------
    Judgement

    Examples
    --------
    >>> judge(0.12, None, [Bound(0.10, "at_most")], breach="warn").status
    'warn'
    >>> judge(0.82, (0.78, 0.86), [Bound(0.80, "at_least")], require="confidence").status
    'inconclusive'
    >>> judge(0.69, (0.61, 0.78), [Bound(0.75, "at_least")], require="confidence").status
    'fail'
    """
    if value is None or not math.isfinite(value):
        return Judgement("error", None, MSG_UNDEFINED)
    m = margin(value, bounds)
    if require == "confidence":
        if not interval:
            return Judgement("inconclusive", m, MSG_NO_INTERVAL)
        low, high = interval
        ends = [margin(end, bounds) for end in interval]
        if max(ends) < 0:
            return Judgement(
                breach, m, MSG_INTERVAL_MISSES.format(low=fmt_number(low), high=fmt_number(high))
            )
        if m < 0:
            return Judgement(
                breach,
                m,
                MSG_MISSES_CONFIDENCE.format(
                    value=fmt_number(value),
                    bound=fmt_number(_worst(value, bounds).value),
                    low=fmt_number(low),
                    high=fmt_number(high),
                ),
            )
        if min(ends) >= 0:
            return Judgement("pass", m)
        return _straddles(value, interval, bounds, rows)
    if m >= 0:
        return Judgement("pass", m)
    return Judgement(
        breach,
        m,
        MSG_MISSES.format(value=fmt_number(value), bound=fmt_number(_worst(value, bounds).value)),
    )
