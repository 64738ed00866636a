"""Where episodes live by default: a persistent folder of each robot's own."""

from __future__ import annotations

from pathlib import Path

import pytest
from recorder_test_helpers import ManualClock

from fw_common.profile.recorder import RecorderConfig
from fw_recorder.recorder import RecorderCore
from fw_recorder.spool import default_spool_dir


def test_default_spool_is_per_robot_state_not_tmp() -> None:
    env = {"HOME": "/home/op"}
    assert default_spool_dir("r1", env) == Path("/home/op/.local/state/flywheel/r1/spool")
    assert default_spool_dir("r2", env) != default_spool_dir("r1", env)
    env["XDG_STATE_HOME"] = "/var/lib/robot"
    assert default_spool_dir("r1", env) == Path("/var/lib/robot/flywheel/r1/spool")
    env["XDG_STATE_HOME"] = "relative/ignored"  # the XDG spec: relative values are invalid
    assert default_spool_dir("r1", env) == Path("/home/op/.local/state/flywheel/r1/spool")


@pytest.mark.parametrize("robot_id", ["", "..", ".", "a/b", "../etc", "/abs"])
def test_robot_id_that_is_not_a_folder_name_is_refused(robot_id: str) -> None:
    with pytest.raises(ValueError, match="cannot name a spool folder"):
        default_spool_dir(robot_id, {"HOME": "/home/op"})


def test_recorder_uses_it_unless_spool_dir_is_set(
    tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert RecorderConfig().spool_dir == ""
    core = RecorderCore(RecorderConfig(min_free_mb=0.0, critical_free_mb=0.0), "r9", clock)
    assert core.spool.paths.root == tmp_path / "state" / "flywheel" / "r9" / "spool"
    assert (core.spool.paths.ready).is_dir()
    chosen = tmp_path / "elsewhere"
    core = RecorderCore(
        RecorderConfig(spool_dir=str(chosen), min_free_mb=0.0, critical_free_mb=0.0), "r9", clock
    )
    assert core.spool.paths.root == chosen
