"""Judging a measurement against a bound: the one comparison diagnostics and criteria share.

Measuring and judging are separate (Evidently's metric/test split): a check measures a
value and its interval; :func:`judge` compares them with one or more :class:`Bound` and
says whether the bound holds. A diagnostic calls a breach ``warn``; an acceptance
criterion calls it ``fail``. No check compares a value with a threshold itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Direction = Literal["at_least", "at_most"]
Require = Literal["point", "confidence"]
JudgedStatus = Literal["pass", "warn", "fail", "inconclusive", "error"]

MSG_UNDEFINED = "the measured value is undefined"
MSG_NO_INTERVAL = (
    "the whole confidence interval must meet the bound, but no interval was computed "
    "(evaluation.bootstrap is 0)"
)
MSG_INTERVAL_MISSES = "the whole interval {low} to {high} misses the bound"
MSG_STRADDLES = (
    "the confidence interval {low} to {high} straddles the bound {bound}: more data is "
    "needed to be sure"
)
MSG_MISSES = "measured {value}, bound {bound}"


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

    def margin(self, x: float) -> float:
        """Signed distance of ``x`` to the bound; positive on the good side."""
        return x - self.value if self.direction == "at_least" else self.value - x

    def holds(self, x: float) -> bool:
        """Whether ``x`` meets the bound (a value on the bound meets it)."""
        return self.margin(x) >= 0

    @property
    def words(self) -> str:
        """'at least 0.80' / 'at most 0.10'."""
        return f"{self.direction.replace('_', ' ')} {fmt_number(self.value)}"


@dataclass(frozen=True)
class Judgement:
    """What :func:`judge` decided: the status, the margin and, unless it passed, why."""

    status: JudgedStatus
    margin: float | None = None
    reason: str = ""


def margin(value: float, bounds: Sequence[Bound]) -> float:
    """The smallest margin over ``bounds`` (negative when any is broken)."""
    return min(b.margin(value) for b in bounds)


def judge(
    value: float | None,
    interval: tuple[float, float] | None,
    bounds: Sequence[Bound],
    *,
    require: Require = "point",
    breach: Literal["warn", "fail"] = "fail",
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
        must (an interval straddling a bound is ``inconclusive``).
    breach : {"warn", "fail"}
        The status of a broken bound: diagnostics warn, criteria fail.

    Returns
    -------
    Judgement

    Examples
    --------
    >>> judge(0.12, None, [Bound(0.10, "at_most")], breach="warn").status
    'warn'
    >>> judge(0.82, (0.78, 0.86), [Bound(0.80, "at_least")], require="confidence").status
    'inconclusive'
    """
    if value is None or not math.isfinite(value):
        return Judgement("error", None, MSG_UNDEFINED)
    m = margin(value, bounds)
    if require == "confidence":
        if not interval:
            return Judgement("inconclusive", m, MSG_NO_INTERVAL)
        low, high = interval
        ends = [margin(end, bounds) for end in interval]
        if min(ends) >= 0:
            return Judgement("pass", m)
        if max(ends) < 0:
            return Judgement(
                breach, m, MSG_INTERVAL_MISSES.format(low=fmt_number(low), high=fmt_number(high))
            )
        return Judgement(
            "inconclusive",
            m,
            MSG_STRADDLES.format(
                low=fmt_number(low), high=fmt_number(high), bound=fmt_number(bounds[0].value)
            ),
        )
    if m >= 0:
        return Judgement("pass", m)
    return Judgement(
        breach, m, MSG_MISSES.format(value=fmt_number(value), bound=fmt_number(bounds[0].value))
    )
