"""``flywheel train-rl``: PPO on the simulated robot with your own reward function.

The DeepRacer workflow: write a reward function, train for an allotted time, then evaluate the
model with the same gate as any other release. Examples::

    flywheel train-rl --reward cloud_bridge/examples/reward_progress.py --minutes 10 \\
        --out runs/ppo0
    flywheel train-rl --reward my_reward.py --minutes 30 --envs 2 \\
        --init-from runs/bc0/model.onnx --out runs/ppo1 --eval-episodes 20
    flywheel train-rl --reward my_reward.py --minutes 5 --out runs/ppo-easy \\
        --scenario box_count=0 --scenario cylinder_count=0 --time-limit 15
    MLFLOW_TRACKING_URI=http://mlflow:5000 flywheel train-rl --reward my_reward.py --minutes 10 \\
        --out runs/ppo2

The model is written to ``<out>/model.onnx`` only when the whole run succeeded; the MLflow run
(``<out>/mlflow.db`` unless ``MLFLOW_TRACKING_URI`` or ``--tracking-uri`` says otherwise) keeps
the parameters, the learning curves, the reward file and the model. Exit status: 0 on success,
1 when training failed (a reward that raised or returned a non-number, a refused release),
2 on a bad command line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_arguments", "register", "route_train_algo", "run_train_rl", "scenario_overrides"]

#: Evaluation scenarios are drawn from seeds far from the ones training draws (until the
#: scenario seed sets land, see fw_sim.scenario).
_EVAL_SEED_BASE = 2_000_000_000


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "train-rl", help="train a policy with PPO and your reward function",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    add_arguments(parser)
    parser.set_defaults(func=run_train_rl)


def route_train_algo(argv: list[str]) -> list[str]:
    """``flywheel train --algo ppo ...`` as ``flywheel train-rl --algo ppo ...``; any other
    command line unchanged. For ``cloud_bridge.cli.main`` to call before parsing, so that
    ``flywheel train`` (behaviour cloning, with its own options) and PPO share one verb."""
    if "train" not in argv:
        return argv
    verb = argv.index("train")
    rest = argv[verb + 1 :]
    algo = None
    for i, arg in enumerate(rest):
        if arg == "--algo" and i + 1 < len(rest):
            algo = rest[i + 1]
        elif arg.startswith("--algo="):
            algo = arg.partition("=")[2]
    if algo != "ppo" or not all(a.startswith("-") for a in argv[:verb]):  # not the verb
        return argv
    return [*argv[:verb], "train-rl", *rest]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of PPO training (also for ``flywheel train --algo ppo``)."""
    parser.add_argument("--algo", choices=("ppo",), default="ppo", help="the algorithm (ppo)")
    parser.add_argument(
        "--reward", type=Path, help="Python file defining reward_function(params) (default: "
        "the built-in progress reward)",
    )  # fmt: skip
    parser.add_argument("--minutes", type=float, default=10.0, help="training time (wall)")
    parser.add_argument("--out", type=Path, required=True, help="run folder (must be new)")
    parser.add_argument("--envs", type=int, default=2, help="parallel environments")
    parser.add_argument(
        "--in-process", action="store_true", help="run the environments in this process"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-steps", type=int, help="stop after this many decisions as well")
    parser.add_argument("--n-steps", type=int, default=256, help="decisions per env per rollout")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=10, help="PPO passes per rollout")
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--gamma", type=float, default=0.99)
    parser.add_argument("--time-limit", type=float, default=30.0, help="sim s per episode")
    parser.add_argument(
        "--no-randomise", action="store_true", help="turn domain randomisation off"
    )
    parser.add_argument(
        "--scenario", action="append", default=[], metavar="KEY=VALUE",
        help="override a sim.scenario setting (JSON value), e.g. box_count=0",
    )  # fmt: skip
    parser.add_argument("--init-from", type=Path, help="a behaviour-cloned release (ONNX)")
    parser.add_argument("--distill-steps", type=int, default=2000)
    parser.add_argument("--eval-episodes", type=int, default=0, help="evaluate the model after")
    parser.add_argument(
        "--eval-every", type=int, help="also evaluate every this many decisions while training"
    )
    parser.add_argument(
        "--stop-at-success", type=float, help="stop at a periodic evaluation this successful"
    )
    parser.add_argument("--profile", type=Path, help="robot profile (default: the sim profile)")
    parser.add_argument(
        "--tracking-uri", help="MLflow URI (default: $MLFLOW_TRACKING_URI, else <out>/mlflow.db)"
    )
    parser.add_argument("--model-version", help="fw.model_version (default: ppo-<run id>)")


def scenario_overrides(base: Any, items: list[str]) -> Any:
    """``base`` (a scenario config) with ``KEY=VALUE`` items applied; ``ValueError`` names a
    bad one."""
    known = {f.name for f in dataclasses.fields(base)}
    changes: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or key not in known:
            raise ValueError(
                f"--scenario {item!r}: expected KEY=VALUE with KEY one of {sorted(known)}"
            )
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text  # a bare word (a family name)
        changes[key] = _typed_like(getattr(base, key), value, item)
    return dataclasses.replace(base, **changes)


def _typed_like(current: Any, value: Any, item: str) -> Any:
    """``value`` as the type of the setting's current value; ``ValueError`` when it is not."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(current, bool):
        ok = isinstance(value, bool)
    elif isinstance(current, int):
        ok = number and float(value).is_integer()
        value = int(value) if ok else value
    elif isinstance(current, float):
        ok = number
        value = float(value) if ok else value
    else:
        ok = isinstance(value, type(current))
    if not ok:
        raise ValueError(f"--scenario {item!r}: expected a {type(current).__name__}")
    return value


def run_train_rl(args: argparse.Namespace) -> int:
    from cloud_bridge.rl.env import default_profile
    from cloud_bridge.rl.errors import RlTrainingError
    from cloud_bridge.rl.ppo import PpoConfig, train_ppo
    from fw_common.profile import load_profile

    prog = "flywheel train-rl"
    try:
        profile = load_profile(args.profile) if args.profile else default_profile()
        scenario = (
            scenario_overrides(profile.sim.scenario, args.scenario) if args.scenario else None
        )
        config = PpoConfig(
            reward_path=args.reward,
            seconds=args.minutes * 60.0,
            max_timesteps=args.max_steps,
            n_envs=args.envs,
            vec="dummy" if args.in_process else "subproc",
            seed=args.seed,
            n_steps=args.n_steps,
            batch_size=args.batch_size,
            n_epochs=args.epochs,
            learning_rate=args.learning_rate,
            gamma=args.gamma,
            time_limit=args.time_limit,
            randomise=not args.no_randomise,
            scenario=scenario,
            eval_seeds=tuple(_EVAL_SEED_BASE + i for i in range(args.eval_episodes)),
            eval_every=args.eval_every,
            stop_at_success=args.stop_at_success,
            init_model=args.init_from,
            distill_steps=args.distill_steps,
            profile_path=args.profile,
            tracking_uri=args.tracking_uri,
            model_version=args.model_version,
        )
    except (ValueError, TypeError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    try:
        result = train_ppo(config, args.out)
    except RlTrainingError as exc:
        print(f"{prog}: training stopped, nothing published: {exc}", file=sys.stderr)
        return 1
    print(
        json.dumps(
            {
                "model": str(result.onnx_path),
                "run_id": result.run_id,
                "tracking_uri": result.tracking_uri,
                "timesteps": result.timesteps,
                "stopped_by": result.stopped_by,
                **result.metrics,
            },
            indent=2,
            sort_keys=True,
        )
    )
    return 0
