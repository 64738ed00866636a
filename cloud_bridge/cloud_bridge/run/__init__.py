"""``flywheel run``: the flywheel end to end on a simulated fleet, in resumable stages.

One idea per module:

- :mod:`~cloud_bridge.run.options`: what a run does (every choice, its defaults: the demo's);
- :mod:`~cloud_bridge.run.layout`: the run folder; :mod:`~cloud_bridge.run.files`: its files;
- :mod:`~cloud_bridge.run.stages`: idempotent stages (``stages/<name>.json``);
- :mod:`~cloud_bridge.run.fleet_session`: the simulated fleet, up when robots are needed;
- :mod:`~cloud_bridge.run.missions`: which scenarios each robot drives, and its mission log;
- :mod:`~cloud_bridge.run.drive`: the drive stages (episodes recorded and uploaded);
- :mod:`~cloud_bridge.run.learning`: dataset, training, evaluation and the gate;
- :mod:`~cloud_bridge.run.releases_log`: keys, signed releases and ``releases.json``;
- :mod:`~cloud_bridge.run.publishing`: publish a release, watch the robots swap;
- :mod:`~cloud_bridge.run.faulty`: a faulty release the robots roll back on their own;
- :mod:`~cloud_bridge.run.agents`, :mod:`~cloud_bridge.run.sampler`: the agents' status
  objects, and the timeline and uploads sampled from the store;
- :mod:`~cloud_bridge.run.closing`: the leaderboard and the report;
- :mod:`~cloud_bridge.run.flywheel`: the stages in order; :mod:`~cloud_bridge.run.summary`:
  the terminal summary; :mod:`~cloud_bridge.run.command`: the command line.
"""

from cloud_bridge.run.options import RunOptions

__all__ = ["RunOptions"]
