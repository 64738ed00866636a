"""Policy inference at batch 1: onnxruntime against torch eager for the same MLP.

The MLP is the one ``fw_policy.model_file`` makes (observation spec size → 64 → 64 → 2, tanh),
exported to ONNX and loaded through ``fw_policy.onnx_model.load_model`` exactly as the robot
loads it (1 intra-op thread, the profile default). torch runs the same module eagerly under
``torch.inference_mode()`` with 1 thread, so neither side gets more cores. Both are timed per
call on the same observation, interleaved in rounds so machine load hits both alike.

Run it (holding the shared benchmark lock) from the repository root::

    . .venv/bin/activate && cd ros2_ws && . install/setup.bash && cd ..
    flock /tmp/fw-bench.lock python bench/bench_inference.py --calls 20000

Targets: onnxruntime ≥ 3× faster than torch eager (median), and under 0.2 ms median.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from fw_common.observation import DEFAULT_SPEC
from fw_policy.model_file import export_torch, make_mlp, write_metadata
from fw_policy.onnx_model import load_model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20000, help="timed calls per runtime")
    parser.add_argument("--rounds", type=int, default=20, help="interleaved rounds")
    args = parser.parse_args()
    torch.set_num_threads(1)
    module = make_mlp(DEFAULT_SPEC.size, seed=0)
    obs = np.random.default_rng(0).uniform(0, 1, DEFAULT_SPEC.size).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mlp.onnx"
        export_torch(module, DEFAULT_SPEC.size, path)
        write_metadata(path, DEFAULT_SPEC.spec_id, (1.0, 1.0), "bench")
        model = load_model(path, DEFAULT_SPEC, threads=1)

    x = torch.from_numpy(obs).reshape(1, -1)
    with torch.inference_mode():
        expected = module(x).numpy().reshape(-1)
    assert np.allclose(model.run(obs), expected, atol=1e-5), "runtimes disagree"

    def torch_call() -> None:
        with torch.inference_mode():
            module(torch.from_numpy(obs).reshape(1, -1)).numpy()

    def ort_call() -> None:
        model.run(obs)

    times: dict[str, list[float]] = {"onnxruntime": [], "torch eager": []}
    per_round = max(args.calls // args.rounds, 1)
    for fn in (ort_call, torch_call):  # warm-up
        for _ in range(200):
            fn()
    for _ in range(args.rounds):
        for name, fn in (("onnxruntime", ort_call), ("torch eager", torch_call)):
            bucket = times[name]
            for _ in range(per_round):
                t0 = time.perf_counter_ns()
                fn()
                bucket.append((time.perf_counter_ns() - t0) / 1e6)
    stats = {k: (float(np.median(v)), float(np.percentile(v, 99))) for k, v in times.items()}
    print(f"MLP {DEFAULT_SPEC.size}→64→64→2, batch 1, 1 thread, {per_round * args.rounds} calls")
    print("| runtime | median (ms) | p99 (ms) |")
    print("|---|---|---|")
    for name, (med, p99) in stats.items():
        print(f"| {name} | {med:.4f} | {p99:.4f} |")
    speedup = stats["torch eager"][0] / stats["onnxruntime"][0]
    print(f"speed-up (torch median / onnxruntime median): {speedup:.1f}x")
    met = speedup >= 3.0 and stats["onnxruntime"][0] < 0.2
    print(f"target (>= 3x and < 0.2 ms median): {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
