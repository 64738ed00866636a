"""Actuator bridge: cmd_vel → wheel velocity commands, wheel encoders → odometry.

The cores (:mod:`watchdog`, :mod:`odometry`, :mod:`bridge`, with the kinematics of
:mod:`fw_common.kinematics`) are plain Python; :mod:`bridge_node` and :mod:`backends` wire them
to ROS 2.
"""
