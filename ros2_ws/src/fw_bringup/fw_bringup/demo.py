"""``make demo``: the edge loop on the simulated Husky, headless, with a report and a plot.

Starts one simulated robot with every node of the stack (simulator, perception, the ``classic``
policy, the safety supervisor, the actuator bridge, the recorder) through the Python bringup in
a child process, on a private ROS domain with DDS on loopback. Then, for a few seeded
scenarios, it gives the robot the scenario's goal on ``goal_pose`` — as a mission planner would —
and watches, from outside the robot stack, with the simulator's ground truth: progress while it
drives, then a table (reached, time, path length, collisions, safety interventions), the
episodes the recorder wrote, and a plot of the paths among the obstacles, with the places
where the safety layer intervened marked.

Each run writes into a fresh folder, ``out/demo/<UTC time>/`` (report, plot, robot log, and the
recorder's spool), so a report only ever counts its own run's episodes.

    python -m fw_bringup.demo                       # 3 scenarios, report in out/demo/<time>/
    python -m fw_bringup.demo --scenarios 5 --seed 10 --out /tmp/demo
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Intervention", "ScenarioRun", "episodes_since", "main", "paths_figure"]

#: Ground truth within this distance of the goal counts as reached: the policy stops within its
#: own tolerance of the goal *it estimates* from odometry, which drifts a little.
REACHED_RADIUS = 0.6


@dataclass(frozen=True)
class Intervention:
    """A safety event and where the robot was (ground truth, world frame, m) when it came."""

    kind: str
    x: float
    y: float


@dataclass
class ScenarioRun:
    """What happened in one scenario, as seen by ground truth."""

    seed: int
    scenario: dict[str, Any]
    path: list[tuple[float, float]] = field(default_factory=list)
    reached: bool = False
    sim_seconds: float = 0.0
    collisions: int = 0
    interventions: dict[str, int] = field(default_factory=dict)
    #: Where each safety intervention happened, in order.
    intervention_points: list[Intervention] = field(default_factory=list)

    @property
    def path_length(self) -> float:
        return sum(math.dist(a, b) for a, b in zip(self.path, self.path[1:], strict=False))


class _Observer:
    """The demo's rclpy node: gives goals, watches ground truth and the robot's events."""

    def __init__(self) -> None:
        import rclpy
        from diagnostic_msgs.msg import DiagnosticStatus
        from geometry_msgs.msg import PoseStamped
        from nav_msgs.msg import Odometry
        from std_msgs.msg import String
        from std_srvs.srv import Trigger

        from fw_common import qos, topics

        rclpy.init()
        self._rclpy = rclpy
        self.node = rclpy.create_node("demo_observer")
        self._lock = threading.Lock()
        self.truth: Any = None
        self.state: Any = None
        self.scenario: dict[str, Any] | None = None
        self.policy_info: dict[str, Any] | None = None
        self.collisions = 0
        self.events: list[Intervention] = []
        sub = self.node.create_subscription
        sub(Odometry, topics.SIM_GROUND_TRUTH, self._set("truth"), qos.SENSOR)
        sub(Odometry, topics.PERCEPTION_STATE, self._set("state"), qos.SENSOR)
        sub(String, topics.SIM_SCENARIO, self._on_scenario, qos.LATCHED)
        sub(String, topics.POLICY_INFO, self._on_policy_info, qos.LATCHED)
        sub(DiagnosticStatus, topics.SIM_COLLISIONS, self._on_collision, qos.EVENT)
        sub(DiagnosticStatus, topics.SAFETY_EVENTS, self._on_safety_event, qos.EVENT)
        self.goal = self.node.create_publisher(PoseStamped, topics.GOAL_POSE, qos.LATCHED)
        self._pose_type = PoseStamped
        self.new_scenario: Any = self.node.create_client(Trigger, topics.SIM_NEW_SCENARIO)
        self.record: Any = self.node.create_client(Trigger, topics.RECORDER_TRIGGER)
        self._trigger_type = Trigger
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        while not self._stop.is_set():
            self._rclpy.spin_once(self.node, timeout_sec=0.05)

    def _set(self, attr: str) -> Any:
        def store(msg: Any) -> None:
            setattr(self, attr, msg)

        return store

    def _on_scenario(self, msg: Any) -> None:
        self.scenario = json.loads(msg.data)

    def _on_policy_info(self, msg: Any) -> None:
        self.policy_info = json.loads(msg.data)

    def _on_collision(self, _msg: Any) -> None:
        self.collisions += 1

    def _on_safety_event(self, msg: Any) -> None:
        kind = next((kv.value for kv in msg.values if kv.key == "kind"), msg.name)
        x, y = (math.nan, math.nan) if self.truth is None else self.truth_pose()[:2]
        self.events.append(Intervention(kind, x, y))

    # --- queries ------------------------------------------------------------------------------

    def truth_pose(self) -> tuple[float, float, float]:
        return _pose_of(self.truth)

    def sim_time(self) -> float:
        from fw_common.conversions import stamp_to_sec

        return stamp_to_sec(self.truth.header.stamp)

    def speed(self) -> float:
        t = self.truth.twist.twist
        return math.hypot(t.linear.x, t.linear.y)

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = self.truth and self.state and self.scenario and self.policy_info
            if ready and self.goal.get_subscription_count() > 0:
                return True
            time.sleep(0.1)
        return False

    def wait_still(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            t = self.truth.twist.twist
            if abs(t.linear.x) + abs(t.linear.y) < 0.02 and abs(t.angular.z) < 0.02:
                return
            time.sleep(0.05)

    # --- actions ------------------------------------------------------------------------------

    def call(self, client: Any, timeout: float = 20.0) -> Any:
        if not client.wait_for_service(timeout_sec=timeout):
            raise RuntimeError(f"service {client.srv_name} is not available")
        future = client.call_async(self._trigger_type.Request())
        deadline = time.monotonic() + timeout
        while not future.done():
            if time.monotonic() > deadline:
                raise RuntimeError(f"service {client.srv_name} did not answer")
            time.sleep(0.02)
        return future.result()

    def send_goal(self, goal_world: tuple[float, float]) -> None:
        """Publish the scenario goal in ``odom``: T_odom_world from a ground-truth and a
        perception-state sample taken at rest, applied to the goal in the world frame."""
        from fw_common.conversions import quaternion_from_yaw
        from fw_common.planar import compose, inverse

        self.wait_still()
        time.sleep(0.2)  # fresh samples of both after coming to rest
        odom_from_world = compose(_pose_of(self.state), inverse(self.truth_pose()))
        x, y, yaw = compose(odom_from_world, (goal_world[0], goal_world[1], 0.0))
        msg = self._pose_type()
        msg.header.frame_id = "odom"
        msg.header.stamp = self.truth.header.stamp
        msg.pose.position.x, msg.pose.position.y = x, y
        q = msg.pose.orientation
        q.x, q.y, q.z, q.w = quaternion_from_yaw(yaw)
        self.goal.publish(msg)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.node.destroy_node()
        self._rclpy.try_shutdown()


def _pose_of(msg: Any) -> tuple[float, float, float]:
    from fw_common.conversions import yaw_from_quaternion

    p, q = msg.pose.pose.position, msg.pose.pose.orientation
    return p.x, p.y, yaw_from_quaternion(q.x, q.y, q.z, q.w)


def _drive(obs: _Observer, run: ScenarioRun, timeout_sim_s: float) -> None:
    goal = (run.scenario["goal"]["x"], run.scenario["goal"]["y"])
    events0, collisions0 = len(obs.events), obs.collisions
    obs.send_goal(goal)
    t0 = obs.sim_time()
    last_print = -10.0
    while True:
        x, y, _ = obs.truth_pose()
        if not run.path or math.dist(run.path[-1], (x, y)) > 0.05:
            run.path.append((x, y))
        elapsed = obs.sim_time() - t0
        distance = math.dist((x, y), goal)
        if elapsed - last_print >= 5.0:
            last_print = elapsed
            print(
                f"    t={elapsed:5.1f} s  {distance:5.2f} m to the goal  "
                f"speed {obs.speed():.2f} m/s",
                flush=True,
            )
        if distance < REACHED_RADIUS and obs.speed() < 0.05:
            run.reached = True
            break
        if elapsed > timeout_sim_s:
            break
        time.sleep(0.05)
    run.sim_seconds = obs.sim_time() - t0
    run.collisions = obs.collisions - collisions0
    for event in obs.events[events0:]:
        run.interventions[event.kind] = run.interventions.get(event.kind, 0) + 1
        run.intervention_points.append(event)


def _plot(runs: list[ScenarioRun], path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig = paths_figure(runs)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def paths_figure(runs: list[ScenarioRun]) -> Any:
    """One panel per scenario: obstacles, start, goal, the path (world frame, m) and where the
    safety layer intervened. A matplotlib figure (needs matplotlib)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle, Rectangle

    fig, axes = plt.subplots(1, len(runs), figsize=(4.2 * len(runs), 4.4), squeeze=False)
    for ax, run in zip(axes[0], runs, strict=True):
        sc = run.scenario
        half = sc["arena_size"] / 2
        for ob in sc["obstacles"]:
            if ob["kind"] == "cylinder":
                ax.add_patch(Circle((ob["x"], ob["y"]), ob["radius"], color="0.45"))
            else:
                rect = Rectangle(
                    (ob["x"] - ob["size_x"] / 2, ob["y"] - ob["size_y"] / 2),
                    ob["size_x"],
                    ob["size_y"],
                    angle=math.degrees(ob["yaw"]),
                    rotation_point="center",
                    color="0.45",
                )
                ax.add_patch(rect)
        if run.path:
            xs, ys = zip(*run.path, strict=True)
            ax.plot(xs, ys, "-", color="tab:blue", lw=2, label="path (ground truth)")
        ax.plot(sc["start"]["x"], sc["start"]["y"], "o", color="tab:green", label="start")
        ax.add_patch(
            Circle(
                (sc["goal"]["x"], sc["goal"]["y"]),
                REACHED_RADIUS,
                fill=False,
                color="tab:red",
                lw=1.5,
            )
        )
        ax.plot(sc["goal"]["x"], sc["goal"]["y"], "*", color="tab:red", ms=12, label="goal")
        points = [p for p in run.intervention_points if math.isfinite(p.x + p.y)]
        if points:
            ax.scatter(
                [p.x for p in points],
                [p.y for p in points],
                marker="x",
                s=40,
                color="tab:orange",
                zorder=3,
                label="safety intervened",
            )
        verdict = "reached" if run.reached else "not reached"
        ax.set_title(f"seed {run.seed}: {verdict} in {run.sim_seconds:.0f} s", fontsize=10)
        ax.set_xlim(-half - 0.5, half + 0.5)
        ax.set_ylim(-half - 0.5, half + 0.5)
        ax.set_aspect("equal")
        ax.set_xlabel("x (m)")
        ax.set_ylabel("y (m)")
        ax.grid(alpha=0.3)
    legend: dict[str, Any] = {}  # every panel's entries, once each
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    fig.legend(
        list(legend.values()), list(legend), loc="lower center", ncol=4, fontsize=8, frameon=False
    )
    fig.suptitle("Flywheel edge loop: classic policy through the safety supervisor")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def _report(
    runs: list[ScenarioRun],
    episodes: list[Path],
    info: dict[str, Any] | None,
    wall_s: float,
    out: Path,
    plot: Path | None,
) -> str:
    lines = [
        "# Flywheel demo: the edge loop on the simulated Husky",
        "",
        f"Policy: {json.dumps(info) if info else 'unknown'}",
        "",
        "| seed | reached | sim time (s) | path (m) | collisions | safety interventions |",
        "|---|---|---|---|---|---|",
    ]
    for r in runs:
        kinds = ", ".join(f"{k}×{n}" for k, n in sorted(r.interventions.items())) or "none"
        lines.append(
            f"| {r.seed} | {'yes' if r.reached else 'NO'} | {r.sim_seconds:.1f} | "
            f"{r.path_length:.1f} | {r.collisions} | {kinds} |"
        )
    sim_total = sum(r.sim_seconds for r in runs)
    lines += [
        "",
        f"{sum(r.reached for r in runs)}/{len(runs)} goals reached, "
        f"{sum(r.collisions for r in runs)} collisions; {sim_total:.0f} s simulated in "
        f"{wall_s:.0f} s wall.",
        "",
        f"Episodes written by the recorder ({len(episodes)}): "
        + (", ".join(e.name for e in episodes) or "none"),
    ]
    if plot is not None:
        lines += ["", f"![paths]({plot.name})"]
    text = "\n".join(lines) + "\n"
    (out / "report.md").write_text(text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("--profile", default="sim", help="robot profile (default: sim)")
    parser.add_argument("--scenarios", type=int, default=3, help="how many scenarios to drive")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first scenario")
    parser.add_argument("--rtf", type=float, default=2.0, help="simulator real-time factor")
    parser.add_argument(
        "--timeout", type=float, default=90.0, help="sim seconds allowed per scenario"
    )
    parser.add_argument(
        "--out", type=Path, help="report folder (default: a fresh out/demo/<UTC time>/)"
    )
    args = parser.parse_args(argv)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = (args.out or Path("out") / "demo" / stamp).resolve()
    out.mkdir(parents=True, exist_ok=True)
    spool = out / "spool"
    earlier = set(_episodes(spool / "ready"))  # a reused --out: not this run's

    env = dict(os.environ)
    # A private graph: the demo must never drive a robot that shares this network.
    env.setdefault("ROS_DOMAIN_ID", str(200 + os.getpid() % 30))
    env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    os.environ.update({k: env[k] for k in ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE")})
    log_path = out / "robot.log"
    print(
        f"[demo] starting the simulated Husky with the whole stack (log: {log_path})", flush=True
    )
    with open(log_path, "wb") as log:
        robot = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fw_bringup.main",
                "--profile",
                args.profile,
                "--seed",
                str(args.seed),
                "--set",
                f"sim.real_time_factor={args.rtf}",
                "--set",
                f"recorder.spool_dir={spool}",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    obs = _Observer()
    runs: list[ScenarioRun] = []
    code = 0
    try:
        if not obs.wait_ready(120):
            print(f"[demo] the robot did not come up; see {log_path}", file=sys.stderr)
            return 1
        print(f"[demo] policy: {obs.policy_info}", flush=True)
        wall0 = time.monotonic()
        for i in range(args.scenarios):
            if i > 0:
                obs.call(obs.new_scenario)
                seed = args.seed + i
                deadline = time.monotonic() + 20
                while (obs.scenario or {}).get("seed") != seed and time.monotonic() < deadline:
                    time.sleep(0.05)
            assert obs.scenario is not None
            run = ScenarioRun(seed=obs.scenario["seed"], scenario=obs.scenario)
            goal = run.scenario["goal"]
            print(
                f"[demo] scenario seed {run.seed}: {len(run.scenario['obstacles'])} obstacles,"
                f" goal at ({goal['x']:.1f}, {goal['y']:.1f})",
                flush=True,
            )
            _drive(obs, run, args.timeout)
            verdict = "reached the goal" if run.reached else "did NOT reach the goal"
            print(
                f"[demo]   {verdict} in {run.sim_seconds:.1f} s of sim time, "
                f"{run.collisions} collisions, interventions {run.interventions or 'none'}",
                flush=True,
            )
            runs.append(run)
        wall_s = time.monotonic() - wall0
        print("[demo] asking the recorder for an episode of the last moments", flush=True)
        before = len(_episodes(spool / "ready"))
        response = obs.call(obs.record)
        print(f"[demo]   recorder: {response.message}", flush=True)
        # The episode closes after the recorder's post-trigger window (sim time).
        episodes = episodes_since(
            _wait_for_episodes(spool / "ready", before + 1, timeout=30), earlier
        )
        plot = _plot(runs, out / "paths.png")
        print()
        print(_report(runs, episodes, obs.policy_info, wall_s, out, plot))
        print(f"[demo] report: {out / 'report.md'}" + (f", plot: {plot}" if plot else ""))
        if not all(r.reached for r in runs) or any(r.collisions for r in runs):
            code = 1
    finally:
        obs.close()
        robot.send_signal(signal.SIGINT)
        try:
            if robot.wait(30) != 0:
                print(
                    f"[demo] the robot process exited with {robot.returncode}; see {log_path}",
                    file=sys.stderr,
                )
                code = code or 1
        except subprocess.TimeoutExpired:
            robot.kill()
            code = 1
    return code


def _episodes(ready: Path) -> list[Path]:
    return sorted(p for p in ready.glob("*") if p.is_dir()) if ready.is_dir() else []


def episodes_since(episodes: list[Path], earlier: set[Path]) -> list[Path]:
    """The episodes of this run: those that were not in the spool when it started."""
    return [e for e in episodes if e not in earlier]


def _wait_for_episodes(ready: Path, count: int, timeout: float) -> list[Path]:
    """The finished episodes once there are ``count`` of them (or all there are at timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(_episodes(ready)) < count:
        time.sleep(0.5)
    return _episodes(ready)


if __name__ == "__main__":
    sys.exit(main())
