"""Measure the Husky's effective wheel radius and skid-steer track width in PyBullet.

* Radius: all wheels at the same speed ω for 3 s (after 2 s to settle); radius = distance
  travelled (ground truth) / wheel angle turned (encoders).
* Track: left wheels at -ω, right at +ω (turn in place), and an arc (left ω, right 2ω);
  track = r_eff · (right wheel angle - left wheel angle) / yaw turned (ground truth).

These are the numbers odometry and twist→wheel conversion need (the profile's
``robot.wheels.radius`` and ``robot.wheels.separation × separation_multiplier``)::

    flock /tmp/fw-bench.lock python bench/measure_husky_kinematics.py
"""

from __future__ import annotations

import math
from dataclasses import replace

from fw_common.profile.sim import ScenarioConfig, SimConfig
from fw_sim.world import SimWorld

NAMES = ["front_left_wheel", "front_right_wheel", "rear_left_wheel", "rear_right_wheel"]


def _drive(world: SimWorld, left: float, right: float, seconds: float) -> tuple[float, ...]:
    """Drive; returns (distance m, yaw turned rad, left wheel angle rad, right wheel angle)."""
    start = world.ground_truth()
    js0 = world.joint_states().positions
    prev_yaw, turned = start.pose2d.yaw, 0.0
    for k in range(round(seconds * world.physics_rate)):
        if k % 12 == 0:
            world.apply_wheel_velocities(NAMES, [left, right, left, right])
            yaw = world.ground_truth().pose2d.yaw
            turned += (yaw - prev_yaw + math.pi) % (2 * math.pi) - math.pi
            prev_yaw = yaw
        world.step()
    end = world.ground_truth()
    js1 = world.joint_states().positions
    d = [b - a for a, b in zip(js0, js1, strict=True)]
    distance = math.dist(start.position[:2], end.position[:2])
    return distance, turned, (d[0] + d[2]) / 2, (d[1] + d[3]) / 2


def main() -> None:
    config = SimConfig(scenario=replace(ScenarioConfig(), box_count=0, cylinder_count=0))
    with SimWorld(config) as world:
        radii = []
        for omega in (2.0, 5.0, 8.0):
            world.reset()
            _drive(world, omega, omega, 2.0)
            dist, _, left, right = _drive(world, omega, omega, 3.0)
            radii.append(dist / ((left + right) / 2))
            print(f"straight ω={omega:4.1f} rad/s: v={dist / 3:.3f} m/s r_eff={radii[-1]:.4f} m")
        r = sum(radii) / len(radii)
        for left_w, right_w in ((-2.0, 2.0), (-5.0, 5.0), (-8.0, 8.0), (2.0, 4.0), (4.0, 6.0)):
            world.reset()
            _drive(world, left_w, right_w, 1.0)
            _, yaw, left, right = _drive(world, left_w, right_w, 3.0)
            track = r * (right - left) / yaw
            print(
                f"wheels L={left_w:+.0f} R={right_w:+.0f} rad/s: yaw rate {yaw / 3:.3f} rad/s, "
                f"effective track {track:.3f} m (multiplier {track / 0.5708:.2f} on 0.5708 m)"
            )
        print(f"effective wheel radius {r:.4f} m")


if __name__ == "__main__":
    main()
