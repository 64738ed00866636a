"""Which scenarios to run: seed lists from the command line, and the scenario family.

``--seeds`` takes a named seed set and a count (``heldout:50``, from
``fw_sim.seed_sets.seed_set``, whose sets never overlap), a range (``100-149``, both ends
included), a comma-separated list (``3,7,11``), or a count alone (``20``: seeds 0 to 19).
"""

from __future__ import annotations

import dataclasses
import re
from typing import cast

from fw_common.profile.sim import SCENARIO_FAMILIES, ScenarioConfig
from fw_sim.seed_sets import SeedSetName, seed_set

__all__ = ["DEFAULT_FAMILY", "parse_seeds", "scenario_config"]

#: The family of today's scenarios (scattered obstacles, no walls).
DEFAULT_FAMILY = "open"
#: Upper bound on one evaluation's scenarios: a typo (an extra 0) should not queue a day's work.
_MAX_SEEDS = 100_000

_RANGE = re.compile(r"^(\d+)-(\d+)$")
_NAMED = re.compile(r"^([a-z_]+):(\d+)$")


def parse_seeds(text: str) -> list[int]:
    """The seeds ``text`` names (see the module docstring); ``ValueError`` with the reason."""
    text = text.strip()
    if named := _NAMED.match(text):
        if int(named.group(2)) > _MAX_SEEDS:
            raise ValueError(f"{text!r} asks for more than {_MAX_SEEDS} seeds")
        seeds = seed_set(cast(SeedSetName, named.group(1)), int(named.group(2)))
    elif span := _RANGE.match(text):
        first, last = int(span.group(1)), int(span.group(2))
        if last < first:
            raise ValueError(f"seed range {text!r} ends before it starts")
        if last - first + 1 > _MAX_SEEDS:
            raise ValueError(f"seed range {text!r} is longer than {_MAX_SEEDS}")
        seeds = list(range(first, last + 1))
    elif text.isdigit():
        if int(text) > _MAX_SEEDS:
            raise ValueError(f"{text} seeds is more than {_MAX_SEEDS}")
        seeds = list(range(int(text)))
    else:
        try:
            seeds = [int(part) for part in text.split(",")]
        except ValueError:
            raise ValueError(
                f"cannot read seeds {text!r}: use heldout:50, 100-149, 3,7,11 or a count"
            ) from None
    if not seeds:
        raise ValueError(f"{text!r} names no seeds")
    if any(s < 0 for s in seeds):
        raise ValueError("seeds must not be negative")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"{text!r} repeats a seed: each scenario counts once")
    return seeds


def scenario_config(config: ScenarioConfig, family: str) -> ScenarioConfig:
    """``config`` generating ``family``'s scenarios; ``ValueError`` for an unknown family."""
    if family not in SCENARIO_FAMILIES:
        raise ValueError(f"scenario family {family!r}: known: {', '.join(SCENARIO_FAMILIES)}")
    return dataclasses.replace(config, family=family)
