"""SectionParameters on a real rclpy node: descriptors, start-up validation, runtime changes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import rclpy
from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter

from fw_common.errors import ProfileError
from fw_common.profile import setting
from fw_common.ros_params import SectionParameters


@dataclass(frozen=True)
class Inner:
    # a bounded gain
    gain: float = setting(1.0, "Gain (1).", minimum=0.0, maximum=10.0)


@dataclass(frozen=True)
class Section:
    # a nested section
    inner: Inner = setting(Inner(), "Inner.")
    # a fixed name
    frame: str = setting("base_link", "Frame.", read_only=True)
    # a list that may be empty
    topics: list[str] = setting([], "Topics.")
    # two values that must be ordered
    low: float = setting(0.0, "Low.")
    # the upper one
    high: float = setting(1.0, "High.")

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError("low must not exceed high")


@pytest.fixture
def context() -> Iterator[Context]:
    ctx = Context()
    rclpy.init(context=ctx)
    yield ctx
    ctx.try_shutdown()


def make_node(context: Context, overrides: list[Parameter] | None = None) -> Node:
    return Node("params_test", context=context, parameter_overrides=overrides or [])


def test_parameters_are_declared_with_descriptors(context: Context) -> None:
    node = make_node(context)
    params = SectionParameters(node, Section)
    assert params.current == Section()
    descriptor = node.describe_parameter("inner.gain")
    assert descriptor.description == "Gain (1)."
    assert descriptor.floating_point_range[0].to_value == 10.0
    assert node.describe_parameter("frame").read_only
    node.destroy_node()


def test_runtime_changes_are_validated_as_a_whole_section(context: Context) -> None:
    node = make_node(context)
    seen: list[Section] = []
    params = SectionParameters(node, Section, seen.append)
    ok = node.set_parameters([Parameter("inner.gain", value=2.5)])[0]
    assert ok.successful and params.current.inner.gain == 2.5 and seen[-1].inner.gain == 2.5
    refused = node.set_parameters([Parameter("low", value=5.0)])[0]
    assert not refused.successful and "low must not exceed high" in refused.reason
    assert params.current.low == 0.0
    read_only = node.set_parameters([Parameter("frame", value="map")])[0]
    assert not read_only.successful
    node.destroy_node()


def test_invalid_overrides_stop_the_node_at_start(context: Context) -> None:
    node = make_node(context, [Parameter("low", value=3.0), Parameter("high", value=2.0)])
    with pytest.raises(ProfileError, match="low must not exceed high"):
        SectionParameters(node, Section)
    node.destroy_node()


def test_empty_list_overrides_are_accepted(context: Context) -> None:
    # rclpy types Parameter("topics", value=[]) as BYTE_ARRAY; the section still gets a list.
    node = make_node(context, [Parameter("topics", value=[]), Parameter("inner.gain", value=3.0)])
    params = SectionParameters(node, Section)
    assert params.current.topics == [] and params.current.inner.gain == 3.0
    assert node.set_parameters([Parameter("topics", value=["a", "b"])])[0].successful
    assert params.current.topics == ["a", "b"]
    assert node.set_parameters([Parameter("topics", value=[])])[0].successful
    assert params.current.topics == []
    wrong = node.set_parameters([Parameter("topics", value=[1, 2])])[0]
    assert not wrong.successful and "expected str" in wrong.reason
    node.destroy_node()
