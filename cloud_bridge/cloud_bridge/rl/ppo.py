"""PPO on the headless robot with the user's reward, time-boxed, tracked and exported.

:func:`train_ppo` is what ``flywheel train-rl`` runs:

1. load the reward file and the optional behaviour-cloned release first, so a bad file fails
   before anything starts;
2. start ``n_envs`` environments (one process each with ``vec="subproc"``), each wrapped so a
   reward failure reaches the trainer with its message (:mod:`cloud_bridge.rl.reward_guard`);
3. build stable-baselines3's PPO (an MLP actor-critic with a Gaussian policy) and, from a
   release, distil the release's actions into the actor (:mod:`cloud_bridge.rl.distill`);
4. learn until the deadline (``seconds`` of wall time from the start of learning: start-up and
   distillation are not counted) or ``max_timesteps``;
5. export the deterministic action to ONNX with the robot's metadata, load it back with the
   robot's checks (:mod:`cloud_bridge.rl.export`), and only then move it to
   ``<out>/model.onnx``; optionally run it on evaluation scenarios.

Everything is tracked in one MLflow run (:mod:`cloud_bridge.train.tracking`, as behaviour
cloning is). Any failure (a reward that raises or returns a non-number, a release that does not
load, an export the robot would refuse) marks the run FAILED and leaves no ``model.onnx``:
nothing is published.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import math
import os
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv

from cloud_bridge.rl.deadline import Deadline
from cloud_bridge.rl.distill import collect_observations, distil_into
from cloud_bridge.rl.env import HeadlessNavEnv, default_profile
from cloud_bridge.rl.errors import RlTrainingError
from cloud_bridge.rl.export import export_policy
from cloud_bridge.rl.periodic_eval import PeriodicEvaluation
from cloud_bridge.rl.reward import UserReward, load_reward_function
from cloud_bridge.rl.reward_guard import RewardErrorReport, RewardErrorStop
from cloud_bridge.rl.rollout import run_episodes, summarise
from cloud_bridge.train.code_version import code_version
from cloud_bridge.train.tracking import TrainingRun, resolve_tracking_uri
from fw_common.observation import spec_by_name
from fw_common.profile import RobotProfile, load_profile
from fw_common.profile.sim import ScenarioConfig
from fw_policy.errors import ModelRejectedError
from fw_policy.onnx_model import OnnxModel, load_model

__all__ = ["MODEL_FILE", "PpoConfig", "PpoResult", "train_ppo"]

log = logging.getLogger(__name__)

#: The model's name in the run folder (present only after a successful run).
MODEL_FILE = "model.onnx"
#: Summary of a successful run in the run folder.
RESULT_FILE = "result.json"


@dataclass(frozen=True)
class PpoConfig:
    """One PPO run. Times are wall seconds unless said; the scenario settings are the
    profile's ``sim.scenario`` unless ``scenario`` replaces them."""

    #: The user's reward file (``reward_function(params)``); None: the built-in progress reward.
    reward_path: Path | None = None
    #: Training time (s of wall time): training stops at the first environment step past it.
    seconds: float = 600.0
    #: Stop after this many environment steps (all environments together); None: time only.
    max_timesteps: int | None = None
    #: Parallel environments.
    n_envs: int = 2
    #: ``subproc``: one process per environment (parallel); ``dummy``: all in this process.
    vec: Literal["subproc", "dummy"] = "subproc"
    #: Seed of everything random: scenarios, exploration, network initialisation.
    seed: int = 0
    #: Decisions per environment per rollout (PPO's ``n_steps``).
    n_steps: int = 256
    #: Minibatch size of the PPO updates.
    batch_size: int = 64
    #: Passes over each rollout.
    n_epochs: int = 10
    #: Adam learning rate.
    learning_rate: float = 3e-4
    #: Discount per decision (0.1 s of sim time at the sim profile's scan rate).
    gamma: float = 0.99
    #: GAE lambda.
    gae_lambda: float = 0.95
    #: Entropy bonus.
    ent_coef: float = 0.0
    #: Hidden layers of the actor and of the critic.
    net_arch: tuple[int, ...] = (64, 64)
    #: Initial log standard deviation of the Gaussian policy (exploration noise).
    log_std_init: float = -0.5
    #: Sim seconds per episode.
    time_limit: float = 30.0
    #: Domain randomisation (the profile's ``sim.randomisation`` ranges).
    randomise: bool = True
    #: End an episode at the first contact with an obstacle.
    end_on_collision: bool = True
    #: Replaces the profile's scenario generator settings (an easy family, a harder one).
    scenario: ScenarioConfig | None = None
    #: Training scenarios taken in turn; None: drawn from the seed.
    scenario_seeds: tuple[int, ...] | None = None
    #: Scenarios to run the exported model on after training (empty: no evaluation).
    eval_seeds: tuple[int, ...] = ()
    #: Also evaluate the policy on ``eval_seeds`` every this many timesteps (None: never).
    eval_every: int | None = None
    #: Stop training at the first periodic evaluation with at least this success rate.
    stop_at_success: float | None = None
    #: A behaviour-cloned release (ONNX) to start from; None: a fresh policy.
    init_model: Path | None = None
    #: Decisions the release drives to collect distillation data.
    distill_steps: int = 2000
    #: Gradient steps of the distillation.
    distill_updates: int = 2000
    #: What an action of 1.0 means (m/s, rad/s); None: the release's, else the spec's full
    #: scale.
    action_scale: tuple[float, float] | None = None
    #: The robot profile (YAML); None: the sim profile.
    profile_path: Path | None = None
    #: MLflow tracking URI; None: ``$MLFLOW_TRACKING_URI``, else ``<out>/mlflow.db``.
    tracking_uri: str | None = None
    #: MLflow experiment name.
    experiment: str = "flywheel-ppo"
    #: ``fw.model_version`` of the exported model; None: ``ppo-<run id>``.
    model_version: str | None = None
    #: Torch threads in the trainer (the environments have the other cores).
    torch_threads: int = 1


@dataclass
class PpoResult:
    """A successful run: the model, its MLflow run and what the run measured."""

    onnx_path: Path
    run_id: str
    tracking_uri: str
    timesteps: int
    seconds: float
    #: ``deadline``, ``success`` (``stop_at_success``) or ``timesteps``.
    stopped_by: str
    metrics: dict[str, float] = field(default_factory=dict)


def _make_env(
    env_kwargs: dict[str, Any], reward_path: str | None, profile_path: str | None
) -> Monitor:
    """One training environment (runs in the worker process with ``vec="subproc"``)."""
    profile = load_profile(profile_path) if profile_path else None
    env = HeadlessNavEnv(profile=profile, reward=reward_path, **env_kwargs)
    return Monitor(RewardErrorReport(env))


class _Progress(BaseCallback):
    """Episode outcomes from the workers' ``info``, logged to MLflow after each rollout."""

    def __init__(self, run: TrainingRun) -> None:
        super().__init__()
        self.run = run
        self.outcomes: deque[tuple[bool, bool, float]] = deque(maxlen=100)

    def _on_step(self) -> bool:
        for done, info in zip(self.locals["dones"], self.locals["infos"], strict=True):
            if done and "progress" in info:
                self.outcomes.append((info["reached_goal"], info["crashed"], info["progress"]))
        return True

    def _on_rollout_end(self) -> None:
        metrics = {"time/fps": float(self.model.num_timesteps) / max(self._elapsed(), 1e-9)}
        episodes = self.model.ep_info_buffer
        if episodes:
            metrics["rollout/ep_rew_mean"] = float(np.mean([e["r"] for e in episodes]))
            metrics["rollout/ep_len_mean"] = float(np.mean([e["l"] for e in episodes]))
        if self.outcomes:
            metrics["rollout/success_rate"] = float(np.mean([o[0] for o in self.outcomes]))
            metrics["rollout/collision_rate"] = float(np.mean([o[1] for o in self.outcomes]))
            metrics["rollout/progress_mean"] = float(np.mean([o[2] for o in self.outcomes]))
        self.run.log_metrics(metrics, self.model.num_timesteps)
        log.info(
            "%d decisions, %.0f s: mean return %.2f, success %.0f %% (last %d episodes)",
            self.model.num_timesteps,
            self._elapsed(),
            metrics.get("rollout/ep_rew_mean", math.nan),
            100.0 * metrics.get("rollout/success_rate", math.nan),
            len(self.outcomes),
        )

    def _elapsed(self) -> float:
        return time.monotonic() - self.started

    def _on_training_start(self) -> None:
        self.started = time.monotonic()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _load_release(path: Path, profile: RobotProfile) -> OnnxModel:
    try:
        return load_model(path, spec_by_name(profile.policy.observation_spec))
    except ModelRejectedError as exc:
        raise RlTrainingError(f"cannot start from {path}: {exc}") from exc


def _params(config: PpoConfig) -> dict[str, Any]:
    params = dataclasses.asdict(config)
    params.pop("tracking_uri")
    if config.scenario is not None:
        params["scenario"] = json.dumps(dataclasses.asdict(config.scenario), sort_keys=True)
    return params


def train_ppo(config: PpoConfig, out_dir: Path) -> PpoResult:
    """Train, export and check a PPO policy into ``out_dir`` (see the module doc). Raises
    :class:`RlTrainingError` (a :class:`RewardFunctionError` for the reward) on failure."""
    if config.n_envs < 1:
        raise RlTrainingError(f"n_envs must be at least 1, got {config.n_envs}")
    if not (math.isfinite(config.seconds) and config.seconds > 0):
        raise RlTrainingError(f"the training time must be positive, got {config.seconds} s")
    reward: UserReward | None = None
    if config.reward_path is not None:
        reward = load_reward_function(config.reward_path)  # refuses a bad file now
    profile = load_profile(config.profile_path) if config.profile_path else default_profile()
    release = _load_release(config.init_model, profile) if config.init_model else None
    reward_sha256 = _sha256(config.reward_path) if config.reward_path else "builtin"
    action_scale = config.action_scale or (release.action_scale if release else None)

    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / MODEL_FILE
    if final.exists():
        raise RlTrainingError(f"{final} exists: give each run its own folder")
    uri, artifacts = resolve_tracking_uri(config.tracking_uri, out_dir)
    run = TrainingRun(uri, config.experiment, artifacts, run_name=out_dir.name)
    run.log_params(_params(config))
    run.set_tags(
        {
            "fw.training": "ppo",
            "fw.code_version": code_version(),
            "fw.reward_path": reward.path if reward else "<built-in progress reward>",
        }
    )
    env_kwargs: dict[str, Any] = {
        "scenario": config.scenario,
        "randomise": config.randomise,
        "time_limit": config.time_limit,
        "action_scale": action_scale,
        "end_on_collision": config.end_on_collision,
    }
    factory = functools.partial(
        _make_env,
        {**env_kwargs, "scenario_seeds": config.scenario_seeds},
        str(config.reward_path) if config.reward_path else None,
        str(config.profile_path) if config.profile_path else None,
    )
    vec_env: VecEnv | None = None
    staging = out_dir / f".{MODEL_FILE}.partial"
    threads = torch.get_num_threads()
    ok = False
    try:
        torch.set_num_threads(config.torch_threads)
        if config.vec == "subproc" and config.n_envs > 1:
            vec_env = SubprocVecEnv([factory] * config.n_envs)
        else:
            vec_env = DummyVecEnv([factory] * config.n_envs)
        model = PPO(
            "MlpPolicy",
            vec_env,
            n_steps=config.n_steps,
            batch_size=config.batch_size,
            n_epochs=config.n_epochs,
            learning_rate=config.learning_rate,
            gamma=config.gamma,
            gae_lambda=config.gae_lambda,
            ent_coef=config.ent_coef,
            policy_kwargs={
                "net_arch": {"pi": list(config.net_arch), "vf": list(config.net_arch)},
                "log_std_init": config.log_std_init,
            },
            seed=config.seed,
            device="cpu",
            verbose=0,
        )
        # The run's metrics go to MLflow (_Progress). Left to itself SB3 makes a logger that
        # creates an empty tempdir/SB3-<time> folder on every run and never removes it.
        model.set_logger(Logger(folder=None, output_formats=[]))
        scale = vec_env.get_attr("action_scale")[0]
        if release is not None:
            local = HeadlessNavEnv(profile=profile, reward=reward, **env_kwargs)
            try:
                observations = collect_observations(
                    local, release, config.distill_steps, seed=config.seed
                )
            finally:
                local.close()
            mse = distil_into(
                model.policy,
                release,
                observations,
                updates=config.distill_updates,
                seed=config.seed,
            )
            run.log_metrics({"distill/mse": mse, "distill/samples": len(observations)}, 0)
            log.info("distilled %s into the policy: mse %.4f", config.init_model, mse)
        deadline = Deadline(config.seconds)
        callbacks: list[BaseCallback] = [RewardErrorStop(), deadline, _Progress(run)]
        periodic: PeriodicEvaluation | None = None
        if config.eval_every is not None and config.eval_seeds:
            periodic = PeriodicEvaluation(
                functools.partial(HeadlessNavEnv, profile=profile, reward=reward, **env_kwargs),
                config.eval_seeds,
                config.eval_every,
                run,
                target=config.stop_at_success,
            )
            callbacks.append(periodic)
        started = time.monotonic()
        model.learn(
            total_timesteps=config.max_timesteps or 2**62, callback=CallbackList(callbacks)
        )
        seconds = time.monotonic() - started
        version = config.model_version or f"ppo-{run.run_id}"
        properties = {
            "fw.code_version": code_version(),
            "fw.training": "ppo",
            "fw.reward_sha256": reward_sha256,
        }
        spec = spec_by_name(profile.policy.observation_spec)
        onnx_model = export_policy(model.policy, staging, spec, scale, version, properties)
        metrics: dict[str, float] = {
            "timesteps": float(model.num_timesteps),
            "train_seconds": seconds,
        }
        if periodic is not None and periodic.reached is not None:
            metrics["success_target_timesteps"] = float(periodic.reached[0])
            metrics["success_target_train_seconds"] = periodic.reached[1]
        if config.eval_seeds:
            local = HeadlessNavEnv(profile=profile, reward=reward, **env_kwargs)
            try:
                results = run_episodes(local, onnx_model.run, config.eval_seeds)
            finally:
                local.close()
            metrics.update({f"eval/{k}": v for k, v in summarise(results).items()})
        run.log_metrics(metrics, model.num_timesteps)
        os.replace(staging, final)
        run.log_artifact(final)
        if config.reward_path is not None:
            run.log_artifact(Path(config.reward_path))
        result = PpoResult(
            onnx_path=final,
            run_id=run.run_id,
            tracking_uri=uri,
            timesteps=model.num_timesteps,
            seconds=seconds,
            stopped_by="deadline"
            if deadline.expired
            else "success"
            if periodic is not None and periodic.reached is not None
            else "timesteps",
            metrics=metrics,
        )
        summary = {**dataclasses.asdict(result), "onnx_path": str(final), "version": version}
        (out_dir / RESULT_FILE).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        ok = True
        return result
    except RlTrainingError as exc:
        run.set_tags({"fw.error": str(exc)[:5000]})
        raise
    except ModelRejectedError as exc:
        run.set_tags({"fw.error": str(exc)[:5000]})
        raise RlTrainingError(f"the exported model was refused: {exc}") from exc
    finally:
        torch.set_num_threads(threads)
        if vec_env is not None:
            vec_env.close()
        staging.unlink(missing_ok=True)
        run.end(ok)
