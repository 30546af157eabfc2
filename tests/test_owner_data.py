"""Nothing of the bucket owner's is lost: each way it was lost before, as a test.

(The import -> generate agreement and the ACL import run against moto in test_import.py; the
offboarding and destroy plans in test_lifecycle.py.)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from quilt_cross_account import cli, config, domain, errors

from tests.test_terraform_module import plan_error
from tests.util import OWNER_STATEMENT

REVOKE = {
    "Sid": domain.QUILT_SID,
    "Effect": "Deny",
    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::data-one", "arn:aws:s3:::data-one/*"],
}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def load_problems(config_path: Path) -> list[str]:
    with pytest.raises(errors.ConfigError) as caught:
        config.load(config_path)
    return caught.value.problems


def bucket_config(tmp_path: Path, tables: str = 'name = "data-one"') -> Path:
    return write(
        tmp_path / "quilt.toml",
        f'control_account_ids = ["111122223333"]\n[[buckets]]\n{tables}\n[cloudtrail]\nmode = "none"\n',
    )


# 4. An owner's Deny under Quilt's Sid is never silently replaced by Quilt's Allow.


def test_an_owners_deny_with_quilts_sid_is_a_config_error(tmp_path):
    write(
        tmp_path / "policies" / "data-one.json",
        json.dumps({"Statement": [OWNER_STATEMENT, REVOKE]}),
    )
    found = load_problems(bucket_config(tmp_path))
    assert len(found) == 1
    assert (
        "Statement[1] has Quilt's Sid 'QuiltCrossAccountAccess' but is not a Quilt Allow"
        in found[0]
    )
    assert "give it another Sid to keep it" in found[0]


@pytest.mark.parametrize(
    "statement",
    [
        REVOKE,
        {**REVOKE, "Effect": "Allow", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
        {**REVOKE, "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/x"}},
    ],
    ids=["deny", "conditioned-allow", "role-allow"],
)
def test_the_module_refuses_to_replace_an_owners_statement_under_quilts_sid(
    terraform, tmp_path, statement
):
    policy = json.dumps({"Statement": [OWNER_STATEMENT, statement]})
    message = " ".join(
        plan_error(
            terraform,
            tmp_path,
            {
                "control_account_ids": ["111122223333"],
                "bucket_names": ["data-one"],
                "trail_mode": "none",
                "existing_bucket_policies": {"data-one": policy},
            },
        ).split()
    )
    assert (
        "has a statement with Quilt's Sid QuiltCrossAccountAccess that is not a Quilt Allow"
        in message
    )


# 5. --bucket keeps the per-bucket options of the buckets the config describes.


def test_bucket_flag_keeps_the_configs_tables(tmp_path, capsys):
    write(tmp_path / "owner.json", json.dumps({"Statement": [OWNER_STATEMENT]}))
    topic = "arn:aws:sns:us-east-1:111122223333:events"
    cfg = bucket_config(
        tmp_path, f'name = "data-one"\nexisting_policy = "owner.json"\nsns_topic_arn = "{topic}"'
    )
    out = tmp_path / "out"
    out.mkdir()
    code = cli.main(
        [
            "generate",
            "--config",
            str(cfg),
            "--out",
            str(out),
            "--bucket",
            "data-one",
            "--bucket",
            "new-one",
        ]
    )
    err = capsys.readouterr().err
    assert code == 0
    assert err.splitlines()[0] == "note: --bucket new-one: not in the config; no per-bucket options"
    model = config.load(cfg, {"buckets": ["data-one", "new-one"]})
    assert list(model.existing_policies) == ["data-one"]
    assert model.sns_topic_arns == {"data-one": topic}


# 6. Anything named <bucket>.json in existing_policies_dir that is not a readable regular file.


@pytest.mark.parametrize("kind", ["directory", "fifo", "dangling-link", "link-loop"])
def test_unusable_policy_entries_are_errors(tmp_path, kind):
    entry = tmp_path / "policies" / "data-one.json"
    entry.parent.mkdir()
    if kind == "directory":
        entry.mkdir()
    elif kind == "fifo":
        os.mkfifo(entry)
    elif kind == "dangling-link":
        entry.symlink_to(tmp_path / "nowhere.json")
    else:
        entry.symlink_to(entry)
    found = load_problems(bucket_config(tmp_path))
    expected = {
        "directory": "is a directory, not a regular file",
        "fifo": "is a FIFO, not a regular file",
        "dangling-link": "is a symbolic link, not a regular file",
        "link-loop": "is a symbolic link, not a regular file",
    }[kind]
    assert found == [f"buckets[0]: policy file {str(entry)!r} {expected}"]


# 7. A bucket whose ACL grants others: generate refuses it until the owner has looked.


def acl_record(tmp_path: Path, bucket: str = "data-one") -> None:
    grant = {
        "Grantee": {"Type": "CanonicalUser", "ID": "f" * 64},
        "Permission": "READ",
    }
    write(
        tmp_path / "policies" / f"{bucket}.acl.json",
        json.dumps({"Bucket": bucket, "ForeignGrants": [grant]}),
    )


def test_generate_refuses_a_bucket_whose_acl_grants_others(tmp_path):
    acl_record(tmp_path)
    found = load_problems(bucket_config(tmp_path))
    assert len(found) == 1 and found[0].startswith(
        "buckets[0]: the bucket ACL of 'data-one' grants 1"
    )
    assert "acl_grants_reviewed = true" in found[0]


def test_acl_grants_reviewed_lets_it_through(tmp_path):
    acl_record(tmp_path)
    model = config.load(bucket_config(tmp_path, 'name = "data-one"\nacl_grants_reviewed = true'))
    assert model.bucket_names == ("data-one",)


# 3. SNS topic policies merge with the topic's own, and name the data account.


def test_topic_policy_merges_the_topics_own_statements(tmp_path):
    topic = "arn:aws:sns:eu-west-1:999988887777:events"
    owner = {
        "Sid": "OtherPublisher",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": topic,
    }
    stale = {
        "Sid": domain.SNS_PUBLISH_SID,
        "Effect": "Allow",
        "Principal": "*",
        "Action": "sns:Publish",
        "Resource": topic,
    }
    write(
        tmp_path / "policies" / "sns-999988887777-eu-west-1-events.json",
        json.dumps({"Statement": [owner, stale]}),
    )
    cfg = bucket_config(tmp_path, f'name = "data-one"\nsns_topic_arn = "{topic}"')
    model = config.load(cfg)
    assert dict(model.topic_policies)[topic]
    from quilt_cross_account.construct.values import applied_sns_topic_policies

    applied = json.loads(applied_sns_topic_policies(model, "444455556666")[topic])
    assert [s["Sid"] for s in applied["Statement"]] == [
        "OtherPublisher",
        domain.SNS_PUBLISH_SID,
        domain.SNS_SUBSCRIBE_SID,
    ]
    publish = applied["Statement"][1]
    assert publish["Condition"]["StringEquals"] == {"aws:SourceAccount": "444455556666"}
    assert "sns:Unsubscribe" not in applied["Statement"][2]["Action"]


# Found by review: a topic, or policy management as a whole, dropped without an offboarding run.


def generate_in(out: Path, config_path: Path, *extra: str) -> tuple[int, str]:
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = cli.main(["generate", "--config", str(config_path), "--out", str(out), *extra])
    return code, err.getvalue()


def test_a_managed_topic_is_never_dropped_silently(tmp_path):
    topic = "arn:aws:sns:us-east-1:999988887777:events"
    out = tmp_path / "out"
    out.mkdir()
    with_topic = bucket_config(tmp_path, f'name = "data-one"\nsns_topic_arn = "{topic}"')
    assert generate_in(out, with_topic)[0] == 0
    without = bucket_config(tmp_path)  # the same bucket, no topic any more
    code, err = generate_in(out, without)
    assert code == errors.EXIT_USAGE
    assert f"the policy of SNS topic {topic!r} was managed by the previous generate" in err
    # Once Terraform has forgotten it, --force goes on and says exactly what to forget.
    code, err = generate_in(out, without, "--force")
    assert code == 0
    assert (
        f"terraform state rm 'module.quilt_cross_account.aws_sns_topic_policy.this[\"{topic}\"]'"
        in err
    )


def test_switching_to_statement_only_is_refused_while_policies_are_managed(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    assert generate_in(out, bucket_config(tmp_path))[0] == 0
    statement_only = write(
        tmp_path / "quilt.toml",
        'control_account_ids = ["111122223333"]\npolicy_mode = "statement-only"\n'
        'buckets = ["data-one"]\n[cloudtrail]\nmode = "none"\n',
    )
    code, err = generate_in(out, statement_only)
    assert code == errors.EXIT_USAGE
    assert 'with "statement-only" Terraform would delete them' in err
    assert "module.quilt_cross_account.aws_s3_bucket_policy.this" in err


def test_a_path_with_a_nul_character_is_a_config_error(tmp_path):
    cfg = write(
        tmp_path / "quilt.toml",
        'control_account_ids = ["111122223333"]\nexisting_policies_dir = "a\\u0000b"\n'
        'buckets = ["data-one"]\n[cloudtrail]\nmode = "none"\n',
    )
    code, err = generate_in(tmp_path, cfg)
    assert code == errors.EXIT_USAGE
    assert err == "error: existing_policies_dir: must be a non-empty path without NUL characters\n"


def test_an_empty_region_is_a_config_error():
    with pytest.raises(errors.ConfigError) as caught:
        config.validate(
            {
                "control_account_ids": ["111122223333"],
                "buckets": ["b-one"],
                "region": "",
                "cloudtrail": {"mode": "none"},
            }
        )
    assert caught.value.problems == ["region: '' is not an AWS region name such as 'us-east-1'"]


TOPIC = "arn:aws:sns:us-east-1:999988887777:events"
TOPIC_CASES = [
    (
        [
            {
                "Sid": "QuiltS3Publish",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": TOPIC,
            }
        ],
        "but is a Deny",
        "has a Deny with one of Quilt's Sids",
    ),
    (
        [
            {
                "Sid": "Other",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": TOPIC + "-other",
            }
        ],
        "is not the topic",
        "is not an Allow or Deny on this topic",
    ),
    ([], "Statement must be a statement object or a non-empty list", "a non-empty list of them"),
]


@pytest.mark.parametrize(
    ("statements", "python", "module"), TOPIC_CASES, ids=["deny", "other-topic", "empty"]
)
def test_topic_policy_rules_agree(terraform, tmp_path, statements, python, module):
    from quilt_cross_account import policy

    doc = {"Version": "2012-10-17", "Statement": statements}
    assert any(python in p for p in policy.topic_policy_problems(doc, TOPIC))
    message = " ".join(
        plan_error(
            terraform,
            tmp_path,
            {
                "control_account_ids": ["111122223333"],
                "bucket_names": ["data-one"],
                "trail_mode": "none",
                "sns_topic_arns": {"data-one": TOPIC},
                "existing_topic_policies": {TOPIC: json.dumps(doc)},
            },
        ).split()
    )
    assert module in message, message
