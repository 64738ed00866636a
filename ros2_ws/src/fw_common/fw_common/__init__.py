"""Flywheel shared contracts: topics, QoS classes, frames, conversions and the robot profile.

``fw_common.qos`` and ``fw_common.ros_params`` import rclpy; everything else is plain Python so
cores and the cloud side can use it without a ROS graph.
"""
