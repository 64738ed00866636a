"""Test support: real ROS 2 processes and an in-test probe node (no mocks of ROS)."""
