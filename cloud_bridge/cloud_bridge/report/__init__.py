"""The run report: one self-contained ``report.html`` from a ``flywheel run`` folder.

    from cloud_bridge.report import write_report
    path = write_report(Path("runs/flywheel"))   # runs/flywheel/report.html

It shows each release's held-out success, collision and intervention rates with intervals, how
it drove on the robots' missions, the gate's decisions, the leaderboard, training curves,
trajectories on the scenario maps, uploads per robot, the swap and rollback timeline and each
release's provenance. It opens offline (inline SVG and style, no script) and says what is
missing when the run stopped early.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cloud_bridge.report.page import REPORT_NAME, write_report

__all__ = ["REPORT_NAME", "write_report"]


def __getattr__(name: str) -> Any:
    # Lazily: `flywheel` imports `cloud_bridge.report.command` (and so this package) to build its
    # parser, and a robot's `flywheel` has no matplotlib nor pyarrow, which the page needs.
    if name in __all__:
        from cloud_bridge.report import page

        return getattr(page, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
