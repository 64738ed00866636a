"""How each release drove in the field: the robots' mission episodes
(``robots/<id>/mission.jsonl``), per release, with Wilson intervals on the rates.

What a line counts for:

- a line with an ``error`` (the simulator did not answer, the episode could not be recorded)
  is an infrastructure failure: counted on its own, not as the release failing its seed;
- ``supervisor_mode`` says who drove: ``drive`` is the expert driving every step (iteration 0),
  its own row whatever release was active; ``supervise`` is the release with the expert's
  take-overs, a row of its own next to the release's unsupervised one. A line without the key
  (older robots) counts as the release driving alone;
- a robot restarted mid-mission drives its seeds again: the same robot, seed and release
  count once, by the last line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cloud_bridge.evaluate.episode import INTERVENTION_KINDS
from cloud_bridge.evaluate.intervals import wilson
from cloud_bridge.report.html import Section, render
from cloud_bridge.report.run_folder import RunFolder, as_float, as_int, as_str, release_order

__all__ = ["mission_section"]

_MISSIONS = """
<p>Episodes the robots drove on their missions, by the release that was active: "expert
(teleop)" is the expert driving every step, "(supervised)" the release with the expert's
take-overs (its take-over steps). A seed a robot drove again after a restart counts once (its
last episode); an episode the infrastructure failed (the simulator, the recorder) is counted
apart, not as the release failing it.</p>
<table>
<thead><tr><th>release</th><th>robots</th><th>episodes</th><th>reached</th>
<th>with a collision</th><th>safety interventions</th><th>take-over steps</th>
<th>distance (m)</th><th>infrastructure failures</th></tr></thead>
<tbody>
{% for r in rows %}
<tr><td class="release">{{ r.label }}</td><td>{{ r.robots | sort | join(", ") }}</td>
<td class="num">{{ r.episodes }}</td><td class="num">{{ r.reached | interval_pct }}</td>
<td class="num">{{ r.collided | interval_pct }}</td><td class="num">{{ r.interventions }}</td>
<td class="num">{{ r.takeovers }}</td><td class="num">{{ r.distance | number(4) }}</td>
<td class="num">{{ r.failures }}</td></tr>
{% endfor %}
</tbody></table>
"""


#: ``supervisor_mode`` of an episode the expert drove throughout, and of one with take-overs.
_EXPERT_DRIVES = "drive"
_SUPERVISED = "supervise"
_EXPERT_ROW = "expert (teleop)"


@dataclass
class _Release:
    #: The row's name on the page.
    label: str
    #: Where the row sorts: the expert first, then by release, each release before its
    #: supervised row.
    order: tuple[Any, ...]
    robots: set[str] = field(default_factory=set)
    episodes: int = 0
    failures: int = 0
    reached_count: int = 0
    collided_count: int = 0
    interventions: int = 0
    takeovers: int = 0
    distance: float = 0.0

    @property
    def reached(self) -> dict[str, float]:
        return wilson(self.reached_count, self.episodes).to_dict()

    @property
    def collided(self) -> dict[str, float]:
        return wilson(self.collided_count, self.episodes).to_dict()


def mission_section(run: RunFolder) -> Section:
    title = "Missions in the field"
    logs = sorted((run.root / "robots").glob("*/mission.jsonl"))
    if not logs:
        return Section(
            "missions", title, missing=("No robots/*/mission.jsonl: no mission was driven.",)
        )
    # The last line of each (robot, seed, release): a restarted robot re-drives its seeds.
    lines: dict[tuple[str, Any, str], dict[str, Any]] = {}
    for log in logs:
        for row in run.read_jsonl(log.relative_to(run.root).as_posix()) or []:
            if row.get("done") is True or ("reached" not in row and "error" not in row):
                continue
            robot = as_str(row.get("robot_id"), log.parent.name)
            seed = as_int(row.get("seed"))
            release = as_str(row.get("release"), "?") or "?"
            # A line without a seed cannot be matched to another: it counts on its own.
            key = (robot, seed if seed is not None else object(), release)
            lines[key] = row
    releases: dict[str, _Release] = {}
    for (robot, _, release), row in lines.items():
        entry = _row_of(releases, release, as_str(row.get("supervisor_mode")))
        entry.robots.add(robot)
        if row.get("error") is not None:
            entry.failures += 1
            continue
        entry.episodes += 1
        entry.reached_count += row.get("reached") is True
        entry.collided_count += (as_int(row.get("collisions")) or 0) > 0
        kinds = row.get("interventions")
        if isinstance(kinds, dict):
            entry.interventions += sum(
                max(0, as_int(n) or 0) for k, n in kinds.items() if k in INTERVENTION_KINDS
            )
        entry.takeovers += max(0, as_int(row.get("takeover_steps")) or 0)
        entry.distance += max(0.0, as_float(row.get("path_length_m")) or 0.0)
    if not releases:
        return Section("missions", title, missing=("The mission logs hold no episode yet.",))
    rows = sorted(releases.values(), key=lambda r: r.order)
    return Section("missions", title, render(_MISSIONS, rows=rows))


def _row_of(rows: dict[str, _Release], release: str, mode: str) -> _Release:
    """The row an episode of ``release`` driven in supervisor ``mode`` counts in."""
    order: tuple[Any, ...]
    if mode == _EXPERT_DRIVES:
        label, order = _EXPERT_ROW, (0,)
    elif mode == _SUPERVISED:
        label, order = f"{release} (supervised)", (1, release_order(release), 1)
    else:
        label, order = release, (1, release_order(release), 0)
    return rows.setdefault(label, _Release(label, order))
