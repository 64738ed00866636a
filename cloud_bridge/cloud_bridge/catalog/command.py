"""``flywheel episodes``: the episode catalog."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "episodes", help="list the episodes in the store"
    )
    parser.set_defaults(func=lambda args: 2)
