"""KeyedThrottle: one throttle per key, on the clock it is given."""

from __future__ import annotations

from fw_common.throttled_log import KeyedThrottle


class _Logger:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def warning(self, text: str) -> None:
        self.lines.append(text)


def test_each_key_has_its_own_throttle() -> None:
    now = [100.0]
    logger = _Logger()
    throttle = KeyedThrottle(logger, 2.0, clock=lambda: now[0])
    assert throttle.warning("command", "bad command 1")
    assert not throttle.warning("command", "bad command 2"), "within the period"
    assert throttle.warning("odom", "bad odometry"), "a flood of commands must not hide it"
    assert throttle.warning(("odom", True), "malformed odometry")
    now[0] += 1.99
    assert not throttle.warning("command", "bad command 3")
    now[0] += 0.01
    assert throttle.warning("command", "bad command 4")
    assert logger.lines == [
        "bad command 1",
        "bad odometry",
        "malformed odometry",
        "bad command 4",
    ]


def test_the_first_warning_is_logged_whatever_the_clock_reads() -> None:
    logger = _Logger()
    throttle = KeyedThrottle(logger, 2.0, clock=lambda: 0.0)  # e.g. a clock that starts at 0
    assert throttle.warning("scan", "first")
    assert logger.lines == ["first"]
