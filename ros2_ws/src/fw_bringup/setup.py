from glob import glob

from setuptools import find_packages, setup

package_name = "fw_bringup"

setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
        ("share/" + package_name + "/config/profiles", glob("config/profiles/*.yaml")),
        # `launch` links to the repository's top-level launch/ folder (ros2 launch fw_bringup ...).
        ("share/" + package_name + "/launch", glob("launch/*.launch.py")),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    # What `colcon test` looks for to run the package's tests with pytest (ROS 2 template).
    extras_require={"test": ["pytest"]},
    maintainer="Flywheel developers",
    maintainer_email="dev@flywheel.invalid",
    description="Robot profiles and bringup of a robot's nodes.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "bringup = fw_bringup.main:main",
            "send_goal = fw_bringup.send_goal:main",
            "mission = fw_bringup.mission_node:main",
        ],
    },
)
