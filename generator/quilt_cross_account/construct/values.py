"""Plain-Python values for the CDKTF construct: logical ids, Terraform-JSON escaping, the
policies its resources apply and the module's output values. Nothing here imports cdktf, so it
is cheap to import and to test.

The values mirror modules/quilt-cross-account (the spec); the domain rules behind them come from
`quilt_cross_account.policy` and the planned selectors of the model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from quilt_cross_account import cloudtrail, policy
from quilt_cross_account.model import DataAccountSetup
from quilt_cross_account.terraform import interface

# A Terraform identifier (resource name, output name): letters, digits, '_' and '-', not
# starting with a digit or '-'.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
BUCKET_INFIX = "bucket"
TOPIC_INFIX = "topic"
MANAGED = "managed"  # policy_mode: the module owns the bucket and topic policies
# Logical ids of the construct's single resources, as `<prefix>_<role>`. None starts with
# BUCKET_INFIX, so they never meet a data bucket's `<prefix>_bucket_<name>`.
# The id of the QuiltCrossAccount construct inside QuiltCrossAccountStack: its logical-id prefix.
STACK_CONSTRUCT_ID = "quilt"
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
# Values the resources apply, and the module's output values (None stands for null).


def applied_bucket_policies(model: DataAccountSetup) -> dict[str, str]:
    """Bucket name -> the policy JSON the module applies (existing statements merged with
    Quilt's), byte for byte what its jsonencode() produces. Empty in statement-only mode."""
    if model.policy_mode != MANAGED:
        return {}
    applied = {
        bucket.name: policy.applied_bucket_policy(
            model.partition,
            model.control_account_ids,
            model.actions,
            bucket.name,
            bucket.existing_policy,
            leaving=bucket.leaving,
        )
        for bucket in model.buckets
    }
    # A leaving bucket whose owner had no statements gets no policy: the module deletes ours.
    return {name: policy.terraform_json(doc) for name, doc in applied.items() if doc is not None}


def applied_sns_topic_policies(model: DataAccountSetup, data_account_id: str) -> dict[str, str]:
    """Topic ARN -> the policy JSON the module applies to it (the topic's existing statements
    merged with Quilt's; the owner's alone for a topic whose buckets are all leaving). None in
    statement-only mode. `data_account_id` is the data account (a token in the construct)."""
    if model.policy_mode != MANAGED:
        return {}
    existing = {topic: json.loads(doc) for topic, doc in model.topic_policies}
    quilt = quilt_topic_policies(model, data_account_id)
    applied = {
        topic: policy.applied_topic_policy(
            json.loads(quilt[topic]) if topic in quilt else None, existing.get(topic)
        )
        for topic in model.topics
    }
    return {topic: policy.terraform_json(doc) for topic, doc in applied.items() if doc is not None}


def quilt_topic_policies(model: DataAccountSetup, data_account_id: str) -> dict[str, str]:
    """Topic ARN -> a policy JSON holding only Quilt's statements, for every topic a connected
    bucket publishes to (the module's `sns_topic_policies` output)."""
    return {
        topic: policy.terraform_json(
            policy.sns_topic_policy(
                model.partition, model.control_account_ids, topic, buckets, data_account_id
            )
        )
        for topic, buckets in model.topics.items()
        if buckets
    }


def needs_data_account_id(model: DataAccountSetup) -> bool:
    """Whether anything names the data account: a created log bucket, or a topic policy (the
    module reads `aws_caller_identity` then, too)."""
    return model.cloudtrail.creates_log_bucket or any(model.topics.values())


def output_values(
    model: DataAccountSetup, *, trail_arn: str | None, data_account_id: str | None = None
) -> dict[str, Any]:
    """The module's outputs (`interface.OUTPUTS`, in its order) -> their values as Terraform JSON
    (literals escaped), shaped exactly like its outputs.tf.

    `trail_arn` is a reference to the created trail's ARN, which only the construct has (None
    when it creates no trail); it is passed through unescaped. A name in `interface.OUTPUTS`
    without a value here (or a value for no declared output) raises LookupError, so a new module
    output fails until the construct gives it one.
    """
    accounts, partition = model.control_account_ids, model.partition
    plan = model.cloudtrail.selectors  # None in trail mode "none"
    log_bucket = model.cloudtrail.log_bucket_name
    # The module's `principal_arns` local, which is exactly what `policy.principal` grants.
    principals = policy.principal(partition, accounts)["AWS"]
    key_document = policy.terraform_json(policy.kms_key_policy(partition, accounts))
    literals: dict[str, Any] = {
        "cloudtrail_bucket": log_bucket,
        "bucket_policies": applied_bucket_policies(model),
        "quilt_statements": {
            bucket: policy.terraform_json(
                policy.bucket_policy(partition, accounts, model.actions, bucket)
            )
            for bucket in (b.name for b in model.connected)
        },
        "kms_key_policies": {key: key_document for key in sorted(set(model.kms_key_arns.values()))},
        "principal_arns": [principals] if isinstance(principals, str) else list(principals),
        "selector_style": plan.style if plan is not None else None,
        **cloudtrail.module_selectors(plan),
        "trails": cloudtrail.module_trails(model.cloudtrail),
        "log_bucket_read_policy": (
            policy.terraform_json(
                policy.document(policy.log_bucket_read_statements(partition, accounts, log_bucket))
            )
            if log_bucket is not None
            else None
        ),
    }
    values = {name: literal(value) for name, value in literals.items()}
    values["trail_arn"] = trail_arn
    # Topic policies name the data account: a token that must stay live.
    account = data_account_id or ""
    values["sns_topic_policies"] = {
        escape(topic): escape_around(document, account) if account else escape(document)
        for topic, document in quilt_topic_policies(model, account).items()
    }
    declared = [item.name for item in interface.OUTPUTS]
    missing = [name for name in declared if name not in values]
    unknown = sorted(set(values) - set(declared))
    if missing or unknown:
        raise LookupError(
            f"the construct's output values do not match the module's outputs: "
            f"no value for {missing}, no output for {unknown}"
        )
    return {name: values[name] for name in declared}
