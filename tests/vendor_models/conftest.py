"""Session fixtures of the vendor tests (helpers live in vendor_helpers.py)."""

from __future__ import annotations

import pytest
from vendor_helpers import build_dataset

from auditor.types import Dataset


@pytest.fixture(scope="session")
def loan() -> Dataset:
    return build_dataset("loan", 500, 3)


@pytest.fixture(scope="session")
def triage() -> Dataset:
    # encoded order differs from sorted order, so class alignment is exercised
    return build_dataset("triage", 500, 4, classes=["low", "medium", "high"])


@pytest.fixture(scope="session")
def claims() -> Dataset:
    return build_dataset("claims", 400, 5)


@pytest.fixture(scope="session")
def loan_numeric() -> Dataset:
    return build_dataset("loan", 400, 6, numeric_only=True)


@pytest.fixture(autouse=True)
def _one_openmp_thread():
    """Tiny models: one OpenMP thread is fastest, and immune to a busy machine's spinning."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        yield
