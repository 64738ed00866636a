"""Actuator bridge: cmd_vel → wheel velocity commands, wheel encoders → odometry.

The cores (:mod:`kinematics`, :mod:`watchdog`, :mod:`odometry`, :mod:`bridge`) are plain Python;
:mod:`bridge_node` and :mod:`backends` wire them to ROS 2.
"""
