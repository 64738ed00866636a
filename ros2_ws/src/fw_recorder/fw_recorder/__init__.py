"""fw_recorder: serialized recording of robot topics into rosbag2 episodes.

The cores (no rclpy) are :mod:`fw_recorder.recorder` (the writer thread, modes and triggers),
:mod:`fw_recorder.ring` (the snapshot ring buffer), :mod:`fw_recorder.windows` (trigger
windows), :mod:`fw_recorder.episode_bag` (one bag + manifest), :mod:`fw_recorder.spool` (spool
folders and disk policy), :mod:`fw_recorder.recovery` (crash recovery) and
:mod:`fw_recorder.msgdefs` (message definitions and type hashes). The ROS node is
:mod:`fw_recorder.recorder_node`.
"""
