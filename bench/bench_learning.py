"""Learning: behaviour cloning from expert demonstrations, one DAgger round, and ``classic``,
each evaluated on the same held-out hard scenarios.

1. Demonstrations: the privileged expert drives headless episodes (through ``loop.teleop``, the
   path a person's take-over takes) on ``seed_set("train")`` scenarios of ``--family``; every
   step carries the expert's label.
2. BC: ``cloud_bridge.train.train_policy`` on those steps.
3. DAgger: the BC policy drives ``--dagger-episodes`` more training scenarios while the expert
   labels every state it visits (no take-over: the learner's own mistakes are what get
   labelled), and a policy is trained on the union of both datasets, starting from BC.
4. Evaluation: ``cloud_bridge.evaluate.evaluate`` of BC, DAgger and ``classic`` on the same
   ``seed_set("heldout", --heldout)`` scenarios (randomised), success with its Wilson interval.

Targets (issue 15): BC ≥ 90 % success on 50 held-out hard scenarios; one DAgger round beats
plain BC; both beat ``classic``. Run from the repository root in the workspace environment::

    PYTHONPATH=cloud_bridge:tests:$PYTHONPATH flock /tmp/fw-bench.lock \\
        python bench/bench_learning.py --family mixed --demos 60 --dagger-episodes 30 --heldout 50
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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


def _collect(profile: Any, seeds: list[int], out: Path, what: str, policy: Any = None) -> int:
    from support.expert_dataset import record_episode, write_dataset

    rows: list[dict[str, Any]] = []
    reached = 0
    for i, seed in enumerate(seeds):
        episode_rows, episode = record_episode(
            profile,
            seed,
            time_limit=60.0,
            expert_drives=(lambda step: True) if policy is None else (lambda step: False),
            policy=policy,
            robot_id=what,
        )
        rows.extend(episode_rows)
        reached += episode.reached
        if (i + 1) % 10 == 0:
            _progress(f"{what}: {i + 1}/{len(seeds)} episodes, {len(rows)} steps")
    write_dataset(out, rows)
    _progress(f"{what}: {len(rows)} steps, goal reached in {reached}/{len(seeds)}")
    return len(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", default="mixed")
    parser.add_argument("--demos", type=int, default=60, help="expert demonstration episodes")
    parser.add_argument("--dagger-episodes", type=int, default=30)
    parser.add_argument("--heldout", type=int, default=50, help="held-out evaluation scenarios")
    parser.add_argument("--ray", action="store_true", help="evaluate on a local Ray (2 CPUs)")
    args = parser.parse_args()

    from cloud_bridge.evaluate import evaluate
    from cloud_bridge.train import TrainConfig, train_policy
    from fw_common.observation import spec_by_name
    from fw_policy.onnx_model import OnnxPolicy, load_model
    from fw_sim.scenario import seed_set

    profile = _profile(args.family)
    train_seeds = seed_set("train", args.demos + args.dagger_episodes)
    demo_seeds, dagger_seeds = train_seeds[: args.demos], train_seeds[args.demos :]
    heldout = seed_set("heldout", args.heldout)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        demo_steps = _collect(profile, demo_seeds, work / "demos", "expert")
        bc = train_policy([work / "demos"], work / "bc", TrainConfig(seed=0))
        _progress(f"BC trained: {bc.metrics}")
        spec = spec_by_name(profile.policy.observation_spec)
        learner = OnnxPolicy(load_model(bc.onnx_path, spec))
        dagger_steps = _collect(profile, dagger_seeds, work / "dagger", "dagger", learner)
        dagger = train_policy(
            [work / "demos", work / "dagger"],
            work / "dagger_run",
            TrainConfig(seed=0, parent=work / "bc"),
        )
        _progress(f"DAgger trained: {dagger.metrics}")
        ray = "local" if args.ray else None
        results = {}
        for name, ref in (
            ("classic", "classic"),
            ("BC", str(bc.onnx_path)),
            ("BC + 1 DAgger round", str(dagger.onnx_path)),
        ):
            _progress(f"evaluating {name} on {len(heldout)} held-out scenarios")
            results[name] = evaluate(
                ref, heldout, family=args.family, profile=profile, ray_address=ray
            )
    minutes = (time.monotonic() - started) / 60
    print(
        f"family {args.family}: {len(demo_seeds)} demonstrations ({demo_steps} steps), "
        f"{len(dagger_seeds)} DAgger episodes ({dagger_steps} steps), "
        f"{len(heldout)} held-out scenarios; {minutes:.1f} min"
    )
    print("| policy | success | 95 % interval | collisions |")
    print("|---|---|---|---|")
    rates = {}
    for name, report in results.items():
        success = report.summary.success_rate
        collisions = report.summary.collision_rate
        rates[name] = success.value
        print(
            f"| {name} | {success.value:.0%} of {success.n} | "
            f"[{success.low:.0%}, {success.high:.0%}] | {collisions.value:.0%} |"
        )
    bc_rate = rates["BC"]
    dagger_rate = rates["BC + 1 DAgger round"]
    classic_rate = rates["classic"]
    print(f"BC >= 90 %: {'met' if bc_rate >= 0.9 else 'not met'}")
    print(f"DAgger beats BC: {'met' if dagger_rate > bc_rate else 'not met'}")
    print(f"both beat classic: {'met' if min(bc_rate, dagger_rate) > classic_rate else 'not met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
