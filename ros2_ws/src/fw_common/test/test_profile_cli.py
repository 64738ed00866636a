"""check_profile: takes a profile by name like bringup, shows each setting's bounds, reads well."""

from __future__ import annotations

from pathlib import Path

import pytest

from fw_common.errors import ProfileError
from fw_common.profile.cli import bounds_text, main
from fw_common.profile.loader import find_profile, shipped_profiles
from fw_common.profile.recorder import RecorderConfig
from fw_common.profile.schema import iter_settings


def test_profile_name_is_accepted_like_bringup(capsys: pytest.CaptureFixture[str]) -> None:
    assert "sim" in shipped_profiles()
    assert find_profile("sim").name == "sim.yaml" and find_profile("sim").is_file()
    assert main(["sim", "--section", "robot"]) == 0
    assert "robot.id = 'sim_husky'" in capsys.readouterr().out


def test_unknown_name_lists_the_shipped_ones(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ProfileError, match=r"no profile of that name .*shipped profiles: .*sim"):
        find_profile("simm")
    assert main(["simm"]) == 1
    assert "shipped profiles" in capsys.readouterr().err
    assert find_profile("robot.yaml") == Path("robot.yaml")  # a path stays a path


def test_every_setting_shows_the_values_it_accepts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "--section", "recorder"]) == 0
    out = capsys.readouterr().out
    assert "recorder.discovery_period = 1.0\n" in out
    assert "    [from 0.1 to 60]\n" in out
    assert "[one of snapshot, continuous, requested; fixed at start (no runtime change)]" in out
    infos = {name: info for name, _, info in iter_settings(RecorderConfig)}
    assert bounds_text(infos["robot_id"]) == ""  # any string: no bounds line


def test_usage_names_the_command_and_has_no_markup(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert text.startswith("usage: check_profile ")
    assert "cli.py" not in text and "``" not in text and "::" not in text
    assert "check_profile sim" in text  # copy-paste examples
