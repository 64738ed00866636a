"""The environment's Gymnasium id, and its registration (no simulator imported until made)."""

from __future__ import annotations

__all__ = ["ENV_ID", "register"]

#: The id the environment is registered under (``gymnasium.make(ENV_ID, ...)``).
ENV_ID = "flywheel/HeadlessNav-v0"


def register() -> None:
    """Register :data:`ENV_ID` with Gymnasium, once; the entry point is imported on ``make``."""
    import gymnasium

    if ENV_ID not in gymnasium.registry:
        gymnasium.register(id=ENV_ID, entry_point="cloud_bridge.rl.env:HeadlessNavEnv")
