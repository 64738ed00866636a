"""Upload volume per robot over time: the episode objects the run saw reach the store
(``uploads.jsonl``), summed per robot."""

from __future__ import annotations

from cloud_bridge.report.html import Section, render
from cloud_bridge.report.run_folder import RunFolder, as_float, as_str, as_timestamp, time_origin
from cloud_bridge.report.svg import colour_of, figure, plot_label, to_svg

__all__ = ["upload_section"]

_UPLOADS = """
<p>Bytes of episode objects in the store per robot, summed over the run (minutes since
{{ origin | when }} UTC).</p>
{{ plot }}
<table>
<thead><tr><th>robot</th><th>objects</th><th>volume</th><th>first upload</th>
<th>last upload</th></tr></thead>
<tbody>
{% for r in robots %}
<tr><td class="robot">{{ r.robot }}</td><td class="num">{{ r.objects }}</td>
<td class="num">{{ r.bytes | megabytes }}</td><td>{{ r.first | when }}</td>
<td>{{ r.last | when }}</td></tr>
{% endfor %}
</tbody></table>
"""


def upload_section(run: RunFolder) -> Section:
    title = "Uploads per robot"
    rows = run.read_jsonl("uploads.jsonl")
    if rows is None:
        return Section("uploads", title, missing=("uploads.jsonl is missing: no upload seen.",))
    samples: dict[str, list[tuple[float, float]]] = {}
    skipped = 0
    for row in rows:
        robot = as_str(row.get("robot_id"))
        when = as_timestamp(row.get("time"))
        size = as_float(row.get("bytes"))
        if not robot or when is None or size is None or size < 0:
            skipped += 1
            continue
        samples.setdefault(robot, []).append((when, size))
    missing = []
    if skipped:
        missing.append(f"uploads.jsonl: {skipped} row(s) without a robot, time or size.")
    if not samples:
        return Section("uploads", title, missing=(*missing, "uploads.jsonl lists no upload."))
    origin = time_origin(run, [t for points in samples.values() for t, _ in points])
    assert origin is not None  # there are samples
    robots = sorted(samples)
    fig = figure(10.0, 3.0)
    ax = fig.subplots()
    table = []
    for robot in robots:
        points = sorted(samples[robot])
        minutes = [(t - origin) / 60.0 for t, _ in points]
        total = 0.0
        cumulative = []
        for _, size in points:
            total += size
            cumulative.append(total / 1e6)
        colour = colour_of(robot, robots)
        ax.step([minutes[0], *minutes], [0.0, *cumulative], where="post", color=colour,
                label=plot_label(robot), linewidth=1.8)  # fmt: skip
        ax.plot(minutes, cumulative, ".", color=colour)
        table.append(
            {
                "robot": robot,
                "objects": len(points),
                "bytes": total,
                "first": points[0][0],
                "last": points[-1][0],
            }
        )
    ax.set_xlabel("minutes into the run")
    ax.set_ylabel("uploaded (MB)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    body = render(_UPLOADS, robots=table, origin=origin, plot=to_svg(fig, "uploads"))
    return Section("uploads", title, body, tuple(missing))
