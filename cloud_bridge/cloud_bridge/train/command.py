"""``flywheel train``: behaviour cloning on one or more datasets, tracked in MLflow, exported to
a checked ONNX model.

Examples::

    flywheel train datasets/iter0 --out runs/bc0
    # DAgger: the union of every iteration's dataset, starting from the last model
    flywheel train datasets/iter0 datasets/iter1 --out runs/dagger1 --parent runs/bc0
    MLFLOW_TRACKING_URI=http://mlflow:5000 flywheel train datasets/iter0 --out runs/bc0 \\
        --seed 3 --epochs 300 --takeover-weight 10 --hidden 256 256
    # the network never reads the robot's own velocity (behaviour cloning's copycat failure)
    flywheel train datasets/iter0 --out runs/bc0 --mask-feature linear --mask-feature angular
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cloud_bridge.train.config import TrainConfig

__all__ = ["register", "run_train"]

_DEFAULTS = TrainConfig()


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "train", help="train a policy on datasets (BC, DAgger)", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("datasets", nargs="+", type=Path, help="dataset folders (their union)")
    parser.add_argument(
        "--algo",
        choices=("bc", "ppo"),
        default="bc",
        help="bc: behaviour cloning on datasets (these options); ppo: reinforcement learning "
        "with a reward function (see `flywheel train-rl --help`)",
    )
    parser.add_argument("--out", type=Path, required=True, help="run folder (created)")
    parser.add_argument("--parent", type=Path, help="resume from this run folder or policy.pt")
    parser.add_argument("--seed", type=int, default=_DEFAULTS.seed)
    parser.add_argument("--epochs", type=int, default=_DEFAULTS.epochs)
    parser.add_argument("--batch-size", type=int, default=_DEFAULTS.batch_size)
    parser.add_argument("--learning-rate", type=float, default=_DEFAULTS.learning_rate)
    parser.add_argument("--weight-decay", type=float, default=_DEFAULTS.weight_decay)
    parser.add_argument("--hidden", type=int, nargs="+", default=list(_DEFAULTS.hidden))
    parser.add_argument(
        "--ensemble", type=int, default=_DEFAULTS.ensemble_size, dest="ensemble_size",
        help="networks trained apart whose actions the model averages",
    )  # fmt: skip
    parser.add_argument(
        "--mask-feature", action="append", default=list(_DEFAULTS.masked_features),
        metavar="NAME", dest="masked_features",
        help="an observation feature the network never reads (repeat for more)",
    )  # fmt: skip
    parser.add_argument(
        "--takeover-weight", type=float, default=_DEFAULTS.takeover_weight,
        help="loss weight of take-over steps (others weigh 1)",
    )  # fmt: skip
    parser.add_argument("--validation-fraction", type=float, default=_DEFAULTS.validation_fraction)
    parser.add_argument("--patience", type=int, default=_DEFAULTS.patience)
    parser.add_argument(
        "--action-scale", type=float, nargs=2, default=list(_DEFAULTS.action_scale),
        metavar=("MAX_LINEAR", "MAX_ANGULAR"), help="what 1.0 means (m/s, rad/s)",
    )  # fmt: skip
    parser.add_argument(
        "--tracking-uri",
        help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else <out>/mlflow.db)",
    )
    parser.add_argument("--experiment", default=_DEFAULTS.experiment)
    parser.add_argument("--model-version", help="fw.model_version (default: mlflow-<run id>)")
    parser.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from cloud_bridge.train.errors import TrainError
    from cloud_bridge.train.fit import EpochRecord
    from cloud_bridge.train.policy_training import train_policy

    try:
        config = TrainConfig(
            seed=args.seed,
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            weight_decay=args.weight_decay,
            hidden=tuple(args.hidden),
            ensemble_size=args.ensemble_size,
            masked_features=tuple(args.masked_features),
            takeover_weight=args.takeover_weight,
            validation_fraction=args.validation_fraction,
            patience=args.patience,
            action_scale=(args.action_scale[0], args.action_scale[1]),
            parent=args.parent,
            tracking_uri=args.tracking_uri,
            experiment=args.experiment,
            model_version=args.model_version,
        )
    except ValueError as exc:
        print(f"flywheel train: {exc}", file=sys.stderr)
        return 2
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TextColumn("{task.fields[losses]}"), console=console) as progress:
        task = progress.add_task("epochs", total=config.epochs, losses="")

        def on_epoch(record: EpochRecord) -> None:
            if config.ensemble_size > 1:
                name = f"member {record.member + 1}/{config.ensemble_size} epochs"
                progress.update(task, description=name)
            progress.update(
                task,
                completed=record.epoch + 1,
                losses=f"train {record.train_loss:.4f}  val {record.val_loss:.4f}",
            )

        try:
            result = train_policy(args.datasets, args.out, config, on_epoch=on_epoch)
        except TrainError as exc:
            progress.stop()
            print(f"flywheel train: {exc}", file=sys.stderr)
            return 1
    table = Table(title=f"trained {result.onnx_path}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("MLflow run", result.run_id)
    for name, value in result.metrics.items():
        text = f"{value:.3g}" if name.endswith(("loss", "diff")) else f"{value:g}"
        table.add_row(name, text)
    Console(width=None if sys.stdout.isatty() else 200).print(table)
    return 0
