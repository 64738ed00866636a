"""Fixtures of the cloud tests: a real S3 server (moto's standalone server on 127.0.0.1) and a
``store`` fixture that runs a test against both backends (a folder and S3)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cloud_bridge.store import LocalStore, ObjectStore, S3Store
from support.moto_server import TEST_CREDENTIALS, MotoServer, s3_client

_bucket_numbers = itertools.count()


@pytest.fixture(scope="session", autouse=True)
def _test_credentials() -> Iterator[None]:
    """The tests' credentials in the environment (boto3's standard chain reads them)."""
    saved = {name: os.environ.get(name) for name in TEST_CREDENTIALS}
    os.environ.update(TEST_CREDENTIALS)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """One S3 server for the session; each test makes its own bucket."""
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log").start()
    yield server
    server.stop()


@pytest.fixture
def own_moto_server(tmp_path: Path) -> Iterator[MotoServer]:
    """An S3 server for this test alone (to freeze, kill or restart)."""
    server = MotoServer(tmp_path / "moto.log").start()
    yield server
    server.stop()


@pytest.fixture
def make_bucket() -> Callable[[MotoServer], str]:
    """Create a fresh bucket on a server; its name."""

    def make(server: MotoServer) -> str:
        name = f"fw-test-{os.getpid()}-{next(_bucket_numbers)}"
        client: object = s3_client(server.url)
        client.create_bucket(Bucket=name)  # type: ignore[attr-defined]
        return name

    return make


@pytest.fixture(params=["local", "s3"])
def store(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    moto_server: MotoServer,
    make_bucket: Callable[[MotoServer], str],
) -> ObjectStore:
    """The same test against a folder store and an S3 store (with a key prefix)."""
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    return S3Store(make_bucket(moto_server), "fleet", endpoint_url=moto_server.url)
