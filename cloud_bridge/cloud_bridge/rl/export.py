"""A trained PPO policy as a Flywheel ONNX model: the deterministic action, with metadata.

The exported graph is the policy's deterministic action: the Gaussian's mean (features →
actor network → action head), clipped to [-1, 1] as the environment clips every action in
training. Its metadata is what :func:`fw_policy.onnx_model.load_model` checks (``fw.spec_id``,
``fw.action_scale``, ``fw.model_version``, written by :func:`fw_policy.model_file.write_metadata`)
plus the provenance the behaviour-cloning export carries (``fw.code_version``) and how the model
was made (``fw.training``: ``ppo``; ``fw.reward_sha256``: the reward file's hash).
:func:`export_policy` writes the file and then loads it as the robot would, so a model that the
robot would refuse is never produced.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from stable_baselines3.common.policies import ActorCriticPolicy

from fw_common.observation import ObservationSpec
from fw_policy.model_file import export_torch, write_metadata
from fw_policy.onnx_model import OnnxModel, load_model

__all__ = ["DeterministicActor", "export_policy"]


class DeterministicActor(torch.nn.Module):
    """The mean action of an actor-critic policy, clipped to [-1, 1]."""

    def __init__(self, policy: ActorCriticPolicy) -> None:
        super().__init__()
        self.features = policy.pi_features_extractor
        self.actor = policy.mlp_extractor.policy_net
        self.head = policy.action_net

    def forward(self, observation: torch.Tensor) -> torch.Tensor:
        mean: torch.Tensor = self.head(self.actor(self.features(observation)))
        return torch.clamp(mean, -1.0, 1.0)


def _add_properties(path: Path, properties: Mapping[str, str]) -> None:
    import onnx

    model = onnx.load(str(path))
    kept = [p for p in model.metadata_props if p.key not in properties]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    for key, value in properties.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))


def export_policy(
    policy: ActorCriticPolicy,
    path: Path,
    spec: ObservationSpec,
    action_scale: tuple[float, float],
    version: str,
    properties: Mapping[str, str],
) -> OnnxModel:
    """Write ``policy``'s deterministic action to ``path`` and load it back with the robot's
    checks; also checks that the file gives the policy's own actions. Raises
    :class:`fw_policy.errors.ModelRejectedError` or ``ValueError``."""
    actor = DeterministicActor(policy).to("cpu").eval()
    export_torch(actor, spec.size, path)
    _add_properties(path, properties)
    write_metadata(path, spec.spec_id, action_scale, version)
    model = load_model(path, spec)
    rng = np.random.default_rng(0)
    probes = rng.uniform(-1.0, 1.0, (8, spec.size)).astype(np.float32)
    with torch.no_grad():
        expected = actor(torch.as_tensor(probes)).numpy()
    got = np.stack([model.run(p) for p in probes])
    if not np.allclose(got, expected, atol=1e-4):
        raise ValueError(f"the exported model {path} does not reproduce the policy's actions")
    return model
