"""Metrics: a registry of named metrics and their vectorised bootstrap intervals."""

from auditor.metrics.bootstrap import (
    Estimate,
    bootstrap_metrics,
    bootstrap_rows,
    compute_metrics,
    draw_weights,
    hull_interval,
    percentile_interval,
    point_metrics,
    resample_apply,
)
from auditor.metrics.registry import (
    METRICS,
    UNKNOWN_METRIC,
    Metric,
    UnknownMetricError,
    check_applicable,
    get_metric,
    metric_names,
)
from auditor.metrics.weighted import Rows

__all__ = [
    "METRICS",
    "UNKNOWN_METRIC",
    "Estimate",
    "Metric",
    "Rows",
    "UnknownMetricError",
    "bootstrap_metrics",
    "bootstrap_rows",
    "check_applicable",
    "compute_metrics",
    "draw_weights",
    "hull_interval",
    "get_metric",
    "metric_names",
    "percentile_interval",
    "point_metrics",
    "resample_apply",
]
