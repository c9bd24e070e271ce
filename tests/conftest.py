"""Shared fixtures: bundled examples, a built sample handout, PDF helpers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from handouts.resources import examples_dir


@pytest.fixture(scope="session")
def examples() -> Path:
    return examples_dir()


@pytest.fixture
def client_dir(tmp_path: Path, examples: Path) -> Path:
    """A writable copy of the example practice (practice file, logo, profiles)."""
    target = tmp_path / "practice"
    shutil.copytree(examples, target)
    return target
