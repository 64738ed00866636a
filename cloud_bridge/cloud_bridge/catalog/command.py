"""``flywheel episodes ls``: the episodes in the store, filtered, as a table (or JSON).

Examples::

    flywheel episodes ls --store s3://fleet-data
    flywheel episodes ls --store s3://fleet-data --robot husky7 --trigger safety_event --since 24h
    flywheel episodes ls --store /mnt/store --since 2026-12-01 --until 2026-12-05T12:00Z \\
        --release rel-20261201-a --json
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from typing import Any

from cloud_bridge.catalog.catalog import filter_episodes, list_episodes, parse_time
from cloud_bridge.store.options import add_store_options, store_from_options

__all__ = ["register", "run_ls"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "episodes", help="the episode catalog", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = actions.add_parser(
        "ls", help="list episodes", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    add_store_options(ls)
    ls.add_argument("--robot", help="only this robot's episodes")
    ls.add_argument("--trigger", help="only episodes with this trigger kind (safety_event...)")
    ls.add_argument("--since", help="overlapping this time or later (ISO 8601, epoch s, 24h)")
    ls.add_argument("--until", help="overlapping this time or earlier")
    ls.add_argument("--release", help="only episodes recorded while this release drove")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    ls.set_defaults(func=run_ls)


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def run_ls(args: argparse.Namespace) -> int:
    try:
        since = parse_time(args.since) if args.since else None
        until = parse_time(args.until) if args.until else None
    except ValueError as exc:
        print(f"flywheel episodes ls: {exc}", file=sys.stderr)
        return 2
    store = store_from_options(args)
    entries = filter_episodes(
        list_episodes(store, args.robot),
        trigger=args.trigger,
        since=since,
        until=until,
        release=args.release,
    )
    if args.json:
        for entry in entries:
            print(json.dumps(entry.as_dict(), sort_keys=True))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(entries)} episodes in {store.url}")
    for column in ("robot", "episode", "triggers", "release", "start (UTC)", "end (UTC)"):
        table.add_column(column)
    table.add_column("MB", justify="right")
    for e in entries:
        table.add_row(
            e.robot_id, e.episode, ",".join(e.trigger_kinds), e.release or "-",
            _when(e.start_unix), _when(e.end_unix), f"{e.size / 1e6:.1f}",
        )  # fmt: skip
    # Wide when piped, so a script (or grep) gets whole rows.
    Console(width=None if sys.stdout.isatty() else 200).print(table)
    return 0
