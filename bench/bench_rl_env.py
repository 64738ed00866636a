"""Benchmark the reinforcement-learning environment against the bare world it steps.

Three levels on the same scenario, in interleaved rounds (this machine's speed drifts, so each
ratio is taken within its round):

* ``env``: :class:`cloud_bridge.rl.env.HeadlessNavEnv` steps with a fixed action: the world,
  the robot loop paused at each decision (:mod:`cloud_bridge.rl.stepper`), and the reward. The
  wheel commands its world receives are logged by physics step;
* ``bare``: the same world configuration stepped through the same physics steps with the same
  wheel commands (replayed from that log, so the robot goes through the same states: the same
  contacts, the same parking at an obstacle where the supervisor stops it), with the due sensor
  reads only (scan, IMU, joint states): the floor an environment over this world cannot beat.
  The replay's final pose is checked against the environment's, to show it is the same motion;
* ``headless``: :func:`fw_bringup.headless.run_headless_episode` with a policy that always
  gives the same command: the same world plus the robot loop (perception, policy step, safety
  supervisor, actuator bridge), as evaluation runs it; shown for context, what the robot's
  own code costs.

A bare world driven open-loop at constant wheel speeds (this benchmark's earlier baseline) is
not the same work: it arcs through free space and into obstacles while the environment's robot
is stopped by its supervisor, and PyBullet's cost differs between the two (contact checks near
an obstacle, solver work in contact). Resets (a fresh world per episode) are measured apart, as
milliseconds per reset. Target: ``env`` ≥ 0.7× ``bare`` in steps per wall second; the same
ratio per CPU second of the process is printed beside it, being less swayed by other load on a
shared host.

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
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cloud_bridge.rl.env import HeadlessNavEnv
from cloud_bridge.rl.ppo import PpoConfig, train_ppo
from fw_bringup.headless import run_headless_episode
from fw_bringup.robot_loop import RobotLoop
from fw_common.profile import RobotProfile
from fw_common.profile.sim import ScenarioConfig, SimConfig
from fw_policy.base import Action, PolicyInput
from fw_sim.actuation import CommandResult
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


WheelCommander = Callable[[Sequence[str], Sequence[float]], CommandResult]


@dataclass
class EpisodeLog:
    """What one environment episode's world did inside a timed window."""

    config: SimConfig
    #: Sim time (ns) when the window began: the reset's run to the first decision is before it.
    start_ns: int
    #: Wheel commands by sim time (ns) since ``start_ns``, in the order the world got them.
    commands: dict[int, list[tuple[list[str], list[float]]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    #: Decisions (scans) taken in the window.
    decisions: int = 0
    #: Where the environment's robot was at the window's end (x, y in the world).
    end_xy: tuple[float, float] = (0.0, 0.0)


def _logging(world: SimWorld, log: EpisodeLog) -> WheelCommander:
    """``world``'s wheel command method, logging each command into ``log`` first."""
    apply = world.apply_wheel_velocities

    def logged(names: Sequence[str], velocities: Sequence[float]) -> CommandResult:
        log.commands[world.sim_time_ns - log.start_ns].append((list(names), list(velocities)))
        return apply(names, velocities)

    return logged


def bench_env(env: HeadlessNavEnv, seconds: float) -> tuple[Rates, list[EpisodeLog]]:
    """Environment steps per wall and CPU second within an episode (resets not counted), and
    what each episode's world did in the window, for :func:`bench_bare` to replay."""
    steps, spent, cpu = 0, 0.0, 0.0
    logs: list[EpisodeLog] = []
    while spent < seconds:
        env.reset(options={"scenario_seed": SCENARIO_SEED})
        world = env.world
        log = EpisodeLog(world.config, world.sim_time_ns)
        logs.append(log)
        # The stepper calls the world's method by attribute: logging it costs the environment
        # one Python call per wheel command, which counts against it.
        world.apply_wheel_velocities = _logging(world, log)  # type: ignore[method-assign,assignment]
        start, cpu_start = time.perf_counter(), time.process_time()
        done = False
        while not done and time.perf_counter() - start < seconds - spent:
            _, _, terminated, truncated, _ = env.step(ACTION)
            done = terminated or truncated
            steps += 1
            log.decisions += 1
        spent += time.perf_counter() - start
        cpu += time.process_time() - cpu_start
        pose = world.ground_truth().pose2d
        log.end_xy = (pose.x, pose.y)
    return (steps / spent, steps / cpu), logs


def bench_bare(logs: list[EpisodeLog]) -> tuple[Rates, float]:
    """Environment-step equivalents (scans) per wall and CPU second of a bare world replaying
    each logged episode's window: the same configuration, physics steps and wheel commands,
    the due sensors read and nothing else. Also the largest distance (m) between where a
    replay's robot and the environment's ended."""
    periods, spent, cpu, drift = 0, 0.0, 0.0, 0.0
    for log in logs:
        world = SimWorld(log.config)
        due = Due()
        while world.sim_time_ns < log.start_ns:  # the reset's run to the first decision
            world.step(due)
        commands, replayed = log.commands, 0
        start, cpu_start = time.perf_counter(), time.process_time()
        while replayed < log.decisions:
            for names, velocities in commands.get(world.sim_time_ns - log.start_ns, ()):
                world.apply_wheel_velocities(names, velocities)
            world.step(due)
            if due.joint_states:
                world.joint_states()
            if due.imu:
                world.imu()
            if due.scan:
                world.scan()
                replayed += 1
            if world.has_collisions:
                world.pop_collisions()
        spent += time.perf_counter() - start
        cpu += time.process_time() - cpu_start
        periods += replayed
        pose = world.ground_truth().pose2d
        drift = max(drift, float(np.hypot(pose.x - log.end_xy[0], pose.y - log.end_xy[1])))
        world.close()
    return (periods / spent, periods / cpu), drift


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
    headless_world = SimWorld(env.world.config)
    headless_world.new_scenario(SCENARIO_SEED)
    fixed = FixedCommand(*(float(a) * s for a, s in zip(ACTION, env.action_scale, strict=True)))
    levels = ("bare", "headless", "env")
    rates: dict[str, list[Rates]] = {name: [] for name in levels}
    drift = 0.0
    for round_ in range(args.rounds):
        env_rates, logs = bench_env(env, args.seconds)
        rates["env"].append(env_rates)
        bare_rates, round_drift = bench_bare(logs)
        rates["bare"].append(bare_rates)
        drift = max(drift, round_drift)
        rates["headless"].append(bench_headless(headless_world, env.profile, fixed, args.seconds))
        print(
            f"  .. round {round_ + 1}: "
            + ", ".join(f"{name} {rates[name][-1][0]:.0f}/s" for name in levels),
            file=sys.stderr,
            flush=True,
        )
    reset_ms = bench_reset(env, 5)
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
    # The replay is the same motion only if it ends where the environment's robot did.
    print(f"bare replay's end vs the environment's robot: {drift * 100:.1f} cm apart at most")
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
