"""``flywheel upload``: upload a recorder spool's episodes."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "upload", help="upload the episodes of a recorder's spool"
    )
    parser.set_defaults(func=lambda args: 2)
