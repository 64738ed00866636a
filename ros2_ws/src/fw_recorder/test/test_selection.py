"""Topic selection: two robots on one host record only their own namespace."""

from __future__ import annotations

from fw_common.profile.recorder import RecorderConfig
from fw_recorder.selection import TopicSelection, relative_name

GRAPH = [
    "/r1/fw/perception/scan",
    "/r1/fw/perception/state",
    "/r2/fw/perception/scan",
    "/fw/perception/scan",
    "/r1/fw/recorder/status",
    "/r1/scan",
    "/r2/scan",
    "/rosout",
    "/r1/parameter_events",
    "/r1/camera/image_raw",
    "/r1/old/fw/perception/scan",
]


def _default(namespace: str) -> TopicSelection:
    cfg = RecorderConfig()
    return TopicSelection(
        cfg.topics, cfg.topic_regex, cfg.exclude_regex, cfg.low_priority_regex, namespace
    )


def test_defaults_select_only_the_robots_own_namespace() -> None:
    r1 = {t for t in GRAPH if _default("/r1").selects(t)}
    assert r1 == {"/r1/fw/perception/scan", "/r1/fw/perception/state", "/r1/scan"}
    r2 = {t for t in GRAPH if _default("r2").selects(t)}
    assert r2 == {"/r2/fw/perception/scan", "/r2/scan"}


def test_root_namespace_robot_does_not_record_namespaced_robots() -> None:
    root = {t for t in GRAPH if _default("/").selects(t)}
    assert root == {"/fw/perception/scan"}


def test_patterns_are_anchored_and_absolute_ones_match_the_full_name() -> None:
    sel = TopicSelection(
        [], ["scan", "/r2/fw/.*"], ["/r2/fw/perception/state"], [".*image.*"], "/r1"
    )
    assert sel.selects("/r1/scan") and not sel.selects("/r1/scan_raw")
    assert sel.selects("/r2/fw/perception/scan") and not sel.selects("/r2/fw/perception/state")
    assert not sel.selects("/r2/scan")
    assert sel.low_priority("/r1/camera/image_raw") and not sel.low_priority("/r2/image")


def test_relative_name() -> None:
    assert relative_name("/r1/a/b", "/r1") == "a/b"
    assert relative_name("/r10/a", "r1") is None
    assert relative_name("/a", "/") == "a"
