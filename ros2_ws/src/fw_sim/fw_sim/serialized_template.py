"""Publishing a message by rewriting its serialized bytes in place.

rclpy converts every field of a message from Python objects to C at each ``publish``, and
setting a field runs the generated type checks: for an ``Imu`` or an ``Odometry`` that is tens
of microseconds with a cold cache, and it all holds the GIL. A high-rate publisher whose
messages keep their shape (the simulator publishes ~300 messages per simulated second, so
~6000 a second at 20× real time) can instead serialize a message once and overwrite only the
fields that change, then hand the bytes to ``Publisher.publish``, which sends serialized data
as it is.

Field offsets are not computed from CDR rules: each slot is located by writing sentinel values
into a copy of the message and finding them in its serialization, and the template then checks
itself by round trip, so any layout the rmw produces either works or fails loudly at start.

Example::

    clock = SerializedTemplate(Clock(), {"stamp": ("clock.sec", "clock.nanosec")})
    clock.write["stamp"](12, 500_000_000)
    publisher.publish(clock.data())
"""

from __future__ import annotations

import array
import struct
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from rclpy.serialization import deserialize_message, serialize_message

__all__ = ["SerializedTemplate"]

#: ROS primitive type → struct format character.
_SCALAR_FORMATS = {
    "double": "d",
    "float": "f",
    "int32": "i",
    "uint32": "I",
    "int64": "q",
    "uint64": "Q",
}


def _field(msg: Any, path: str) -> tuple[Any, str, str]:
    """(parent object, field name, ROS type string) of a dotted field path."""
    *parents, name = path.split(".")
    obj = msg
    for part in parents:
        obj = getattr(obj, part)
    types = obj.get_fields_and_field_types()
    if name not in types:
        raise ValueError(f"{type(msg).__name__} has no field {path!r}")
    return obj, name, types[name]


def _sequence_format(ros_type: str) -> str | None:
    """Element format of ``sequence<T>`` or ``T[N]`` of a supported primitive, else None."""
    if ros_type.startswith("sequence<") and ros_type.endswith(">"):
        element = ros_type[len("sequence<") : -1]
    elif ros_type.endswith("]") and "[" in ros_type:
        element = ros_type[: ros_type.index("[")]
    else:
        return None
    return _SCALAR_FORMATS.get(element)


def _sentinel(fmt: str, k: int) -> float | int:
    """A value whose packed bytes are unlikely to occur by accident (distinct for each k)."""
    if fmt in "df":
        value = 1234.5 + k / 64.0  # exact in float32 too
        return value if fmt == "d" else struct.unpack("<f", struct.pack("<f", value))[0]
    return 0x5A5A0000 + k


@dataclass(frozen=True)
class _Slot:
    offset: int
    packer: struct.Struct  # the whole slot, byte order included
    paths: tuple[str, ...]
    is_array: bool


def _flat(values: Sequence[Any]) -> list[Any]:
    return [v for value in values for v in (value if hasattr(value, "__len__") else [value])]


class SerializedTemplate:
    """A serialized message whose named slots (runs of fields that are contiguous in CDR, or
    one fixed-length numeric array) are rewritten in place.

    ``slots`` maps a slot name to its dotted field paths, e.g. ``{"stamp": ("header.stamp.sec",
    "header.stamp.nanosec")}``; an array slot names one ``sequence<float>``-like field whose
    length stays what it is in ``msg``. Every other field keeps the value it has in ``msg``.
    Raises ``ValueError`` when a slot cannot be located or the round trip check fails.
    """

    def __init__(self, msg: Any, slots: Mapping[str, Sequence[str]]) -> None:
        self._type = type(msg)
        baseline = serialize_message(msg)
        self._order = "<" if baseline[1] & 1 else ">"  # CDR encapsulation: 0x0001 = LE
        self._buffer = bytearray(baseline)
        self._view = memoryview(self._buffer)
        self._slots: dict[str, _Slot] = {}
        probe = deserialize_message(baseline, self._type)  # a copy to write sentinels into
        counter = 0
        for name, slot_paths in slots.items():
            paths = tuple(slot_paths)
            formats, values, is_array = [], [], False
            for path in paths:
                parent, field, ros_type = _field(probe, path)
                element = _sequence_format(ros_type)
                if element is not None:
                    length = len(getattr(parent, field))
                    if len(paths) != 1 or length == 0:
                        raise ValueError(
                            f"slot {name!r}: an array slot is one non-empty array field"
                        )
                    fmt, is_array = element * length, True
                elif ros_type in _SCALAR_FORMATS:
                    fmt = _SCALAR_FORMATS[ros_type]
                else:
                    raise ValueError(f"slot {name!r}: {path} is {ros_type}, not a number")
                sentinels = [_sentinel(c, counter + i) for i, c in enumerate(fmt)]
                counter += len(fmt)
                setattr(parent, field, sentinels if is_array else sentinels[0])
                formats.append(fmt)
                values.extend(sentinels)
            packer = struct.Struct(self._order + "".join(formats))
            data = serialize_message(probe)
            pattern = packer.pack(*values)
            offset = data.find(pattern)
            if offset < 0 or data.find(pattern, offset + 1) >= 0:
                raise ValueError(
                    f"slot {name!r} ({', '.join(paths)}) is not one contiguous run in "
                    f"{self._type.__name__}'s serialization"
                )
            self._slots[name] = _Slot(offset, packer, paths, is_array)
        self._check()
        #: Slot name → the function that writes it (see :meth:`writer`).
        self.write: Mapping[str, Callable[..., None]] = MappingProxyType(
            {name: self.writer(name) for name in self._slots}
        )

    def _check(self) -> None:
        """Write fresh values into every slot and compare the deserialized message."""
        baseline = bytes(self._buffer)
        expected: dict[str, list[Any]] = {}
        for k, (name, slot) in enumerate(self._slots.items()):
            fmt = slot.packer.format[1:]
            values = [_sentinel(c, 100_000 * (k + 1) + i) for i, c in enumerate(fmt)]
            expected[name] = values
            if slot.is_array:  # through the buffer path, the one NumPy arrays take
                self.writer(name)(
                    array.array(fmt[0], values)
                    if sys.byteorder == ("little" if self._order == "<" else "big")
                    else values
                )
            else:
                self.writer(name)(*values)
        decoded = deserialize_message(bytes(self._buffer), self._type)
        for name, values in expected.items():
            got = _flat([getattr(*_field(decoded, p)[:2]) for p in self._slots[name].paths])
            if [float(v) for v in got] != [float(v) for v in values]:
                raise ValueError(f"slot {name!r} does not round-trip through serialization")
        self._buffer[:] = baseline

    def writer(self, name: str) -> Callable[..., None]:
        """A function that writes slot ``name``: scalars as arguments; an array as one tuple or
        list of numbers, or one 1-D C-contiguous buffer (e.g. a NumPy array) of the field's
        element type in native byte order and of the field's length. Anything else raises
        ``ValueError`` (or ``struct.error`` for a value the type cannot hold) and leaves the
        message as it was."""
        slot = self._slots[name]
        offset, end = slot.offset, slot.offset + slot.packer.size
        view, pack = self._view, slot.packer.pack
        if not slot.is_array:

            def write_scalars(*values: Any) -> None:
                view[offset:end] = pack(*values)  # packed first: all or nothing

            return write_scalars
        element = slot.packer.format[1]
        count = len(slot.packer.format) - 1  # the byte order, then one letter per element
        # Formats a buffer of the element type in the serialization's byte order reports.
        same_order = {"<": "little", ">": "big"}[self._order] == sys.byteorder
        accepted = {element, "@" + element, "=" + element, self._order + element}
        if not same_order:
            accepted = {self._order + element}

        def write_array(data: Any) -> None:
            if isinstance(data, (tuple, list)):
                if len(data) != count:
                    raise ValueError(f"slot {name!r} takes {count} numbers, got {len(data)}")
                view[offset:end] = pack(*data)
                return
            mv = memoryview(data)
            if mv.format not in accepted or mv.ndim != 1 or len(mv) != count:
                raise ValueError(
                    f"slot {name!r} takes {count} of {element!r} in {self._order!r} byte "
                    f"order, got shape {mv.shape} of {mv.format!r}"
                )
            view[offset:end] = mv.cast("B")

        return write_array

    def data(self) -> bytes:
        """The serialized message as it stands now (a copy, safe to publish)."""
        return bytes(self._buffer)

    def message(self) -> Any:
        """The message as it stands now, deserialized (for tests and logging)."""
        return deserialize_message(bytes(self._buffer), self._type)
