"""The command-line options every command that runs headless scenarios shares (``flywheel
evaluate``, ``flywheel leaderboard``): the family, the robot profile, randomisation, the time
limit and where the episodes run (here, a local Ray or a Ray cluster)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from cloud_bridge.evaluate.runner import LOCAL
from cloud_bridge.evaluate.seeds import DEFAULT_FAMILY
from fw_common.profile.sim import SCENARIO_FAMILIES

__all__ = ["add_scenario_options", "load_profile_option", "scenario_options"]


def add_scenario_options(parser: argparse.ArgumentParser) -> None:
    """``--family --profile --no-randomise --time-limit --ray | --ray-address --ray-cpus``."""
    parser.add_argument(
        "--family",
        default=DEFAULT_FAMILY,
        help=f"scenario family: {', '.join(SCENARIO_FAMILIES)} (default: {DEFAULT_FAMILY})",
    )
    parser.add_argument(
        "--profile", default="sim", help="robot profile: a YAML file or a shipped name (sim)"
    )
    parser.add_argument(
        "--no-randomise", action="store_true", help="nominal physics and sensors, no latency"
    )
    parser.add_argument(
        "--time-limit", type=float, default=60.0, help="sim seconds per episode (default: 60)"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--ray", action="store_true", help="run episodes as tasks on a local Ray")
    where.add_argument("--ray-address", help="run episodes on this Ray cluster")
    parser.add_argument("--ray-cpus", type=int, default=2, help="CPUs of the local Ray (2)")


def load_profile_option(name: str) -> Any:
    """``--profile``: a YAML file, or the name of a profile the robot packages ship."""
    from fw_bringup.node_parameters import default_profile_path
    from fw_common.profile import load_profile

    path = Path(name) if name.endswith((".yaml", ".yml")) else default_profile_path(name)
    return load_profile(path)


def scenario_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of ``evaluate`` / ``leaderboard`` those options give;
    ``ValueError`` or ``OSError`` for a bad one (a profile that cannot be read)."""
    profile = load_profile_option(args.profile)
    if not (math.isfinite(args.time_limit) and args.time_limit > 0):
        raise ValueError(f"--time-limit must be a positive number, not {args.time_limit}")
    if args.ray_cpus < 1:
        raise ValueError("--ray-cpus must be at least 1")
    return {
        "family": args.family,
        "profile": profile,
        "randomise": not args.no_randomise,
        "time_limit": args.time_limit,
        "ray_address": LOCAL if args.ray else args.ray_address,
        "ray_cpus": args.ray_cpus,
    }
