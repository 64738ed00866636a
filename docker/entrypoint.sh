#!/usr/bin/env bash
# Source ROS and the Flywheel workspace, then run the command (a launch by default).
set -e
source "/opt/ros/${ROS_DISTRO}/setup.bash"
source /opt/flywheel/ros2_ws/install/setup.bash
exec "$@"
