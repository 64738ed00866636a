"""Least privilege, checked by a real S3 server with IAM access control on (moto's server with
``INITIAL_NO_AUTH_ACTION_COUNT``: the first calls set up the bucket, users, the shipped
policies and access keys; every later call is signed and checked against the policies).

Also: credentials never appear in logs, errors, manifests, the journal or the status."""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cloud_bridge.policies import render_policy
from cloud_bridge.store import AccessDenied, S3Store, StoreError
from cloud_bridge.upload.config import MIB, UploaderConfig
from cloud_bridge.upload.uploader import JOURNAL_NAME, EpisodeUploader
from support.episodes import add_episode
from support.flywheel_cli import FLYWHEEL, flywheel_env
from support.moto_server import MotoServer, s3_client

BUCKET = "fw-fleet"
ADMIN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
#: The unauthenticated setup calls, counted exactly: create the bucket, put a release and a TUF
#: file, then for each of four users create it, put its policy and make its access key.
USERS = ("admin", "r1", "r2", "publisher")
SETUP_CALLS = 3 + 3 * len(USERS)


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str

    def store(self, server: MotoServer) -> S3Store:
        client = s3_client(
            server.url, aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key
        )
        return S3Store(BUCKET, client=client)


IamServer = tuple[MotoServer, dict[str, Credentials]]


@pytest.fixture(scope="module")
def iam(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[MotoServer, dict[str, Credentials]]]:
    import boto3

    server = MotoServer(
        tmp_path_factory.mktemp("iam") / "moto.log", auth_free_calls=SETUP_CALLS
    ).start()
    s3: object = s3_client(server.url)
    s3.create_bucket(Bucket=BUCKET)  # type: ignore[attr-defined]
    s3.put_object(Bucket=BUCKET, Key="releases/rel-1/card.json", Body=b"{}")  # type: ignore[attr-defined]
    s3.put_object(Bucket=BUCKET, Key="tuf/1.root.json", Body=b"{}")  # type: ignore[attr-defined]
    client = boto3.session.Session().client(
        "iam", endpoint_url=server.url, region_name="us-east-1"
    )
    policies = {
        "admin": ADMIN_POLICY,
        "r1": render_policy("robot", bucket=BUCKET, robot_id="r1"),
        "r2": render_policy("robot", bucket=BUCKET, robot_id="r2"),
        "publisher": render_policy("publisher", bucket=BUCKET),
    }
    credentials = {}
    for user in USERS:
        client.create_user(UserName=user)
        client.put_user_policy(
            UserName=user, PolicyName=f"{user}-policy", PolicyDocument=json.dumps(policies[user])
        )
        key = client.create_access_key(UserName=user)["AccessKey"]
        credentials[user] = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    yield server, credentials
    server.stop()


def test_access_control_is_really_on(iam: IamServer) -> None:
    server, creds = iam
    forged = Credentials(creds["admin"].access_key, "not-the-secret").store(server)
    with pytest.raises(AccessDenied):
        forged.put_bytes("episodes/r1/x", b"x")
    creds["admin"].store(server).put_bytes("anything/at/all", b"x")


def test_robot_writes_only_its_own_prefixes(
    iam: IamServer,
) -> None:
    server, creds = iam
    robot = creds["r1"].store(server)
    robot.put_bytes("episodes/r1/e1/manifest.json", b"{}")
    robot.put_bytes("robots/r1/status.json", b"{}")
    assert robot.get_bytes("releases/rel-1/card.json")[0] == b"{}"
    assert robot.get_bytes("tuf/1.root.json")[0] == b"{}"
    for key in (
        "episodes/r2/e1/manifest.json",  # another robot's episodes
        "robots/r2/status.json",  # another robot's status
        "releases/rel-2/model.onnx",  # publishing
        "tuf/2.root.json",  # TUF metadata
        "tuf/timestamp.json",
        "episodes/r1",  # not under its prefix, only beside it
        "elsewhere",
    ):
        with pytest.raises(AccessDenied):
            robot.put_bytes(key, b"forged")
    with pytest.raises(AccessDenied):
        robot.create_multipart("episodes/r2/e1/bag.mcap")
    with pytest.raises(AccessDenied):
        robot.get_bytes("episodes/r2/e1/manifest.json")
    with pytest.raises(AccessDenied):
        robot.delete("releases/rel-1/card.json")
    admin = creds["admin"].store(server)
    assert admin.head("releases/rel-2/model.onnx") is None
    assert admin.get_bytes("releases/rel-1/card.json")[0] == b"{}"


def test_publisher_cannot_write_episodes(iam: IamServer) -> None:
    server, creds = iam
    publisher = creds["publisher"].store(server)
    publisher.put_bytes("releases/rel-3/card.json", b"{}")
    publisher.put_bytes("tuf/3.root.json", b"{}")
    with pytest.raises(AccessDenied):
        publisher.put_bytes("episodes/r1/forged/manifest.json", b"{}")


def test_uploader_with_robot_credentials_and_no_leaks(
    iam: IamServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server, creds = iam
    secret, key_id = creds["r1"].secret_key, creds["r1"].access_key
    caplog.set_level(logging.DEBUG)  # botocore's DEBUG output included
    spool = tmp_path / "spool"
    add_episode(spool / "ready", "e_multipart", 6 * MIB, seed=1)
    config = UploaderConfig(robot_id="r1", part_size=5 * MIB, multipart_threshold=5 * MIB)
    uploader = EpisodeUploader(spool, creds["r1"].store(server), config)
    assert uploader.run_pass().uploaded == 1
    texts = [json.dumps(uploader.status())]

    # The same robot configured with another robot's id: every write is refused.
    add_episode(spool / "ready", "e_wrong_id", MIB, seed=2)
    impostor = EpisodeUploader(
        spool,
        creds["r1"].store(server),
        UploaderConfig(robot_id="r2"),
        journal_path=tmp_path / "j",
    )
    result = impostor.run_pass()
    assert result.uploaded == 0 and result.store_error and "AccessDenied" in result.store_error
    texts.append(json.dumps(impostor.status()))
    errors: list[StoreError] = []
    for bad in (Credentials(key_id, secret[::-1]), creds["r1"]):
        try:
            bad.store(server).put_bytes("releases/x", b"x")
        except StoreError as exc:
            errors.append(exc)
    assert len(errors) == 2

    # The command, with the credentials where boto3's chain finds them.
    add_episode(spool / "ready", "e_cli", MIB, seed=3)
    env = flywheel_env(AWS_ACCESS_KEY_ID=key_id, AWS_SECRET_ACCESS_KEY=secret)
    command = [
        *FLYWHEEL, "-v", "upload", "--spool", str(spool),
        "--store", f"s3://{BUCKET}", "--endpoint-url", server.url, "--robot-id", "r1", "--once",
    ]  # fmt: skip
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    admin = creds["admin"].store(server)
    manifests = [
        admin.get_bytes(f"episodes/r1/{name}/manifest.json")[0].decode()
        for name in ("e_multipart", "e_cli")
    ]
    texts += [str(e) for e in errors] + [repr(e) for e in errors] + manifests
    texts += [run.stdout, run.stderr, (spool / JOURNAL_NAME).read_bytes().decode("latin-1")]
    for text in texts:
        assert secret not in text and key_id not in text
    # botocore's own DEBUG log carries the key id in signed headers, never the secret.
    assert secret not in caplog.text


@pytest.mark.parametrize("robot_id", ["*", "r1/../r2", "r1/*", "", "r\n1"])
def test_policy_templates_refuse_ids_that_widen_them(robot_id: str) -> None:
    with pytest.raises(ValueError):
        render_policy("robot", bucket=BUCKET, robot_id=robot_id)


def test_robot_policy_names_only_its_own_prefixes() -> None:
    text = json.dumps(render_policy("robot", bucket=BUCKET, robot_id="r7"))
    assert "episodes/r7/*" in text and "robots/r7/*" in text
    assert "${" not in text and "episodes/*" not in text and "Delete" not in text
    with pytest.raises(ValueError, match="unknown policy"):
        render_policy("admin", bucket=BUCKET)
