"""``flywheel upload``: upload a recorder spool's episodes to a store.

Examples::

    # Upload what is ready now, then exit (0 when the queue is empty):
    flywheel upload --spool /var/flywheel/spool --store s3://fleet-data --robot-id husky7 --once

    # Keep running (what fw_cloud_agent does), capped at 2 MB/s, to a MinIO endpoint:
    flywheel upload --spool /var/flywheel/spool --store s3://fleet-data \\
        --endpoint-url http://minio.local:9000 --robot-id husky7 --max-bytes-per-s 2e6

    # Into a folder (the embedded default):
    flywheel upload --spool /var/flywheel/spool --store /mnt/usb/store --robot-id husky7 --once

Credentials come from boto3's standard chain (``AWS_PROFILE``, environment, instance role).
SIGINT or SIGTERM stops after the current part; the journal resumes it next time.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from cloud_bridge.store.options import add_store_options, store_from_options
from cloud_bridge.upload.config import MIB, UploaderConfig
from cloud_bridge.upload.uploader import EpisodeUploader

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "upload",
        help="upload the episodes of a recorder's spool",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--spool", type=Path, required=True, help="the recorder's spool folder")
    add_store_options(parser)
    parser.add_argument("--robot-id", required=True, help="this robot's id")
    parser.add_argument("--once", action="store_true", help="exit when the queue is empty")
    parser.add_argument(
        "--give-up-after",
        type=int,
        default=8,
        help="with --once: exit (status 1) after this many store failures in a row",
    )
    parser.add_argument(
        "--journal", type=Path, help="journal file (default: SPOOL/uploader.sqlite)"
    )
    parser.add_argument("--part-size-mib", type=int, default=8, help="multipart part size (MiB)")
    parser.add_argument("--parts-in-flight", type=int, default=4, help="parts sent at once")
    parser.add_argument("--max-bytes-per-s", type=float, help="bandwidth cap (bytes/s)")
    parser.add_argument(
        "--queue-budget-mib", type=int, default=4096, help="most MiB waiting in ready/"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = UploaderConfig(
        robot_id=args.robot_id,
        part_size=args.part_size_mib * MIB,
        multipart_threshold=args.part_size_mib * MIB,
        parts_in_flight=args.parts_in_flight,
        max_bytes_per_s=args.max_bytes_per_s,
        queue_budget_bytes=args.queue_budget_mib * MIB,
    )
    store = store_from_options(args)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    uploader = EpisodeUploader(args.spool, store, config, journal_path=args.journal, stop=stop)
    try:
        uploader.run(until_empty=args.once, max_failures=args.give_up_after if args.once else None)
    finally:
        uploader.close()
    status = uploader.status()
    json.dump(status, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0 if status["queue_episodes"] == 0 else 1
