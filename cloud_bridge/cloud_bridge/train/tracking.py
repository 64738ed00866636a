"""MLflow tracking of a training run (behaviour cloning or PPO): where the store is, and one
run's records.

By default the store is a SQLite database in the run folder (``sqlite:///<out>/mlflow.db``,
artifacts under ``<out>/mlartifacts``): every run is tracked with no server, and the folder is
the whole record. ``MLFLOW_TRACKING_URI`` (or the config's ``tracking_uri``) points it at a
shared server or store instead. MLflow's file store is in maintenance mode and refuses new
stores, hence SQLite.

MLflow is kept quiet and offline: no telemetry, no usage reporting, its INFO chatter off.
The client API is used (not the fluent one) so no global "active run" leaks out of a call.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["TrainingRun", "resolve_tracking_uri"]

_SQLITE = "sqlite:///"
_QUIET = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
#: MLflow's limit on a parameter's value (characters): a longer one (a PPO run's scenario
#: settings, a long path) is cut here rather than refused by a server that does not truncate.
_MAX_PARAM_VALUE = 6000


def resolve_tracking_uri(configured: str | None, out_dir: Path) -> tuple[str, str | None]:
    """The tracking URI (the config's, else ``$MLFLOW_TRACKING_URI``, else the run folder's
    SQLite store) and where a new experiment keeps its artifacts.

    A SQLite store keeps them beside its database (``mlartifacts/``): MLflow's own default is
    ``./mlruns`` in whatever folder the command ran from. A server decides for itself (None).
    """
    uri = configured or os.environ.get("MLFLOW_TRACKING_URI") or ""
    if not uri:
        uri = f"sqlite:///{(out_dir / 'mlflow.db').resolve()}"
    if uri.startswith(_SQLITE):
        database = Path(uri[len(_SQLITE) :])
        return uri, (database.parent.resolve() / "mlartifacts").as_uri()
    return uri, None


def _client(uri: str) -> Any:
    for name, value in _QUIET.items():
        os.environ.setdefault(name, value)
    from mlflow.tracking import MlflowClient

    # After the import: importing mlflow sets its own loggers to INFO.
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)

    return MlflowClient(tracking_uri=uri)


class TrainingRun:
    """One MLflow run: params, per-epoch metrics, tags and artifacts, then its end status."""

    def __init__(
        self, uri: str, experiment: str, artifact_location: str | None, run_name: str
    ) -> None:
        self.uri = uri
        self.client = _client(uri)
        found = self.client.get_experiment_by_name(experiment)
        if found is not None:
            experiment_id = found.experiment_id
        else:
            experiment_id = self.client.create_experiment(
                experiment, artifact_location=artifact_location
            )
        self.run_id: str = self.client.create_run(experiment_id, run_name=run_name).info.run_id

    def log_params(self, params: Mapping[str, Any]) -> None:
        from mlflow.entities import Param

        self.client.log_batch(
            self.run_id,
            params=[Param(k, str(v)[:_MAX_PARAM_VALUE]) for k, v in sorted(params.items())],
        )

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self.client.log_batch(
            self.run_id, metrics=[Metric(k, float(v), now, step) for k, v in metrics.items()]
        )

    def set_tags(self, tags: Mapping[str, str]) -> None:
        for key, value in tags.items():
            self.client.set_tag(self.run_id, key, value)

    def log_artifact(self, path: Path, folder: str | None = None) -> None:
        self.client.log_artifact(self.run_id, str(path), folder)

    def end(self, ok: bool) -> None:
        self.client.set_terminated(self.run_id, "FINISHED" if ok else "FAILED")
