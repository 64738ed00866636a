"""The provenance of each release: release → dataset hash → episode ids → robots → bag sha256.

A release names the dataset hash it was trained on (``releases.json``, else its training
summary). The episodes behind a hash come from the dataset card (``dataset/card.json``) when it
is that build's, from a dataset stage's result (``stages/dataset-*.json``) that carries the
hash and its episodes, or else are recomputed: the dataset grows by whole builds whose shards
are numbered in order, so each earlier build is a prefix of ``dataset/episodes.json`` by shard,
and :func:`~cloud_bridge.dataset.card.dataset_hash` over that prefix must give the release's
hash. Each episode's robot and bag sha256 (the digest of its files' SHA-256, which the build
verified) are in ``dataset/episodes.json``.
"""

from __future__ import annotations

from typing import Any

from cloud_bridge.dataset.card import dataset_hash
from cloud_bridge.report.html import Section, render
from cloud_bridge.report.run_folder import RunFolder, as_str, release_order
from cloud_bridge.report.timeline import load_releases

__all__ = ["provenance_section"]

_PROVENANCE = """
<p>Each release, the dataset it was trained on, and the recorded episodes in that dataset: the
robot that recorded each one and the SHA-256 of its bag (the digest of the files' SHA-256 that
the dataset build verified against the upload manifest).</p>
{% for r in releases %}
<h3 class="release">{{ r.release }}</h3>
<table class="kv">
<tr><th>channel</th><td>{{ r.channels }}</td></tr>
<tr><th>model sha256</th><td><code>{{ r.model }}</code></td></tr>
<tr><th>parent</th><td>{{ r.parent }}</td></tr>
<tr><th>dataset hash</th><td><code>{{ r.dataset }}</code></td></tr>
<tr><th>episodes</th><td>{{ r.episodes | length }} from {{ r.robots | length }} robot(s):
{{ r.robots | join(", ") }}{% if r.source %} <span class="note">({{ r.source }})</span>
{% endif %}</td></tr>
</table>
{% if r.episodes %}
<details><summary>{{ r.episodes | length }} episodes</summary>
<table>
<thead><tr><th>episode</th><th>robot</th><th>bag sha256</th><th>steps</th></tr></thead>
<tbody>
{% for e in r.episodes %}
<tr><td><code>{{ e.episode }}</code></td><td class="robot">{{ e.robot }}</td>
<td><code>{{ e.bag }}</code></td><td class="num">{{ e.rows }}</td></tr>
{% endfor %}
</tbody></table></details>
{% elif r.dataset %}
<p class="missing">The episodes of dataset {{ r.dataset | short }} are not in the run folder
(neither its card nor a dataset stage's result names them).</p>
{% endif %}
{% endfor %}
"""


class _Datasets:
    """Finds the episodes of a dataset hash in the run folder."""

    def __init__(self, run: RunFolder) -> None:
        index = run.read_json("dataset/episodes.json")
        built = index.get("episodes") if isinstance(index, dict) else None
        pairs = built.items() if isinstance(built, dict) else ()
        self.records: dict[str, dict[str, Any]] = {
            str(k): v for k, v in pairs if isinstance(v, dict)
        }
        self.known: dict[str, tuple[list[str], str]] = {}
        card = run.read_json("dataset/card.json")
        if isinstance(card, dict):
            digest, episodes = card.get("dataset_hash"), card.get("episodes")
            if isinstance(digest, str) and isinstance(episodes, list):
                keys = [as_str(e) for e in episodes if isinstance(e, str)]
                self.known[digest] = (keys, "from dataset/card.json")
        for path in run.files("stages/dataset-*.json"):
            stage = run.read_json(path.relative_to(run.root))
            result = stage.get("result") if isinstance(stage, dict) else None
            for candidate in (result, result.get("card") if isinstance(result, dict) else None):
                if not isinstance(candidate, dict):
                    continue
                digest, episodes = candidate.get("dataset_hash"), candidate.get("episodes")
                if isinstance(digest, str) and isinstance(episodes, list):
                    keys = [as_str(e) for e in episodes if isinstance(e, str)]
                    self.known.setdefault(digest, (keys, f"from stages/{path.name}"))

    def episodes_of(self, digest: str) -> tuple[list[str], str]:
        if digest in self.known:
            return self.known[digest]
        for keys in self._build_prefixes():
            digests = {k: as_str(self.records[k].get("content_sha256")) for k in keys}
            if dataset_hash(digests) == digest:
                return keys, "recomputed from dataset/episodes.json"
        return [], ""

    def _build_prefixes(self) -> list[list[str]]:
        """The episodes of each build so far: every shard up to one, in shard order."""
        shards = sorted({as_str(r.get("shard")) for r in self.records.values()})
        return [
            sorted(k for k, r in self.records.items() if as_str(r.get("shard")) <= last)
            for last in shards
        ]

    def episode_row(self, key: str) -> dict[str, Any]:
        record = self.records.get(key, {})
        robot = as_str(record.get("robot_id")) or key.split("/", 1)[0]
        return {
            "episode": key,
            "robot": robot,
            "bag": as_str(record.get("bag_sha256"), "not in dataset/episodes.json"),
            "rows": as_str(record.get("rows"), "n/a"),
        }


def _releases(run: RunFolder) -> list[dict[str, Any]]:
    """One row per release: from ``releases.json``, else from the training summaries."""
    rows: dict[str, dict[str, Any]] = {}
    for entry in load_releases(run) or []:
        name = as_str(entry.get("release"))
        if not name:
            continue
        row = rows.setdefault(
            name,
            {"release": name, "channels": [], "model": "", "parent": "", "dataset": ""},
        )
        channel = as_str(entry.get("channel"))
        action = as_str(entry.get("action"))
        if channel:
            row["channels"].append(f"{channel} ({action})" if action else channel)
        for field, key in (("model", "model_sha256"), ("parent", "parent"),
                           ("dataset", "dataset_hash")):  # fmt: skip
            row[field] = row[field] or as_str(entry.get(key))
    if not rows:
        for folder in sorted(p for p in (run.root / "train").glob("*") if p.is_dir()):
            summary = run.read_json(folder.relative_to(run.root) / "train_summary.json")
            if not isinstance(summary, dict):
                continue
            datasets = summary.get("datasets")
            first = datasets[0] if isinstance(datasets, list) and datasets else {}
            rows[folder.name] = {
                "release": folder.name,
                "channels": ["not published"],
                "model": as_str(summary.get("onnx_sha256")),
                "parent": as_str(summary.get("parent")),
                "dataset": as_str(first.get("dataset_hash")) if isinstance(first, dict) else "",
            }
    return sorted(rows.values(), key=lambda r: release_order(r["release"]))


def provenance_section(run: RunFolder) -> Section:
    title = "Provenance of each release"
    releases = _releases(run)
    if not releases:
        return Section(
            "provenance",
            title,
            missing=("No release yet (releases.json is missing and nothing was trained).",),
        )
    datasets = _Datasets(run)
    missing = []
    if not datasets.records:
        missing.append("dataset/episodes.json is missing: no robot or bag sha256 per episode.")
    for row in releases:
        keys, source = datasets.episodes_of(row["dataset"]) if row["dataset"] else ([], "")
        row["episodes"] = [datasets.episode_row(k) for k in keys]
        row["robots"] = sorted({e["robot"] for e in row["episodes"]})
        row["source"] = source
        row["channels"] = ", ".join(row["channels"]) or "none"
        if not row["dataset"]:
            missing.append(f"{row['release']}: no dataset hash recorded.")
    return Section("provenance", title, render(_PROVENANCE, releases=releases), tuple(missing))
