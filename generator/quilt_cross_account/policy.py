"""IAM policy documents: the Quilt bucket statement and the CloudTrail log bucket's policy.

The HCL module builds the same documents with `jsonencode()`; `terraform_json` reproduces that
encoding byte for byte so both renderers plan identical strings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from quilt_cross_account import domain

Statement = dict[str, Any]
# Terraform's jsonencode escapes these for safe embedding in HTML; so must we.
_JSONENCODE_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def terraform_json(obj: object) -> str:
    """JSON exactly as Terraform's `jsonencode()` writes it: sorted keys, compact."""
    text = json.dumps(
        _terraform_numbers(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    for char, escape in _JSONENCODE_ESCAPES.items():
        text = text.replace(char, escape)
    return text


def _terraform_numbers(obj: object) -> object:
    # Terraform numbers print without a fraction when they have none (1.0 -> 1).
    if isinstance(obj, float) and obj.is_integer():
        return int(obj)
    if isinstance(obj, dict):
        return {k: _terraform_numbers(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_terraform_numbers(v) for v in obj]
    return obj


def principal(partition: str, account_ids: Sequence[str]) -> dict[str, Any]:
    # One account renders as a plain string, as in the reference doc and as S3 stores it.
    arns = [domain.account_root_arn(partition, a) for a in account_ids]
    return {"AWS": arns[0] if len(arns) == 1 else arns}


def quilt_statement(
    partition: str, account_ids: Sequence[str], actions: Sequence[str], bucket: str
) -> Statement:
    return {
        "Sid": domain.QUILT_SID,
        "Effect": "Allow",
        "Principal": principal(partition, account_ids),
        "Action": list(actions),
        "Resource": [domain.bucket_arn(partition, bucket), domain.objects_arn(partition, bucket)],
    }


def document(statements: Sequence[Statement]) -> dict[str, Any]:
    return {"Version": domain.POLICY_VERSION, "Statement": list(statements)}


def bucket_policy(
    partition: str, account_ids: Sequence[str], actions: Sequence[str], bucket: str
) -> dict[str, Any]:
    return document([quilt_statement(partition, account_ids, actions, bucket)])


def quilt_policy_size(
    partition: str, account_ids: Sequence[str], actions: Sequence[str]
) -> Callable[[str], int]:
    """Bytes of a bucket's Quilt-only policy, as a function of the bucket name.

    The name appears twice (bucket and objects ARNs) and needs no JSON escaping, so one encoding
    serves every bucket: checking 10,000 buckets must not encode 10,000 documents.
    """
    empty = len(terraform_json(bucket_policy(partition, account_ids, actions, "")).encode("utf-8"))
    return lambda bucket: empty + 2 * len(bucket)


def trail_arn_pattern(partition: str, account_id: str, trail_name: str) -> str:
    # Any region: the home region is the provider's, which a module cannot read portably across
    # provider 5.x (`name`) and 6.x (`region`); the account and trail name pin the trail.
    return f"arn:{partition}:cloudtrail:*:{account_id}:trail/{trail_name}"


def log_bucket_read_statements(
    partition: str, account_ids: Sequence[str], log_bucket: str
) -> list[Statement]:
    """What Quilt's Athena queries in the control account need on the trail's log bucket."""
    arn = domain.bucket_arn(partition, log_bucket)
    who = principal(partition, account_ids)
    return [
        {
            "Sid": "QuiltListCloudTrailLogs",
            "Effect": "Allow",
            "Principal": who,
            "Action": "s3:ListBucket",
            "Resource": arn,
        },
        {
            "Sid": "QuiltReadCloudTrailLogs",
            "Effect": "Allow",
            "Principal": who,
            "Action": "s3:GetObject",
            "Resource": f"{arn}/{domain.CLOUDTRAIL_LOG_PREFIX}/*",
        },
    ]


def log_bucket_policy(
    partition: str,
    account_ids: Sequence[str],
    log_bucket: str,
    data_account_id: str,
    trail_names: Sequence[str],
) -> dict[str, Any]:
    """CloudTrail delivery (from every trail of `trail_names`), Quilt's read access, and a deny
    of requests without TLS."""
    arn = domain.bucket_arn(partition, log_bucket)
    patterns = [trail_arn_pattern(partition, data_account_id, name) for name in trail_names]
    # One trail: a plain string, as before sharding (an unchanged policy for existing trees).
    source = {"aws:SourceArn": patterns[0] if len(patterns) == 1 else patterns}
    cloudtrail = {"Service": domain.CLOUDTRAIL_SERVICE}
    return document(
        [
            {
                "Sid": "AWSCloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": cloudtrail,
                "Action": "s3:GetBucketAcl",
                "Resource": arn,
                "Condition": {"ArnLike": source},
            },
            {
                "Sid": "AWSCloudTrailWrite",
                "Effect": "Allow",
                "Principal": cloudtrail,
                "Action": "s3:PutObject",
                "Resource": f"{arn}/{domain.CLOUDTRAIL_LOG_PREFIX}/{data_account_id}/*",
                "Condition": {
                    "ArnLike": source,
                    "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"},
                },
            },
            *log_bucket_read_statements(partition, account_ids, log_bucket),
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ]
    )


def statements_of(doc: dict[str, Any]) -> list[Statement]:
    """A policy's statements; a lone statement object counts as a list of one."""
    statements = doc["Statement"]
    return list(statements) if isinstance(statements, list) else [statements]


def merged_bucket_policy(existing: dict[str, Any] | None, statement: Statement) -> dict[str, Any]:
    """The existing policy with Quilt's statement appended, replacing one with the same Sid."""
    if existing is None:
        return document([statement])
    kept = [s for s in statements_of(existing) if s.get("Sid") != statement["Sid"]]
    return {"Version": domain.POLICY_VERSION, **existing, "Statement": [*kept, statement]}


def applied_bucket_policy(
    partition: str,
    account_ids: Sequence[str],
    actions: Sequence[str],
    bucket: str,
    existing: str | None,
    leaving: bool = False,
) -> dict[str, Any] | None:
    """The policy applied to `bucket` in managed mode: its existing policy (JSON, or None)
    merged with Quilt's statement. What the module's `merged_bucket_policies` local holds.

    A leaving bucket gets back its owner's statements alone (Quilt's dropped), or no policy
    at all (None) when the owner had none.
    """
    current = None if existing is None else json.loads(existing)
    if leaving:
        return owner_policy(current)
    statement = quilt_statement(partition, account_ids, actions, bucket)
    return merged_bucket_policy(current, statement)


def owner_policy(existing: dict[str, Any] | None) -> dict[str, Any] | None:
    """The existing policy without Quilt's statement; None when nothing else is left."""
    if existing is None:
        return None
    kept = [s for s in statements_of(existing) if s.get("Sid") != domain.QUILT_SID]
    if not kept:
        return None
    return {"Version": domain.POLICY_VERSION, **existing, "Statement": kept}


def existing_policy_problems(doc: object, partition: str, bucket: str) -> list[str]:
    """Why `doc` cannot be this bucket's policy (empty when it can)."""
    if not isinstance(doc, dict):
        return ["must be a JSON object (a bucket policy document)"]
    if "Statement" not in doc:
        return ["has no Statement, so it is not a bucket policy"]
    if _statements_problem(doc):
        return [_statements_problem(doc)]
    problems: list[str] = []
    own = domain.bucket_arn(partition, bucket)
    for at, statement in _statements(doc, problems):
        if "Principal" not in statement and "NotPrincipal" not in statement:
            problems.append(f"{at} has no Principal, so this is not a bucket policy")
        if "Action" not in statement and "NotAction" not in statement:
            problems.append(f"{at} has no Action")
        resources = statement.get("Resource", statement.get("NotResource"))
        if resources is None:
            problems.append(f"{at} has no Resource")
            continue
        for resource in resources if isinstance(resources, list) else [resources]:
            if not isinstance(resource, str) or not (
                resource == own or resource.startswith(f"{own}/")
            ):
                problems.append(f"{at}.Resource {resource!r} is not {own} or an object in it")
        if statement.get("Sid") == domain.QUILT_SID and not is_replaceable_quilt_statement(
            statement
        ):
            problems.append(
                f"{at} has Quilt's Sid {domain.QUILT_SID!r} but is not a Quilt Allow (an Allow "
                "of S3 actions to account roots, without conditions), so replacing it "
                "would drop the owner's own statement (an owner's Deny revoking Quilt?); give it "
                "another Sid to keep it, or remove the bucket from the config"
            )
    return problems


def _statements(doc: dict[str, Any], problems: list[str]) -> Iterator[tuple[str, Statement]]:
    """Each statement object with its position; records the shape problems every policy has
    (not an object, an Effect other than Allow or Deny) in `problems`."""
    for i, statement in enumerate(statements_of(doc)):
        at = f"Statement[{i}]"
        if not isinstance(statement, dict):
            problems.append(f"{at} must be an object")
            continue
        if statement.get("Effect") not in ("Allow", "Deny"):
            problems.append(f"{at}.Effect must be Allow or Deny")
        yield at, statement


def _statements_problem(doc: dict[str, Any]) -> str:
    """Why a document's Statement is not one statement object or a non-empty list ("" if it is)."""
    statements = doc["Statement"]
    if isinstance(statements, dict) or (isinstance(statements, list) and statements):
        return ""
    return "Statement must be a statement object or a non-empty list of them"


def is_replaceable_quilt_statement(statement: dict[str, Any]) -> bool:
    """Whether a statement under Quilt's Sid is an earlier Quilt grant (see domain)."""
    if statement.get("Effect") != "Allow":
        return False
    if any(k in statement for k in ("Condition", "NotPrincipal", "NotAction", "NotResource")):
        return False
    principal = statement.get("Principal")
    if not isinstance(principal, dict) or set(principal) != {"AWS"}:
        return False
    principals = principal["AWS"] if isinstance(principal["AWS"], list) else [principal["AWS"]]
    actions = statement.get("Action")
    actions = actions if isinstance(actions, list) else [actions]
    return all(
        isinstance(p, str) and re.fullmatch(domain.QUILT_PRINCIPAL_PATTERN, p) for p in principals
    ) and all(isinstance(a, str) and a.startswith("s3:") for a in actions)


def sns_topic_policy(
    partition: str,
    account_ids: Sequence[str],
    topic_arn: str,
    buckets: Sequence[str],
    data_account_id: str,
) -> dict[str, Any]:
    """S3 may publish the buckets' events; the control accounts may subscribe (Quilt indexing).

    `aws:SourceAccount` is the account that owns the buckets (the data account), which need not
    be the topic's own account.
    """
    bucket_arns = [domain.bucket_arn(partition, b) for b in sorted(buckets)]
    return document(
        [
            {
                "Sid": domain.SNS_PUBLISH_SID,
                "Effect": "Allow",
                "Principal": {"Service": domain.S3_SERVICE},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {
                    "ArnLike": {
                        "aws:SourceArn": bucket_arns[0] if len(bucket_arns) == 1 else bucket_arns
                    },
                    "StringEquals": {"aws:SourceAccount": data_account_id},
                },
            },
            {
                "Sid": domain.SNS_SUBSCRIBE_SID,
                "Effect": "Allow",
                "Principal": principal(partition, account_ids),
                "Action": list(domain.SNS_CONTROL_ACTIONS),
                "Resource": topic_arn,
            },
        ]
    )


def applied_topic_policy(
    quilt: dict[str, Any] | None, existing: dict[str, Any] | None
) -> dict[str, Any] | None:
    """A topic's existing policy with Quilt's statements (`quilt`, a document) in place of any
    earlier ones with Quilt's Sids; without `quilt` (every bucket of the topic is leaving), the
    owner's statements alone, or None when nothing is left."""
    ours = statements_of(quilt) if quilt is not None else []
    if existing is None:
        return document(ours) if ours else None
    kept = [s for s in statements_of(existing) if s.get("Sid") not in domain.SNS_QUILT_SIDS]
    if not kept and not ours:
        return None
    return {"Version": domain.POLICY_VERSION, **existing, "Statement": [*kept, *ours]}


def topic_policy_problems(doc: object, topic_arn: str) -> list[str]:
    """Why `doc` cannot be this topic's policy (empty when it can)."""
    if not isinstance(doc, dict) or "Statement" not in doc:
        return ["must be a JSON policy document with a Statement"]
    if _statements_problem(doc):
        return [_statements_problem(doc)]
    problems: list[str] = []
    for at, statement in _statements(doc, problems):
        resources = statement.get("Resource", statement.get("NotResource", topic_arn))
        for resource in resources if isinstance(resources, list) else [resources]:
            if resource not in (topic_arn, "*"):
                problems.append(f"{at}.Resource {resource!r} is not the topic {topic_arn}")
        if statement.get("Sid") in domain.SNS_QUILT_SIDS and statement.get("Effect") != "Allow":
            problems.append(
                f"{at} has Quilt's Sid {statement['Sid']!r} but is a {statement.get('Effect')}; "
                "replacing it would drop the owner's statement: give it another Sid"
            )
    return problems


def kms_key_policy(partition: str, account_ids: Sequence[str]) -> dict[str, Any]:
    """The key-policy statement letting the control accounts use a bucket's KMS key.

    In a key policy, Resource "*" means the key the policy is attached to.
    """
    return document(
        [
            {
                "Sid": domain.KMS_GRANT_SID,
                "Effect": "Allow",
                "Principal": principal(partition, account_ids),
                "Action": list(domain.KMS_CONTROL_ACTIONS),
                "Resource": "*",
            }
        ]
    )
