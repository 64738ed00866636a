"""Resolve requirements.in into requirements.txt (used by `make lock`).

pip's install report names each distribution as the index knows it; `pip freeze` would also list
names nested inside the ros-* wheels, which no index serves. torch's local version label (+cpu)
is dropped: `torch==2.13.0` matches the CPU build that lies on the development hosts' disk.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

with tempfile.TemporaryDirectory() as tmp:
    report = Path(tmp) / "report.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--quiet",
            "--ignore-installed",
            "--report",
            str(report),
            "-r",
            str(ROOT / "requirements.in"),
        ],
        check=True,
    )
    installs = json.loads(report.read_text())["install"]

pins = sorted(
    (f"{i['metadata']['name']}=={i['metadata']['version'].split('+')[0]}" for i in installs),
    key=str.lower,
)
header = "# Locked from requirements.in by `make lock` (.ci/lock_requirements.py). Do not edit.\n"
(ROOT / "requirements.txt").write_text(header + "\n".join(pins) + "\n")
print(f"requirements.txt: {len(pins)} pinned distributions")
