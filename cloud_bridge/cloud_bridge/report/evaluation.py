"""The held-out evaluation of each release (``evaluate/<release>.json``): success, collision and
intervention rates with their intervals, and the gate's decisions (``evaluate/gate-*.json``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cloud_bridge.report.html import Section, render
from cloud_bridge.report.run_folder import RunFolder, as_int, as_str, release_order
from cloud_bridge.report.svg import colour_of, figure, interval_panel, to_svg

__all__ = ["ReleaseEvaluation", "evaluation_section", "gate_section", "load_evaluations"]

_GATE_PREFIX = "gate-"


@dataclass(frozen=True)
class ReleaseEvaluation:
    """One release's evaluation report (``EvaluationReport.to_dict()``)."""

    release: str
    report: dict[str, Any]

    @property
    def summary(self) -> dict[str, Any]:
        summary = self.report.get("summary")
        return summary if isinstance(summary, dict) else {}

    @property
    def episodes(self) -> list[dict[str, Any]]:
        rows = self.report.get("episodes")
        return [e for e in rows if isinstance(e, dict)] if isinstance(rows, list) else []

    def episode(self, seed: int) -> dict[str, Any] | None:
        """The row of ``seed``'s episode, if it ran."""
        for row in self.episodes:
            if as_int(row.get("seed")) == seed:
                return row
        return None

    @property
    def family(self) -> str:
        return as_str(self.report.get("family"), "open")

    @property
    def policy(self) -> str:
        """What drove: the policy's kind and model version, or its reference."""
        policy = self.report.get("policy")
        if not isinstance(policy, dict):
            return ""
        parts = [as_str(policy.get("kind")), as_str(policy.get("model_version"))]
        return " ".join(p for p in parts if p) or as_str(policy.get("ref"))


def load_evaluations(run: RunFolder) -> list[ReleaseEvaluation]:
    """Every release's evaluation in the run, ``classic`` first, then by release number.

    A file written by ``flywheel evaluate --json`` (the candidate nested under ``candidate``)
    is read too.
    """
    found = []
    for path in run.files("evaluate/*.json"):
        if path.stem.startswith(_GATE_PREFIX):
            continue
        data = run.read_json(path.relative_to(run.root))
        if isinstance(data, dict) and isinstance(data.get("candidate"), dict):
            data = data["candidate"]
        if not isinstance(data, dict) or not isinstance(data.get("summary"), dict):
            if data is not None:
                run.problems.append(f"evaluate/{path.name}: not an evaluation report")
            continue
        found.append(ReleaseEvaluation(path.stem, data))
    return sorted(found, key=lambda e: release_order(e.release))


_EVALUATION = """
<p>Each release on the same held-out scenarios ({{ family }}), with the
{{ confidence }} confidence interval of each figure in brackets.</p>
{{ plot }}
<table>
<thead><tr><th>release</th><th>policy</th><th>scenarios</th><th>success</th>
<th>collisions</th><th>interventions / 100 m</th><th>time to goal (s)</th>
<th>distance (m)</th></tr></thead>
<tbody>
{% for e in rows %}
<tr><td class="release">{{ e.release }}</td><td>{{ e.policy }}</td>
<td class="num">{{ e.summary.get("episodes", "n/a") }}</td>
<td class="num">{{ e.summary.get("success_rate") | interval_pct }}</td>
<td class="num">{{ e.summary.get("collision_rate") | interval_pct }}</td>
<td class="num">{{ e.summary.get("interventions_per_100m") | interval }}</td>
<td class="num">{{ e.summary.get("time_to_goal_s") | interval }}</td>
<td class="num">{{ e.summary.get("distance_m") | number(4) }}</td></tr>
{% endfor %}
</tbody></table>
"""


def evaluation_section(evaluations: list[ReleaseEvaluation]) -> Section:
    title = "Held-out evaluation per release"
    if not evaluations:
        return Section(
            "evaluation",
            title,
            missing=("No evaluation in evaluate/: the run stopped before its first evaluation.",),
        )
    names = [e.release for e in evaluations]
    colours = [colour_of(n, names) for n in names]
    fig = figure(10.0, 3.0)
    axes = fig.subplots(1, 3)
    panels = (
        ("success_rate", "success rate (%)", True),
        ("collision_rate", "collision rate (%)", True),
        ("interventions_per_100m", "safety interventions / 100 m", False),
    )
    for ax, (key, label, percent) in zip(axes, panels, strict=True):
        intervals = [e.summary.get(key) for e in evaluations]
        interval_panel(ax, names, intervals, label, percent=percent, colours=colours)
    confidence = evaluations[0].summary.get("confidence")
    families = sorted({e.family for e in evaluations})
    body = render(
        _EVALUATION,
        rows=evaluations,
        plot=to_svg(fig, "evaluation"),
        family=", ".join(families),
        confidence=f"{100 * confidence:.0f} %" if isinstance(confidence, float) else "95 %",
    )
    return Section("evaluation", title, body)


_GATES = """
<table>
<thead><tr><th>candidate</th><th>baseline</th><th>decision</th><th>reasons</th>
<th>thresholds</th></tr></thead>
<tbody>
{% for g in gates %}
<tr><td class="release">{{ g.candidate }}</td><td>{{ g.baseline }}</td>
<td class="{{ 'pass' if g.passed else 'fail' }}">{{ 'passed' if g.passed else 'refused' }}</td>
<td>{% if g.reasons %}<ul>{% for r in g.reasons %}<li>{{ r }}</li>{% endfor %}</ul>
{% else %}every check passed{% endif %}</td>
<td>{% for k, v in g.config %}{{ k }} = {{ v }}{% if not loop.last %}<br>{% endif %}
{% endfor %}</td></tr>
{% endfor %}
</tbody></table>
"""


@dataclass(frozen=True)
class _Gate:
    """One gate decision, as the page shows it."""

    candidate: str
    baseline: str
    passed: bool
    reasons: list[str]
    #: (threshold, value) pairs.
    config: list[tuple[str, str]]


def gate_section(run: RunFolder) -> Section:
    title = "Gate decisions"
    gates = []
    for path in run.files(f"evaluate/{_GATE_PREFIX}*.json"):
        data = run.read_json(path.relative_to(run.root))
        if not isinstance(data, dict):
            continue
        reasons = data.get("reasons")
        config = data.get("config")
        gates.append(
            _Gate(
                candidate=as_str(data.get("candidate"), path.stem[len(_GATE_PREFIX) :]),
                baseline=as_str(data.get("baseline"), "none"),
                passed=data.get("passed") is True,
                reasons=[as_str(r) for r in reasons] if isinstance(reasons, list) else [],
                config=sorted(
                    (as_str(k), as_str(v, "?"))
                    for k, v in (config.items() if isinstance(config, dict) else ())
                    if v is not None
                ),
            )
        )
    if not gates:
        return Section(
            "gates", title, missing=("No gate decision in evaluate/ (evaluate/gate-*.json).",)
        )
    gates.sort(key=lambda g: release_order(g.candidate))
    return Section("gates", title, render(_GATES, gates=gates))
