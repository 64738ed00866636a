"""Key validation as a property: whatever text a key is made of, a key that passes never
leads a folder store outside its root, and one that fails says why."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_bridge.store import InvalidKey, validate_key

ROOT = Path("/srv/store")
# Segments from hostile pieces and arbitrary text, joined by '/'.
_SEGMENT = st.one_of(
    st.sampled_from(["..", ".", "", "~", "a", "\x00", "\\", "..\\..", "%2e%2e", " "]),
    st.text(max_size=12),
)
_KEYS = st.one_of(
    st.lists(_SEGMENT, min_size=1, max_size=6).map("/".join),
    st.lists(_SEGMENT, min_size=1, max_size=6).map(lambda s: "/" + "/".join(s)),
)


@settings(max_examples=400, deadline=None)
@given(_KEYS)
def test_accepted_keys_stay_under_the_root(key: str) -> None:
    try:
        validate_key(key)
    except InvalidKey as exc:
        assert str(exc)
        return
    resolved = os.path.normpath(ROOT / key)
    assert resolved.startswith(str(ROOT) + os.sep)
    assert os.path.relpath(resolved, ROOT) == key
    assert not any(ord(c) < 0x20 for c in key) and "\\" not in key
