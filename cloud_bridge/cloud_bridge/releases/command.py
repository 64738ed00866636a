"""``flywheel release``: publish, promote, roll back and inspect signed releases.

Examples::

    # sign a model as release r7 (its card takes the spec id and action scale from the
    # model's metadata) and put it on fleet warehouse's canary channel at once
    flywheel release publish --store s3://fleet-bucket --keys keys --release r7 \\
        --model model.onnx --dataset-hash 3fa2... --metrics metrics.json --parent r6 \\
        --code-version $(git rev-parse HEAD) --fleet warehouse --channel canary
    # after the canary run: stable
    flywheel release promote --store s3://fleet-bucket --keys keys --release r7 \\
        --fleet warehouse --channel stable
    # back to the release before, and never r7 again on this channel
    flywheel release rollback --store s3://fleet-bucket --keys keys --fleet warehouse \\
        --channel stable --reason "interventions up"
    flywheel release list --store s3://fleet-bucket
    flywheel release history --store s3://fleet-bucket --fleet warehouse --channel stable
    # re-sign the timestamp (online key) before it expires: run it from a timer
    flywheel release refresh --store s3://fleet-bucket --keys keys

``--keys`` is the folder of ``flywheel keys init``; ``--targets-key`` names the offline targets
key elsewhere (a mounted token), ``--online-keys`` the folder of snapshot.key and timestamp.key.
Two publishers racing on a channel: one wins, the other exits with status 3 and a conflict
message, having changed nothing.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from cloud_bridge.releases.card import ReleaseCard
from cloud_bridge.releases.errors import ChannelConflictError, ReleaseError
from cloud_bridge.releases.keys import key_path, load_signer
from cloud_bridge.releases.layout import CHANNELS, DEFAULT_TUF_PREFIX
from cloud_bridge.releases.repository import Expiry, OnlineSigners, ReleaseRepository
from cloud_bridge.store import StoreError
from cloud_bridge.store.options import add_store_options, store_from_options

__all__ = ["card_for_model", "register"]

EXIT_CONFLICT = 3


def _store_args(parser: argparse.ArgumentParser) -> None:
    add_store_options(parser)
    parser.add_argument("--prefix", default=DEFAULT_TUF_PREFIX, help="TUF prefix in the store")


def _key_args(parser: argparse.ArgumentParser, targets: bool = True) -> None:
    parser.add_argument("--keys", type=Path, help="folder of `flywheel keys init`")
    if targets:
        parser.add_argument("--targets-key", type=Path, help="offline targets key file")
    parser.add_argument("--online-keys", type=Path, help="folder of snapshot.key, timestamp.key")
    parser.add_argument(
        "--timestamp-days",
        type=float,
        default=Expiry().timestamp.total_seconds() / 86400,
        help="days the new timestamp stays valid (robots refuse it after)",
    )


def _channel_args(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument("--fleet", required=required, help="fleet name")
    # Only the channels robots follow: a typo must not create a channel nobody reads.
    parser.add_argument("--channel", required=required, choices=CHANNELS, help="channel")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "release",
        help="publish, promote, roll back and list signed releases",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    publish = actions.add_parser("publish", help="sign a model as a new release")
    _store_args(publish)
    _key_args(publish)
    publish.add_argument("--release", required=True, help="release id (e.g. r7)")
    publish.add_argument("--model", type=Path, required=True, help="the ONNX model file")
    publish.add_argument("--dataset-hash", default="", help="content hash of the training set")
    publish.add_argument("--metrics", type=Path, help="JSON file of evaluation metrics")
    publish.add_argument("--parent", help="the release this one was trained from")
    publish.add_argument("--code-version", default="", help="code revision that built it")
    _channel_args(publish, required=False)
    publish.set_defaults(func=_publish)

    promote = actions.add_parser("promote", help="point a fleet's channel at a release")
    _store_args(promote)
    _key_args(promote)
    promote.add_argument("--release", required=True)
    _channel_args(promote)
    promote.add_argument("--reason", default="promote", help="note kept in the history")
    promote.set_defaults(func=_promote)

    rollback = actions.add_parser("rollback", help="point a channel back, withdraw its release")
    _store_args(rollback)
    _key_args(rollback)
    _channel_args(rollback)
    rollback.add_argument("--to", help="release to go back to (default: the previous one)")
    rollback.add_argument("--reason", default="rollback", help="note kept in the history")
    rollback.set_defaults(func=_rollback)

    listing = actions.add_parser("list", help="releases, their cards and channels")
    _store_args(listing)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=_list)

    history = actions.add_parser("history", help="every state of a channel, newest first")
    _store_args(history)
    _channel_args(history)
    history.add_argument("--json", action="store_true", help="print JSON")
    history.set_defaults(func=_history)

    refresh = actions.add_parser("refresh", help="re-sign the timestamp (online key)")
    _store_args(refresh)
    _key_args(refresh, targets=False)
    refresh.set_defaults(func=_refresh)


def card_for_model(
    release: str,
    model: bytes,
    *,
    dataset_hash: str = "",
    metrics: dict[str, float] | None = None,
    parent: str | None = None,
    code_version: str = "",
) -> ReleaseCard:
    """A release card from the model's own metadata, after the checks a robot makes."""
    import tempfile

    from fw_common.observation import SPECS
    from fw_policy.errors import ModelRejectedError
    from fw_policy.onnx_model import load_model

    with tempfile.NamedTemporaryFile(suffix=".onnx") as f:
        f.write(model)
        f.flush()
        problems = []
        for spec in SPECS.values():
            try:
                loaded = load_model(f.name, spec)
            except ModelRejectedError as exc:
                problems.append(str(exc))
                continue
            return ReleaseCard(
                release=release,
                spec_id=loaded.spec_id,
                action_scale=loaded.action_scale,
                model_sha256=hashlib.sha256(model).hexdigest(),
                model_version=loaded.version,
                dataset_hash=dataset_hash,
                metrics=dict(metrics or {}),
                parent=parent,
                code_version=code_version,
            )
    raise ReleaseError(f"no robot could run this model: {'; '.join(problems)}")


def _repository(args: argparse.Namespace) -> ReleaseRepository:
    store = store_from_options(args)
    return ReleaseRepository(store, args.prefix)


def _online(args: argparse.Namespace) -> OnlineSigners:
    folder = args.online_keys or args.keys
    if folder is None:
        raise ReleaseError("name the online keys: --online-keys DIR (or --keys DIR)")
    return OnlineSigners(
        load_signer(key_path(folder, "snapshot")), load_signer(key_path(folder, "timestamp"))
    )


def _targets(args: argparse.Namespace) -> Any:
    path = args.targets_key or (key_path(args.keys, "targets") if args.keys else None)
    if path is None:
        raise ReleaseError("name the targets key: --targets-key FILE (or --keys DIR)")
    return load_signer(path)


def _expiry(args: argparse.Namespace) -> Expiry:
    if not args.timestamp_days > 0:
        raise ReleaseError("--timestamp-days must be positive")
    return Expiry(timestamp=datetime.timedelta(days=args.timestamp_days))


def _channel(args: argparse.Namespace) -> tuple[str, str] | None:
    if (args.fleet is None) != (args.channel is None):
        raise ReleaseError("give both --fleet and --channel, or neither")
    return None if args.fleet is None else (args.fleet, args.channel)


def _run(action: str, args: argparse.Namespace, body: Any) -> int:
    try:
        body()
    except ChannelConflictError as exc:
        print(f"flywheel release {action}: conflict: {exc}", file=sys.stderr)
        return EXIT_CONFLICT
    except (ReleaseError, StoreError, OSError, ValueError) as exc:
        print(f"flywheel release {action}: {exc}", file=sys.stderr)
        return 1
    return 0


def _publish(args: argparse.Namespace) -> int:
    def body() -> None:
        model = args.model.read_bytes()
        metrics = json.loads(args.metrics.read_text()) if args.metrics else {}
        if not isinstance(metrics, dict):
            raise ReleaseError(f"{args.metrics}: metrics must be a JSON object")
        card = card_for_model(
            args.release,
            model,
            dataset_hash=args.dataset_hash,
            metrics=metrics,
            parent=args.parent,
            code_version=args.code_version,
        )
        channel = _channel(args)
        card = _repository(args).publish(
            model, card, _targets(args), _online(args), channel=channel, expiry=_expiry(args)
        )
        where = f" on {channel[0]}/{channel[1]}" if channel else ""
        print(f"published {card.release} ({card.model_sha256[:12]}, spec {card.spec_id}){where}")

    return _run("publish", args, body)


def _promote(args: argparse.Namespace) -> int:
    def body() -> None:
        pointer = _repository(args).promote(
            args.release,
            args.fleet,
            args.channel,
            _targets(args),
            _online(args),
            note=args.reason,
            expiry=_expiry(args),
        )
        print(f"{pointer.fleet}/{pointer.channel}: {pointer.previous} -> {pointer.release}")

    return _run("promote", args, body)


def _rollback(args: argparse.Namespace) -> int:
    def body() -> None:
        pointer = _repository(args).rollback(
            args.fleet,
            args.channel,
            _targets(args),
            _online(args),
            to=args.to,
            note=args.reason,
            expiry=_expiry(args),
        )
        print(
            f"{pointer.fleet}/{pointer.channel}: {pointer.previous} -> {pointer.release} "
            f"(withdrawn: {', '.join(pointer.withdrawn)})"
        )

    return _run("rollback", args, body)


def _list(args: argparse.Namespace) -> int:
    def body() -> None:
        summaries = _repository(args).releases()
        if args.json:
            print(
                json.dumps(
                    [
                        {**asdict(s.card), "model_length": s.model_length, "channels": s.channels}
                        for s in summaries
                    ],
                    indent=1,
                )
            )
            return
        for s in summaries:
            channels = ", ".join(s.channels) or "-"
            print(
                f"{s.card.release:16s} {s.card.created_at:26s} {s.card.model_version:16s} "
                f"parent={s.card.parent or '-':12s} channels={channels}"
            )

    return _run("list", args, body)


def _history(args: argparse.Namespace) -> int:
    def body() -> None:
        entries = _repository(args).history(args.fleet, args.channel)
        if args.json:
            print(json.dumps([{"targets_version": v, **asdict(p)} for v, p in entries], indent=1))
            return
        for version, p in entries:
            print(f"v{version:<5d} {p.updated_at:26s} {p.release:16s} {p.note}")

    return _run("history", args, body)


def _refresh(args: argparse.Namespace) -> int:
    def body() -> None:
        version = _repository(args).refresh_timestamp(_online(args), _expiry(args))
        print(f"timestamp re-signed: version {version}")

    return _run("refresh", args, body)
