"""Helpers shared by the test suites (not imported by the application)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def shared_data(relative: str) -> Path:
    """A path inside the shared data folder that sits beside the clone.

    ``CIVICGRID_SHARED_DATA`` overrides the location. In CI (``CI`` set) a missing folder
    is a failure; on a developer machine the test is skipped with a message.
    """
    root = Path(os.environ.get("CIVICGRID_SHARED_DATA", REPO.parent / "shared" / "data"))
    path = root / relative
    if not path.exists():
        message = f"shared data {relative!r} not found under {root}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path
