"""A moto server on 127.0.0.1 with IAM enforced, for the tests that talk to "AWS" over HTTP
(import-policies, verify) and the verify benchmark."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def moto_process(enforce_iam: bool) -> Iterator[str]:
    """A moto server on a free port of 127.0.0.1, ready; yields its URL. With `enforce_iam`,
    the first three requests (creating an admin) are unauthenticated and every later one is
    checked; without, any credentials may act (and assume roles of other accounts)."""
    port = _free_port()
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3") if enforce_iam else None
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), 0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def server(home: Path) -> Iterator[dict[str, str]]:
    """A moto server with IAM enforced; yields the environment of an admin in the data account."""
    with moto_process(enforce_iam=True) as url:
        import boto3  # here, not at the top: collecting the suite must not load boto3

        bootstrap = boto3.client(
            "iam",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="AKIDBOOTSTRAP",
            aws_secret_access_key="x",
        )
        bootstrap.create_user(UserName="admin")
        bootstrap.put_user_policy(
            UserName="admin", PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL)
        )
        key = bootstrap.create_access_key(UserName="admin")["AccessKey"]
        yield {
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }


def client(env: dict[str, str], service: str):
    import boto3

    return boto3.client(
        service,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def user_with_policy(env: dict[str, str], name: str, document: object) -> dict[str, str]:
    """The environment of a new IAM user allowed exactly `document`."""
    iam = client(env, "iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="only", PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {
        **env,
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
    }


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with server(tmp_path_factory.mktemp("aws-home")) as env:
        yield env
