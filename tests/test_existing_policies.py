"""Existing bucket policies, statement-only mode, notifications and KMS grants (config + Python)."""

from __future__ import annotations

import json

import pytest
from quilt_cross_account import config, domain, policy
from quilt_cross_account.config import ConfigError
from quilt_cross_account.terraform import render

from tests.util import EXAMPLES, HCL_VALUES, OWNER_STATEMENT, blocks, gallery

OWNER = OWNER_STATEMENT


def write_policy(tmp_path, doc, name="data-one.json"):
    (tmp_path / "policies").mkdir(exist_ok=True)
    path = tmp_path / "policies" / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def load(tmp_path, text: str):
    path = tmp_path / "quilt.toml"
    path.write_text(
        'control_account_ids = ["111122223333"]\n' + text + '\n[cloudtrail]\nmode = "none"\n'
    )
    return config.load(path)


def problems(tmp_path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    return caught.value.problems


def policy_file(name: str) -> dict:
    return json.loads((EXAMPLES / "policies" / name).read_text("utf-8"))


def test_merge_keeps_owner_statements_and_replaces_an_old_quilt_statement():
    model = config.load(gallery("existing-policies"))
    # From existing_policies_dir where a <bucket>.json exists, else the bucket's own file.
    assert set(model.existing_policies) == {"genomics-raw-data", "genomics-partner-share"}
    on_disk = policy_file("genomics-raw-data.json")
    existing = json.loads(model.existing_policies["genomics-raw-data"])
    assert existing == on_disk
    *owner, stale = on_disk["Statement"]
    assert stale["Sid"] == domain.QUILT_SID and owner
    statement = policy.quilt_statement(
        "aws", model.control_account_ids, model.actions, "genomics-raw-data"
    )
    merged = policy.merged_bucket_policy(existing, statement)
    assert merged == {
        "Version": "2012-10-17",
        "Id": "genomics-raw-data-policy",
        "Statement": [*owner, statement],
    }
    assert [s["Sid"] for s in merged["Statement"]].count(domain.QUILT_SID) == 1


def test_single_object_statement_is_accepted():
    model = config.load(gallery("existing-policies"))
    lone = policy_file("genomics-partner-share-2025.json")["Statement"]
    assert isinstance(lone, dict)
    merged = policy.merged_bucket_policy(
        json.loads(model.existing_policies["genomics-partner-share"]), {"Sid": domain.QUILT_SID}
    )
    assert merged["Statement"] == [lone, {"Sid": domain.QUILT_SID}]


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        ("{not json", "is not valid JSON"),
        ([OWNER], "must be a JSON object"),
        ({"Version": "2012-10-17"}, "has no Statement, so it is not a bucket policy"),
        (
            {"Statement": [{k: v for k, v in OWNER.items() if k != "Principal"}]},
            "has no Principal, so this is not a bucket policy",
        ),
        (
            {"Statement": [{**OWNER, "Resource": "arn:aws:s3:::someone-else/*"}]},
            "is not arn:aws:s3:::data-one or an object in it",
        ),
        ({"Statement": [{**OWNER, "Effect": "Maybe"}]}, "Effect must be Allow or Deny"),
        ({"Statement": []}, "non-empty list"),
        (
            {
                "Statement": [
                    {**OWNER, "Condition": {"StringLike": {"aws:UserAgent": "cafe\u0301"}}}
                ]
            },
            'the string "cafe\\u0301" is not in Unicode normalization form NFC',
        ),
    ],
)
def test_bad_existing_policy_is_a_clear_error(tmp_path, doc, fragment):
    write_policy(tmp_path, doc)
    found = problems(
        tmp_path, 'buckets = [{ name = "data-one", existing_policy = "policies/data-one.json" }]'
    )
    assert all(p.startswith("buckets[0].existing_policy: ") for p in found), found
    assert any(fragment in p for p in found), found


def test_missing_policy_file_is_an_error(tmp_path):
    found = problems(tmp_path, 'buckets = [{ name = "data-one", existing_policy = "nope.json" }]')
    assert found == [
        f"buckets[0].existing_policy: policy file {str(tmp_path / 'nope.json')!r} does not exist"
    ]


def test_statement_only_mode_conflicts_with_existing_policies(tmp_path):
    write_policy(tmp_path, {"Statement": OWNER})
    found = problems(
        tmp_path,
        'buckets = ["data-one"]\nexisting_policies_dir = "policies"\npolicy_mode = "statement-only"',
    )
    assert found[0].startswith(
        'policy_mode: "statement-only" leaves each bucket and topic policy to you'
    )


def test_merged_policy_counts_against_the_size_limit(tmp_path):
    big = {
        "Statement": [
            {**OWNER, "Sid": f"S{i}", "Action": [f"s3:GetObject{i}" for i in range(40)]}
            for i in range(30)
        ]
    }
    write_policy(tmp_path, big)
    found = problems(tmp_path, 'buckets = ["data-one"]\nexisting_policies_dir = "policies"')
    assert found[0].startswith("buckets[0]: the bucket policy of 'data-one' would be ")


def test_notification_actions_can_be_left_out():
    model = config.validate(
        {
            "control_account_ids": ["111122223333"],
            "buckets": ["b-1"],
            "grant_notification_actions": False,
            "cloudtrail": {"mode": "none"},
        }
    )
    assert model.actions == tuple(
        a for a in domain.REFERENCE_ACTIONS if a not in domain.NOTIFICATION_ACTIONS
    )


def test_sns_topic_policy_statements():
    topic = "arn:aws:sns:us-east-1:222233334444:quilt-events"
    # The data account owns the buckets; the topic may live in another account.
    doc = policy.sns_topic_policy(
        "aws", ["111122223333"], topic, ["b-two", "b-one"], "444455556666"
    )
    publish, subscribe = doc["Statement"]
    assert publish == {
        "Sid": "QuiltS3Publish",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": topic,
        "Condition": {
            "ArnLike": {"aws:SourceArn": ["arn:aws:s3:::b-one", "arn:aws:s3:::b-two"]},
            "StringEquals": {"aws:SourceAccount": "444455556666"},
        },
    }
    assert subscribe["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    # No sns:Unsubscribe: not an action a topic policy can grant (README: a deliberate deviation)
    assert subscribe["Action"] == ["sns:GetTopicAttributes", "sns:Subscribe"]


def test_kms_key_statement():
    (statement,) = policy.kms_key_policy("aws", ["111122223333"])["Statement"]
    assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ('{ name = "b-1", sns_topic_arn = "topic" }', "buckets[0].sns_topic_arn"),
        (
            '{ name = "b-1", sns_topic_arn = "arn:aws-cn:sns:cn-north-1:222233334444:t" }',
            "buckets[0].sns_topic_arn",
        ),
        (
            '{ name = "b-1", kms_key_arn = "arn:aws:kms:us-east-1:222233334444:alias/x" }',
            "buckets[0].kms_key_arn",
        ),
        ('{ name = "b-1", colour = "red" }', "buckets[0].colour"),
        ("{ existing_policy = 'x.json' }", "buckets[0].name"),
        ("42", "buckets[0]"),
    ],
)
def test_bucket_option_errors(tmp_path, entry, key):
    found = problems(tmp_path, f"buckets = [{entry}]")
    assert any(p.startswith(f"{key}: ") for p in found), found


def test_root_call_carries_existing_policies_topics_and_keys(tmp_path):
    import hcl2

    write_policy(
        tmp_path,
        {
            "Version": "2012-10-17",
            "Statement": [{**OWNER, "Condition": {"StringLike": {"aws:UserAgent": "<a & ${b}>"}}}],
        },
    )
    model = load(
        tmp_path,
        'existing_policies_dir = "policies"\nbuckets = ["data-one", { name = "data.two", sns_topic_arn = "arn:aws:sns:us-east-1:222233334444:t", kms_key_arn = "arn:aws:kms:us-east-1:222233334444:key/abc-123" }]',
    )
    root = render.render(model)[f"{render.ROOT_DIR}/main.tf"]
    call = blocks(hcl2.loads(root, serialization_options=HCL_VALUES), "module")[
        "quilt_cross_account"
    ]
    assert call["sns_topic_arns"] == {"data.two": "arn:aws:sns:us-east-1:222233334444:t"}
    assert call["kms_key_arns"] == {"data.two": "arn:aws:kms:us-east-1:222233334444:key/abc-123"}
    # The policy is passed as a reviewable HCL object under jsonencode(); its text stays literal.
    expression = call["existing_bucket_policies"]["data-one"]
    assert expression.startswith("${jsonencode({")
    assert "\\u0024{b}" in expression and "<a & " in expression
