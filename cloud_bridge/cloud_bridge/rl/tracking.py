"""MLflow tracking of a PPO run, with the behaviour-cloning runs' conventions.

The store is ``MLFLOW_TRACKING_URI`` when set (or the configured URI), else a SQLite database
in the run folder (``sqlite:///<out>/mlflow.db``, artifacts under ``<out>/mlartifacts``): every
run is tracked with no server and the folder is the whole record (MLflow's file store is in
maintenance mode and refuses new stores). The client API is used, not the fluent one, so no
global "active run" leaks out of training; telemetry is off.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["PpoRun", "resolve_tracking_uri"]

_QUIET = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


def resolve_tracking_uri(configured: str | None, out_dir: Path) -> tuple[str, str | None]:
    """The tracking URI and where a new experiment keeps its artifacts (None: the store's
    default). A SQLite store keeps them beside its database: MLflow's own default is
    ``./mlruns`` in whatever folder the command ran from."""
    uri = configured or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        out = out_dir.resolve()
        return f"sqlite:///{out / 'mlflow.db'}", (out / "mlartifacts").as_uri()
    if uri.startswith("sqlite:///"):
        database = Path(uri.removeprefix("sqlite:///"))
        return uri, (database.parent / "mlartifacts").resolve().as_uri()
    return uri, None


class PpoRun:
    """One MLflow run: parameters, metrics by timestep, tags, artifacts, then its status."""

    def __init__(
        self, uri: str, experiment: str, artifact_location: str | None, run_name: str
    ) -> None:
        for name, value in _QUIET.items():
            os.environ.setdefault(name, value)
        from mlflow.tracking import MlflowClient

        # After the import: importing mlflow sets its own loggers to INFO.
        for name in ("mlflow", "alembic"):
            logging.getLogger(name).setLevel(logging.WARNING)
        self.uri = uri
        self.client = MlflowClient(tracking_uri=uri)
        found = self.client.get_experiment_by_name(experiment)
        experiment_id = (
            found.experiment_id
            if found is not None
            else self.client.create_experiment(experiment, artifact_location=artifact_location)
        )
        self.run_id: str = self.client.create_run(experiment_id, run_name=run_name).info.run_id

    def log_params(self, params: Mapping[str, Any]) -> None:
        from mlflow.entities import Param

        self.client.log_batch(
            self.run_id, params=[Param(k, str(v)[:6000]) for k, v in sorted(params.items())]
        )

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self.client.log_batch(
            self.run_id, metrics=[Metric(k, float(v), now, step) for k, v in metrics.items()]
        )

    def set_tags(self, tags: Mapping[str, str]) -> None:
        for key, value in tags.items():
            self.client.set_tag(self.run_id, key, value)

    def log_artifact(self, path: Path) -> None:
        self.client.log_artifact(self.run_id, str(path))

    def end(self, ok: bool) -> None:
        self.client.set_terminated(self.run_id, "FINISHED" if ok else "FAILED")
