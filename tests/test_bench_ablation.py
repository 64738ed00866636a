"""The latency benchmark's ablation (bench/ablation.py) caches only inside its block, per call."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from ablation import ablated, parse_parts
from fw_common.observation import DEFAULT_SPEC, ObservationSpec
from fw_common.profile import PerceptionConfig
from fw_perception.scan_filter import ScanCleaner

CLEANER = ScanCleaner.from_config(PerceptionConfig())
ANGLES = (-np.pi, 2 * np.pi / 360)


def test_cores_answer_each_distinct_call_once_and_only_inside_the_block() -> None:
    ranges = np.full(360, 2.0, dtype=np.float32)
    other = np.full(360, 3.0, dtype=np.float32)
    original, featurize = ScanCleaner.clean, ObservationSpec.featurize
    with ablated(parse_parts("clean, featurize")):
        assert ScanCleaner.clean is not original
        first = CLEANER.clean(ranges, *ANGLES, 0.1, 12.0)
        # Same limits, other ranges: the cached answer (the benchmark's ranges never change).
        assert CLEANER.clean(other, *ANGLES, 0.1, 12.0) is first
        # Other limits: computed, and right.
        fresh = CLEANER.clean(other, *ANGLES, 0.1, 5.0)
        assert fresh is not first
        expected = original(CLEANER, other, *ANGLES, 0.1, 5.0)
        np.testing.assert_array_equal(fresh.ranges, expected.ranges)
        obs = DEFAULT_SPEC.featurize(ranges, *ANGLES, (1.0, 0.0), 0.0, 0.0)
        assert DEFAULT_SPEC.featurize(other, *ANGLES, (1.0, 0.0), 0.0, 0.0) is obs
        assert DEFAULT_SPEC.featurize(ranges, *ANGLES, (0.0, 1.0), 0.0, 0.0) is not obs
    assert ScanCleaner.clean is original and ObservationSpec.featurize is featurize
    assert CLEANER.clean(other, *ANGLES, 0.1, 12.0) is not first


def test_cores_are_restored_when_the_block_raises() -> None:
    original = ScanCleaner.clean
    with pytest.raises(RuntimeError), ablated(("clean",)):
        raise RuntimeError("case failed")
    assert ScanCleaner.clean is original


def test_unknown_parts_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"unknown parts \['parse'\]; choose from clean"):
        parse_parts("clean,parse")
    assert parse_parts("") == ()
