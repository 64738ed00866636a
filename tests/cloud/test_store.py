"""The object store's semantics, each test against both backends (a folder and moto's S3)."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from cloud_bridge.store import (
    MAX_KEY_BYTES,
    InvalidKey,
    LocalStore,
    NoSuchUpload,
    ObjectNotFound,
    ObjectStore,
    PreconditionFailed,
    S3Store,
    StoreError,
    open_store,
)

MIB = 1 << 20

HOSTILE_KEYS = [
    "../escape",
    "episodes/../../etc/passwd",
    "episodes/./x",
    "/etc/passwd",
    "nul\x00byte",
    "line\nbreak",
    "c1\x85control",
    "back\\slash",
    "a//b",
    "trailing/",
    "",
    "k" * (MAX_KEY_BYTES + 1),
    "é" * (MAX_KEY_BYTES // 2 + 1),  # short in characters, too long in UTF-8 bytes
]


def test_put_get_head_roundtrip(store: ObjectStore) -> None:
    data = b"episode bytes \x00\xff"
    put = store.put_bytes("episodes/r1/e1/bag.mcap", data, metadata={"Trigger": "safety"})
    assert put.size == len(data)
    assert put.sha256 == hashlib.sha256(data).hexdigest()
    got, info = store.get_bytes("episodes/r1/e1/bag.mcap")
    assert got == data
    assert info.etag == put.etag
    assert info.sha256 == put.sha256
    assert info.metadata == {"trigger": "safety"}
    head = store.head("episodes/r1/e1/bag.mcap")
    assert head is not None and head.etag == put.etag and head.size == len(data)
    assert store.head("episodes/r1/e1/missing") is None
    with pytest.raises(ObjectNotFound):
        store.get_bytes("episodes/r1/e1/missing")


def test_list_is_sorted_and_filtered_by_prefix(store: ObjectStore) -> None:
    for key in ["episodes/r2/a", "episodes/r1/b", "episodes/r1/a", "releases/x", "episodes/r10"]:
        store.put_bytes(key, key.encode())
    assert [o.key for o in store.list("episodes/r1/")] == ["episodes/r1/a", "episodes/r1/b"]
    assert [o.key for o in store.list("episodes/r1")] == [
        "episodes/r1/a",
        "episodes/r1/b",
        "episodes/r10",
    ]
    assert len(list(store.list())) == 5
    assert list(store.list("nothing/")) == []
    assert {o.size for o in store.list("releases/")} == {len(b"releases/x")}


def test_delete_is_idempotent(store: ObjectStore) -> None:
    store.put_bytes("a/b/c", b"1")
    store.delete("a/b/c")
    store.delete("a/b/c")
    assert store.head("a/b/c") is None
    assert list(store.list()) == []


def test_if_none_match_creates_once(store: ObjectStore) -> None:
    first = store.put_bytes("channels/stable", b"v1", if_none_match=True)
    with pytest.raises(PreconditionFailed):
        store.put_bytes("channels/stable", b"v2", if_none_match=True)
    data, info = store.get_bytes("channels/stable")
    assert (data, info.etag) == (b"v1", first.etag)


def test_if_match_replaces_only_the_expected_version(store: ObjectStore) -> None:
    v1 = store.put_bytes("channels/canary", b"v1")
    v2 = store.put_bytes("channels/canary", b"v2", if_match=v1.etag)
    assert v2.etag != v1.etag
    # A writer that read v1 loses: it gets a clear error, v2 stays.
    with pytest.raises(PreconditionFailed):
        store.put_bytes("channels/canary", b"v3 from a stale reader", if_match=v1.etag)
    assert store.get_bytes("channels/canary")[0] == b"v2"


def test_racing_conditional_writers_one_wins(store: ObjectStore) -> None:
    base = store.put_bytes("channels/race", b"base")
    results: list[str] = []

    def writer(n: int) -> None:
        try:
            store.put_bytes("channels/race", f"writer {n}".encode(), if_match=base.etag)
            results.append("won")
        except PreconditionFailed:
            results.append("lost")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["lost"] * 5 + ["won"]


@pytest.mark.parametrize("key", HOSTILE_KEYS, ids=lambda k: repr(k)[:24])
def test_hostile_keys_are_refused_by_every_method(
    store: ObjectStore, key: str, tmp_path: Path
) -> None:
    calls = [
        lambda: store.put_bytes(key, b"x"),
        lambda: store.get_bytes(key),
        lambda: store.head(key),
        lambda: store.delete(key),
        lambda: store.download_file(key, tmp_path / "out"),
        lambda: store.create_multipart(key),
        lambda: store.upload_part(key, "id", 1, b"x"),
        lambda: store.list_parts(key, "id"),
        lambda: store.abort_multipart(key, "id"),
    ]
    for call in calls:
        with pytest.raises(InvalidKey):
            call()
    assert not (tmp_path / "out").exists()


def test_local_store_never_writes_outside_its_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    store = LocalStore(root)
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(InvalidKey):
        store.put_bytes("link/escaped", b"x")
    with pytest.raises(InvalidKey):
        store.put_bytes(".fwstore/meta/x", b"x")
    assert not (tmp_path / "escaped").exists()


def test_download_file(store: ObjectStore, tmp_path: Path) -> None:
    data = bytes(range(256)) * 100
    store.put_bytes("releases/r1/model.onnx", data)
    info = store.download_file("releases/r1/model.onnx", tmp_path / "model.onnx")
    assert (tmp_path / "model.onnx").read_bytes() == data
    assert info.size == len(data)
    with pytest.raises(ObjectNotFound):
        store.download_file("releases/r1/none", tmp_path / "none")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "store") == ["model.onnx"]


def test_multipart_roundtrip_resumes_from_listed_parts(store: ObjectStore) -> None:
    parts_data = [bytes([n]) * (5 * MIB) for n in range(3)] + [b"tail"]
    whole = b"".join(parts_data)
    key = "episodes/r1/e1/bag/bag.mcap"
    upload = store.create_multipart(key, sha256=hashlib.sha256(whole).hexdigest())
    sent = [store.upload_part(key, upload, n + 1, d) for n, d in enumerate(parts_data[:2])]
    # A restart: what the store lists is what was confirmed.
    listed = store.list_parts(key, upload)
    assert [(p.part_number, p.etag, p.size) for p in listed] == [
        (p.part_number, p.etag, p.size) for p in sent
    ]
    sent += [store.upload_part(key, upload, n + 1, parts_data[n]) for n in (2, 3)]
    assert [u.upload_id for u in store.list_multipart("episodes/r1/")] == [upload]
    info = store.complete_multipart(key, upload, sent, if_none_match=True)
    assert info.size == len(whole)
    assert info.sha256 == hashlib.sha256(whole).hexdigest()
    assert store.get_bytes(key)[0] == whole
    assert store.list_multipart() == []
    with pytest.raises(NoSuchUpload):
        store.list_parts(key, upload)


def test_resent_part_replaces_the_earlier_copy(store: ObjectStore) -> None:
    key = "episodes/r1/e2/bag.mcap"
    upload = store.create_multipart(key)
    store.upload_part(key, upload, 1, b"a" * (5 * MIB))
    again = store.upload_part(key, upload, 1, b"b" * (5 * MIB))
    last = store.upload_part(key, upload, 2, b"end")
    assert len(store.list_parts(key, upload)) == 2
    store.complete_multipart(key, upload, [again, last])
    assert store.get_bytes(key)[0] == b"b" * (5 * MIB) + b"end"


def test_unknown_or_aborted_upload_is_no_such_upload(store: ObjectStore) -> None:
    key = "episodes/r1/e3/bag.mcap"
    upload = store.create_multipart(key)
    store.abort_multipart(key, upload)
    with pytest.raises(NoSuchUpload):
        store.list_parts(key, upload)
    with pytest.raises(NoSuchUpload):
        store.abort_multipart(key, upload)
    with pytest.raises(NoSuchUpload):
        store.list_parts(key, "0123456789abcdef")


def test_complete_if_none_match_refuses_to_overwrite(store: ObjectStore) -> None:
    key = "episodes/r1/e4/bag.mcap"
    store.put_bytes(key, b"first copy")
    upload = store.create_multipart(key)
    part = store.upload_part(key, upload, 1, b"second copy")
    with pytest.raises(PreconditionFailed):
        store.complete_multipart(key, upload, [part], if_none_match=True)
    assert store.get_bytes(key)[0] == b"first copy"


def test_open_store_by_url(tmp_path: Path) -> None:
    assert isinstance(open_store(tmp_path / "a"), LocalStore)
    local = open_store(f"file://{tmp_path}/b")
    assert isinstance(local, LocalStore) and local.url == (tmp_path / "b").as_uri()
    s3 = open_store("s3://bucket/some/prefix", endpoint_url="http://127.0.0.1:9")
    assert isinstance(s3, S3Store) and s3.url == "s3://bucket/some/prefix"
    with pytest.raises(StoreError):
        open_store("ftp://host/x")
    with pytest.raises(InvalidKey):
        open_store("s3://bucket/../x")
    with pytest.raises(StoreError) as refused:
        open_store("s3://AKIAEXAMPLE:very-secret@bucket/x")
    assert "very-secret" not in str(refused.value) and "AKIAEXAMPLE" not in str(refused.value)
