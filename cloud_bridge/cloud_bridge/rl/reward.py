"""A reward function written by the user: a Python file defining ``reward_function(params)``.

As in AWS DeepRacer, the file defines one function that takes the step's ``params`` (see
:mod:`cloud_bridge.rl.reward_params`) and returns a number::

    def reward_function(params):
        if params["collision"]:
            return -10.0
        return params["progress_delta"]

:func:`load_reward_function` imports the file (importlib, from its path) and refuses one that
is missing, is not Python, fails to import or defines no callable ``reward_function``.
:class:`UserReward` calls it and refuses, with the file and the step, a call that raises or
returns anything but a finite real number (NaN, inf, a string, None, a bool). Training stops
on the first such step (nothing is published).
"""

from __future__ import annotations

import importlib.util
import math
import numbers
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cloud_bridge.rl.errors import RewardFunctionError

__all__ = ["FUNCTION_NAME", "UserReward", "load_reward_function", "progress_reward"]

#: The name the file must define.
FUNCTION_NAME = "reward_function"


def progress_reward(params: dict[str, Any]) -> float:
    """The built-in reward when none is given: metres gained towards the goal, a bonus for
    reaching it and a penalty for touching an obstacle."""
    reward = float(params["progress_delta"])
    if params["reached_goal"]:
        reward += 10.0
    if params["collision"]:
        reward -= 10.0
    return reward


class UserReward:
    """A loaded reward function, checked at every call. ``path`` names it in errors."""

    def __init__(self, function: Callable[[dict[str, Any]], Any], path: str) -> None:
        self.function = function
        self.path = path

    def __call__(self, params: dict[str, Any], *, step: int, scenario_seed: int) -> float:
        try:
            value = self.function(params)
        except Exception as exc:
            where = self._where(step, scenario_seed)
            raise RewardFunctionError(f"{where} raised {type(exc).__name__}: {exc}") from exc
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise RewardFunctionError(
                f"{self._where(step, scenario_seed)} returned {value!r} "
                f"({type(value).__name__}), not a number"
            )
        reward = float(value)
        if not math.isfinite(reward):
            raise RewardFunctionError(
                f"{self._where(step, scenario_seed)} returned {reward!r}: rewards must be finite"
            )
        return reward

    def _where(self, step: int, scenario_seed: int) -> str:
        return f"reward function {self.path}, step {step} (scenario seed {scenario_seed})"


def load_reward_function(path: str | Path) -> UserReward:
    """Import ``reward_function`` from the Python file at ``path``; raises
    :class:`RewardFunctionError` naming the file when it cannot."""
    file = Path(path)
    if file.suffix != ".py":
        raise RewardFunctionError(f"reward function {file}: not a Python file (.py)")
    if not file.is_file():
        raise RewardFunctionError(f"reward function {file}: no such file")
    resolved = file.resolve()
    # A module name of its own per file, so two reward files never share a module.
    name = f"flywheel_reward_{abs(hash(str(resolved))):x}"
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:
        raise RewardFunctionError(f"reward function {file}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(name, None)
        raise RewardFunctionError(
            f"reward function {file}: importing it failed: {type(exc).__name__}: {exc}"
        ) from exc
    function = getattr(module, FUNCTION_NAME, None)
    if function is None:
        raise RewardFunctionError(f"reward function {file}: defines no {FUNCTION_NAME}(params)")
    if not callable(function):
        raise RewardFunctionError(f"reward function {file}: {FUNCTION_NAME} is not a function")
    return UserReward(function, str(file))
