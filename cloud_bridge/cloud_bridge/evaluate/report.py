"""An evaluation's results: the per-episode rows, their summary and how the run went."""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloud_bridge.evaluate.episode import EpisodeResult, EpisodeTiming
from cloud_bridge.evaluate.metrics import Summary, summarise

__all__ = ["EvaluationReport", "json_ready", "worker_throughput", "write_json"]


@dataclass(frozen=True)
class EvaluationReport:
    """One policy on one list of seeds."""

    #: The policy's reference and self-description (model sha256, version, spec id).
    policy: dict[str, Any]
    family: str
    seeds: tuple[int, ...]
    randomise: bool
    time_limit: float
    episodes: tuple[EpisodeResult, ...]
    summary: Summary
    #: Where each episode ran and its wall time: the only part that differs between runs.
    timings: tuple[EpisodeTiming, ...] = field(default=(), compare=False)
    #: ``None`` (serial), ``"local"`` or a Ray address.
    ray_address: str | None = field(default=None, compare=False)

    @property
    def policy_ref(self) -> str:
        return str(self.policy["ref"])

    def by_family(self) -> dict[str, Summary]:
        """The summary of each scenario family's episodes (several when evaluating ``mixed``)."""
        families = sorted({e.family for e in self.episodes})
        return {
            f: summarise([e for e in self.episodes if e.family == f], self.summary.confidence)
            for f in families
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "family": self.family,
            "seeds": list(self.seeds),
            "randomise": self.randomise,
            "time_limit": self.time_limit,
            "ray_address": self.ray_address,
            "summary": self.summary.to_dict(),
            "by_family": {f: s.to_dict() for f, s in self.by_family().items()},
            "episodes": [e.to_dict() for e in self.episodes],
            "workers": worker_throughput(self.timings),
        }


def worker_throughput(timings: tuple[EpisodeTiming, ...]) -> dict[str, dict[str, float]]:
    """Per worker: episodes, sim seconds, wall seconds and their ratio (sim time per wall time)."""
    out: dict[str, dict[str, float]] = {}
    for worker in sorted({t.worker for t in timings}):
        mine = [t for t in timings if t.worker == worker]
        sim = sum(t.sim_s for t in mine)
        wall = sum(t.wall_s for t in mine)
        out[worker] = {
            "episodes": len(mine),
            "sim_s": sim,
            "wall_s": wall,
            "sim_per_wall": sim / wall if wall > 0 else math.nan,
            "median_wall_s": statistics.median(t.wall_s for t in mine),
        }
    return out


def json_ready(value: Any) -> Any:
    """``value`` with non-finite floats as None (JSON has no NaN or infinity)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    return value


def write_json(data: dict[str, Any], path: str | Path) -> None:
    """Write ``data`` as strict JSON (sorted keys), atomically: a reader never sees half."""
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(json_ready(data), indent=2, sort_keys=True, allow_nan=False))
    tmp.replace(target)
