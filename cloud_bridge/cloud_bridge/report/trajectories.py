"""Trajectories on the scenario maps: for the first held-out scenarios, the map that
``fw_sim``'s generator draws for the seed and family (walls, obstacles, start, goal) with each
release's evaluation path on it.

The map is regenerated from the robot profile (``run.json``'s ``options.profile``, else the
shipped ``sim`` profile); a path that does not begin at the map's start says the run used
another scenario configuration, and the section says so rather than draw a wrong map.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Polygon, Rectangle

from cloud_bridge.evaluate.seeds import scenario_config
from cloud_bridge.report.evaluation import ReleaseEvaluation
from cloud_bridge.report.html import Section, render
from cloud_bridge.report.run_folder import RunFolder, as_float, as_int
from cloud_bridge.report.svg import colour_of, figure, plot_label, to_svg
from fw_bringup.headless import REACHED_RADIUS
from fw_bringup.node_parameters import default_profile_path
from fw_common.profile import RobotProfile, load_profile
from fw_sim.errors import ScenarioError
from fw_sim.layout import Obstacle, Scenario
from fw_sim.scenario import generate_scenario

__all__ = ["MAX_MAPS", "trajectory_section"]

_log = logging.getLogger(__name__)

#: Scenarios drawn (the first ones of the evaluation's seed list): enough to see how each
#: release drives, few enough to keep the page light.
MAX_MAPS = 6
#: A path whose first point is farther than this from the map's start (m) was not driven on
#: this map.
_START_TOLERANCE = 0.5
_COLUMNS = 3

_TRAJECTORIES = """
<p>The first {{ shown }} of {{ total }} held-out scenarios, each release's path on the map of
its seed (ground truth at about 2 Hz). ■ start, ★ goal (circle: where it counts as reached);
a path ends in ● at the goal, ✕ after a collision, ○ when time ran out.</p>
{{ plot }}
"""


def _profile(run: RunFolder) -> RobotProfile:
    meta = run.read_json("run.json")
    options = meta.get("options") if isinstance(meta, dict) else None
    name = options.get("profile") if isinstance(options, dict) else None
    if isinstance(name, str) and name:
        path = Path(name) if name.endswith((".yaml", ".yml")) else default_profile_path(name)
        try:
            return load_profile(path)
        except Exception as exc:  # any profile error: fall back to the shipped one, and say so
            _log.warning("profile %s not loadable (%s): maps use the sim profile", name, exc)
    return load_profile(default_profile_path("sim"))


def _path(episode: dict[str, Any]) -> list[tuple[float, float]]:
    points = episode.get("path")
    if not isinstance(points, list):
        return []
    out = []
    for point in points:
        if isinstance(point, list | tuple) and len(point) == 2:
            x, y = as_float(point[0]), as_float(point[1])
            if x is not None and y is not None:
                out.append((x, y))
    return out


def _draw_obstacle(ax: Axes, obstacle: Obstacle) -> None:
    style = {"facecolor": "#9a9a9a", "edgecolor": "#555555", "linewidth": 0.5}
    if obstacle.kind == "cylinder":
        ax.add_patch(Circle((obstacle.x, obstacle.y), obstacle.radius, **style))
        return
    c, s = math.cos(obstacle.yaw), math.sin(obstacle.yaw)
    hx, hy = 0.5 * obstacle.size_x, 0.5 * obstacle.size_y
    corners = [
        (obstacle.x + c * dx - s * dy, obstacle.y + s * dx + c * dy)
        for dx, dy in ((hx, hy), (-hx, hy), (-hx, -hy), (hx, -hy))
    ]
    ax.add_patch(Polygon(corners, closed=True, **style))


def _draw_map(ax: Axes, scenario: Scenario) -> None:
    half = 0.5 * scenario.arena_size
    ax.add_patch(
        Rectangle((-half, -half), 2 * half, 2 * half, fill=False, linestyle="--", color="#bbbbbb")
    )
    for obstacle in scenario.obstacles:
        _draw_obstacle(ax, obstacle)
    start, goal = scenario.start, scenario.goal
    ax.plot([start.x], [start.y], "s", color="black", markersize=6)
    ax.arrow(
        start.x, start.y, 0.6 * math.cos(start.yaw), 0.6 * math.sin(start.yaw),
        width=0.04, color="black", length_includes_head=True,
    )  # fmt: skip
    ax.add_patch(Circle((goal.x, goal.y), REACHED_RADIUS, fill=False, color="#2ca02c"))
    ax.plot([goal.x], [goal.y], "*", color="#2ca02c", markersize=11)
    margin = 0.5
    ax.set_xlim(-half - margin, half + margin)
    ax.set_ylim(-half - margin, half + margin)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def _end_style(episode: dict[str, Any]) -> dict[str, Any]:
    """The marker of a path's end: ✕ collided, ● reached, ○ ran out of time."""
    if (as_int(episode.get("collisions")) or 0) > 0:
        return {"marker": "X"}
    if episode.get("reached") is True:
        return {"marker": "o"}
    return {"marker": "o", "markerfacecolor": "white"}


def trajectory_section(run: RunFolder, evaluations: list[ReleaseEvaluation]) -> Section:
    title = "Trajectories on the scenario maps"
    if not evaluations:
        return Section(
            "trajectories", title, missing=("No evaluation in evaluate/: no paths to draw.",)
        )
    seeds: list[int] = []
    for evaluation in evaluations:
        for row in evaluation.episodes:
            seed = as_int(row.get("seed"))
            if seed is not None and seed >= 0 and seed not in seeds:
                seeds.append(seed)
    if not seeds:
        return Section("trajectories", title, missing=("The evaluations list no episodes.",))
    shown = seeds[:MAX_MAPS]
    names = [e.release for e in evaluations]
    profile = _profile(run)
    missing: list[str] = []
    no_path: set[str] = set()
    rows = math.ceil(len(shown) / _COLUMNS)
    columns = min(_COLUMNS, len(shown))
    fig = figure(3.3 * columns, 3.3 * rows + 0.4)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[len(shown) :]:
        ax.set_visible(False)
    for ax, seed in zip(axes, shown, strict=False):
        family = evaluations[0].family
        try:
            scenario = generate_scenario(scenario_config(profile.sim.scenario, family), seed)
        except (ScenarioError, ValueError) as exc:
            missing.append(f"scenario {seed} ({family}) could not be drawn: {exc}")
            ax.set_visible(False)
            continue
        _draw_map(ax, scenario)
        ax.set_title(f"seed {seed} ({scenario.family})", fontsize=9)
        for evaluation in evaluations:
            episode = evaluation.episode(seed)
            if episode is None:
                continue
            path = _path(episode)
            if not path:
                no_path.add(evaluation.release)
                continue
            if math.dist(path[0], (scenario.start.x, scenario.start.y)) > _START_TOLERANCE:
                missing.append(
                    f"{evaluation.release}, seed {seed}: the path does not start at this map's "
                    "start (the run used another scenario configuration); not drawn."
                )
                continue
            colour = colour_of(evaluation.release, names)
            xs, ys = zip(*path, strict=True)
            ax.plot(xs, ys, color=colour, linewidth=1.5, label=plot_label(evaluation.release))
            ax.plot([xs[-1]], [ys[-1]], linestyle="none", color=colour, markersize=8,
                    **_end_style(episode))  # fmt: skip
    handles = [
        Line2D([], [], color=colour_of(n, names), linewidth=2, label=plot_label(n)) for n in names
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(names), 6))
    for release in sorted(no_path):
        missing.append(
            f"{release}: its evaluation episodes carry no path (written before paths were kept)."
        )
    body = render(
        _TRAJECTORIES, shown=len(shown), total=len(seeds), plot=to_svg(fig, "trajectories")
    )
    return Section("trajectories", title, body, tuple(missing))
