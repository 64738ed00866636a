"""Evaluation runs: deterministic for the same seeds, and identical on Ray (real local Ray,
2 CPUs) to the serial run."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path

import pytest

from cloud_bridge.evaluate import EpisodeResult, EpisodeSpec, evaluate, run_episode
from cloud_bridge.evaluate.episode import PATH_RATE_HZ
from cloud_bridge.evaluate.seeds import parse_seeds
from fw_bringup.node_parameters import default_profile_path
from fw_common.profile import RobotProfile, load_profile
from fw_sim.scenario import family_of, generate_scenario, seed_set
from support.onnx_models import make_model


@pytest.fixture(scope="module")
def profile() -> RobotProfile:
    return load_profile(default_profile_path("sim"))


def test_the_same_seeds_give_the_same_results(profile: RobotProfile) -> None:
    first = evaluate("classic", [4, 0], profile=profile, time_limit=30.0)
    again = evaluate("classic", [4, 0], profile=profile, time_limit=30.0)
    assert first == again
    assert first.to_dict()["episodes"] == again.to_dict()["episodes"]
    assert [e.seed for e in first.episodes] == [4, 0]
    # A result is the seed's, not the run's: seed 0 alone is seed 0 within a list.
    (alone,) = evaluate("classic", [0], profile=profile, time_limit=30.0).episodes
    assert alone == first.episodes[1]
    # Ground truth is judged: the classic controller reaches these goals, at rest nearby.
    for episode in first.episodes:
        assert episode.success, episode
        assert episode.final_distance_m < 0.6 and 3.0 < episode.path_length_m < 20.0
        assert episode.min_clearance_m is not None and episode.min_clearance_m > 0.0
        # The ground-truth path at about 2 Hz, from the scenario's start to where it stopped.
        start = generate_scenario(profile.sim.scenario, episode.seed).start
        assert math.dist(episode.path[0], (start.x, start.y)) < 0.3
        assert math.dist(episode.path[-1], (episode.final_x, episode.final_y)) < 1e-3
        assert abs(len(episode.path) - PATH_RATE_HZ * episode.duration_s) <= 2
        # It travels in the results file and comes back equal.
        row = json.loads(json.dumps(episode.to_dict()))
        assert row["path"][0] == list(episode.path[0])
        assert EpisodeResult.from_dict(row) == episode


def test_randomisation_is_drawn_per_seed_and_changes_the_episode(profile: RobotProfile) -> None:
    def spec(seed: int, randomise: bool) -> EpisodeSpec:
        return EpisodeSpec(seed, "classic", profile, randomise=randomise, time_limit=6.0)

    nominal, _ = run_episode(spec(1, False))
    randomised, _ = run_episode(spec(1, True))
    other, _ = run_episode(spec(2, True))
    assert not nominal.randomisation["randomised"]
    assert nominal.randomisation["scan_latency"] == 0.0
    assert randomised.randomisation["randomised"]
    low, high = profile.sim.randomisation.friction_range
    assert low <= randomised.randomisation["wheel_friction"] <= high
    assert 0.0 <= randomised.randomisation["scan_latency"] <= 0.1
    assert randomised.randomisation != other.randomisation
    # Same scenario, other physics and sensors: another trajectory.
    assert (randomised.final_x, randomised.final_y) != (nominal.final_x, nominal.final_y)
    with pytest.raises(ValueError, match="scan_latency_range"):
        EpisodeSpec(1, "classic", profile, scan_latency_range=(0.2, 0.1))


def test_ray_gives_the_serial_results(profile: RobotProfile, tmp_path: Path) -> None:
    # A random MLP drives erratically: a sharp test of onnxruntime and the physics giving the
    # same numbers in another process.
    model = make_model(tmp_path / "mlp.onnx", "mlp", "--seed", "3")
    # Ray workers inherit this process's environment (PYTHONPATH finds the project).
    assert "cloud_bridge" in os.environ.get("PYTHONPATH", "")
    seeds = [5, 1, 7, 2]
    serial = evaluate(str(model), seeds, profile=profile, time_limit=4.0)
    on_ray = evaluate(str(model), seeds, profile=profile, time_limit=4.0, ray_address="local")
    assert on_ray.episodes == serial.episodes
    assert on_ray.summary == serial.summary
    assert on_ray.policy == serial.policy and on_ray.policy["model_sha256"]
    # The episodes really ran in Ray's worker processes, two of them.
    workers = {t.worker for t in on_ray.timings}
    assert len(workers) == 2 and not any(w.endswith(f":{os.getpid()}") for w in workers)
    assert {t.worker for t in serial.timings} == {serial.timings[0].worker}
    per_worker = on_ray.to_dict()["workers"]
    assert sum(w["episodes"] for w in per_worker.values()) == len(seeds)
    assert all(w["sim_per_wall"] > 0 for w in per_worker.values())
    # And the outcomes differ from seed to seed (the test compares something).
    assert len({(e.final_x, e.final_y) for e in serial.episodes}) == len(seeds)
    assert dataclasses.asdict(serial.episodes[0]) != dataclasses.asdict(serial.episodes[1])


def test_named_seed_sets_and_scenario_families(profile: RobotProfile) -> None:
    heldout = parse_seeds("heldout:3")
    assert heldout == seed_set("heldout", 3)
    assert not set(heldout) & set(parse_seeds("train:1000"))
    assert parse_seeds("4-6") == [4, 5, 6] and parse_seeds("3,9") == [3, 9]
    report = evaluate("classic", heldout, family="mixed", profile=profile, time_limit=2.0)
    # Each row names the family its seed drew; the report the family that was asked for.
    assert report.family == "mixed"
    assert [e.family for e in report.episodes] == [family_of("mixed", s) for s in heldout]
    assert all(e.min_clearance_m is not None for e in report.episodes)
    by_family = report.to_dict()["by_family"]
    assert set(by_family) == {e.family for e in report.episodes}
    assert sum(s["episodes"] for s in by_family.values()) == len(heldout)
    with pytest.raises(ValueError, match="unknown seed set"):
        parse_seeds("holdout:3")
    with pytest.raises(ValueError, match="scenario family 'maze'"):
        evaluate("classic", [1], family="maze", profile=profile)


def test_a_model_replaced_mid_evaluation_is_not_scored(
    profile: RobotProfile, tmp_path: Path
) -> None:
    model = make_model(tmp_path / "m.onnx", "mlp", "--seed", "1")
    started = evaluate(str(model), [1], profile=profile, time_limit=0.5)
    sha = started.policy["model_sha256"]
    make_model(model, "mlp", "--seed", "2")  # the file is swapped under the evaluation
    spec = EpisodeSpec(1, str(model), profile, time_limit=0.5, model_sha256=sha)
    with pytest.raises(ValueError, match="the model changed during the evaluation"):
        run_episode(spec)
    with pytest.raises(ValueError, match="listed twice"):
        evaluate("classic", [1, 1], profile=profile)
    with pytest.raises(ValueError, match="negative"):
        EpisodeSpec(-1, "classic", profile)
