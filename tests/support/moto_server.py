"""A real S3 server for the cloud tests: moto's standalone server in its own process on
127.0.0.1, which a test can freeze (SIGSTOP), kill and restart (moto keeps its state in memory,
so a restart is an empty server) or start with IAM access control on."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["TEST_CREDENTIALS", "MotoServer", "free_port", "s3_client"]

#: Credentials of the tests' admin (moto accepts any while access control is off). The secret is
#: distinctive so the credential-leak test can search for it.
TEST_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIAFLYWHEELTESTKEY0",
    "AWS_SECRET_ACCESS_KEY": "flywheel-test-secret-9f3c1d7e5b2a4c6e8d0f",
    "AWS_DEFAULT_REGION": "us-east-1",
    # Never read the developer's own AWS configuration.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class MotoServer:
    """``moto.server`` on 127.0.0.1:``port``; its output goes to ``log_path``."""

    def __init__(
        self, log_path: Path, port: int | None = None, auth_free_calls: int | None = None
    ) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        #: With a count, moto enforces IAM after that many unauthenticated calls.
        self.auth_free_calls = auth_free_calls
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> MotoServer:
        env = {**os.environ, **TEST_CREDENTIALS}
        if self.auth_free_calls is not None:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(self.auth_free_calls)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto server exited; see {self.log_path}")
            try:
                # The dashboard answers without counting as an S3 action.
                with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1.0):
                    return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise RuntimeError(f"moto server did not answer within {timeout_s} s")

    def freeze(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL: moto loses every bucket, object and multipart upload."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def s3_client(endpoint_url: str, **credentials: str) -> object:
    """A plain boto3 S3 client for the tests' own checks (path-style, no retries)."""
    import boto3
    from botocore.config import Config

    creds = credentials or {
        "aws_access_key_id": TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        **creds,
    )
