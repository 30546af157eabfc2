"""IAM policy documents: the Quilt bucket statement and the CloudTrail log bucket's policy.

The HCL module builds the same documents with `jsonencode()`; `terraform_json` reproduces that
encoding byte for byte so both renderers plan identical strings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from generator import domain

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
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escape in _JSONENCODE_ESCAPES.items():
        text = text.replace(char, escape)
    return text


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
    trail_name: str,
) -> dict[str, Any]:
    """CloudTrail delivery, Quilt's read access, and a deny of requests without TLS."""
    arn = domain.bucket_arn(partition, log_bucket)
    source = {"aws:SourceArn": trail_arn_pattern(partition, data_account_id, trail_name)}
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
