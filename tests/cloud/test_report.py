"""The run report (``report.html``) from a run folder built of real parts (headless evaluations,
the gate, dataset hashes; see ``support.report_run``): the page shows the run's numbers, every
robot and release, escapes hostile strings, loads nothing from outside, and says what is
missing when a run stopped early or its files are damaged."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from cloud_bridge.report import write_report
from support.flywheel_cli import FLYWHEEL, flywheel_env
from support.report_run import HOSTILE, ReportRun, build_run


class _Page(HTMLParser):
    """Each section's tables (rows of cell texts), its notes of what is missing, and every
    element and attribute of the page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.section = ""
        self.tables: dict[str, list[list[list[str]]]] = {}
        self.missing: dict[str, list[str]] = {}
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.svgs: dict[str, int] = {}
        self._cell: list[str] | None = None
        self._in_missing = 0
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag == "section":
            self.section = attributes.get("id") or ""
        elif tag == "table":
            self.tables.setdefault(self.section, []).append([])
        elif tag == "tr":
            self.tables[self.section][-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "svg":
            self.svgs[self.section] = self.svgs.get(self.section, 0) + 1
        if tag == "div" and "missing" in (attributes.get("class") or ""):
            self._in_missing = 1
        elif self._in_missing and tag == "div":
            self._in_missing += 1
        if self._in_missing and tag == "li":
            self.missing.setdefault(self.section, []).append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[self.section][-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        if tag == "div" and self._in_missing:
            self._in_missing -= 1

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in_missing and self.missing.get(self.section):
            self.missing[self.section][-1] += data

    def rows(self, section: str, table: int = 0) -> list[list[str]]:
        return self.tables[section][table]


def _read(path: Path) -> tuple[str, _Page]:
    text = path.read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    return text, page


def _pct(interval: Any) -> str:
    return f"{100 * interval.value:.0f} % [{100 * interval.low:.0f}, {100 * interval.high:.0f}]"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> ReportRun:
    return build_run(tmp_path_factory.mktemp("report") / "run")


@pytest.fixture(scope="module")
def page(run: ReportRun) -> tuple[str, _Page]:
    path = write_report(run.root)
    assert path == run.root / "report.html"
    return _read(path)


def test_the_page_shows_each_releases_evaluation_and_gate(
    run: ReportRun, page: tuple[str, _Page]
) -> None:
    _, parsed = page
    rows = {r[0]: r for r in parsed.rows("evaluation")[1:]}
    assert list(rows) == ["classic", "v1", "v2"]
    for name, report in run.evaluations.items():
        s = report.summary
        assert rows[name][2] == str(len(report.episodes))
        assert rows[name][3] == _pct(s.success_rate)
        assert rows[name][4] == _pct(s.collision_rate)
        assert rows[name][7] == f"{s.distance_m:.4g}"
    # The classic controller reaches both goals; the random MLPs do not.
    assert rows["classic"][3].startswith("100 %") and rows["v1"][3].startswith("0 %")
    assert parsed.svgs["evaluation"] == 1 and "evaluation" not in parsed.missing
    gates = {r[0]: r for r in parsed.rows("gates")[1:]}
    assert gates["v1"][1:3] == ["classic", "refused"]
    assert "against the minimum 50.0 %" in gates["v1"][3]
    # The robots' missions: 2 robots x (2 classic + 2 v1) episodes; seed 11 (classic) missed,
    # seed 12 (v1) collided; a slowdown is an intervention, a take-over is not.
    missions = {r[0]: r for r in parsed.rows("missions")[1:]}
    assert list(missions) == ["classic", "v1"]
    assert missions["classic"][2:4] == ["4", "50 % [15, 85]"]
    assert missions["v1"][3:7] == ["100 % [51, 100]", "50 % [15, 85]", "8", "12"]
    assert missions["v1"][7] == "20"


def _interval(part: dict[str, Any], key: str, percent: bool = False) -> str:
    if part[key] is None:
        return "n/a"
    if percent:
        return f"{100 * part[key]:.0f} % [{100 * part['low']:.0f}, {100 * part['high']:.0f}]"
    return f"{part[key]:.3g} [{part['low']:.3g}, {part['high']:.3g}]"


def test_the_leaderboard_shows_a_real_boards_ranking(
    run: ReportRun, page: tuple[str, _Page]
) -> None:
    # leaderboard.json is what cloud_bridge.evaluate.leaderboard() wrote: every entry in the
    # file's order with the file's rank, intervals as the board has them.
    text, parsed = page
    entries = run.board["entries"]
    assert entries[0]["release"] == "classic"  # listed second, ranked first
    assert parsed.rows("leaderboard")[1:] == [
        [
            str(e["rank"]),
            e["release"],
            e["kind"],
            _interval(e["success"], "rate", percent=True),
            _interval(e["time_to_goal_s"], "mean"),
            _interval(e["collisions"], "rate", percent=True),
            str(e["n"]),
        ]
        for e in entries
    ]
    assert 'of the "race" seed set in the "open" family' in text
    assert parsed.svgs["leaderboard"] == 1 and "leaderboard" not in parsed.missing


def test_the_leaderboard_keeps_the_files_order_and_rank(tmp_path: Path) -> None:
    # A ranking where the higher success rate is not first (one lucky episode ranked below a
    # steady hundred): the page shows the file's ranking, not one of its own.
    def entry(rank: int, release: str, rate: float, low: float, n: int) -> dict[str, Any]:
        return {
            "rank": rank,
            "release": release,
            "kind": "bc",
            "success": {"rate": rate, "low": low, "high": 1.0},
            "collisions": {"rate": 0.0, "low": 0.0, "high": 0.1},
            "time_to_goal_s": {"mean": 20.0, "low": 18.0, "high": 22.0, "n": n},
            "n": n,
        }

    ranked = [entry(1, "steady", 0.9, 0.8, 100), entry(2, "lucky", 1.0, 0.2, 1)]
    board = {"seeds": [1], "family": "open", "entries": ranked}
    (tmp_path / "leaderboard.json").write_text(json.dumps(board))
    _, parsed = _read(write_report(tmp_path))
    assert [r[:2] for r in parsed.rows("leaderboard")[1:]] == [["1", "steady"], ["2", "lucky"]]


def _mission_line(robot: str, seed: int, release: str, **fields: Any) -> dict[str, Any]:
    line = {
        "robot_id": robot, "seed": seed, "family": "open", "release": release,
        "policy_kind": "onnx", "reached": True, "collisions": 0, "interventions": {},
        "sim_seconds": 10.0, "path_length_m": 4.0, "path": [], "start": [0, 0, 0],
        "goal": [1, 1], "takeover_steps": 0, "wall_start": 0.0, "wall_end": 1.0,
        "episode_id": f"ep-{seed}",
    }  # fmt: skip
    return {**line, **fields}


def test_missions_count_the_expert_supervision_failures_and_restarts_apart(
    tmp_path: Path,
) -> None:
    lines = [
        # Iteration 0: the expert drives (the agent's release is still "classic").
        _mission_line("a", 1, "classic", supervisor_mode="drive", takeover_steps=200),
        _mission_line("a", 2, "classic", supervisor_mode="drive", reached=False),
        # An older robot's line, without supervisor_mode: the release drove alone.
        _mission_line("a", 3, "classic"),
        # Iteration 1: v1 with the expert's take-overs.
        _mission_line("a", 4, "v1", supervisor_mode="supervise", takeover_steps=7),
        # v1 alone; seed 5 failed with a collision, then the robot restarted and drove it again.
        _mission_line("a", 5, "v1", supervisor_mode="label", reached=False, collisions=2),
        _mission_line("a", 6, "v1", supervisor_mode="label", reached=False, error="no simulator"),
        {"done": True, "episodes": 6},
        _mission_line("a", 5, "v1", supervisor_mode="label", path_length_m=6.0),
        {"done": True, "episodes": 6},
    ]
    log = tmp_path / "robots" / "a" / "mission.jsonl"
    log.parent.mkdir(parents=True)
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    _, parsed = _read(write_report(tmp_path))
    header = parsed.rows("missions")[0]
    assert header[-1] == "infrastructure failures"
    rows = {r[0]: r for r in parsed.rows("missions")[1:]}
    assert list(rows) == ["expert (teleop)", "classic", "v1", "v1 (supervised)"]
    # release, robots, episodes, reached, with a collision, interventions, take-overs,
    # distance, infrastructure failures
    assert rows["expert (teleop)"][2:4] == ["2", "50 % [9, 91]"]
    assert rows["expert (teleop)"][6] == "200"
    assert rows["classic"][2:4] == ["1", "100 % [21, 100]"]
    # Seed 5 once (its last line: reached, no collision); seed 6 is the infrastructure's.
    assert rows["v1"][2:] == ["1", "100 % [21, 100]", "0 % [0, 79]", "0", "0", "6", "1"]
    assert rows["v1 (supervised)"][2:] == ["1", "100 % [21, 100]", "0 % [0, 79]", "0", "7",
                                           "4", "0"]  # fmt: skip


def test_every_robot_release_and_provenance_link_appears(
    run: ReportRun, page: tuple[str, _Page]
) -> None:
    text, parsed = page
    header = {r[0]: r[1] for r in parsed.tables[""][0]}
    assert header["store"] == "file:///tmp/store" and header["iterations"] == "2"
    assert header["code version"] == "e108e8b-test" and header["robots"].startswith("2: ")
    assert header["started"] == "2026-05-28 20:26:40 UTC"
    uploads = {r[0]: r for r in parsed.rows("uploads")[1:]}
    assert set(uploads) == set(run.robots)
    for robot, (objects, size) in run.uploads.items():
        assert uploads[robot][1:3] == [str(objects), f"{size / 1e6:.2f} MB"]
    timeline = parsed.rows("timeline")[1:]
    rollbacks = [r for r in timeline if r[2] == "rollback"]
    assert {r[1] for r in rollbacks} == set(run.robots) and {r[3] for r in rollbacks} == {"v2"}
    assert any(r[2] == "publish (faulty)" and r[3] == "v3" for r in timeline)
    # Provenance: v1's dataset is the first build (recomputed from episodes.json), v2's the
    # card's; every episode with its robot and bag sha256.
    tables = parsed.tables["provenance"]
    for release, build, source in (
        ("v1", run.builds[0], "recomputed from dataset/episodes.json"),
        ("v2", run.builds[0] + run.builds[1], "from dataset/card.json"),
    ):
        index = ["v1", "v2", "v3"].index(release)
        summary, episodes = tables[2 * index], tables[2 * index + 1]
        assert source in dict(summary)["episodes"]
        listed = {r[0]: r for r in episodes[1:]}
        assert set(listed) == set(build)
        for key in build:
            assert listed[key][1] == key.rsplit("/", 1)[0]
            assert listed[key][2] == run.bags[key]
    assert "provenance" not in parsed.missing
    assert parsed.svgs["trajectories"] == 1 and parsed.svgs["training"] == 1
    for section in ("trajectories", "training", "uploads", "timeline", "leaderboard"):
        assert section not in parsed.missing, parsed.missing[section]
    assert "could not be drawn" not in text


def test_hostile_strings_are_text_not_markup(page: tuple[str, _Page]) -> None:
    text, parsed = page
    assert HOSTILE not in text and "<script" not in text
    assert not [tag for tag, _ in parsed.elements if tag in ("script", "iframe", "object")]
    assert not [a for _, a in parsed.elements if any(k.startswith("on") for k in a)]
    # It reads as text where the robot is named: the uploads table and the rollback reason.
    assert HOSTILE in [r[0] for r in parsed.rows("uploads")]
    assert any(r[6] == f"safety events rose: {HOSTILE}" for r in parsed.rows("timeline"))
    # Nothing on the page points outside it.
    links = [a.get(k) for _, a in parsed.elements for k in ("src", "href") if a.get(k)]
    assert all(link.startswith("#") for link in links if link), links
    assert "http-equiv" in text and "default-src 'none'" in text


def test_a_run_stopped_early_says_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text(json.dumps({"robots": ["robot_1"], "iterations": 2}))
    _, parsed = _read(write_report(tmp_path))
    for section in ("evaluation", "gates", "training", "trajectories", "uploads", "timeline",
                    "provenance", "leaderboard", "missions", "stages"):  # fmt: skip
        assert parsed.missing.get(section), section
    assert "leaderboard.json is missing" in parsed.missing["leaderboard"][0]
    assert "uploads.jsonl is missing" in parsed.missing["uploads"][0]
    # An empty folder: the header says run.json is missing.
    empty = tmp_path / "empty"
    empty.mkdir()
    text, _ = _read(write_report(empty))
    assert "run.json is missing" in text
    with pytest.raises(FileNotFoundError):
        write_report(tmp_path / "absent")


def test_damaged_files_are_reported_not_fatal(run: ReportRun, tmp_path: Path) -> None:
    root = tmp_path / "run"
    shutil.copytree(run.root, root)
    (root / "evaluate" / "v2.json").write_text('{"summary": {"success_rate": ')  # cut short
    with (root / "uploads.jsonl").open("a") as f:
        f.write('{"time": "later", "robot_id": 7, "bytes": "many"}\n{"cut": \n')
    (root / "leaderboard.json").write_text(json.dumps({"entries": [{"success": "high"}, 3]}))
    (root / "releases.json").write_text(json.dumps({"not": "a list"}))
    # Past what json.loads reads: more digits than Python converts to an int (ValueError, not a
    # JSON error) and deeper nesting than it recurses (RecursionError), in files read outside
    # the sections (run.json, the evaluations) and in JSON-lines files.
    huge = "1" * 5000
    deep = "[" * 100_000
    (root / "run.json").write_text('{"started": ' + huge + "}")
    (root / "evaluate" / "v8.json").write_text(deep)
    (root / "evaluate" / "v9.json").write_text('{"summary": {"episodes": ' + huge + "}}")
    with (root / "uploads.jsonl").open("a") as f:
        f.write('{"bytes": ' + huge + "}\n" + deep + "\n")
    with (root / "robots" / "robot_1" / "mission.jsonl").open("a") as f:
        f.write('{"seed": ' + huge + "}\n" + deep + "\n")
    episode = json.loads((root / "evaluate" / "v1.json").read_text())
    episode["episodes"][0]["path"] = [[100.0, 100.0], [101.0, 100.0]]  # not this map's start
    episode["episodes"][1]["path"] = "garbage"
    (root / "evaluate" / "v1.json").write_text(json.dumps(episode))
    text, parsed = _read(write_report(root))
    assert "could not be drawn" not in text
    problems = text  # the stages section lists the files it could not read
    assert "evaluate/v2.json: not readable JSON" in problems
    assert "uploads.jsonl: 3 line(s) skipped" in problems
    assert "robots/robot_1/mission.jsonl: 2 line(s) skipped" in problems
    for name in ("run.json", "evaluate/v8.json", "evaluate/v9.json"):
        assert f"{name}: not readable JSON" in problems
    assert "run.json is not readable JSON: the run's settings" in text.replace("&#39;", "'")
    assert [r[0] for r in parsed.rows("missions")[1:]] == ["classic", "v1"]
    assert "uploads.jsonl: 1 row(s) without a robot, time or size." in parsed.missing["uploads"]
    assert "releases.json: not a list of releases" in problems
    assert [r[0] for r in parsed.rows("evaluation")[1:]] == ["classic", "v1"]
    moved = [m for m in parsed.missing["trajectories"] if "does not start at this map" in m]
    assert moved == [
        "v1, seed 0: the path does not start at this map's start (the run used another "
        "scenario configuration); not drawn."
    ]
    assert any("v1: its evaluation episodes carry no path" in m for m in parsed.missing[
        "trajectories"])  # fmt: skip
    assert parsed.rows("leaderboard")[1][1:4] == ["?", "", "n/a"]


def test_dollar_signs_in_names_are_text_in_the_plots(run: ReportRun, tmp_path: Path) -> None:
    # matplotlib reads text between two "$" as mathtext: this name, a formula with an unknown
    # command, would fail every plot it is drawn in.
    name = r"r$\nosuchcmd$"
    root = tmp_path / "run"
    shutil.copytree(run.root, root)
    shutil.copy(root / "evaluate" / "v1.json", root / "evaluate" / f"{name}.json")
    shutil.copytree(root / "train" / "v1", root / "train" / name)
    board = json.loads((root / "leaderboard.json").read_text())
    board["entries"][0]["release"] = name
    (root / "leaderboard.json").write_text(json.dumps(board))
    last = json.loads((root / "timeline.jsonl").read_text().splitlines()[-1])
    with (root / "timeline.jsonl").open("a") as f:
        f.write(json.dumps({**last, "time": last["time"] + 60, "robot_id": name,
                            "active": name, "event": "swap", "problem": None}) + "\n")  # fmt: skip
    with (root / "uploads.jsonl").open("a") as f:
        f.write(json.dumps({"time": last["time"], "robot_id": name, "key": "k", "bytes": 9}))
    text, parsed = _read(write_report(root))
    assert "could not be drawn" not in text
    for section in ("evaluation", "training", "trajectories", "uploads", "timeline",
                    "leaderboard"):  # fmt: skip
        assert parsed.svgs.get(section) == 1, section
    assert name in [r[0] for r in parsed.rows("evaluation")[1:]]
    assert name in [r[1] for r in parsed.rows("leaderboard")[1:]]


def test_flywheel_report_prints_the_path(run: ReportRun, tmp_path: Path) -> None:
    done = subprocess.run(
        [*FLYWHEEL, "report", "--run-dir", str(run.root)],
        env=flywheel_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(run.root / "report.html")
    missing = subprocess.run(
        [*FLYWHEEL, "report", "--run-dir", str(tmp_path / "nowhere")],
        env=flywheel_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert missing.returncode == 2 and "is not a folder" in missing.stderr
