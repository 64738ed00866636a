"""Benchmark the reinforcement-learning environment against the bare world it steps.

Three levels on the same scenario, in interleaved rounds (this machine's speed drifts, so each
ratio is taken within its round):

* ``bare``: the sim time of one environment step (one lidar period, 0.1 s at the sim
  profile's 10 Hz) advanced with :meth:`SimWorld.step` and the due sensor reads only (scan,
  IMU, joint states), wheels commanded at the same rate: the floor an environment over this
  world cannot beat;
* ``headless``: :func:`fw_bringup.headless.run_headless_episode` with a policy that always
  gives the same command: the same world plus the robot loop (perception, policy step, safety
  supervisor, actuator bridge), as evaluation runs it; shown for context, what the robot's
  own code costs;
* ``env``: :class:`cloud_bridge.rl.env.HeadlessNavEnv` steps with a fixed action: the world,
  the robot loop paused at each decision (:mod:`cloud_bridge.rl.stepper`), and the reward.

Both drive the robot in a gentle arc, so neither parks at an obstacle. Resets (a fresh world
per episode) are measured apart, as milliseconds per reset. Target: ``env`` ≥ 0.7× ``bare``
in steps per wall second; the same ratio per CPU second of the process is printed beside it,
being less swayed by other load on a shared host.

Run it (holding the shared benchmark lock) from the repository root::

    . .venv/bin/activate && cd ros2_ws && . install/setup.bash && cd ..
    PYTHONPATH=cloud_bridge:$PYTHONPATH flock /tmp/fw-bench.lock python bench/bench_rl_env.py

PPO wall time to 80 % success on the easy family (``--ppo-minutes M``): PPO as ``flywheel
train-rl`` runs it (two environment processes, the example reward) on :data:`EASY`, the
deterministic policy evaluated on 20 held-apart scenarios every 2048 decisions; training stops
at the first evaluation with a success rate of 0.8 or more, and the figure is the training wall
time until then, evaluations excluded (or "not reached" after ``M`` minutes). The same with the
command: ``flywheel train-rl --eval-episodes 20 --eval-every 2048 --stop-at-success 0.8`` and the
``--scenario`` settings of the family; ``eval/train_seconds`` in the MLflow run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from cloud_bridge.rl.env import HeadlessNavEnv
from cloud_bridge.rl.ppo import PpoConfig, train_ppo
from fw_bringup.headless import run_headless_episode
from fw_bringup.robot_loop import RobotLoop
from fw_common.profile import RobotProfile
from fw_common.profile.sim import ScenarioConfig
from fw_policy.base import Action, PolicyInput
from fw_sim.world import Due, SimWorld

TARGET = 0.7
SCENARIO_SEED = 3
ACTION = np.array([0.4, 0.2], dtype=np.float32)
#: The easy family until fw_sim's scenario families land: an open 6 m arena, no obstacles,
#: start and goal at least 2 m apart.
EASY = ScenarioConfig(arena_size=6.0, box_count=0, cylinder_count=0, min_start_goal_distance=2.0)
EXAMPLE_REWARD = Path(__file__).resolve().parents[1] / "cloud_bridge/examples/reward_progress.py"


#: Steps per second: (per wall second, per CPU second of this process).
Rates = tuple[float, float]


def bench_bare(world: SimWorld, wheels: list[float], seconds: float) -> Rates:
    """Environment-step equivalents (lidar periods) per wall and CPU second on the bare world."""
    world.reset()
    due = Due()
    steps_per_period = round(world.physics_rate / world.config.lidar.rate)
    periods, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        world.apply_wheel_velocities(world.wheel_joints, wheels)
        for _ in range(steps_per_period):
            world.step(due)
            if due.scan:
                world.scan()
            if due.imu:
                world.imu()
            if due.joint_states:
                world.joint_states()
        periods += 1
    return periods / (time.perf_counter() - start), periods / (time.process_time() - cpu)


class FixedCommand:
    """A policy that always commands what the environment's fixed action means."""

    kind = "fixed"

    def __init__(self, linear: float, angular: float) -> None:
        self.action = Action(linear, angular)

    def act(self, inputs: PolicyInput) -> Action:
        return self.action

    def describe(self) -> dict[str, str]:
        return {"kind": self.kind}


def bench_headless(
    world: SimWorld, profile: RobotProfile, policy: FixedCommand, seconds: float
) -> Rates:
    """Decisions (scans) per wall and CPU second of the headless runner over the robot loop."""
    world.reset()
    start, cpu = time.perf_counter(), time.process_time()
    # About ``seconds`` of wall time at the rates seen here (20 sim s per wall s).
    loop = RobotLoop(profile, policy=policy)
    episode = run_headless_episode(world, loop, time_limit=20.0 * seconds)
    decisions = len(episode.path)
    return decisions / (time.perf_counter() - start), decisions / (time.process_time() - cpu)


def bench_env(env: HeadlessNavEnv, seconds: float) -> Rates:
    """Environment steps per wall and CPU second within an episode (resets not counted)."""
    steps, spent, cpu = 0, 0.0, 0.0
    while spent < seconds:
        env.reset(options={"scenario_seed": SCENARIO_SEED})
        start, cpu_start = time.perf_counter(), time.process_time()
        done = False
        while not done and time.perf_counter() - start < seconds - spent:
            _, _, terminated, truncated, _ = env.step(ACTION)
            done = terminated or truncated
            steps += 1
        spent += time.perf_counter() - start
        cpu += time.process_time() - cpu_start
    return steps / spent, steps / cpu


def bench_reset(env: HeadlessNavEnv, count: int) -> float:
    """Milliseconds per reset (a fresh world, the run to the first decision)."""
    start = time.perf_counter()
    for i in range(count):
        env.reset(options={"scenario_seed": SCENARIO_SEED + i})
    return (time.perf_counter() - start) / count * 1e3


def bench_ppo_to_success(minutes: float, target: float = 0.8) -> tuple[float, int] | None:
    """Training wall seconds and timesteps to ``target`` success on :data:`EASY`, or None."""
    with tempfile.TemporaryDirectory() as folder:
        config = PpoConfig(
            reward_path=EXAMPLE_REWARD,
            seconds=minutes * 60.0,
            n_envs=2,
            vec="subproc",
            scenario=EASY,
            time_limit=15.0,
            eval_seeds=tuple(3_000_000_000 + i for i in range(20)),
            eval_every=2048,
            stop_at_success=target,
        )
        result = train_ppo(config, Path(folder) / "run")
    if "success_target_train_seconds" not in result.metrics:
        return None
    return (
        result.metrics["success_target_train_seconds"],
        int(result.metrics["success_target_timesteps"]),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="wall seconds per window")
    parser.add_argument("--rounds", type=int, default=5, help="windows per level")
    parser.add_argument(
        "--ppo-minutes", type=float, default=0.0, help="also time PPO to 80 %% (0: skip)"
    )
    args = parser.parse_args()

    env = HeadlessNavEnv(time_limit=120.0, scenario_seeds=[SCENARIO_SEED])
    env.reset(seed=0)
    # The bare world is the environment's own configuration and scenario, wheels at the
    # speeds the loop gives the action (measured from the environment's own first steps).
    for _ in range(20):
        env.step(ACTION)
    wheels = list(env.world.wheel_targets)
    bare_world = SimWorld(env.world.config)
    bare_world.new_scenario(SCENARIO_SEED)
    headless_world = SimWorld(env.world.config)
    headless_world.new_scenario(SCENARIO_SEED)
    fixed = FixedCommand(*(float(a) * s for a, s in zip(ACTION, env.action_scale, strict=True)))
    levels = ("bare", "headless", "env")
    rates: dict[str, list[Rates]] = {name: [] for name in levels}
    for round_ in range(args.rounds):
        rates["bare"].append(bench_bare(bare_world, wheels, args.seconds))
        rates["headless"].append(bench_headless(headless_world, env.profile, fixed, args.seconds))
        rates["env"].append(bench_env(env, args.seconds))
        print(
            f"  .. round {round_ + 1}: "
            + ", ".join(f"{name} {rates[name][-1][0]:.0f}/s" for name in levels),
            file=sys.stderr,
            flush=True,
        )
    reset_ms = bench_reset(env, 5)
    bare_world.close()
    headless_world.close()
    env.close()

    def median_ratio(name: str, clock: int) -> float:
        return statistics.median(
            level[clock] / bare[clock]
            for level, bare in zip(rates[name], rates["bare"], strict=True)
        )

    for name, label in (
        ("bare", "bare world"),
        ("headless", "headless loop"),
        ("env", "environment"),
    ):
        wall = statistics.median(r[0] for r in rates[name])
        cpu = statistics.median(r[1] for r in rates[name])
        print(f"{label + ' steps/s (median):':33s}{wall:8.1f}   per CPU second {cpu:8.1f}")
    print(
        f"ratio headless / bare (median of rounds): {median_ratio('headless', 0):.2f}"
        f" (per CPU second {median_ratio('headless', 1):.2f})"
    )
    ratio = median_ratio("env", 0)
    print(
        f"ratio env / bare (median of rounds): {ratio:.2f} (target >= {TARGET})"
        f" (per CPU second {median_ratio('env', 1):.2f}, less swayed by other load)"
    )
    print(f"reset (fresh world, first decision): {reset_ms:.0f} ms")
    ok = ratio >= TARGET
    print("PASS" if ok else "FAIL")
    if args.ppo_minutes > 0:
        reached = bench_ppo_to_success(args.ppo_minutes)
        if reached is None:
            print(f"PPO to 80 % success on the easy family: not reached in {args.ppo_minutes} min")
        else:
            print(
                f"PPO to 80 % success on the easy family: {reached[0]:.0f} s of training "
                f"({reached[1]} decisions, 2 environments)"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
