"""``flywheel evaluate``: score a policy on seeded, randomised scenarios and gate its release.

The policy drives the headless simulated robot through the robot's own loop (perception, the
ONNX model through onnxruntime, safety, the bridge's kinematics). Every metric comes with its
confidence interval. With ``--baseline`` the same seeds are run for the baseline and the gate
also checks paired regressions. The exit status is 0 when the gate passes, 1 when it fails
(the reasons are printed), 2 for bad input (seeds, model, gate file), 3 when the Ray cluster
cannot be reached.

Examples::

    flywheel evaluate --policy model.onnx --baseline classic --seeds heldout:50 --gate gate.yaml
    flywheel evaluate --policy classic --seeds 0-19 --min-success 0.9 --json results.json
    flywheel evaluate --policy model.onnx --seeds 200 --ray                  # local Ray, 2 CPUs
    flywheel evaluate --policy model.onnx --seeds 200 --ray-address ray://head:10001
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from cloud_bridge.evaluate.comparison import Comparison, compare
from cloud_bridge.evaluate.evaluation import evaluate
from cloud_bridge.evaluate.gate import GateConfig, GateResult, gate, load_gate_config
from cloud_bridge.evaluate.intervals import Interval
from cloud_bridge.evaluate.report import EvaluationReport, write_json
from cloud_bridge.evaluate.runner import LOCAL, ray_session
from cloud_bridge.evaluate.seeds import DEFAULT_FAMILY, parse_seeds
from fw_common.profile.sim import SCENARIO_FAMILIES

__all__ = ["register", "run_evaluate"]

#: Exit statuses.
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_CLUSTER = 3


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "evaluate", help="evaluate a policy in simulation and gate its release",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--policy", required=True, help="an ONNX model file, or 'classic'")
    parser.add_argument("--baseline", help="release to compare with: an ONNX file or 'classic'")
    parser.add_argument(
        "--seeds", default="50", help="heldout:50, 100-149, 3,7,11 or a count (default: 50)"
    )
    parser.add_argument(
        "--family",
        default=DEFAULT_FAMILY,
        help=f"scenario family: {', '.join(SCENARIO_FAMILIES)} (default: {DEFAULT_FAMILY})",
    )
    parser.add_argument(
        "--profile", default="sim", help="robot profile: a YAML file or a shipped name (sim)"
    )
    parser.add_argument(
        "--no-randomise", action="store_true", help="nominal physics and sensors, no latency"
    )
    parser.add_argument(
        "--time-limit", type=float, default=60.0, help="sim seconds per episode (default: 60)"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--ray", action="store_true", help="run episodes as tasks on a local Ray")
    where.add_argument("--ray-address", help="run episodes on this Ray cluster")
    parser.add_argument("--ray-cpus", type=int, default=2, help="CPUs of the local Ray (2)")
    parser.add_argument("--gate", type=Path, help="gate thresholds (YAML, GateConfig's fields)")
    parser.add_argument("--min-success", type=float, help="gate: minimum success rate")
    parser.add_argument("--max-collision", type=float, help="gate: maximum collision rate")
    parser.add_argument(
        "--max-interventions", type=float, help="gate: maximum safety interventions per 100 m"
    )
    parser.add_argument(
        "--max-regression", type=float, help="gate: largest success drop vs the baseline"
    )
    parser.add_argument("--json", type=Path, help="write the results (rows + summary) here")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run_evaluate)


def _load_profile(name: str) -> Any:
    from fw_bringup.node_parameters import default_profile_path
    from fw_common.profile import load_profile

    path = Path(name) if name.endswith((".yaml", ".yml")) else default_profile_path(name)
    return load_profile(path)


def _gate_config(args: argparse.Namespace) -> GateConfig:
    config = load_gate_config(args.gate) if args.gate else GateConfig()
    return config.replace(
        min_success_rate=args.min_success,
        max_collision_rate=args.max_collision,
        max_interventions_per_100m=args.max_interventions,
        max_success_regression=args.max_regression,
    )


def run_evaluate(args: argparse.Namespace) -> int:
    try:
        seeds = parse_seeds(args.seeds)
        config = _gate_config(args)
        profile = _load_profile(args.profile)
        if not (math.isfinite(args.time_limit) and args.time_limit > 0):
            raise ValueError(f"--time-limit must be a positive number, not {args.time_limit}")
        if args.ray_cpus < 1:
            raise ValueError("--ray-cpus must be at least 1")
    except (OSError, ValueError) as exc:
        print(f"flywheel evaluate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    ray_address = LOCAL if args.ray else args.ray_address
    options: dict[str, Any] = {
        "family": args.family,
        "profile": profile,
        "randomise": not args.no_randomise,
        "ray_address": ray_address,
        "ray_cpus": args.ray_cpus,
        "time_limit": args.time_limit,
        "progress": not args.no_progress,
    }
    try:
        with ray_session(ray_address, args.ray_cpus):
            candidate = evaluate(args.policy, seeds, **options)
            baseline = evaluate(args.baseline, seeds, **options) if args.baseline else None
    except ValueError as exc:  # a refused model, an unknown family or seed set
        print(f"flywheel evaluate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ConnectionError as exc:
        print(f"flywheel evaluate: Ray at {ray_address}: {exc}", file=sys.stderr)
        return EXIT_NO_CLUSTER
    comparison = compare(candidate.episodes, baseline.episodes) if baseline else None
    verdict = gate(candidate.summary, comparison, config)
    _print_summary(candidate, baseline, comparison, verdict)
    if args.json:
        write_json(
            {
                "candidate": candidate.to_dict(),
                "baseline": baseline.to_dict() if baseline else None,
                "comparison": comparison.to_dict() if comparison else None,
                "gate": {"config": config.to_dict(), **verdict.to_dict()},
            },
            args.json,
        )
    return 0 if verdict.passed else EXIT_GATE_FAILED


def _print_summary(
    candidate: EvaluationReport,
    baseline: EvaluationReport | None,
    comparison: Comparison | None,
    verdict: GateResult,
) -> None:
    from rich.console import Console
    from rich.table import Table

    s = candidate.summary
    level = f"{100 * s.confidence:.0f} % interval"
    table = Table(title=f"{s.episodes} scenarios ({candidate.family}), {level}")
    table.add_column("metric")
    table.add_column(candidate.policy_ref)
    if baseline is not None:
        table.add_column(baseline.policy_ref)
        table.add_column("difference (paired)")

    def row(name: str, mine: Interval, theirs: Interval | None, diff: Interval | None) -> None:
        cells = [name, str(mine)]
        if baseline is not None:
            cells += [str(theirs), str(diff) if diff is not None else ""]
        table.add_row(*cells)

    b = baseline.summary if baseline else None
    c = comparison
    row("success rate", s.success_rate, b.success_rate if b else None, c.success if c else None)
    row(
        "collision rate",
        s.collision_rate,
        b.collision_rate if b else None,
        c.collision if c else None,
    )
    row(
        "interventions / 100 m",
        s.interventions_per_100m,
        b.interventions_per_100m if b else None,
        None,
    )
    row(
        "time to goal (s)",
        s.time_to_goal_s,
        b.time_to_goal_s if b else None,
        c.time_to_goal_s if c else None,
    )
    row("min clearance (m)", s.min_clearance_m, b.min_clearance_m if b else None, None)
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(table)
    families = candidate.by_family()
    if len(families) > 1:
        per_family = Table(title="success rate by family")
        per_family.add_column("family")
        per_family.add_column("episodes", justify="right")
        per_family.add_column(candidate.policy_ref)
        theirs = baseline.by_family() if baseline else {}
        if baseline is not None:
            per_family.add_column(baseline.policy_ref)
        for family, summary in families.items():
            cells = [family, str(summary.episodes), str(summary.success_rate)]
            if baseline is not None:
                cells.append(str(theirs[family].success_rate))
            per_family.add_row(*cells)
        console.print(per_family)
    if verdict.passed:
        console.print("[green]gate passed[/green]")
    else:
        console.print("[red]gate FAILED[/red]:")
        for reason in verdict.reasons:
            console.print(f"  - {reason}", markup=False)
