"""Training examples from dataset steps: observation in, target action out, a loss weight each.

The target of a step is what the teacher wanted there: the expert's label where the step has one
(``has_expert``), otherwise the executed command (on a take-over step, what the person drove;
elsewhere, what the robot did). Targets are divided by the action scale and clipped to
[-1, 1], the range of the policy's tanh head. A take-over step weighs ``takeover_weight``, every
other step 1. DAgger's aggregation is the union of every iteration's dataset: the examples of
all roots, each episode named by its root, robot and episode id.

A step whose observation or target is not finite teaches nothing and is dropped (counted); a
step of another observation spec, or an observation of the wrong length, stops training.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from cloud_bridge.train.dataset_root import DatasetRoot
from cloud_bridge.train.errors import TrainError
from fw_common.observation import ObservationSpec

__all__ = ["Examples", "build_examples", "step_targets"]


@dataclass(frozen=True)
class Examples:
    """Aligned arrays, one row per usable step."""

    #: Raw observations (the spec's vector), float32 ``[n, spec.size]``.
    observations: npt.NDArray[np.float32]
    #: Normalised target actions in [-1, 1], float32 ``[n, 2]``.
    targets: npt.NDArray[np.float32]
    #: Loss weights, float32 ``[n]``.
    weights: npt.NDArray[np.float32]
    #: Whether the step was a take-over, ``[n]``.
    takeover: npt.NDArray[np.bool_]
    #: The episode each step belongs to (``<root index>/<robot>/<episode>``), ``[n]``.
    episodes: npt.NDArray[np.str_]
    #: Steps dropped for a non-finite observation or target.
    dropped: int = 0

    def __len__(self) -> int:
        return int(self.targets.shape[0])

    def subset(self, mask: npt.NDArray[np.bool_]) -> Examples:
        """The rows where ``mask`` holds."""
        return Examples(
            observations=self.observations[mask],
            targets=self.targets[mask],
            weights=self.weights[mask],
            takeover=self.takeover[mask],
            episodes=self.episodes[mask],
        )


def _floats(table: pa.Table, name: str) -> npt.NDArray[np.float64]:
    # Nulls read as NaN: a missing value is no label.
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)


def _bools(table: pa.Table, name: str) -> npt.NDArray[np.bool_]:
    column = table.column(name).fill_null(False)
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.bool_)


def _observations(table: pa.Table, size: int, where: str) -> npt.NDArray[np.float32]:
    column = table.column("observation").combine_chunks()
    if not pa.types.is_list(column.type) and not pa.types.is_fixed_size_list(column.type):
        raise TrainError(f"{where}: 'observation' is {column.type}, not a list of floats")
    if column.null_count:
        raise TrainError(f"{where}: {column.null_count} steps have no observation")
    lengths = np.asarray(column.value_lengths().to_numpy(zero_copy_only=False))
    if lengths.size and not (lengths == size).all():
        bad = sorted({int(v) for v in lengths[lengths != size]})
        raise TrainError(f"{where}: observations of length {bad}, the spec has {size}")
    values = np.asarray(column.flatten().to_numpy(zero_copy_only=False), dtype=np.float32)
    return values.reshape(-1, size)


def step_targets(
    table: pa.Table, action_scale: tuple[float, float]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """Each step's normalised target ``[n, 2]`` and whether it is finite ``[n]``."""
    expert = np.stack([_floats(table, "expert_linear"), _floats(table, "expert_angular")], 1)
    executed = np.stack([_floats(table, "executed_linear"), _floats(table, "executed_angular")], 1)
    labelled = _bools(table, "has_expert") & np.asarray(np.isfinite(expert).all(axis=1))
    raw = np.where(labelled[:, None], expert, executed)
    finite: npt.NDArray[np.bool_] = np.asarray(np.isfinite(raw).all(axis=1), dtype=np.bool_)
    scaled = np.clip(raw / np.asarray(action_scale, dtype=np.float64), -1.0, 1.0)
    return np.where(finite[:, None], scaled, 0.0).astype(np.float32), finite


def build_examples(
    roots: Sequence[DatasetRoot],
    spec: ObservationSpec,
    action_scale: tuple[float, float],
    takeover_weight: float,
) -> Examples:
    """The union of the roots' usable steps as training examples."""
    parts: list[Examples] = []
    dropped = 0
    for index, root in enumerate(roots):
        table, where = root.steps, str(root.root)
        specs = set(table.column("spec_id").unique().to_pylist())
        if specs - {spec.spec_id}:
            raise TrainError(
                f"{where}: steps of observation spec {sorted(map(str, specs))}, training for "
                f"{spec.name} v{spec.version} ({spec.spec_id})"
            )
        observations = _observations(table, spec.size, where)
        targets, finite = step_targets(table, action_scale)
        usable = finite & np.isfinite(observations).all(axis=1)
        dropped += int((~usable).sum())
        takeover = _bools(table, "takeover")
        robots = table.column("robot_id").to_pylist()
        episode_ids = table.column("episode_id").to_pylist()
        episodes = np.array(
            [
                f"{index}/{robot}/{episode}"
                for robot, episode in zip(robots, episode_ids, strict=True)
            ],
            dtype=np.str_,
        )
        parts.append(
            Examples(
                observations=observations,
                targets=targets,
                weights=np.where(takeover, takeover_weight, 1.0).astype(np.float32),
                takeover=takeover,
                episodes=episodes,
            ).subset(usable)
        )
    if not parts or sum(len(p) for p in parts) == 0:
        raise TrainError(f"no usable steps in {[str(r.root) for r in roots]} ({dropped} dropped)")
    return Examples(
        observations=np.concatenate([p.observations for p in parts]),
        targets=np.concatenate([p.targets for p in parts]),
        weights=np.concatenate([p.weights for p in parts]),
        takeover=np.concatenate([p.takeover for p in parts]),
        episodes=np.concatenate([p.episodes for p in parts]),
        dropped=dropped,
    )
