"""``flywheel leaderboard``: every release on the same held-out race scenarios, ranked.

Each ``--entry NAME=KIND:REF`` is a release: its name, how it was made (classic, bc, dagger,
ppo) and its policy (``classic`` or an ONNX model file). All of them drive the same scenarios
(``--seeds``, the race seed set by default) in the headless world with the robot's own loop;
the table ranks them by success rate, then collision rate, then time to goal, each with its
confidence interval. The exit status is 0 when the board is made, 2 for bad input (an entry,
seeds, a model the robot would refuse), 3 when the Ray cluster cannot be reached.

Examples::

    flywheel leaderboard --entry classic=classic:classic \\
        --entry v1=bc:runs/flywheel/train/v1/model.onnx \\
        --entry v2=dagger:runs/flywheel/train/v2/model.onnx \\
        --entry ppo-1=ppo:runs/ppo/model.onnx --seeds race:20 --family walls --json board.json
    flywheel leaderboard --entry classic=classic:classic --entry v1=bc:v1.onnx --ray
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from cloud_bridge.evaluate.command import _load_profile
from cloud_bridge.evaluate.leaderboard import RELEASE_KINDS, LeaderboardEntry, leaderboard
from cloud_bridge.evaluate.report import write_json
from cloud_bridge.evaluate.runner import LOCAL
from cloud_bridge.evaluate.seeds import DEFAULT_FAMILY, parse_seeds
from fw_common.profile.sim import SCENARIO_FAMILIES

__all__ = ["parse_entry", "print_leaderboard", "register", "run_leaderboard"]

#: Exit statuses (as ``flywheel evaluate``'s).
EXIT_USAGE = 2
EXIT_NO_CLUSTER = 3


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "leaderboard", help="rank releases on the same held-out race scenarios",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument(
        "--entry",
        action="append",
        required=True,
        metavar="NAME=KIND:REF",
        help=f"a release: its name, kind ({', '.join(RELEASE_KINDS)}) and 'classic' or an "
        "ONNX file (repeat for each release)",
    )
    parser.add_argument(
        "--seeds", default="race:20", help="race:20, 100-149, 3,7,11 or a count (default: race:20)"
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
    parser.add_argument("--json", type=Path, help="write the leaderboard here (JSON)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(func=run_leaderboard)


def parse_entry(text: str) -> LeaderboardEntry:
    """``NAME=KIND:REF`` as an entry; ``ValueError`` with the reason."""
    name, equals, rest = text.partition("=")
    kind, colon, ref = rest.partition(":")
    if not (equals and colon and name.strip() and ref):
        raise ValueError(f"--entry {text!r}: expected NAME=KIND:REF, e.g. v1=bc:model.onnx")
    return LeaderboardEntry(release=name.strip(), kind=kind.strip(), policy_ref=ref)


def run_leaderboard(args: argparse.Namespace) -> int:
    try:
        entries = [parse_entry(text) for text in args.entry]
        seeds = parse_seeds(args.seeds)
        profile = _load_profile(args.profile)
        if not (math.isfinite(args.time_limit) and args.time_limit > 0):
            raise ValueError(f"--time-limit must be a positive number, not {args.time_limit}")
        if args.ray_cpus < 1:
            raise ValueError("--ray-cpus must be at least 1")
    except (OSError, ValueError) as exc:
        print(f"flywheel leaderboard: {exc}", file=sys.stderr)
        return EXIT_USAGE
    ray_address = LOCAL if args.ray else args.ray_address
    try:
        board = leaderboard(
            entries,
            seeds,
            family=args.family,
            profile=profile,
            randomise=not args.no_randomise,
            time_limit=args.time_limit,
            ray_address=ray_address,
            ray_cpus=args.ray_cpus,
            progress=not args.no_progress,
        )
    except ValueError as exc:  # a refused model, a duplicate release, an unknown family
        print(f"flywheel leaderboard: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ConnectionError as exc:
        print(f"flywheel leaderboard: Ray at {ray_address}: {exc}", file=sys.stderr)
        return EXIT_NO_CLUSTER
    if args.json:  # first: the board took the episodes to make, printing must not lose it
        write_json(board, args.json)
    print_leaderboard(board)
    return 0


def _interval(part: dict[str, Any], key: str, scale: float = 1.0) -> str:
    value = part[key]
    if value is None:  # no data (a time to goal with no success)
        return "n/a"
    return f"{scale * value:.3g} [{scale * part['low']:.3g}, {scale * part['high']:.3g}]"


def print_leaderboard(board: dict[str, Any]) -> None:
    """The leaderboard as a table on stdout. Release names are the user's text, printed as
    they are: escaped, so that ``v1[/x]`` is not rich markup (an error) nor ``[red]v1`` a
    style."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    seeds = board["seeds"]
    where = f"{board['seed_set']} seeds" if board["seed_set"] else "seeds"
    level = f"{100 * board['confidence']:.0f} % intervals"
    table = Table(title=f"leaderboard: {len(seeds)} {where}, {board['family']} family, {level}")
    table.add_column("rank", justify="right")
    for name in ("release", "kind", "success (%)", "time to goal (s)", "collisions (%)"):
        table.add_column(name)
    table.add_column("n", justify="right")
    for row in board["entries"]:
        table.add_row(
            str(row["rank"]),
            escape(row["release"]),
            escape(row["kind"]),
            _interval(row["success"], "rate", 100.0),
            _interval(row["time_to_goal_s"], "mean"),
            _interval(row["collisions"], "rate", 100.0),
            str(row["n"]),
        )
    Console(width=None if sys.stdout.isatty() else 160).print(table)
