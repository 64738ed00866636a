"""Small training datasets from real headless episodes, in the dataset build's layout.

Until the dataset build (``cloud_bridge.dataset``) can make them, the training tests record
their own: the PyBullet world and the robot's own loop (``run_headless_episode``), with the
privileged expert (``fw_sim.expert.ExpertController``, ground truth) driving through
``loop.teleop`` as the simulated HG-DAgger supervisor would, on the steps ``expert_drives``
picks, or where the simulated HG-DAgger supervisor (``fw_sim.supervisor.ExpertSupervisor``)
takes over. Every control step (every scan the loop turned into a command) becomes a row with
the columns of ISSUE 15's dataset contract: the observation the policy was fed, its command,
what the safety supervisor executed, the take-over flag (teleop won), and the expert's label.

Demonstrations for learning benchmarks can run under the evaluation's conditions
(``randomise``: physics and sensor randomisation and a scan latency, drawn per seed as
``cloud_bridge.evaluate`` draws them) and with noise injected into what the expert executes
(``noise``, DART: :mod:`support.command_noise`); the label is always the expert's clean command
for the state the robot is actually in.

:func:`write_dataset` writes ``data/shard-*.parquet``, ``stats.json``, ``card.json``,
``episodes.json`` and ``quarantine.json`` with pyarrow, as the builder does.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cloud_bridge.dataset.schema import steps_schema
from fw_bringup.headless import HeadlessEpisode, run_headless_episode
from fw_bringup.robot_loop import LoopOutput, RobotLoop
from fw_common import frames
from fw_common.observation import DEFAULT_SPEC, ObservationSpec
from fw_common.planar import compose
from fw_common.profile import RobotProfile
from fw_common.profile.sim import SupervisorConfig
from fw_policy.base import Policy
from fw_sim.expert import ExpertController
from fw_sim.layout import Pose2D
from fw_sim.supervisor import ExpertSupervisor
from fw_sim.world import SimWorld
from support.command_noise import CommandNoise

__all__ = ["SCHEMA", "dataset_schema", "record_episode", "write_dataset"]

FPS = 10.0


def dataset_schema(spec: ObservationSpec = DEFAULT_SPEC) -> pa.Schema:
    """The step table's columns: the dataset builder's own (ISSUE 15's dataset contract)."""
    return steps_schema(spec.size)


SCHEMA = dataset_schema()


def record_episode(
    profile: RobotProfile,
    seed: int,
    *,
    time_limit: float = 30.0,
    expert_drives: Callable[[int], bool] = lambda step: True,
    policy: Policy | None = None,
    robot_id: str = "sim",
    randomise: bool = False,
    noise: CommandNoise | None = None,
    supervisor: SupervisorConfig | None = None,
    expert_localisation: Literal["truth", "robot"] = "truth",
) -> tuple[list[dict[str, Any]], HeadlessEpisode]:
    """One headless episode on scenario ``seed``: its rows and its outcome.

    ``policy`` drives (the profile's, ``classic``, when None) except on the control steps where
    ``expert_drives(step)`` holds, or, with a ``supervisor`` configuration, where the HG-DAgger
    supervisor takes over: there the expert's command (perturbed by ``noise`` when given, and
    not on a supervisor's take-over) goes in through ``loop.teleop``. ``randomise`` runs the
    scenario as the evaluation does (randomised physics and sensors, a scan latency). Every
    step carries the expert's clean label for the state the robot is in.

    ``expert_localisation`` ``"truth"`` steers the expert by the ground-truth pose; ``"robot"``
    by the robot's own estimate (perception's fused state in ``odom``, whose origin is the
    start pose), so it stops where the robot believes the goal is and plans from where the
    robot believes it stands: what the robot's localisation allows any driver on it.
    """
    if expert_localisation not in ("truth", "robot"):
        raise ValueError(
            f"expert_localisation must be truth or robot, not {expert_localisation!r}"
        )
    sim = dataclasses.replace(
        profile.sim,
        seed=seed,
        randomisation=dataclasses.replace(
            profile.sim.randomisation, enabled=randomise or profile.sim.randomisation.enabled
        ),
    )
    latency = _scan_latency(profile, seed) if randomise else 0.0
    rows: list[dict[str, Any]] = []
    with SimWorld(sim, gui=False) as world:
        loop = RobotLoop(profile, policy=policy)
        expert = ExpertController(world.scenario, footprint=sim.robot.footprint)
        gate = (
            ExpertSupervisor(world.scenario, supervisor, footprint=sim.robot.footprint)
            if supervisor is not None
            else None
        )
        episode_id = f"seed{seed}"
        first_ns: list[int] = []
        start = world.scenario.start
        estimate: list[Pose2D] = [start]

        def on_output(out: LoopOutput) -> None:
            if expert_localisation == "robot" and out.state is not None:
                x, y, yaw = compose(
                    (start.x, start.y, start.yaw), (out.state.x, out.state.y, out.state.yaw)
                )
                estimate[0] = Pose2D(x, y, yaw)
            command = out.policy_command
            if command is None or command.observation is None:
                return
            pose = world.ground_truth().pose2d if expert_localisation == "truth" else estimate[0]
            label = expert.command(pose)
            step = len(rows)
            decided = out.safety[-1] if out.safety else None
            now = world.sim_time_ns
            if gate is not None:
                decision = gate.decide(
                    pose, command.linear, command.angular, gate.body_clearance(pose), now
                )
                drive, executed_command = decision.take_over, (label.linear, label.angular)
            else:
                drive = expert_drives(step)
                executed_command = (label.linear, label.angular)
                if drive and noise is not None:
                    executed_command = noise.perturb(label.linear, label.angular)
            if drive:
                # Stamped now, not with the scan's (older, with latency) stamp: a person's
                # teleop command is fresh when it is sent.
                teleop = loop.teleop(*executed_command, frames.BASE_LINK, now, now)
                decided = teleop.safety[-1]
            executed = decided.twist if decided is not None else None
            source = decided.source if decided is not None else ""
            if not first_ns:
                first_ns.append(command.stamp_ns)
            rows.append(
                {
                    "episode_id": episode_id,
                    "robot_id": robot_id,
                    "release_id": "",
                    "step": step,
                    "stamp_ns": command.stamp_ns,
                    "timestamp": step / FPS,
                    "observation": command.observation.astype(np.float32).tolist(),
                    "spec_id": DEFAULT_SPEC.spec_id,
                    "policy_linear": command.linear,
                    "policy_angular": command.angular,
                    "executed_linear": executed.linear if executed else 0.0,
                    "executed_angular": executed.angular if executed else 0.0,
                    "takeover": source == "teleop",
                    "takeover_source": "teleop" if source == "teleop" else "",
                    "expert_linear": label.linear,
                    "expert_angular": label.angular,
                    "has_expert": True,
                    "done": False,
                }
            )

        outcome = run_headless_episode(
            world, loop, time_limit=time_limit, on_output=on_output, scan_latency=latency
        )
    if rows:
        rows[-1]["done"] = True
    return rows, outcome


def _scan_latency(profile: RobotProfile, seed: int) -> float:
    """The scan latency (s) the evaluation draws for scenario ``seed``."""
    from cloud_bridge.evaluate.episode import EpisodeSpec, scan_latency

    family = profile.sim.scenario.family
    return scan_latency(
        EpisodeSpec(seed=seed, policy_ref="classic", profile=profile, family=family)
    )


def _stats(table: pa.Table, spec: ObservationSpec) -> dict[str, Any]:
    def describe(values: np.ndarray) -> dict[str, Any]:
        finite = values[np.isfinite(values).all(axis=1)]
        if not len(finite):
            return {"count": [0]}
        return {
            "mean": np.mean(finite, axis=0).tolist(),
            "std": np.std(finite, axis=0).tolist(),
            "min": np.min(finite, axis=0).tolist(),
            "max": np.max(finite, axis=0).tolist(),
            "count": [len(finite)],
        }

    observations = np.asarray(table.column("observation").to_pylist(), dtype=np.float64)
    stats = {"observation": describe(observations.reshape(table.num_rows, -1))}
    for name in table.column_names:
        kind = table.schema.field(name).type
        if pa.types.is_floating(kind) or pa.types.is_integer(kind):
            values = np.asarray(table.column(name).to_numpy(zero_copy_only=False), float)
            values = values[np.isfinite(values)]
            stats[name] = describe(values[:, None]) if values.size else {"count": [0]}
    return stats


def write_dataset(
    root: Path,
    rows: Sequence[dict[str, Any]],
    *,
    spec: ObservationSpec = DEFAULT_SPEC,
    rows_per_shard: int = 100_000,
    schema: pa.Schema | None = None,
) -> str:
    """Write ``rows`` as a dataset folder at ``root``; its ``dataset_hash``."""
    table = pa.Table.from_pylist(list(rows), schema=schema or dataset_schema(spec))
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    for index, start in enumerate(range(0, max(table.num_rows, 1), rows_per_shard)):
        shard = data / f"shard-{index:05d}.parquet"
        pq.write_table(table.slice(start, rows_per_shard), shard)
        digest.update(shard.read_bytes())
    episodes = sorted({(r["robot_id"], r["episode_id"]) for r in rows})
    (root / "stats.json").write_text(json.dumps(_stats(table, spec)))
    card = {
        "dataset_hash": digest.hexdigest(),
        "episodes": len(episodes),
        "robots": sorted({robot for robot, _ in episodes}),
        "releases": [],
        "steps": table.num_rows,
        "spec_id": spec.spec_id,
        "created_at": "2026-12-05T00:00:00Z",
        "code_version": "test",
    }
    (root / "card.json").write_text(json.dumps(card))
    (root / "episodes.json").write_text(
        json.dumps({f"{robot}/{episode}": {"sha256": ""} for robot, episode in episodes})
    )
    (root / "quarantine.json").write_text("{}")
    return card["dataset_hash"]
