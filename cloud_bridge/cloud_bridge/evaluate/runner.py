"""Running episodes: one after another in this process (the default), or as Ray tasks.

On Ray each episode is one task; results come back in the order of the specs whatever order
the tasks finish in, so a run on Ray gives the very list the serial run gives (each episode is
a pure function of its spec, see :mod:`cloud_bridge.evaluate.episode`).

``ray_address="local"`` starts a private Ray instance with ``ray_cpus`` CPUs (no dashboard),
whose workers inherit this process's environment, ``PYTHONPATH`` included, and stops it at the
end. Any other address joins that cluster (``ray.init(address=...)``) and passes the project's
import paths to the workers in the job's runtime environment, which serves a cluster on this
host or one that mounts the project at the same paths; other clusters need the project
installed on their nodes.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cloud_bridge.evaluate.episode import EpisodeResult, EpisodeSpec, EpisodeTiming, run_episode

__all__ = ["LOCAL", "project_pythonpath", "ray_session", "run_episodes"]

#: ``ray_address`` that starts a private local Ray instance.
LOCAL = "local"

#: Callback with each finished episode (progress bars).
OnResult = Callable[[EpisodeResult], None]
Outcome = tuple[EpisodeResult, EpisodeTiming]

#: How long to wait for a cluster's address to accept a connection (s): ray.init itself keeps
#: retrying an address where nothing listens, far longer than a person waits for a typo.
_CONNECT_TIMEOUT_S = 10.0

#: Packages a worker imports to run an episode.
_PACKAGES = (
    "cloud_bridge",
    "fw_actuator_bridge",
    "fw_bringup",
    "fw_common",
    "fw_perception",
    "fw_policy",
    "fw_safety",
    "fw_sim",
)


def project_pythonpath() -> str:
    """``PYTHONPATH`` that finds the project's packages as this process finds them."""
    roots: list[str] = []
    for name in _PACKAGES:
        module = sys.modules.get(name) or __import__(name)
        location = getattr(module, "__file__", None)
        if location is None:
            continue
        root = str(Path(location).resolve().parent.parent)
        if root not in roots:
            roots.append(root)
    inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return os.pathsep.join(roots + [p for p in inherited if p not in roots])


def run_episodes(
    specs: Sequence[EpisodeSpec],
    *,
    ray_address: str | None = None,
    ray_cpus: int = 2,
    on_result: OnResult | None = None,
) -> list[Outcome]:
    """Run every spec; outcomes in the order of ``specs``."""
    if ray_address is None:
        outcomes = []
        for spec in specs:
            outcome = run_episode(spec)
            outcomes.append(outcome)
            if on_result is not None:
                on_result(outcome[0])
        return outcomes
    return _run_on_ray(specs, ray_address, ray_cpus, on_result)


@contextmanager
def ray_session(address: str | None, cpus: int = 2) -> Iterator[None]:
    """Ray connected for the block (nothing for ``address=None``): started or joined here and
    stopped at the end, unless this process was already connected, so several evaluations
    (a candidate and its baseline) share one start-up. ``ConnectionError`` when a cluster
    cannot be reached."""
    if address is None:
        yield
        return
    import ray

    if ray.is_initialized():
        yield
        return
    if address == LOCAL:
        # address="local": a private instance even where a cluster file says one is running.
        ray.init(address="local", num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    else:
        _check_reachable(address)
        env = {"env_vars": {"PYTHONPATH": project_pythonpath()}}
        ray.init(address=address, runtime_env=env, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def _check_reachable(address: str, timeout: float = _CONNECT_TIMEOUT_S) -> None:
    """``ConnectionError`` unless ``[ray://]host:port`` accepts a TCP connection (other forms,
    such as ``auto``, are left to Ray)."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as exc:
        raise ConnectionError(f"nothing accepts connections at {address}: {exc}") from exc


def _run_on_ray(
    specs: Sequence[EpisodeSpec], address: str, cpus: int, on_result: OnResult | None
) -> list[Outcome]:
    import ray

    with ray_session(address, cpus):
        task: Any = ray.remote(num_cpus=1)(run_episode)
        refs = [task.remote(spec) for spec in specs]
        slot = {ref: i for i, ref in enumerate(refs)}
        outcomes: list[Outcome | None] = [None] * len(refs)
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                outcome: Outcome = ray.get(ref)
                outcomes[slot[ref]] = outcome
                if on_result is not None:
                    on_result(outcome[0])
        return [o for o in outcomes if o is not None]
