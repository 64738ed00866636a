"""The episode catalog: what the store holds, read from the episodes' manifests."""
