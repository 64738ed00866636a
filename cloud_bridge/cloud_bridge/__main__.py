"""``python -m cloud_bridge`` is the ``flywheel`` command."""

from cloud_bridge.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
