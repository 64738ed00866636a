"""The cloud stages of an iteration: dataset, training, evaluation with the gate.

- ``dataset-<k>``: :func:`cloud_bridge.dataset.build_dataset` on the store's episodes into
  ``<run>/dataset``. The build is incremental (it decodes only episodes it has not built) and
  safe to interrupt (its own commit point), so the one folder grows with every iteration: the
  union DAgger trains on. Episodes a release drove are re-run with that release's model.
- ``train-<k>``: :func:`cloud_bridge.train.train_policy` on that dataset into
  ``<run>/train/v<k+1>``; from iteration 1 on, the union holds the expert's demonstrations and
  the supervisor's take-overs and labels of every release before (DAgger's aggregation), and
  ``v<k+1>`` resumes ``v<k>`` and fine-tunes it at ``options.dagger_learning_rate`` (with the
  same seed, so the same validation episodes): retrained from scratch, a round's release is a
  new draw of initialisation that may land below the release it should improve on.
- ``evaluate-<k>``: ``v<k+1>`` and its baseline (``classic`` for v1, the release before it
  after) on the same held-out scenarios (``seed_set("heldout")``; the baseline's episodes are
  read back from the iteration before when it ran them), then the gate: a paired
  non-inferiority test with the run's :class:`~cloud_bridge.evaluate.GateConfig`, recorded with
  what it compared in ``evaluate/gate-v<k+1>.json``.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

from rich.console import Console

from cloud_bridge.evaluate import (
    EpisodeResult,
    EvaluationReport,
    compare,
    evaluate,
    gate,
    summarise,
)
from cloud_bridge.evaluate.policies import describe_policy
from cloud_bridge.evaluate.runner import LOCAL, ray_session
from cloud_bridge.run.files import read_json, write_json
from cloud_bridge.run.layout import RunLayout, release_name
from cloud_bridge.run.options import RunOptions
from cloud_bridge.run.progress import stage_progress
from cloud_bridge.run.stages import StageError
from cloud_bridge.store import ObjectStore
from fw_common.profile import RobotProfile
from fw_sim.seed_sets import seed_set

__all__ = [
    "baseline_of",
    "evaluate_and_gate",
    "run_dataset",
    "run_evaluate",
    "run_train",
    "sim_profile",
]


#: Observation features the run's policies never read (see run_train).
VELOCITY_FEATURES = ("linear", "angular")


def sim_profile() -> RobotProfile:
    """The simulated robot's profile: what the robots run and evaluation re-runs."""
    from cloud_bridge.dataset import default_profile

    return default_profile()


def run_dataset(
    iteration: int, store: ObjectStore, layout: RunLayout, console: Console
) -> dict[str, Any]:
    """Build (extend) the dataset with the episodes in the store; the stage result."""
    from cloud_bridge.dataset import build_dataset
    from cloud_bridge.dataset.build import EpisodeOutcome
    from fw_common.observation import spec_by_name
    from fw_policy.onnx_model import OnnxPolicy, load_model

    profile = sim_profile()
    spec = spec_by_name(profile.policy.observation_spec)
    # Every release this run trained may have driven an episode: the build re-runs each.
    models = {
        release_name(k): OnnxPolicy(load_model(str(layout.model(release_name(k))), spec))
        for k in range(iteration)
        if layout.model(release_name(k)).exists()
    }
    with stage_progress(console) as bar:
        task = bar.add_task(f"dataset-{iteration} episodes", total=None, note="")

        def progress(done: int, total: int, outcome: EpisodeOutcome) -> None:
            bar.update(task, completed=done, total=total, note=f"{outcome.verdict} {outcome.key}")

        card = build_dataset(
            store,
            layout.dataset,
            profile=profile,
            cache=layout.root / "cache" / "episodes",
            models=models,
            progress=progress,
        )
    if card.last_build.get("decoded", 0) == 0:
        raise StageError(
            f"dataset-{iteration}",
            f"no new episode could be built ({card.last_build}); "
            f"see {layout.dataset / 'quarantine.json'}",
        )
    return {
        "dataset": str(layout.dataset),
        "dataset_hash": card.dataset_hash,
        "episodes": len(card.episodes),
        "steps": card.steps,
        "robots": card.robots,
        "releases": [r or "classic" for r in card.releases],
        "last_build": dict(card.last_build),
        "quarantined": card.quarantined,
    }


def run_train(
    iteration: int, options: RunOptions, layout: RunLayout, console: Console
) -> dict[str, Any]:
    """Train ``v<iteration + 1>`` on the whole dataset; the stage result."""
    from cloud_bridge.train import TrainConfig, TrainError, train_policy
    from cloud_bridge.train.fit import EpochRecord

    release = release_name(iteration)
    parent = None if iteration == 0 else release_name(iteration - 1)
    config = TrainConfig(
        seed=options.seed,
        epochs=options.epochs,
        patience=options.patience,
        takeover_weight=options.takeover_weight,
        ensemble_size=options.ensemble_size,
        parent=None if parent is None else layout.train(parent),
        learning_rate=(
            TrainConfig.learning_rate if parent is None else options.dagger_learning_rate
        ),
        model_version=release,
        # The robot's own velocity nearly equals its last command: a network that reads it
        # learns to repeat itself (behaviour cloning's copycat failure; bench_learning.py
        # measured closed-loop success doubling without it).
        masked_features=VELOCITY_FEATURES,
    )
    with stage_progress(console) as bar:
        task = bar.add_task(f"train {release} epochs", total=config.epochs, note="")

        def on_epoch(record: EpochRecord) -> None:
            if config.ensemble_size > 1:
                members = f"member {record.member + 1}/{config.ensemble_size}"
                bar.update(task, description=f"train {release} {members} epochs")
            bar.update(
                task,
                completed=record.epoch + 1,
                note=f"train {record.train_loss:.4f} val {record.val_loss:.4f}",
            )

        try:
            result = train_policy(
                [layout.dataset], layout.train(release), config, on_epoch=on_epoch
            )
        except TrainError as exc:
            raise StageError(f"train-{iteration}", str(exc)) from None
    return {
        "release": release,
        "model": str(result.onnx_path),
        "summary": str(result.summary_path),
        "mlflow_run_id": result.run_id,
        "metrics": result.metrics,
        "aggregated_iterations": iteration + 1,
        "parent": parent,
        "config": {
            k: v for k, v in dataclasses.asdict(config).items() if isinstance(v, int | float | str)
        },
    }


def baseline_of(iteration: int) -> str:
    """What ``v<iteration + 1>`` is gated against: ``classic``, then the release before it."""
    return "classic" if iteration == 0 else release_name(iteration - 1)


def _evaluate(
    ref: str, seeds: list[int], options: RunOptions, profile: RobotProfile, ray: str | None
) -> EvaluationReport:
    return evaluate(
        ref,
        seeds,
        family=options.family,
        profile=profile,
        time_limit=options.eval_time_limit,
        ray_address=ray,
        ray_cpus=max(options.ray_cpus, 1),
        progress=True,
    )


def _metrics(report: EvaluationReport) -> dict[str, float]:
    """The card's metrics: finite figures only."""
    s = report.summary
    values = {
        "heldout_success_rate": s.success_rate.value,
        "heldout_collision_rate": s.collision_rate.value,
        "heldout_interventions_per_100m": s.interventions_per_100m.value,
        "heldout_time_to_goal_s": s.time_to_goal_s.value,
        "heldout_episodes": float(s.episodes),
    }
    return {k: v for k, v in values.items() if math.isfinite(v)}


def recorded_episodes(
    path: Path, seeds: list[int], options: RunOptions, policy: dict[str, Any]
) -> list[EpisodeResult] | None:
    """The episodes of an earlier evaluation of the same policy on the same scenarios (what
    the last iteration wrote for the release that is now the baseline), None when there is
    none that matches in every respect: evaluation is deterministic per seed, so reading it
    back is the same as running it again."""
    doc = read_json(path)
    if not isinstance(doc, dict):
        return None
    same = (
        doc.get("seeds") == seeds
        and doc.get("family") == options.family
        and doc.get("time_limit") == options.eval_time_limit
        and doc.get("randomise") is True
        and doc.get("policy", {}).get("model_sha256") == policy.get("model_sha256")
    )
    if not same:
        return None
    names = {f.name for f in dataclasses.fields(EpisodeResult)}
    try:
        return [
            EpisodeResult(**{k: v for k, v in row.items() if k in names})
            for row in doc["episodes"]
        ]
    except (KeyError, TypeError):
        return None


def run_evaluate(iteration: int, options: RunOptions, layout: RunLayout) -> dict[str, Any]:
    """Evaluate ``v<iteration + 1>`` against its baseline and gate it; the stage result."""
    return evaluate_and_gate(release_name(iteration), baseline_of(iteration), options, layout)


def evaluate_and_gate(
    release: str, baseline: str, options: RunOptions, layout: RunLayout
) -> dict[str, Any]:
    """Score ``release`` (its model in the run folder) and ``baseline`` (``classic`` or another
    release; its earlier episodes on the same seeds are reused) on the held-out scenarios, and
    gate the one against the other; the result, also written to ``evaluate/``."""
    seeds = seed_set("heldout", options.eval_scenarios)
    profile = sim_profile()
    ray = LOCAL if options.ray_cpus > 0 else None
    base_ref = "classic" if baseline == "classic" else str(layout.model(baseline))
    base_episodes = recorded_episodes(
        layout.evaluation(baseline), seeds, options, describe_policy(base_ref, profile)
    )
    reports: dict[str, EvaluationReport] = {}
    with ray_session(ray, max(options.ray_cpus, 1)):
        reports[release] = _evaluate(str(layout.model(release)), seeds, options, profile, ray)
        if base_episodes is None:
            reports[baseline] = _evaluate(base_ref, seeds, options, profile, ray)
            base_episodes = list(reports[baseline].episodes)
    for name, report in reports.items():
        write_json(layout.evaluation(name), {"release": name, **report.to_dict()})
    summaries = {release: reports[release].summary, baseline: summarise(base_episodes)}
    comparison = compare(reports[release].episodes, base_episodes)
    verdict = gate(reports[release].summary, comparison, options.gate)
    record = {
        "candidate": release,
        "baseline": baseline,
        "passed": verdict.passed,
        "reasons": list(verdict.reasons),
        "checks": list(verdict.checks),
        "config": options.gate.to_dict(),
        "seeds": {"set": "heldout", "count": len(seeds), "family": options.family},
        "comparison": comparison.to_dict(),
    }
    write_json(layout.gate(release), record)
    return {
        **record,
        "success_rate": {n: s.success_rate.to_dict() for n, s in summaries.items()},
        "collision_rate": {n: s.collision_rate.to_dict() for n, s in summaries.items()},
        "metrics": _metrics(reports[release]),
        "reports": {n: str(layout.evaluation(n)) for n in summaries},
        "baseline_reused": baseline not in reports,
    }
