"""Starting PPO from a behaviour-cloned release: distil the release's actions into the policy.

A BC release is an ONNX model whose architecture need not match PPO's actor, so its weights
cannot be copied. Instead the actor's mean is regressed onto the release's (clipped) actions
on observations the release itself visits: the release drives the environment (through the
robot loop, as on a robot) for ``steps`` decisions, with a little Gaussian noise on its actions
so the data also covers the states just off its path, where PPO will explore. The value
network is left alone (PPO fits it in its first updates), and the policy's exploration noise
starts at the configured ``log_std`` rather than at 1.0, which would drown the cloned
behaviour in the first rollouts.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import torch
from stable_baselines3.common.policies import ActorCriticPolicy

from cloud_bridge.rl.env import HeadlessNavEnv
from cloud_bridge.rl.export import DeterministicActor
from fw_policy.onnx_model import OnnxModel

__all__ = ["collect_observations", "distil_into"]


def _release_action(model: OnnxModel, obs: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    action = model.run(obs)
    if not np.isfinite(action).all():
        raise ValueError(f"the release gave a non-finite action {action.tolist()}")
    return np.clip(action, -1.0, 1.0).astype(np.float32)


def collect_observations(
    env: HeadlessNavEnv, model: OnnxModel, steps: int, seed: int, noise: float = 0.1
) -> npt.NDArray[np.float32]:
    """Observations (``steps`` × size) met while ``model`` drives ``env`` with action noise."""
    rng = np.random.default_rng(seed)
    observations = np.empty((steps, env.observation_spec.size), dtype=np.float32)
    obs, _ = env.reset(seed=seed)
    for i in range(steps):
        observations[i] = obs
        action = _release_action(model, obs) + rng.normal(0.0, noise, 2).astype(np.float32)
        obs, _, terminated, truncated, _ = env.step(np.clip(action, -1.0, 1.0))
        if terminated or truncated:
            obs, _ = env.reset()
    return observations


def distil_into(
    policy: ActorCriticPolicy,
    model: OnnxModel,
    observations: npt.NDArray[np.float32],
    *,
    updates: int = 2000,
    batch_size: int = 256,
    learning_rate: float = 1e-3,
    seed: int = 0,
) -> float:
    """Fit ``policy``'s deterministic action to ``model``'s on ``observations`` with ``updates``
    Adam steps on random minibatches; the final mean squared error (normalised action
    units)."""
    targets = np.stack([_release_action(model, o) for o in observations])
    actor = DeterministicActor(policy)
    parameters = [p for m in (actor.features, actor.actor, actor.head) for p in m.parameters()]
    optimiser = torch.optim.Adam(parameters, lr=learning_rate)
    x = torch.as_tensor(observations, device=policy.device)
    y = torch.as_tensor(targets, device=policy.device)
    generator = torch.Generator().manual_seed(seed)
    policy.train()
    for _ in range(updates):
        batch = torch.randint(len(x), (min(batch_size, len(x)),), generator=generator)
        # The unclipped mean is fitted: a clipped output has no gradient where it saturates.
        mean = actor.head(actor.actor(actor.features(x[batch])))
        loss = torch.nn.functional.mse_loss(mean, y[batch])
        optimiser.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        optimiser.step()
    policy.eval()
    with torch.no_grad():
        final = torch.nn.functional.mse_loss(actor(x), y)
    return float(final)
