"""Clearance from ground truth: the body box against obstacle footprints, exact distances."""

from __future__ import annotations

import math

import pytest

from fw_bringup.clearance import body_box, clearance
from fw_common.profile.body import FootprintBox
from fw_sim.scenario import Obstacle

# A 1 m × 0.6 m body, base_link 0.2 m behind the box's centre (front 0.7, rear 0.3).
FOOTPRINT = FootprintBox(front=0.7, rear=0.3, left=0.3, right=0.3)


def cylinder(x: float, y: float, r: float = 0.5) -> Obstacle:
    return Obstacle(kind="cylinder", x=x, y=y, height=1.0, radius=r)


def box(x: float, y: float, sx: float, sy: float, yaw: float = 0.0) -> Obstacle:
    return Obstacle(kind="box", x=x, y=y, height=1.0, yaw=yaw, size_x=sx, size_y=sy)


def test_the_body_box_is_placed_by_the_footprint_offsets() -> None:
    body = body_box(FOOTPRINT, 1.0, 2.0, math.pi / 2)
    # Facing +y: the box's centre is 0.2 m ahead of base_link, i.e. at y + 0.2.
    assert body.x == pytest.approx(1.0) and body.y == pytest.approx(2.2)
    assert (body.size_x, body.size_y) == (1.0, 0.6)


def test_distances_ahead_beside_and_behind() -> None:
    body = body_box(FOOTPRINT, 0.0, 0.0, 0.0)
    # Front edge at x = 0.7: a cylinder of radius 0.5 at x = 2 leaves 0.8 m.
    assert clearance(body, [cylinder(2.0, 0.0)]) == pytest.approx(0.8)
    # Rear edge at x = -0.3.
    assert clearance(body, [cylinder(-1.3, 0.0)]) == pytest.approx(0.5)
    # Left edge at y = 0.3; the nearest of several obstacles counts.
    assert clearance(body, [cylinder(0.0, 1.3), cylinder(5.0, 5.0)]) == pytest.approx(0.5)
    # Off a corner (0.7, 0.3): diagonal distance to the cylinder's centre less its radius.
    assert clearance(body, [cylinder(1.7, 1.3)]) == pytest.approx(math.sqrt(2) - 0.5)


def test_box_corners_against_the_body_edge_and_body_corners_against_a_box() -> None:
    body = body_box(FOOTPRINT, 0.0, 0.0, 0.0)
    # A box turned 45° with a corner pointing at the middle of the front edge: no body corner
    # is nearest, the obstacle's corner is (1.0 - 0.5·√2 - 0.7 from its centre at x = 1.0+...).
    half_diag = 0.5 * math.sqrt(2) * 0.5
    diamond = box(0.7 + 0.4 + half_diag, 0.0, 0.5, 0.5, math.pi / 4)
    assert clearance(body, [diamond]) == pytest.approx(0.4)
    # A wide wall beyond the left edge: the body's corners are nearest.
    wall = box(0.0, 1.3, 4.0, 1.0)
    assert clearance(body, [wall]) == pytest.approx(0.5)


def test_touching_and_overlapping_give_zero_and_nothing_gives_infinity() -> None:
    body = body_box(FOOTPRINT, 0.0, 0.0, 0.0)
    assert clearance(body, [cylinder(0.0, 0.0)]) == 0.0
    assert clearance(body, [box(0.8, 0.0, 0.4, 0.4)]) == 0.0
    assert clearance(body, []) == math.inf
