"""`import-policies` against moto running as a real HTTP server on 127.0.0.1 (IAM enforced)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from quilt_cross_account import config

from tests.aws_server import client
from tests.util import REPO, snapshot

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
    assert result.returncode == 3  # EXIT_AWS
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
    assert result.returncode == 3  # EXIT_AWS
    assert (
        "error: buckets[0] (no-such-bucket): s3:GetBucketPolicy failed with NoSuchBucket"
        in result.stderr
    )


# Only regular .json files under the config's directory; never the config; one file per target.


def bucket_config(directory: Path, *tables: str, name: str = "quilt.toml") -> Path:
    path = directory / name
    path.write_text(
        'control_account_ids = ["111122223333"]\n'
        + "".join(f"[[buckets]]\n{t}\n" for t in tables)
        + '[cloudtrail]\nmode = "none"\n'
    )
    return path


@pytest.mark.parametrize(
    ("tables", "expected"),
    [
        (
            ['name = "with-policy"\nexisting_policy = "../outside.json"'],
            "buckets[0].existing_policy: '{dir}/../outside.json' is outside the config's "
            "directory; import-policies writes only there (or in existing_policies_dir)",
        ),
        (
            ['name = "with-policy"\nexisting_policy = "main.tf"'],
            "buckets[0].existing_policy: '{dir}/main.tf' must be a .json file to be written",
        ),
        (
            [
                'name = "with-policy"\nexisting_policy = "same.json"',
                'name = "without-policy"\nexisting_policy = "same.json"',
            ],
            "buckets[1].existing_policy: '{dir}/same.json' is also the file of "
            "buckets[0].existing_policy",
        ),
    ],
)
def test_import_refuses_targets_it_must_not_write(tmp_path, tables, expected):
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "outside.json").write_text("keep me")
    (work / "main.tf").write_text("keep me too")
    cfg = bucket_config(work, *tables)
    before = snapshot(tmp_path)
    result = run_import({}, "--config", cfg)  # refused before any AWS call
    assert result.returncode == 2, result.stderr
    assert f"error: {expected.format(dir=work)}" in result.stderr.splitlines()
    assert snapshot(tmp_path) == before


def test_import_never_writes_the_config_or_through_a_link(tmp_path):
    cfg = bucket_config(
        tmp_path,
        'name = "with-policy"\nexisting_policy = "quilt.json"',
        'name = "without-policy"\nexisting_policy = "linked.json"',
        name="quilt.json",
    )
    (tmp_path / "elsewhere.json").write_text("{}")
    (tmp_path / "linked.json").symlink_to(tmp_path / "elsewhere.json")
    before = snapshot(tmp_path)
    result = run_import({}, "--config", cfg)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert (
        f"error: buckets[0].existing_policy: '{tmp_path}/quilt.json' is the config itself" in lines
    )
    assert (
        f"error: buckets[1].existing_policy: '{tmp_path}/linked.json' is a symbolic link; "
        "import-policies replaces only regular files"
    ) in lines
    assert snapshot(tmp_path) == before


def test_import_leaves_a_file_alone_that_is_not_this_buckets_policy(account, tmp_path):
    cfg = bucket_config(tmp_path, 'name = "without-policy"\nexisting_policy = "notes.json"')
    notes = tmp_path / "notes.json"
    notes.write_text('{"not": "a policy"}')
    result = run_import(account, "--config", cfg)
    assert result.returncode == 0, result.stderr
    assert notes.read_text() == '{"not": "a policy"}'
    assert "left" in result.stdout and "it is not a saved policy of this bucket" in result.stdout


def test_import_without_a_config_is_a_usage_error():
    result = run_import({})
    assert result.returncode == 2
    assert "--config" in result.stderr


# Import and generate agree on where things live (issue: nothing of the owner's is lost).


def test_generate_reads_what_import_saved_without_existing_policies_dir(account, tmp_path):
    cfg = tmp_path / "quilt.toml"
    cfg.write_text(
        'control_account_ids = ["111122223333"]\nbuckets = ["with-policy", "without-policy"]\n'
        '[cloudtrail]\nmode = "external"\ntrail_name = "org-trail"\n'
    )
    result = run_import(account, "--config", cfg)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "policies" / "with-policy.json").exists()
    assert (tmp_path / "policies" / "trail-selectors.json").exists()
    model = config.load(cfg)
    assert (
        json.loads(model.existing_policies["with-policy"])["Statement"] == OWNER_POLICY["Statement"]
    )
    # the trail's own selector survives the hand-off, which replaces all of its selectors
    basic = model.cloudtrail.selectors.event_selectors
    assert [s.read_write_type for s in basic] == ["All", "WriteOnly"]


def test_policies_dir_flag_must_be_where_generate_reads(tmp_path):
    cfg = bucket_config(tmp_path, 'name = "with-policy"')
    result = run_import({}, "--config", cfg, "--policies-dir", "elsewhere")
    assert result.returncode == 2
    assert "--policies-dir: generate reads this config's policies from" in result.stderr
    assert not (tmp_path / "elsewhere").exists()


def test_bucket_acl_grants_to_others_are_reported_and_saved(account, tmp_path):
    s3 = client(account, "s3")
    s3.create_bucket(Bucket="acl-bucket")
    owner = s3.get_bucket_acl(Bucket="acl-bucket")["Owner"]
    s3.put_bucket_acl(
        Bucket="acl-bucket",
        AccessControlPolicy={
            "Owner": owner,
            "Grants": [
                {
                    "Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]},
                    "Permission": "FULL_CONTROL",
                },
                {
                    "Grantee": {
                        "Type": "Group",
                        "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
                    },
                    "Permission": "READ",
                },
            ],
        },
    )
    cfg = bucket_config(tmp_path, 'name = "acl-bucket"', 'name = "without-policy"')
    result = run_import(account, "--config", cfg)
    assert result.returncode == 0, result.stderr
    saved = json.loads((tmp_path / "policies" / "acl-bucket.acl.json").read_text())
    assert saved["Bucket"] == "acl-bucket"
    assert [g["Permission"] for g in saved["ForeignGrants"]] == ["READ"]
    assert "acl-bucket: the bucket ACL grants 1 permission(s) to others" in result.stdout
    assert not (tmp_path / "policies" / "without-policy.acl.json").exists()


# Unit checks of what moto cannot produce: a policy that is not JSON, a failed write.


def test_a_policy_that_is_not_json_is_a_read_problem():
    from quilt_cross_account import importer

    snap = importer.Snapshot()
    with pytest.raises(importer._Skip):
        importer._policy_of("buckets[0] (b)", {"Policy": "<html>oops</html>"}, snap)
    assert snap.problems == [
        "buckets[0] (b): s3:GetBucketPolicy returned a policy that is not valid JSON: "
        "Expecting value: line 1 column 1 (char 0)"
    ]


def test_a_failed_write_is_a_clear_error_and_leaves_nothing(tmp_path):
    from quilt_cross_account import errors, importer

    (tmp_path / "blocker").write_text("a file where a directory is needed")
    good = tmp_path / "good.json"
    with pytest.raises(errors.OutputError) as raised:
        importer._commit({good: {"a": 1}, tmp_path / "blocker" / "x.json": {"b": 2}}, [])
    assert str(raised.value).startswith(f"cannot write {tmp_path / 'blocker'}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker"]


def test_import_saves_the_topic_policy_where_generate_reads_it(account, tmp_path):
    sns = client(account, "sns")
    topic = sns.create_topic(Name="quilt-events")["TopicArn"]
    current = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OtherPublisher",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic,
            }
        ],
    }
    sns.set_topic_attributes(
        TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(current)
    )
    cfg = bucket_config(tmp_path, f'name = "without-policy"\nsns_topic_arn = "{topic}"')
    result = run_import(account, "--config", cfg)
    assert result.returncode == 0, result.stderr
    _, _, _, region, owner, name = topic.split(":")
    saved = tmp_path / "policies" / f"sns-{owner}-{region}-{name}.json"
    assert json.loads(saved.read_text()) == current
    model = config.load(cfg)
    assert json.loads(dict(model.topic_policies)[topic]) == current
