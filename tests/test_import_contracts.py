"""The import contracts of ``make lint`` catch what they promise to catch.

lint-imports runs on a copy of the fw_ packages (and of the contract files) in ``tmp_path``:
unchanged it keeps every contract, and an import that breaks the architecture, injected into
the copy, breaks the contract that forbids it (cores importing rclpy directly, transitively or
inside a function; a new module importing rclpy without being listed as a ROS adapter; fw_sim
importing a robot package; the cloud importing a node, rclpy or the bringup). A classification
test keeps every module of the real tree in exactly one of the two lists.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "ros2_ws" / "src"
PACKAGES = sorted(p.name for p in SRC.glob("fw_*") if (p / p.name / "__init__.py").is_file())
LINT_IMPORTS = shutil.which("lint-imports") or shutil.which(
    "lint-imports", path=str(Path(sys.executable).parent)
)

pytestmark = pytest.mark.skipif(
    LINT_IMPORTS is None, reason="lint-imports (PyPI import-linter) is not installed"
)

CORES = "Cores never import rclpy, even transitively"
ADAPTERS = "Only the ROS adapters import rclpy"
SIM = "The simulator imports no robot package"
CLOUD = "The cloud side imports cores only, never nodes nor rclpy"

Lint = Callable[[str], subprocess.CompletedProcess[str]]


def _contract(name: str, key: str) -> list[str]:
    parser = configparser.ConfigParser()
    parser.read(REPO / ".importlinter", encoding="utf-8")
    return parser[f"importlinter:contract:{name}"][key].split()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of every fw_ package (source only) and of both contract files."""
    for name in PACKAGES:
        shutil.copytree(
            SRC / name / name,
            tmp_path / "src" / name / name,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    for config in (".importlinter", ".importlinter-cloud"):
        shutil.copy(REPO / config, tmp_path / config)
    return tmp_path


@pytest.fixture
def lint(tree: Path) -> Lint:
    """Run lint-imports with a contract file of ``tree``, on ``tree``'s packages only."""

    def run(config: str) -> subprocess.CompletedProcess[str]:
        paths = [str(tree / "src" / name) for name in PACKAGES]
        if (tree / "cloud_bridge" / "cloud_bridge").is_dir():
            paths.append(str(tree / "cloud_bridge"))
        # Only the copies: the workspace's install space (on PYTHONPATH once sourced) would
        # otherwise be analysed instead.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        assert LINT_IMPORTS is not None
        return subprocess.run(
            [LINT_IMPORTS, "--config", config, "--no-cache"],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return run


def _append(path: Path, code: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(f"\n{code}\n")


def _broken(result: subprocess.CompletedProcess[str]) -> set[str]:
    lines = result.stdout.splitlines()
    return {line.removesuffix(" BROKEN") for line in lines if line.endswith(" BROKEN")}


def test_the_tree_as_it_is_keeps_every_contract(lint: Lint) -> None:
    result = lint(".importlinter")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{CORES} KEPT" in result.stdout
    assert f"{ADAPTERS} KEPT" in result.stdout
    assert f"{SIM} KEPT" in result.stdout


@pytest.mark.parametrize(
    ("module", "code", "broken", "chain"),
    [
        # Directly.
        ("fw_common/fw_common/planar.py", "import rclpy", {CORES, ADAPTERS}, "fw_common.planar"),
        # Transitively, through a ROS helper (a core importing an adapter).
        (
            "fw_safety/fw_safety/limits.py",
            "from fw_common import qos",
            {CORES},
            "fw_safety.limits -> fw_common.qos",
        ),
        # Hidden in a function, as a lazy import would be.
        (
            "fw_perception/fw_perception/scan_filter.py",
            "def _later() -> None:\n    import rclpy.node",
            {CORES, ADAPTERS},
            "fw_perception.scan_filter",
        ),
        # A robot package imported by the simulator (no rclpy involved).
        (
            "fw_sim/fw_sim/expert.py",
            "from fw_actuator_bridge import bridge",
            {SIM},
            "fw_sim.expert -> fw_actuator_bridge.bridge",
        ),
    ],
)
def test_an_injected_import_breaks_its_contract(
    tree: Path, lint: Lint, module: str, code: str, broken: set[str], chain: str
) -> None:
    _append(tree / "src" / module, code)
    result = lint(".importlinter")
    assert result.returncode != 0
    assert _broken(result) == broken, result.stdout
    assert chain in result.stdout


def test_a_new_module_that_imports_rclpy_must_be_listed_as_an_adapter(
    tree: Path, lint: Lint
) -> None:
    (tree / "src/fw_policy/fw_policy/ros_helper.py").write_text("import rclpy\n")
    result = lint(".importlinter")
    assert _broken(result) == {ADAPTERS}, result.stdout
    assert "fw_policy.ros_helper -> rclpy" in result.stdout


@pytest.mark.parametrize(
    ("code", "kept"),
    [
        ("from fw_perception.scan_filter import ScanCleaner", True),
        ("from fw_common.profile import load_profile", True),
        ("from fw_perception import perception_node", False),
        ("from fw_common.qos import SENSOR", False),
        ("import rclpy", False),
        ("from fw_bringup.robot_loop import RobotLoop", True),
        ("from fw_bringup.headless import run_headless_episode", True),
        ("from fw_bringup import robot", False),
        ("from fw_bringup.nodes import NODES", False),
    ],
)
def test_the_cloud_may_import_cores_only(tree: Path, lint: Lint, code: str, kept: bool) -> None:
    package = tree / "cloud_bridge" / "cloud_bridge"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""A stand-in for the cloud bridge."""\n')
    (package / "dataset.py").write_text(f"{code}\n")
    result = lint(".importlinter-cloud")
    assert (result.returncode == 0) is kept, result.stdout + result.stderr
    assert (f"{CLOUD} KEPT" if kept else f"{CLOUD} BROKEN") in result.stdout


def _modules() -> list[str]:
    names = []
    for name in PACKAGES:
        for path in (SRC / name / name).rglob("*.py"):
            parts = list(path.relative_to(SRC / name).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            names.append(".".join(parts))
    return sorted(names)


def _matches(module: str, expression: str, *, as_package: bool) -> bool:
    if expression.endswith(".**"):
        return module.startswith(expression[:-2])
    return module == expression or (as_package and module.startswith(expression + "."))


def test_every_module_is_a_core_or_a_ros_adapter() -> None:
    """A new module must be classified: one list feeds the contracts and mypy's targets."""
    cores = _contract("cores", "source_modules")
    adapters = _contract("ros_adapters", "allowed_importers")
    for module in _modules():
        core = any(_matches(module, e, as_package=False) for e in cores)
        adapter = any(_matches(module, e, as_package=True) for e in adapters)
        assert core != adapter, (
            f"{module} is {'both a core and an adapter' if core else 'neither a core nor an'} "
            "adapter in .importlinter"
        )
