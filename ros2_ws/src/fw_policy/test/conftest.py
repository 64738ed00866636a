"""Test models are generated here (torch → ONNX, metadata with onnx), never checked in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fw_policy.model_file import main as make_model


@pytest.fixture(scope="session")
def model_factory(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``model_factory("mlp", "--spec-id", "x")`` → path of a freshly exported model (cached
    per argument list for the session)."""
    folder = tmp_path_factory.mktemp("models")
    made: dict[tuple[str, ...], Path] = {}

    def make(kind: str, *args: str) -> Path:
        key = (kind, *args)
        if key not in made:
            path = folder / f"model_{len(made)}.onnx"
            assert make_model([kind, str(path), *args]) == 0
            made[key] = path
        return made[key]

    return make
