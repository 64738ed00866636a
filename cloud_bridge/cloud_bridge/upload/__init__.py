"""The episode uploader (runs on the robot, no ROS): the recorder's ``ready/`` folder to the
store, resumable, verified, retried, bandwidth-capped, within a disk budget."""
