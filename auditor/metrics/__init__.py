"""Metrics: the performance and fairness catalogues and their vectorised bootstrap intervals."""

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
from auditor.metrics.performance import (
    DEFAULT_METRIC,
    METRICS,
    UNKNOWN_METRIC,
    Metric,
    UnknownMetricError,
    check_applicable,
    decisions,
    default_metric,
    get_metric,
    metric_names,
    rank_auc,
)
from auditor.metrics.weighted import Rows

__all__ = [
    "DEFAULT_METRIC",
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
    "decisions",
    "default_metric",
    "draw_weights",
    "hull_interval",
    "get_metric",
    "metric_names",
    "percentile_interval",
    "point_metrics",
    "rank_auc",
    "resample_apply",
]
