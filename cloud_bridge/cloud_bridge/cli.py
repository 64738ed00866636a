"""The ``flywheel`` command: one argparse subcommand per module of :data:`COMMAND_MODULES`.

Each module exposes ``register(subparsers)``, which adds its subcommand and sets ``func`` (the
function that runs it, returning an exit status) on the parser's defaults. Modules are imported
only when the command line is built, so a robot without the cloud's extras still runs the
commands it has.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

__all__ = ["COMMAND_MODULES", "build_parser", "main"]

#: Modules that each add one subcommand, in the order ``flywheel --help`` lists them.
COMMAND_MODULES: list[str] = [
    "cloud_bridge.catalog.command",
    "cloud_bridge.upload.command",
    "cloud_bridge.releases.command",
    "cloud_bridge.releases.keys_command",
    "cloud_bridge.dataset.command",
    "cloud_bridge.train.command",
    "cloud_bridge.fleet.command",
    "cloud_bridge.rl.command",
    "cloud_bridge.evaluate.command",
    "cloud_bridge.report.command",
    "cloud_bridge.evaluate.leaderboard_command",
    "cloud_bridge.run.command",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flywheel", description="Flywheel's cloud bridge: episodes, uploads, releases."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``flywheel``; the exit status."""
    from cloud_bridge.rl.command import route_train_algo

    # `flywheel train --algo ppo` is PPO (train-rl); plain `flywheel train` behaviour cloning.
    args = build_parser().parse_args(
        route_train_algo(list(sys.argv[1:] if argv is None else argv))
    )
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # boto's own DEBUG output carries request headers (signed, but still credentials' kin).
    for name in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(name).setLevel(logging.WARNING)
    status: int = args.func(args)
    return status
