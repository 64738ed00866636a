"""Flywheel simulator: a PyBullet Husky world in plain Python (no rclpy), and its ROS node.

The cores (:mod:`fw_sim.world`, :mod:`fw_sim.scenario`, :mod:`fw_sim.expert`, ...) run headless
without ROS for fast evaluation; :mod:`fw_sim.sim_node` wraps them for the ROS graph.
"""

__all__: list[str] = []
