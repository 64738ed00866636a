"""Fixtures of the recorder core tests (helpers live in recorder_test_helpers)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from recorder_test_helpers import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()
