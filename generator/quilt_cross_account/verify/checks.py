"""The checks: what the config expects (expectations) against what AWS holds (live), one
`Check` per question with its verdict and, on failure, the one-line fix. Pure: no AWS here."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from quilt_cross_account import domain, policy
from quilt_cross_account.importer import foreign_grants
from quilt_cross_account.verify import statements as st
from quilt_cross_account.verify.expectations import (
    BucketExpectation,
    Expectations,
    KeyExpectation,
    TopicExpectation,
    TrailExpectation,
)
from quilt_cross_account.verify.live import Absent, LiveState, NotReadable

Status = Literal["pass", "fail", "not-checked"]
APPLY = "run `terraform apply` in the root module"


@dataclass(frozen=True)
class Check:
    id: str  # stable, e.g. "bucket.quilt-statement" (README: verify)
    subject: str  # what it is about, e.g. "bucket my-data"
    status: Status
    detail: str  # what was found, one line
    fix: str = ""  # on failure: what to do, one line


def after_apply(expected: Expectations, live: LiveState) -> list[Check]:
    """Will Quilt work now: every bucket, trail, log bucket, topic and key."""
    found: list[Check] = []
    for bucket in expected.buckets:
        found += _bucket(expected, bucket, live)
    for trail in expected.trails:
        found += _trail(expected, trail, live)
    found += _log_bucket(expected, live)
    for topic in expected.topics:
        found += _topic(expected, topic, live)
    for key in expected.keys:
        found.append(_key(expected, key, live))
    return found


def before_apply(expected: Expectations, live: LiveState, config_hint: str) -> list[Check]:
    """Will the apply take anything away: each live statement is in what the config applies."""
    found: list[Check] = []
    for bucket in expected.buckets:
        subject = f"bucket {bucket.name}"
        current = live.get("bucket-policy", bucket.name)
        if _missing_bucket(current):
            found.append(_no_bucket(bucket))
            continue
        found.append(_keeps_bucket_statements(expected, bucket, current, config_hint))
        if _acls_disabled(bucket):
            found.append(_acl_grants(subject, live.get("acl", bucket.name), before=True))
    if expected.policy_mode == "managed":
        for topic in expected.topics:
            found.append(_keeps_topic_statements(expected, topic, live, config_hint))
    return found


# ------------------------------------------------------------------------------ buckets


def _bucket(expected: Expectations, bucket: BucketExpectation, live: LiveState) -> list[Check]:
    subject = f"bucket {bucket.name}"
    current = live.get("bucket-policy", bucket.name)
    if _missing_bucket(current):
        return [_no_bucket(bucket)]
    doc = None if isinstance(current, Absent) else current
    checks = [_quilt_statement(expected, bucket, doc)]
    if bucket.owner_statements:
        lost = _absent_statements(bucket.owner_statements, st.statements(doc), expected.partition)
        checks.append(
            _verdict(
                "bucket.owner-statements",
                subject,
                not lost,
                f"all {len(bucket.owner_statements)} owner statement(s) of the config are there",
                f"owner statement(s) {_names(lost)} of the config are missing",
                APPLY
                if expected.policy_mode == "managed"
                else "merge them back into the bucket policy",
            )
        )
    ownership = live.get("ownership", bucket.name)
    controls = {} if isinstance(ownership, Absent) else ownership.get("OwnershipControls") or {}
    rules = controls.get("Rules") or []
    # No ownership controls behave as ObjectWriter, S3's setting before they existed.
    actual = rules[0].get("ObjectOwnership") if rules else "ObjectWriter"
    shown = actual if rules else "not set (ObjectWriter)"
    checks.append(
        _verdict(
            "bucket.object-ownership",
            subject,
            actual == bucket.object_ownership,
            f"Object Ownership is {shown}",
            f"Object Ownership is {shown}, not {bucket.object_ownership}",
            f"{APPLY} (it sets {bucket.object_ownership})",
        )
    )
    if _acls_disabled(bucket):
        checks.append(_acl_grants(subject, live.get("acl", bucket.name), before=False))
    return checks


def _acls_disabled(bucket: BucketExpectation) -> bool:
    """ACL grants matter where the apply disables ACLs; a bucket leaving Quilt for another
    Object Ownership may grant with them again."""
    return bucket.object_ownership == domain.OBJECT_OWNERSHIP


def _missing_bucket(read: Any) -> bool:
    return isinstance(read, Absent) and read.code == "NoSuchBucket"


def _no_bucket(bucket: BucketExpectation) -> Check:
    return Check(
        "bucket.exists",
        f"bucket {bucket.name}",
        "fail",
        "no such bucket in this account",
        f"check {bucket.at}'s name, or the credentials' account",
    )


def _quilt_statement(
    expected: Expectations, bucket: BucketExpectation, doc: Mapping[str, Any] | None
) -> Check:
    subject = f"bucket {bucket.name}"
    ours = [s for s in st.statements(doc) if s.get("Sid") == domain.QUILT_SID]
    if expected.policy_mode == "statement-only" and not ours:
        # The user merged it by hand, perhaps under another Sid: find it by its meaning.
        ours = [s for s in st.statements(doc) if not _statement_differences(expected, bucket, s)]
    if bucket.leaving:
        return _verdict(
            "bucket.quilt-statement",
            subject,
            not ours,
            "leaving: Quilt's statement is gone",
            f"leaving, but the policy still has Quilt's statement ({_names(ours)})",
            APPLY
            if expected.policy_mode == "managed"
            else "remove Quilt's statement from the bucket policy",
        )
    fix = (
        APPLY
        if expected.policy_mode == "managed"
        else "merge the module's `quilt_statements` output into the bucket policy"
    )
    if not ours:
        return Check(
            "bucket.quilt-statement",
            subject,
            "fail",
            "the bucket policy has no Quilt statement"
            + ("" if doc is not None else " (the bucket has no policy)"),
            fix,
        )
    differences = _statement_differences(expected, bucket, ours[0])
    if not differences:
        denied = _denied_to_quilt(expected, bucket, doc)
        if denied:
            return Check(
                "bucket.quilt-statement",
                subject,
                "fail",
                "Quilt's statement is there, but a Deny takes away " + _listed(denied),
                "narrow that Deny so that it spares the control account(s), in the bucket "
                f"policy and in {bucket.at}'s existing policy",
            )
    return _verdict(
        "bucket.quilt-statement",
        subject,
        not differences,
        "Quilt's statement grants the control account(s) exactly the configured actions",
        "Quilt's statement differs: " + "; ".join(differences),
        fix,
    )


def _denied_to_quilt(
    expected: Expectations, bucket: BucketExpectation, doc: Mapping[str, Any] | None
) -> list[str]:
    """`account: action` for each configured action an unconditional Deny takes away (bucket
    actions on the bucket, the others on an object of it)."""
    arn = domain.bucket_arn(expected.partition, bucket.name)
    found: list[str] = []
    for action in st.as_list(bucket.quilt_statement["Action"]):
        resource = arn if "Bucket" in action else f"{arn}/object"
        found += st.missing_grants(
            doc, expected.control_account_ids, [action], resource, expected.partition
        )
    return found


def _statement_differences(
    expected: Expectations, bucket: BucketExpectation, statement: Mapping[str, Any]
) -> list[str]:
    want = bucket.quilt_statement
    p = expected.partition
    found: list[str] = []
    if statement.get("Effect") != "Allow":
        found.append(f"Effect is {statement.get('Effect')!r}, not 'Allow'")
    _compare(
        found,
        "principals",
        st.principals(want, "AWS", p),
        st.principals(statement, "AWS", p),
    )
    # IAM action names are case-insensitive: compare folded, report as spelt.
    wanted = {a.lower(): a for a in st.as_list(want["Action"])}
    have = {str(a).lower(): str(a) for a in st.as_list(statement.get("Action", []))}
    _compare(found, "actions", set(wanted), set(have), {**have, **wanted})
    _compare(
        found,
        "resources",
        set(st.as_list(want["Resource"])),
        {str(r) for r in st.as_list(statement.get("Resource", []))},
    )
    for key in ("Condition", "NotPrincipal", "NotAction", "NotResource"):
        if key in statement:
            found.append(f"it has a {key} the config does not")
    return found


def _compare(
    found: list[str],
    what: str,
    want: set[str],
    have: set[str],
    spelling: Mapping[str, str] | None = None,
) -> None:
    def shown(names: set[str]) -> str:
        return ", ".join(sorted((spelling or {}).get(n, n) for n in names))

    if want - have:
        found.append(f"missing {what} {shown(want - have)}")
    if have - want:
        found.append(f"extra {what} {shown(have - want)}")


def _acl_grants(subject: str, acl: Any, before: bool) -> Check:
    if isinstance(acl, Absent):
        return _no_bucket_check(subject, "bucket.acl-grants")
    grants = foreign_grants(acl)
    who = sorted({_grantee(g) for g in grants})
    problem = f"the bucket ACL grants {len(grants)} permission(s) to others ({', '.join(who)})"
    return _verdict(
        "bucket.acl-grants",
        subject,
        not grants,
        "the bucket ACL grants nothing to other accounts",
        problem + ("; the apply fails with InvalidBucketAclWithObjectOwnership" if before else ""),
        "move those readers to the bucket policy, then "
        f"`aws s3api put-bucket-acl --bucket {subject.split(' ', 1)[1]} --acl private`",
    )


def _no_bucket_check(subject: str, check_id: str) -> Check:
    return Check(check_id, subject, "fail", "no such bucket in this account", "check the name")


def _grantee(grant: Mapping[str, Any]) -> str:
    grantee = grant.get("Grantee", {})
    return str(grantee.get("URI") or grantee.get("ID") or grantee.get("EmailAddress") or "?")


def _keeps_bucket_statements(
    expected: Expectations, bucket: BucketExpectation, current: Any, config_hint: str
) -> Check:
    subject = f"bucket {bucket.name}"
    if expected.policy_mode == "statement-only":
        return Check(
            "bucket.apply-keeps-statements",
            subject,
            "pass",
            "statement-only: the module writes no bucket policy",
        )
    # The apply replaces an earlier Quilt grant under Quilt's Sid; anything else is the owner's.
    live = [
        s
        for s in st.statements(None if isinstance(current, Absent) else current)
        if not (s.get("Sid") == domain.QUILT_SID and policy.is_replaceable_quilt_statement(dict(s)))
    ]
    lost = _absent_statements(live, st.statements(bucket.applied_policy), expected.partition)
    return _verdict(
        "bucket.apply-keeps-statements",
        subject,
        not lost,
        f"the apply keeps all {len(live)} live owner statement(s)",
        "the apply would remove "
        + " ".join(json.dumps(s, sort_keys=True) for s in lost)
        + f"; keep it in {bucket.at}'s existing policy",
        f"run `quilt-cross-account import-policies {config_hint}` (it saves the live policy "
        "where generate merges it), then generate",
    )


# ------------------------------------------------------------------------------ trail


def _trail(expected: Expectations, trail: TrailExpectation, live: LiveState) -> list[Check]:
    subject = f"trail {trail.name}"
    found = live.get("trail", trail.name)
    if isinstance(found, Absent):
        return [
            Check(
                "trail.exists",
                subject,
                "fail",
                "no such trail in this account and region",
                APPLY if trail.ours else "check cloudtrail.trail_name and --region",
            )
        ]
    status = live.get("trail-status", trail.name)
    logging = not isinstance(status, Absent) and bool(status.get("IsLogging"))
    checks = [
        Check("trail.exists", subject, "pass", f"the trail exists ({found.get('TrailARN')})"),
        _verdict(
            "trail.logging",
            subject,
            logging,
            "the trail is logging",
            "the trail is not logging",
            f"`aws cloudtrail start-logging --name {trail.name}`",
        ),
    ]
    if trail.ours:
        checks += [
            _setting(
                "trail.multi-region",
                subject,
                "multi-region",
                bool(found.get("IsMultiRegionTrail")),
                trail.is_multi_region_trail,
            ),
            _setting(
                "trail.log-file-validation",
                subject,
                "log file validation",
                bool(found.get("LogFileValidationEnabled")),
                trail.enable_log_file_validation,
            ),
        ]
    checks.append(_trail_log_bucket(trail, found))
    selectors = live.get("selectors", trail.name)
    if isinstance(selectors, Absent):  # deleted between the reads
        selectors = {}
    uncovered = [
        b
        for b in trail.buckets
        if not _logged(selectors, domain.data_event_arn(expected.partition, b), trail)
    ]
    checks.append(
        _verdict(
            "trail.selectors",
            subject,
            not uncovered,
            f"its selectors log {trail.read_write_type} data events of all "
            f"{len(trail.buckets)} bucket(s)",
            f"its selectors do not log {trail.read_write_type} data events of "
            + _listed(uncovered),
            APPLY
            if trail.ours
            else "apply cloudtrail/put-event-selectors.json from the root (README: external)",
        )
    )
    return checks


def _setting(check_id: str, subject: str, what: str, actual: bool, wanted: bool) -> Check:
    state = {True: "on", False: "off"}
    return _verdict(
        check_id,
        subject,
        actual == wanted,
        f"{what} is {state[actual]}",
        f"{what} is {state[actual]}, the config says {state[wanted]}",
        APPLY,
    )


def _trail_log_bucket(trail: TrailExpectation, found: Mapping[str, Any]) -> Check:
    bucket, prefix = found.get("S3BucketName"), found.get("S3KeyPrefix")
    wrong = []
    if trail.log_bucket_name is not None and bucket != trail.log_bucket_name:
        wrong.append(f"delivers to {bucket}, not {trail.log_bucket_name}")
    if prefix:
        wrong.append(f"has key prefix {prefix!r} (Quilt reads AWSLogs/ at the bucket's root)")
    return _verdict(
        "trail.log-bucket",
        f"trail {trail.name}",
        not wrong,
        f"delivers to {bucket} without a key prefix",
        "the trail " + " and ".join(wrong),
        APPLY if trail.ours else "point the trail (or cloudtrail.log_bucket_name) at one bucket",
    )


_NEEDS = {"All": {"read", "write"}, "ReadOnly": {"read"}, "WriteOnly": {"write"}}
_BASIC_TYPES = {"All": {"read", "write"}, "ReadOnly": {"read"}, "WriteOnly": {"write"}}
# Advanced fields that narrow a selector in ways this check does not follow: a selector with
# any other field is not counted as covering a bucket (never a false pass).
_UNDERSTOOD_FIELDS = {"eventCategory", "resources.type", "resources.ARN", "readOnly"}


def _logged(selectors: Any, arn_prefix: str, trail: TrailExpectation) -> bool:
    """Whether the selectors log `trail.read_write_type` data events of the bucket whose
    objects' ARNs start with `arn_prefix`."""
    covered: set[str] = set()
    for selector in selectors.get("EventSelectors") or []:
        for resource in selector.get("DataResources") or []:
            if resource.get("Type") != "AWS::S3::Object":
                continue
            if any(_basic_value_covers(str(v), arn_prefix) for v in resource.get("Values", [])):
                covered |= _BASIC_TYPES.get(selector.get("ReadWriteType", "All"), set())
    for selector in selectors.get("AdvancedEventSelectors") or []:
        covered |= _advanced_covers(selector.get("FieldSelectors") or [], arn_prefix)
    return _NEEDS[trail.read_write_type] <= covered


def _basic_value_covers(value: str, arn_prefix: str) -> bool:
    # "arn:<p>:s3" (every bucket) or a prefix of the bucket's objects ARN, bucket/ included.
    partition_all = arn_prefix.split(":::", 1)[0]
    return value in (partition_all, f"{partition_all}:::") or (
        value.endswith("/") and arn_prefix.startswith(value)
    )


def _advanced_covers(fields: Sequence[Mapping[str, Any]], arn_prefix: str) -> set[str]:
    by_field: dict[str, Mapping[str, Any]] = {}
    for item in fields:
        name = str(item.get("Field"))
        if name not in _UNDERSTOOD_FIELDS or name in by_field:
            return set()
        # An operator with no values is no condition (an SDK may spell an unset one so).
        by_field[name] = {k: v for k, v in item.items() if v not in ([], None)}
    category = by_field.get("eventCategory", {})
    kind = by_field.get("resources.type", {})
    if category.get("Equals") != ["Data"] or kind.get("Equals") != ["AWS::S3::Object"]:
        return set()
    arn = by_field.get("resources.ARN")
    if arn is not None and not _arn_condition_covers(arn, arn_prefix):
        return set()
    read_only = by_field.get("readOnly")
    if read_only is None:
        return {"read", "write"}
    if set(read_only) - {"Field", "Equals"}:
        return set()
    return {"read" if v == "true" else "write" for v in read_only.get("Equals", [])}


def _arn_condition_covers(condition: Mapping[str, Any], arn_prefix: str) -> bool:
    """Every object of the bucket matches: a StartsWith value that is a prefix of its objects'
    ARN prefix, and no other operator that could exclude some of them."""
    if set(condition) - {"Field", "StartsWith"}:
        return False
    return any(arn_prefix.startswith(str(v)) for v in condition.get("StartsWith", []))


# ------------------------------------------------------------------------------ log bucket


def _log_bucket(expected: Expectations, live: LiveState) -> list[Check]:
    log = expected.log_bucket
    if log is None:
        return []
    if log.name is None:
        return [
            Check(
                check_id,
                "log bucket",
                "not-checked",
                "cloudtrail.log_bucket_name is not set, so the bucket Quilt reads is unknown",
            )
            for check_id in ("log-bucket.quilt-read", "log-bucket.cloudtrail-delivery")
        ]
    subject = f"log bucket {log.name}"
    current = live.get("log-bucket-policy", log.name)
    if isinstance(current, NotReadable):
        return [
            Check(check_id, subject, "not-checked", current.reason)
            for check_id in ("log-bucket.quilt-read", "log-bucket.cloudtrail-delivery")
        ]
    if _missing_bucket(current):
        return [_no_bucket_check(subject, "log-bucket.exists")]
    doc = None if isinstance(current, Absent) else current
    p = expected.partition
    arn = domain.bucket_arn(p, log.name)
    logs = f"{arn}/{domain.CLOUDTRAIL_LOG_PREFIX}/{live.account_id}/CloudTrail/"
    missing = st.missing_grants(doc, expected.control_account_ids, ["s3:ListBucket"], arn, p)
    missing += st.missing_grants(
        doc, expected.control_account_ids, ["s3:GetObject"], logs + "object", p
    )
    service = domain.CLOUDTRAIL_SERVICE
    delivery = [
        action
        for action, resource in (("s3:GetBucketAcl", arn), ("s3:PutObject", logs + "object"))
        if not st.allows(doc, service, action, resource, p, kind="Service")
    ]
    fix = APPLY if log.ours else "add the module's `log_bucket_read_policy` output to its policy"
    return [
        _verdict(
            "log-bucket.quilt-read",
            subject,
            not missing,
            "every control account may list it and read AWSLogs/",
            "its policy does not allow " + ", ".join(missing),
            fix,
        ),
        _verdict(
            "log-bucket.cloudtrail-delivery",
            subject,
            not delivery,
            f"CloudTrail may deliver to AWSLogs/{live.account_id}/",
            f"its policy does not let {service} " + ", ".join(delivery),
            APPLY if log.ours else "add CloudTrail's delivery statements to its policy",
        ),
    ]


# ------------------------------------------------------------------------------ SNS, KMS


def _topic(expected: Expectations, topic: TopicExpectation, live: LiveState) -> list[Check]:
    subject = f"topic {topic.arn}"
    current = live.get("topic-policy", topic.arn)
    if isinstance(current, Absent):
        return [Check("topic.exists", subject, "fail", "no such topic", f"check {topic.at}")]
    p = expected.partition
    if not topic.buckets:  # every bucket of the topic is leaving: Quilt's statements go
        ours = [s for s in st.statements(current) if s.get("Sid") in domain.SNS_QUILT_SIDS]
        checks = [
            _verdict(
                "topic.quilt-statements",
                subject,
                not ours,
                "its buckets are leaving: Quilt's statements are gone",
                f"its buckets are leaving, but its policy still has {_names(ours)}",
                APPLY
                if expected.policy_mode == "managed"
                else "remove Quilt's statements from the topic policy",
            )
        ]
    else:
        checks = _topic_grants(expected, topic, current)
    if topic.owner_statements:
        lost = _absent_statements(topic.owner_statements, st.statements(current), p)
        checks.append(
            _verdict(
                "topic.owner-statements",
                subject,
                not lost,
                f"all {len(topic.owner_statements)} owner statement(s) of the config are there",
                f"owner statement(s) {_names(lost)} of the config are missing",
                _topic_fix(expected),
            )
        )
    return checks


def _topic_fix(expected: Expectations) -> str:
    if expected.policy_mode == "managed":
        return APPLY
    return "merge the module's `sns_topic_policies` output into the topic policy"


def _topic_grants(expected: Expectations, topic: TopicExpectation, current: Any) -> list[Check]:
    subject, p = f"topic {topic.arn}", expected.partition
    unpublished = [
        b for b in topic.buckets if not _may_publish(current, topic.arn, domain.bucket_arn(p, b))
    ]
    missing = st.missing_grants(
        current, expected.control_account_ids, domain.SNS_CONTROL_ACTIONS, topic.arn, p
    )
    fix = _topic_fix(expected)
    return [
        _verdict(
            "topic.s3-publish",
            subject,
            not unpublished,
            f"S3 may publish events of its {len(topic.buckets)} bucket(s)",
            "S3 may not publish events of " + _listed(unpublished),
            fix,
        ),
        _verdict(
            "topic.control-subscribe",
            subject,
            not missing,
            "every control account may subscribe",
            "its policy does not allow " + ", ".join(missing),
            fix,
        ),
    ]


def _may_publish(doc: Mapping[str, Any] | None, topic: str, bucket_arn: str) -> bool:
    """S3 may publish to the topic for this bucket: an Allow for the S3 service whose
    aws:SourceArn condition (if any) matches the bucket, and no unconditional Deny."""
    if not st.allows(doc, domain.S3_SERVICE, "sns:Publish", topic, "", "Service"):
        return False
    for statement in st.statements(doc):
        if statement.get("Effect") != "Allow" or not st.allows(
            {"Statement": [statement]}, domain.S3_SERVICE, "sns:Publish", topic, "", "Service"
        ):
            continue
        condition = statement.get("Condition") or {}
        if not isinstance(condition, Mapping):
            continue  # not a condition IAM would accept: never a grant
        sources = [
            str(value)
            for operator, tests in condition.items()
            if operator.removesuffix("IfExists")
            in ("ArnLike", "ArnEquals", "StringLike", "StringEquals")
            for key, values in (tests.items() if isinstance(tests, Mapping) else [])
            if key.lower() == "aws:sourcearn"
            for value in st.as_list(values)
        ]
        if not sources or any(st.wildcard_match(s, bucket_arn) for s in sources):
            return True
    return False


def _key(expected: Expectations, key: KeyExpectation, live: LiveState) -> Check:
    subject = f"kms key {key.arn}"
    current = live.get("key-policy", key.arn)
    if isinstance(current, NotReadable):
        return Check("kms.control-grant", subject, "not-checked", current.reason)
    if isinstance(current, Absent):
        return Check("kms.control-grant", subject, "fail", "no such key", f"check {key.at}")
    missing = st.missing_grants(
        current, expected.control_account_ids, domain.KMS_CONTROL_ACTIONS, key.arn,
        expected.partition,
    )  # fmt: skip
    return _verdict(
        "kms.control-grant",
        subject,
        not missing,
        "its key policy lets every control account decrypt and generate data keys",
        "its key policy does not allow " + ", ".join(missing),
        "add the module's `kms_key_policies` statement to the key policy",
    )


def _keeps_topic_statements(
    expected: Expectations, topic: TopicExpectation, live: LiveState, config_hint: str
) -> Check:
    subject = f"topic {topic.arn}"
    current = live.get("topic-policy", topic.arn)
    if isinstance(current, Absent):
        return Check("topic.exists", subject, "fail", "no such topic", f"check {topic.at}")
    # The apply replaces Quilt's Allows; an owner's Deny under Quilt's Sids would be lost.
    kept = [
        s
        for s in st.statements(current)
        if s.get("Sid") not in domain.SNS_QUILT_SIDS or s.get("Effect") != "Allow"
    ]
    lost = _absent_statements(kept, topic.owner_statements, expected.partition)
    return _verdict(
        "topic.apply-keeps-statements",
        subject,
        not lost,
        f"the apply keeps all {len(kept)} live owner statement(s)",
        "the apply would remove " + " ".join(json.dumps(s, sort_keys=True) for s in lost),
        f"run `quilt-cross-account import-policies {config_hint}`, then generate",
    )


# ------------------------------------------------------------------------------ helpers


def _absent_statements(
    wanted: Sequence[Mapping[str, Any]], present: Sequence[Mapping[str, Any]], partition: str
) -> list[Mapping[str, Any]]:
    have = {st.canonical(s, partition) for s in present}
    return [s for s in wanted if st.canonical(s, partition) not in have]


def _names(found: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(str(s.get("Sid") or json.dumps(s, sort_keys=True)) for s in found)


def _listed(names: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    more = len(names) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def _verdict(check_id: str, subject: str, ok: bool, passed: str, failed: str, fix: str) -> Check:
    if ok:
        return Check(check_id, subject, "pass", passed)
    return Check(check_id, subject, "fail", failed, fix)


def statuses(found: Sequence[Check]) -> Iterator[Status]:
    return (c.status for c in found)
