"""The CDK for Terraform construct: the module's resources, built from the validated model.

modules/quilt-cross-account is the spec: `QuiltCrossAccount` creates the same resources with the
same attribute values as the module called with the same config (generator/render.py), using the
typed cdktf-cdktf-provider-aws 21.22.1 classes. Domain rules (ARNs, actions, policies, selector
planning) come from generator.policy and the model's planned selectors; nothing is re-derived.

Importing this module loads the provider bindings (~10 s, ~1 GB): the plain `generate` command
never imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# jsii starts Node when the first jsii package is imported: choose the Node first.
from quilt_cross_account.construct import node  # isort: skip  # noqa: F401

import constructs
from cdktf import TerraformOutput, TerraformStack, Token
from cdktf_cdktf_provider_aws.cloudtrail import (
    Cloudtrail,
    CloudtrailAdvancedEventSelector,
    CloudtrailAdvancedEventSelectorFieldSelector,
    CloudtrailEventSelector,
    CloudtrailEventSelectorDataResource,
)
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.provider import AwsProvider
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
)
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA as SseDefault,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy

from quilt_cross_account import cloudtrail, policy
from quilt_cross_account.construct import values as v
from quilt_cross_account.model import (
    AdvancedEventSelector,
    DataAccountSetup,
    EventSelector,
    FieldSelector,
)
from quilt_cross_account.terraform import interface

OBJECT_OWNERSHIP = "BucketOwnerEnforced"
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
        prefix = v.check_identifier(id, "construct id")
        if output_prefix:
            v.check_identifier(output_prefix, "output_prefix")
        super().__init__(scope, id)
        self.model = model
        self._prefix = prefix

        # Per data bucket: its policy (managed mode only), then Object Ownership.
        self.bucket_policies: dict[str, S3BucketPolicy] = {}
        self.ownership_controls: dict[str, S3BucketOwnershipControls] = {}
        applied_policies = v.applied_bucket_policies(model)
        for bucket in model.bucket_names:
            self._data_bucket(bucket, applied_policies.get(bucket))
        self.sns_topic_policies: dict[str, SnsTopicPolicy] = {}
        for topic, document in v.applied_sns_topic_policies(model).items():
            topic_policy = SnsTopicPolicy(
                self, f"topic-policy-{topic}", arn=v.escape(topic), policy=v.escape(document)
            )
            topic_policy.override_logical_id(v.topic_logical_id(self._prefix, topic))
            self.sns_topic_policies[topic] = topic_policy

        self.caller_identity: DataAwsCallerIdentity | None = None
        self.log_bucket: S3Bucket | None = None
        self.log_bucket_public_access_block: S3BucketPublicAccessBlock | None = None
        self.log_bucket_versioning: S3BucketVersioningA | None = None
        self.log_bucket_encryption: S3BucketServerSideEncryptionConfigurationA | None = None
        self.log_bucket_policy: S3BucketPolicy | None = None
        self.log_bucket_ownership_controls: S3BucketOwnershipControls | None = None
        self.trail: Cloudtrail | None = None
        trail = model.cloudtrail
        if trail.create_trail:
            if trail.creates_log_bucket:
                self._log_bucket()
            self._trail()

        self.outputs: dict[str, TerraformOutput] = {}
        if outputs:
            self._outputs(output_prefix)

    # -----------------------------------------------------------------------------------------

    def _data_bucket(self, bucket: str, document: str | None) -> None:
        name = v.bucket_logical_id(self._prefix, bucket)
        bucket_literal = v.escape(bucket)
        policy_resource = None
        if document is not None:
            policy_resource = S3BucketPolicy(
                self, f"policy-{bucket}", bucket=bucket_literal, policy=v.escape(document)
            )
            policy_resource.override_logical_id(name)
            self.bucket_policies[bucket] = policy_resource
        # Policy first, then ownership: S3 rejects concurrent conditional bucket updates.
        ownership = S3BucketOwnershipControls(
            self,
            f"ownership-{bucket}",
            bucket=bucket_literal,
            rule=S3BucketOwnershipControlsRule(object_ownership=OBJECT_OWNERSHIP),
            depends_on=[policy_resource] if policy_resource is not None else None,
        )
        ownership.override_logical_id(name)
        self.ownership_controls[bucket] = ownership

    def _log_bucket(self) -> None:
        model, trail = self.model, self.model.cloudtrail
        assert trail.log_bucket_name is not None  # the config requires it with create_trail
        name = v.role_logical_id(self._prefix, v.LOG_ROLE)
        tags = v.literal(dict(model.tags))

        identity = DataAwsCallerIdentity(self, "caller-identity")
        identity.override_logical_id(v.role_logical_id(self._prefix, v.CALLER_ROLE))

        # Logical ids must be set before `.id` is read: a reference fixes the name.
        bucket = S3Bucket(self, "log-bucket", bucket=v.escape(trail.log_bucket_name), tags=tags)
        bucket.override_logical_id(name)
        public_access_block = S3BucketPublicAccessBlock(
            self,
            "log-public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        public_access_block.override_logical_id(name)
        # Deleted or overwritten log files stay recoverable as noncurrent versions.
        versioning = S3BucketVersioningA(
            self,
            "log-versioning",
            bucket=bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(
                status=VERSIONING_ENABLED
            ),
        )
        versioning.override_logical_id(name)
        kms = v.escape(trail.kms_key_arn) if trail.kms_key_arn else None
        encryption = S3BucketServerSideEncryptionConfigurationA(
            self,
            "log-encryption",
            bucket=bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=SseDefault(
                        sse_algorithm=SSE_KMS if kms else SSE_S3, kms_master_key_id=kms
                    ),
                    bucket_key_enabled=True if kms else None,
                )
            ],
        )
        encryption.override_logical_id(name)
        account_id = identity.account_id  # a token: the data account is known only at plan
        document = policy.terraform_json(
            policy.log_bucket_policy(
                model.partition,
                model.control_account_ids,
                trail.log_bucket_name,
                account_id,
                trail.trail_name,
            )
        )
        log_policy = S3BucketPolicy(
            self,
            "log-policy",
            bucket=bucket.id,
            policy=v.escape_around(document, account_id),
            depends_on=[public_access_block],
        )
        log_policy.override_logical_id(name)
        ownership = S3BucketOwnershipControls(
            self,
            "log-ownership",
            bucket=bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership=OBJECT_OWNERSHIP),
            depends_on=[log_policy],
        )
        ownership.override_logical_id(name)

        self.caller_identity = identity
        self.log_bucket = bucket
        self.log_bucket_public_access_block = public_access_block
        self.log_bucket_versioning = versioning
        self.log_bucket_encryption = encryption
        self.log_bucket_policy = log_policy
        self.log_bucket_ownership_controls = ownership

    def _trail(self) -> None:
        model, trail = self.model, self.model.cloudtrail
        assert trail.log_bucket_name is not None
        plan = trail.selectors
        assert plan is not None  # planned in every mode but "none"
        self.trail = Cloudtrail(
            self,
            "trail",
            name=v.escape(trail.trail_name),
            s3_bucket_name=v.escape(trail.log_bucket_name),
            is_multi_region_trail=trail.is_multi_region_trail,
            include_global_service_events=True,
            enable_log_file_validation=trail.enable_log_file_validation,
            kms_key_id=v.escape(trail.kms_key_arn) if trail.kms_key_arn else None,
            tags=v.literal(dict(model.tags)),
            event_selector=[_event_selector(s) for s in plan.event_selectors] or None,
            advanced_event_selector=(
                [_advanced_selector(s) for s in plan.advanced_event_selectors] or None
            ),
            # CloudTrail checks the log bucket's policy when the trail is created.
            depends_on=[self.log_bucket_policy] if self.log_bucket_policy else None,
        )
        self.trail.override_logical_id(v.role_logical_id(self._prefix, v.TRAIL_ROLE))

    def _outputs(self, prefix: str) -> None:
        values = v.output_values(
            self.model, trail_arn=self.trail.arn if self.trail is not None else None
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


class QuiltCrossAccountStack(TerraformStack):
    """A stack with the AWS provider (region from the model) and one `QuiltCrossAccount`."""

    def __init__(self, scope: constructs.Construct, id: str, *, model: DataAccountSetup) -> None:
        super().__init__(scope, id)
        self.provider = AwsProvider(self, "aws", region=model.region)
        self.quilt = QuiltCrossAccount(self, "quilt", model=model)


# ---------------------------------------------------------------------------------------------


def _event_selector(selector: EventSelector) -> CloudtrailEventSelector:
    resources = [
        CloudtrailEventSelectorDataResource(type=v.escape(d.type), values=v.literal(d.values))
        for d in selector.data_resources
    ]
    return CloudtrailEventSelector(
        read_write_type=selector.read_write_type,
        include_management_events=selector.include_management_events,
        data_resource=resources or None,
    )


def _advanced_selector(selector: AdvancedEventSelector) -> CloudtrailAdvancedEventSelector:
    return CloudtrailAdvancedEventSelector(
        name=v.escape(selector.name),
        field_selector=[_field_selector(f) for f in selector.field_selectors],
    )


def _field_selector(field: FieldSelector) -> CloudtrailAdvancedEventSelectorFieldSelector:
    def values(operator: str) -> list[str] | None:
        listed = cloudtrail.operator_values(field, operator)
        return None if listed is None else [v.escape(value) for value in listed]

    # jsii calls Terraform's `equals` `equal_to`.
    return CloudtrailAdvancedEventSelectorFieldSelector(
        field=v.escape(field.field),
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
