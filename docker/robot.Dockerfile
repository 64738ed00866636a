# The robot image: ROS 2 from the official packages (never the PyPI wheels), the Flywheel
# workspace built with colcon, the cloud agent's Python side (cloud_bridge[robot]: the store,
# the uploader, the release client), and the bringup as entry point.
#
#   docker build -f docker/robot.Dockerfile -t flywheel/robot .
#   docker run --rm --net=host -v /etc/flywheel:/etc/flywheel:ro flywheel/robot \
#       ros2 launch fw_bringup robot.launch.py profile:=/etc/flywheel/robot.yaml
#   # a simulated robot with its agent, as docker/compose.yaml runs it:
#   docker run --rm flywheel/robot python3 -m fw_bringup.main --profile sim \
#       --namespace robot_1 --robot-id robot_1 --set cloud_agent.store_url=s3://fleet ...
#
# Not built in this repository's CI (its hosts have no Docker engine): tests/test_docker.py
# lints this file with hadolint.
ARG ROS_DISTRO=kilted
FROM ros:${ROS_DISTRO}-ros-base

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /opt/flywheel
# colcon's console scripts run /usr/bin/python3, so the packages rosdep takes from pip (the
# *-pip keys: pybullet, onnxruntime, rosbags) and cloud_bridge must be in that interpreter: a
# venv would hide them from the nodes. The image runs one program; nothing else uses its pip.
ENV PIP_BREAK_SYSTEM_PACKAGES=1 PIP_NO_CACHE_DIR=1
COPY ros2_ws/src ros2_ws/src
COPY launch launch

# Dependencies from package.xml through rosdep: apt packages of the same ROS distro.
RUN apt-get update \
    && rosdep update --rosdistro "${ROS_DISTRO}" \
    && rosdep install --from-paths ros2_ws/src --ignore-src -y --rosdistro "${ROS_DISTRO}" \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/flywheel/ros2_ws
RUN . "/opt/ros/${ROS_DISTRO}/setup.bash" \
    && colcon build --merge-install --event-handlers console_direct-
WORKDIR /opt/flywheel

# The agent's Python side, at the versions the repository locks (requirements.txt as
# constraints: only cloud_bridge[robot]'s own dependencies are installed from it).
COPY requirements.txt requirements.txt
COPY cloud_bridge cloud_bridge
RUN python3 -m pip install --constraint requirements.txt "./cloud_bridge[robot]"

ENV ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET
COPY docker/entrypoint.sh /entrypoint.sh
ENTRYPOINT ["/entrypoint.sh"]
CMD ["ros2", "launch", "fw_bringup", "robot.launch.py"]
