"""QoS profiles by class of topic.

Choose by what the data *is*, never per call site:

* **sensor** data (scans, IMU, joint states, clock-rate streams): best effort, keep last few.
  A late sample is worthless, a retransmission only adds latency.
* **integrated** sensor data (IMU and wheel odometry into the state filter): best effort as well,
  but a deep history. A filter that integrates a stream needs every sample: a lost gyro sample is
  a permanent heading error, not merely a stale value. Sensor drivers (USB IMUs) and a subscriber
  back from a stall deliver bursts, which a depth of 5 (25 ms of a 200 Hz IMU) cannot hold.
* **command** topics (velocity and wheel commands): reliable, keep last 1. Only the newest command
  matters, but it must not be silently dropped on a lossy link.
* **event** topics (safety interventions, collisions): reliable, a deep history, so that a burst of
  events reaches the recorder and the cloud agent intact.
* **latched** state (policy info, e-stop, scenario, goal): reliable + transient-local, depth 1, so
  a node that joins late receives the current value.

Subscribers use the same profiles; reliable subscribers would not match best-effort publishers.
"""

from __future__ import annotations

from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
)

__all__ = ["COMMAND", "EVENT", "INTEGRATED_SENSOR", "LATCHED", "SENSOR", "STATUS", "sensor_qos"]


def sensor_qos(depth: int = 5) -> QoSProfile:
    """Best-effort, volatile, keep-last ``depth``: the ``SensorDataQoS`` of rclcpp."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=depth,
        reliability=ReliabilityPolicy.BEST_EFFORT,
        durability=DurabilityPolicy.VOLATILE,
    )


SENSOR = sensor_qos()

#: 50 samples: 250 ms of a 200 Hz IMU, 1 s of 50 Hz odometry.
INTEGRATED_SENSOR = sensor_qos(depth=50)

COMMAND = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)

#: Periodic status (diagnostics): reliable, shallow.
STATUS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=10,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)

EVENT = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=100,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)

LATCHED = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
