"""How each release drove in the field: the robots' mission episodes
(``robots/<id>/mission.jsonl``), per release, with Wilson intervals on the rates."""

from __future__ import annotations

from dataclasses import dataclass, field

from cloud_bridge.evaluate.episode import INTERVENTION_KINDS
from cloud_bridge.evaluate.intervals import wilson
from cloud_bridge.report.html import Section, render
from cloud_bridge.report.run_folder import RunFolder, as_float, as_int, as_str, release_order

__all__ = ["mission_section"]

_MISSIONS = """
<p>Episodes the robots drove on their missions (the expert drove iteration 0's; take-over
steps are the expert's during supervised ones), by the release that was active.</p>
<table>
<thead><tr><th>release</th><th>robots</th><th>episodes</th><th>reached</th>
<th>with a collision</th><th>safety interventions</th><th>take-over steps</th>
<th>distance (m)</th></tr></thead>
<tbody>
{% for r in rows %}
<tr><td class="release">{{ r.release }}</td><td>{{ r.robots | sort | join(", ") }}</td>
<td class="num">{{ r.episodes }}</td><td class="num">{{ r.reached | interval_pct }}</td>
<td class="num">{{ r.collided | interval_pct }}</td><td class="num">{{ r.interventions }}</td>
<td class="num">{{ r.takeovers }}</td><td class="num">{{ r.distance | number(4) }}</td></tr>
{% endfor %}
</tbody></table>
"""


@dataclass
class _Release:
    release: str
    robots: set[str] = field(default_factory=set)
    episodes: int = 0
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
    releases: dict[str, _Release] = {}
    for log in logs:
        for row in run.read_jsonl(log.relative_to(run.root).as_posix()) or []:
            if row.get("done") is True or "reached" not in row:
                continue
            name = as_str(row.get("release"), "?") or "?"
            entry = releases.setdefault(name, _Release(name))
            entry.robots.add(as_str(row.get("robot_id"), log.parent.name))
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
    rows = sorted(releases.values(), key=lambda r: release_order(r.release))
    return Section("missions", title, render(_MISSIONS, rows=rows))
