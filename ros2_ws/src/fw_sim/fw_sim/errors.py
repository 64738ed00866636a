"""Errors raised by fw_sim."""

from __future__ import annotations

__all__ = ["ScenarioError", "SimError"]


class SimError(RuntimeError):
    """The simulator cannot do what was asked (bad URDF, missing joint, ...)."""


class ScenarioError(SimError):
    """The scenario configuration cannot be satisfied (too many obstacles for the arena)."""
