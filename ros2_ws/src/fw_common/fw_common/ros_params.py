"""Declare a node's ROS 2 parameters from its profile section, and validate changes.

A node owns one profile section (a dataclass from :mod:`fw_common.profile`). This module declares
one parameter per leaf setting, with the setting's documentation, bounds and read-only flag in
the ``ParameterDescriptor`` (so ``ros2 param describe`` tells an operator what each one means),
and installs an on-set-parameters callback that rebuilds the section with the requested change
and refuses it, with the reason, if the section would be invalid.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    SetParametersResult,
)
from rclpy.node import Node
from rclpy.parameter import Parameter

from fw_common.errors import ProfileError
from fw_common.profile.schema import (
    SettingInfo,
    flatten_section,
    iter_settings,
    section_from_flat,
)

__all__ = ["SectionParameters"]

S = TypeVar("S")

_PARAM_TYPES: dict[Any, Parameter.Type] = {
    bool: Parameter.Type.BOOL,
    int: Parameter.Type.INTEGER,
    float: Parameter.Type.DOUBLE,
    str: Parameter.Type.STRING,
    list[bool]: Parameter.Type.BOOL_ARRAY,
    list[int]: Parameter.Type.INTEGER_ARRAY,
    list[float]: Parameter.Type.DOUBLE_ARRAY,
    list[str]: Parameter.Type.STRING_ARRAY,
}


def _descriptor(name: str, tp: Any, info: SettingInfo) -> ParameterDescriptor:
    is_list = typing.get_origin(tp) is list
    descriptor = ParameterDescriptor(
        name=name,
        type=_PARAM_TYPES[tp].value,
        description=info.doc,
        read_only=info.read_only,
        # rclpy types an empty list as BYTE_ARRAY wherever it comes from (an override, a
        # params file, `ros2 param set`), and a statically typed list parameter would then
        # refuse it. The section checks the element types of every list itself.
        dynamic_typing=is_list,
    )
    constraints = []
    if info.choices:
        constraints.append("one of: " + ", ".join(info.choices))
    if info.min_length is not None or info.max_length is not None:
        constraints.append(f"length in [{info.min_length or 0}, {info.max_length or 'inf'}]")
    descriptor.additional_constraints = "; ".join(constraints)
    scalar = typing.get_args(tp)[0] if typing.get_origin(tp) is list else tp
    if info.minimum is not None and info.maximum is not None:
        # Ranges in descriptors are enforced by rclpy; only use them when both ends are known,
        # one-sided bounds are checked by the section itself.
        if scalar is float:
            descriptor.floating_point_range = [
                FloatingPointRange(from_value=float(info.minimum), to_value=float(info.maximum))
            ]
        elif scalar is int:
            descriptor.integer_range = [
                IntegerRange(from_value=int(info.minimum), to_value=int(info.maximum), step=1)
            ]
    return descriptor


def _plain(value: Any) -> Any:
    """rclpy returns arrays as array.array or tuples; sections hold lists."""
    if isinstance(value, list | tuple) or hasattr(value, "tolist"):
        return list(value)
    return value


class SectionParameters(Generic[S]):
    """The parameters of one node, declared from a profile section class.

    ``current`` always holds a valid section. ``on_change`` (optional) is called with the new
    section after an accepted runtime change.
    """

    def __init__(
        self,
        node: Node,
        section_cls: type[S],
        on_change: Callable[[S], None] | None = None,
    ) -> None:
        self._node = node
        self._cls = section_cls
        self._on_change = on_change
        self._types: dict[str, Any] = {}
        defaults = flatten_section(section_cls())
        for name, tp, info in iter_settings(section_cls):
            self._types[name] = tp
            default = defaults[name]
            descriptor = _descriptor(name, tp, info)
            node.declare_parameter(name, default, descriptor)
        flat = {name: self._value(name) for name in self._types}
        # A bad profile must stop the node at start with every problem listed.
        self.current: S = section_from_flat(section_cls, flat, node.get_name())
        node.add_on_set_parameters_callback(self._validate)
        node.add_post_set_parameters_callback(self._apply)

    def _value(self, name: str) -> Any:
        value = self._node.get_parameter(name).value
        return [] if value is None else _plain(value)

    def _candidate(self, params: list[Parameter[Any]]) -> S:
        flat = flatten_section(self.current)
        for p in params:
            if p.name in self._types:
                flat[p.name] = _plain(p.value)
        return section_from_flat(self._cls, flat, self._node.get_name())

    def _validate(self, params: list[Parameter[Any]]) -> SetParametersResult:
        try:
            self._candidate(params)
        except ProfileError as exc:
            reason = str(exc)
            self._node.get_logger().warning(f"refused parameter change: {reason}")
            return SetParametersResult(successful=False, reason=reason)
        return SetParametersResult(successful=True)

    def _apply(self, params: list[Parameter[Any]]) -> None:
        if not any(p.name in self._types for p in params):
            return
        self.current = self._candidate(params)
        if self._on_change is not None:
            self._on_change(self.current)
