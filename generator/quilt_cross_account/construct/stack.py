"""The CDK for Terraform construct: the module's resources, built from the validated model.

modules/quilt-cross-account is the spec: `QuiltCrossAccount` creates the same resources with the
same attribute values as the module called with the same config (terraform/render.py), using the
typed classes of the prebuilt AWS provider bindings: cdktf-cdktf-provider-aws 21.22.1 (CDK for
Terraform) or cdktn-provider-aws 25.8.1 (CDK Terrain), whichever family construct/family.py
chooses for the process (`FAMILY`). Domain rules (ARNs, actions, policies, selector
planning) come from quilt_cross_account.policy and the model's planned selectors; nothing is
re-derived.

It is composed like the module reads: one `DataBucketAccess` per data bucket, one `TopicPolicy`
per SNS topic, the trail's `LogBucket` and the `Trail`. Logical ids are set explicitly (never
derived from construct paths), so this layout can change without touching Terraform state.

Importing this module loads the provider bindings (seconds, ~1 GB): the plain `generate` command
never imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

# jsii starts Node when the first jsii package is imported: choose the Node first.
from quilt_cross_account.construct import node  # isort: skip  # noqa: F401

import constructs

from quilt_cross_account import cloudtrail, domain, policy
from quilt_cross_account.construct import family
from quilt_cross_account.construct.values import (
    CALLER_ROLE,
    LOG_ROLE,
    STACK_CONSTRUCT_ID,
    TRAIL_ROLE,
    applied_bucket_policies,
    applied_sns_topic_policies,
    bucket_logical_id,
    check_identifier,
    escape,
    escape_around,
    literal,
    needs_data_account_id,
    output_values,
    role_logical_id,
    topic_logical_id,
)
from quilt_cross_account.model import (
    AdvancedEventSelector,
    DataAccount,
    DataAccountSetup,
    EventSelector,
    FieldSelector,
    TrailShard,
)
from quilt_cross_account.terraform import interface

FAMILY = family.chosen()
# The names the construct takes from its CDK family (construct/family.py: cdktf or cdktn, the
# same API): mypy checks them against cdktf's bindings; at run time they come from the family
# chosen for this process. Both lists must name the same things (tests/test_family.py).
if TYPE_CHECKING:
    # App and Testing: for the app and the tests, from the same family as the construct.
    from cdktf import App as App
    from cdktf import TerraformOutput, TerraformStack, Token
    from cdktf import Testing as Testing
    from cdktf_cdktf_provider_aws.cloudtrail import (
        Cloudtrail,
        CloudtrailAdvancedEventSelector,
        CloudtrailAdvancedEventSelectorFieldSelector,
        CloudtrailEventSelector,
        CloudtrailEventSelectorDataResource,
    )
    from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
    from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderAssumeRole
    from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
    from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
        S3BucketOwnershipControls,
        S3BucketOwnershipControlsRule,
    )
    from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
    from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
    from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
        S3BucketServerSideEncryptionConfigurationA,
        S3BucketServerSideEncryptionConfigurationRuleA,
        S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
    )
    from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
        S3BucketVersioningA,
        S3BucketVersioningVersioningConfiguration,
    )
    from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
else:
    globals().update(FAMILY.import_names(family.CONSTRUCT_NAMES))
SseDefault = S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA

OBJECT_OWNERSHIP = domain.OBJECT_OWNERSHIP
VERSIONING_ENABLED = "Enabled"
SSE_S3 = "AES256"
SSE_KMS = "aws:kms"


class QuiltCrossAccount(constructs.Construct):
    """Bucket policies and Object Ownership per data bucket, and the CloudTrail trail (with its
    log bucket) when the model asks for them; outputs named like the module's.

    Logical ids come from names, never list positions, so adding a bucket renames nothing:
    `<id>_bucket_<bucket, dots as underscores>` (a data bucket's policy and ownership controls),
    `<id>_topic_<partition>_<region>_<account>_<topic>` (SNS topic policies), `<id>_trail`,
    `<id>_log` (every log-bucket resource) and data `<id>_caller`; so `id` must be a Terraform
    identifier. Outputs are `<output_prefix><module output name>`: give several instances in
    one stack different prefixes, or `outputs=False`.

    The parts: `data_buckets` (bucket name -> DataBucketAccess), `topics` (topic ARN ->
    TopicPolicy), `logs` (LogBucket) and `cloudtrail` (Trail), the last two None when the model
    creates no log bucket or trail. The flat attributes (`bucket_policies`, `ownership_controls`,
    `sns_topic_policies`, `caller_identity`, `log_bucket*`, `trail`) name the same resources.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        *,
        model: DataAccountSetup,
        outputs: bool = True,
        output_prefix: str = "",
    ) -> None:
        # Checked before the construct joins the tree, so a bad name leaves no half-built node.
        prefix = check_identifier(id, "construct id")
        if output_prefix:
            check_identifier(output_prefix, "output_prefix")
        super().__init__(scope, id)
        self.model = model

        applied_policies = applied_bucket_policies(model)
        self.data_buckets: dict[str, DataBucketAccess] = {
            bucket.name: DataBucketAccess(
                self,
                f"bucket-{bucket.name}",
                bucket=bucket.name,
                policy_document=applied_policies.get(bucket.name),
                logical_id=bucket_logical_id(prefix, bucket.name),
                object_ownership=bucket.object_ownership_after,
            )
            for bucket in model.buckets
        }
        # The data account, known only at plan: the log bucket's and topics' policies name it.
        self.caller_identity: DataAwsCallerIdentity | None = None
        account_id = ""
        if needs_data_account_id(model):
            self.caller_identity = DataAwsCallerIdentity(self, "caller-identity")
            self.caller_identity.override_logical_id(role_logical_id(prefix, CALLER_ROLE))
            account_id = self.caller_identity.account_id
        self.topics: dict[str, TopicPolicy] = {
            topic: TopicPolicy(
                self,
                f"topic-{topic}",
                topic_arn=topic,
                policy_document=document,
                logical_id=topic_logical_id(prefix, topic),
                account_id=account_id,
            )
            for topic, document in applied_sns_topic_policies(model, account_id).items()
        }
        trail = model.cloudtrail
        self.logs: LogBucket | None = None
        if trail.creates_log_bucket:
            assert self.caller_identity is not None
            self.logs = LogBucket(
                self,
                "log-bucket",
                model=model,
                logical_id=role_logical_id(prefix, LOG_ROLE),
                caller_identity=self.caller_identity,
            )
        self.cloudtrail: Trail | None = None
        if trail.create_trail:
            self.cloudtrail = Trail(
                self,
                "trail",
                model=model,
                logical_id=role_logical_id(prefix, TRAIL_ROLE),
                log_bucket_policy=self.logs.policy if self.logs is not None else None,
            )

        self.bucket_policies: dict[str, S3BucketPolicy] = {
            bucket: access.policy
            for bucket, access in self.data_buckets.items()
            if access.policy is not None
        }
        self.ownership_controls: dict[str, S3BucketOwnershipControls] = {
            bucket: access.ownership_controls for bucket, access in self.data_buckets.items()
        }
        self.sns_topic_policies: dict[str, SnsTopicPolicy] = {
            topic: part.policy for topic, part in self.topics.items()
        }
        logs = self.logs
        self.log_bucket = logs.bucket if logs is not None else None
        self.log_bucket_public_access_block = logs.public_access_block if logs is not None else None
        self.log_bucket_versioning = logs.versioning if logs is not None else None
        self.log_bucket_encryption = logs.encryption if logs is not None else None
        self.log_bucket_policy = logs.policy if logs is not None else None
        self.log_bucket_ownership_controls = logs.ownership_controls if logs is not None else None
        self.trail = self.cloudtrail.trail if self.cloudtrail is not None else None

        self.outputs: dict[str, TerraformOutput] = {}
        if outputs:
            self._outputs(output_prefix)

    def _outputs(self, prefix: str) -> None:
        values = output_values(
            self.model,
            trail_arn=self.trail.arn if self.trail is not None else None,
            data_account_id=(
                self.caller_identity.account_id if self.caller_identity is not None else None
            ),
        )
        # The module's outputs, in its order.
        for item in interface.OUTPUTS:
            output = TerraformOutput(
                self,
                f"output-{item.name}",
                value=_output_value(values[item.name]),
                description=item.description,
            )
            output.override_logical_id(f"{prefix}{item.name}")
            self.outputs[item.name] = output


class DataBucketAccess(constructs.Construct):
    """One existing data bucket: its policy (`policy`, None when `policy_document` is None:
    statement-only mode, or a leaving bucket whose owner has no statements), then its Object
    Ownership (`ownership_controls`: BucketOwnerEnforced, or what a leaving bucket is left
    with). Both resources are named `logical_id`."""

    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        *,
        bucket: str,
        policy_document: str | None,
        logical_id: str,
        object_ownership: str = OBJECT_OWNERSHIP,
    ) -> None:
        super().__init__(scope, id)
        self.bucket = bucket
        self.policy: S3BucketPolicy | None = None
        if policy_document is not None:
            self.policy = S3BucketPolicy(
                self, "policy", bucket=escape(bucket), policy=escape(policy_document)
            )
            self.policy.override_logical_id(logical_id)
        # Policy first, then ownership: S3 rejects concurrent conditional bucket updates.
        self.ownership_controls = S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=escape(bucket),
            rule=S3BucketOwnershipControlsRule(object_ownership=object_ownership),
            depends_on=[self.policy] if self.policy is not None else None,
        )
        self.ownership_controls.override_logical_id(logical_id)


class TopicPolicy(constructs.Construct):
    """The policy (`policy`) of one existing SNS topic the data buckets publish events to, named
    `logical_id`."""

    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        *,
        topic_arn: str,
        policy_document: str,
        logical_id: str,
        account_id: str = "",
    ) -> None:
        super().__init__(scope, id)
        self.topic_arn = topic_arn
        # `account_id`: the data account's token, which must stay live in the document.
        document = (
            escape_around(policy_document, account_id) if account_id else escape(policy_document)
        )
        self.policy = SnsTopicPolicy(self, "policy", arn=escape(topic_arn), policy=document)
        self.policy.override_logical_id(logical_id)


class LogBucket(constructs.Construct):
    """The trail's new log bucket (`bucket`): public access blocked, versioned, encrypted with
    SSE-S3 or the trail's KMS key, a policy for CloudTrail and the control accounts' reads, then
    Object Ownership enforced. Every resource is named `logical_id`; `caller_identity` (the
    data account, known only at plan) is the construct's shared data source."""

    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        *,
        model: DataAccountSetup,
        logical_id: str,
        caller_identity: DataAwsCallerIdentity,
    ) -> None:
        super().__init__(scope, id)
        trail = model.cloudtrail
        assert trail.log_bucket_name is not None  # the config requires it with create_trail
        tags = literal(dict(model.tags))
        self.caller_identity = caller_identity

        # Logical ids must be set before `.id` is read: a reference fixes the name.
        self.bucket = S3Bucket(self, "bucket", bucket=escape(trail.log_bucket_name), tags=tags)
        self.bucket.override_logical_id(logical_id)
        bucket_id = self.bucket.id
        self.public_access_block = S3BucketPublicAccessBlock(
            self,
            "public-access-block",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        self.public_access_block.override_logical_id(logical_id)
        # Deleted or overwritten log files stay recoverable as noncurrent versions.
        self.versioning = S3BucketVersioningA(
            self,
            "versioning",
            bucket=bucket_id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(
                status=VERSIONING_ENABLED
            ),
        )
        self.versioning.override_logical_id(logical_id)
        kms = escape(trail.kms_key_arn) if trail.kms_key_arn else None
        self.encryption = S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=bucket_id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=SseDefault(
                        sse_algorithm=SSE_KMS if kms else SSE_S3, kms_master_key_id=kms
                    ),
                    bucket_key_enabled=True if kms else None,
                )
            ],
        )
        self.encryption.override_logical_id(logical_id)
        account_id = self.caller_identity.account_id  # a token, kept live in the policy
        document = policy.terraform_json(
            policy.log_bucket_policy(
                model.partition,
                model.control_account_ids,
                trail.log_bucket_name,
                account_id,
                [shard.name for shard in trail.shards],
            )
        )
        self.policy = S3BucketPolicy(
            self,
            "policy",
            bucket=bucket_id,
            policy=escape_around(document, account_id),
            depends_on=[self.public_access_block],
        )
        self.policy.override_logical_id(logical_id)
        self.ownership_controls = S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=bucket_id,
            rule=S3BucketOwnershipControlsRule(object_ownership=OBJECT_OWNERSHIP),
            depends_on=[self.policy],
        )
        self.ownership_controls.override_logical_id(logical_id)


class Trail(constructs.Construct):
    """The CloudTrail trails logging the data buckets' events with the model's planned selectors:
    `trail`, the first (named `logical_id`, as before sharding), and `shards`, trail name -> the
    trails after it (`<logical_id>_<n>`), all delivering to the same log bucket. They wait for
    `log_bucket_policy` when given: CloudTrail checks the log bucket's policy when a trail is
    created."""

    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        *,
        model: DataAccountSetup,
        logical_id: str,
        log_bucket_policy: S3BucketPolicy | None = None,
    ) -> None:
        super().__init__(scope, id)
        first, *later = model.cloudtrail.shards  # planned in every mode but "none"
        self.trail = self._trail("trail", model, first, log_bucket_policy)
        self.trail.override_logical_id(logical_id)
        self.shards: dict[str, Cloudtrail] = {}
        for shard in later:
            self.shards[shard.name] = self._trail(
                f"trail-{shard.number}", model, shard, log_bucket_policy
            )
            self.shards[shard.name].override_logical_id(f"{logical_id}_{shard.number}")

    def _trail(
        self,
        id: str,
        model: DataAccountSetup,
        shard: TrailShard,
        log_bucket_policy: S3BucketPolicy | None,
    ) -> Cloudtrail:
        trail = model.cloudtrail
        assert trail.log_bucket_name is not None
        plan = shard.selectors
        return Cloudtrail(
            self,
            id,
            name=escape(shard.name),
            s3_bucket_name=escape(trail.log_bucket_name),
            is_multi_region_trail=trail.is_multi_region_trail,
            include_global_service_events=True,
            enable_log_file_validation=trail.enable_log_file_validation,
            kms_key_id=escape(trail.kms_key_arn) if trail.kms_key_arn else None,
            tags=literal(dict(model.tags)),
            event_selector=[_event_selector(s) for s in plan.event_selectors] or None,
            advanced_event_selector=(
                [_advanced_selector(s) for s in plan.advanced_event_selectors] or None
            ),
            depends_on=[log_bucket_policy] if log_bucket_policy is not None else None,
        )


class QuiltCrossAccountStack(TerraformStack):
    """A stack with the AWS provider (region from the model) and one `QuiltCrossAccount`.

    With `account` (a fleet's data account), the provider pins `allowed_account_ids` to its id
    and assumes its role when it has one, like the account's generated root.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        *,
        model: DataAccountSetup,
        account: DataAccount | None = None,
    ) -> None:
        super().__init__(scope, id)
        if account is None:
            self.provider = AwsProvider(self, "aws", region=model.region)
        else:
            role = account.role_arn
            self.provider = AwsProvider(
                self,
                "aws",
                region=model.region,
                allowed_account_ids=[account.account_id],
                assume_role=[AwsProviderAssumeRole(role_arn=escape(role))] if role else None,
            )
        self.quilt = QuiltCrossAccount(self, STACK_CONSTRUCT_ID, model=model)


# ---------------------------------------------------------------------------------------------


def _event_selector(selector: EventSelector) -> CloudtrailEventSelector:
    resources = [
        CloudtrailEventSelectorDataResource(type=escape(d.type), values=literal(d.values))
        for d in selector.data_resources
    ]
    return CloudtrailEventSelector(
        read_write_type=selector.read_write_type,
        include_management_events=selector.include_management_events,
        data_resource=resources or None,
    )


def _advanced_selector(selector: AdvancedEventSelector) -> CloudtrailAdvancedEventSelector:
    return CloudtrailAdvancedEventSelector(
        name=escape(selector.name),
        field_selector=[_field_selector(f) for f in selector.field_selectors],
    )


def _field_selector(field: FieldSelector) -> CloudtrailAdvancedEventSelectorFieldSelector:
    def values(operator: str) -> list[str] | None:
        listed = cloudtrail.operator_values(field, operator)
        return None if listed is None else [escape(value) for value in listed]

    # jsii calls Terraform's `equals` `equal_to`.
    return CloudtrailAdvancedEventSelectorFieldSelector(
        field=escape(field.field),
        equal_to=values("equals"),
        not_equals=values("not_equals"),
        starts_with=values("starts_with"),
        not_starts_with=values("not_starts_with"),
        ends_with=values("ends_with"),
        not_ends_with=values("not_ends_with"),
    )


def _output_value(value: Any) -> Any:
    """A TerraformOutput value: None as Terraform null, nested values wrapped in a token.

    cdktf drops None from objects (the module's outputs keep null attributes), and its check of
    object values calls Node's deprecated util.isArray, which prints a DEP0044 warning on Node
    22+; a token skips that check and resolves to the same JSON.
    """
    if value is None:
        return Token.null_value()
    if isinstance(value, str | bool | int):
        return value
    return Token.as_any(_nulls(value))


def _nulls(value: Any) -> Any:
    if value is None:
        return Token.null_value()
    if isinstance(value, dict):
        return {k: _nulls(x) for k, x in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_nulls(x) for x in value]
    return value
