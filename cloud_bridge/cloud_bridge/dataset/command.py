"""``flywheel dataset``: build a dataset from the store's episodes, export it for LeRobot.

Examples::

    flywheel dataset build --store s3://fleet-data --out /data/ds/fleet
    flywheel dataset build --store /mnt/store --out /data/ds/husky7 --robot husky7 \\
        --cache /var/cache/flywheel/episodes --model rel-20261201-a=/models/rel-a.onnx
    flywheel dataset export --format lerobot /data/ds/fleet --out /data/lerobot/fleet

``build`` decodes only episodes it has not built before (run it again after new uploads);
episodes it cannot use are listed in ``<out>/quarantine.json`` with the reason.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cloud_bridge.dataset.errors import DatasetError
from cloud_bridge.store.options import add_store_options, store_from_options

if TYPE_CHECKING:
    from cloud_bridge.dataset.build import EpisodeOutcome

__all__ = ["register", "run_build", "run_export"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "dataset", help="datasets from episodes", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = actions.add_parser(
        "build", help="build or extend a dataset from the store's episodes", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    add_store_options(build)
    build.add_argument("--out", required=True, type=Path, help="the dataset folder")
    build.add_argument("--robot", help="only this robot's episodes")
    build.add_argument("--profile", type=Path, help="robot profile YAML (default: the sim's)")
    build.add_argument("--cache", type=Path, help="keep downloaded episodes here")
    build.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="VERSION=PATH",
        help="the ONNX file of a release that drove episodes (repeatable)",
    )
    build.set_defaults(func=run_build)
    export = actions.add_parser(
        "export", help="export a built dataset", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    export.add_argument("dataset", type=Path, help="a dataset folder made by `dataset build`")
    export.add_argument("--format", choices=["lerobot"], default="lerobot", help="target format")
    export.add_argument("--out", required=True, type=Path, help="the export folder (replaced)")
    export.add_argument("--repo-id", default="flywheel/steps", help="LeRobot repo id")
    export.set_defaults(func=run_export)


def _models(specs: list[str], profile: Any) -> dict[str, Any]:
    from fw_common.observation import spec_by_name
    from fw_policy.onnx_model import OnnxPolicy, load_model

    spec = spec_by_name(profile.policy.observation_spec)
    models = {}
    for item in specs:
        version, sep, path = item.partition("=")
        if not sep or not version or not path:
            raise DatasetError(f"--model {item!r}: use VERSION=PATH")
        models[version] = OnnxPolicy(load_model(path, spec))
    return models


def run_build(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from cloud_bridge.dataset.build import build_dataset, default_profile
    from fw_common.profile import load_profile

    console = Console(stderr=True)
    try:
        profile = load_profile(args.profile) if args.profile else default_profile()
        models = _models(args.model, profile)
    except Exception as exc:  # a bad profile or model is a usage error
        print(f"flywheel dataset build: {exc}", file=sys.stderr)
        return 2
    store = store_from_options(args)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[last]}"), console=console,
    ) as bar:  # fmt: skip
        task = bar.add_task("episodes", total=None, last="")

        def progress(done: int, total: int, outcome: EpisodeOutcome) -> None:
            bar.update(task, completed=done, total=total, last=f"{outcome.verdict} {outcome.key}")

        try:
            card = build_dataset(
                store, args.out, profile=profile, cache=args.cache, models=models,
                robot=args.robot, progress=progress,
            )  # fmt: skip
        except DatasetError as exc:
            print(f"flywheel dataset build: {exc}", file=sys.stderr)
            return 1
    table = Table(title=f"dataset {args.out}")
    table.add_column("")
    table.add_column("value", justify="right")
    for name, value in (
        *((f"episodes {k}", str(v)) for k, v in card.last_build.items()),
        ("episodes in dataset", str(len(card.episodes))),
        ("steps", str(card.steps)),
        ("robots", ", ".join(card.robots)),
        ("releases", ", ".join(r or "classic" for r in card.releases)),
        ("quarantined (all)", str(card.quarantined)),
        ("dataset hash", card.dataset_hash[:16]),
    ):
        table.add_row(name, value)
    Console(width=None if sys.stdout.isatty() else 200).print(table)
    return 0


def run_export(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from cloud_bridge.dataset.lerobot import export_lerobot

    try:
        info = export_lerobot(args.dataset, args.out, repo_id=args.repo_id)
    except DatasetError as exc:
        print(f"flywheel dataset export: {exc}", file=sys.stderr)
        return 1
    table = Table(title=f"LeRobot {info['codebase_version']} dataset {args.out}")
    table.add_column("")
    table.add_column("value", justify="right")
    for name in ("total_episodes", "total_frames", "fps"):
        table.add_row(name, str(info[name]))
    table.add_row("features", ", ".join(info["features"]))
    Console(width=None if sys.stdout.isatty() else 200).print(table)
    return 0
