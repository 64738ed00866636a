"""The run report: one self-contained ``report.html`` from a ``flywheel run`` folder.

    from cloud_bridge.report import write_report
    path = write_report(Path("runs/flywheel"))   # runs/flywheel/report.html

It shows each release's held-out success, collision and intervention rates with intervals, how
it drove on the robots' missions, the gate's decisions, the leaderboard, training curves,
trajectories on the scenario maps, uploads per robot, the swap and rollback timeline and each
release's provenance. It opens offline (inline SVG and style, no script) and says what is
missing when the run stopped early.
"""

from cloud_bridge.report.page import REPORT_NAME, write_report

__all__ = ["REPORT_NAME", "write_report"]
