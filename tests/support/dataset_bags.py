"""Episodes for the dataset tests: golden bags uploaded to a store by the real uploader,
recorded messages read back, and bags derived from a golden one (with expert labels added,
Fast CDR tails appended) by rosbags' own writer."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rosbags.highlevel import AnyReader
from rosbags.rosbag2 import StoragePlugin, Writer

from cloud_bridge.store import ObjectStore
from cloud_bridge.upload.config import UploaderConfig
from cloud_bridge.upload.uploader import EpisodeUploader
from fw_common.conversions import stamp_to_ns
from fw_recorder.episode_reader import FAST_CDR_TAIL, read_episode
from support.episodes import GOLDEN, REPO, add_golden_episode

sys.path.insert(0, str(REPO / "tests" / "replay"))
from compare import LOOP
from records import Command

__all__ = [
    "GOLDEN",
    "check_no_skew",
    "derive_bag",
    "episode_name",
    "recorded",
    "upload_folders",
    "upload_golden",
]


def episode_name(golden: str) -> str:
    """The episode name a golden bag is uploaded under."""
    return str(json.loads((GOLDEN[golden] / "manifest.json").read_text())["name"])


def upload_folders(store: ObjectStore, spool: Path, robot_id: str = "r1") -> int:
    """Upload every episode in ``spool/ready`` with the robot's uploader; how many went."""
    # Golden bags are weeks old: keep them past the default retention age.
    config = UploaderConfig(robot_id=robot_id, retain_uploaded_s=1e9)
    uploader = EpisodeUploader(spool, store, config)
    try:
        result = uploader.run_pass()
    finally:
        uploader.close()
    assert result.queued == 0 and result.quarantined == 0, result
    return result.uploaded


def upload_golden(
    store: ObjectStore, spool: Path, names: Iterable[str], robot_id: str = "r1"
) -> None:
    for name in names:
        add_golden_episode(spool / "ready", name)
    upload_folders(store, spool, robot_id)


def recorded(folder: Path, topic: str) -> list[tuple[int, Any]]:
    """``(receive time ns, message)`` of one topic of an episode."""
    return [(t, msg) for name, t, msg in read_episode(folder) if name == topic]


def derive_bag(
    source: Path,
    target: Path,
    *,
    expert: Callable[[int], tuple[float, float] | None] | None = None,
    expert_period_ns: int = 50_000_000,
    tail_topics: frozenset[str] = frozenset(),
    policy_info: str | None = None,
    announce: tuple[tuple[int, str], ...] = (),
) -> Path:
    """A copy of the episode at ``source`` in ``target`` (its manifest, a new MCAP bag):
    ``expert(stamp_ns)`` labels on ``/fw/expert/cmd_vel`` every ``expert_period_ns`` over the
    recording (None: no label then), Fast CDR's 4 trailing bytes on ``tail_topics``,
    ``policy_info`` in place of the ``/fw/policy/info`` messages, and ``announce``'s
    ``(receive time ns, text)`` added to them (a policy swapped mid-episode)."""
    target.mkdir(parents=True)
    shutil.copy(source / "manifest.json", target / "manifest.json")
    with AnyReader([source / "bag"]) as reader:
        typestore = reader.typestore
        writer = Writer(target / "bag", version=9, storage_plugin=StoragePlugin.MCAP)
        with writer:
            out = {
                c.id: writer.add_connection(c.topic, c.msgtype, typestore=typestore)
                for c in reader.connections
            }
            labels = None
            if expert is not None:
                labels = writer.add_connection(
                    "/fw/expert/cmd_vel", "geometry_msgs/msg/TwistStamped", typestore=typestore
                )
            next_label = None
            (info,) = [c for c in reader.connections if c.topic == "/fw/policy/info"]
            pending = sorted(announce)
            for conn, t_ns, raw in reader.messages():
                while pending and pending[0][0] <= t_ns:
                    at, text = pending.pop(0)
                    writer.write(out[info.id], at, _string(typestore, text))
                if labels is not None and expert is not None:
                    next_label = next_label or -(-t_ns // expert_period_ns) * expert_period_ns
                    while next_label <= t_ns:
                        value = expert(next_label)
                        if value is not None:
                            data = _twist(typestore, next_label, *value)
                            writer.write(labels, next_label, data)
                        next_label += expert_period_ns
                data = bytes(raw)
                if conn.topic == "/fw/policy/info" and policy_info is not None:
                    data = _string(typestore, policy_info)
                if conn.topic in tail_topics:
                    data += b"\xa5" * FAST_CDR_TAIL
                writer.write(out[conn.id], t_ns, data)
    return target


def _string(typestore: Any, text: str) -> bytes:
    msg = typestore.types["std_msgs/msg/String"](data=text)
    return bytes(typestore.serialize_cdr(msg, "std_msgs/msg/String"))


def _twist(typestore: Any, stamp_ns: int, linear: float, angular: float) -> bytes:
    types = typestore.types
    msg = types["geometry_msgs/msg/TwistStamped"](
        header=types["std_msgs/msg/Header"](
            stamp=types["builtin_interfaces/msg/Time"](
                sec=stamp_ns // 1_000_000_000, nanosec=stamp_ns % 1_000_000_000
            ),
            frame_id="base_link",
        ),
        twist=types["geometry_msgs/msg/Twist"](
            linear=types["geometry_msgs/msg/Vector3"](x=linear, y=0.0, z=0.0),
            angular=types["geometry_msgs/msg/Vector3"](x=0.0, y=0.0, z=angular),
        ),
    )
    assert stamp_to_ns(msg.header.stamp) == stamp_ns
    return bytes(typestore.serialize_cdr(msg, "geometry_msgs/msg/TwistStamped"))


def check_no_skew(rows: dict[str, list[Any]], folder: Path) -> None:
    """The rows' policy command is the recorded ``fw/cmd_vel_raw`` of the same scan (by
    stamp): of the commands recorded after the robot had a goal (the steps before have no
    observation and no row), at least ``LOOP.matched`` have their row (the recorder lost some
    raw scans) and at least ``LOOP.commands_exact`` of those are reproduced exactly
    (``compare.LOOP`` says why not all)."""
    goal_at = min(t for t, _ in recorded(folder, "/goal_pose"))
    commands = {
        stamp_to_ns(m.header.stamp): Command(
            stamp_to_ns(m.header.stamp), m.twist.linear.x, m.twist.angular.z
        )
        for t, m in recorded(folder, "/fw/cmd_vel_raw")
        if t > goal_at
    }
    ours = dict(
        zip(
            rows["stamp_ns"],
            zip(rows["policy_linear"], rows["policy_angular"], strict=True),
            strict=True,
        )
    )
    matched = [(ours[s], c) for s, c in commands.items() if s in ours]
    assert len(matched) >= LOOP.matched * len(commands), (
        f"rows for {len(matched)} of {len(commands)} recorded commands"
    )
    # float32 columns: "exact" is within float32 rounding of the recorded float64.
    exact = [
        1 for (lin, ang), c in matched
        if abs(lin - c.linear) <= 1e-6 and abs(ang - c.angular) <= 1e-6
    ]  # fmt: skip
    assert len(exact) >= LOOP.commands_exact * len(matched), (
        f"policy commands reproduced exactly for {len(exact)} of {len(matched)} "
        f"(need {LOOP.commands_exact:.0%})"
    )
    moving = sum(abs(c.linear) + abs(c.angular) > 0.05 for _, c in matched)
    assert moving >= 0.2 * len(matched), "the recorded policy hardly moves: nothing compared"
