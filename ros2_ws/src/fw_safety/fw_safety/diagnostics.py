"""Safety events and status as diagnostic_msgs (message types only, no rclpy).

No custom message package can be built for the robot, so an event is a
``diagnostic_msgs/DiagnosticStatus`` with these fields:

* ``level``: OK (reset), WARN (limited, override, refused command), ERROR (a stop);
* ``name``: ``safety/<kind>``; ``message``: the reason; ``hardware_id``: the node's namespace;
* ``values`` (KeyValue, all strings): ``kind``, ``reason``, ``stamp_ns`` (ROS time, ns),
  ``source`` (driving source or ""), ``input.<source>.linear`` / ``input.<source>.angular``
  for each source that has sent a command (before filtering), ``output.linear`` /
  ``output.angular`` (m/s, rad/s).

:func:`event_values` turns such a message back into a dict for consumers (recorder, tests).
"""

from __future__ import annotations

from typing import Any

from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

from fw_safety.events import Level, SafetyEvent

__all__ = ["STATE_LEVELS", "event_message", "event_values", "status_message"]

#: Diagnostic level of each supervisor state.
STATE_LEVELS = {
    "running": Level.OK,
    "idle": Level.OK,
    "starting": Level.WARN,
    "limited": Level.WARN,
    "stopped": Level.ERROR,
    "estop": Level.ERROR,
}


def _level(value: int) -> bytes:
    return bytes([value])


def event_message(event: SafetyEvent, hardware_id: str = "") -> DiagnosticStatus:
    """A :class:`SafetyEvent` as a DiagnosticStatus (see the module docstring)."""
    values = [
        KeyValue(key="kind", value=event.kind),
        KeyValue(key="reason", value=event.reason),
        KeyValue(key="stamp_ns", value=str(event.stamp_ns)),
        KeyValue(key="source", value=event.source),
    ]
    for source, twist in sorted(event.inputs.items()):
        values.append(KeyValue(key=f"input.{source}.linear", value=repr(twist.linear)))
        values.append(KeyValue(key=f"input.{source}.angular", value=repr(twist.angular)))
    values.append(KeyValue(key="output.linear", value=repr(event.output.linear)))
    values.append(KeyValue(key="output.angular", value=repr(event.output.angular)))
    return DiagnosticStatus(
        level=_level(event.level),
        name=f"safety/{event.kind}",
        message=event.reason,
        hardware_id=hardware_id,
        values=values,
    )


def status_message(values: dict[str, str], stamp: Time, hardware_id: str = "") -> DiagnosticArray:
    """The supervisor's status (``SafetySupervisor.status``) as a one-entry DiagnosticArray."""
    state = values.get("state", "starting")
    message = state
    if values.get("active", "none") != "none":
        message += f" ({values['active']})"
    status = DiagnosticStatus(
        level=_level(STATE_LEVELS.get(state, Level.WARN)),
        name="safety",
        message=message,
        hardware_id=hardware_id,
        values=[KeyValue(key=k, value=v) for k, v in values.items()],
    )
    array = DiagnosticArray(status=[status])
    array.header.stamp = stamp
    return array


def event_values(msg: Any) -> dict[str, str]:
    """The KeyValue pairs of an event or status message as a dict."""
    return {kv.key: kv.value for kv in msg.values}
