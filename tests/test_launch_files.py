"""The launch files and what they start, checked on any host.

- The profile → parameters mapping the launch files pass (``fw_bringup.launch_plan``) gives each
  node exactly the parameters it declares: every node of ``NODES`` whose package is built is
  started for real with a parameters file written the way launch_ros writes it.
- The launch plan: node selection, namespace, sim time, overrides, single-process command line,
  and operator-readable errors for bad profiles and arguments.
- The launch files and profiles are installed where ``ros2 launch fw_bringup ...`` finds them.
- Where ``launch``/``launch_ros`` are installed, each launch file's description is built and its
  per-process actions are made from the profile.
"""

from __future__ import annotations

import filecmp
import importlib.util
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rclpy
import yaml
from rclpy.context import Context
from rclpy.parameter import Parameter

from fw_bringup.launch_plan import (
    LaunchArgumentError,
    default_robot_nodes,
    drop_empty_lists,
    launch_parameters,
    parse_bool,
    parse_node_list,
    parse_overrides,
    plan_robot,
    plan_sim,
    resolve_profile_path,
)
from fw_bringup.main import load_with_overrides
from fw_bringup.node_parameters import node_parameters
from fw_bringup.nodes import NODES
from fw_common.errors import ProfileError
from fw_common.profile import (
    BODY_SECTIONS,
    NODE_SECTIONS,
    RobotBody,
    flatten_section,
    iter_settings,
    load_profile,
    parse_profile,
)

REPO = Path(__file__).resolve().parent.parent
SIM_PROFILE = REPO / "ros2_ws" / "src" / "fw_bringup" / "config" / "profiles" / "sim.yaml"
LAUNCH_FILES = ("robot.launch.py", "sim.launch.py")
# Parameters every rclpy node has, not from a profile section.
RCLPY_BUILTINS = {"use_sim_time", "start_type_description_service"}


def _built(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def _write_params_file(path: Path, parameters: dict[str, Any]) -> Path:
    """What launch_ros writes for ``Node(parameters=[dict])`` and passes as --params-file."""
    path.write_text(
        yaml.dump({"/**": {"ros__parameters": parameters}}, default_flow_style=False),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def context() -> Iterator[Context]:
    ctx = Context()
    rclpy.init(context=ctx)
    yield ctx
    ctx.try_shutdown()


# --- the mapping yields exactly what each node declares --------------------------------------


@pytest.mark.parametrize("name", list(NODES))
def test_launch_parameters_are_exactly_what_the_node_declares(
    name: str, context: Context, tmp_path: Path
) -> None:
    spec = NODES[name]
    if not _built(spec.package):
        pytest.skip(f"{spec.package} is not built/importable here")
    plan = plan_robot(str(SIM_PROFILE), nodes=name)
    (process,) = plan.processes
    params_file = _write_params_file(tmp_path / f"{name}.yaml", process.parameters)
    node = spec.load_class()(
        namespace=f"/launch_params_{os.getpid()}",
        cli_args=["--ros-args", "--params-file", str(params_file)],
        context=context,
    )
    try:
        declared = set(node._parameters) - RCLPY_BUILTINS
        mapped = set(node_parameters(plan.profile, name))
        assert declared - mapped == set(), f"{name} declares parameters the profile lacks"
        assert mapped - declared == set(), f"the profile maps parameters {name} does not declare"
        # Every value launch passes arrives as the profile says (types survive the YAML file).
        for key, value in process.parameters.items():
            got = node.get_parameter(key).value
            got = list(got) if isinstance(got, list | tuple) or hasattr(got, "tolist") else got
            assert got == value, f"{name}.{key}: node has {got!r}, profile says {value!r}"
        # Simulated robot: every node but the simulator (the clock source) runs on /clock.
        assert node.get_parameter("use_sim_time").value is (name != "sim")
        # The robot's body: documented, read-only parameters of the nodes that use it.
        body = [f"robot.{key}" for key, _tp, _info in iter_settings(RobotBody)]
        if name in BODY_SECTIONS:
            for descriptor in node.describe_parameters(body):
                assert descriptor.read_only and descriptor.description, descriptor.name
            refused = node.set_parameters([Parameter("robot.laser.x", value=1.0)])
            assert not refused[0].successful
        else:
            assert not set(body) & declared
    finally:
        node.destroy_node()


def test_every_node_has_a_profile_section() -> None:
    assert set(NODES) <= set(NODE_SECTIONS), "a node without a profile section cannot launch"


# --- the launch plan -------------------------------------------------------------------------


def test_robot_plan_starts_every_robot_node_with_its_profile_parameters() -> None:
    plan = plan_robot(str(SIM_PROFILE))
    profile = load_profile(SIM_PROFILE)
    assert plan.nodes == default_robot_nodes()
    assert "sim" not in plan.nodes
    assert [p.name for p in plan.processes] == plan.nodes
    for process in plan.processes:
        spec = NODES[process.name]  # type: ignore[index]
        assert (process.package, process.executable) == (spec.package, spec.executable)
        assert process.namespace == "/"
        assert process.remappings == []
        expected = dict(launch_parameters(profile, process.name))  # type: ignore[arg-type]
        expected["use_sim_time"] = True
        assert process.parameters == expected


def test_namespace_argument_moves_nodes_and_their_clock() -> None:
    plan = plan_robot(str(SIM_PROFILE), namespace="husky_2", nodes="actuator_bridge")
    (process,) = plan.processes
    assert process.namespace == "/husky_2"
    assert process.remappings == [("/clock", "/husky_2/clock")]
    assert plan.profile.robot.namespace == "husky_2"
    # "/" is the root namespace, even when the profile names one.
    root = plan_robot(str(SIM_PROFILE), namespace="/", overrides="robot.namespace=r1")
    assert {p.namespace for p in root.processes} == {"/"}


def test_namespace_that_reads_as_yaml_stays_a_string() -> None:
    plan = plan_robot(str(SIM_PROFILE), namespace="on", nodes="actuator_bridge")
    assert plan.processes[0].namespace == "/on"


def test_use_sim_time_argument_overrides_the_profile() -> None:
    real = plan_robot(str(SIM_PROFILE), use_sim_time="false", namespace="r2")
    assert all(p.parameters["use_sim_time"] is False for p in real.processes)
    assert all(p.remappings == [] for p in real.processes), "no /clock remap off sim time"


def test_overrides_reach_the_node_parameters() -> None:
    plan = plan_robot(
        str(SIM_PROFILE),
        nodes="actuator_bridge",
        overrides="actuator_bridge.command_timeout=0.3",
    )
    assert plan.processes[0].parameters["command_timeout"] == 0.3


def test_a_body_override_reaches_every_node_that_uses_the_body() -> None:
    plan = plan_robot(str(SIM_PROFILE), overrides="robot.footprint.front=0.6")
    sim = plan_sim(str(SIM_PROFILE), overrides="robot.footprint.front=0.6")
    processes = {p.name: p for p in [*plan.processes, *sim.processes]}
    for name in BODY_SECTIONS:
        assert processes[name].parameters["robot.footprint.front"] == 0.6, name


def test_nodes_argument_selects_in_start_order() -> None:
    names = list(NODES)
    reversed_text = ",".join(reversed(names))
    assert parse_node_list(reversed_text, []) == names
    assert parse_node_list(" ", ["actuator_bridge"]) == ["actuator_bridge"]
    with pytest.raises(LaunchArgumentError, match=r"unknown node\(s\) teleporter; known: "):
        parse_node_list("actuator_bridge,teleporter", [])


def test_single_process_runs_the_python_bringup_with_the_same_settings() -> None:
    plan = plan_robot(
        str(SIM_PROFILE),
        namespace="husky_3",
        use_sim_time="true",
        nodes="actuator_bridge",
        single_process="true",
        overrides="actuator_bridge.command_timeout=0.25",
    )
    (process,) = plan.processes
    assert (process.package, process.executable) == ("fw_bringup", "bringup")
    assert process.name is None and process.namespace is None and process.parameters == {}
    args = process.arguments
    assert args[:4] == ["--profile", str(SIM_PROFILE), "--nodes", "actuator_bridge"]
    sets = [args[i + 1] for i, a in enumerate(args) if a == "--set"]
    # The bringup applies exactly these overrides: same profile as the multi-process plan.
    assert load_with_overrides(SIM_PROFILE, sets) == plan.profile
    assert plan.profile.robot.namespace == "husky_3"
    assert plan.profile.actuator_bridge.command_timeout == 0.25


def test_sim_plan_is_the_simulator_with_seed_and_gui() -> None:
    plan = plan_sim(str(SIM_PROFILE), seed="7", gui="false", namespace="r4")
    (process,) = plan.processes
    assert (process.package, process.executable) == (NODES["sim"].package, "sim_node")
    assert process.parameters["seed"] == 7
    assert process.parameters["gui"] is False
    assert process.parameters["use_sim_time"] is False, "the simulator is the clock"
    assert process.namespace == "/r4"
    default_seed = load_profile(SIM_PROFILE).sim.seed
    assert plan_sim(str(SIM_PROFILE)).processes[0].parameters["seed"] == default_seed


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"use_sim_time": "maybe"}, "use_sim_time: expected true or false, got 'maybe'"),
        ({"single_process": "2"}, "single_process: expected true or false"),
        ({"overrides": "actuator_bridge.command_timeout"}, "expected section.key=value"),
        ({"overrides": "a='unclosed"}, "launch argument overrides: No closing quotation"),
        ({"nodes": "sim,lidar_driver"}, "unknown node(s) lidar_driver"),
    ],
)
def test_bad_arguments_are_refused_with_the_reason(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(LaunchArgumentError) as info:
        plan_robot(str(SIM_PROFILE), **kwargs)
    assert message in str(info.value)


def test_bad_seed_is_refused_with_the_reason() -> None:
    with pytest.raises(LaunchArgumentError, match="seed: expected an integer, got 'abc'"):
        plan_sim(str(SIM_PROFILE), seed="abc")


def test_invalid_profile_fails_with_every_problem_and_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "robot: {id: r1, simulated: true}\n"
        "actuator_bridge: {command_timout: 0.5, control_rate: .nan}\n",
        encoding="utf-8",
    )
    with pytest.raises(ProfileError) as info:
        plan_robot(str(bad))
    text = str(info.value)
    assert str(bad) in text
    assert "command_timout: unknown key (did you mean 'command_timeout'?)" in text
    assert "control_rate: must be finite" in text


def test_unreadable_and_non_yaml_profiles_fail_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read robot profile"):
        plan_robot(str(tmp_path / "missing.yaml"))
    garbage = tmp_path / "garbage.yaml"
    garbage.write_text("robot: [unclosed\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="not valid YAML"):
        plan_robot(str(garbage))
    with pytest.raises(LaunchArgumentError, match="profile: empty"):
        plan_robot("  ")


def test_bad_override_value_is_a_profile_error() -> None:
    with pytest.raises(ProfileError, match="command_timeout"):
        plan_robot(str(SIM_PROFILE), overrides="actuator_bridge.command_timeout=-1")
    with pytest.raises(ProfileError, match=r"actuator_bridge\.warp_drive: unknown key"):
        plan_robot(str(SIM_PROFILE), overrides="actuator_bridge.warp_drive=1")


def test_every_bad_override_is_reported_with_suggestions_like_the_yaml() -> None:
    overrides = [
        "actuator_bridge.comand_timeout=0.3",  # typo of a key
        "actuatr_bridge.command_timeout=0.3",  # typo of a section
        "actuator_bridge.control_rate=-5",  # out of range
        "robot.id.x=1",  # into a setting
        "junk",  # not section.key=value
    ]
    with pytest.raises(ProfileError) as info:
        load_with_overrides(SIM_PROFILE, overrides)
    problems = info.value.problems
    assert len(problems) == 5, problems
    text = "\n".join(problems)
    assert "actuator_bridge.comand_timeout: unknown key (did you mean 'command_timeout'?)" in text
    assert "actuatr_bridge: unknown key (did you mean 'actuator_bridge'?)" in text
    assert "actuator_bridge.control_rate: -5" in text and "below the minimum" in text
    assert "--set robot.id.x: robot.id is a setting, not a section" in text
    assert "--set 'junk': expected section.key=value" in text
    # The YAML path says the same of the same mistake.
    with pytest.raises(ProfileError) as from_yaml:
        parse_profile({"actuator_bridge": {"comand_timeout": 0.3}}, "robot.yaml")
    assert "comand_timeout: unknown key (did you mean 'command_timeout'?)" in str(from_yaml.value)


def test_profile_argument_takes_a_shipped_name() -> None:
    assert resolve_profile_path("sim").name == "sim.yaml"
    assert resolve_profile_path("sim").is_file()
    assert resolve_profile_path("./robots/a.yml") == Path("./robots/a.yml")


def test_parse_helpers() -> None:
    assert parse_bool("", "x") is None
    assert parse_bool(" TRUE ", "x") is True and parse_bool("0", "x") is False
    assert parse_overrides("a.b=1 c.d='[1, 2]'") == ["a.b=1", "c.d=[1, 2]"]


def test_empty_lists_are_left_to_the_node_only_when_its_default_is_empty() -> None:
    params = {"a": [], "b": [], "c": [1.0], "d": 2}
    with pytest.raises(ProfileError) as info:
        drop_empty_lists(params, {"a": [], "b": ["x"], "c": [], "d": 1}, "n")
    assert info.value.problems == [
        "n.b: an empty list cannot be passed as a ROS parameter by launch "
        "(its default is ['x']); use single_process:=true"
    ]
    kept = drop_empty_lists(params, {"a": [], "b": [], "c": [], "d": 1}, "n")
    assert kept == {"c": [1.0], "d": 2}


def _list_settings_with_defaults() -> Iterator[tuple[str, str, bool]]:
    """(node, dotted setting, default is empty) for every list setting that may be empty."""
    for node, section in NODE_SECTIONS.items():
        if node not in NODES:
            continue
        defaults = flatten_section(section())
        for name, tp, info in iter_settings(section):
            if getattr(tp, "__origin__", None) is list and not info.min_length:
                yield node, name, not defaults[name]


def test_empty_list_with_an_empty_default_is_left_to_the_node() -> None:
    cases = [(n, s) for n, s, empty in _list_settings_with_defaults() if empty]
    if not cases:
        pytest.skip("no list setting defaults to empty")
    node, name = cases[0]
    profile = load_with_overrides(SIM_PROFILE, [f"{node}.{name}=[]"])
    assert name in node_parameters(profile, node)
    assert name not in launch_parameters(profile, node)


def test_emptying_a_list_whose_default_is_not_empty_is_refused() -> None:
    cases = [(n, s) for n, s, empty in _list_settings_with_defaults() if not empty]
    if not cases:
        pytest.skip("no list setting with a non-empty default may be empty")
    node, name = cases[0]
    profile = load_with_overrides(SIM_PROFILE, [f"{node}.{name}=[]"])
    with pytest.raises(ProfileError, match=rf"{node}\.{name}: an empty list cannot be passed"):
        launch_parameters(profile, node)
    # The Python bringup passes it, so single_process is the way out.
    plan = plan_robot(
        str(SIM_PROFILE), nodes=node, single_process="true", overrides=f"{node}.{name}=[]"
    )
    assert len(plan.processes) == 1


# --- installed where ROS users look ----------------------------------------------------------


def _installed_share() -> Path:
    for prefix in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        share = Path(prefix) / "share" / "fw_bringup"
        if prefix and (share / "package.xml").is_file():
            return share
    pytest.skip("fw_bringup is not on AMENT_PREFIX_PATH (run `make build` and source it)")


@pytest.mark.parametrize("filename", LAUNCH_FILES)
def test_launch_files_are_installed_in_the_package_share(filename: str) -> None:
    installed = _installed_share() / "launch" / filename
    assert installed.is_file(), f"{installed} missing: `ros2 launch fw_bringup {filename}` fails"
    assert filecmp.cmp(installed, REPO / "launch" / filename, shallow=False)


def test_profiles_are_installed_in_the_package_share() -> None:
    installed = _installed_share() / "config" / "profiles" / "sim.yaml"
    assert installed.is_file()
    assert filecmp.cmp(installed, SIM_PROFILE, shallow=False)


# --- the launch files themselves (where launch is installed) ---------------------------------


def _launch_module(filename: str) -> Any:
    launch = pytest.importorskip(
        "launch", reason="launch is not installed (it ships with ROS 2 installs, not on PyPI)"
    )
    if not hasattr(launch, "LaunchDescription"):  # the repository's own launch/ folder
        pytest.skip("launch is not installed (it ships with ROS 2 installs, not on PyPI)")
    pytest.importorskip("launch_ros", reason="launch_ros is not installed (ships with ROS 2)")
    spec = importlib.util.spec_from_file_location(
        f"fw_launch_{filename.split('.')[0]}", REPO / "launch" / filename
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("filename", LAUNCH_FILES)
def test_launch_file_declares_documented_arguments(filename: str) -> None:
    module = _launch_module(filename)
    description = module.generate_launch_description()
    arguments = description.get_launch_arguments()
    names = {a.name for a in arguments}
    assert {"profile", "namespace", "nodes", "single_process", "use_sim_time"} <= names
    if filename == "sim.launch.py":
        # Its own, and (what `--show-args` lists) those of the robot.launch.py it includes.
        assert {"seed", "gui"} <= names
    for argument in arguments:
        assert argument.description and argument.description != "no description given", (
            f"{filename}: argument {argument.name} has no description"
        )


@pytest.mark.parametrize("single_process", ["false", "true"])
def test_robot_launch_makes_one_action_per_planned_process(single_process: str) -> None:
    module = _launch_module("robot.launch.py")
    from launch import LaunchContext

    context = LaunchContext()
    values = {
        "profile": str(SIM_PROFILE),
        "namespace": "r5",
        "use_sim_time": "",
        "nodes": "",
        "single_process": single_process,
        "overrides": "",
    }
    context.launch_configurations.update(values)
    actions = module.launch_setup(context)
    plan = plan_robot(**values)  # type: ignore[arg-type]
    assert len(actions) == len(plan.processes)
    assert [a.node_package for a in actions] == [p.package for p in plan.processes]
    assert [a.node_executable for a in actions] == [p.executable for p in plan.processes]


def test_robot_launch_reports_a_bad_profile_without_a_traceback(tmp_path: Path) -> None:
    module = _launch_module("robot.launch.py")
    from launch import LaunchContext

    bad = tmp_path / "bad.yaml"
    bad.write_text("actuator_bridge: {control_rate: -5}\n", encoding="utf-8")
    context = LaunchContext()
    context.launch_configurations.update(
        {
            "profile": str(bad),
            "namespace": "",
            "nodes": "",
            "use_sim_time": "",
            "single_process": "false",
            "overrides": "",
        }
    )
    # launch prints an exception from a launch action as one line: "Caught exception in
    # launch (see debug for traceback): <message>"; the message must name file and setting.
    with pytest.raises(ProfileError, match=r"bad\.yaml: actuator_bridge\.control_rate"):
        module.launch_setup(context)


# --- each node, started the way launch_ros starts it, exits cleanly on SIGINT -----------------


def _launch_ros_command(process: Any, params_file: Path) -> list[str]:
    """The command line launch_ros runs for ``Node(package, executable, name, namespace,
    parameters=[dict], remappings)``: the console script, then the ROS arguments."""
    from support.processes import executable

    args = [executable(process.package, process.executable), *process.arguments, "--ros-args"]
    args += ["-r", f"__node:={process.name}", "-r", f"__ns:={process.namespace}"]
    args += ["--params-file", str(params_file)]
    for src, dst in process.remappings:
        args += ["-r", f"{src}:={dst}"]
    return args


@pytest.mark.system
@pytest.mark.parametrize("name", list(NODES))
def test_node_started_as_launch_does_exits_cleanly_on_sigint(
    name: str, launch: Any, probe: Any, tmp_path: Path
) -> None:
    """What launch does at shutdown: one SIGINT per process; it expects exit 0, no traceback."""
    spec = NODES[name]
    if not _built(spec.package):
        pytest.skip(f"{spec.package} is not built/importable here")
    namespace = f"shutdown_{name}"
    plan = plan_robot(str(SIM_PROFILE), nodes=name, namespace=namespace)
    (planned,) = plan.processes
    params_file = _write_params_file(tmp_path / "params.yaml", planned.parameters)
    process = launch(_launch_ros_command(planned, params_file), name=name)
    deadline = time.monotonic() + 60
    while (name, f"/{namespace}") not in probe.node.get_node_names_and_namespaces():
        assert process.alive(), f"{name} died at start:\n{process.output()[-3000:]}"
        assert time.monotonic() < deadline, f"{name} never joined the graph"
        time.sleep(0.1)
    process.assert_clean_exit()
