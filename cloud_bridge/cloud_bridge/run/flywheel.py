"""The flywheel end to end, as a sequence of idempotent stages in one run folder.

::

    keys                        signing keys and the release repository in the store
    for k in 0 .. iterations-1:
      drive-<k>                 the fleet drives (k = 0: the expert; else v<k>, supervised)
      dataset-<k>               the store's episodes re-run into the (growing) dataset
      train-<k>                 v<k+1> on the whole dataset (DAgger's aggregation)
      evaluate-<k>              v<k+1> against its baseline on held-out scenarios, gated
      publish-<k>               v<k+1> to canary; every robot swaps (the last: also stable)
    faulty                      a faulty release, rolled back by the robots on their own
    ppo                         a PPO candidate from the last release, scored and gated
    leaderboard, report

A :class:`~cloud_bridge.run.sampler.StoreSampler` logs the agents' status changes and the
uploads for the whole run; the fleet is stopped whatever way the run ends.

With ``--external-robots`` the fleet is not the run's (:mod:`cloud_bridge.run.external_fleet`):
the drive stages wait for the robots' uploads instead of starting them; with ``--keys`` the
``keys`` stage uses (and checks) an earlier ``flywheel keys init``'s keys.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console

from cloud_bridge.run.closing import run_leaderboard, run_report
from cloud_bridge.run.drive import run_drive, run_external_drive
from cloud_bridge.run.external_fleet import ExternalFleet
from cloud_bridge.run.faulty import run_faulty
from cloud_bridge.run.files import read_json, write_json
from cloud_bridge.run.fleet_session import FleetSession
from cloud_bridge.run.layout import RunLayout, release_name
from cloud_bridge.run.learning import run_dataset, run_evaluate, run_train
from cloud_bridge.run.options import RunOptions, check_resume
from cloud_bridge.run.ppo import PPO_RELEASE, run_ppo
from cloud_bridge.run.publishing import run_publish
from cloud_bridge.run.releases_log import ReleaseDesk, init_keys, use_keys
from cloud_bridge.run.sampler import StoreSampler
from cloud_bridge.run.stages import StageBook, StageError, utc_now
from cloud_bridge.store import ObjectStore, open_store

__all__ = ["Flywheel", "stage_names"]

_log = logging.getLogger(__name__)


def stage_names(options: RunOptions) -> list[str]:
    """Every stage of a run with ``options``, in order."""
    names = ["keys"]
    for k in range(options.iterations):
        names += [f"drive-{k}", f"dataset-{k}", f"train-{k}", f"evaluate-{k}", f"publish-{k}"]
    if options.faulty:
        names.append("faulty")
    if options.ppo_minutes > 0:
        names.append("ppo")
    return [*names, "leaderboard", "report"]


class Flywheel:
    """One run folder's flywheel (see the module docstring)."""

    def __init__(self, options: RunOptions, console: Console | None = None) -> None:
        self.options = options
        self.layout = RunLayout(Path(options.run_dir).resolve())
        self.console = console or Console(stderr=True)
        self.book = StageBook(self.layout)
        self.store: ObjectStore = open_store(
            options.store_url, endpoint_url=options.endpoint_url, region=options.region
        )
        self.session: FleetSession = (
            ExternalFleet(options, self.layout)
            if options.external
            else FleetSession(options, self.layout)
        )
        #: The signing keys: ``--keys`` when given, else the run folder's own.
        self.keys = None if options.keys is None else Path(options.keys).resolve()
        self.desk = ReleaseDesk(self.store, self.layout, options.fleet, self.keys)

    def _start(self) -> None:
        """``run.json``: written by the first run, checked by every re-run."""
        from cloud_bridge.train.code_version import code_version

        doc = read_json(self.layout.run_json)
        if doc is not None:
            check_resume(RunOptions.from_dict(doc["options"]), self.options)
            return
        write_json(
            self.layout.run_json,
            {
                "started": utc_now(),
                "store": self.store.url,
                "robots": self.session.robot_ids,
                "iterations": self.options.iterations,
                "code_version": code_version(),
                "options": self.options.to_dict(),
            },
        )

    def run(self) -> None:
        """Every stage not done yet; :class:`StageError` stops the run at the failing one."""
        self.layout.root.mkdir(parents=True, exist_ok=True)
        self._start()
        sampler = StoreSampler(self.store, self.layout, self.session.robot_ids)
        try:
            with sampler:
                self._stages(sampler)
        finally:
            self.session.stop()

    def _stages(self, sampler: StoreSampler) -> None:
        book, layout, console = self.book, self.layout, self.console
        store, session, desk, options = self.store, self.session, self.desk, self.options
        if self.keys is None:
            book.run("keys", None, partial(init_keys, store, layout))
        else:
            book.run("keys", None, partial(use_keys, store, layout, self.keys))
        drive = run_external_drive if options.external else run_drive
        for k in range(options.iterations):
            release = release_name(k)
            book.run(f"drive-{k}", k, partial(drive, k, session, store, sampler, console))
            book.run(f"dataset-{k}", k, partial(run_dataset, k, store, layout, console))
            book.run(
                f"train-{k}", k, partial(run_train, k, options, layout, console),
                outputs=[layout.train(release)],
            )  # fmt: skip
            verdict = book.run(
                f"evaluate-{k}", k, partial(run_evaluate, k, options, layout),
                outputs=[layout.evaluation(release), layout.gate(release)],
            )  # fmt: skip
            if not verdict.result["passed"]:
                raise StageError(
                    f"evaluate-{k}",
                    f"{release} failed its gate against {verdict.result['baseline']} and is not "
                    "published: " + "; ".join(verdict.result["reasons"]),
                )
            book.run(
                f"publish-{k}", k,
                partial(run_publish, k, book, desk, session, store, sampler, console),
            )  # fmt: skip
        if options.faulty:
            book.run(
                "faulty", None, partial(run_faulty, book, desk, session, store, sampler, console),
                outputs=[layout.faulty],
            )  # fmt: skip
        session.stop()  # the closing stages are the cloud's alone
        if options.ppo_minutes > 0:
            book.run(
                "ppo", None, partial(run_ppo, options, layout),
                outputs=[layout.train(PPO_RELEASE), layout.evaluation(PPO_RELEASE),
                         layout.gate(PPO_RELEASE)],
            )  # fmt: skip
        book.run(
            "leaderboard", None, partial(run_leaderboard, options, layout),
            outputs=[layout.leaderboard],
        )  # fmt: skip
        book.run("report", None, partial(run_report, layout), outputs=[layout.report])

    def summary(self) -> dict[str, Any]:
        """What the terminal summary shows: each stage's record (or that it did not run)."""
        records = {r.name: r for r in self.book.records}
        return {name: records.get(name) for name in stage_names(self.options)}
