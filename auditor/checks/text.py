"""Plain-language formatting shared by the checks: numbers, percentages, intervals."""

from __future__ import annotations

import math
from typing import Any

from auditor.words import count_words, form

__all__ = [
    "advice",
    "ci_pair",
    "ci_text",
    "count_words",
    "downsample",
    "finite",
    "form",
    "interval_row",
    "num",
    "pct",
    "points",
]


#: The step for a model not trained here whose fit, training or data handling is in doubt
#: (``{ask}``: :attr:`auditor.words.Addressee.opening`, "Ask the vendor" or "Check").
VALIDATION_STEP = (
    "{ask} whether the model was trained on data like the client's, and how it was "
    "validated on recent data."
)


def advice(ctx: Any, own: str, *, vendor: str | None = None) -> str:
    """The step to recommend: ``own`` for a model trained here, else ``vendor``.

    For a model not trained here (``model.vendor``: a vendor's file, or the caller's own
    model given in memory) the step says what to find out about its training, in the words
    of ``ctx.addressee`` (:func:`auditor.words.addressee`): no preprocessing, architecture or
    training advice. ``vendor`` defaults to :data:`VALIDATION_STEP`.
    """
    if ctx.spec.model.vendor is None:
        return own
    return vendor if vendor is not None else VALIDATION_STEP.format(ask=ctx.addressee.opening)


def num(value: float | None, *, digits: int = 2) -> str:
    """A number for a sentence: 0.8123 -> '0.81'; 12345.6 -> '12,346'; None -> 'n/a'."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.{digits}f}"


def pct(value: float | None, *, digits: int = 0) -> str:
    """0.142 -> '14%'."""
    return "n/a" if value is None else f"{100 * value:.{digits}f}%"


def points(value: float | None) -> str:
    """A difference of rates in percentage points: 0.142 -> '14 points'."""
    if value is None:
        return "n/a"
    v = 100 * value
    text = f"{v:.0f}" if abs(v) >= 1 else f"{v:.1f}"
    return f"{text} point" if text in ("1", "-1") else f"{text} points"


def ci_text(ci: Any, confidence: float, *, as_points: bool = False, digits: int = 2) -> str:
    """'(95% CI 0.78 to 0.84)', or '' without an interval."""
    if not ci or ci[0] is None or ci[1] is None:
        return ""
    level = f"{100 * confidence:g}%"
    if as_points:
        return f" ({level} CI {100 * ci[0]:.0f} to {100 * ci[1]:.0f} points)"
    return f" ({level} CI {num(ci[0], digits=digits)} to {num(ci[1], digits=digits)})"


def finite(value: Any) -> float | None:
    """A plain float, or None for NaN/inf/None."""
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def interval_row(label: str, estimate: Any) -> dict[str, Any]:
    """One row of a ``metric_intervals`` chart from an Estimate (value, low, high)."""
    return {
        "label": label,
        "value": finite(estimate.value),
        "low": finite(estimate.low),
        "high": finite(estimate.high),
    }


def ci_pair(low: Any, high: Any) -> tuple[float, float] | None:
    """An interval of two finite floats, or None when either end is missing or not finite."""
    lo, hi = finite(low), finite(high)
    return None if lo is None or hi is None else (lo, hi)


def downsample(n: int, limit: int) -> list[int]:
    """At most ``limit`` evenly spread indices of 0..n-1, always keeping the first and last."""
    if n <= limit:
        return list(range(n))
    import numpy as np

    return sorted(set(np.linspace(0, n - 1, limit).round().astype(int).tolist()))
