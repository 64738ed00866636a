"""Writing Flywheel policy models: metadata on an ONNX file, and small test models.

``write_metadata`` is what the training side calls after ``torch.onnx.export``. The
``python -m fw_policy.model_file`` command makes the small models the tests and benchmarks use,
so no unexplained model blob is ever checked in::

    python -m fw_policy.model_file mlp /tmp/mlp.onnx            # random tiny MLP
    python -m fw_policy.model_file constant /tmp/turn.onnx --action 0 0.3
    python -m fw_policy.model_file mlp /tmp/bad.onnx --spec-id 0000000000000000
    python -m fw_policy.model_file nan /tmp/nan.onnx            # non-finite output

torch and onnx are imported only here (training/test dependencies, not needed to run a model).
"""

from __future__ import annotations

import argparse
import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fw_common.observation import DEFAULT_SPEC
from fw_policy.onnx_model import (
    ACTION_SCALE_KEY,
    INPUT_NAME,
    MODEL_VERSION_KEY,
    OUTPUT_NAME,
    SPEC_ID_KEY,
)

__all__ = ["export_torch", "main", "make_mlp", "write_metadata"]


def write_metadata(
    path: str | Path, spec_id: str, action_scale: Sequence[float], version: str
) -> None:
    """Add (or replace) the Flywheel metadata of an ONNX file, in place."""
    import onnx

    model = onnx.load(str(path))
    values = {
        SPEC_ID_KEY: spec_id,
        ACTION_SCALE_KEY: json.dumps([float(v) for v in action_scale]),
        MODEL_VERSION_KEY: version,
    }
    kept = [p for p in model.metadata_props if p.key not in values]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    for key, value in values.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))


def make_mlp(inputs: int, hidden: int = 64, seed: int = 0, outputs: int = 2) -> Any:
    """A tiny MLP with a tanh head (actions in [-1, 1]), seeded weights."""
    import torch

    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(inputs, hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, outputs),
        torch.nn.Tanh(),
    ).eval()


def export_torch(module: Any, inputs: int, path: str | Path, dynamic_batch: bool = True) -> None:
    """``torch.onnx.export`` with the Flywheel input/output names (TorchScript exporter)."""
    import torch

    example = torch.zeros(1, inputs)
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated but needs no onnxscript; fine for MLPs.
        warnings.simplefilter("ignore", DeprecationWarning)
        _export(torch, module, example, path, dynamic_batch)


def _export(torch: Any, module: Any, example: Any, path: str | Path, dynamic_batch: bool) -> None:
    torch.onnx.export(
        module,
        (example,),
        str(path),
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}}
        if dynamic_batch
        else None,
        dynamo=False,
    )


def _constant(inputs: int, action: Sequence[float]) -> Any:
    import torch

    module = make_mlp(inputs)
    with torch.no_grad():
        last = module[4]
        last.weight.zero_()
        last.bias.copy_(torch.atanh(torch.tensor([float(a) for a in action])))
    return module


def _nan(inputs: int) -> Any:
    import torch

    class NanHead(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = make_mlp(inputs)

        def forward(self, x: Any) -> Any:
            return self.body(x) * float("nan")

    return NanHead().eval()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=("mlp", "constant", "nan"))
    parser.add_argument("path")
    parser.add_argument(
        "--inputs",
        type=int,
        default=DEFAULT_SPEC.size,
        help="observation size (default: the default spec's)",
    )
    parser.add_argument("--spec-id", default=DEFAULT_SPEC.spec_id)
    parser.add_argument("--action-scale", type=float, nargs=2, default=(0.8, 1.0))
    parser.add_argument(
        "--action",
        type=float,
        nargs=2,
        default=(0.0, 0.3),
        help="normalised action of a 'constant' model",
    )
    parser.add_argument("--version", default="test")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.kind == "mlp":
        module = make_mlp(args.inputs, seed=args.seed)
    elif args.kind == "constant":
        module = _constant(args.inputs, args.action)
    else:
        module = _nan(args.inputs)
    export_torch(module, args.inputs, args.path)
    write_metadata(args.path, args.spec_id, args.action_scale, args.version)
    print(args.path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
