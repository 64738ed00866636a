"""Releases under the shipped least-privilege policies, on moto's S3 server with IAM on.

The publisher's credentials create the repository and publish; a robot's credentials check its
channel, stage the release through TUF and write its own status object, and cannot publish:
every write to the TUF repository is AccessDenied, so a stolen robot key cannot move a fleet.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloud_bridge.policies import render_policy
from cloud_bridge.releases import ReleaseClient, ReleaseRepository
from cloud_bridge.store import AccessDenied, S3Store
from fw_cloud_agent.agent import AgentSettings, CloudAgent
from fw_common.observation import DEFAULT_SPEC
from support.moto_server import MotoServer, s3_client
from support.release_repo import RepoUnderTest, make_models

BUCKET = "fw-releases"
USERS = ("publisher", "r1")
#: Unauthenticated setup calls: the bucket, then per user: create it, its policy, its key.
SETUP_CALLS = 1 + 3 * len(USERS)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, S3Store]]:
    import boto3

    server = MotoServer(
        tmp_path_factory.mktemp("iam") / "moto.log", auth_free_calls=SETUP_CALLS
    ).start()
    s3_client(server.url).create_bucket(Bucket=BUCKET)  # type: ignore[attr-defined]
    iam = boto3.session.Session().client("iam", endpoint_url=server.url, region_name="us-east-1")
    policies = {
        "publisher": render_policy("publisher", bucket=BUCKET),
        "r1": render_policy("robot", bucket=BUCKET, robot_id="r1"),
    }
    stores = {}
    for user in USERS:
        iam.create_user(UserName=user)
        iam.put_user_policy(
            UserName=user, PolicyName=f"{user}-policy", PolicyDocument=json.dumps(policies[user])
        )
        key = iam.create_access_key(UserName=user)["AccessKey"]
        client = s3_client(
            server.url,
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
        )
        stores[user] = S3Store(BUCKET, client=client)
    yield stores
    server.stop()


def test_robot_credentials_read_releases_and_cannot_publish(
    stores: dict[str, S3Store], tmp_path: Path
) -> None:
    models = make_models(tmp_path / "models")
    operator = RepoUnderTest.create(stores["publisher"], tmp_path / "operator")
    operator.publish("rel1", models["mlp1"], channel=("fleet", "canary"))

    robot_store = stores["r1"]
    client = ReleaseClient(robot_store, operator.root, tmp_path / "robot", DEFAULT_SPEC)
    agent = CloudAgent(
        AgentSettings("r1", "fleet", "canary"),
        client,
        tmp_path / "state.json",
        status_sink=robot_store,
    )
    agent.poll()
    request = agent.tick()
    assert request is not None and request.release == "rel1", agent.drain_events()
    assert Path(request.model_path).read_bytes() == models["mlp1"].read_bytes()
    status = json.loads(stores["publisher"].get_bytes("robots/r1/status.json")[0])
    assert status["candidate"] == "rel1" and status["problem"] is None

    # The same keys and code, with the robot's credentials: the store refuses every write.
    as_robot = RepoUnderTest(
        robot_store, operator.keys_dir, operator.root, ReleaseRepository(robot_store)
    )
    with pytest.raises(AccessDenied):
        as_robot.publish("rel2", models["mlp2"])
    operator.publish("rel2", models["mlp2"], channel=None)
    with pytest.raises(AccessDenied):
        as_robot.promote("rel2")
    assert client.check("fleet", "canary").release == "rel1"
