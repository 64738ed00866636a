"""The closing stages: the leaderboard of every release and the run's report.

Both come from optional parts (``cloud_bridge.evaluate.leaderboard`` and
``cloud_bridge.report``); where one is not installed, its stage says so and stays unrecorded,
so a re-run of the same folder with the part installed does it.
"""

from __future__ import annotations

import importlib
from typing import Any

from cloud_bridge.run.files import write_json
from cloud_bridge.run.layout import RunLayout, release_name
from cloud_bridge.run.options import RunOptions
from cloud_bridge.run.stages import StageUnavailableError

__all__ = ["release_kind", "run_leaderboard", "run_report"]


def _optional(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise StageUnavailableError(f"{module}.{name} is not available here ({exc})") from None


def release_kind(iteration: int) -> str:
    """How ``v<iteration + 1>`` was made: behaviour cloning of the expert's demonstrations
    first, then DAgger (the supervisor's take-overs and labels aggregated)."""
    return "bc" if iteration == 0 else "dagger"


def run_leaderboard(options: RunOptions, layout: RunLayout) -> dict[str, Any]:
    """``classic`` and every release of the run on the same race scenarios."""
    if options.leaderboard_scenarios == 0:
        raise StageUnavailableError("--leaderboard-scenarios 0: no leaderboard asked for")
    entry_type = _optional("cloud_bridge.evaluate.leaderboard", "LeaderboardEntry")
    board = _optional("cloud_bridge.evaluate.leaderboard", "leaderboard")
    from cloud_bridge.evaluate.runner import LOCAL
    from cloud_bridge.run.learning import sim_profile
    from fw_sim.seed_sets import seed_set

    entries = [entry_type("classic", "classic", "classic")]
    for k in range(options.iterations):
        release = release_name(k)
        entries.append(entry_type(release, release_kind(k), str(layout.model(release))))
    result: dict[str, Any] = board(
        entries,
        seed_set("race", options.leaderboard_scenarios),
        family=options.family,
        profile=sim_profile(),
        time_limit=options.eval_time_limit,
        ray_address=LOCAL if options.ray_cpus > 0 else None,
        ray_cpus=max(options.ray_cpus, 1),
        progress=True,
    )
    write_json(layout.leaderboard, result)
    return {
        "file": str(layout.leaderboard),
        "ranking": [
            {"release": e.get("release"), "success": e.get("success", {}).get("rate")}
            for e in result.get("entries", [])
        ],
    }


def run_report(layout: RunLayout) -> dict[str, Any]:
    """``report.html`` of the run folder."""
    write_report = _optional("cloud_bridge.report", "write_report")
    written = write_report(layout.root)
    return {"file": str(written if written is not None else layout.report)}
