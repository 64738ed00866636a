"""The stages' progress bars: a row per task (a robot, a release, a training run) with its
count, a note of what it waits for, and the time it has taken."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["stage_progress"]


def stage_progress(console: Console) -> Progress:
    """A progress display on ``console``; each task needs a ``note`` field."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=console,
    )
