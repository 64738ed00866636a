# The cloud image: the `flywheel` command (cloud_bridge[cloud]) and the robot's cores that the
# cloud loop re-runs (the robot loop, the headless simulator for evaluation), with no ROS: the
# cloud imports cores only, never nodes (.importlinter-cloud), so rclpy is not installed.
#
#   docker build -f docker/cloud.Dockerfile -t flywheel/cloud .
#   docker run --rm -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY flywheel/cloud \
#       episodes ls --store s3://fleet --endpoint-url http://minio:9000
#
# Not built in this repository's CI (its hosts have no Docker engine): tests/test_docker.py
# lints this file with hadolint.
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1
WORKDIR /opt/flywheel
COPY requirements.txt requirements.txt
COPY cloud_bridge cloud_bridge
# The cores' packages (plain setuptools packages; their ROS node modules are never imported).
COPY ros2_ws/src ros2_ws/src
# Every version from the repository's lock (requirements.txt as constraints). The cores'
# third-party imports are named here because their package.xml, not setup.py, lists them.
RUN pip install --constraint requirements.txt \
        "./cloud_bridge[cloud]" numpy pyyaml pybullet onnxruntime rosbags mcap \
    && pip install --constraint requirements.txt --no-deps \
        ./ros2_ws/src/fw_common ./ros2_ws/src/fw_sim ./ros2_ws/src/fw_perception \
        ./ros2_ws/src/fw_policy ./ros2_ws/src/fw_safety ./ros2_ws/src/fw_actuator_bridge \
        ./ros2_ws/src/fw_recorder ./ros2_ws/src/fw_bringup

# Its folders exist owned by the user, so the named volumes compose mounts on them start so.
RUN useradd --create-home --uid 10001 flywheel \
    && mkdir -p /var/lib/flywheel/keys /var/lib/flywheel/trust /var/lib/flywheel/runs \
    && chown -R flywheel /var/lib/flywheel
USER 10001
WORKDIR /var/lib/flywheel
ENTRYPOINT ["flywheel"]
CMD ["--help"]
