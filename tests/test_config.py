"""Config parsing and validation: the model for good input, every rule for bad input."""

from __future__ import annotations

import pytest
from quilt_cross_account import config, domain, policy
from quilt_cross_account.config import ConfigError

from tests.util import EXAMPLE_CONFIG, GUIDE_STATEMENT, REPO


def test_builtin_example_is_the_shipped_example_file():
    shipped = (REPO / "generator/quilt_cross_account/examples/reference.toml").read_text("utf-8")
    assert shipped == EXAMPLE_CONFIG.read_text("utf-8")
    assert config.example_config_text() == shipped


def test_example_model_is_the_reference_setup():
    model = config.load()
    assert model == config.load(EXAMPLE_CONFIG)
    assert model.control_account_ids == ("111122223333",)
    assert model.bucket_names == ("bucket-in-data-account",)
    assert model.partition == "aws"
    assert model.actions == domain.REFERENCE_ACTIONS
    assert model.cloudtrail.mode == "create"
    assert model.cloudtrail.selectors is not None
    assert model.cloudtrail.selectors.style == "basic"


def test_reference_policy_is_the_guides_statement_plus_sid():
    model = config.load()
    doc = policy.bucket_policy(
        model.partition, model.control_account_ids, model.actions, "bucket-in-data-account"
    )
    assert doc == {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "QuiltCrossAccountAccess", **GUIDE_STATEMENT}],
    }


def test_extended_action_set_adds_exactly_the_documented_actions():
    model = config.load(overrides={"action_set": "extended"})
    assert model.actions[:9] == domain.REFERENCE_ACTIONS
    assert set(model.actions[9:]) == {
        "s3:GetObjectTagging",
        "s3:GetObjectVersionTagging",
        "s3:PutObjectTagging",
        "s3:GetObjectAttributes",
        "s3:GetObjectVersionAttributes",
    }


def test_overrides_replace_config_values():
    model = config.load(
        EXAMPLE_CONFIG,
        {
            "buckets": ["one-bucket", "two.bucket"],
            "control_account_ids": ["123456789012"],
            "partition": "aws-us-gov",
            "region": "us-gov-west-1",  # the example's us-east-1 is not in that partition
        },
    )
    assert model.bucket_names == ("one-bucket", "two.bucket")
    assert model.control_account_ids == ("123456789012",)
    assert model.cloudtrail.selectors.event_selectors[0].data_resources[0].values == (
        "arn:aws-us-gov:s3:::one-bucket/",
        "arn:aws-us-gov:s3:::two.bucket/",
    )


def test_multiple_accounts_are_a_principal_list():
    statement = policy.quilt_statement(
        "aws", ["111122223333", "444455556666"], ["s3:GetObject"], "b-1"
    )
    assert statement["Principal"] == {
        "AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"]
    }


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("ab", "3-63 characters"),
        ("a" * 64, "3-63 characters"),
        ("Bucket", "lowercase letters"),
        ("bucket_1", "lowercase letters"),
        ("-bucket", "start and end"),
        ("bucket-", "start and end"),
        ("my..bucket", "two adjacent dots"),
        ("10.0.0.1", "IP address"),
        ("xn--bucket", "'xn--'"),
        ("sthree-bucket", "'sthree-'"),
        ("amzn-s3-demo-bucket", "'amzn-s3-demo-'"),
        ("bucket-s3alias", "'-s3alias'"),
        ("bucket--ol-s3", "'--ol-s3'"),
        ("bucket.mrap", "'.mrap'"),
        ("bucket--x-s3", "'--x-s3'"),
        ("bucket--table-s3", "'--table-s3'"),
    ],
)
def test_bucket_naming_rules(name, fragment):
    problems = domain.bucket_name_problems(name)
    assert any(fragment in p for p in problems), problems


@pytest.mark.parametrize(
    "name", ["abc", "bucket-in-data-account", "my.bucket.name", "0bucket9", "a" * 63]
)
def test_valid_bucket_names(name):
    assert domain.bucket_name_problems(name) == []


def test_all_problems_are_reported_at_once():
    raw = {
        "control_account_ids": ["1", "111122223333", "111122223333"],
        "buckets": ["Bad_Name", "good-bucket"],
        "partition": "mars",
        "actoin_set": "reference",
        "cloudtrail": {"mode": "sometimes", "log_bucket_name": "good-bucket"},
    }
    with pytest.raises(ConfigError) as caught:
        config.validate(raw)
    keys = [p.split(":", 1)[0] for p in caught.value.problems]
    assert "control_account_ids[0]" in keys
    assert "control_account_ids[2]" in keys
    assert "buckets[0]" in keys
    assert "partition" in keys
    assert "actoin_set" in keys
    assert "cloudtrail.mode" in keys
    assert "cloudtrail.log_bucket_name" in keys
    assert any("did you mean 'action_set'" in p for p in caught.value.problems)


def test_text_terraform_would_normalize_is_an_error_showing_both_forms():
    raw = {
        "control_account_ids": ["111122223333"],
        "buckets": ["data-bucket"],
        "tags": {"team": "\uf900", "caf\u00e9": "caf\u00e9"},  # the second is NFC: fine
        "cloudtrail": {
            "log_bucket_name": "quilt-logs-bucket",
            "extra_event_selectors": [
                {
                    "data_resources": [
                        {
                            "type": "AWS::S3::Object",
                            "values": ["arn:aws:s3:::data-bucket/cafe\u0301/"],
                        }
                    ]
                }
            ],
        },
    }
    with pytest.raises(ConfigError) as caught:
        config.validate(raw)
    assert caught.value.problems == [
        "tags.team: is not in Unicode normalization form NFC, and Terraform normalizes every "
        'string to NFC, so AWS would receive "\\u8C48" instead of "\\uF900"; write the NFC form',
        "cloudtrail.extra_event_selectors[0].data_resources[0].values[0]: is not in Unicode "
        "normalization form NFC, and Terraform normalizes every string to NFC, so AWS would "
        'receive "arn:aws:s3:::data-bucket/caf\\u00E9/" instead of '
        '"arn:aws:s3:::data-bucket/cafe\\u0301/"; write the NFC form',
    ]


def test_lone_string_is_a_one_element_list():
    model = config.validate(
        {
            "control_account_ids": "111122223333",
            "buckets": "only-bucket",
            "cloudtrail": {"mode": "none"},
        }
    )
    assert model.bucket_names == ("only-bucket",)
    assert model.cloudtrail.selectors is None


def test_policy_size_limit_names_bucket_and_size():
    accounts = [f"{i:012d}" for i in range(1, 701)]
    with pytest.raises(ConfigError) as caught:
        config.validate(
            {
                "control_account_ids": accounts,
                "buckets": ["data-bucket"],
                "cloudtrail": {"mode": "none"},
            }
        )
    (problem,) = caught.value.problems
    assert problem.startswith("buckets[0]: the bucket policy of 'data-bucket' would be ")
    size = int(problem.split("would be ")[1].split(" bytes")[0])
    assert size > domain.BUCKET_POLICY_MAX_BYTES
    assert f"limit of {domain.BUCKET_POLICY_MAX_BYTES} bytes" in problem


@pytest.mark.parametrize("accounts", [["111122223333"], [f"{i:012d}" for i in range(1, 40)]])
@pytest.mark.parametrize("bucket", ["abc", "bucket-in-data-account", "my.bucket.name", "a" * 63])
def test_policy_size_shortcut_matches_the_encoded_policy(accounts, bucket):
    size = policy.quilt_policy_size("aws-us-gov", accounts, domain.ACTION_SETS["extended"])
    doc = policy.bucket_policy("aws-us-gov", accounts, domain.ACTION_SETS["extended"], bucket)
    assert size(bucket) == len(policy.terraform_json(doc).encode("utf-8"))
