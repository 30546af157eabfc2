"""`import-policies` against moto running as a real HTTP server on 127.0.0.1 (IAM enforced)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from quilt_cross_account import config

from tests.util import REPO, snapshot

ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
OWNER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "OwnerRead",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::with-policy/*",
        }
    ],
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto(tmp_path_factory) -> Iterator[dict[str, str]]:
    """A moto server with IAM enforced; yields the environment of an admin in the data account."""
    port = _free_port()
    # The first three requests (creating the admin) are unauthenticated; every later one is checked.
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3")
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), 0.1).close()
                break
            except OSError:
                time.sleep(0.05)
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
        home = tmp_path_factory.mktemp("aws-home")
        yield {
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    finally:
        server.terminate()
        server.wait(timeout=10)


def client(env: dict[str, str], service: str):
    import boto3

    return boto3.client(
        service,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture(scope="module")
def account(moto) -> dict[str, str]:
    s3 = client(moto, "s3")
    for name in ("with-policy", "without-policy", "logs-bucket"):
        s3.create_bucket(Bucket=name)
    s3.put_bucket_policy(Bucket="with-policy", Policy=json.dumps(OWNER_POLICY))
    s3.put_bucket_ownership_controls(
        Bucket="with-policy",
        OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
    )
    trail = client(moto, "cloudtrail")
    trail.create_trail(Name="org-trail", S3BucketName="logs-bucket")
    trail.put_event_selectors(
        TrailName="org-trail",
        EventSelectors=[
            {
                "ReadWriteType": "WriteOnly",
                "IncludeManagementEvents": True,
                "DataResources": [{"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]}],
            }
        ],
    )
    return moto


def run_import(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "quilt_cross_account", "import-policies", *map(str, args)],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def write_config(
    directory: Path, extra_trail: str = 'mode = "external"\ntrail_name = "org-trail"\n'
) -> Path:
    path = directory / "quilt.toml"
    path.write_text(
        'control_account_ids = ["111122223333"]\n'
        'buckets = ["with-policy", "without-policy"]\n'
        'existing_policies_dir = "policies"\n'
        "[cloudtrail]\n"
        + extra_trail
        + 'existing_selectors_file = "policies/trail-selectors.json"\n'
    )
    (directory / "policies").mkdir(exist_ok=True)
    return path


def test_import_saves_current_state_and_generate_merges_it(account, tmp_path):
    cfg = write_config(tmp_path)
    stale = tmp_path / "policies" / "without-policy.json"
    stale.write_text(json.dumps(OWNER_POLICY).replace("with-policy", "without-policy"))
    result = run_import(account, "--config", cfg)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "policies" / "with-policy.json").read_text()) == OWNER_POLICY
    assert not stale.exists()  # the bucket has no policy now: reality wins
    assert "without-policy: no policy; removed stale" in result.stdout
    assert (
        "with-policy: object ownership BucketOwnerPreferred (the module sets BucketOwnerEnforced)"
        in result.stdout
    )
    assert "without-policy: object ownership not set (ObjectWriter)" in result.stdout
    selectors = json.loads((tmp_path / "policies" / "trail-selectors.json").read_text())
    assert selectors["EventSelectors"][0]["DataResources"][0]["Type"] == "AWS::Lambda::Function"

    model = config.load(cfg)
    assert dict(model.existing_policies) == {
        "with-policy": json.dumps(OWNER_POLICY, sort_keys=True, separators=(",", ":"))
    }
    # The trail's own selector is merged in after Quilt's.
    basic = model.cloudtrail.selectors.event_selectors
    assert [s.read_write_type for s in basic] == ["All", "WriteOnly"]
    assert basic[1].data_resources[0].values == ("arn:aws:lambda",)


def test_access_denied_is_reported_and_nothing_is_written(account, tmp_path):
    iam = client(account, "iam")
    iam.create_user(UserName="limited")
    iam.put_user_policy(
        UserName="limited",
        PolicyName="only-ownership",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}
                ],
            }
        ),
    )
    key = iam.create_access_key(UserName="limited")["AccessKey"]
    cfg = write_config(tmp_path)
    before = snapshot(tmp_path)
    env = {
        **account,
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
    }
    result = run_import(env, "--config", cfg)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert (
        "error: buckets[0] (with-policy): s3:GetBucketPolicy failed with AccessDenied: Access Denied (check the credentials' permissions for this account)"
        in lines
    )
    assert any(
        line.startswith(
            "error: cloudtrail.trail_name (org-trail): cloudtrail:GetEventSelectors failed with AccessDenied"
        )
        for line in lines
    )
    assert lines[-1] == "nothing was written"
    assert snapshot(tmp_path) == before


def test_profile_from_the_standard_credential_chain(account, tmp_path):
    credentials = Path(account["AWS_SHARED_CREDENTIALS_FILE"])
    credentials.write_text(
        f"[data]\naws_access_key_id = {account['AWS_ACCESS_KEY_ID']}\naws_secret_access_key = {account['AWS_SECRET_ACCESS_KEY']}\n"
    )
    env = {
        k: v
        for k, v in account.items()
        if not k.startswith("AWS_ACCESS") and not k.startswith("AWS_SECRET")
    }
    cfg = write_config(tmp_path, 'mode = "none"\n')
    without = run_import(
        {**env, "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""},
        "--config",
        cfg,
        "--profile",
        "nope",
    )
    assert without.returncode != 0
    result = run_import(
        {**env, "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""},
        "--config",
        cfg,
        "--profile",
        "data",
        "--region",
        "us-east-1",
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "policies" / "with-policy.json").exists()
    assert not (tmp_path / "policies" / "trail-selectors.json").exists()  # no external trail


def test_missing_bucket_is_a_clear_error(account, tmp_path):
    path = tmp_path / "quilt.toml"
    path.write_text(
        'control_account_ids = ["111122223333"]\nbuckets = ["no-such-bucket"]\n[cloudtrail]\nmode = "none"\n'
    )
    result = run_import(account, "--config", path)
    assert result.returncode == 1
    assert (
        "error: buckets[0] (no-such-bucket): s3:GetBucketPolicy failed with NoSuchBucket"
        in result.stderr
    )
