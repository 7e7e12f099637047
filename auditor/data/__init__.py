"""The data stage: spec -> Dataset (tables, column roles, splits, fitted preprocessing).

The entry point :func:`build_dataset` is in :mod:`auditor.data.build`.
"""

from auditor.data.build import balanced_class_weights, build_dataset
from auditor.data.sources import read_table, sha256_file

__all__ = ["balanced_class_weights", "build_dataset", "read_table", "sha256_file"]
