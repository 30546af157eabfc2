"""verify's verdicts on live states moto cannot produce or that are cheaper to state directly:
selector shapes, policy spellings, statement-only and leaving buckets, other trail modes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from quilt_cross_account import cloudtrail, config, domain, policy
from quilt_cross_account.verify import checks, expectations, live, statements
from quilt_cross_account.verify.live import Absent, LiveState, NotReadable

from tests.util import write_config

ACCOUNT = "123456789012"
CONTROL = "111122223333"
BUCKETS = ("data-one", "data-two")
LOG = "data-logs"


def model_of(tmp_path: Path, trail: str = "", extra: str = "") -> Any:
    trail = trail or f'log_bucket_name = "{LOG}"'
    text = (
        f'control_account_ids = ["{CONTROL}"]\n'
        f"buckets = {json.dumps(list(BUCKETS))}\n{extra}"
        f"[cloudtrail]\n{trail}\n"
    )
    return config.load(write_config(tmp_path, text))


def healthy(model: Any) -> LiveState:
    """The live state an apply of `model` leaves (trail mode "create")."""
    state = LiveState(account_id=ACCOUNT)
    p = model.partition
    for bucket in model.bucket_names:
        state.reads[("bucket-policy", bucket)] = policy.applied_bucket_policy(
            p, model.control_account_ids, model.actions, bucket, None
        )
        state.reads[("ownership", bucket)] = {
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        }
        state.reads[("acl", bucket)] = {"Owner": {"ID": "me"}, "Grants": []}
    trail = model.cloudtrail
    if trail.mode != "none":
        state.reads[("trail", trail.trail_name)] = {
            "S3BucketName": trail.log_bucket_name,
            "IsMultiRegionTrail": True,
            "LogFileValidationEnabled": True,
        }
        state.reads[("trail-status", trail.trail_name)] = {"IsLogging": True}
        state.reads[("selectors", trail.trail_name)] = {
            "EventSelectors": [
                {
                    "ReadWriteType": "All",
                    "DataResources": [
                        {
                            "Type": "AWS::S3::Object",
                            "Values": [domain.data_event_arn(p, b) for b in model.bucket_names],
                        }
                    ],
                }
            ]
        }
        state.reads[("log-bucket-policy", LOG)] = policy.log_bucket_policy(
            p, model.control_account_ids, LOG, ACCOUNT, trail.trail_name
        )
    return state


def failed(found: list[checks.Check]) -> list[tuple[str, str]]:
    return [(c.id, c.detail) for c in found if c.status == "fail"]


def test_a_healthy_account_passes_every_check(tmp_path):
    model = model_of(tmp_path)
    found = checks.after_apply(expectations.expect(model), healthy(model))
    assert failed(found) == []
    assert len(found) == 2 * 3 + 6 + 2


def selectors_state(tmp_path: Path, selectors: dict[str, Any], rw: str = "All") -> list[Any]:
    model = model_of(tmp_path, f'log_bucket_name = "{LOG}"\nread_write_type = "{rw}"')
    state = healthy(model)
    state.reads[("selectors", model.cloudtrail.trail_name)] = selectors
    return [c for c in checks.after_apply(expectations.expect(model), state) if c.status == "fail"]


def advanced(*fields: dict[str, Any]) -> dict[str, Any]:
    return {"AdvancedEventSelectors": [{"Name": "s", "FieldSelectors": list(fields)}]}


DATA = {"Field": "eventCategory", "Equals": ["Data"]}
OBJECTS = {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}


@pytest.mark.parametrize(
    ("selectors", "rw", "uncovered"),
    [
        # Basic: every bucket by the partition-wide value; a prefix of the bucket's objects.
        ({"EventSelectors": [{"ReadWriteType": "All", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}]}, "All", []),
        ({"EventSelectors": [{"ReadWriteType": "ReadOnly", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}]}, "All", list(BUCKETS)),
        ({"EventSelectors": [{"ReadWriteType": "ReadOnly", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}]}, "ReadOnly", []),
        # A value without the trailing slash is another bucket's prefix, not this bucket.
        ({"EventSelectors": [{"ReadWriteType": "All", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::data-one"]}]}]}, "All", list(BUCKETS)),
        # Advanced: all of S3; a StartsWith prefix; read and write in two selectors.
        (advanced(DATA, OBJECTS), "All", []),
        (advanced(DATA, OBJECTS, {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::data-"]}), "All", []),
        ({"AdvancedEventSelectors": [
            {"Name": "r", "FieldSelectors": [DATA, OBJECTS, {"Field": "readOnly", "Equals": ["true"]}]},
            {"Name": "w", "FieldSelectors": [DATA, OBJECTS, {"Field": "readOnly", "Equals": ["false"]}]},
        ]}, "All", []),
        (advanced(DATA, OBJECTS, {"Field": "readOnly", "Equals": ["true"]}), "All", list(BUCKETS)),
        # Conditions this check does not follow never count as coverage.
        (advanced(DATA, OBJECTS, {"Field": "eventName", "Equals": ["PutObject"]}), "All", list(BUCKETS)),
        (advanced(DATA, OBJECTS, {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::data-"], "NotStartsWith": ["arn:aws:s3:::data-two/"]}), "All", list(BUCKETS)),
        (advanced(DATA, {"Field": "resources.type", "Equals": ["AWS::Lambda::Function"]}), "All", list(BUCKETS)),
        (advanced(DATA, OBJECTS, {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::data-one/"]}), "All", ["data-two"]),
        # Operators spelt with no values are no conditions.
        (advanced(DATA, OBJECTS, {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::data-"], "NotStartsWith": [], "EndsWith": []}), "All", []),
    ],
)  # fmt: skip
def test_selector_coverage(tmp_path, selectors, rw, uncovered):
    found = selectors_state(tmp_path, selectors, rw)
    if not uncovered:
        assert found == []
    else:
        [check] = found
        assert check.id == "trail.selectors"
        assert check.detail.endswith(", ".join(uncovered))


def test_policy_spellings_aws_treats_as_equal_are_equal():
    a = {"Effect": "Allow", "Principal": {"AWS": [CONTROL]}, "Action": ["s3:GetObject", "S3:ListBucket"], "Resource": "x"}  # fmt: skip
    b = {"Resource": ["x"], "Action": ["s3:listbucket", "s3:GetObject"], "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{CONTROL}:root"}}  # fmt: skip
    assert statements.canonical(a, "aws") == statements.canonical(b, "aws")
    assert statements.canonical(a, "aws") != statements.canonical({**b, "Sid": "x"}, "aws")


def test_grants_follow_wildcards_and_an_unconditional_deny():
    root = f"arn:aws:iam::{CONTROL}:root"
    allow = {"Effect": "Allow", "Principal": {"AWS": CONTROL}, "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"}  # fmt: skip
    doc = {"Statement": [allow]}
    assert statements.allows(doc, root, "s3:GetObject", "arn:aws:s3:::b/AWSLogs/x", "aws")
    assert not statements.allows(doc, root, "s3:PutObject", "arn:aws:s3:::b/x", "aws")
    assert not statements.allows(doc, root, "s3:GetObject", "arn:aws:s3:::other/x", "aws")
    deny = {**allow, "Effect": "Deny", "Principal": "*"}
    assert not statements.allows({"Statement": [allow, deny]}, root, "s3:GetObject", "arn:aws:s3:::b/x", "aws")  # fmt: skip
    tls_only = {**deny, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    assert statements.allows({"Statement": [allow, tls_only]}, root, "s3:GetObject", "arn:aws:s3:::b/x", "aws")  # fmt: skip
    not_principal = {**allow, "NotPrincipal": {"AWS": "x"}}
    del not_principal["Principal"]
    assert not statements.allows({"Statement": [not_principal]}, root, "s3:GetObject", "arn:aws:s3:::b/x", "aws")  # fmt: skip


def test_statement_only_finds_quilts_statement_under_any_sid(tmp_path):
    model = model_of(tmp_path, extra='policy_mode = "statement-only"\n')
    state = healthy(model)
    merged = policy.quilt_statement("aws", [CONTROL], model.actions, "data-one")
    merged["Sid"] = "MergedByHand"
    state.reads[("bucket-policy", "data-one")] = policy.document([merged])
    expected = expectations.expect(model)
    assert failed(checks.after_apply(expected, state)) == []
    merged["Action"] = merged["Action"][:-1]
    [(check_id, detail)] = failed(checks.after_apply(expected, state))
    assert check_id == "bucket.quilt-statement" and "no Quilt statement" in detail
    found = checks.before_apply(expected, state, "--config q.toml")
    assert failed(found) == []  # statement-only: the module writes no bucket policy


def left_for_object_writer(tmp_path: Path) -> tuple[Any, LiveState]:
    """data-two left Quilt for ObjectWriter: the model, and the state its apply leaves."""
    model = model_of(tmp_path)
    leaving = dataclasses.replace(
        model.buckets[1], leaving=True, object_ownership_after="ObjectWriter"
    )
    model = dataclasses.replace(model, buckets=(model.buckets[0], leaving))
    state = healthy(model)
    state.reads[("bucket-policy", "data-two")] = Absent("NoSuchBucketPolicy")
    return model, state


def test_a_leaving_bucket_passes_without_quilts_statement(tmp_path):
    model, state = left_for_object_writer(tmp_path)
    state.reads[("ownership", "data-two")] = Absent("OwnershipControlsNotFoundError")
    assert failed(checks.after_apply(expectations.expect(model), state)) == []
    state.reads[("bucket-policy", "data-two")] = policy.applied_bucket_policy(
        "aws", [CONTROL], model.actions, "data-two", None
    )
    [(check_id, detail)] = failed(checks.after_apply(expectations.expect(model), state))
    assert check_id == "bucket.quilt-statement" and detail.startswith("leaving, but")


def test_an_external_trail_without_a_log_bucket_name_is_not_checked_there(tmp_path):
    model = model_of(tmp_path, 'mode = "external"\ntrail_name = "org-trail"')
    state = healthy(model)
    found = checks.after_apply(expectations.expect(model), state)
    ids = {c.id: c.status for c in found}
    assert "trail.multi-region" not in ids  # the user's trail: its settings are theirs
    assert ids["log-bucket.quilt-read"] == "not-checked"
    assert failed(found) == []


def test_mode_none_checks_no_trail(tmp_path):
    model = model_of(tmp_path, 'mode = "none"')
    found = checks.after_apply(expectations.expect(model), healthy(model))
    assert {c.id.split(".")[0] for c in found} == {"bucket"}


def test_a_missing_bucket_is_one_failure_naming_its_key(tmp_path):
    model = model_of(tmp_path)
    state = healthy(model)
    for kind in ("bucket-policy", "ownership", "acl"):
        state.reads[(kind, "data-two")] = Absent("NoSuchBucket")
    [(check_id, _)] = failed(checks.after_apply(expectations.expect(model), state))
    assert check_id == "bucket.exists"
    [check] = [
        c for c in checks.after_apply(expectations.expect(model), state) if c.status == "fail"
    ]
    assert "buckets[1]" in check.fix


def test_a_trail_with_a_key_prefix_or_another_bucket_fails_log_bucket(tmp_path):
    model = model_of(tmp_path)
    state = healthy(model)
    state.reads[("trail", "quilt-data-events")] |= {"S3KeyPrefix": "x", "S3BucketName": "other"}
    [(check_id, detail)] = failed(checks.after_apply(expectations.expect(model), state))
    assert check_id == "trail.log-bucket"
    assert "delivers to other, not data-logs" in detail and "key prefix 'x'" in detail


def test_an_unreadable_key_policy_is_not_a_pass(tmp_path):
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    model = model_of(tmp_path, extra="")
    model = dataclasses.replace(
        model, buckets=(dataclasses.replace(model.buckets[0], kms_key_arn=key), model.buckets[1])
    )
    state = healthy(model)
    state.reads[("key-policy", key)] = NotReadable(
        "kms:GetKeyPolicy was denied (AccessDeniedException)"
    )
    [check] = [
        c
        for c in checks.after_apply(expectations.expect(model), state)
        if c.id == "kms.control-grant"
    ]
    assert check.status == "not-checked" and "denied" in check.detail


# ------------------------------------------------------------------ review: false passes, crashes

ROOT_ARN = f"arn:aws:iam::{CONTROL}:root"
GET = {"Effect": "Allow", "Principal": {"AWS": CONTROL}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}  # fmt: skip


@pytest.mark.parametrize(
    ("deny", "denied"),
    [
        # A Deny applies to everything its Not* element does not name.
        ({"NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/Admin"}, "Action": "s3:*", "Resource": "*"}, True),
        ({"NotPrincipal": {"AWS": [ROOT_ARN, f"arn:aws:iam::{CONTROL}:role/Quilt"]}, "Action": "s3:*", "Resource": "*"}, False),
        # A Deny naming a role of the control account may be Quilt's role.
        ({"Principal": {"AWS": f"arn:aws:iam::{CONTROL}:role/Quilt"}, "Action": "s3:*", "Resource": "*"}, True),
        ({"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/Other"}, "Action": "s3:*", "Resource": "*"}, False),
        ({"Principal": "*", "NotAction": "s3:PutObject", "Resource": "*"}, True),
        ({"Principal": "*", "NotAction": "s3:Get*", "Resource": "*"}, False),
        ({"Principal": "*", "Action": "s3:*", "NotResource": "arn:aws:s3:::b/public/*"}, True),
        ({"Principal": "*", "Action": "s3:*", "NotResource": "arn:aws:s3:::b/*"}, False),
    ],
)  # fmt: skip
def test_a_deny_with_not_elements_takes_away_what_it_does_not_name(deny, denied):
    doc = {"Statement": [GET, {"Effect": "Deny", **deny}]}
    granted = statements.allows(doc, ROOT_ARN, "s3:GetObject", "arn:aws:s3:::b/x", "aws")
    assert granted is not denied


def test_a_deny_of_quilts_access_in_the_bucket_policy_fails_quilts_statement(tmp_path):
    model = model_of(tmp_path)
    state = healthy(model)
    lockdown = {
        "Sid": "OnlyOurRoles",
        "Effect": "Deny",
        "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/Admin"},
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::data-one", "arn:aws:s3:::data-one/*"],
    }
    state.reads[("bucket-policy", "data-one")]["Statement"].append(lockdown)
    [(check_id, detail)] = failed(checks.after_apply(expectations.expect(model), state))
    assert check_id == "bucket.quilt-statement"
    assert "a Deny takes away" in detail and f"{CONTROL}: s3:GetObject" in detail


def test_before_apply_names_a_live_statement_under_quilts_sid_that_is_not_quilts(tmp_path):
    # The apply replaces whatever holds Quilt's Sid: an owner's Deny under it would be lost.
    model = model_of(tmp_path)
    state = healthy(model)
    revoke = {"Sid": domain.QUILT_SID, "Effect": "Deny", "Principal": {"AWS": ROOT_ARN},
              "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::data-one/*"}  # fmt: skip
    state.reads[("bucket-policy", "data-one")] = policy.document([revoke])
    found = checks.before_apply(expectations.expect(model), state, "--config q.toml")
    [(check_id, detail)] = failed(found)
    assert check_id == "bucket.apply-keeps-statements" and '"Effect": "Deny"' in detail


def with_topic(model: Any, leaving: bool) -> tuple[Any, str]:
    topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:events"
    buckets = tuple(
        dataclasses.replace(b, sns_topic_arn=topic, leaving=leaving) for b in model.buckets
    )
    return dataclasses.replace(model, buckets=buckets), topic


def test_a_topic_whose_buckets_all_left_passes_without_quilts_statements(tmp_path):
    model, topic = with_topic(model_of(tmp_path), leaving=True)
    state = healthy(model)
    for bucket in BUCKETS:
        state.reads[("bucket-policy", bucket)] = Absent("NoSuchBucketPolicy")
    # What the apply leaves: the owner's statements alone (here, none).
    owner = {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sns:Publish", "Resource": topic}  # fmt: skip
    state.reads[("topic-policy", topic)] = policy.document([owner])
    found = checks.after_apply(expectations.expect(model), state)
    assert [c for c in found if c.subject.startswith("topic")]
    assert failed(found) == []
    ours = policy.sns_topic_policy("aws", [CONTROL], topic, list(BUCKETS), ACCOUNT)
    state.reads[("topic-policy", topic)] = ours
    [(check_id, _)] = failed(checks.after_apply(expectations.expect(model), state))
    assert check_id == "topic.quilt-statements"


def test_a_leaving_statement_only_bucket_fails_while_quilts_grant_remains_under_any_sid(tmp_path):
    model = model_of(tmp_path, extra='policy_mode = "statement-only"\n')
    leaving = dataclasses.replace(model.buckets[1], leaving=True)
    model = dataclasses.replace(model, buckets=(model.buckets[0], leaving))
    state = healthy(model)
    merged = policy.quilt_statement("aws", [CONTROL], model.actions, "data-two")
    merged["Sid"] = "MergedByHand"
    state.reads[("bucket-policy", "data-two")] = policy.document([merged])
    [check] = [
        c for c in checks.after_apply(expectations.expect(model), state) if c.status == "fail"
    ]
    assert check.id == "bucket.quilt-statement" and "terraform apply" not in check.fix


def test_odd_live_shapes_are_judged_not_crashed_on(tmp_path):
    model, topic = with_topic(model_of(tmp_path), leaving=False)
    state = healthy(model)
    # A lone statement object, a Principal "*", a Condition that is not an object.
    publish = {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": topic, "Condition": "odd"}  # fmt: skip
    state.reads[("topic-policy", topic)] = {"Statement": publish}
    state.reads[("ownership", "data-one")] = {"OwnershipControls": {}}
    state.reads[("acl", "data-two")] = {"Owner": {"ID": "me"}, "Grants": [
        {"Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": "a@example.com"}, "Permission": "READ"}
    ]}  # fmt: skip
    found = {(c.id, c.subject): c for c in checks.after_apply(expectations.expect(model), state)}
    assert found[("bucket.object-ownership", "bucket data-one")].status == "fail"
    assert "a@example.com" in found[("bucket.acl-grants", "bucket data-two")].detail
    assert found[("topic.control-subscribe", f"topic {topic}")].status == "fail"


class _EmptyAnswers:
    """A client whose every call answers `{}`: a response without the keys AWS documents."""

    def __getattr__(self, name: str) -> Any:
        return lambda **_: {}


@pytest.mark.aws  # live reads through botocore's exception classes
def test_a_response_missing_its_keys_is_a_read_failure_not_a_crash(tmp_path):
    expected = expectations.expect(model_of(tmp_path))
    state = LiveState(account_id=ACCOUNT)
    live._run_all(live._plan_reads(expected, lambda *_: _EmptyAnswers()), state, None)
    assert state.problems == [
        "cloudtrail.trail_name (quilt-data-events): cloudtrail:GetTrail failed: "
        "unexpected response (no 'Trail')"
    ]


def test_a_log_bucket_the_module_does_not_create_may_be_unreadable_and_is_fixed_by_hand(tmp_path):
    # create_log_bucket = false: the bucket may be in a logging account, its policy not ours.
    model = model_of(tmp_path, f'log_bucket_name = "{LOG}"\ncreate_log_bucket = false')
    expected = expectations.expect(model)
    [read] = [
        r for r in live._plan_reads(expected, lambda *_: None) if r.kind == "log-bucket-policy"
    ]
    assert read.tolerate_denied
    state = healthy(model)
    state.reads[("log-bucket-policy", LOG)] = policy.document([])
    found = {c.id: c for c in checks.after_apply(expected, state) if c.status == "fail"}
    assert "log_bucket_read_policy" in found["log-bucket.quilt-read"].fix


def test_a_bucket_that_left_for_acls_may_grant_with_them(tmp_path):
    # object_ownership_after = "ObjectWriter": ACLs are on again, by the owner's choice.
    model, state = left_for_object_writer(tmp_path)
    state.reads[("ownership", "data-two")] = {
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    }
    log_delivery = {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/s3/LogDelivery"}, "Permission": "WRITE"}  # fmt: skip
    for name in BUCKETS:
        state.reads[("acl", name)] = {"Owner": {"ID": "me"}, "Grants": [log_delivery]}
    expected = expectations.expect(model)
    for found in (checks.after_apply(expected, state), checks.before_apply(expected, state, "")):
        assert [(c.id, c.subject) for c in found if c.status == "fail"] == [
            ("bucket.acl-grants", "bucket data-one")
        ]


def test_an_sns_default_policy_lets_no_control_account_subscribe(tmp_path):
    # Everyone, on the condition that the caller owns the topic: not a grant to anyone else.
    model, topic = with_topic(model_of(tmp_path), leaving=False)
    state = healthy(model)
    default = {
        "Sid": "__default_statement_ID",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": ["SNS:GetTopicAttributes", "SNS:Subscribe", "SNS:Publish"],
        "Resource": topic,
        "Condition": {"StringEquals": {"AWS:SourceOwner": ACCOUNT}},
    }
    state.reads[("topic-policy", topic)] = policy.document([default])
    found = {
        c.id for c in checks.after_apply(expectations.expect(model), state) if c.status == "fail"
    }
    assert found == {"topic.s3-publish", "topic.control-subscribe"}


def test_topic_statements_the_apply_replaces_and_a_deny_of_publishing(tmp_path):
    model, topic = with_topic(model_of(tmp_path), leaving=False)
    expected = expectations.expect(model)
    state = healthy(model)
    ours = policy.sns_topic_policy("aws", [CONTROL], topic, list(BUCKETS), ACCOUNT)
    # An owner's Deny under Quilt's Sid: the apply replaces what holds that Sid.
    revoke = {"Sid": domain.SNS_SUBSCRIBE_SID, "Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": topic}  # fmt: skip
    state.reads[("topic-policy", topic)] = policy.document([*ours["Statement"], revoke])
    [(check_id, detail)] = failed(checks.before_apply(expected, state, "--config q.toml"))
    assert check_id == "topic.apply-keeps-statements" and '"Effect": "Deny"' in detail
    # That unconditional Deny also stops S3 publishing (and nothing else).
    [(check_id, _)] = failed(checks.after_apply(expected, state))
    assert check_id == "topic.s3-publish"


def test_sharded_trails_are_each_checked_for_their_own_buckets(tmp_path):
    names = [f"shard-bucket-{i:03d}" for i in range(499)]
    text = (
        f'control_account_ids = ["{CONTROL}"]\nbuckets = {json.dumps(names)}\n'
        f'[cloudtrail]\nlog_bucket_name = "{LOG}"\n'
    )
    model = config.load(write_config(tmp_path, text))
    assert [len(s.buckets) for s in model.cloudtrail.shards] == [498, 1]
    state = healthy(model)
    for shard in model.cloudtrail.shards:
        state.reads[("trail", shard.name)] = {
            "S3BucketName": LOG,
            "IsMultiRegionTrail": True,
            "LogFileValidationEnabled": True,
        }
        state.reads[("trail-status", shard.name)] = {"IsLogging": True}
        state.reads[("selectors", shard.name)] = cloudtrail.api_selectors(shard.selectors)
    state.reads[("log-bucket-policy", LOG)] = policy.log_bucket_policy(
        "aws", [CONTROL], LOG, ACCOUNT, model.cloudtrail.trail_name
    )
    expected = expectations.expect(model)
    assert [t.name for t in expected.trails] == ["quilt-data-events", "quilt-data-events-2"]
    assert failed(checks.after_apply(expected, state)) == []
    # The second trail logs only its own bucket: the first trail's selectors do not cover it.
    state.reads[("selectors", "quilt-data-events-2")] = cloudtrail.api_selectors(
        model.cloudtrail.shards[0].selectors
    )
    [(check_id, detail)] = failed(checks.after_apply(expected, state))
    assert check_id == "trail.selectors" and detail.endswith("shard-bucket-498")
    state.reads[("trail", "quilt-data-events-2")] = Absent("TrailNotFoundException")
    found = checks.after_apply(expected, state)
    assert [(c.id, c.subject) for c in found if c.status == "fail"] == [
        ("trail.exists", "trail quilt-data-events-2")
    ]
