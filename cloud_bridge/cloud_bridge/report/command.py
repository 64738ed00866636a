"""``flywheel report``: write a run folder's ``report.html`` and print its path.

Examples::

    flywheel report --run-dir runs/flywheel          # runs/flywheel/report.html
    flywheel report --run-dir out/demo/20261205T120000Z --open
"""

from __future__ import annotations

import argparse
import sys
import webbrowser
from pathlib import Path
from typing import Any

__all__ = ["register", "run_report"]

#: Exit status when the run folder does not exist.
EXIT_NO_RUN = 2


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "report", help="write a run folder's report.html", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument(
        "--run-dir", type=Path, default=Path("runs") / "flywheel",
        help="the flywheel run's folder (default: runs/flywheel)",
    )  # fmt: skip
    parser.add_argument("--open", action="store_true", help="open the report in a browser")
    parser.set_defaults(func=run_report)


def run_report(args: argparse.Namespace) -> int:
    from cloud_bridge.report import write_report

    try:
        path = write_report(args.run_dir)
    except FileNotFoundError as exc:
        print(f"flywheel report: {exc}", file=sys.stderr)
        return EXIT_NO_RUN
    print(path)
    if args.open:
        webbrowser.open(path.resolve().as_uri())
    return 0
