from setuptools import find_packages, setup

package_name = "fw_recorder"

setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml", "README.md"]),
    ],
    install_requires=["setuptools", "rosbags"],
    zip_safe=True,
    # What `colcon test` looks for to run the package's tests with pytest (ROS 2 template).
    extras_require={"test": ["pytest"]},
    maintainer="Flywheel developers",
    maintainer_email="dev@flywheel.invalid",
    description="Serialized recording of robot topics into event-triggered rosbag2 episodes.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "recorder = fw_recorder.recorder_node:main",
        ],
    },
)
