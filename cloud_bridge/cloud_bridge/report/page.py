"""``write_report``: the run folder → one self-contained ``report.html``.

The page opens offline: plots are inline SVG, the style is inline, there is no script, font or
image to fetch, and its Content-Security-Policy forbids loading any (a browser would refuse, and
say so in its console, anything that slipped in). Each section is drawn on its own: a section
whose data is missing says what is missing, and one that fails says so, without taking the
rest of the report with it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from markupsafe import Markup

from cloud_bridge.report.evaluation import evaluation_section, gate_section, load_evaluations
from cloud_bridge.report.html import Section, render
from cloud_bridge.report.leaderboard import leaderboard_section
from cloud_bridge.report.missions import mission_section
from cloud_bridge.report.provenance import provenance_section
from cloud_bridge.report.run_folder import RunFolder, as_float, as_str, release_order
from cloud_bridge.report.timeline import timeline_section
from cloud_bridge.report.training import training_section
from cloud_bridge.report.trajectories import trajectory_section
from cloud_bridge.report.uploads import upload_section

__all__ = ["REPORT_NAME", "write_report"]

REPORT_NAME = "report.html"

_log = logging.getLogger(__name__)
_NO_RUN_JSON = "run.json is missing: the run's settings are unknown."
_BAD_RUN_JSON = "run.json is not readable JSON: the run's settings are unknown."

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
  max-width: 1100px; padding: 1em 2em 4em; color: #222; background: #fff; line-height: 1.4; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #ddd; margin-top: 2em; }
nav a, a { color: #444; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.kv th { width: 10em; }
code { font-size: 0.85em; word-break: break-all; }
svg { max-width: 100%; height: auto; display: block; margin: 0.5em 0; }
.pass { color: #1a6b1a; font-weight: bold; } .fail { color: #b00; font-weight: bold; }
tr.rollback td { background: #fdeaea; }
.missing { background: #fff6dc; border-left: 4px solid #e0b000; padding: 0.4em 0.8em; }
.missing ul { margin: 0.2em 0; } .note { color: #666; } td.time { white-space: nowrap; }
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Flywheel run {{ run_id }}</title>
<style>{{ css }}</style>
</head>
<body>
<h1>Flywheel run <span class="run-id">{{ run_id }}</span></h1>
<table class="kv">
<tr><th>started</th><td>{{ started | when }} UTC</td></tr>
<tr><th>store</th><td><code>{{ store }}</code></td></tr>
<tr><th>robots</th><td>{{ robots }}</td></tr>
<tr><th>iterations</th><td>{{ iterations }}</td></tr>
<tr><th>releases</th><td>{{ releases }}</td></tr>
<tr><th>code version</th><td><code>{{ code_version }}</code></td></tr>
<tr><th>report written</th><td>{{ written }} UTC</td></tr>
</table>
{% if header_missing %}<div class="missing">{{ header_missing }}</div>{% endif %}
<nav><p>{% for s in sections %}<a href="#{{ s.anchor }}">{{ s.title }}</a>
{% if not loop.last %} · {% endif %}{% endfor %}</p></nav>
{% for s in sections %}
<section id="{{ s.anchor }}">
<h2>{{ s.title }}</h2>
{% if s.missing %}<div class="missing"><ul>{% for m in s.missing %}<li>{{ m }}</li>{% endfor %}
</ul></div>{% endif %}
{{ s.body }}
</section>
{% endfor %}
</body>
</html>
"""

_STAGES = """
<table>
<thead><tr><th>stage</th><th>iteration</th><th>started</th><th>wall time (s)</th></tr></thead>
<tbody>
{% for s in stages %}
<tr><td>{{ s.name }}</td><td class="num">{{ s.iteration }}</td><td>{{ s.started | when }}</td>
<td class="num">{{ s.wall_s | number(4) }}</td></tr>
{% endfor %}
</tbody></table>
{% if problems %}<h3>Files not read</h3><ul>{% for p in problems %}<li>{{ p }}</li>
{% endfor %}</ul>{% endif %}
"""


def _stage_section(run: RunFolder) -> Section:
    stages = []
    for path in run.files("stages/*.json"):
        data = run.read_json(path.relative_to(run.root))
        if not isinstance(data, dict):
            continue
        stages.append(
            {
                "name": as_str(data.get("name"), path.stem),
                "iteration": as_str(data.get("iteration")),
                "started": data.get("started"),
                "wall_s": data.get("wall_s"),
                "order": as_float(data.get("finished")) or 0.0,
            }
        )
    stages.sort(key=lambda s: (s["order"], s["name"]))
    missing = () if stages else ("No finished stage in stages/.",)
    body = render(_STAGES, stages=stages, problems=run.problems)
    return Section("stages", "Stages and files", body, missing)


def _drawn(anchor: str, title: str, build: Callable[[], Section]) -> Section:
    """``build()``, or a section that says why it could not be drawn."""
    try:
        return build()
    except Exception as exc:  # one broken section must not take the report with it
        _log.exception("report section %s failed", anchor)
        return Section(anchor, title, missing=(f"This section could not be drawn: {exc!r}",))


def build_sections(run: RunFolder) -> list[Section]:
    """Every section of the report, in page order."""
    evaluations = load_evaluations(run)
    sections = [
        _drawn("evaluation", "Held-out evaluation per release",
               lambda: evaluation_section(evaluations)),
        _drawn("missions", "Missions in the field", lambda: mission_section(run)),
        _drawn("leaderboard", "Leaderboard", lambda: leaderboard_section(run)),
        _drawn("gates", "Gate decisions", lambda: gate_section(run)),
        _drawn("training", "Training curves", lambda: training_section(run)),
        _drawn("trajectories", "Trajectories on the scenario maps",
               lambda: trajectory_section(run, evaluations)),
        _drawn("uploads", "Uploads per robot", lambda: upload_section(run)),
        _drawn("timeline", "Swaps and rollbacks", lambda: timeline_section(run)),
        _drawn("provenance", "Provenance of each release", lambda: provenance_section(run)),
    ]  # fmt: skip
    # Last, so that it lists the files every other section failed to read.
    sections.append(_drawn("stages", "Stages and files", lambda: _stage_section(run)))
    return sections


def _header_missing(run: RunFolder, meta: object) -> str:
    if meta is not None:
        return ""
    return _BAD_RUN_JSON if run.has("run.json") else _NO_RUN_JSON


def write_report(run_dir: Path) -> Path:
    """Write ``<run_dir>/report.html`` from what the run folder holds; its path.

    Raises ``FileNotFoundError`` when ``run_dir`` is not a folder; anything missing inside it
    is reported on the page instead.
    """
    root = Path(run_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder")
    run = RunFolder(root)
    sections = build_sections(run)
    meta = run.read_json("run.json")
    info = meta if isinstance(meta, dict) else {}
    robots = info.get("robots")
    if isinstance(robots, list):
        robot_text = f"{len(robots)}: " + ", ".join(as_str(r) for r in robots)
    else:
        robot_text = as_str(robots, "n/a")
    trained = sorted((p.name for p in (root / "train").glob("*") if p.is_dir()), key=release_order)
    page = render(
        _PAGE,
        css=Markup(_CSS),  # the page's own style, not run data
        run_id=root.resolve().name,
        started=info.get("started"),
        store=as_str(info.get("store"), "n/a"),
        robots=robot_text,
        iterations=as_str(info.get("iterations"), "n/a"),
        releases=", ".join(trained) or "none trained",
        code_version=as_str(info.get("code_version"), "n/a"),
        written=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
        header_missing=_header_missing(run, meta),
        sections=sections,
    )
    target = root / REPORT_NAME
    temporary = target.with_name(f".{REPORT_NAME}.{os.getpid()}.tmp")
    temporary.write_text(page, encoding="utf-8")
    temporary.replace(target)  # a reader (a browser reloading) never sees half a page
    return target
