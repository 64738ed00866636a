"""The ``robot`` section: who the robot is, where its nodes live, and its body."""

from __future__ import annotations

from dataclasses import dataclass

from fw_common.profile.body import RobotBody
from fw_common.profile.identity import RobotIdentity

__all__ = ["RobotDescription"]


# Identity first, then the body: dataclass fields follow the reversed MRO.
@dataclass(frozen=True)
class RobotDescription(RobotBody, RobotIdentity):
    """One robot: its identity and namespace (:class:`RobotIdentity`) and its body
    (:class:`RobotBody`: footprint, laser mount, wheels), which every node that needs it reads
    from here."""

    @property
    def body(self) -> RobotBody:
        """The body alone, as the consumer sections hold it."""
        return RobotBody(footprint=self.footprint, laser=self.laser, wheels=self.wheels)
