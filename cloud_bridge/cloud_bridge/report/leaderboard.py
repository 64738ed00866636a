"""The leaderboard: every release (classic, BC, DAgger, PPO) on the same held-out "race"
scenarios, with time to goal and collisions (``leaderboard.json``, written by
:func:`cloud_bridge.evaluate.leaderboard.leaderboard`).

The page keeps the file's order and shows each entry's ``rank`` as the file gives it: the
ranking is the leaderboard's own (success, then collisions, then time to goal), not the
report's to redo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cloud_bridge.report.html import Section, render
from cloud_bridge.report.run_folder import RunFolder, as_int, as_str
from cloud_bridge.report.svg import colour_of, figure, interval_panel, to_svg

__all__ = ["leaderboard_section"]

_LEADERBOARD = """
<p>{{ count }} scenario(s){% if seed_set %} of the "{{ seed_set }}" seed set{% endif %}
{%- if family %} in the "{{ family }}" family{% endif %}, the same for every entry
{%- if seeds %} (seeds {{ seeds }}){% endif %}; ranked by success rate, then collision rate,
then time to goal.</p>
{{ plot }}
<table>
<thead><tr><th>rank</th><th>release</th><th>kind</th><th>success</th>
<th>time to goal (s)</th><th>collisions</th><th>episodes</th></tr></thead>
<tbody>
{% for e in entries %}
<tr><td class="num">{{ e.rank }}</td><td class="release">{{ e.release }}</td>
<td>{{ e.kind }}</td><td class="num">{{ e.success | interval_pct }}</td>
<td class="num">{{ e.time | interval }}</td><td class="num">{{ e.collisions | interval_pct }}</td>
<td class="num">{{ e.n }}</td></tr>
{% endfor %}
</tbody></table>
"""


@dataclass(frozen=True)
class _Entry:
    """One leaderboard row: intervals as ``leaderboard.json`` has them."""

    rank: str
    release: str
    kind: str
    success: Any
    time: Any
    collisions: Any
    n: str


def leaderboard_section(run: RunFolder) -> Section:
    title = "Leaderboard"
    data = run.read_json("leaderboard.json")
    if not isinstance(data, dict):
        return Section(
            "leaderboard",
            title,
            missing=("leaderboard.json is missing: the run has not ranked its releases.",),
        )
    raw = data.get("entries")
    entries = [
        _Entry(
            rank=as_str(as_int(e.get("rank")), "n/a"),
            release=as_str(e.get("release"), "?"),
            kind=as_str(e.get("kind")),
            success=e.get("success"),
            time=e.get("time_to_goal_s"),
            collisions=e.get("collisions"),
            n=as_str(as_int(e.get("n")), "n/a"),
        )
        for e in (raw if isinstance(raw, list) else [])
        if isinstance(e, dict)
    ]
    if not entries:
        return Section("leaderboard", title, missing=("leaderboard.json lists no entry.",))
    seeds = data.get("seeds")
    seed_list = [as_str(s) for s in seeds] if isinstance(seeds, list) else []
    names = [e.release for e in entries]
    fig = figure(10.0, 2.8)
    left, right = fig.subplots(1, 2)
    colours = [colour_of(n, names) for n in names]
    interval_panel(left, names, [e.success for e in entries], "success rate (%)",
                   percent=True, colours=colours)  # fmt: skip
    interval_panel(right, names, [e.time for e in entries], "time to goal (s)",
                   colours=colours)  # fmt: skip
    body = render(
        _LEADERBOARD,
        entries=entries,
        family=as_str(data.get("family")),
        seed_set=as_str(data.get("seed_set")),
        count=len(seed_list) or "the",
        seeds=", ".join(seed_list[:20]) + (" ..." if len(seed_list) > 20 else ""),
        plot=to_svg(fig, "leaderboard"),
    )
    return Section("leaderboard", title, body)
