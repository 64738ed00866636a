"""The ``ppo`` stage: the DeepRacer way to a release, beside the fleet's BC and DAgger ones.

PPO (``cloud_bridge.rl``) starts from the last DAgger release (it is distilled into PPO's
actor first), trains for ``--ppo-minutes`` against a reward function written by the user
(``--ppo-reward``; the demo's is ``cloud_bridge/examples/reward_progress.py``) on training
scenarios of the run's family, and is then scored and gated on the same held-out scenarios
against that release, exactly as the fleet's releases are. It joins the leaderboard. It is not
published to the fleet's channel: the run's robots follow the releases they trained, and a PPO
candidate that passes its gate is one ``flywheel release publish`` away (its card: the gate
file beside it).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from cloud_bridge.run.layout import RunLayout, release_name
from cloud_bridge.run.options import RunOptions
from cloud_bridge.run.stages import StageUnavailableError

__all__ = ["PPO_RELEASE", "TRAINING_SCENARIOS", "example_reward", "run_ppo"]

#: The PPO candidate's name in the run folder (train/ppo/, evaluate/ppo.json, the leaderboard).
PPO_RELEASE = "ppo"
#: Training scenarios (``seed_set("train")``, never evaluated on) PPO takes in turn.
TRAINING_SCENARIOS = 200


def example_reward() -> Path | None:
    """The reward file shipped beside the package (a checkout), None where it is not."""
    import cloud_bridge

    path = Path(cloud_bridge.__file__).resolve().parent.parent / "examples" / "reward_progress.py"
    return path if path.is_file() else None


def run_ppo(options: RunOptions, layout: RunLayout) -> dict[str, Any]:
    """Train, score and gate the PPO candidate; the stage result."""
    if options.ppo_minutes == 0:
        raise StageUnavailableError("--ppo-minutes 0: no PPO candidate asked for")
    from cloud_bridge.rl.ppo import PpoConfig, train_ppo
    from cloud_bridge.run.learning import evaluate_and_gate, sim_profile
    from fw_sim.seed_sets import seed_set

    parent = release_name(options.iterations - 1)
    reward = Path(options.ppo_reward) if options.ppo_reward else example_reward()
    scenario = dataclasses.replace(sim_profile().sim.scenario, family=options.family)
    config = PpoConfig(
        reward_path=reward,
        seconds=options.ppo_minutes * 60.0,
        seed=options.seed,
        time_limit=options.eval_time_limit,
        scenario=scenario,
        scenario_seeds=tuple(seed_set("train", TRAINING_SCENARIOS)),
        init_model=layout.model(parent),
        model_version=f"{PPO_RELEASE}-from-{parent}",
    )
    trained = train_ppo(config, layout.train(PPO_RELEASE))
    verdict = evaluate_and_gate(PPO_RELEASE, parent, options, layout)
    return {
        "parent": parent,
        "reward": str(reward) if reward else "built-in progress reward",
        "minutes": options.ppo_minutes,
        "timesteps": trained.timesteps,
        "stopped_by": trained.stopped_by,
        "mlflow_run": trained.run_id,
        "model": str(trained.onnx_path),
        "published": False,
        **verdict,
    }
