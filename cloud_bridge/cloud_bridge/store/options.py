"""The store's command-line options, the same for every ``flywheel`` command that uses one."""

from __future__ import annotations

import argparse
import os

from cloud_bridge.store.base import ObjectStore
from cloud_bridge.store.factory import open_store

__all__ = ["STORE_ENV", "add_store_options", "store_from_options"]

#: The environment variable that names the store when ``--store`` is left out.
STORE_ENV = "FLYWHEEL_STORE"


def add_store_options(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """``--store`` (default ``$FLYWHEEL_STORE``), ``--endpoint-url`` and ``--region``."""
    parser.add_argument(
        "--store",
        default=os.environ.get(STORE_ENV),
        required=required and STORE_ENV not in os.environ,
        help=f"s3://bucket[/prefix] or a folder (default: ${STORE_ENV})",
    )
    parser.add_argument("--endpoint-url", help="S3 endpoint (MinIO, a local S3 server)")
    parser.add_argument("--region", help="S3 region")


def store_from_options(args: argparse.Namespace) -> ObjectStore:
    """The store the parsed options name."""
    return open_store(args.store, endpoint_url=args.endpoint_url, region=args.region)
