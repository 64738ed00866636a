from setuptools import find_packages, setup

package_name = "fw_common"

setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    # What `colcon test` looks for to run the package's tests with pytest (ROS 2 template).
    extras_require={"test": ["pytest"]},
    maintainer="Flywheel developers",
    maintainer_email="dev@flywheel.invalid",
    description="Flywheel shared contracts: topics, QoS, frames, conversions, robot profile.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "check_profile = fw_common.profile.cli:main",
        ],
    },
)
