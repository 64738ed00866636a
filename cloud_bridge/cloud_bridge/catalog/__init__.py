"""The episode catalog: what the store holds, read from the episodes' manifests."""

from cloud_bridge.catalog.catalog import EpisodeEntry, filter_episodes, list_episodes

__all__ = ["EpisodeEntry", "filter_episodes", "list_episodes"]
