# The robot image: ROS 2 from the official packages (never the PyPI wheels), the Flywheel
# workspace built with colcon, and the bringup as entry point.
#
#   docker build -f docker/robot.Dockerfile -t flywheel/robot .
#   docker run --rm --net=host -v /etc/flywheel:/etc/flywheel:ro flywheel/robot \
#       ros2 launch fw_bringup robot.launch.py profile:=/etc/flywheel/robot.yaml
#
# Not built in this repository's CI (its hosts have no Docker engine).
ARG ROS_DISTRO=kilted
FROM ros:${ROS_DISTRO}-ros-base

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /opt/flywheel
COPY ros2_ws/src ros2_ws/src
COPY launch launch

# Dependencies from package.xml through rosdep: apt packages of the same ROS distro.
RUN apt-get update \
    && rosdep update --rosdistro "${ROS_DISTRO}" \
    && rosdep install --from-paths ros2_ws/src --ignore-src -y --rosdistro "${ROS_DISTRO}" \
    && rm -rf /var/lib/apt/lists/*

RUN source "/opt/ros/${ROS_DISTRO}/setup.bash" \
    && cd ros2_ws \
    && colcon build --merge-install --event-handlers console_direct-

ENV ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET
COPY docker/entrypoint.sh /entrypoint.sh
ENTRYPOINT ["/entrypoint.sh"]
CMD ["ros2", "launch", "fw_bringup", "robot.launch.py"]
