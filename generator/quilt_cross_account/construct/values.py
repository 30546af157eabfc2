"""Plain-Python values for the CDKTF construct: logical ids, Terraform-JSON escaping, and the
module's output values. Nothing here imports cdktf, so it is cheap to import and to test.

The values mirror modules/quilt-cross-account (the spec); the domain rules behind them come from
`generator.policy` and the planned selectors of the model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from quilt_cross_account import cloudtrail, policy
from quilt_cross_account.model import DataAccountSetup

# A Terraform identifier (resource name, output name): letters, digits, '_' and '-', not
# starting with a digit or '-'.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
BUCKET_INFIX = "bucket"
TOPIC_INFIX = "topic"
MANAGED = "managed"  # policy_mode: the module owns the bucket and topic policies
# Logical ids of the construct's single resources, as `<prefix>_<role>`. None starts with
# BUCKET_INFIX, so they never meet a data bucket's `<prefix>_bucket_<name>`.
TRAIL_ROLE = "trail"
LOG_ROLE = "log"
CALLER_ROLE = "caller"


def check_identifier(name: str, what: str) -> str:
    if not IDENTIFIER.fullmatch(name):
        raise ValueError(
            f"{what} {name!r} is not a Terraform identifier (letters, digits, '_' and '-', "
            "starting with a letter or '_')"
        )
    return name


def bucket_logical_id(prefix: str, bucket: str) -> str:
    """`<prefix>_bucket_<name>` with dots as underscores, for every resource of one data bucket.

    Derived from the name alone, so adding or reordering buckets renames nothing. Bucket names
    are [a-z0-9.-] and never hold '_', so mapping '.' to '_' cannot make two names collide; the
    prefix keeps names that start with a digit valid.
    """
    return f"{prefix}_{BUCKET_INFIX}_{bucket.replace('.', '_')}"


def role_logical_id(prefix: str, role: str) -> str:
    return f"{prefix}_{role}"


def topic_logical_id(prefix: str, topic_arn: str) -> str:
    """`<prefix>_topic_<partition>_<region>_<account>_<name>` for an SNS topic's policy.

    The ARN's parts hold no '_' except in the name, and the name holds '.' only in its ".fifo"
    suffix; doubling '_' and writing '.' as '_' keeps distinct ARNs distinct.
    """
    _, partition, _, region, account, name = topic_arn.split(":", 5)
    encoded = name.replace("_", "__").replace(".", "_")
    return f"{prefix}_{TOPIC_INFIX}_{partition}_{region}_{account}_{encoded}"


# ---------------------------------------------------------------------------------------------
# Terraform JSON interprets every string as a template: `${` and `%{` in a literal must be
# doubled (HCL's escapes), as generator.hcl does for the module.


def escape(text: str) -> str:
    """A literal string as a Terraform JSON string whose value is exactly `text`."""
    return text.replace("${", "$${").replace("%{", "%%{")


def escape_around(text: str, token: str) -> str:
    """Escape `text` except occurrences of `token` (a cdktf token that must stay live)."""
    return token.join(escape(part) for part in text.split(token))


def literal(value: Any) -> Any:
    """`escape` applied to every string (and object key) of a JSON-like value."""
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, Mapping):
        return {escape(k): literal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [literal(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------
# Output values, shaped exactly like the module's outputs.tf (None stands for null).


def applied_bucket_policies(model: DataAccountSetup) -> dict[str, str]:
    """Bucket name -> the policy JSON the module applies (existing statements merged with
    Quilt's), byte for byte what its jsonencode() produces. Empty in statement-only mode."""
    if model.policy_mode != MANAGED:
        return {}
    return {
        bucket.name: policy.terraform_json(
            policy.applied_bucket_policy(
                model.partition,
                model.control_account_ids,
                model.actions,
                bucket.name,
                bucket.existing_policy,
            )
        )
        for bucket in model.buckets
    }


def quilt_statements(model: DataAccountSetup) -> dict[str, str]:
    """Bucket name -> a policy JSON holding only Quilt's statement."""
    return {
        bucket: policy.terraform_json(
            policy.bucket_policy(model.partition, model.control_account_ids, model.actions, bucket)
        )
        for bucket in model.bucket_names
    }


def sns_topic_policies(model: DataAccountSetup) -> dict[str, str]:
    """Topic ARN -> its policy JSON, for every topic some bucket publishes to."""
    buckets_of: dict[str, list[str]] = {}
    for bucket, topic in model.sns_topic_arns.items():
        buckets_of.setdefault(topic, []).append(bucket)
    return {
        topic: policy.terraform_json(
            policy.sns_topic_policy(model.partition, model.control_account_ids, topic, buckets)
        )
        for topic, buckets in sorted(buckets_of.items())
    }


def applied_sns_topic_policies(model: DataAccountSetup) -> dict[str, str]:
    """The topic policies the module applies: all of them in managed mode, none otherwise."""
    return sns_topic_policies(model) if model.policy_mode == MANAGED else {}


def kms_key_policies(model: DataAccountSetup) -> dict[str, str]:
    """Key ARN -> the key-policy statement for every key some bucket is encrypted with."""
    document = policy.terraform_json(
        policy.kms_key_policy(model.partition, model.control_account_ids)
    )
    return {key: document for key in sorted(set(model.kms_key_arns.values()))}


def principal_arns(model: DataAccountSetup) -> list[str]:
    # The module's `principal_arns` local, which is exactly what `policy.principal` grants.
    arns = policy.principal(model.partition, model.control_account_ids)["AWS"]
    return [arns] if isinstance(arns, str) else list(arns)


def selector_style(model: DataAccountSetup) -> str | None:
    plan = model.cloudtrail.selectors
    return plan.style if plan is not None else None  # no plan: trail mode "none"


def event_selectors(model: DataAccountSetup) -> list[dict[str, Any]]:
    plan = model.cloudtrail.selectors
    return (
        [cloudtrail.module_event_selector(s) for s in plan.event_selectors]
        if plan is not None
        else []
    )


def advanced_event_selectors(model: DataAccountSetup) -> list[dict[str, Any]]:
    plan = model.cloudtrail.selectors
    if plan is None:
        return []
    return [cloudtrail.module_advanced_selector(s) for s in plan.advanced_event_selectors]


def log_bucket_read_policy(model: DataAccountSetup) -> str | None:
    log_bucket = model.cloudtrail.log_bucket_name
    if log_bucket is None:
        return None
    statements = policy.log_bucket_read_statements(
        model.partition, model.control_account_ids, log_bucket
    )
    return policy.terraform_json(policy.document(statements))
