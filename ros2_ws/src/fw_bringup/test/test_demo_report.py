"""The demo's plot (axes in metres, safety interventions marked) and its per-run episodes."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from fw_bringup.demo import Intervention, ScenarioRun, episodes_since, paths_figure

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


def _run(seed: int, points: list[Intervention]) -> ScenarioRun:
    scenario = {
        "arena_size": 10.0,
        "obstacles": [
            {"kind": "cylinder", "x": 1.0, "y": 1.0, "radius": 0.3},
            {"kind": "box", "x": -2.0, "y": 0.5, "size_x": 1.0, "size_y": 0.5, "yaw": 0.3},
        ],
        "start": {"x": 0.0, "y": 0.0},
        "goal": {"x": 3.0, "y": 2.0},
    }
    run = ScenarioRun(seed=seed, scenario=scenario, path=[(0.0, 0.0), (1.5, 0.5), (3.0, 2.0)])
    run.intervention_points = points
    return run


def test_paths_figure_labels_axes_and_marks_interventions() -> None:
    import matplotlib.pyplot as plt

    stop = Intervention("stop_zone", 1.5, 0.5)
    runs = [_run(1, []), _run(2, [stop, Intervention("approach", 1.2, 0.4)])]
    runs[1].intervention_points.append(Intervention("watchdog", math.nan, math.nan))  # no pose
    fig = paths_figure(runs)
    try:
        for ax in fig.axes:
            assert (ax.get_xlabel(), ax.get_ylabel()) == ("x (m)", "y (m)")
        marked = [c for c in fig.axes[1].collections if c.get_label() == "safety intervened"]
        assert len(marked) == 1
        assert marked[0].get_offsets().tolist() == [[1.5, 0.5], [1.2, 0.4]]
        assert not [c for c in fig.axes[0].collections if c.get_label() == "safety intervened"]
        # The figure legend has it although the first panel had none.
        (legend,) = fig.legends
        assert "safety intervened" in [t.get_text() for t in legend.get_texts()]
    finally:
        plt.close(fig)


def test_a_run_reports_only_its_own_episodes(tmp_path: Path) -> None:
    first, second = tmp_path / "ep_1", tmp_path / "ep_2"
    assert episodes_since([first, second], {first}) == [second]
