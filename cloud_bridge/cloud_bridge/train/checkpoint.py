"""The torch checkpoint next to the ONNX model: what DAgger's next iteration resumes from.

``policy.pt`` holds the network's weights (``state_dict``; an ensemble's, one per member, in
``members``), its hidden widths, the features it masks, the observation spec id and the action
scale. It is read with ``torch.load(weights_only=True)``, which unpickles tensors and plain
containers only, so a hostile file cannot run code; a checkpoint of another spec, action
scale, shape or ensemble size is refused with the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from cloud_bridge.train.ensemble import PolicyEnsemble
from cloud_bridge.train.errors import TrainError

__all__ = ["CHECKPOINT_NAME", "load_parent", "save_checkpoint"]

CHECKPOINT_NAME = "policy.pt"


def save_checkpoint(
    path: Path, network: PolicyEnsemble, spec_id: str, action_scale: tuple[float, float]
) -> None:
    members = [m.state_dict() for m in network.networks]
    # One member keeps the layout of checkpoints from before ensembles.
    weights: dict[str, Any] = (
        {"state_dict": members[0]} if len(members) == 1 else {"members": members}
    )
    torch.save(
        {
            **weights,
            "hidden": list(network.hidden),
            "masked": list(network.masked),
            "spec_id": spec_id,
            "action_scale": [float(v) for v in action_scale],
        },
        path,
    )


def load_parent(
    parent: Path, network: PolicyEnsemble, spec_id: str, action_scale: tuple[float, float]
) -> Path:
    """Load the parent's weights into ``network``, member by member (whose normalisation is
    kept: the new union's); the checkpoint file read. ``parent`` is a ``policy.pt`` or a run
    folder."""
    path = Path(parent)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.is_file():
        raise TrainError(f"parent checkpoint {path} does not exist")
    try:
        saved: Any = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for a bad or hostile file
        raise TrainError(f"parent checkpoint {path} is unreadable: {exc}") from None
    members = saved.get("members", [saved.get("state_dict")]) if isinstance(saved, dict) else None
    if not isinstance(members, list) or not all(isinstance(m, dict) for m in members):
        raise TrainError(f"parent checkpoint {path} is not a Flywheel policy checkpoint")
    if saved.get("spec_id") != spec_id:
        raise TrainError(
            f"parent checkpoint {path} was trained for observation spec "
            f"{saved.get('spec_id')!r}, this run for {spec_id!r}"
        )
    if saved.get("action_scale") != [float(v) for v in action_scale]:
        raise TrainError(
            f"parent checkpoint {path} has action scale {saved.get('action_scale')}, "
            f"this run {list(action_scale)}"
        )
    if saved.get("hidden") != list(network.hidden):
        raise TrainError(
            f"parent checkpoint {path} has hidden layers {saved.get('hidden')}, "
            f"this run {list(network.hidden)}"
        )
    # A checkpoint from before masking existed masked nothing.
    if list(saved.get("masked", [])) != list(network.masked):
        raise TrainError(
            f"parent checkpoint {path} masks features {saved.get('masked', [])}, "
            f"this run {list(network.masked)}"
        )
    if len(members) != len(network.networks):
        raise TrainError(
            f"parent checkpoint {path} has {len(members)} ensemble members, "
            f"this run {len(network.networks)}"
        )
    for member, state in zip(network.networks, members, strict=True):
        mean, std = member.mean.clone(), member.std.clone()
        try:
            member.load_state_dict(state)
        except (RuntimeError, TypeError, KeyError) as exc:
            raise TrainError(f"parent checkpoint {path} does not fit the network: {exc}") from None
        with torch.no_grad():
            member.mean.copy_(mean)
            member.std.copy_(std)
    return path
