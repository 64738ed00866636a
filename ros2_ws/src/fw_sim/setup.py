from setuptools import find_packages, setup

package_name = "fw_sim"

setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
    ],
    install_requires=["setuptools", "rosbags"],
    zip_safe=True,
    # What `colcon test` looks for to run the package's tests with pytest (ROS 2 template).
    extras_require={"test": ["pytest"]},
    maintainer="Flywheel developers",
    maintainer_email="dev@flywheel.invalid",
    description="Flywheel PyBullet simulator: Husky world, sensors, scenarios, expert controller.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "sim_node = fw_sim.sim_node:main",
        ],
    },
)
