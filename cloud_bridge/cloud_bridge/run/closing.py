"""The closing stages: the leaderboard of every release and the run's report."""

from __future__ import annotations

from typing import Any

from cloud_bridge.evaluate.leaderboard import LeaderboardEntry, leaderboard
from cloud_bridge.report import write_report
from cloud_bridge.run.files import write_json
from cloud_bridge.run.layout import RunLayout, release_name
from cloud_bridge.run.options import RunOptions
from cloud_bridge.run.stages import StageUnavailableError

__all__ = ["release_kind", "run_leaderboard", "run_report"]


def release_kind(iteration: int) -> str:
    """How ``v<iteration + 1>`` was made: behaviour cloning of the expert's demonstrations
    first, then DAgger (the supervisor's take-overs and labels aggregated)."""
    return "bc" if iteration == 0 else "dagger"


def run_leaderboard(options: RunOptions, layout: RunLayout) -> dict[str, Any]:
    """``classic`` and every release of the run on the same race scenarios."""
    if options.leaderboard_scenarios == 0:
        raise StageUnavailableError("--leaderboard-scenarios 0: no leaderboard asked for")
    from cloud_bridge.evaluate.runner import LOCAL
    from cloud_bridge.run.learning import sim_profile
    from cloud_bridge.run.ppo import PPO_RELEASE
    from fw_sim.seed_sets import seed_set

    entries = [LeaderboardEntry("classic", "classic", "classic")]
    for k in range(options.iterations):
        release = release_name(k)
        entries.append(LeaderboardEntry(release, release_kind(k), str(layout.model(release))))
    if layout.model(PPO_RELEASE).is_file():
        entries.append(LeaderboardEntry(PPO_RELEASE, "ppo", str(layout.model(PPO_RELEASE))))
    result: dict[str, Any] = leaderboard(
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
    written = write_report(layout.root)
    return {"file": str(written if written is not None else layout.report)}
