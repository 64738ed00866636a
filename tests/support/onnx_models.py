"""Small ONNX policy models for tests, written with fw_policy's own model tool."""

from __future__ import annotations

from pathlib import Path

from fw_policy.model_file import main as make


def make_model(path: Path, kind: str, *args: str) -> Path:
    """``kind`` is ``mlp``, ``constant`` or ``nan`` (see ``fw_policy.model_file``)."""
    assert make([kind, str(path), *args]) == 0
    return path
