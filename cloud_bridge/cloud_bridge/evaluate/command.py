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
import sys
from pathlib import Path
from typing import Any

from cloud_bridge.evaluate.comparison import Comparison, compare
from cloud_bridge.evaluate.evaluation import evaluate
from cloud_bridge.evaluate.gate import GateConfig, GateResult, gate, load_gate_config
from cloud_bridge.evaluate.intervals import Interval
from cloud_bridge.evaluate.report import EvaluationReport, write_json
from cloud_bridge.evaluate.runner import ray_session
from cloud_bridge.evaluate.scenario_options import add_scenario_options, scenario_options
from cloud_bridge.evaluate.seeds import parse_seeds

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
    add_scenario_options(parser)
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
        options = scenario_options(args)
    except (OSError, ValueError) as exc:
        print(f"flywheel evaluate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    ray_address = options["ray_address"]
    options["progress"] = not args.no_progress
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
