"""The leaderboard: real headless episodes of the classic controller and small real ONNX models
on the race seeds, ranked, with the very values a direct evaluation of those seeds gives,
serially and on a real local Ray; bad entries refused before any episode runs."""

from __future__ import annotations

import io
import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

from cloud_bridge.cli import main
from cloud_bridge.evaluate import evaluate
from cloud_bridge.evaluate.leaderboard import LeaderboardEntry, leaderboard, rank_rows
from cloud_bridge.evaluate.leaderboard_command import parse_entry, print_leaderboard
from fw_bringup.node_parameters import default_profile_path
from fw_common.profile import RobotProfile, load_profile
from fw_sim.seed_sets import seed_set
from support.onnx_models import make_model

SEEDS = seed_set("race", 3)
FAMILY = "open"
TIME_LIMIT = 15.0
#: A port where no Ray listens: an evaluation that got as far as Ray would fail on it.
DEAD_RAY = "127.0.0.1:9"


@pytest.fixture(scope="module")
def profile() -> RobotProfile:
    return load_profile(default_profile_path("sim"))


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("models")
    return {
        # A random MLP drives erratically; the constant model turns on the spot for ever.
        "mlp": make_model(folder / "mlp.onnx", "mlp", "--seed", "3"),
        "turn": make_model(folder / "turn.onnx", "constant", "--action", "0", "0.3"),
    }


@pytest.fixture(scope="module")
def entries(models: dict[str, Path]) -> list[LeaderboardEntry]:
    # The classic controller is listed between the models: the ranking has to move it.
    return [
        LeaderboardEntry("v1", "bc", str(models["mlp"])),
        LeaderboardEntry("classic", "classic", "classic"),
        LeaderboardEntry("ppo-1", "ppo", str(models["turn"])),
    ]


@pytest.fixture(scope="module")
def board(entries: list[LeaderboardEntry], profile: RobotProfile) -> dict[str, Any]:
    return leaderboard(entries, SEEDS, family=FAMILY, profile=profile, time_limit=TIME_LIMIT)


def test_every_release_races_the_same_seeds_and_scores_as_evaluate_does(
    board: dict[str, Any], entries: list[LeaderboardEntry], profile: RobotProfile
) -> None:
    assert board["seeds"] == SEEDS and board["seed_set"] == "race"
    assert board["family"] == FAMILY and board["time_limit"] == TIME_LIMIT
    assert board["randomise"] is True and board["confidence"] == 0.95
    json.dumps(board, allow_nan=False)  # plain JSON as returned: no NaN (null instead)
    rows = {row["release"]: row for row in board["entries"]}
    assert sorted(rows) == ["classic", "ppo-1", "v1"]
    for entry in entries:
        row = rows[entry.release]
        direct = evaluate(entry.policy_ref, SEEDS, family=FAMILY, profile=profile,
                          time_limit=TIME_LIMIT)  # fmt: skip
        s = direct.summary
        assert row["kind"] == entry.kind and row["n"] == len(SEEDS) == s.episodes
        assert row["policy"] == direct.policy
        assert row["success"] == {
            "rate": s.success_rate.value, "low": s.success_rate.low, "high": s.success_rate.high
        }  # fmt: skip
        assert row["collisions"] == {
            "rate": s.collision_rate.value,
            "low": s.collision_rate.low,
            "high": s.collision_rate.high,
        }
        time_to_goal = row["time_to_goal_s"]
        assert time_to_goal["n"] == s.time_to_goal_s.n == sum(e.success for e in direct.episodes)
        if time_to_goal["n"]:
            assert (time_to_goal["mean"], time_to_goal["low"], time_to_goal["high"]) == (
                s.time_to_goal_s.value, s.time_to_goal_s.low, s.time_to_goal_s.high
            )  # fmt: skip
        else:
            assert time_to_goal["mean"] is None and math.isnan(s.time_to_goal_s.value)
    # The classic controller reaches these goals, the models do not: it ranks first, and the
    # models follow in the leaderboard's order (collisions, then name: neither has a time).
    assert rows["classic"]["success"]["rate"] == 1.0
    assert rows["v1"]["success"]["rate"] == rows["ppo-1"]["success"]["rate"] == 0.0
    ranked = [row["release"] for row in board["entries"]]
    assert ranked[0] == "classic"
    losers = sorted(["v1", "ppo-1"], key=lambda r: (rows[r]["collisions"]["rate"], r))
    assert ranked[1:] == losers
    assert [row["rank"] for row in board["entries"]] == [1, 2, 3]


def test_rows_rank_by_success_then_collisions_then_time_then_name() -> None:
    def row(name: str, success: float, collisions: float, time: float | None) -> dict[str, Any]:
        return {
            "release": name,
            "success": {"rate": success},
            "collisions": {"rate": collisions},
            "time_to_goal_s": {"mean": time},
        }

    rows = [
        row("slow", 0.9, 0.0, 20.0),
        row("none", 0.0, 0.0, None),
        row("nan", 0.0, 0.0, math.nan),
        row("bumpy", 0.9, 0.1, 10.0),
        row("fast", 0.9, 0.0, 12.0),
        row("best", 1.0, 0.2, 30.0),
        row("crashy", 0.0, 0.5, None),
    ]
    ranked = rank_rows(rows)
    assert [r["release"] for r in ranked] == [
        "best", "fast", "slow", "bumpy", "nan", "none", "crashy"
    ]  # fmt: skip
    assert [r["rank"] for r in ranked] == list(range(1, 8))
    assert [r["release"] for r in rank_rows(reversed(rows))] == [r["release"] for r in ranked]


def test_the_command_on_ray_prints_and_writes_the_serial_board(
    board: dict[str, Any],
    entries: list[LeaderboardEntry],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "leaderboard.json"
    argv = ["leaderboard", "--seeds", "race:3", "--family", FAMILY, "--no-progress"]
    for e in entries:
        argv += ["--entry", f"{e.release}={e.kind}:{e.policy_ref}"]
    argv += ["--time-limit", str(TIME_LIMIT), "--ray", "--ray-cpus", "2", "--json", str(out)]
    assert main(argv) == 0
    assert json.loads(out.read_text()) == board
    table = capsys.readouterr().out
    assert "3 race seeds" in table
    lines = [line for line in table.splitlines() if "classic" in line or "ppo-1" in line]
    assert any(line.split("│")[1].strip() == "1" for line in lines if "classic" in line)
    assert "100 [43.9, 100]" in table  # the classic controller's success with its interval


def test_release_names_print_as_text_and_the_board_is_written_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Names that rich would read as markup: a closing tag with no opening one (an error) and
    # a style.
    names = ["v1[/x]", "[red]v2"]
    out = tmp_path / "board.json"
    argv = ["leaderboard", "--seeds", "race:1", "--family", FAMILY, "--time-limit", "1"]
    for name in names:
        argv += ["--entry", f"{name}=classic:classic"]
    # stdout gone (a closed pipe: `flywheel leaderboard ... | head -1` that ended): printing
    # fails, and the board the episodes made is on disk all the same.
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr(sys, "stdout", closed)
    with pytest.raises(ValueError, match="closed file"):
        main([*argv, "--no-progress", "--json", str(out)])
    monkeypatch.undo()
    board = json.loads(out.read_text())
    assert sorted(row["release"] for row in board["entries"]) == sorted(names)
    print_leaderboard(board)
    rows = [line.split("│") for line in capsys.readouterr().out.splitlines() if "│" in line]
    assert sorted(cells[2].strip() for cells in rows) == sorted(names)


def test_bad_entries_are_refused_before_any_episode(
    models: dict[str, Path], profile: RobotProfile, tmp_path: Path
) -> None:
    classic = LeaderboardEntry("classic", "classic", "classic")
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"not a model")
    wrong_spec = make_model(tmp_path / "spec.onnx", "mlp", "--spec-id", "0000000000000000")

    def refused(entries: list[LeaderboardEntry], match: str) -> None:
        # Pointed at a dead Ray: had any episode been queued, Ray's error would come first.
        with pytest.raises(ValueError, match=match):
            leaderboard(entries, SEEDS, family=FAMILY, profile=profile, ray_address=DEAD_RAY)

    refused([], "at least one release")
    refused([classic, LeaderboardEntry("classic", "bc", str(models["mlp"]))], "listed twice")
    refused([classic, LeaderboardEntry("v9", "bc", str(tmp_path / "gone.onnx"))], "'v9'")
    refused([classic, LeaderboardEntry("v3", "ppo", str(corrupt))], "'v3'")
    refused([classic, LeaderboardEntry("v4", "dagger", str(wrong_spec))], "'v4'.*spec")
    with pytest.raises(ValueError, match="scenario family"):
        leaderboard([classic], SEEDS, family="moon", profile=profile, ray_address=DEAD_RAY)
    with pytest.raises(ValueError, match="no seeds"):
        leaderboard([classic], [], family=FAMILY, profile=profile)
    with pytest.raises(ValueError, match="kind 'rl'"):
        LeaderboardEntry("v5", "rl", str(models["mlp"]))
    with pytest.raises(ValueError, match="exactly the 'classic' policy"):
        LeaderboardEntry("v6", "classic", str(models["mlp"]))
    with pytest.raises(ValueError, match="exactly the 'classic' policy"):
        LeaderboardEntry("v7", "bc", "classic")
    # A model path may hold a colon: only the first one ends the kind.
    assert parse_entry("v1=bc:a:b.onnx") == LeaderboardEntry("v1", "bc", "a:b.onnx")


def test_other_seeds_are_raced_but_not_called_the_race_set(profile: RobotProfile) -> None:
    classic = [LeaderboardEntry("classic", "classic", "classic")]
    board = leaderboard(classic, [5], family=FAMILY, profile=profile, time_limit=1.0)
    assert board["seeds"] == [5] and board["seed_set"] is None
    # Not reached in 1 s: no time to goal, and the JSON says so with null.
    assert board["entries"][0]["time_to_goal_s"] == {"mean": None, "low": None, "high": None,
                                                     "n": 0}  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--entry", "v1:bc=model.onnx"], "expected NAME=KIND:REF"),
        (["--entry", "v1=bc"], "expected NAME=KIND:REF"),
        (["--entry", "=bc:model.onnx"], "expected NAME=KIND:REF"),
        (["--entry", "v1=sac:model.onnx"], "kind 'sac'"),
        (["--entry", "classic=classic:classic", "--seeds", "race:x"], "cannot read seeds"),
        (["--entry", "v1=bc:missing.onnx"], "'v1'"),
        (["--entry", "classic=classic:classic", "--time-limit", "nan"], "--time-limit"),
    ],
)
def test_the_command_refuses_bad_input_with_the_reason(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["leaderboard", "--no-progress", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("flywheel leaderboard: ") and message in err


def test_an_unreachable_cluster_is_its_own_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["leaderboard", "--entry", "classic=classic:classic", "--seeds", "race:1"]
    assert main([*argv, "--ray-address", DEAD_RAY, "--no-progress"]) == 3
    assert f"Ray at {DEAD_RAY}" in capsys.readouterr().err
