"""Learning: behaviour cloning from expert demonstrations, one DAgger round, and ``classic``,
each evaluated on the same held-out hard scenarios.

1. Demonstrations, on ``seed_set("train")`` scenarios of ``--family`` run as the evaluation runs
   them (randomised physics and sensors, a scan latency): the privileged expert drives
   ``--demos`` episodes (through ``loop.teleop``, the path a person's take-over takes), and
   ``--noisy-demos`` more with held Gaussian noise in what it executes (DART), so the data
   holds the states a slightly wrong policy reaches, each labelled with the expert's command.
   Episodes the expert did not finish cleanly are left out (counted).
2. BC: ``cloud_bridge.train.train_policy`` on those steps; the network never reads the robot's
   own velocity (``--read-velocity`` to let it), see ``TrainConfig.masked_features``. With
   several ``--train-seeds`` a BC policy is trained and evaluated per seed (initialisation,
   shuffling, validation split), so the figure is not one lucky draw. ``--ensemble N`` makes
   each policy N networks trained apart whose actions it averages
   (``TrainConfig.ensemble_size``), with its first network alone as the same-run baseline.
3. One DAgger round (HG-DAgger) per BC policy: it drives ``--dagger-episodes`` more training
   scenarios while the simulated supervisor (``fw_sim.supervisor.ExpertSupervisor``) takes over
   when it is about to fail; the expert labels every state visited. Every labelled step weighs
   the same there (``--dagger-takeover-weight``, 1): the demonstrations are take-overs too (the
   expert drove them through the teleop path), so ``TrainConfig``'s take-over weight of 5 would
   weigh the round's own states, the learner's mistakes DAgger is for, at a fifth of a
   demonstration's (on 100 validation scenarios, training seed 0: BC 92, the round at weight 5
   92, at weight 1 95; labels alone, no take-overs, 91; held out, neither weight lifted the
   round above BC). The round resumes its BC policy (``TrainConfig.parent``, same seed, so the
   same validation episodes) and fine-tunes it on the union of all the datasets at
   ``--dagger-learning-rate``. Retrained from scratch instead, the round's policy is one more
   draw of initialisation: on the same data its success moved 84-96 % with the seed, around
   the BC policy's and not above it.
4. Evaluation: ``cloud_bridge.evaluate.evaluate`` of every BC and DAgger policy and ``classic``
   on the same ``seed_set("heldout", --heldout)`` scenarios (randomised), success with its
   Wilson interval, overall and by family, and each DAgger round paired with its own BC policy;
   then the privileged expert itself on the same scenarios, the ceiling of imitating it, and
   the expert steered by the robot's own fused state (odometry and gyro) instead of ground
   truth, as every policy on the robot is: what the robot's localisation allows
   (``--experts-only`` measures these two alone). Settings are chosen with ``--scenarios
   validation`` (``seed_set("validation")``), so the held-out figures are never what was tuned
   on.

Targets (issue 15): BC ≥ 90 % success on 50 held-out hard scenarios (pooled over the training
seeds); one DAgger round beats plain BC (judged by the paired difference over every training
seed and scenario, whose interval, resampling the scenarios, must lie above zero); both beat
``classic``: ``learning_verdicts.py``. ``--pool`` gives the same verdicts over earlier runs'
``--results-json`` files of one configuration with other training seeds, so seeds can be
added without training the first ones again. ``--noisy-demos 0`` trains BC on the clean
demonstrations alone, where a round has room to show what it adds (docs/BENCHMARKS.md: about
20 points). Run from the repository root in the workspace environment::

    PYTHONPATH=cloud_bridge:tests:$PYTHONPATH flock /tmp/fw-bench.lock \\
        python bench/bench_learning.py --family mixed --demos 100 --noisy-demos 200 \\
        --dagger-episodes 200 --heldout 50 --train-seeds 0 1 2 --ensemble 3 --ray \\
        --results-json s0_2.json
    python bench/bench_learning.py --pool s0_2.json s3_9.json  # with seeds 3-9 run alike
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def _progress(text: str) -> None:
    print(f"  .. {text}", file=sys.stderr, flush=True)


def _profile(family: str) -> Any:
    from fw_bringup.node_parameters import default_profile_path
    from fw_common.profile import load_profile

    profile = load_profile(default_profile_path("sim"))
    scenario = dataclasses.replace(profile.sim.scenario, family=family)
    return dataclasses.replace(profile, sim=dataclasses.replace(profile.sim, scenario=scenario))


@dataclasses.dataclass
class Collected:
    """What one collection recorded: steps kept, episodes kept, episodes left out."""

    steps: int = 0
    episodes: int = 0
    left_out: int = 0
    takeover_steps: int = 0


def _collect(
    profile: Any,
    seeds: list[int],
    out: Path,
    what: str,
    *,
    keep_failed: bool = False,
    noise_for: Callable[[int], Any] | None = None,
    **record: Any,
) -> Collected:
    """Record an episode per seed into a dataset at ``out``; ``noise_for(seed)`` gives the
    episode's noise. Failed episodes are left out unless ``keep_failed`` (a DAgger round's
    failures are what it learns from)."""
    from support.expert_dataset import record_episode, write_dataset

    rows: list[dict[str, Any]] = []
    collected = Collected()
    for i, seed in enumerate(seeds):
        noise = noise_for(seed) if noise_for is not None else None
        episode_rows, episode = record_episode(
            profile, seed, time_limit=60.0, robot_id=what, randomise=True, noise=noise, **record
        )
        if keep_failed or (episode.reached and episode.collisions == 0):
            rows.extend(episode_rows)
            collected.episodes += 1
            collected.takeover_steps += sum(r["takeover"] for r in episode_rows)
        else:
            collected.left_out += 1
        if (i + 1) % 10 == 0:
            _progress(f"{what}: {i + 1}/{len(seeds)} episodes, {len(rows)} steps")
    write_dataset(out, rows)
    collected.steps = len(rows)
    _progress(f"{what}: {collected}")
    return collected


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", default="mixed")
    parser.add_argument("--demos", type=int, default=100, help="clean expert demonstrations")
    parser.add_argument(
        "--noisy-demos", type=int, default=100, help="demonstrations with noise (DART)"
    )
    parser.add_argument("--noise-linear", type=float, default=0.4, help="noise std (m/s)")
    parser.add_argument("--noise-angular", type=float, default=0.5, help="noise std (rad/s)")
    parser.add_argument("--noise-hold", type=int, default=5, help="control steps per draw")
    parser.add_argument("--dagger-episodes", type=int, default=120)
    parser.add_argument(
        "--dagger-takeover-weight", type=float, default=1.0,
        help="the DAgger round's loss weight of take-over steps (the demonstrations are too)",
    )  # fmt: skip
    parser.add_argument(
        "--dagger-learning-rate", type=float, default=3e-4,
        help="the DAgger round's fine-tuning rate (BC trains at TrainConfig's default)",
    )  # fmt: skip
    parser.add_argument("--heldout", type=int, default=50, help="evaluation scenarios")
    parser.add_argument(
        "--scenarios", choices=("heldout", "validation"), default="heldout",
        help="the seed set evaluated on: choose settings on validation, report on heldout",
    )  # fmt: skip
    # 256-wide: with 128 BC plateaued at 88 % on the mixed family however much data it had.
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 256])
    parser.add_argument(
        "--train-seeds", type=int, nargs="+", default=[0], help="a BC policy per training seed"
    )
    parser.add_argument(
        "--ensemble", type=int, default=1, help="networks per policy, their actions averaged"
    )
    parser.add_argument("--read-velocity", action="store_true", help="do not mask velocity")
    parser.add_argument("--ray", action="store_true", help="evaluate on a local Ray (2 CPUs)")
    parser.add_argument(
        "--results-json", type=Path,
        help="also write each policy's success per scenario seed there, for later pairing",
    )  # fmt: skip
    parser.add_argument(
        "--experts-only", action="store_true",
        help="no training: the expert on ground truth and on the robot's localisation alone",
    )  # fmt: skip
    parser.add_argument(
        "--pool", type=Path, nargs="+", metavar="RESULTS_JSON",
        help="no training: pool earlier runs' --results-json (one configuration, other "
        "training seeds) on the first --heldout scenarios and give the verdicts",
    )  # fmt: skip
    return parser


def main() -> int:
    args = _parser().parse_args()
    if args.pool:
        return _print_pool(args)

    from learning_verdicts import BC, DAGGER, SINGLE, print_verdicts, trained_name

    from cloud_bridge.evaluate import evaluate
    from cloud_bridge.evaluate.comparison import compare
    from cloud_bridge.train import TrainConfig, train_policy
    from fw_common.observation import spec_by_name
    from fw_common.profile.sim import SupervisorConfig
    from fw_policy.onnx_model import OnnxPolicy, load_model
    from fw_sim.scenario import seed_set
    from support.command_noise import CommandNoise

    command = "python " + " ".join(shlex.quote(a) for a in sys.argv)
    load_before = os.getloadavg()
    profile = _profile(args.family)
    if args.experts_only:
        scenarios = seed_set(args.scenarios, args.heldout)
        return _print_experts(profile, scenarios, args.scenarios, command)
    counts = (args.demos, args.noisy_demos, args.dagger_episodes)
    train_seeds = seed_set("train", sum(counts))
    demo_seeds = train_seeds[: args.demos]
    noisy_seeds = train_seeds[args.demos : args.demos + args.noisy_demos]
    dagger_seeds = train_seeds[args.demos + args.noisy_demos :]
    scenarios = seed_set(args.scenarios, args.heldout)
    config = TrainConfig(
        seed=args.train_seeds[0],
        hidden=tuple(args.hidden),
        ensemble_size=args.ensemble,
        masked_features=() if args.read_velocity else ("linear", "angular"),
    )
    bc_names = {seed: trained_name(BC, seed, args.train_seeds) for seed in args.train_seeds}
    dagger_names = {
        seed: trained_name(DAGGER, seed, args.train_seeds) for seed in args.train_seeds
    }
    # With an ensemble, its first member alone as well: what the averaging adds, in this run.
    single_names = (
        {seed: trained_name(SINGLE, seed, args.train_seeds) for seed in args.train_seeds}
        if args.ensemble > 1
        else {}
    )
    spec = spec_by_name(profile.policy.observation_spec)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        demos = [work / "demos"]
        clean = _collect(profile, demo_seeds, demos[0], "expert")
        noisy = Collected()
        if noisy_seeds:
            demos.append(work / "noisy")

            def noise_for(seed: int) -> CommandNoise:
                return CommandNoise(
                    args.noise_linear, args.noise_angular, hold_steps=args.noise_hold, seed=seed
                )

            noisy = _collect(profile, noisy_seeds, demos[1], "noisy", noise_for=noise_for)
        trained, rounds = {}, {}
        for seed in args.train_seeds:
            seeded = dataclasses.replace(config, seed=seed)
            bc_run = work / f"bc_seed{seed}"
            trained[bc_names[seed]] = train_policy(demos, bc_run, seeded)
            _progress(f"{bc_names[seed]} trained: {trained[bc_names[seed]].metrics}")
            if seed in single_names:
                alone = dataclasses.replace(seeded, ensemble_size=1)
                trained[single_names[seed]] = train_policy(demos, work / f"bc1_{seed}", alone)
            learner = OnnxPolicy(load_model(trained[bc_names[seed]].onnx_path, spec))
            dagger_root = work / f"dagger_seed{seed}"
            rounds[seed] = _collect(
                profile,
                dagger_seeds,
                dagger_root,
                f"dagger_seed{seed}",
                keep_failed=True,
                policy=learner,
                supervisor=SupervisorConfig(mode="supervise"),
            )
            fine_tune = dataclasses.replace(
                seeded,
                parent=bc_run,
                learning_rate=args.dagger_learning_rate,
                takeover_weight=args.dagger_takeover_weight,
            )
            trained[dagger_names[seed]] = train_policy(
                [*demos, dagger_root], work / f"dagger_seed{seed}_run", fine_tune
            )
            _progress(f"{dagger_names[seed]} trained: {trained[dagger_names[seed]].metrics}")
        ray = "local" if args.ray else None
        results = {}
        refs = [("classic", "classic")] + [(n, str(r.onnx_path)) for n, r in trained.items()]
        for name, ref in refs:
            _progress(f"evaluating {name} on {len(scenarios)} {args.scenarios} scenarios")
            results[name] = evaluate(
                ref, scenarios, family=args.family, profile=profile, ray_address=ray
            )
        _progress(f"the expert on the {len(scenarios)} {args.scenarios} scenarios")
        expert_won = _expert_successes(profile, scenarios)
        _progress("the expert steered by the robot's own localisation")
        estimate_won = _expert_successes(profile, scenarios, localisation="robot")
    minutes = (time.monotonic() - started) / 60
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load_after = os.getloadavg()
    print(f"command: {command}")
    print(
        f"date: {now}; {minutes:.1f} min; load average {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after (1 min), {os.cpu_count()} CPUs"
    )
    print(
        f"family {args.family}: {clean.episodes} clean demonstrations ({clean.steps} steps, "
        f"{clean.left_out} the expert failed left out), {noisy.episodes} noisy ones "
        f"({noisy.steps} steps, {noisy.left_out} left out); {len(scenarios)} {args.scenarios} "
        "scenarios"
    )
    for seed, collected in rounds.items():
        print(
            f"DAgger round of {bc_names[seed]}: {collected.episodes} episodes, "
            f"{collected.steps} steps, {collected.takeover_steps} taken over"
        )
    for name, result in trained.items():
        m = result.metrics
        print(
            f"{name} training: best epoch {m['best_epoch']:.0f} of {m['epochs']:.0f}, "
            f"train loss {m['train_loss']:.4f}, validation loss {m['val_loss']:.4f}"
        )
    families = sorted({e.family for r in results.values() for e in r.episodes})
    print("| policy | success | 95 % interval | collisions | " + " | ".join(families) + " |")
    print("|---|---|---|---|" + "---|" * len(families))
    for name, report in results.items():
        rate = report.summary.success_rate
        cells = []
        for family in families:
            episodes = [e for e in report.episodes if e.family == family]
            cells.append(f"{sum(e.success for e in episodes)}/{len(episodes)}")
        print(
            f"| {name} | {rate.value:.0%} of {rate.n} | [{rate.low:.0%}, {rate.high:.0%}] | "
            f"{report.summary.collision_rate.value:.0%} | " + " | ".join(cells) + " |"
        )
    _print_expert_lines(scenarios, expert_won, estimate_won)
    success = {
        name: {e.seed: e.success for e in report.episodes} for name, report in results.items()
    }
    success["expert"] = {s: s in expert_won for s in scenarios}
    success["expert on the robot's localisation"] = {s: s in estimate_won for s in scenarios}
    if args.results_json is not None:
        _write_results(args.results_json, command, success)
    # Paired by scenario (bootstrap over the scenarios): is a difference more than the draw?
    pairs = [(dagger_names[seed], bc_names[seed]) for seed in args.train_seeds]
    pairs += [(bc_names[seed], single_names[seed]) for seed in single_names]
    pairs.append((bc_names[args.train_seeds[0]], "classic"))
    for candidate, baseline in pairs:
        paired = compare(results[candidate].episodes, results[baseline].episodes)
        diff = paired.success
        print(
            f"{candidate} - {baseline}, paired: {diff.value:+.0%} [{diff.low:+.0%}, "
            f"{diff.high:+.0%}]; only {candidate}: {len(paired.candidate_only)} scenarios, "
            f"only {baseline}: {len(paired.baseline_only)}"
        )
    print_verdicts(success, args.train_seeds, scenarios)
    return 0


def _print_pool(args: argparse.Namespace) -> int:
    """``--pool``: the verdicts over every run's training seeds, on the first ``--heldout``."""
    from learning_verdicts import SHARED, load_runs, print_verdicts

    from fw_sim.scenario import seed_set

    scenarios = seed_set(args.scenarios, args.heldout)
    try:
        success, seeds = load_runs(
            args.pool, scenarios, args.scenarios, _parser().parse_known_args
        )
    except ValueError as err:
        print(f"cannot pool: {err}", file=sys.stderr)
        return 2
    print(f"pooled: {' '.join(map(str, args.pool))}; {len(scenarios)} {args.scenarios} scenarios")
    for name in SHARED:
        won = sum(success[name].values())
        print(f"{name}: {won / len(scenarios):.0%} of {len(scenarios)}")
    print_verdicts(success, seeds, scenarios)
    return 0


def _print_experts(profile: Any, scenarios: list[int], which: str, command: str) -> int:
    """``--experts-only``: both expert lines, with the date and the time they took."""
    started = time.monotonic()
    _progress(f"the expert on the {len(scenarios)} {which} scenarios, twice")
    won = _expert_successes(profile, scenarios)
    on_estimate = _expert_successes(profile, scenarios, localisation="robot")
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"command: {command}")
    print(f"date: {now}; {(time.monotonic() - started) / 60:.1f} min; {which} scenarios")
    _print_expert_lines(scenarios, won, on_estimate)
    return 0


def _print_expert_lines(scenarios: list[int], won: set[int], on_estimate: set[int]) -> None:
    from cloud_bridge.evaluate.intervals import wilson

    for label, successes in (
        ("the expert (ground truth, what imitation can reach)", won),
        ("the expert steered by the robot's fused state instead of ground truth", on_estimate),
    ):
        rate = wilson(len(successes), len(scenarios))
        print(
            f"{label}: {rate.value:.0%} of {rate.n} [{rate.low:.0%}, {rate.high:.0%}]; "
            f"failed: {sorted(set(scenarios) - successes)}"
        )


def _expert_successes(
    profile: Any, scenarios: list[int], localisation: Literal["truth", "robot"] = "truth"
) -> set[int]:
    """The scenarios the privileged expert itself reaches without a contact, under the same
    randomisation: the ceiling of what imitating it can score. With ``localisation="robot"``
    it is steered by the robot's fused state instead of ground truth (it plans and stops where
    the robot believes it is), as every policy on the robot is."""
    from support.expert_dataset import record_episode

    won = set()
    for seed in scenarios:
        _, episode = record_episode(
            profile,
            seed,
            time_limit=60.0,
            robot_id="expert",
            randomise=True,
            expert_localisation=localisation,
        )
        if episode.reached and episode.collisions == 0:
            won.add(seed)
    return won


def _write_results(path: Path, command: str, success: dict[str, dict[int, bool]]) -> None:
    """Success by scenario seed for every policy and both experts, as JSON."""
    by_policy = {
        name: {str(s): won for s, won in table.items()} for name, table in success.items()
    }
    path.write_text(json.dumps({"command": command, "success": by_policy}, indent=1))


if __name__ == "__main__":
    raise SystemExit(main())
