"""Values AWS would reject are config errors in the generator and validation errors in the
module, with the same rule on both sides: tags, CloudTrail selector fields and values, the
partition of the region, the trail's key, topics and keys, and the log bucket policy's size."""

from __future__ import annotations

import re

import pytest
from quilt_cross_account import config, domain

from tests.test_terraform_module import config_problems, plan_error

BASE = {
    "control_account_ids": ["111122223333"],
    "buckets": ["data-bucket"],
    "cloudtrail": {"mode": "none"},
}


def problems_of(**changes: object) -> list[str]:
    return config_problems({**BASE, **changes})


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def module_error(terraform, tmp_path, **arguments: object) -> str:
    """The plan error of the module called with these arguments (as a user's own values)."""
    base = {"control_account_ids": ["111122223333"], "bucket_names": ["data-bucket"]}
    return one_line(plan_error(terraform, tmp_path, {**base, **arguments}))


# ---------------------------------------------------------------------------------------- tags

TAG_CASES = [
    ({"team": "data ${x}"}, "tags.team: tag values may hold only letters, numbers, spaces"),
    ({"team<": "x"}, "tags.team<: tag keys may hold only letters, numbers, spaces"),
    ({"AWS:team": "x"}, "tags.AWS:team: tag keys must not start with the reserved prefix 'aws:'"),
    ({"k" * 129: "x"}, "tag keys must be 1-128 characters"),
    ({"team": "v" * 257}, "tags.team: tag values must be at most 256 characters"),
    ({f"k{i}": "v" for i in range(51)}, "tags: has 51 tags; AWS allows at most 50"),
]


@pytest.mark.parametrize(("tags", "expected"), TAG_CASES)
def test_tags_aws_would_reject_are_config_errors(tags, expected):
    assert any(expected in p for p in problems_of(tags=tags)), problems_of(tags=tags)


def test_tags_in_any_script_with_the_allowed_punctuation_are_fine():
    tags = {"caf\u00e9 \u00fc": "\u6570\u636e + - = . _ : / @ 42", "Team": ""}
    assert problems_of(tags=tags) == []


@pytest.mark.parametrize(("tags", "expected"), TAG_CASES)
def test_the_module_rejects_the_same_tags(terraform, tmp_path, tags, expected):
    message = module_error(terraform, tmp_path, trail_mode="none", tags=tags)
    assert "tags:" in message


def test_the_module_accepts_the_tags_the_config_accepts(terraform, tmp_path):
    from tests.test_terraform_module import module_call

    tags = {"caf\u00e9 \u00fc": "\u6570\u636e + - = . _ : / @ 42", "Team": ""}
    plan = terraform.plan(
        module_call(
            tmp_path,
            {
                "control_account_ids": ["111122223333"],
                "bucket_names": ["data-bucket"],
                "trail_mode": "none",
                "tags": tags,
            },
        )
    )
    assert plan["planned_values"]


# ---------------------------------------------------------------------- CloudTrail selectors

SELECTOR_CASES = [
    (
        {"name": "x", "field_selectors": [{"field": "eventname", "equals": ["PutObject"]}]},
        "'eventname' is not a field CloudTrail trails select on",
        "field must be one of",
    ),
    (
        {"name": "x", "field_selectors": [{"field": "readOnly", "not_equals": ["true"]}]},
        "readOnly takes only the equals operator",
        "take only the equals operator",
    ),
    (
        {"name": "x", "field_selectors": [{"field": "eventCategory", "equals": ["data"]}]},
        "'data' must be one of Management, Data, NetworkActivity",
        "eventCategory must be one of",
    ),
    (
        {"name": "x", "field_selectors": [{"field": "readOnly", "equals": ["yes"]}]},
        "'yes' must be one of true, false",
        "readOnly must be one of",
    ),
]


@pytest.mark.parametrize(("selector", "python", "module"), SELECTOR_CASES)
def test_selector_fields_aws_would_reject_fail_in_both(
    terraform, tmp_path, selector, python, module
):
    found = problems_of(
        cloudtrail={"mode": "external", "extra_advanced_event_selectors": [selector]}
    )
    assert any(python in p for p in found), found
    message = module_error(
        terraform, tmp_path, trail_mode="external", extra_advanced_event_selectors=[selector]
    )
    assert module in message, message


def test_basic_data_resource_types_fail_in_both(terraform, tmp_path):
    selector = {
        "read_write_type": "All",
        "data_resources": [{"type": "AWS::S3::Bucket", "values": ["arn:aws:s3:::x/"]}],
    }
    found = problems_of(cloudtrail={"mode": "external", "extra_event_selectors": [selector]})
    assert any("'AWS::S3::Bucket' is not a type basic event selectors take" in p for p in found)
    message = module_error(
        terraform, tmp_path, trail_mode="external", extra_event_selectors=[selector]
    )
    assert "data_resources type must be one of" in message


# ------------------------------------------------------------------- partitions and regions


@pytest.mark.parametrize(
    ("partition", "region", "ok"),
    [
        ("aws", "us-east-1", True),
        ("aws", "us-gov-west-1", False),
        ("aws-us-gov", "us-gov-east-1", True),
        ("aws-us-gov", "eu-west-1", False),
        ("aws-cn", "cn-northwest-1", True),
        ("aws-cn", "ap-east-1", False),
        ("aws", "us-iso-east-1", False),
    ],
)
def test_a_region_outside_the_partition_is_a_config_error(partition, region, ok):
    found = problems_of(partition=partition, region=region)
    assert (found == []) == ok, found
    if not ok:
        assert found == [
            f"region: {region!r} is in partition {domain.region_partition(region)!r}, "
            f"not {partition!r}"
        ]


def test_without_a_region_the_partitions_own_is_used():
    assert config.validate({**BASE, "partition": "aws-cn"}).region == "cn-north-1"


def test_a_trail_key_in_another_partition_fails_in_both(terraform, tmp_path):
    key = "arn:aws-cn:kms:cn-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    trail = {"log_bucket_name": "quilt-logs-bucket", "kms_key_arn": key}
    assert f"cloudtrail.kms_key_arn: {key!r} is not in partition 'aws'" in problems_of(
        cloudtrail=trail
    )
    message = module_error(
        terraform, tmp_path, log_bucket_name="quilt-logs-bucket", kms_key_arn=key
    )
    assert "kms_key_arn is not in the partition aws" in message


def test_topics_and_keys_in_another_partition_fail_in_the_module(terraform, tmp_path):
    topic = "arn:aws-us-gov:sns:us-gov-west-1:111122223333:events"
    message = module_error(
        terraform, tmp_path, trail_mode="none", sns_topic_arns={"data-bucket": topic}
    )
    assert "must name topics and keys in the partition aws" in message


# ------------------------------------------------------------------ the log bucket's policy


def test_the_log_bucket_policy_is_size_checked_in_both(terraform, tmp_path):
    # 400 accounts fit each data bucket's policy (listed once) but not the log bucket's (twice).
    accounts = [f"{i:012d}" for i in range(1, 401)]
    found = config_problems(
        {
            "control_account_ids": accounts,
            "buckets": ["data-bucket"],
            "cloudtrail": {"log_bucket_name": "quilt-logs-bucket"},
        }
    )
    assert len(found) == 1 and found[0].startswith(
        "control_account_ids: the log bucket's policy"
    ), found
    size = re.search(r"would be (\d+) bytes", found[0]).group(1)
    message = one_line(
        plan_error(
            terraform,
            tmp_path,
            {
                "control_account_ids": accounts,
                "bucket_names": ["data-bucket"],
                "log_bucket_name": "quilt-logs-bucket",
            },
        )
    )
    assert (
        f"The log bucket's policy would be {size} bytes, over the S3 limit of 20480 bytes"
        in message
    )


@pytest.mark.parametrize(
    ("key", "arn"),
    [
        ("sns_topic_arn", "arn:aws:sns:us-east-:111122223333:events"),
        (
            "kms_key_arn",
            "arn:aws:kms:US-EAST-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        ),
    ],
)
def test_a_topic_or_key_arn_with_a_broken_region_fails_in_both(terraform, tmp_path, key, arn):
    found = problems_of(buckets=[{"name": "data-bucket", key: arn}], cloudtrail={"mode": "none"})
    assert any(p.startswith(f"buckets[0].{key}:") for p in found), found
    module_input = "sns_topic_arns" if key == "sns_topic_arn" else "kms_key_arns"
    message = module_error(
        terraform, tmp_path, trail_mode="none", **{module_input: {"data-bucket": arn}}
    )
    assert module_input in message
