from setuptools import find_packages, setup

package_name = "fw_cloud_agent"

setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml", "README.md"]),
    ],
    # cloud_bridge[robot] (boto3, tuf) is a pip package, installed beside ROS: see README.md.
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="Flywheel developers",
    maintainer_email="dev@flywheel.invalid",
    description="Episode upload, TUF-verified releases, swap deferral and automatic rollback.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "cloud_agent = fw_cloud_agent.agent_node:main",
        ],
    },
)
