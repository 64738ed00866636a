"""The swap and rollback timeline: what was published, promoted and rolled back
(``releases.json``), and when each robot swapped or rolled back (``timeline.jsonl``, the
orchestrator's samples of the agents' status objects)."""

from __future__ import annotations

from typing import Any

from cloud_bridge.report.html import Section, render
from cloud_bridge.report.run_folder import (
    RunFolder,
    as_str,
    as_timestamp,
    release_order,
    time_origin,
)
from cloud_bridge.report.svg import colour_of, figure, plot_label, to_svg

__all__ = ["load_releases", "timeline_section"]

#: The lane of the publisher's actions, above the robots'.
_PUBLISHER = "releases"
#: Marker per event: publish ▲, promote ◆, swap ●, rollback ✕.
_MARKERS = {"publish": "^", "promote": "D", "swap": "o", "rollback": "X"}

_TIMELINE = """
<p>Minutes since {{ origin | when }} UTC. Top lane: the publisher's actions
(▲ publish, ◆ promote, ✕ rollback); one lane per robot: its agent's swaps (●) and rollbacks (✕),
coloured by the release it runs after the event.</p>
{{ plot }}
<table>
<thead><tr><th>time (UTC)</th><th>who</th><th>event</th><th>release</th><th>previous</th>
<th>channel</th><th>problem</th></tr></thead>
<tbody>
{% for e in events %}
<tr class="{{ 'rollback' if e.event == 'rollback' else '' }}">
<td class="time">{{ e.time | when }}</td>
<td class="robot">{{ e.who }}</td><td>{{ e.event }}{% if e.faulty %} (faulty){% endif %}</td>
<td class="release">{{ e.release }}</td><td>{{ e.previous }}</td><td>{{ e.channel }}</td>
<td>{{ e.problem }}</td></tr>
{% endfor %}
</tbody></table>
{% if quiet %}<p>{{ quiet }} status sample(s) with no change and no problem are not listed.</p>
{% endif %}
"""


def load_releases(run: RunFolder) -> list[dict[str, Any]] | None:
    """``releases.json``'s entries (objects only); ``None`` when it is missing."""
    data = run.read_json("releases.json")
    if data is None:
        return None
    if not isinstance(data, list):
        run.problems.append("releases.json: not a list of releases")
        return []
    return [entry for entry in data if isinstance(entry, dict)]


def _events(run: RunFolder) -> tuple[list[dict[str, Any]], list[str], int]:
    """Every timed event, in time order; what is missing; the quiet status samples."""
    missing: list[str] = []
    events: list[dict[str, Any]] = []
    releases = load_releases(run)
    if releases is None:
        missing.append("releases.json is missing: nothing was published yet.")
    for entry in releases or []:
        when = as_timestamp(entry.get("time"))
        if when is None:
            continue
        events.append(
            {
                "time": when,
                "who": _PUBLISHER,
                "event": as_str(entry.get("action"), "publish"),
                "release": as_str(entry.get("release")),
                "previous": as_str(entry.get("parent")),
                "channel": as_str(entry.get("channel")),
                "problem": "",
                "faulty": entry.get("faulty") is True,
            }
        )
    samples = run.read_jsonl("timeline.jsonl")
    if samples is None:
        missing.append("timeline.jsonl is missing: no agent status was sampled.")
    quiet = 0
    for sample in samples or []:
        when = as_timestamp(sample.get("time"))
        robot = as_str(sample.get("robot_id"))
        if when is None or not robot:
            continue
        event = as_str(sample.get("event"), "status")
        problem = as_str(sample.get("problem"))
        if event == "status" and not problem:
            quiet += 1
            continue
        events.append(
            {
                "time": when,
                "who": robot,
                "event": event,
                "release": as_str(sample.get("active")),
                "previous": as_str(sample.get("previous")),
                "channel": as_str(sample.get("channel")),
                "problem": problem,
                "faulty": False,
            }
        )
    events.sort(key=lambda e: (e["time"], e["who"]))
    return events, missing, quiet


def timeline_section(run: RunFolder) -> Section:
    title = "Swaps and rollbacks"
    events, missing, quiet = _events(run)
    if not events:
        return Section("timeline", title, missing=(*missing, "No swap, rollback or release."))
    origin = time_origin(run, [e["time"] for e in events])
    assert origin is not None  # there are events
    robots = sorted({e["who"] for e in events if e["who"] != _PUBLISHER})
    lanes = [_PUBLISHER, *robots]
    releases = sorted({e["release"] for e in events if e["release"]}, key=release_order)
    fig = figure(10.0, 1.0 + 0.55 * len(lanes))
    ax = fig.subplots()
    for event in events:
        lane = len(lanes) - 1 - lanes.index(event["who"])
        marker = _MARKERS.get(event["event"], "|")
        rollback = event["event"] == "rollback" or event["faulty"]
        colour = "#d62728" if rollback else colour_of(event["release"], releases)
        minute = (event["time"] - origin) / 60.0
        ax.plot([minute], [lane], marker, color=colour, markersize=9)
        if event["release"] and event["event"] != "status":
            ax.annotate(plot_label(event["release"]), (minute, lane), xytext=(0, 8),
                        textcoords="offset points", ha="center", fontsize=7)  # fmt: skip
    ax.set_yticks(range(len(lanes)), [plot_label(n) for n in reversed(lanes)])
    ax.set_ylim(-0.7, len(lanes) - 0.3)
    ax.set_xlabel("minutes into the run")
    ax.grid(axis="x", alpha=0.3)
    body = render(_TIMELINE, events=events, origin=origin, quiet=quiet,
                  plot=to_svg(fig, "timeline"))  # fmt: skip
    return Section("timeline", title, body, tuple(missing))
