"""HTML for the report: Jinja2 with autoescaping, so every value from the run folder (robot ids,
reasons, release names) is escaped unless the code marks it as markup, and the filters that
format the report's numbers.

Only two things are ever marked safe: the SVG that matplotlib writes (:mod:`.svg`) and the
HTML of a section this module rendered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from jinja2 import Environment, StrictUndefined
from markupsafe import Markup

from cloud_bridge.report.run_folder import as_float, as_timestamp

__all__ = ["Section", "interval_text", "render", "short_hash"]


@dataclass(frozen=True)
class Section:
    """One section of the report."""

    #: The anchor of its heading (``#evaluation``).
    anchor: str
    title: str
    #: Its content (rendered by :func:`render`).
    body: Markup = field(default_factory=Markup)
    #: What it could not show, each a sentence (a run stopped early, a file missing).
    missing: tuple[str, ...] = ()


def _number(value: Any, digits: int = 3) -> str:
    number = as_float(value)
    return "n/a" if number is None else f"{number:.{digits}g}"


def _percent(value: Any) -> str:
    number = as_float(value)
    return "n/a" if number is None else f"{100 * number:.0f} %"


def interval_text(value: Any, percent: bool = False) -> str:
    """An interval's dict (``value`` or ``rate``, ``low``, ``high``) as ``62 % [40, 80]``."""
    if not isinstance(value, dict):
        return "n/a"
    point = value.get("value", value.get("rate", value.get("mean")))
    low, high = as_float(value.get("low")), as_float(value.get("high"))
    show = _percent if percent else _number
    text = show(point)
    if text == "n/a" or low is None or high is None:
        return text
    if percent:
        return f"{text} [{100 * low:.0f}, {100 * high:.0f}]"
    return f"{text} [{low:.3g}, {high:.3g}]"


def short_hash(value: Any, length: int = 12) -> str:
    """The first ``length`` characters of a hash (the full one goes in a title attribute)."""
    return value[:length] if isinstance(value, str) else "n/a"


def _when(value: Any) -> str:
    """A time (Unix seconds or ISO text) as UTC ``YYYY-MM-DD HH:MM:SS``."""
    seconds = as_timestamp(value)
    if seconds is None or not math.isfinite(seconds):
        return "n/a"
    try:
        moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return "n/a"
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _megabytes(value: Any) -> str:
    number = as_float(value)
    return "n/a" if number is None else f"{number / 1e6:.2f} MB"


_ENV = Environment(
    autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
)
_ENV.filters.update(
    {
        "number": _number,
        "percent": _percent,
        "interval": interval_text,
        "interval_pct": lambda v: interval_text(v, percent=True),
        "short": short_hash,
        "when": _when,
        "megabytes": _megabytes,
    }
)


def render(template: str, **values: Any) -> Markup:
    """``template`` (Jinja2 source) rendered with ``values``, every one escaped unless it is
    :class:`~markupsafe.Markup`."""
    return Markup(_ENV.from_string(template).render(**values))
