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
import sys
from pathlib import Path
from typing import Any

from cloud_bridge.evaluate.leaderboard import RELEASE_KINDS, LeaderboardEntry, leaderboard
from cloud_bridge.evaluate.report import write_json
from cloud_bridge.evaluate.scenario_options import add_scenario_options, scenario_options
from cloud_bridge.evaluate.seeds import parse_seeds

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
    add_scenario_options(parser)
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
        options = scenario_options(args)
    except (OSError, ValueError) as exc:
        print(f"flywheel leaderboard: {exc}", file=sys.stderr)
        return EXIT_USAGE
    ray_address = options["ray_address"]
    try:
        board = leaderboard(entries, seeds, progress=not args.no_progress, **options)
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
