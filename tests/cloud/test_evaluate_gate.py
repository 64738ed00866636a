"""The release gate: pass and fail cases on known results, gate files, and the command's exit
status on real evaluations."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from cloud_bridge.cli import main
from cloud_bridge.evaluate import EpisodeResult, GateConfig, compare, gate, summarise
from cloud_bridge.evaluate.gate import load_gate_config
from support.onnx_models import make_model


def result(
    seed: int, success: bool = True, collisions: int = 0, policy: str = "c"
) -> EpisodeResult:
    return EpisodeResult(
        seed=seed,
        family="open",
        policy=policy,
        reached=success or collisions > 0,
        collisions=collisions,
        duration_s=10.0 + seed % 3,
        path_length_m=6.0,
        min_clearance_m=0.4,
        safety_events={"slowdown_zone": 1},
        final_x=0.0,
        final_y=0.0,
        final_distance_m=0.1 if success else 3.0,
    )


def results(
    n: int, failures: set[int] | frozenset[int] = frozenset(), policy: str = "c"
) -> list[EpisodeResult]:
    return [result(s, s not in failures, policy=policy) for s in range(n)]


def test_a_good_release_passes_and_every_check_is_listed() -> None:
    candidate = results(50, {7})
    verdict = gate(
        summarise(candidate), compare(candidate, results(50, {7, 9}, "b")), GateConfig()
    )
    assert verdict.passed, verdict.reasons
    assert verdict.reasons == ()
    assert [c.split(":")[1].strip().split(" ")[0] for c in verdict.checks] == [
        "success", "collision", "success", "collision",
    ]  # fmt: skip
    assert all(c.startswith("pass: ") for c in verdict.checks)


def test_too_few_successes_fail_with_the_reason() -> None:
    verdict = gate(summarise(results(10, {1, 2, 3})), None, GateConfig(min_success_rate=0.8))
    assert not verdict.passed
    (reason,) = verdict.reasons
    assert "success rate 0.7" in reason and "over 10 episodes" in reason
    assert "70.0 % against the minimum 80.0 %" in reason


def test_collisions_and_interventions_fail() -> None:
    bumpy = results(20)
    bumpy[3] = result(3, success=False, collisions=2)
    config = GateConfig(max_collision_rate=0.0, max_interventions_per_100m=1.0)
    verdict = gate(summarise(bumpy), None, config)
    assert not verdict.passed
    assert [r.split(" ")[0] for r in verdict.reasons] == ["collision", "safety"]
    # 20 interventions over 120 m: 16.7 per 100 m.
    assert "16.7 against the maximum 1" in verdict.reasons[1]


def test_the_intervals_pessimistic_bound_can_be_asked_for() -> None:
    perfect = summarise(results(10))
    assert gate(perfect, None, GateConfig(min_success_rate=0.8)).passed
    strict = GateConfig(min_success_rate=0.8, absolute_on_interval=True)
    verdict = gate(perfect, None, strict)
    # 10 of 10: the Wilson lower bound is 72.2 %.
    assert not verdict.passed and "lower bound 72.2 %" in verdict.reasons[0]


def test_a_regression_against_the_baseline_fails() -> None:
    baseline = results(50, policy="classic")
    worse = results(50, {1, 5, 9, 20, 33, 41})
    verdict = gate(summarise(worse), compare(worse, baseline), GateConfig(min_success_rate=0.5))
    assert not verdict.passed
    (reason,) = verdict.reasons
    assert reason.startswith("success rate vs classic on 50 paired seeds: difference -0.12")
    assert "run more seeds" not in reason  # the estimate itself is a regression


def test_an_interval_too_wide_to_rule_out_a_regression_fails_until_more_seeds_narrow_it() -> None:
    config = GateConfig(min_success_rate=0.5, max_success_regression=0.05)
    # 2 of 50 seeds lost: the estimate (-4 %) is within the limit, its interval is not.
    few = results(50, {3, 17})
    verdict = gate(summarise(few), compare(few, results(50, policy="classic")), config)
    assert not verdict.passed and "run more seeds" in verdict.reasons[0]
    # The same 2 % regression rate measured on 1000 seeds is shown to be within 5 %.
    many = results(1000, set(range(0, 1000, 50)))
    verdict = gate(summarise(many), compare(many, results(1000, policy="classic")), config)
    assert verdict.passed, verdict.reasons


def test_no_episodes_never_pass_and_unpaired_seeds_are_refused() -> None:
    assert not gate(summarise([]), None, GateConfig()).passed
    with pytest.raises(ValueError, match="same seeds"):
        compare(results(5), results(6))


def test_gate_files(tmp_path: Path) -> None:
    good = tmp_path / "gate.yaml"
    good.write_text("min_success_rate: 0.9\nmax_collision_rate: 0\nmax_success_regression: null\n")
    config = load_gate_config(good)
    assert (config.min_success_rate, config.max_collision_rate) == (0.9, 0)
    assert config.max_success_regression is None
    assert config.max_collision_increase == GateConfig().max_collision_increase
    assert load_gate_config(_write(tmp_path, "")) == GateConfig()
    for text, why in [
        ("min_sucess_rate: 0.9\n", "unknown keys \\['min_sucess_rate'\\]"),
        ("min_success_rate: .nan\n", "finite number"),
        ("max_collision_rate: 1.5\n", "at most 1"),
        ("min_success_rate: high\n", "expected a number"),
        ("absolute_on_interval: 1\n", "true or false"),
        ("- 0.9\n", "mapping"),
        ("min_success_rate: [\n", "cannot read"),
    ]:
        with pytest.raises(ValueError, match=why):
            load_gate_config(_write(tmp_path, text))
    with pytest.raises(ValueError, match="cannot read"):
        load_gate_config(tmp_path / "missing.yaml")


def _write(folder: Path, text: str) -> Path:
    path = folder / f"gate{abs(hash(text))}.yaml"
    path.write_text(text)
    return path


def test_the_command_passes_a_good_policy_and_writes_the_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results.json"
    gate_file = _write(tmp_path, "min_success_rate: 1.0\nmax_collision_rate: 0.0\n")
    argv = ["evaluate", "--policy", "classic", "--seeds", "2,3", "--no-randomise"]
    status = main([*argv, "--gate", str(gate_file), "--json", str(out), "--no-progress"])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "gate passed" in printed and "success rate" in printed
    data = json.loads(out.read_text())
    rows = data["candidate"]["episodes"]
    assert [r["seed"] for r in rows] == [2, 3] and all(r["success"] for r in rows)
    assert data["candidate"]["summary"]["success_rate"]["value"] == 1.0
    assert data["gate"]["passed"] is True and data["baseline"] is None
    assert data["gate"]["config"]["min_success_rate"] == 1.0


def test_the_command_fails_a_policy_that_does_not_drive_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    standstill = make_model(tmp_path / "stop.onnx", "constant", "--action", "0", "0")
    argv = ["evaluate", "--policy", str(standstill), "--baseline", "classic", "--seeds", "2"]
    status = main([*argv, "--time-limit", "15", "--no-progress", "--json", str(tmp_path / "r")])
    printed = capsys.readouterr().out
    assert status == 1
    assert "gate FAILED" in printed
    assert "success rate 0 [0, 0.658] over 2 episodes" in printed.replace("\n", " ")
    assert "success rate vs classic on 2 paired seeds" in printed
    data = json.loads((tmp_path / "r").read_text())
    assert data["comparison"]["baseline_only"] == [0, 1]
    assert not data["gate"]["passed"] and len(data["gate"]["reasons"]) == 2


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["--seeds", "5-2"], "ends before it starts"),
        (["--seeds", "1,1"], "repeats a seed"),
        (["--seeds", "x"], "cannot read seeds"),
        (["--family", "maze"], "scenario family 'maze'"),
        (["--max-collision", "nan"], "finite number"),
        (["--time-limit", "0"], "positive"),
    ],
)
def test_the_command_refuses_bad_input(
    args: list[str], why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["evaluate", "--policy", "classic", "--seeds", "1", *args, "--no-progress"])
    assert status == 2
    assert why in capsys.readouterr().err


def test_the_command_refuses_a_corrupt_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = make_model(tmp_path / "good.onnx", "mlp")
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(good.read_bytes()[:200])
    nan = make_model(tmp_path / "nan.onnx", "nan")
    for bad, why in ((corrupt, "cannot load"), (nan, "non-finite"), (tmp_path / "no", "exist")):
        assert main(["evaluate", "--policy", str(bad), "--seeds", "1", "--no-progress"]) == 2
        assert why in capsys.readouterr().err


def test_the_command_says_when_the_ray_cluster_cannot_be_reached(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A port nothing listens on (bound, never listening): Ray itself would retry for minutes.
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{unused.getsockname()[1]}"
        argv = ["evaluate", "--policy", "classic", "--seeds", "1", "--no-progress"]
        assert main([*argv, "--ray-address", address]) == 3
    assert f"Ray at {address}: nothing accepts connections" in capsys.readouterr().err
