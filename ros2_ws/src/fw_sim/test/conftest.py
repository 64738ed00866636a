"""Shared fixtures: small, real PyBullet worlds (no mocks)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from fw_common.profile.sim import ScenarioConfig, SimConfig
from fw_sim.world import SimWorld


def empty_config(**overrides: object) -> SimConfig:
    """A world without obstacles (sensor and actuation tests)."""
    config = SimConfig(scenario=replace(ScenarioConfig(), box_count=0, cylinder_count=0))
    return replace(config, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def empty_world() -> Iterator[SimWorld]:
    with SimWorld(empty_config()) as world:
        yield world
