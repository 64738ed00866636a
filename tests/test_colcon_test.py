"""`colcon test` runs every package's tests with pytest, as a ROS user's CI does.

colcon picks pytest for an ament_python package only when its setup.py declares pytest as a test
dependency; otherwise it falls back to unittest, which finds none of these tests. This asks
colcon's own package reader what it sees in each setup.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from colcon_core.task.python.test import has_test_dependency
from colcon_python_setup_py.package_identification.python_setup_py import (
    get_setup_information,
)

SRC = Path(__file__).resolve().parent.parent / "ros2_ws" / "src"
PACKAGES = sorted(p.parent for p in SRC.glob("*/setup.py"))


@pytest.mark.parametrize("package", PACKAGES, ids=[p.name for p in PACKAGES])
def test_colcon_runs_the_package_tests_with_pytest(package: Path) -> None:
    assert (package / "test").is_dir(), "every package keeps its core tests in test/"
    setup_py_data = get_setup_information(package / "setup.py")
    assert has_test_dependency(setup_py_data, "pytest"), (
        f"{package.name}/setup.py: add extras_require={{'test': ['pytest']}}"
    )
    assert "<test_depend>python3-pytest</test_depend>" in (package / "package.xml").read_text()
