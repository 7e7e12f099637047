"""Fixtures for the spec tests (the data itself is built in tests/spec/specdata.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.spec.specdata import write_data_files


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    return write_data_files(tmp_path_factory.mktemp("spec-data"))


@pytest.fixture()
def spec_dir(data_dir: Path, tmp_path: Path) -> Path:
    """A fresh folder holding links to the shared data files; specs are written here."""
    for src in data_dir.iterdir():
        (tmp_path / src.name).symlink_to(src)
    return tmp_path
