"""ROS 2 node ``cloud_agent``: the robot's side of the cloud bridge (a thin wrapper).

The decisions are :class:`fw_cloud_agent.agent.CloudAgent`'s; this node feeds it and carries
them out. Store I/O (channel checks, downloads, verification, the status object) runs in a
worker thread, so a slow or dead store never blocks the executor the robot's other nodes share.

Subscribes
    ``fw/safety/events`` (diagnostic_msgs/DiagnosticStatus, reliable): interventions (WARN and
    above) while a release runs; ``fw/perception/goal`` (geometry_msgs/PoseStamped, sensor):
    a goal farther than ``goal_tolerance`` is active; ``fw/recorder/status``
    (diagnostic_msgs/DiagnosticArray): an open episode is being recorded.
Publishes
    ``fw/cloud_agent/status`` (std_msgs/String JSON, latched): active, previous, rolled-back and
    refused releases, the staged candidate, a deferral, the watch of a new release, upload
    queue, last contact with the store; ``fw/cloud_agent/events`` (diagnostic_msgs/
    DiagnosticStatus, reliable): one per decision or refusal, with the reason; ``diagnostics``
    (diagnostic_msgs/DiagnosticArray): the status as key/values, once a second.
Calls
    ``<policy_node>/set_parameters_atomically``: ``model_path`` (+ ``kind: onnx``) to swap; the
    policy node loads and checks the model and refuses a bad one with the reason.
"""

from __future__ import annotations

import json
import math
import threading
import time
from pathlib import Path
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import PoseStamped
from rcl_interfaces.srv import SetParametersAtomically
from rclpy.node import Node
from rclpy.parameter import Parameter
from std_msgs.msg import String

from fw_cloud_agent.agent import AgentEvent, AgentSettings, CloudAgent, SwapRequest
from fw_cloud_agent.rollback_watch import RollbackThresholds
from fw_cloud_agent.uploads import UploadRunner
from fw_common import qos, topics
from fw_common.observation import spec_by_name
from fw_common.profile import CloudAgentConfig
from fw_common.ros_params import SectionParameters
from fw_common.spin import run_node

__all__ = ["CloudAgentNode", "main"]

_TICK_S = 0.2
_DIAGNOSTICS_S = 1.0
#: A recorder status older than this no longer says an episode is open (s).
_RECORDER_STALE_S = 10.0


def _level(value: Any) -> int:
    """A diagnostic level as an int (rclpy gives a one-byte ``bytes``)."""
    return value[0] if isinstance(value, bytes | bytearray) else int(value)


class CloudAgentNode(Node):
    """Thin wrapper around :class:`CloudAgent` (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("cloud_agent", **kwargs)
        self.params = SectionParameters(self, CloudAgentConfig)
        config = self.params.current
        self.status_pub = self.create_publisher(String, topics.CLOUD_AGENT_STATUS, qos.LATCHED)
        self.events_pub = self.create_publisher(
            DiagnosticStatus, topics.CLOUD_AGENT_EVENTS, qos.EVENT
        )
        self.diag_pub = self.create_publisher(DiagnosticArray, topics.DIAGNOSTICS, qos.STATUS)
        self.agent: CloudAgent | None = None
        self.uploads: UploadRunner | None = None
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._published: str | None = None
        self._swap: tuple[SwapRequest, Any, float] | None = None
        self._goal: tuple[float, float] | None = None  # (received, distance m)
        self._recorder: tuple[float, bool] | None = None  # (received, episode open)
        if not config.store_url:
            self._publish_status({"state": "disabled", "problem": "no cloud_agent.store_url"})
            self.get_logger().info("no store configured (cloud_agent.store_url): idle")
            return
        try:
            self.agent = self._make_agent(config)
        except Exception as exc:  # a bad root, store URL or folder: say it, never crash
            self.get_logger().error(f"cloud agent not started: {exc}")
            self._publish_status({"state": "error", "problem": str(exc)})
            return
        self.create_subscription(
            DiagnosticStatus, topics.SAFETY_EVENTS, self._on_safety_event, qos.EVENT
        )
        self.create_subscription(PoseStamped, topics.PERCEPTION_GOAL, self._on_goal, qos.SENSOR)
        self.create_subscription(
            DiagnosticArray, topics.RECORDER_STATUS, self._on_recorder, qos.STATUS
        )
        self.policy_params = self.create_client(
            SetParametersAtomically, f"{config.policy_node}/set_parameters_atomically"
        )
        self.create_timer(_TICK_S, self._on_tick)
        self.create_timer(_DIAGNOSTICS_S, self._publish_diagnostics)
        self._worker = threading.Thread(target=self._poll_loop, name="cloud_agent", daemon=True)
        self._worker.start()
        self.get_logger().info(f"following {config.fleet}/{config.channel} in {config.store_url}")

    def _make_agent(self, config: CloudAgentConfig) -> CloudAgent:
        from cloud_bridge.releases import ReleaseClient
        from cloud_bridge.store import open_store

        store = open_store(
            config.store_url,
            endpoint_url=config.store_endpoint_url or None,
            region=config.store_region or None,
        )
        robot_id = config.robot_id or self.get_namespace().strip("/") or "robot"
        client = ReleaseClient(
            store,
            Path(config.trusted_root),
            Path(config.cache_dir),
            spec_by_name(config.observation_spec or "nav_scan_goal"),
            prefix=config.tuf_prefix,
        )
        if config.upload:
            self.uploads = UploadRunner(
                store,
                Path(config.spool_dir),
                robot_id,
                max_bytes_per_s=config.upload_bandwidth or None,
                queue_budget_mb=config.upload_queue_budget_mb,
            )
        settings = AgentSettings(
            robot_id=robot_id,
            fleet=config.fleet,
            channel=config.channel,
            defer_timeout=config.defer_timeout,
            thresholds=RollbackThresholds(
                window=config.rollback_window,
                min_events=config.rollback_min_events,
                margin=config.rollback_margin,
                watch=config.rollback_watch,
            ),
        )
        return CloudAgent(
            settings,
            client,
            Path(config.cache_dir) / "agent_state.json",
            status_sink=store,
            upload_status=None if self.uploads is None else self.uploads.status,
        )

    # --- the store, in the worker thread -----------------------------------------------------
    def _poll_loop(self) -> None:
        assert self.agent is not None
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.agent.poll()
            except Exception as exc:  # never let the worker die: the next poll retries
                self.get_logger().error(f"poll failed: {type(exc).__name__}: {exc}")
            period = self.params.current.poll_period
            self._stop.wait(max(0.0, period - (time.monotonic() - started)))

    # --- inputs ------------------------------------------------------------------------------
    def _on_safety_event(self, msg: DiagnosticStatus) -> None:
        if self.agent is not None and _level(msg.level) >= _level(DiagnosticStatus.WARN):
            self.agent.on_intervention()

    def _on_goal(self, msg: PoseStamped) -> None:
        p = msg.pose.position
        self._goal = (time.monotonic(), math.hypot(p.x, p.y))

    def _on_recorder(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            values = {kv.key: kv.value for kv in status.values}
            if "episode_open" in values:
                self._recorder = (time.monotonic(), values["episode_open"] != "")

    # --- decisions ---------------------------------------------------------------------------
    def _on_tick(self) -> None:
        agent = self.agent
        assert agent is not None
        config, now = self.params.current, time.monotonic()
        goal, recorder = self._goal, self._recorder
        agent.set_goal_active(
            goal is not None
            and now - goal[0] < config.goal_timeout
            and goal[1] > config.goal_tolerance
        )
        agent.set_recording(
            recorder is not None and now - recorder[0] < _RECORDER_STALE_S and recorder[1]
        )
        self._check_swap_timeout(now, config.swap_timeout)
        request = agent.tick()
        if request is not None:
            self._send(request)
        for event in agent.drain_events():
            self.events_pub.publish(self._event_message(event))
            self._log_event(event)
        self._publish_status(agent.status())

    def _send(self, request: SwapRequest) -> None:
        assert self.agent is not None
        if not self.policy_params.service_is_ready():
            self.agent.swap_done(
                request, False, "the policy node's parameter service is not up", answered=False
            )
            return
        call = SetParametersAtomically.Request()
        call.parameters = [
            Parameter("model_path", value=request.model_path).to_parameter_msg(),
            Parameter("kind", value="onnx").to_parameter_msg(),
        ]
        future = self.policy_params.call_async(call)
        self._swap = (request, future, time.monotonic())
        future.add_done_callback(lambda f: self._swap_answered(request, f))

    def _swap_answered(self, request: SwapRequest, future: Any) -> None:
        if self._swap is None or self._swap[0] is not request or self.agent is None:
            return  # timed out before
        self._swap = None
        try:
            result = future.result().result
        except Exception as exc:
            self.agent.swap_done(request, False, f"no answer: {exc}", answered=False)
            return
        self.agent.swap_done(request, bool(result.successful), result.reason)

    def _check_swap_timeout(self, now: float, timeout: float) -> None:
        swap = self._swap
        if swap is None or now - swap[2] < timeout or self.agent is None:
            return
        self._swap = None
        swap[1].cancel()
        self.agent.swap_done(
            swap[0], False, f"no answer from the policy node in {timeout:g} s", answered=False
        )

    # --- outputs -----------------------------------------------------------------------------
    def _log_event(self, event: AgentEvent) -> None:
        text = f"{event.kind} {event.release or ''}: {event.message}"
        logger = self.get_logger()
        if event.level >= _level(DiagnosticStatus.ERROR):
            logger.error(text)
        elif event.level >= _level(DiagnosticStatus.WARN):
            logger.warning(text)
        else:
            logger.info(text)

    def _event_message(self, event: AgentEvent) -> DiagnosticStatus:
        return DiagnosticStatus(
            level=bytes([event.level]),
            name=f"cloud_agent/{event.kind}",
            message=event.message,
            hardware_id=self.get_namespace(),
            values=[
                KeyValue(key="kind", value=event.kind),
                KeyValue(key="release", value=event.release or ""),
                KeyValue(key="reason", value=event.reason),
            ],
        )

    def _publish_status(self, status: dict[str, Any]) -> None:
        # Latched: publish on change only (the wall time in it is left out of the comparison).
        text = json.dumps({k: v for k, v in status.items() if k != "time"}, sort_keys=True)
        if text != self._published:
            self._published = text
            self.status_pub.publish(String(data=json.dumps(status, sort_keys=True)))

    def _publish_diagnostics(self) -> None:
        if self.agent is None:
            return
        status = self.agent.status()
        problem = status.get("problem")
        rolled_back = status.get("rolled_back") or {}
        level = DiagnosticStatus.WARN if problem or rolled_back else DiagnosticStatus.OK
        entry = DiagnosticStatus(
            level=level,
            name=self.get_fully_qualified_name(),
            message=problem or f"running {status.get('active') or 'no release'}",
            hardware_id=str(status.get("robot_id", "")),
            values=[
                KeyValue(key=k, value=v if isinstance(v, str) else json.dumps(v))
                for k, v in sorted(status.items())
            ],
        )
        array = DiagnosticArray(status=[entry])
        array.header.stamp = self.get_clock().now().to_msg()
        self.diag_pub.publish(array)

    def destroy_node(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout=5.0)  # daemon: a store call in flight does not hold exit
        if self.uploads is not None:
            self.uploads.stop()
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return run_node(lambda: CloudAgentNode(), args)


if __name__ == "__main__":
    raise SystemExit(main())
