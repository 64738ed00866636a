"""Policy kinds by name, and building the one a configuration asks for (with fallback).

``onnx`` needs a usable model; when it has none, :func:`build_policy` builds the configured
``fallback_kind`` instead and says why in the result, so the node can report it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fw_common.observation import ObservationSpec
from fw_common.profile import PolicyConfig
from fw_policy.base import Action, Policy, PolicyInput
from fw_policy.classic import FollowTheGap
from fw_policy.errors import ModelRejectedError
from fw_policy.onnx_model import OnnxPolicy, load_model

__all__ = ["POLICY_KINDS", "BuiltPolicy", "StopPolicy", "build_policy", "make_policy"]


class StopPolicy:
    """``stop``: always a zero command (the fallback when nothing may drive)."""

    kind = "stop"

    def act(self, inputs: PolicyInput) -> Action:
        return Action(0.0, 0.0)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind}


def _onnx(config: PolicyConfig, spec: ObservationSpec) -> Policy:
    return OnnxPolicy(load_model(config.model_path, spec, config.intra_op_threads))


def _classic(config: PolicyConfig, spec: ObservationSpec) -> Policy:
    return FollowTheGap(config.classic)


def _stop(config: PolicyConfig, spec: ObservationSpec) -> Policy:
    return StopPolicy()


#: Factories by kind name; each raises :class:`ModelRejectedError` when it cannot be built.
POLICY_KINDS: dict[str, Callable[[PolicyConfig, ObservationSpec], Policy]] = {
    "onnx": _onnx,
    "classic": _classic,
    "stop": _stop,
}


def make_policy(kind: str, config: PolicyConfig, spec: ObservationSpec) -> Policy:
    """Build one kind; ``KeyError`` if unknown, :class:`ModelRejectedError` if unusable."""
    if kind not in POLICY_KINDS:
        raise KeyError(f"unknown policy kind {kind!r}; known: {sorted(POLICY_KINDS)}")
    return POLICY_KINDS[kind](config, spec)


@dataclass(frozen=True)
class BuiltPolicy:
    """The policy that runs, and, when it is the fallback, why the configured one is not."""

    policy: Policy
    requested_kind: str
    fallback_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        info = {
            **self.policy.describe(),
            "requested_kind": self.requested_kind,
            "fallback": self.fallback_reason is not None,
        }
        if self.fallback_reason is not None:
            info["fallback_reason"] = self.fallback_reason
        return {**info, **self.extra}


def build_policy(config: PolicyConfig, spec: ObservationSpec) -> BuiltPolicy:
    """The configured kind, or the fallback kind with the reason when it cannot run."""
    try:
        return BuiltPolicy(make_policy(config.kind, config, spec), config.kind)
    except ModelRejectedError as exc:
        fallback = make_policy(config.fallback_kind, config, spec)
        return BuiltPolicy(fallback, config.kind, f"{config.kind}: {exc}")
