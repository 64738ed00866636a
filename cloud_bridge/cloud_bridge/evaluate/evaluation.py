"""``evaluate``: one policy on a list of seeded scenarios, serial or on Ray, with a progress bar.

from cloud_bridge.evaluate import evaluate
report = evaluate("model.onnx", range(50), family="open", profile=profile)
print(report.summary.success_rate)            # 0.94 [0.838, 0.979]
"""

from __future__ import annotations

from collections.abc import Iterable

from cloud_bridge.evaluate.episode import EpisodeResult, EpisodeSpec
from cloud_bridge.evaluate.metrics import summarise
from cloud_bridge.evaluate.policies import describe_policy
from cloud_bridge.evaluate.report import EvaluationReport
from cloud_bridge.evaluate.runner import run_episodes
from cloud_bridge.evaluate.seeds import DEFAULT_FAMILY, scenario_config
from fw_common.profile import RobotProfile

__all__ = ["evaluate"]


def evaluate(
    policy_ref: str,
    seeds: Iterable[int],
    *,
    family: str = DEFAULT_FAMILY,
    profile: RobotProfile,
    randomise: bool = True,
    ray_address: str | None = None,
    ray_cpus: int = 2,
    time_limit: float = 60.0,
    scan_latency_range: tuple[float, float] = (0.0, 0.1),
    progress: bool = False,
) -> EvaluationReport:
    """Run ``policy_ref`` (``"classic"`` or an ONNX path) on each seed's scenario.

    ``ray_address``: ``None`` runs here, one episode after another; ``"local"`` starts a local
    Ray with ``ray_cpus`` CPUs; anything else is a Ray cluster's address. The policy is loaded
    once here first, so a bad model fails before any work is queued.
    """
    seed_list = tuple(int(s) for s in seeds)
    if not seed_list:
        raise ValueError("no seeds to evaluate")
    if len(set(seed_list)) != len(seed_list):
        raise ValueError("a seed is listed twice: each scenario counts once")
    scenario_config(profile.sim.scenario, family)  # an unknown family fails before any work
    policy = describe_policy(policy_ref, profile)
    specs = [
        EpisodeSpec(
            seed=seed,
            policy_ref=policy_ref,
            profile=profile,
            family=family,
            randomise=randomise,
            time_limit=time_limit,
            scan_latency_range=scan_latency_range,
            model_sha256=policy.get("model_sha256"),
        )
        for seed in seed_list
    ]
    if progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        columns = (
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            "{task.fields[successes]} succeeded",
            TimeRemainingColumn(),
        )
        with Progress(*columns, transient=False) as bar:
            task = bar.add_task(f"{policy_ref} on {family}", total=len(specs), successes=0)

            def advance(result: EpisodeResult) -> None:
                done = bar.tasks[task].fields["successes"] + int(result.success)
                bar.update(task, advance=1, successes=done)

            outcomes = run_episodes(
                specs, ray_address=ray_address, ray_cpus=ray_cpus, on_result=advance
            )
    else:
        outcomes = run_episodes(specs, ray_address=ray_address, ray_cpus=ray_cpus)
    results = tuple(result for result, _ in outcomes)
    return EvaluationReport(
        policy=policy,
        family=family,
        seeds=seed_list,
        randomise=randomise,
        time_limit=time_limit,
        episodes=results,
        summary=summarise(results),
        timings=tuple(timing for _, timing in outcomes),
        ray_address=ray_address,
    )
