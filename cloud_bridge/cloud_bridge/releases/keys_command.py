"""``flywheel keys``: create the repository's signing keys (and the repository).

Examples::

    # four ed25519 keys in ./keys (root and targets: move them offline afterwards)
    flywheel keys init --out keys
    # ... and create the release repository in a store; keys/root.json is what robots trust
    flywheel keys init --out keys --store s3://fleet-bucket
    # then provision each robot with it (robot profile: cloud_agent.trusted_root)
    scp keys/root.json robot:/etc/flywheel/root.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cloud_bridge.releases.errors import ReleaseError
from cloud_bridge.releases.keys import ROLES, generate_keys, key_path, load_signer
from cloud_bridge.releases.layout import DEFAULT_TUF_PREFIX
from cloud_bridge.releases.repository import OnlineSigners, ReleaseRepository
from cloud_bridge.store import StoreError
from cloud_bridge.store.options import add_store_options, store_from_options

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "keys",
        help="create signing keys and the release repository",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    init = actions.add_parser("init", help="generate root, targets, snapshot, timestamp keys")
    init.add_argument("--out", type=Path, required=True, help="folder for the key files")
    # Without a store, only the key files are made.
    add_store_options(init, required=False)
    init.add_argument("--prefix", default=DEFAULT_TUF_PREFIX, help="TUF prefix in the store")
    init.set_defaults(func=_init)


def _init(args: argparse.Namespace) -> int:
    try:
        if all(key_path(args.out, role).exists() for role in ROLES):
            paths = {role: key_path(args.out, role) for role in ROLES}
            print(f"using the existing keys in {args.out}")
        else:
            paths = generate_keys(args.out)
            for role, path in paths.items():
                print(f"{role:9s} {path}")
        if args.store:
            signers = {role: load_signer(path) for role, path in paths.items()}
            store = store_from_options(args)
            root = ReleaseRepository(store, args.prefix).initialise(
                signers["root"],
                signers["targets"],
                OnlineSigners(signers["snapshot"], signers["timestamp"]),
            )
            root_file = Path(args.out) / "root.json"
            root_file.write_bytes(root)
            print(f"created the release repository in {store.url}")
            print(f"root metadata for robots (cloud_agent.trusted_root): {root_file}")
    except (ReleaseError, StoreError) as exc:
        print(f"flywheel keys init: {exc}", file=sys.stderr)
        return 1
    return 0
