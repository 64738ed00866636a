"""Errors raised by fw_common."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["ProfileError"]


class ProfileError(ValueError):
    """A robot profile (or a runtime parameter change) is invalid.

    ``problems`` lists every problem found, each prefixed with the dotted path of the setting.
    """

    def __init__(self, problems: Sequence[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return self.problems[0]
        return "invalid robot profile:\n" + "\n".join(f"  - {p}" for p in self.problems)
