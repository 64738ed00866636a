"""Training curves: each release's per-epoch losses (``train/<release>/train_summary.json``,
its ``history``) and what it was trained on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cloud_bridge.report.html import Section, render
from cloud_bridge.report.run_folder import RunFolder, as_float, as_int, as_str, release_order
from cloud_bridge.report.svg import colour_of, figure, plot_label, to_svg

__all__ = ["training_section"]

_SUMMARY = "train_summary.json"

_TRAINING = """
<p>Loss per epoch: weighted behaviour-cloning loss on the training steps and on the held-out
validation episodes; the kept epoch is the one with the lowest validation loss.</p>
{{ plot }}
<table>
<thead><tr><th>release</th><th>epochs</th><th>kept epoch</th><th>train loss</th>
<th>val loss</th><th>train / val steps</th><th>take-over steps</th><th>wall time (s)</th>
<th>datasets</th></tr></thead>
<tbody>
{% for t in rows %}
<tr><td class="release">{{ t.release }}</td><td class="num">{{ t.history | length }}</td>
<td class="num">{{ t.metrics.get("best_epoch") | number }}</td>
<td class="num">{{ t.metrics.get("train_loss") | number }}</td>
<td class="num">{{ t.metrics.get("val_loss") | number }}</td>
<td class="num">{{ t.metrics.get("train_steps") | number(6) }} /
{{ t.metrics.get("val_steps") | number(6) }}</td>
<td class="num">{{ t.metrics.get("takeover_steps") | number(6) }}</td>
<td class="num">{{ t.wall_s | number }}</td>
<td>{% for h in t.datasets %}<code title="{{ h }}">{{ h | short }}</code> {% endfor %}</td></tr>
{% endfor %}
</tbody></table>
"""


@dataclass(frozen=True)
class _TrainingRun:
    """One release's training summary, as the page shows it."""

    release: str
    #: Per-epoch records (``EpochRecord`` dicts).
    history: list[Any]
    metrics: dict[str, Any]
    wall_s: Any
    #: Hashes of the datasets it was trained on.
    datasets: list[str]


def _curve(history: list[Any], key: str) -> tuple[list[float], list[float]]:
    epochs: list[float] = []
    values: list[float] = []
    for record in history:
        if not isinstance(record, dict):
            continue
        epoch, value = as_float(record.get("epoch")), as_float(record.get(key))
        if epoch is not None and value is not None:
            epochs.append(epoch)
            values.append(value)
    return epochs, values


def training_section(run: RunFolder) -> Section:
    title = "Training curves"
    rows = []
    missing = []
    for folder in sorted(p for p in (run.root / "train").glob("*") if p.is_dir()):
        summary = run.read_json(folder.relative_to(run.root) / _SUMMARY)
        if not isinstance(summary, dict):
            missing.append(f"train/{folder.name}/{_SUMMARY} is missing: no curves for it.")
            continue
        history = summary.get("history")
        metrics = summary.get("metrics")
        datasets = summary.get("datasets")
        rows.append(
            _TrainingRun(
                release=folder.name,
                history=history if isinstance(history, list) else [],
                metrics=metrics if isinstance(metrics, dict) else {},
                wall_s=summary.get("wall_time_s"),
                datasets=[
                    as_str(d.get("dataset_hash"))
                    for d in (datasets if isinstance(datasets, list) else [])
                    if isinstance(d, dict)
                ],
            )
        )
    if not rows:
        return Section(
            "training",
            title,
            missing=(*missing, "No training summary in train/: no release was trained yet."),
        )
    rows.sort(key=lambda r: release_order(r.release))
    names = [r.release for r in rows]
    fig = figure(10.0, 3.2)
    axes = fig.subplots(1, 2, sharey=True)
    positive = True
    for ax, (key, label) in zip(
        axes, (("train_loss", "training loss"), ("val_loss", "validation loss")), strict=True
    ):
        for row in rows:
            epochs, values = _curve(row.history, key)
            if not values:
                continue
            positive = positive and min(values) > 0
            colour = colour_of(row.release, names)
            ax.plot(epochs, values, color=colour, label=plot_label(row.release), linewidth=1.6)
            best = as_int(row.metrics.get("best_epoch"))
            if best is not None and best in epochs:
                ax.plot([best], [values[epochs.index(best)]], "o", color=colour)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    if positive:
        axes[0].set_yscale("log")
    if any(_curve(r.history, "train_loss")[1] for r in rows):
        axes[0].legend(fontsize=8)
    for row in rows:
        if not row.history:
            missing.append(f"train/{row.release}: the summary has no per-epoch history.")
    body = render(_TRAINING, rows=rows, plot=to_svg(fig, "training"))
    return Section("training", title, body, tuple(missing))
