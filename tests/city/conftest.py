"""Fixtures for city packs: a copy of the example pack to break, and a runner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "evanston"


@pytest.fixture
def pack(tmp_path) -> Path:
    """A private copy of the Evanston example pack."""
    target = tmp_path / "evanston"
    shutil.copytree(EXAMPLE, target)
    return target


@pytest.fixture
def city_cli(app):
    """Run ``flask city ...`` in the test's app; returns the click result."""
    runner = app.test_cli_runner()

    def run(*args: str):
        return runner.invoke(args=["city", *args])

    return run
