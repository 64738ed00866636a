"""Typed, validated configuration sections built from dataclasses.

A section is a frozen dataclass whose fields are declared with :func:`setting`. Each setting
carries its documentation (shown as the ROS parameter description and in ``check_profile``),
and optional bounds or choices. :func:`build_section` turns an untrusted mapping (a YAML block,
or flattened ROS parameters) into a section, collecting *every* problem with its dotted path so
that a robot operator fixes a profile in one pass rather than one error at a time.

Supported field types: ``bool``, ``int``, ``float``, ``str``, ``list[float]``, ``list[int]``,
``list[str]`` and nested section dataclasses. ROS 2 parameters cannot hold nested structures, so
nested sections are flattened with dotted names (``zones.stop.enabled``), as Nav2 does.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import typing
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from fw_common.errors import ProfileError

__all__ = [
    "ParameterValue",
    "SettingInfo",
    "build_section",
    "flatten_section",
    "iter_settings",
    "section_from_flat",
    "setting",
]

S = TypeVar("S")

#: The value types a ROS 2 parameter can hold that sections use.
ParameterValue = bool | int | float | str | list[bool] | list[int] | list[float] | list[str]

_META_KEY = "fw_setting"


@dataclasses.dataclass(frozen=True)
class SettingInfo:
    """Documentation and bounds of one setting."""

    doc: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    #: Minimum and maximum list length (for list settings).
    min_length: int | None = None
    max_length: int | None = None
    #: Read only after start: the node refuses runtime changes of this setting.
    read_only: bool = False


def setting(
    default: Any,
    doc: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: Sequence[str] | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    read_only: bool = False,
) -> Any:
    """Declare a section field with documentation and bounds.

    ``default`` may be a list (copied for each instance) or a nested section instance.
    """
    info = SettingInfo(
        doc=doc,
        minimum=minimum,
        maximum=maximum,
        choices=tuple(choices) if choices is not None else None,
        min_length=min_length,
        max_length=max_length,
        read_only=read_only,
    )
    metadata = {_META_KEY: info}
    if isinstance(default, list):
        frozen = list(default)
        return dataclasses.field(default_factory=lambda: list(frozen), metadata=metadata)
    if dataclasses.is_dataclass(default):
        return dataclasses.field(default_factory=lambda: default, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def _info(field: dataclasses.Field[Any]) -> SettingInfo:
    info = field.metadata.get(_META_KEY)
    if info is None:
        raise TypeError(f"field {field.name!r} was not declared with setting()")
    return typing.cast(SettingInfo, info)


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def iter_settings(cls: type, prefix: str = "") -> typing.Iterator[tuple[str, Any, SettingInfo]]:
    """Yield ``(dotted_name, type, info)`` for every leaf setting of a section class."""
    hints = _hints(cls)
    for field in dataclasses.fields(cls):
        tp = hints[field.name]
        name = prefix + field.name
        if dataclasses.is_dataclass(tp):
            yield from iter_settings(typing.cast(type, tp), name + ".")
        else:
            yield name, tp, _info(field)


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is list:
        (item,) = typing.get_args(tp)
        return f"list of {item.__name__}"
    return str(getattr(tp, "__name__", tp))


def _check_number(value: Any, tp: type, path: str, info: SettingInfo, errors: list[str]) -> Any:
    # bool is an int subclass in Python: `enabled: 1` or `speed: true` are typos, not values.
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.append(f"{path}: expected {tp.__name__}, got {type(value).__name__} {value!r}")
        return None
    if tp is int and isinstance(value, float):
        if not value.is_integer():
            errors.append(f"{path}: expected int, got float {value!r}")
            return None
        value = int(value)
    if tp is float:
        value = float(value)
        if not math.isfinite(value):
            errors.append(f"{path}: must be finite, got {value!r}")
            return None
    if info.minimum is not None and value < info.minimum:
        errors.append(f"{path}: {value!r} is below the minimum {info.minimum!r}")
    if info.maximum is not None and value > info.maximum:
        errors.append(f"{path}: {value!r} is above the maximum {info.maximum!r}")
    return value


def _check_scalar(value: Any, tp: Any, path: str, info: SettingInfo, errors: list[str]) -> Any:
    if tp is bool:
        if not isinstance(value, bool):
            errors.append(f"{path}: expected bool, got {type(value).__name__} {value!r}")
            return None
        return value
    if tp is str:
        if not isinstance(value, str):
            errors.append(f"{path}: expected str, got {type(value).__name__} {value!r}")
            return None
        if info.choices is not None and value not in info.choices:
            errors.append(f"{path}: {value!r} is not one of {', '.join(info.choices)}")
        return value
    if tp in (int, float):
        return _check_number(value, tp, path, info, errors)
    raise TypeError(f"{path}: unsupported setting type {tp!r}")


def _check_value(value: Any, tp: Any, path: str, info: SettingInfo, errors: list[str]) -> Any:
    if typing.get_origin(tp) is list:
        (item_tp,) = typing.get_args(tp)
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            errors.append(f"{path}: expected {_type_name(tp)}, got {type(value).__name__}")
            return None
        n_errors = len(errors)
        item_info = dataclasses.replace(info, choices=info.choices)
        items = [
            _check_scalar(v, item_tp, f"{path}[{i}]", item_info, errors)
            for i, v in enumerate(value)
        ]
        if info.min_length is not None and len(items) < info.min_length:
            errors.append(f"{path}: needs at least {info.min_length} items, got {len(items)}")
        if info.max_length is not None and len(items) > info.max_length:
            errors.append(f"{path}: takes at most {info.max_length} items, got {len(items)}")
        return items if len(errors) == n_errors else None
    return _check_scalar(value, tp, path, info, errors)


def _build(cls: type[S], data: Any, path: str, errors: list[str]) -> S | None:
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        errors.append(f"{path or '<root>'}: expected a mapping, got {type(data).__name__}")
        return None
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(typing.cast(Any, cls))}
    for key in data:
        if key not in fields:
            hint = difflib.get_close_matches(str(key), fields, n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            known = ", ".join(sorted(fields))
            errors.append(f"{path}{key}: unknown key{suggestion}; known keys: {known}")
    values: dict[str, Any] = {}
    n_errors = len(errors)
    for name, field in fields.items():
        if name not in data:
            continue
        tp = hints[name]
        sub_path = f"{path}{name}"
        if dataclasses.is_dataclass(tp):
            values[name] = _build(typing.cast(type, tp), data[name], sub_path + ".", errors)
        else:
            values[name] = _check_value(data[name], tp, sub_path, _info(field), errors)
    if len(errors) != n_errors:
        return None
    try:
        return cls(**values)
    except (ValueError, ProfileError) as exc:
        # Cross-field rules live in __post_init__ and raise ValueError with a message.
        errors.append(f"{path.rstrip('.') or '<root>'}: {exc}")
        return None


def build_section(cls: type[S], data: Any, path: str = "") -> S:
    """Validate ``data`` against section class ``cls`` and build it.

    Missing keys take their defaults. Raises :class:`ProfileError` listing every problem.
    """
    errors: list[str] = []
    prefix = f"{path}." if path else ""
    section = _build(cls, data, prefix, errors)
    if errors or section is None:
        raise ProfileError(errors)
    return section


def flatten_section(section: Any, prefix: str = "") -> dict[str, ParameterValue]:
    """Flatten a section into dotted ROS 2 parameter names and values."""
    flat: dict[str, ParameterValue] = {}
    for field in dataclasses.fields(section):
        value = getattr(section, field.name)
        name = prefix + field.name
        if dataclasses.is_dataclass(value):
            flat.update(flatten_section(value, name + "."))
        else:
            flat[name] = list(value) if isinstance(value, list) else value
    return flat


def section_from_flat(cls: type[S], flat: Mapping[str, Any], path: str = "") -> S:
    """Rebuild a section from dotted parameter names (the inverse of :func:`flatten_section`)."""
    nested: dict[str, Any] = {}
    for dotted, value in flat.items():
        node = nested
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return build_section(cls, nested, path)
