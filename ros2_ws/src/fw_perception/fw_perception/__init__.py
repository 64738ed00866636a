"""fw_perception: scan cleaning, wheel + IMU state fusion, the goal in the robot frame.

The cores (:mod:`scan_filter`, :mod:`state_fusion`, :mod:`goal`) import no ROS and are reused by
the cloud side to rebuild exactly what the robot saw.
"""
