"""An episode's bag → its steps: the robot's own loop re-run on the raw sensor streams.

The recorded inputs of the loop (``scan``, ``joint_states``, ``imu``, ``goal_pose``, teleop and
the e-stop; :data:`fw_bringup.recorded_inputs.LOOP_INPUTS`) are fed to a fresh
:class:`~fw_bringup.robot_loop.RobotLoop` in recorded order, each with its receive time as
``now``, so every observation is the vector the robot's policy computed (no train/serve skew:
the same perception, spec and policy code). Messages are decoded with rosbags through
:func:`fw_recorder.episode_reader.deserialize`, which accepts Fast CDR's 4-byte tail; only the
topics the build uses are decoded. Topics under a robot namespace (``/r1/scan``) are taken
relative to it.

One row per cleaned scan that produced a policy command:

- the observation is the command's own; when the command is a gated zero (stale input, goal
  reached, policy error) the policy was not asked, and the row's observation is the spec
  applied to the same latest state and goal the policy step held (``policy_reason`` says why
  the command is zero). A step before the loop has both a state and a goal has no
  observation to learn from and is left out.
- the executed command is the safety supervisor's step that the command triggered; a take-over
  is a step whose source was ``teleop``.
- the expert label is the ``fw/expert/cmd_vel`` message whose stamp is nearest the scan's,
  when within one control period.
- the release is the one ``fw/policy/info`` announced last before the step: its
  ``model_version`` for an ONNX policy, ``""`` for a classic one, and the loop re-runs that
  policy, swapping it where the robot did. An ONNX release is re-run from its model
  (``models``); without it the episode cannot be rebuilt faithfully and
  :class:`ReleaseUnavailable` says so (the build retries it on a later run). A bag without
  the info is re-run with the profile's policy.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from rosbags.highlevel import AnyReader

from cloud_bridge.dataset.errors import EpisodeRejected
from cloud_bridge.dataset.schema import steps_schema
from fw_bringup.recorded_inputs import LOOP_INPUTS, feed_recorded
from fw_bringup.robot_loop import RobotLoop
from fw_common import topics
from fw_common.conversions import stamp_to_ns
from fw_common.observation import ObservationSpec, spec_by_name
from fw_common.profile import RobotProfile
from fw_perception.perception_step import GoalInBase
from fw_perception.state_fusion import FusedState
from fw_policy.base import Policy
from fw_policy.registry import POLICY_KINDS, build_policy, make_policy
from fw_recorder.episode_reader import deserialize

__all__ = [
    "EXPERT_TOPIC",
    "POLICY_INFO_TOPIC",
    "EpisodeReplay",
    "ReleaseUnavailable",
    "replay_episode",
]

#: The privileged expert's label (simulation only), relative to the robot's namespace.
EXPERT_TOPIC = "/" + str(getattr(topics, "EXPERT_CMD_VEL", "fw/expert/cmd_vel")).lstrip("/")
#: What the policy node runs (JSON, latched).
POLICY_INFO_TOPIC = "/" + topics.POLICY_INFO.lstrip("/")
_TELEOP = "teleop"


class ReleaseUnavailable(Exception):  # noqa: N818 - a condition, not a failure of the code
    """The episode was driven by an ONNX release whose model was not given."""


@dataclass
class EpisodeReplay:
    """What re-running one episode produced."""

    table: pa.Table
    #: Messages decoded from the bag.
    messages: int
    #: The releases that drove (``model_version``, ``""`` for classic), in order of appearance.
    releases: list[str] = field(default_factory=list)
    #: Inputs the loop refused, by reason (the part before ``:``), as the nodes would log them.
    refused: dict[str, int] = field(default_factory=dict)


def _namespace(topic_names: set[str]) -> str:
    """The robot namespace the bag's loop inputs live under (``""`` or ``/r1``)."""
    scan = LOOP_INPUTS[0]
    candidates = sorted(
        (t[: -len(scan)] for t in topic_names if t.endswith(scan)), key=lambda ns: len(ns)
    )
    for ns in candidates:
        if ns + LOOP_INPUTS[1] in topic_names:  # joint_states beside the scan
            return ns
    raise EpisodeRejected(f"no {scan} and {LOOP_INPUTS[1]} topics in the bag")


def _release_of(text: str) -> tuple[str, str]:
    """``(release_id, kind)`` from a ``fw/policy/info`` document."""
    try:
        info = json.loads(text)
    except ValueError:
        return "", "unknown"
    if not isinstance(info, dict):
        return "", "unknown"
    kind = str(info.get("kind", "unknown"))
    version = info.get("model_version") if kind == "onnx" else None
    return (str(version) if version is not None else ""), kind


def _bag_folder(folder: Path) -> Path:
    return folder / "bag" if (folder / "bag").is_dir() else folder


def _messages(reader: AnyReader, wanted: set[str]) -> Iterator[tuple[str, int, Any]]:
    connections = [c for c in reader.connections if c.topic in wanted]
    for conn, t_ns, raw in reader.messages(connections=connections):
        yield conn.topic, t_ns, deserialize(reader.typestore, raw, conn.msgtype)


class _Rows:
    """Column buffers of one episode's steps."""

    def __init__(self) -> None:
        self.stamp_ns: list[int] = []
        self.observation: list[npt.NDArray[np.float32]] = []
        self.policy: list[tuple[float, float]] = []
        self.reason: list[str] = []
        self.executed: list[tuple[float, float]] = []
        self.source: list[str] = []
        self.release: list[str] = []


def _observation(
    spec: ObservationSpec,
    command_observation: npt.NDArray[np.float32] | None,
    scan: Any,
    state: FusedState | None,
    goal: GoalInBase | None,
) -> npt.NDArray[np.float32] | None:
    if command_observation is not None:
        return command_observation
    if state is None or goal is None:
        return None
    try:
        return spec.featurize(
            scan.ranges, scan.angle_min, scan.angle_increment, (goal.x, goal.y),
            state.linear, state.angular,
        )  # fmt: skip
    except ValueError:
        return None


def _expert_labels(
    stamps: npt.NDArray[np.int64], expert: list[tuple[int, float, float]], period_ns: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    n = len(stamps)
    linear = np.full(n, np.nan, np.float32)
    angular = np.full(n, np.nan, np.float32)
    has = np.zeros(n, np.bool_)
    if not expert or n == 0:
        return linear, angular, has
    expert.sort()
    times = np.array([e[0] for e in expert], np.int64)
    right = np.clip(np.searchsorted(times, stamps), 0, len(times) - 1)
    left = np.clip(right - 1, 0, len(times) - 1)
    nearest = np.where(np.abs(times[left] - stamps) <= np.abs(times[right] - stamps), left, right)
    close = np.abs(times[nearest] - stamps) <= period_ns
    for i in np.flatnonzero(close):
        _, lin, ang = expert[int(nearest[i])]
        if math.isfinite(lin) and math.isfinite(ang):
            linear[i], angular[i], has[i] = lin, ang, True
    return linear, angular, has


def replay_episode(
    folder: Path,
    profile: RobotProfile,
    *,
    episode_id: str,
    robot_id: str,
    fps: float,
    models: Mapping[str, Policy] | None = None,
) -> EpisodeReplay:
    """Re-run the loop on the episode in ``folder`` (its folder or its ``bag/``).

    ``models`` maps an ONNX release's ``model_version`` to the policy that re-runs it.
    Raises :class:`EpisodeRejected` when the bag does not read or holds no step, and
    :class:`ReleaseUnavailable` when an ONNX release drove and ``models`` lacks it.
    """
    spec = spec_by_name(profile.policy.observation_spec)
    period_ns = round(1e9 / fps)
    try:
        with AnyReader([_bag_folder(folder)]) as reader:
            ns = _namespace({c.topic for c in reader.connections})
            return _replay(reader, ns, profile, spec, period_ns, episode_id, robot_id, models)
    except (EpisodeRejected, ReleaseUnavailable):
        raise
    except Exception as exc:  # any failure to read a bag is a verdict on it
        raise EpisodeRejected(f"bag does not read: {type(exc).__name__}: {exc}") from None


def _policy_for(
    profile: RobotProfile,
    spec: ObservationSpec,
    release: str,
    kind: str,
    models: Mapping[str, Policy] | None,
) -> Policy:
    """The policy that re-runs what ``fw/policy/info`` announced."""
    if kind == "onnx":
        policy = (models or {}).get(release)
        if policy is None:
            raise ReleaseUnavailable(f"driven by ONNX release {release!r}: its model is needed")
        return policy
    if kind in POLICY_KINDS:
        return make_policy(kind, profile.policy, spec)
    return build_policy(profile.policy, spec).policy  # no (usable) info: the profile's


def _replay(
    reader: AnyReader,
    ns: str,
    profile: RobotProfile,
    spec: ObservationSpec,
    period_ns: int,
    episode_id: str,
    robot_id: str,
    models: Mapping[str, Policy] | None,
) -> EpisodeReplay:
    info_topic, expert_topic = ns + POLICY_INFO_TOPIC, ns + EXPERT_TOPIC
    inputs = {ns + t: t for t in LOOP_INPUTS}
    # The policy the first fw/policy/info announced drives from the start (the message is
    # latched: it opens the recording); a later one swaps it, as the policy node does.
    driving = ("", "")
    for _, _, msg in _messages(reader, {info_topic}):
        driving = _release_of(str(msg.data))
        break
    loop = RobotLoop(profile, _policy_for(profile, spec, *driving, models))
    release, releases = driving[0], [driving[0]]
    rows, expert = _Rows(), []
    refused: dict[str, int] = {}
    state: FusedState | None = None
    goal: GoalInBase | None = None
    messages = 0
    for topic, t_ns, msg in _messages(reader, {*inputs, info_topic, expert_topic}):
        messages += 1
        if topic == info_topic:
            announced = _release_of(str(msg.data))
            if announced != driving:
                loop.policy.policy = _policy_for(profile, spec, *announced, models)
                driving = announced
            release = driving[0]
            if release not in releases:
                releases.append(release)
            continue
        if topic == expert_topic:
            stamp = stamp_to_ns(msg.header.stamp) or t_ns
            expert.append((stamp, float(msg.twist.linear.x), float(msg.twist.angular.z)))
            continue
        out = feed_recorded(loop, inputs[topic], msg, t_ns)
        if out is None:
            continue
        for reason in out.refused:
            key = reason.split(":")[0]
            refused[key] = refused.get(key, 0) + 1
        if out.state is not None:
            state = out.state
        if out.goal is not None:
            goal = out.goal
        command = out.policy_command
        if command is None or out.cleaned_scan is None or not out.safety:
            continue
        observation = _observation(spec, command.observation, out.cleaned_scan, state, goal)
        if observation is None:
            continue
        executed = out.safety[-1]
        rows.stamp_ns.append(command.stamp_ns)
        rows.observation.append(observation)
        rows.policy.append((command.linear, command.angular))
        rows.reason.append(command.reason or "")
        rows.executed.append((executed.twist.linear, executed.twist.angular))
        rows.source.append(executed.source)
        rows.release.append(release)
    if not rows.stamp_ns:
        raise EpisodeRejected(f"no control step: {messages} messages, refused {refused}")
    table = _table(rows, expert, spec, period_ns, episode_id, robot_id)
    return EpisodeReplay(table, messages, releases, refused)


def _table(
    rows: _Rows,
    expert: list[tuple[int, float, float]],
    spec: ObservationSpec,
    period_ns: int,
    episode_id: str,
    robot_id: str,
) -> pa.Table:
    n = len(rows.stamp_ns)
    stamps = np.array(rows.stamp_ns, np.int64)
    # On the 1/fps grid, strictly increasing (two scans within half a period keep their order).
    grid = np.rint((stamps - stamps[0]) / period_ns).astype(np.int64)
    for i in range(1, n):
        if grid[i] <= grid[i - 1]:
            grid[i] = grid[i - 1] + 1
    policy = np.array(rows.policy, np.float32).reshape(n, 2)
    executed = np.array(rows.executed, np.float32).reshape(n, 2)
    observations = np.stack(rows.observation).astype(np.float32, copy=False).reshape(-1)
    expert_linear, expert_angular, has_expert = _expert_labels(stamps, expert, period_ns)
    takeover = np.array([s == _TELEOP for s in rows.source], np.bool_)
    done = np.zeros(n, np.bool_)
    done[-1] = True
    columns: dict[str, Any] = {
        "episode_id": pa.array([episode_id] * n, pa.string()),
        "robot_id": pa.array([robot_id] * n, pa.string()),
        "release_id": pa.array(rows.release, pa.string()),
        "step": pa.array(np.arange(n, dtype=np.int32)),
        "stamp_ns": pa.array(stamps),
        "timestamp": pa.array(grid / (1e9 / period_ns)),
        "observation": pa.FixedSizeListArray.from_arrays(pa.array(observations), spec.size),
        "spec_id": pa.array([spec.spec_id] * n, pa.string()),
        "policy_linear": pa.array(policy[:, 0]),
        "policy_angular": pa.array(policy[:, 1]),
        "policy_reason": pa.array(rows.reason, pa.string()),
        "executed_linear": pa.array(executed[:, 0]),
        "executed_angular": pa.array(executed[:, 1]),
        "takeover": pa.array(takeover),
        "takeover_source": pa.array([_TELEOP if t else "" for t in takeover], pa.string()),
        "expert_linear": pa.array(expert_linear),
        "expert_angular": pa.array(expert_angular),
        "has_expert": pa.array(has_expert),
        "done": pa.array(done),
    }
    schema = steps_schema(spec.size)
    return pa.Table.from_pydict(columns, schema=schema)
