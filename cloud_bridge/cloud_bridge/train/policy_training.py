"""``train_policy``: datasets in, a checked ONNX policy out, the run tracked in MLflow.

1. Read every dataset root (DAgger's aggregation: the union of all iterations' datasets) and
   pool their observation statistics into the input normalisation.
2. Turn the steps into examples (targets from the expert's labels or the executed command,
   take-over steps weighted) and hold out whole episodes for validation.
3. Build the network with the run's seed (or resume a parent's weights) and fit it with early
   stopping; each epoch's curves go to MLflow. An ensemble (``ensemble_size``) fits each member
   in turn, each with its own seed, on the same split.
4. Export to ONNX with the spec, action scale, dataset hashes and code version in its metadata,
   check parity with torch and that ``fw_policy`` accepts it, and log it as an artifact.
5. Save ``policy.pt`` (for the next iteration) and ``train_summary.json`` in the run folder.

The run folder then holds ``model.onnx``, ``policy.pt``, ``train_summary.json`` and (with the
default tracking) ``mlflow.db`` and ``mlartifacts/``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cloud_bridge.train.checkpoint import CHECKPOINT_NAME, load_parent, save_checkpoint
from cloud_bridge.train.code_version import code_version
from cloud_bridge.train.config import TrainConfig
from cloud_bridge.train.dataset_root import read_dataset_root
from cloud_bridge.train.ensemble import PolicyEnsemble, member_seed
from cloud_bridge.train.errors import TrainError
from cloud_bridge.train.examples import Examples, build_examples
from cloud_bridge.train.export import export_policy
from cloud_bridge.train.fit import EpochRecord, FitResult, evaluate_loss, fit
from cloud_bridge.train.normalisation import pooled_normalisation
from cloud_bridge.train.split import validation_episodes
from cloud_bridge.train.tracking import TrainingRun, resolve_tracking_uri
from fw_common.observation import spec_by_name

__all__ = ["MODEL_NAME", "SUMMARY_NAME", "TrainResult", "train_policy"]

MODEL_NAME = "model.onnx"
SUMMARY_NAME = "train_summary.json"


@dataclass(frozen=True)
class TrainResult:
    """The checked model, the run's final figures and its MLflow run id."""

    onnx_path: Path
    #: ``best_epoch``, ``epochs``, ``train_loss`` and ``val_loss`` (of the kept epoch; an
    #: ensemble's first member's, and ``ensemble_val_loss`` of the average),
    #: ``parity_max_abs_diff``, step and episode counts.
    metrics: dict[str, float]
    run_id: str
    summary_path: Path | None = None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _finite_or_null(value: Any) -> Any:
    """``value`` with every non-finite float as None: NaN is not JSON (the validation curve of
    a run without a validation set)."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite_or_null(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_or_null(v) for v in value]
    return value


def _params(config: TrainConfig, roots: Sequence[Path], hashes: Sequence[str]) -> dict[str, Any]:
    params: dict[str, Any] = {
        k: v for k, v in dataclasses.asdict(config).items() if k not in ("tracking_uri",)
    }
    params["dataset_roots"] = ",".join(str(r) for r in roots)
    params["dataset_hash"] = ",".join(hashes)
    return params


def _fit_member(
    network: PolicyEnsemble,
    index: int,
    train: Examples,
    validation: Examples,
    config: TrainConfig,
    run: TrainingRun,
    on_epoch: Callable[[EpochRecord], None] | None,
) -> FitResult:
    """Fit member ``index`` with its own seed (batch order); its curves go to MLflow, those of
    members after the first with the member in the metric's name."""
    suffix = f"_member{index}" if index else ""

    def record(epoch: EpochRecord) -> None:
        run.log_metrics({k + suffix: v for k, v in epoch.metrics().items()}, step=epoch.epoch)
        if on_epoch is not None:
            on_epoch(epoch)

    seeded = dataclasses.replace(config, seed=member_seed(config.seed, index))
    held_out = validation if len(validation) else None
    return fit(network.networks[index], train, held_out, seeded, record, member=index)


def train_policy(
    dataset_roots: Sequence[Path],
    out_dir: Path,
    config: TrainConfig | None = None,
    *,
    on_epoch: Callable[[EpochRecord], None] | None = None,
) -> TrainResult:
    """Train a policy on the union of ``dataset_roots`` into ``out_dir`` (created).

    ``on_epoch`` sees each epoch's figures as they come (a progress bar). Raises
    :class:`TrainError` for datasets it cannot use, a parent that does not fit, or an export
    that fails its checks; the MLflow run is then marked FAILED.
    """
    config = config or TrainConfig()
    if not dataset_roots:
        raise TrainError("no dataset given")
    started = time.monotonic()
    spec = spec_by_name(config.observation_spec)
    roots = [read_dataset_root(Path(r), spec.size) for r in dataset_roots]
    hashes = [r.dataset_hash for r in roots]
    for index, value in enumerate(hashes):
        if value in hashes[:index]:
            first = roots[hashes.index(value)].root
            # The union would count its steps twice, silently doubling their weight.
            raise TrainError(f"{roots[index].root} is the same dataset as {first} ({value})")
    names = spec.feature_names()
    unknown = [n for n in config.masked_features if n not in names]
    if unknown:
        raise TrainError(f"masked_features {unknown} are not features of {spec.name}: {names}")
    masked = [names.index(n) for n in config.masked_features]
    normalisation = pooled_normalisation([r.observation_stats for r in roots])
    examples = build_examples(roots, spec, config.action_scale, config.takeover_weight)
    held_out = validation_episodes(examples.episodes, config.validation_fraction, config.seed)
    train, validation = examples.subset(~held_out), examples.subset(held_out)

    out_dir = Path(out_dir)
    for name in (MODEL_NAME, SUMMARY_NAME, CHECKPOINT_NAME):
        if (out_dir / name).exists():
            # Never overwrite a finished run's model: a release may point at it.
            raise TrainError(f"{out_dir} already holds a run ({name}): give a new run folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    uri, artifact_location = resolve_tracking_uri(config.tracking_uri, out_dir)
    run = TrainingRun(uri, config.experiment, artifact_location, run_name=out_dir.name)
    ok = False
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(config.threads)
        run.log_params(_params(config, [r.root for r in roots], hashes))
        run.set_tags({"fw.spec_id": spec.spec_id, "fw.dataset_hash": ",".join(hashes)})
        # Seeded inside fork_rng: the seed decides this run's initial weights without touching
        # the caller's global torch RNG.
        network = PolicyEnsemble.seeded(
            config.ensemble_size, config.seed, normalisation, config.hidden, masked
        )
        parent = (
            load_parent(config.parent, network, spec.spec_id, config.action_scale)
            if config.parent is not None
            else None
        )
        fits = [
            _fit_member(network, index, train, validation, config, run, on_epoch)
            for index in range(config.ensemble_size)
        ]
        fitted = fits[0]
        kept = next(e for e in fitted.history if e.epoch == fitted.best_epoch)

        version = config.model_version or f"mlflow-{run.run_id}"
        code = code_version()
        onnx_path = out_dir / MODEL_NAME
        rows = np.random.default_rng(config.seed).permutation(len(examples))[: config.parity_rows]
        parity = export_policy(
            network,
            onnx_path,
            spec=spec,
            action_scale=config.action_scale,
            model_version=version,
            dataset_hashes=hashes,
            code_version=code,
            parity_observations=examples.observations[np.sort(rows)],
            parity_tolerance=config.parity_tolerance,
        )
        save_checkpoint(out_dir / CHECKPOINT_NAME, network, spec.spec_id, config.action_scale)

        metrics: dict[str, float] = {
            "best_epoch": float(fitted.best_epoch),
            "epochs": float(len(fitted.history)),
            "train_loss": kept.train_loss,
            "val_loss": kept.val_loss,
            "parity_max_abs_diff": parity,
            "train_steps": float(len(train)),
            "val_steps": float(len(validation)),
            "train_episodes": float(np.unique(train.episodes).size),
            "val_episodes": float(np.unique(validation.episodes).size),
            "takeover_steps": float(examples.takeover.sum()),
            "dropped_steps": float(examples.dropped),
        }
        if config.ensemble_size > 1 and len(validation):
            # What the exported average scores, against its members' val_loss.
            metrics["ensemble_val_loss"] = evaluate_loss(network, validation)[0]
        run.log_metrics({f"final_{k}": v for k, v in metrics.items() if np.isfinite(v)}, step=0)
        run.set_tags({"fw.model_version": version, "fw.code_version": code})
        run.log_artifact(onnx_path, "model")

        summary = {
            "run_id": run.run_id,
            "tracking_uri": uri,
            "onnx_path": str(onnx_path),
            "onnx_sha256": _sha256(onnx_path),
            "checkpoint": str(out_dir / CHECKPOINT_NAME),
            "parent": str(parent) if parent is not None else None,
            "model_version": version,
            "code_version": code,
            "spec_id": spec.spec_id,
            "action_scale": list(config.action_scale),
            "datasets": [
                {"root": str(r.root), "dataset_hash": r.dataset_hash, "steps": r.steps.num_rows}
                for r in roots
            ],
            "stopped_early": fitted.stopped_early,
            "metrics": metrics,
            "history": [dataclasses.asdict(e) for e in fitted.history],
            # An ensemble's members after the first: "history" above is the first's.
            "members": [
                {
                    "seed": member_seed(config.seed, index),
                    "best_epoch": member.best_epoch,
                    "stopped_early": member.stopped_early,
                    "history": [dataclasses.asdict(e) for e in member.history],
                }
                for index, member in enumerate(fits)
                if index > 0
            ],
            "config": {
                k: str(v) if isinstance(v, Path) else v
                for k, v in dataclasses.asdict(config).items()
            },
            "wall_time_s": round(time.monotonic() - started, 3),
        }
        summary_path = out_dir / SUMMARY_NAME
        text = json.dumps(_finite_or_null(summary), indent=2, allow_nan=False)
        summary_path.write_text(text + "\n", encoding="utf-8")
        run.log_artifact(summary_path)
        ok = True
        return TrainResult(onnx_path, metrics, run.run_id, summary_path)
    finally:
        torch.set_num_threads(threads)
        run.end(ok)
