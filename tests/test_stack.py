"""The CDKTF construct against the module (the spec): exact attributes, dependencies, outputs.

Each config is synthesized once per session (tests/cdktf_fixtures.py). Expected values are
written out here, from Quilt's guide and the module's HCL; policy strings are also compared byte
for byte with generator.policy, which reproduces the module's jsonencode().
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from quilt_cross_account import config, domain, policy
from quilt_cross_account.construct import family
from quilt_cross_account.construct.values import (
    CALLER_ROLE,
    LOG_ROLE,
    TRAIL_ROLE,
    bucket_logical_id,
    escape,
    escape_around,
    literal,
    output_values,
    role_logical_id,
    topic_logical_id,
)
from quilt_cross_account.terraform import interface

from tests.cdktf_fixtures import (
    CONSTRUCT_ID,
    EXAMPLE_CONFIG,
    REPO,
    construct,
    family_neutral,
    model_from_text,
    resources,
    synthesized,
)
from tests.util import EXAMPLES, GUIDE_ACTIONS, gallery, parse_tf

TF_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
CALLER = "${data.aws_caller_identity.quilt_caller.account_id}"
KMS_KEY = "arn:aws:kms:eu-west-1:999988887777:key/1234abcd-12ab-34cd-56ef-1234567890ab"

MULTI_BUCKETS = ["alpha-data", "data.with.dots", "1digit-start"]
MULTI_TEMPLATE = """
control_account_ids = ["111122223333", "444455556666"]
buckets = {buckets}
region = "eu-west-1"
action_set = "extended"

[tags]
team = "data + - = . _ : / @"
owner = "platform"

[cloudtrail]
mode = "create"
trail_name = "quilt-multi"
log_bucket_name = "quilt-multi-logs"
selector_style = "advanced"
read_write_type = "ReadOnly"
include_management_events = true
is_multi_region_trail = false
enable_log_file_validation = false
kms_key_arn = "{kms}"
"""

# Scenarios of the gallery (examples/*.toml), with the values these tests expect from them.
STATEMENT_ONLY_TOPIC = "arn:aws:sns:us-east-1:777788889999:research-raw-data-events"
STATEMENT_ONLY_KEY = "arn:aws:kms:us-east-1:777788889999:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SHARED_TOPIC = "arn:aws:sns:us-east-1:777788889999:imaging_object_events"
EXPORTS_TOPIC = "arn:aws:sns:us-east-1:777788889999:imaging-exports"
SHARED_TOPIC_POLICY = "sns-777788889999-us-east-1-imaging_object_events.json"
IMAGING_KEYS = (
    "arn:aws:kms:us-east-1:777788889999:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "arn:aws:kms:us-east-1:777788889999:key/0987dcba-09fe-87dc-65ba-ab0987654321",
)
IMAGING_ACCOUNTS = ["111122223333", "444455556666"]


def multi_text(buckets: list[str]) -> str:
    return MULTI_TEMPLATE.format(buckets=json.dumps(buckets), kms=KMS_KEY)


# ---------------------------------------------------------------------------------------------
# Session fixtures: one synthesis per config and CDK family (`cdk`: every test using them runs on
# CDK for Terraform and on CDK Terrain).


@pytest.fixture(scope="session")
def example(cdk):
    return synthesized(config.load(EXAMPLE_CONFIG), cdk)


@pytest.fixture(scope="session")
def multi(cdk):
    return synthesized(model_from_text(multi_text(MULTI_BUCKETS)), cdk)


@pytest.fixture(scope="session")
def multi_front(cdk):
    return synthesized(model_from_text(multi_text(["0-new-front", *MULTI_BUCKETS])), cdk)


@pytest.fixture(scope="session")
def statement_only(cdk):
    return synthesized(config.load(gallery("statement-only")), cdk)


@pytest.fixture(scope="session")
def existing_policies(cdk):
    return synthesized(config.load(gallery("existing-policies")), cdk)


@pytest.fixture(scope="session")
def notifications(cdk):
    return synthesized(config.load(gallery("sns-kms")), cdk)


def outputs(synth: dict) -> dict:
    return {name: body["value"] for name, body in synth["output"].items()}


def unescape(text: str) -> str:
    """A Terraform JSON string literal's value (only the template escapes occur here)."""
    return text.replace("$${", "${").replace("%%{", "%{")


# ---------------------------------------------------------------------------------------------
# The synthesized JSON, byte for byte: users have state, and a changed logical id would destroy
# and recreate a resource, so no refactoring may change a byte unnoticed.

SNAPSHOTS = REPO / "tests" / "snapshots" / "stack"


@pytest.mark.cdktf  # the fixture is chosen at run time, which tests/markers.py cannot see
@pytest.mark.parametrize(
    "fixture", ["example", "multi", "statement_only", "existing_policies", "notifications"]
)
def test_synthesized_json_is_unchanged(fixture, cdk, request):
    """After an intended change, rewrite the files with UPDATE_STACK_SNAPSHOTS=1 and review the
    diff: resource addresses must only change on purpose. The snapshots are CDKTF's, byte for
    byte; CDK Terrain's stack must be the same JSON but for its provider pins (PROVIDER_PINS)."""
    _, text, _ = request.getfixturevalue(fixture)
    path = SNAPSHOTS / f"{fixture}.json"
    if cdk == family.DEFAULT.name:
        if os.environ.get("UPDATE_STACK_SNAPSHOTS"):
            path.write_text(text, "utf-8")
        assert text == path.read_text("utf-8")
    else:
        assert text != path.read_text("utf-8")  # the pins differ: normalised below, and only they
        assert family_neutral(text, cdk) == family_neutral(
            path.read_text("utf-8"), family.DEFAULT.name
        )


# ---------------------------------------------------------------------------------------------
# The reference example: one control account, one bucket, a trail with its own log bucket.


def test_example_has_exactly_the_modules_resources(example):
    _, _, synth = example
    found = {rtype: sorted(named) for rtype, named in synth["resource"].items()}
    assert found == {
        "aws_cloudtrail": ["quilt_trail"],
        "aws_s3_bucket": ["quilt_log"],
        "aws_s3_bucket_ownership_controls": ["quilt_bucket_bucket-in-data-account", "quilt_log"],
        "aws_s3_bucket_policy": ["quilt_bucket_bucket-in-data-account", "quilt_log"],
        "aws_s3_bucket_public_access_block": ["quilt_log"],
        "aws_s3_bucket_server_side_encryption_configuration": ["quilt_log"],
        "aws_s3_bucket_versioning": ["quilt_log"],
    }
    assert synth["data"] == {"aws_caller_identity": {"quilt_caller": {}}}
    assert synth["provider"] == {"aws": [{"region": "us-east-1"}]}


def test_example_bucket_policy_is_the_guides(example):
    _, _, synth = example
    body = resources(synth, "aws_s3_bucket_policy")["quilt_bucket_bucket-in-data-account"]
    assert set(body) == {"bucket", "policy"}
    assert body["bucket"] == "bucket-in-data-account"
    assert json.loads(body["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "QuiltCrossAccountAccess",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": GUIDE_ACTIONS,
                "Resource": [
                    "arn:aws:s3:::bucket-in-data-account",
                    "arn:aws:s3:::bucket-in-data-account/*",
                ],
            }
        ],
    }
    expected = policy.bucket_policy(
        "aws", ["111122223333"], GUIDE_ACTIONS, "bucket-in-data-account"
    )
    assert body["policy"] == policy.terraform_json(expected)  # jsonencode(), byte for byte


def test_example_ownership_follows_the_policy(example):
    _, _, synth = example
    assert resources(synth, "aws_s3_bucket_ownership_controls") == {
        "quilt_bucket_bucket-in-data-account": {
            "bucket": "bucket-in-data-account",
            "rule": {"object_ownership": "BucketOwnerEnforced"},
            "depends_on": ["aws_s3_bucket_policy.quilt_bucket_bucket-in-data-account"],
        },
        "quilt_log": {
            "bucket": "${aws_s3_bucket.quilt_log.id}",
            "rule": {"object_ownership": "BucketOwnerEnforced"},
            "depends_on": ["aws_s3_bucket_policy.quilt_log"],
        },
    }


def test_example_trail(example):
    _, _, synth = example
    assert resources(synth, "aws_cloudtrail") == {
        "quilt_trail": {
            "name": "quilt-data-events",
            "s3_bucket_name": "bucket-in-data-account-cloudtrail",
            "is_multi_region_trail": True,
            "include_global_service_events": True,
            "enable_log_file_validation": True,
            "tags": {},
            "event_selector": [
                {
                    "read_write_type": "All",
                    "include_management_events": False,
                    "data_resource": [
                        {
                            "type": "AWS::S3::Object",
                            "values": ["arn:aws:s3:::bucket-in-data-account/"],
                        }
                    ],
                }
            ],
            # CloudTrail checks the log bucket's policy when the trail is created.
            "depends_on": ["aws_s3_bucket_policy.quilt_log"],
        }
    }


def test_example_log_bucket(example):
    _, _, synth = example
    log = "bucket-in-data-account-cloudtrail"
    ref = "${aws_s3_bucket.quilt_log.id}"
    assert resources(synth, "aws_s3_bucket") == {"quilt_log": {"bucket": log, "tags": {}}}
    assert resources(synth, "aws_s3_bucket_public_access_block") == {
        "quilt_log": {
            "bucket": ref,
            "block_public_acls": True,
            "block_public_policy": True,
            "ignore_public_acls": True,
            "restrict_public_buckets": True,
        }
    }
    assert resources(synth, "aws_s3_bucket_versioning") == {
        "quilt_log": {"bucket": ref, "versioning_configuration": {"status": "Enabled"}}
    }
    assert resources(synth, "aws_s3_bucket_server_side_encryption_configuration") == {
        "quilt_log": {
            "bucket": ref,
            "rule": [{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
        }
    }
    body = resources(synth, "aws_s3_bucket_policy")["quilt_log"]
    assert body["bucket"] == ref
    assert body["depends_on"] == ["aws_s3_bucket_public_access_block.quilt_log"]
    expected = policy.log_bucket_policy("aws", ["111122223333"], log, CALLER, ["quilt-data-events"])
    assert body["policy"] == policy.terraform_json(expected)
    statements = {s["Sid"]: s for s in json.loads(body["policy"])["Statement"]}
    assert list(statements) == [
        "AWSCloudTrailAclCheck",
        "AWSCloudTrailWrite",
        "QuiltListCloudTrailLogs",
        "QuiltReadCloudTrailLogs",
        "DenyInsecureTransport",
    ]
    # The data account comes from the caller-identity data source, as in the module.
    assert statements["AWSCloudTrailWrite"]["Resource"] == f"arn:aws:s3:::{log}/AWSLogs/{CALLER}/*"
    assert statements["AWSCloudTrailAclCheck"]["Condition"] == {
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudtrail:*:{CALLER}:trail/quilt-data-events"}
    }


def test_example_outputs(example):
    _, _, synth = example
    document = resources(synth, "aws_s3_bucket_policy")["quilt_bucket_bucket-in-data-account"]
    log = "arn:aws:s3:::bucket-in-data-account-cloudtrail"
    principal = {"AWS": "arn:aws:iam::111122223333:root"}
    assert list(synth["output"]) == sorted(o.name for o in interface.OUTPUTS)
    for item in interface.OUTPUTS:
        assert synth["output"][item.name]["description"] == item.description
    values = outputs(synth)
    read_policy = values.pop("log_bucket_read_policy")
    assert values == {
        "cloudtrail_bucket": "bucket-in-data-account-cloudtrail",
        "trail_arn": "${aws_cloudtrail.quilt_trail.arn}",
        "bucket_policies": {"bucket-in-data-account": document["policy"]},
        "quilt_statements": {"bucket-in-data-account": document["policy"]},
        "sns_topic_policies": {},
        "kms_key_policies": {},
        "principal_arns": ["arn:aws:iam::111122223333:root"],
        "selector_style": "basic",
        "event_selectors": [
            {
                "read_write_type": "All",
                "include_management_events": False,
                "data_resources": [
                    {"type": "AWS::S3::Object", "values": ["arn:aws:s3:::bucket-in-data-account/"]}
                ],
            }
        ],
        "advanced_event_selectors": [],
        "trails": [
            {
                "name": "quilt-data-events",
                "event_selectors": [
                    {
                        "read_write_type": "All",
                        "include_management_events": False,
                        "data_resources": [
                            {
                                "type": "AWS::S3::Object",
                                "values": ["arn:aws:s3:::bucket-in-data-account/"],
                            }
                        ],
                    }
                ],
                "advanced_event_selectors": [],
            }
        ],
    }
    assert json.loads(read_policy) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "QuiltListCloudTrailLogs",
                "Effect": "Allow",
                "Principal": principal,
                "Action": "s3:ListBucket",
                "Resource": log,
            },
            {
                "Sid": "QuiltReadCloudTrailLogs",
                "Effect": "Allow",
                "Principal": principal,
                "Action": "s3:GetObject",
                "Resource": f"{log}/AWSLogs/*",
            },
        ],
    }
    statements = policy.log_bucket_read_statements("aws", ["111122223333"], log.split(":::")[1])
    assert read_policy == policy.terraform_json(policy.document(statements))


def test_example_with_cdktf_testing_matchers(example, cdk):
    cdk_ = construct(cdk)  # the family's Testing and provider classes
    Testing, Cloudtrail, S3Bucket = cdk_.Testing, cdk_.Cloudtrail, cdk_.S3Bucket
    DataAwsCallerIdentity, S3BucketPolicy = cdk_.DataAwsCallerIdentity, cdk_.S3BucketPolicy
    S3BucketOwnershipControls = cdk_.S3BucketOwnershipControls
    S3BucketPublicAccessBlock = cdk_.S3BucketPublicAccessBlock
    Encryption = cdk_.S3BucketServerSideEncryptionConfigurationA

    _, text, _ = example
    guide = policy.terraform_json(
        policy.bucket_policy("aws", ["111122223333"], GUIDE_ACTIONS, "bucket-in-data-account")
    )
    expectations = [
        (S3BucketPolicy, {"bucket": "bucket-in-data-account", "policy": guide}),
        (
            S3BucketOwnershipControls,
            {
                "bucket": "bucket-in-data-account",
                "rule": {"object_ownership": "BucketOwnerEnforced"},
                "depends_on": ["aws_s3_bucket_policy.quilt_bucket_bucket-in-data-account"],
            },
        ),
        (
            Cloudtrail,
            {
                "name": "quilt-data-events",
                "s3_bucket_name": "bucket-in-data-account-cloudtrail",
                "include_global_service_events": True,
            },
        ),
        (S3Bucket, {"bucket": "bucket-in-data-account-cloudtrail", "tags": {}}),
        (S3BucketPublicAccessBlock, {"block_public_policy": True, "restrict_public_buckets": True}),
        (
            Encryption,
            {"rule": [{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}]},
        ),
    ]
    for resource, properties in expectations:
        assert Testing.to_have_resource_with_properties(
            text, resource.TF_RESOURCE_TYPE, properties
        ), resource.TF_RESOURCE_TYPE
    assert Testing.to_have_data_source_with_properties(
        text, DataAwsCallerIdentity.TF_RESOURCE_TYPE, {}
    )
    assert not Testing.to_have_resource_with_properties(
        text, S3BucketPolicy.TF_RESOURCE_TYPE, {"bucket": "some-other-bucket"}
    )


# ---------------------------------------------------------------------------------------------
# Three buckets (one with dots, one starting with a digit), two control accounts, advanced
# selectors, ReadOnly with management events, KMS, custom trail settings and tags.


def test_multi_logical_ids_come_from_bucket_names(multi):
    _, _, synth = multi
    expected = [
        "quilt_bucket_1digit-start",
        "quilt_bucket_alpha-data",
        "quilt_bucket_data_with_dots",
    ]
    assert sorted(resources(synth, "aws_s3_bucket_policy")) == [*expected, "quilt_log"]
    assert sorted(resources(synth, "aws_s3_bucket_ownership_controls")) == [*expected, "quilt_log"]
    for named in synth["resource"].values():
        assert all(TF_IDENTIFIER.fullmatch(name) for name in named)


def test_multi_bucket_policies(multi):
    _, _, synth = multi
    bodies = resources(synth, "aws_s3_bucket_policy")
    accounts = ["111122223333", "444455556666"]
    actions = list(domain.ACTION_SETS["extended"])
    for bucket in MULTI_BUCKETS:
        body = bodies[bucket_logical_id(CONSTRUCT_ID, bucket)]
        assert body["bucket"] == bucket
        assert json.loads(body["policy"]) == {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "QuiltCrossAccountAccess",
                    "Effect": "Allow",
                    "Principal": {
                        "AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"]
                    },
                    "Action": actions,
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                }
            ],
        }
        expected = policy.bucket_policy("aws", accounts, actions, bucket)
        assert body["policy"] == policy.terraform_json(expected)
    ownership = resources(synth, "aws_s3_bucket_ownership_controls")
    for bucket in MULTI_BUCKETS:
        name = bucket_logical_id(CONSTRUCT_ID, bucket)
        # Each bucket's ownership waits for its own policy only.
        assert ownership[name]["depends_on"] == [f"aws_s3_bucket_policy.{name}"]
        assert ownership[name]["bucket"] == bucket


def test_multi_trail_advanced_selectors_and_settings(multi):
    _, _, synth = multi
    trail = resources(synth, "aws_cloudtrail")["quilt_trail"]
    read_only = {"field": "readOnly", "equals": ["true"]}
    assert trail == {
        "name": "quilt-multi",
        "s3_bucket_name": "quilt-multi-logs",
        "is_multi_region_trail": False,
        "include_global_service_events": True,
        "enable_log_file_validation": False,
        "kms_key_id": KMS_KEY,
        # Terraform JSON strings are templates: literal ${ and %{ are doubled.
        "tags": {"owner": "platform", "team": "data + - = . _ : / @"},
        "advanced_event_selector": [
            {
                "name": "QuiltS3DataEvents",
                "field_selector": [
                    {"field": "eventCategory", "equals": ["Data"]},
                    {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                    {
                        "field": "resources.ARN",
                        "starts_with": [f"arn:aws:s3:::{b}/" for b in MULTI_BUCKETS],
                    },
                    read_only,
                ],
            },
            {
                "name": "ManagementEvents",
                "field_selector": [{"field": "eventCategory", "equals": ["Management"]}, read_only],
            },
        ],
        "depends_on": ["aws_s3_bucket_policy.quilt_log"],
    }


def test_multi_log_bucket_uses_the_kms_key(multi):
    _, _, synth = multi
    assert resources(synth, "aws_s3_bucket_server_side_encryption_configuration") == {
        "quilt_log": {
            "bucket": "${aws_s3_bucket.quilt_log.id}",
            "rule": [
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": KMS_KEY,
                    },
                    "bucket_key_enabled": True,
                }
            ],
        }
    }
    bucket = resources(synth, "aws_s3_bucket")["quilt_log"]
    assert {k: unescape(t) for k, t in bucket["tags"].items()} == {
        "owner": "platform",
        "team": "data + - = . _ : / @",
    }
    log_policy = resources(synth, "aws_s3_bucket_policy")["quilt_log"]
    accounts = ["111122223333", "444455556666"]
    expected = policy.log_bucket_policy(
        "aws", accounts, "quilt-multi-logs", CALLER, ["quilt-multi"]
    )
    assert log_policy["policy"] == policy.terraform_json(expected)


def test_multi_outputs(multi):
    _, _, synth = multi
    values = outputs(synth)
    assert values["selector_style"] == "advanced"
    assert values["event_selectors"] == []
    assert values["principal_arns"] == [
        "arn:aws:iam::111122223333:root",
        "arn:aws:iam::444455556666:root",
    ]
    unused = {"not_equals": None, "not_starts_with": None, "ends_with": None, "not_ends_with": None}

    def field(name, equals=None, starts_with=None):
        return {"field": name, "equals": equals, "starts_with": starts_with, **unused}

    read_only = field("readOnly", equals=["true"])
    # Every operator present, null when unused: the shape of the module's output.
    assert values["advanced_event_selectors"] == [
        {
            "name": "QuiltS3DataEvents",
            "field_selectors": [
                field("eventCategory", equals=["Data"]),
                field("resources.type", equals=["AWS::S3::Object"]),
                field("resources.ARN", starts_with=[f"arn:aws:s3:::{b}/" for b in MULTI_BUCKETS]),
                read_only,
            ],
        },
        {
            "name": "ManagementEvents",
            "field_selectors": [field("eventCategory", equals=["Management"]), read_only],
        },
    ]
    policies = resources(synth, "aws_s3_bucket_policy")
    assert values["bucket_policies"] == {
        b: policies[bucket_logical_id(CONSTRUCT_ID, b)]["policy"] for b in MULTI_BUCKETS
    }


def test_adding_a_bucket_in_front_renames_nothing(multi, multi_front):
    _, _, before = multi
    _, _, after = multi_front
    for rtype in ("aws_s3_bucket_policy", "aws_s3_bucket_ownership_controls"):
        old, new = resources(before, rtype), resources(after, rtype)
        assert set(new) - set(old) == {"quilt_bucket_0-new-front"}
        assert {name: new[name] for name in old} == old
    for rtype in ("aws_s3_bucket", "aws_s3_bucket_public_access_block", "aws_s3_bucket_versioning"):
        assert resources(after, rtype) == resources(before, rtype)


# ---------------------------------------------------------------------------------------------
# Policy modes, SNS topics, KMS keys, trail modes.


def test_statement_only_manages_no_policy(statement_only):
    _, _, synth = statement_only
    buckets = ("research-raw-data", "research-shared-results")
    assert set(synth["resource"]) == {"aws_s3_bucket_ownership_controls"}
    # read only because the topic's statements name the data account (aws:SourceAccount)
    assert synth["data"] == {"aws_caller_identity": {"quilt_caller": {}}}
    assert resources(synth, "aws_s3_bucket_ownership_controls") == {
        f"quilt_bucket_{b}": {"bucket": b, "rule": {"object_ownership": "BucketOwnerEnforced"}}
        for b in buckets
    }
    values = outputs(synth)
    assert values["bucket_policies"] == {}
    assert values["trail_arn"] is None
    assert values["cloudtrail_bucket"] == "research-cloudtrail-logs"
    assert values["selector_style"] == "basic"
    assert values["quilt_statements"] == {
        b: policy.terraform_json(policy.bucket_policy("aws", ["111122223333"], GUIDE_ACTIONS, b))
        for b in buckets
    }
    topic = STATEMENT_ONLY_TOPIC
    assert values["sns_topic_policies"] == {
        topic: policy.terraform_json(
            policy.sns_topic_policy("aws", ["111122223333"], topic, ["research-raw-data"], CALLER)
        )
    }
    assert values["kms_key_policies"] == {
        STATEMENT_ONLY_KEY: policy.terraform_json(policy.kms_key_policy("aws", ["111122223333"]))
    }


def test_existing_policy_is_merged_and_escaped(existing_policies):
    _, _, synth = existing_policies
    existing = json.loads((EXAMPLES / "policies" / "genomics-raw-data.json").read_text("utf-8"))
    body = resources(synth, "aws_s3_bucket_policy")["quilt_bucket_genomics-raw-data"]
    # The IAM policy variable must stay literal: Terraform JSON reads ${ as a reference.
    assert "$${aws:username}" in body["policy"]
    merged = policy.applied_bucket_policy(
        "aws",
        ["111122223333"],
        GUIDE_ACTIONS,
        "genomics-raw-data",
        policy.terraform_json(existing),
    )
    assert unescape(body["policy"]) == policy.terraform_json(merged)
    doc = json.loads(unescape(body["policy"]))
    assert doc["Id"] == "genomics-raw-data-policy"
    # The stale Quilt statement (an old control account) is replaced, in its place.
    assert [s["Sid"] for s in doc["Statement"]] == [
        "DenyInsecureTransport",
        "UserHomeFolders",
        "QuiltCrossAccountAccess",
    ]
    assert doc["Statement"][2]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert outputs(synth)["bucket_policies"]["genomics-raw-data"] == body["policy"]


def test_sns_topic_policies_per_topic(notifications):
    _, _, synth = notifications
    topics = resources(synth, "aws_sns_topic_policy")
    shared = "quilt_topic_aws_us-east-1_777788889999_imaging__object__events"
    exports = "quilt_topic_aws_us-east-1_777788889999_imaging-exports"
    # The shared topic's current policy (examples/policies/sns-...json) keeps its statements.
    owner = json.loads((EXAMPLES / "policies" / SHARED_TOPIC_POLICY).read_text("utf-8"))
    assert topics == {
        shared: {
            "arn": SHARED_TOPIC,
            "policy": policy.terraform_json(
                policy.applied_topic_policy(
                    policy.sns_topic_policy(
                        "aws",
                        IMAGING_ACCOUNTS,
                        SHARED_TOPIC,
                        ["imaging-raw-data", "imaging-processed"],
                        CALLER,
                    ),
                    owner,
                )
            ),
        },
        exports: {
            "arn": EXPORTS_TOPIC,
            "policy": policy.terraform_json(
                policy.sns_topic_policy(
                    "aws", IMAGING_ACCOUNTS, EXPORTS_TOPIC, ["imaging-exports"], CALLER
                )
            ),
        },
    }
    sids = [s["Sid"] for s in json.loads(topics[shared]["policy"])["Statement"]]
    assert sids == [
        "__default_statement_ID",
        "AnalyticsTeamSubscribes",
        "QuiltS3Publish",
        "QuiltControlAccountSubscribe",
    ]
    publish = json.loads(topics[shared]["policy"])["Statement"][2]
    assert publish["Condition"]["ArnLike"]["aws:SourceArn"] == [
        "arn:aws:s3:::imaging-processed",
        "arn:aws:s3:::imaging-raw-data",
    ]
    assert outputs(synth)["kms_key_policies"] == {
        key: policy.terraform_json(policy.kms_key_policy("aws", IMAGING_ACCOUNTS))
        for key in IMAGING_KEYS
    }


def test_topic_logical_ids_escape_underscores_and_dots():
    arn = "arn:aws:sns:us-east-1:123456789012:{}".format
    assert topic_logical_id("quilt", arn("shared_topic")) == (
        "quilt_topic_aws_us-east-1_123456789012_shared__topic"
    )
    assert topic_logical_id("quilt", arn("events.fifo")) == (
        "quilt_topic_aws_us-east-1_123456789012_events_fifo"
    )


def test_trail_mode_none(notifications):
    _, _, synth = notifications
    assert "aws_cloudtrail" not in synth["resource"]
    assert synth["data"] == {"aws_caller_identity": {"quilt_caller": {}}}  # for the topics only
    values = outputs(synth)
    assert values["selector_style"] is None
    assert values["event_selectors"] == []
    assert values["advanced_event_selectors"] == []
    assert values["cloudtrail_bucket"] is None
    assert values["log_bucket_read_policy"] is None


def test_construct_covers_every_resource_of_the_module(example, notifications):
    """The module (the spec) and the construct create the same kinds of things: a resource or
    data source added to the module fails here until the construct has it too."""
    module = REPO / "modules" / "quilt-cross-account"
    declared: set[tuple[str, str]] = set()
    for path in module.glob("*.tf"):
        parsed = parse_tf(path)
        for kind in ("resource", "data"):
            for item in parsed.get(kind, []):
                declared |= {(kind, rtype) for rtype in item}
    built: set[tuple[str, str]] = set()
    for _, _, synth in (example, notifications):
        for kind in ("resource", "data"):
            built |= {(kind, rtype) for rtype in synth.get(kind, {})}
    assert built == declared


# ---------------------------------------------------------------------------------------------
# The construct's API.


def test_two_constructs_in_one_stack(cdk):
    cdk_ = construct(cdk)
    stack = cdk_.TerraformStack(cdk_.Testing.app(), "two")
    cdk_.AwsProvider(stack, "aws", region="us-east-1")
    cdk_.QuiltCrossAccount(stack, "first", model=config.load(EXAMPLE_CONFIG))
    cdk_.QuiltCrossAccount(
        stack,
        "second",
        model=model_from_text(multi_text(MULTI_BUCKETS)),
        output_prefix="second_",
    )
    synth = json.loads(cdk_.Testing.synth(stack))
    assert sorted(resources(synth, "aws_cloudtrail")) == ["first_trail", "second_trail"]
    assert "second_bucket_data_with_dots" in resources(synth, "aws_s3_bucket_policy")
    assert {"bucket_policies", "second_bucket_policies"} <= set(synth["output"])


EXISTING_LOG_BUCKET = """
control_account_ids = ["111122223333"]
buckets = ["trail-only"]

[cloudtrail]
mode = "create"
log_bucket_name = "someone-elses-logs"
create_log_bucket = false
"""


def logical_id(resource) -> str:
    return resource.friendly_unique_id  # the overridden logical id


def test_parts_of_the_example(example, cdk):
    cdk_ = construct(cdk)  # the construct's classes and the family's, as the stack was built
    Cloudtrail, S3Bucket, S3BucketPolicy = cdk_.Cloudtrail, cdk_.S3Bucket, cdk_.S3BucketPolicy
    DataAwsCallerIdentity, S3BucketVersioningA = (
        cdk_.DataAwsCallerIdentity,
        cdk_.S3BucketVersioningA,
    )
    S3BucketOwnershipControls = cdk_.S3BucketOwnershipControls
    S3BucketPublicAccessBlock = cdk_.S3BucketPublicAccessBlock
    S3BucketServerSideEncryptionConfigurationA = cdk_.S3BucketServerSideEncryptionConfigurationA
    DataBucketAccess, LogBucket, Trail = cdk_.DataBucketAccess, cdk_.LogBucket, cdk_.Trail

    stack, _, _ = example
    quilt = stack.quilt
    name = "bucket-in-data-account"
    assert list(quilt.data_buckets) == [name]
    access = quilt.data_buckets[name]
    assert isinstance(access, DataBucketAccess)
    assert access.bucket == name
    assert isinstance(access.policy, S3BucketPolicy)
    assert isinstance(access.ownership_controls, S3BucketOwnershipControls)
    assert (
        logical_id(access.policy) == logical_id(access.ownership_controls) == f"quilt_bucket_{name}"
    )
    assert quilt.topics == {}

    logs = quilt.logs
    assert isinstance(logs, LogBucket)
    assert isinstance(logs.caller_identity, DataAwsCallerIdentity)
    assert logical_id(logs.caller_identity) == "quilt_caller"
    parts = {
        "bucket": S3Bucket,
        "public_access_block": S3BucketPublicAccessBlock,
        "versioning": S3BucketVersioningA,
        "encryption": S3BucketServerSideEncryptionConfigurationA,
        "policy": S3BucketPolicy,
        "ownership_controls": S3BucketOwnershipControls,
    }
    for attribute, cls in parts.items():
        resource = getattr(logs, attribute)
        assert isinstance(resource, cls), attribute
        assert logical_id(resource) == "quilt_log", attribute
        # The flat attributes name the same resources.
        flat = "log_bucket" if attribute == "bucket" else f"log_bucket_{attribute}"
        assert getattr(quilt, flat) is resource, flat
    assert quilt.caller_identity is logs.caller_identity

    assert isinstance(quilt.cloudtrail, Trail)
    assert isinstance(quilt.cloudtrail.trail, Cloudtrail)
    assert logical_id(quilt.cloudtrail.trail) == "quilt_trail"
    assert quilt.trail is quilt.cloudtrail.trail
    assert quilt.bucket_policies == {name: access.policy}
    assert quilt.ownership_controls == {name: access.ownership_controls}
    assert quilt.sns_topic_policies == {}
    assert list(quilt.outputs) == [o.name for o in interface.OUTPUTS]


def test_parts_without_policies_or_log_bucket(statement_only, notifications, cdk):
    SnsTopicPolicy, TopicPolicy = construct(cdk).SnsTopicPolicy, construct(cdk).TopicPolicy

    # Statement-only: ownership only, no policy, log bucket or trail; the data account is read
    # for the topic statements it outputs.
    quilt = statement_only[0].quilt
    assert list(quilt.data_buckets) == ["research-raw-data", "research-shared-results"]
    for name, access in quilt.data_buckets.items():
        assert access.policy is None
        assert logical_id(access.ownership_controls) == f"quilt_bucket_{name}"
    assert quilt.topics == {} and quilt.sns_topic_policies == {} and quilt.bucket_policies == {}
    assert quilt.logs is None and quilt.cloudtrail is None
    assert logical_id(quilt.caller_identity) == "quilt_caller"
    for flat in (
        "log_bucket",
        "log_bucket_public_access_block",
        "log_bucket_versioning",
        "log_bucket_encryption",
        "log_bucket_policy",
        "log_bucket_ownership_controls",
        "trail",
    ):
        assert getattr(quilt, flat) is None, flat

    # Managed with SNS topics, trail mode "none": one TopicPolicy per topic.
    quilt = notifications[0].quilt
    assert list(quilt.data_buckets) == ["imaging-raw-data", "imaging-processed", "imaging-exports"]
    assert all(access.policy is not None for access in quilt.data_buckets.values())
    assert sorted(quilt.topics) == sorted([SHARED_TOPIC, EXPORTS_TOPIC])
    for topic, part in quilt.topics.items():
        assert isinstance(part, TopicPolicy)
        assert part.topic_arn == topic
        assert isinstance(part.policy, SnsTopicPolicy)
        assert logical_id(part.policy) == topic_logical_id("quilt", topic)
        assert quilt.sns_topic_policies[topic] is part.policy
    assert quilt.logs is None and quilt.cloudtrail is None and quilt.log_bucket is None


def test_trail_with_an_existing_log_bucket(cdk):
    stack, _, synth = synthesized(model_from_text(EXISTING_LOG_BUCKET), cdk)
    quilt = stack.quilt
    assert quilt.logs is None and quilt.log_bucket_policy is None
    assert quilt.cloudtrail is not None and quilt.trail is quilt.cloudtrail.trail
    assert set(synth["resource"]) == {
        "aws_cloudtrail",
        "aws_s3_bucket_ownership_controls",
        "aws_s3_bucket_policy",
    }
    assert "data" not in synth
    trail = resources(synth, "aws_cloudtrail")["quilt_trail"]
    assert trail["s3_bucket_name"] == "someone-elses-logs"
    assert "depends_on" not in trail  # no log-bucket policy of ours to wait for


def test_construct_id_must_be_a_terraform_identifier(cdk):
    cdk_ = construct(cdk)
    stack = cdk_.TerraformStack(cdk_.Testing.app(), "bad")
    with pytest.raises(ValueError, match="construct id '9 lives'"):
        cdk_.QuiltCrossAccount(stack, "9 lives", model=config.load(EXAMPLE_CONFIG))
    with pytest.raises(ValueError, match="output_prefix"):
        cdk_.QuiltCrossAccount(stack, "ok", model=config.load(EXAMPLE_CONFIG), output_prefix="x y")
    assert stack.node.children == []  # nothing half-built was left in the tree


# ---------------------------------------------------------------------------------------------
# Logical ids and escaping (plain Python, no cdktf).

BUCKET_NAMES = st.from_regex(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", fullmatch=True).filter(
    lambda name: not domain.bucket_name_problems(name)
)


@given(BUCKET_NAMES, BUCKET_NAMES)
def test_bucket_logical_ids_are_valid_and_distinct(a, b):
    ids = bucket_logical_id("quilt", a), bucket_logical_id("quilt", b)
    assert all(TF_IDENTIFIER.fullmatch(i) for i in ids)
    assert (ids[0] == ids[1]) == (a == b)


TOPIC_NAMES = st.from_regex(r"[A-Za-z0-9_-]{1,20}(\.fifo)?", fullmatch=True)


@given(TOPIC_NAMES, TOPIC_NAMES)
def test_topic_logical_ids_are_valid_and_distinct(a, b):
    arn = "arn:aws:sns:us-east-1:123456789012:{}".format
    ids = topic_logical_id("quilt", arn(a)), topic_logical_id("quilt", arn(b))
    assert all(TF_IDENTIFIER.fullmatch(i) for i in ids)
    assert (ids[0] == ids[1]) == (a == b)


def test_data_bucket_ids_never_meet_the_single_resources():
    singles = {role_logical_id("quilt", r) for r in (TRAIL_ROLE, LOG_ROLE, CALLER_ROLE)}
    assert not any(s.startswith("quilt_bucket_") for s in singles)


def test_escape_keeps_literals_and_tokens():
    assert escape("a ${b} %{c} $d") == "a $${b} %%{c} $d"
    token = "${TfToken[TOKEN.7]}"
    assert escape_around(f"x ${{y}} {token} z", token) == f"x $${{y}} {token} z"
    assert literal({"k${": ["%{v}", None, True]}) == {"k$${": ["%%{v}", None, True]}


def test_output_values_are_keyed_by_the_modules_outputs(monkeypatch):
    model = config.load(EXAMPLE_CONFIG)
    values = output_values(model, trail_arn="${aws_cloudtrail.quilt_trail.arn}")
    assert list(values) == [o.name for o in interface.OUTPUTS]
    assert values["trail_arn"] == "${aws_cloudtrail.quilt_trail.arn}"  # a reference, unescaped
    # A new module output fails until the construct gives it a value.
    extra = interface.Output("new_output", "Not yet in the construct.")
    monkeypatch.setattr(interface, "OUTPUTS", (*interface.OUTPUTS, extra))
    with pytest.raises(LookupError, match="no value for \\['new_output'\\]"):
        output_values(model, trail_arn=None)


def test_escaping_round_trips_through_terraform(terraform):
    """Terraform core reads every escaped literal back unchanged (outputs only: no provider)."""
    import random

    rng = random.Random(7)
    samples = [
        "a ${b}",
        "$${x}",
        "$$${y}",
        "%{ if x }%{ endif }",
        "%%{z}",
        "${",
        "%{",
        "a$",
        "\\${q}",
    ]
    samples += [
        "".join(rng.choice("$%{}a\\") for _ in range(rng.randint(1, 12))) for _ in range(200)
    ]
    config = {"output": {f"o{i}": {"value": escape(text)} for i, text in enumerate(samples)}}
    work = Path(tempfile.mkdtemp(prefix="escape-", dir=terraform.base / "work"))
    (work / "main.tf.json").write_text(json.dumps(config), "utf-8")
    outputs = terraform.apply(work)["values"]["outputs"]
    assert [outputs[f"o{i}"]["value"] for i in range(len(samples))] == samples


def test_stack_module_is_only_imported_by_the_cdktf_paths():
    # generate must stay free of jsii: only the construct imports a CDK family (either one).
    package = REPO / "generator" / "quilt_cross_account"
    sources = {
        p.relative_to(package).as_posix(): p.read_text("utf-8") for p in package.rglob("*.py")
    }
    importers = {
        name
        for name, text in sources.items()
        if re.search(rf"^\s*(from|import) ({'|'.join(family.PACKAGES)})\b", text, re.M)
    }
    assert importers
    assert importers <= {"construct/stack.py", "construct/app.py"}
