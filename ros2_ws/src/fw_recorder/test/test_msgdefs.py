"""Message definitions and type hashes match what the installed interfaces advertise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fw_recorder.errors import MessageDefinitionError
from fw_recorder.msgdefs import MessageDefinitions, interface_share_dirs

TYPES = [
    "sensor_msgs/msg/LaserScan",
    "sensor_msgs/msg/Imu",
    "sensor_msgs/msg/JointState",
    "sensor_msgs/msg/Image",
    "nav_msgs/msg/Odometry",
    "geometry_msgs/msg/TwistStamped",
    "geometry_msgs/msg/WrenchStamped",
    "diagnostic_msgs/msg/DiagnosticStatus",
    "std_msgs/msg/String",
]


def _installed_json(msgtype: str) -> Path | None:
    pkg, _, name = msgtype.partition("/msg/")
    for share in interface_share_dirs():
        path = share / pkg / "msg" / f"{name}.json"
        if path.is_file():
            return path
    return None


@pytest.mark.parametrize("msgtype", TYPES)
def test_hash_is_the_installed_one(msgtype: str) -> None:
    path = _installed_json(msgtype)
    if path is None:
        pytest.skip(f"{msgtype} has no installed type description here")
    expected = next(
        h["hash_string"]
        for h in json.loads(path.read_text())["type_hashes"]
        if h["type_name"] == msgtype
    )
    msgdef, rihs01 = MessageDefinitions().get(msgtype)
    assert rihs01 == expected
    assert msgdef.strip()


def test_definition_contains_nested_types() -> None:
    msgdef, _ = MessageDefinitions().get("nav_msgs/msg/Odometry")
    assert "MSG: geometry_msgs/PoseWithCovariance" in msgdef
    assert "MSG: std_msgs/Header" in msgdef


def test_type_missing_from_typestore_is_read_from_installed_msg(tmp_path: Path) -> None:
    msg_dir = tmp_path / "fw_test_msgs" / "msg"
    msg_dir.mkdir(parents=True)
    (msg_dir / "Reading.msg").write_text("std_msgs/Header header\nfloat64[] values\n")
    (msg_dir / "Batch.msg").write_text("fw_test_msgs/Reading[] readings\nstring note\n")
    defs = MessageDefinitions([tmp_path, *interface_share_dirs()])
    msgdef, rihs01 = defs.get("fw_test_msgs/msg/Batch")
    assert rihs01.startswith("RIHS01_") and len(rihs01) == 7 + 64
    assert "MSG: fw_test_msgs/Reading" in msgdef


@pytest.mark.parametrize(
    "bad", ["nope/msg/Missing", "std_msgs/String", "", "std_srvs/srv/Trigger"]
)
def test_unknown_types_are_refused(bad: str) -> None:
    with pytest.raises(MessageDefinitionError):
        MessageDefinitions().get(bad)
