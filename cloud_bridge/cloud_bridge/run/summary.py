"""The terminal summary at the end of ``flywheel run``: one row per stage, one per release."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from cloud_bridge.run.stages import StageRecord

__all__ = ["print_summary", "stage_note"]


def _pct(interval: Any) -> str:
    if not isinstance(interval, dict) or interval.get("value") is None:
        return "-"
    value, low, high = (100 * interval[k] for k in ("value", "low", "high"))
    return f"{value:.0f} % [{low:.0f}, {high:.0f}]"


def stage_note(record: StageRecord) -> str:
    """One line on what the stage did."""
    r = record.result
    name = record.name
    if r.get("available") is False:
        return f"not available: {r.get('reason')}"
    if name.startswith("drive-") and r.get("external"):
        return f"{r['episodes']} new episodes uploaded by the external robots"
    if name.startswith("drive-"):
        return f"{r['episodes']} episodes ({r['reached']} reached), driver {r['driver']}"
    if name.startswith("dataset-"):
        return (
            f"{r['episodes']} episodes, {r['steps']} steps, "
            f"new {r['last_build'].get('decoded', 0)}, hash {str(r['dataset_hash'])[:12]}"
        )
    if name.startswith("train-"):
        m = r["metrics"]
        return f"{r['release']}: {m['epochs']:.0f} epochs, val loss {m['val_loss']:.4g}"
    if name.startswith("evaluate-"):
        rates = r["success_rate"]
        verdict = "passed" if r["passed"] else "FAILED"
        return (
            f"{r['candidate']} {_pct(rates[r['candidate']])} vs {r['baseline']} "
            f"{_pct(rates[r['baseline']])}: gate {verdict}"
        )
    if name.startswith("publish-"):
        swaps = ", ".join(f"{k} {v:.0f} s" for k, v in r["swapped_after_s"].items())
        return f"{r['release']} on {'+'.join(r['channels'])}; swapped: {swaps}"
    if name == "faulty":
        backs = ", ".join(f"{k} {v['after_s']:.0f} s" for k, v in r["rolled_back"].items())
        return f"rolled back by the robots: {backs}"
    if name == "keys":
        return f"repository in {r['store']}"
    return str(r.get("file", ""))


def print_summary(
    stages: dict[str, StageRecord | None], releases: list[dict[str, Any]], console: Console
) -> None:
    table = Table(title="flywheel run")
    for column in ("stage", "wall s", "state", "what it did"):
        table.add_column(column, justify="right" if column == "wall s" else "left")
    for name, record in stages.items():
        if record is None:
            table.add_row(name, "-", "[yellow]not run[/yellow]", "")
            continue
        if record.result.get("available") is False:
            state = "[yellow]n/a[/yellow]"
        else:
            state = "done before" if record.skipped else "[green]done[/green]"
        table.add_row(name, f"{record.wall_s:.1f}", state, stage_note(record))
    console.print(table)
    if releases:
        chain = Table(title="releases")
        for column in ("release", "channel", "action", "parent", "gate", "time"):
            chain.add_column(column)
        for e in releases:
            gate = e.get("gate")
            text = (
                gate
                if isinstance(gate, str)
                else (f"passed vs {gate.get('baseline')}" if isinstance(gate, dict) else "-")
            )
            chain.add_row(
                str(e.get("release")), str(e.get("channel")), str(e.get("action")),
                str(e.get("parent") or "-"), text[:60], str(e.get("time")),
            )  # fmt: skip
        console.print(chain)
