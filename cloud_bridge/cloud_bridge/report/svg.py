"""Plots as inline SVG: matplotlib's SVG backend, text drawn as paths (no font to load), and
nothing that points outside the page.

Each figure gets its own ``svg.hashsalt`` (its name), so the ids of its clip paths are the same
on every run and differ from the other figures' on the page. The XML prolog, the metadata and
the comments (where matplotlib repeats the text it drew) are removed: the page needs none of
them, and run-folder strings then reach the page only as glyph outlines.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

import matplotlib
from markupsafe import Markup
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cloud_bridge.report.run_folder import as_float

__all__ = ["colour_of", "figure", "interval_panel", "plot_label", "to_svg"]

#: matplotlib's default colour cycle (tab10), one colour per release in every plot.
_PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
_PROLOG = re.compile(r"^.*?(?=<svg[\s>])", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
# matplotlib writes comments with "--" escaped, so the first "-->" ends each one.
_COMMENT = re.compile(r"<!--.*?-->\s*", re.DOTALL)


def colour_of(name: str, names: Sequence[str]) -> str:
    """The colour of ``name`` among ``names`` (its index in the palette, cycling)."""
    index = list(names).index(name) if name in names else len(names)
    return _PALETTE[index % len(_PALETTE)]


def plot_label(text: str, limit: int = 24) -> str:
    """``text`` cut to ``limit`` characters for an axis, legend or annotation (tables show it
    whole), its ``$`` escaped: matplotlib reads text between two ``$`` as mathtext, and a
    name like ``r$\\nosuchcmd$`` would fail the whole plot."""
    cut = text if len(text) <= limit else text[: limit - 1] + "…"
    return cut.replace("$", r"\$")


def figure(width: float, height: float) -> Figure:
    """A new figure (inches), not attached to pyplot (no global state, no GUI)."""
    return Figure(figsize=(width, height), layout="constrained")


def to_svg(fig: Figure, name: str) -> Markup:
    """``fig`` as an ``<svg>`` element to place in the page."""
    out = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"fw-report-{name}", "svg.fonttype": "path"}):
        fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    text = _COMMENT.sub("", _METADATA.sub("", _PROLOG.sub("", out.getvalue(), count=1)))
    return Markup(text.replace("<svg ", f'<svg role="img" aria-label="{name}" ', 1))


def interval_panel(
    ax: Axes,
    names: Sequence[str],
    intervals: Sequence[Any],
    title: str,
    *,
    percent: bool = False,
    colours: Sequence[str] | None = None,
) -> None:
    """One point with its interval per name (``intervals``: dicts with a value or rate, low and
    high; others are left out)."""
    scale = 100.0 if percent else 1.0
    for i, interval in enumerate(intervals):
        if not isinstance(interval, dict):
            continue
        value = as_float(interval.get("value", interval.get("rate", interval.get("mean"))))
        if value is None:
            continue
        low = as_float(interval.get("low"))
        high = as_float(interval.get("high"))
        errors = None
        if low is not None and high is not None:
            errors = [[max(0.0, value - low) * scale], [max(0.0, high - value) * scale]]
        colour = colours[i] if colours is not None else _PALETTE[i % len(_PALETTE)]
        ax.errorbar(
            [i], [value * scale], yerr=errors, fmt="o", color=colour, capsize=5, markersize=7
        )
    ax.set_xticks(range(len(names)), [plot_label(str(n)) for n in names])
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_title(title, fontsize=10)
    if percent:
        ax.set_ylim(-5, 105)
    ax.grid(axis="y", alpha=0.3)
