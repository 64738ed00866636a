"""Flywheel's cloud bridge: the object store, the episode uploader, releases and the
``flywheel`` command. What a robot needs imports without the cloud's heavy dependencies."""

__all__ = ["__version__"]

__version__ = "0.1.0"
