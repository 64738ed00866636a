"""ROS 2 node ``recorder``: serialized recording into rosbag2 episodes.

Subscribes
    every selected topic, serialized (``raw=True``), with QoS matching its publishers
    (re-discovered every ``discovery_period``, so late publishers are picked up);
    ``fw/safety/events`` (diagnostic_msgs/DiagnosticStatus, reliable): triggers;
    ``fw/policy/info`` (std_msgs/String JSON, latched): policy version, and a trigger on change;
    ``fw/sim/scenario`` (std_msgs/String JSON, latched): the scenario seed for the metadata.
Publishes
    ``fw/recorder/status`` (diagnostic_msgs/DiagnosticArray, reliable): counters, lost
    messages by reason, disk level.
Services
    ``fw/recorder/trigger`` (std_srvs/Trigger): write an episode around now;
    ``fw/recorder/episode`` (std_srvs/SetBool): true opens an episode now (closing any open
    one), false closes it now; the message is the episode's name (its folder), or, with
    ``success`` false, why not; a close of an episode the writer could not open (spool budget,
    disk, a bag that could not be created) says ``episode <name> has no recording: <why>``.
"""

from __future__ import annotations

import importlib
import time
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import String
from std_srvs.srv import SetBool, Trigger

from fw_common import qos, topics
from fw_common.profile.recorder import RecorderConfig
from fw_common.ros_params import SectionParameters
from fw_common.shutdown import QuietShutdown
from fw_common.spin import run_node
from fw_recorder.errors import MessageDefinitionError, RecorderError
from fw_recorder.qos_match import PublisherQos, subscription_qos
from fw_recorder.recorder import RecorderCore
from fw_recorder.robot_state import event_reason, policy_version, scenario_seed
from fw_recorder.selection import TopicSelection
from fw_recorder.spool import DiskLevel

__all__ = ["RecorderNode", "main"]

RECORDER_TRIGGER = getattr(topics, "RECORDER_TRIGGER", "fw/recorder/trigger")
RECORDER_STATUS = getattr(topics, "RECORDER_STATUS", "fw/recorder/status")
SAFETY_EVENTS = getattr(topics, "SAFETY_EVENTS", "fw/safety/events")
POLICY_INFO = getattr(topics, "POLICY_INFO", "fw/policy/info")
_LOG_THROTTLE_S = 5.0


def _message_class(msgtype: str) -> Any:
    pkg, _, name = msgtype.partition("/msg/")
    return getattr(importlib.import_module(f"{pkg}.msg"), name)


class _Recorded:
    """One recorded topic: its id in the core, the QoS it is subscribed with."""

    __slots__ = ("qos", "sub", "topic_id")

    def __init__(self, topic_id: int, sub: Any, qos_: PublisherQos) -> None:
        self.topic_id = topic_id
        self.sub = sub
        self.qos = qos_


class RecorderNode(QuietShutdown, Node):
    """Thin wrapper around :class:`RecorderCore`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("recorder", **kwargs)
        self.params = SectionParameters(self, RecorderConfig)
        config = self.params.current
        ns = self.get_namespace().strip("/")
        robot_id = config.robot_id or (ns.split("/")[-1] if ns else "robot")
        self._sim_time = bool(self.get_parameter("use_sim_time").value)
        clock = self.get_clock()
        self._now = (lambda: clock.now().nanoseconds) if self._sim_time else time.time_ns
        self.core = RecorderCore(config, robot_id, self._now)
        for name, count in self.core.recovery.recovered.items():
            self.get_logger().warning(f"recovered {count} messages of crashed episode {name}")
        for name, reason in self.core.recovery.quarantined.items():
            self.get_logger().error(f"quarantined unreadable episode {name}: {reason}")
        self.selection = TopicSelection(
            config.topics,
            config.topic_regex,
            config.exclude_regex,
            config.low_priority_regex,
            self.get_namespace(),
        )
        self._recorded: dict[str, _Recorded] = {}
        self._refused: set[str] = set()
        self._last_policy: str | None = None

        self.status_pub = self.create_publisher(DiagnosticArray, RECORDER_STATUS, qos.STATUS)
        self.create_subscription(DiagnosticStatus, SAFETY_EVENTS, self._on_safety_event, qos.EVENT)
        self.create_subscription(String, POLICY_INFO, self._on_policy_info, qos.LATCHED)
        self.create_subscription(String, topics.SIM_SCENARIO, self._on_scenario, qos.LATCHED)
        self.create_service(Trigger, RECORDER_TRIGGER, self._on_trigger_service)
        self.create_service(SetBool, topics.RECORDER_EPISODE, self._on_episode_service)
        self._discover()
        self.create_timer(config.discovery_period, self._discover)
        self.create_timer(1.0 / config.status_rate, self._publish_status)
        self.core.start()
        self.get_logger().info(
            f"mode={config.mode} storage={config.storage} spool={self.core.spool.paths.root} "
            f"robot_id={robot_id} clock={'sim' if self._sim_time else 'system'}"
        )

    # ------------------------------------------------------------ discovery
    def _discover(self) -> None:
        for name, types in self.get_topic_names_and_types():
            if not types or not self.selection.selects(name) or name in self._refused:
                continue
            infos = self.get_publishers_info_by_topic(name)
            pubs = [
                PublisherQos(
                    reliable=i.qos_profile.reliability == ReliabilityPolicy.RELIABLE,
                    transient_local=i.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL,
                )
                for i in infos
                if i.node_name != self.get_name() or i.node_namespace != self.get_namespace()
            ]
            wanted = subscription_qos(pubs)
            if wanted is None:
                continue  # nobody publishes it (yet): nothing to match
            recorded = self._recorded.get(name)
            if recorded is not None:
                if recorded.qos != wanted:
                    # A publisher that the current subscription cannot match has appeared.
                    self.destroy_subscription(recorded.sub)
                    recorded.sub = self._subscribe(name, types[0], recorded.topic_id, wanted)
                    recorded.qos = wanted
                self.core.update_publishers(recorded.topic_id, pubs)
                continue
            try:
                msg_cls = _message_class(types[0])
                topic_id = self.core.add_topic(name, types[0], pubs)
            except (ImportError, AttributeError, MessageDefinitionError) as exc:
                self._refused.add(name)
                self.get_logger().error(f"cannot record {name} ({types[0]}): {exc}")
                continue
            del msg_cls
            self.core.set_low_priority(topic_id, self.selection.low_priority(name))
            sub = self._subscribe(name, types[0], topic_id, wanted)
            self._recorded[name] = _Recorded(topic_id, sub, wanted)
            self.get_logger().info(
                f"recording {name} [{types[0]}] "
                f"{'reliable' if wanted.reliable else 'best_effort'}"
                f"{' transient_local' if wanted.transient_local else ''}"
            )

    def _subscribe(self, name: str, msgtype: str, topic_id: int, wanted: PublisherQos) -> Any:
        profile = QoSProfile(
            history=HistoryPolicy.KEEP_LAST,
            depth=self.params.current.queue_depth,
            reliability=(
                ReliabilityPolicy.RELIABLE if wanted.reliable else ReliabilityPolicy.BEST_EFFORT
            ),
            durability=(
                DurabilityPolicy.TRANSIENT_LOCAL
                if wanted.transient_local
                else DurabilityPolicy.VOLATILE
            ),
        )
        receive = self.core.receive
        now = self._now

        def on_message(data: bytes) -> None:
            receive(topic_id, data, now())

        return self.create_subscription(
            _message_class(msgtype), name, on_message, profile, raw=True
        )

    # ------------------------------------------------------------- triggers
    def _on_safety_event(self, msg: DiagnosticStatus) -> None:
        level = msg.level
        level_int = level[0] if isinstance(level, bytes | bytearray) else int(level)
        reason = event_reason(
            level_int, msg.name, msg.message, self.params.current.event_min_level
        )
        if reason is not None:
            # The event's name is the incident; its message changes ("scan 0.61 s old").
            self.core.trigger("safety_event", reason, key=msg.name)

    def _on_policy_info(self, msg: String) -> None:
        version = policy_version(msg.data)
        previous, self._last_policy = self._last_policy, msg.data
        self.core.set_metadata(policy_version=version)
        if (
            previous is not None
            and previous != msg.data
            and (self.params.current.trigger_on_policy_change)
        ):
            self.core.trigger("policy_change", f"policy now {version}")

    def _on_scenario(self, msg: String) -> None:
        seed = scenario_seed(msg.data)
        if seed is not None:
            self.core.set_metadata(scenario_seed=seed)
        else:
            self.get_logger().warning(
                "fw/sim/scenario without an integer seed", throttle_duration_sec=_LOG_THROTTLE_S
            )

    def _on_trigger_service(self, request: Any, response: Any) -> Any:
        level = self.core.disk_level
        if level == DiskLevel.CRITICAL:
            response.success = False
            response.message = "disk below critical_free_mb: no episode can be written"
            return response
        if self.core.budget_full:
            response.success = False
            response.message = "spool_budget_mb spent: no episode until uploads free space"
            return response
        self.core.trigger("service", "fw/recorder/trigger called")
        response.success = True
        response.message = {
            "snapshot": "episode requested",
            "continuous": "trigger noted in the current bag",
            "requested": "trigger noted in the open episode, if any",
        }[self.params.current.mode]
        return response

    def _on_episode_service(self, request: Any, response: Any) -> Any:
        verb = "open" if request.data else "close"
        try:
            # Answered at once: waiting here for the writer thread would hold the executor
            # that the robot's other nodes may share. An open the writer then cannot carry out
            # makes the close refused with the reason (see fw_recorder.recorder).
            episode = self.core.request_episode(bool(request.data), f"fw/recorder/episode {verb}")
        except RecorderError as exc:
            response.success, response.message = False, str(exc)
            self.get_logger().warning(f"refused to {verb} an episode: {exc}")
            return response
        response.success, response.message = True, episode.name
        self.get_logger().info(f"{verb} requested episode {episode.name}")
        return response

    # --------------------------------------------------------------- status
    def _publish_status(self) -> None:
        core = self.core
        stats = core.stats
        lost = sum(stats.lost.values())
        if core.disk_level == DiskLevel.CRITICAL or stats.write_errors:
            level, message = DiagnosticStatus.ERROR, "not recording: disk full or write error"
        elif core.budget_full:
            level, message = DiagnosticStatus.WARN, "spool_budget_mb spent: waiting for uploads"
        elif core.disk_level == DiskLevel.LOW or lost:
            level, message = DiagnosticStatus.WARN, f"{lost} messages lost"
        else:
            level, message = DiagnosticStatus.OK, "recording"
        values = {
            "mode": core.config.mode,
            "topics": str(len(self._recorded)),
            "received": str(stats.received),
            "written": str(stats.written),
            "lost": str(lost),
            "episodes": str(stats.episodes),
            "episode_open": core.episode_open,
            "last_episode": stats.last_episode,
            "triggers": str(stats.triggers),
            "triggers_refused": str(stats.triggers_refused),
            "triggers_rate_limited": str(stats.triggers_rate_limited),
            "triggers_ignored": str(stats.triggers_ignored),
            "budget_left_bytes": str(core.budget_left),
            "ring_bytes": str(core.ring.bytes),
            "ring_messages": str(len(core.ring)),
            "pending_bytes": str(core.pending_bytes),
            "disk_level": core.disk_level.name,
            "free_bytes": str(core.free_bytes),
            "write_errors": str(stats.write_errors),
            "last_error": stats.last_error,
            "recovered": str(len(core.recovery.recovered)),
            "quarantined": str(len(core.recovery.quarantined)),
        }
        values.update({f"lost.{k}": str(v) for k, v in sorted(stats.lost.items())})
        status = DiagnosticStatus(
            level=level,
            name=f"{self.get_fully_qualified_name()}",
            message=message,
            hardware_id=core.robot_id,
            values=[KeyValue(key=k, value=v) for k, v in values.items()],
        )
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self.status_pub.publish(array)

    def destroy_node(self) -> None:
        # Close the open episode so a clean shutdown never leaves a partial bag behind.
        try:
            self.core.stop()
        finally:
            super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return run_node(lambda: RecorderNode(), args)


if __name__ == "__main__":
    raise SystemExit(main())
