"""The simulator's ``joint_states`` as deterministic CDR bytes, serialized with rosbags.

rmw_fastrtps serializes with Fast CDR, which leaves alignment padding uninitialised and, after
an empty ``float64[]`` at the end of a message (``effort``, which the simulator does not
measure), appends 4 such bytes (eProsima/Fast-CDR#299). Recorded, those bytes differed from
run to run, and rosbags refused them ("CDR message size mismatch"). rosbags' serializer
zero-fills padding and appends nothing, so the simulator publishes the bytes it makes (rclpy
publishes ``bytes`` as they are): the same state gives the same bytes, every reader decodes
them, and ``effort`` stays empty, as REP/JointState asks of a quantity that is not measured.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rosbags.typesys import Stores, get_typestore

__all__ = ["JointStateSerializer"]

_TYPESTORE = get_typestore(Stores.ROS2_KILTED)
_JOINT_STATE = "sensor_msgs/msg/JointState"


class JointStateSerializer:
    """``sensor_msgs/msg/JointState`` bytes of one fixed set of joints."""

    def __init__(self, names: Sequence[str], frame_id: str = "") -> None:
        types = _TYPESTORE.types
        self._names = list(names)
        self._frame_id = frame_id
        self._header = types["std_msgs/msg/Header"]
        self._time = types["builtin_interfaces/msg/Time"]
        self._msg = types[_JOINT_STATE]
        self._no_effort = np.zeros(0, dtype=np.float64)

    def serialize(
        self,
        sec: int,
        nanosec: int,
        positions: Sequence[float],
        velocities: Sequence[float],
    ) -> bytes:
        """CDR (little endian) of the joints at stamp ``sec``.``nanosec``: positions (rad),
        velocities (rad/s), both in ``names`` order. Raises ValueError on a length mismatch."""
        count = len(self._names)
        if len(positions) != count or len(velocities) != count:
            raise ValueError(
                f"{count} joints, {len(positions)} positions, {len(velocities)} velocities"
            )
        msg = self._msg(
            header=self._header(
                stamp=self._time(sec=sec, nanosec=nanosec), frame_id=self._frame_id
            ),
            name=self._names,
            position=np.asarray(positions, dtype=np.float64),
            velocity=np.asarray(velocities, dtype=np.float64),
            effort=self._no_effort,
        )
        return bytes(_TYPESTORE.serialize_cdr(msg, _JOINT_STATE))
