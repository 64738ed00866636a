"""Print mypy's targets for the cores: the `cores` contract's modules in .importlinter.

One list says what a core is, for both the import contract and the type check. A module listed
alone becomes ``-m module``; a subpackage listed with ``.**`` becomes ``-p subpackage``.

    python .ci/core_modules.py     # -m fw_common -m fw_common.conversions ... -p fw_common.profile
"""

from __future__ import annotations

import configparser
from pathlib import Path

CONFIG = Path(__file__).resolve().parent.parent / ".importlinter"


def core_modules(config: Path = CONFIG) -> list[str]:
    """The `cores` contract's source modules, as written (``fw_common.profile.**`` included)."""
    parser = configparser.ConfigParser()
    if not parser.read(config, encoding="utf-8"):
        raise SystemExit(f"{config}: cannot read")
    return parser["importlinter:contract:cores"]["source_modules"].split()


def mypy_arguments(modules: list[str]) -> list[str]:
    """``-m``/``-p`` arguments for ``modules`` (a ``.**`` subpackage covers what it contains)."""
    bad = [m for m in modules if "*" in m.removesuffix(".**")]
    if bad:
        raise SystemExit(f"only a trailing .** wildcard can become a mypy target: {bad}")
    packages = [m.removesuffix(".**") for m in modules if m.endswith(".**")]
    singles = [
        m
        for m in modules
        if not m.endswith(".**") and not any(m == p or m.startswith(p + ".") for p in packages)
    ]
    return [arg for m in singles for arg in ("-m", m)] + [
        arg for p in packages for arg in ("-p", p)
    ]


if __name__ == "__main__":
    print(" ".join(mypy_arguments(core_modules())))
