"""Ring buffer bounds (every input) and trigger window arithmetic."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fw_recorder.ring import RingBuffer
from fw_recorder.windows import Trigger, TriggerWindow


@given(
    max_bytes=st.integers(1, 5000),
    max_age=st.integers(1, 10_000),
    items=st.lists(st.tuples(st.integers(0, 500), st.integers(0, 600)), max_size=200),
)
def test_ring_bounds_hold_for_every_input(max_bytes: int, max_age: int, items: list) -> None:
    ring = RingBuffer(max_bytes, max_age)
    t = 0
    for dt, size in items:
        t += dt
        ring.append((t, 0, b"x" * size))
        kept = list(ring.since(-1))
        assert sum(len(e[2]) for e in kept) == ring.bytes <= max_bytes
        if kept:
            assert kept[-1][0] - kept[0][0] <= max_age
            assert [e[0] for e in kept] == sorted(e[0] for e in kept)
        if size <= max_bytes:
            assert kept and kept[-1][0] == t  # the newest always stays


def test_ring_evicts_oldest_first_and_counts() -> None:
    ring = RingBuffer(max_bytes=10, max_age_ns=1_000)
    for i in range(6):
        ring.append((i, 0, b"ab" * 1))  # 2 bytes each
    ring.append((6, 0, b"x" * 4))
    assert [e[0] for e in ring.since(0)] == [3, 4, 5, 6]
    assert ring.evicted == 3
    ring.append((2_000, 0, b"y"))
    assert [e[0] for e in ring.since(0)] == [2_000]
    ring.append((2_001, 0, b"z" * 11))
    assert ring.oversize == 1 and len(ring) == 1


def test_ring_refuses_bad_bounds() -> None:
    with pytest.raises(ValueError):
        RingBuffer(0, 10)
    with pytest.raises(ValueError):
        RingBuffer(10, -1)


def test_window_opens_extends_and_caps() -> None:
    w = TriggerWindow.open(
        Trigger("service", "a", 10_000), pre_ns=3_000, post_ns=2_000, max_ns=9_000
    )
    assert (w.start_ns, w.end_ns, w.limit_ns) == (7_000, 12_000, 16_000)
    late = Trigger("safety_event", "b", 11_000)
    assert w.absorbs(late)
    w.extend(late, 2_000)
    assert w.end_ns == 13_000
    w.extend(Trigger("safety_event", "c", 12_900), 10_000)
    assert w.end_ns == 16_000  # capped at start + max
    assert not w.absorbs(Trigger("service", "d", 16_001))
    assert [t.reason for t in w.triggers] == ["a", "b", "c"]
