"""The module's inputs and outputs: names, HCL types, defaults and descriptions.

`variables.tf`, `outputs.tf` and the module README tables are all rendered from these lists, so
the docs cannot drift from the code. Validation rules live in the templates, rendered from
`domain` and the rule tables (`terraform.rules`).
"""

from __future__ import annotations

from dataclasses import dataclass

from quilt_cross_account import domain
from quilt_cross_account.terraform import hcl

NO_DEFAULT = object()


@dataclass(frozen=True)
class Input:
    name: str
    type: str
    description: str
    default: object = NO_DEFAULT

    @property
    def required(self) -> bool:
        return self.default is NO_DEFAULT

    def head(self) -> str:
        """The description/type/default lines of the variable block, aligned as fmt does."""
        pairs = [("description", hcl.string(self.description)), ("type", self.type)]
        if not self.required:
            pairs.append(("default", hcl.value(self.default, depth=1)))
        if self.required or self.default is not None:
            pairs.append(("nullable", "false"))
        return hcl.attributes(pairs, depth=1).rstrip("\n")


@dataclass(frozen=True)
class Output:
    name: str
    description: str


_BASIC_SELECTOR_TYPE = """list(object({
    read_write_type           = optional(string, "All")
    include_management_events = optional(bool, false)
    data_resources = optional(list(object({
      type   = string
      values = list(string)
    })), [])
  }))"""

_ADVANCED_SELECTOR_TYPE = """list(object({
    name = string
    field_selectors = list(object({
      field           = string
      equals          = optional(list(string))
      not_equals      = optional(list(string))
      starts_with     = optional(list(string))
      not_starts_with = optional(list(string))
      ends_with       = optional(list(string))
      not_ends_with   = optional(list(string))
    }))
  }))"""

INPUTS: tuple[Input, ...] = (
    Input(
        "control_account_ids",
        "list(string)",
        "IDs of the AWS accounts running the Quilt stack (12 digits each). Their root principals "
        "get the bucket access of Quilt's cross-account guide.",
    ),
    Input(
        "bucket_names",
        "list(string)",
        "Names of the existing S3 buckets in this (the data) account that Quilt should use.",
    ),
    Input(
        "partition",
        "string",
        f"AWS partition of the ARNs: {', '.join(domain.PARTITIONS)}.",
        "aws",
    ),
    Input(
        "actions",
        "list(string)",
        "S3 actions granted to the control accounts on each bucket and its objects. The default "
        "is exactly the list of Quilt's cross-account guide; the extended set adds "
        f"{', '.join(domain.EXTENDED_EXTRA_ACTIONS)}.",
        list(domain.REFERENCE_ACTIONS),
    ),
    Input(
        "policy_mode",
        "string",
        "`managed`: the module owns each bucket's policy (existing statements merged from "
        "`existing_bucket_policies`). `statement-only`: it manages no bucket or topic policy and "
        "only outputs Quilt's statements (`quilt_statements`) for your own policy documents.",
        "managed",
    ),
    Input(
        "existing_bucket_policies",
        "map(string)",
        "Bucket name to its current policy JSON. The applied policy keeps these statements and "
        f"adds Quilt's, replacing an earlier statement with the Sid `{domain.QUILT_SID}`.",
        {},
    ),
    Input(
        "sns_topic_arns",
        "map(string)",
        "Bucket name to the existing SNS topic (in this account) receiving its event "
        "notifications: S3 may publish to it and the control accounts may subscribe.",
        {},
    ),
    Input(
        "leaving_buckets",
        "map(string)",
        "Buckets of `bucket_names` that are leaving Quilt, to the Object Ownership each is left "
        f"with ({', '.join(domain.OBJECT_OWNERSHIPS)}; `{domain.OBJECT_OWNERSHIP}` leaves it as "
        "it is). Quilt's statement is dropped from their policies (no policy remains when the "
        "owner had no statements of their own), and they leave the trail's selectors, topic and "
        "key statements. After the apply, remove them from `bucket_names` and forget their "
        "resources with `terraform state rm` (see the README).",
        {},
    ),
    Input(
        "existing_topic_policies",
        "map(string)",
        "SNS topic ARN to its current policy JSON. The applied topic policy keeps these "
        f"statements and adds Quilt's, replacing earlier ones with the Sids "
        f"{', '.join(domain.SNS_QUILT_SIDS)}.",
        {},
    ),
    Input(
        "kms_key_arns",
        "map(string)",
        "Bucket name to the customer-managed KMS key encrypting it; see the `kms_key_policies` "
        "output.",
        {},
    ),
    Input(
        "trail_mode",
        "string",
        "How the buckets' S3 data events reach CloudTrail: `create` a trail here; `external`: "
        "feed the `event_selectors`/`advanced_event_selectors` outputs to a trail managed "
        "elsewhere; `none`: a trail already logs them (e.g. an organization trail).",
        "create",
    ),
    Input(
        "trail_name",
        "string",
        "Name of the trail to create (the first one; trail n of `trail_shards` is "
        "`<trail_name>-<n>`).",
        "quilt-data-events",
    ),
    Input(
        "trail_shards",
        "map(number)",
        "Buckets logged by a trail after the first, when they do not fit one trail's limits: "
        f"bucket name to trail number (2-{domain.MAX_TRAILS}; CloudTrail allows "
        f"{domain.MAX_TRAILS} trails per region). Trail n is `<trail_name>-<n>`, delivers to the "
        "same log bucket and logs only these buckets' data events; every other bucket is in "
        "the first trail, which alone keeps the extra selectors and management events.",
        {},
    ),
    Input(
        "create_log_bucket",
        "bool",
        "Create the trail's log bucket (encrypted, private, TLS-only, readable by the control "
        "accounts). When false, `log_bucket_name` must already exist with a policy allowing "
        "CloudTrail delivery.",
        True,
    ),
    Input(
        "log_bucket_name",
        "string",
        "Bucket receiving the trail's logs; pass it to the Quilt stack as `CloudTrailBucket`. "
        "Required when `trail_mode` is `create`.",
        None,
    ),
    Input(
        "selector_style",
        "string",
        "CloudTrail selector style: `auto` uses basic event selectors while the buckets fit "
        f"({domain.MAX_BASIC_DATA_VALUES} values) and advanced ones beyond; `basic`; `advanced`.",
        "auto",
    ),
    Input(
        "read_write_type",
        "string",
        f"Which data events to log: {', '.join(domain.READ_WRITE_TYPES)}.",
        "All",
    ),
    Input(
        "include_management_events",
        "bool",
        "Also log management events in this trail.",
        False,
    ),
    Input(
        "is_multi_region_trail",
        "bool",
        "Create a multi-region trail.",
        True,
    ),
    Input(
        "enable_log_file_validation",
        "bool",
        "Enable CloudTrail log file integrity validation.",
        True,
    ),
    Input(
        "kms_key_arn",
        "string",
        "KMS key ARN encrypting the trail's logs (and the created log bucket). Its key policy must "
        'allow CloudTrail to use it. Null: SSE-S3. Only with `trail_mode = "create"`.',
        None,
    ),
    Input(
        "extra_event_selectors",
        _BASIC_SELECTOR_TYPE,
        "Further basic event selectors for the trail (e.g. its existing ones), merged with "
        f"Quilt's within the trail's limits ({domain.MAX_EVENT_SELECTORS} selectors, "
        f"{domain.MAX_BASIC_DATA_VALUES} data-resource values).",
        [],
    ),
    Input(
        "extra_advanced_event_selectors",
        _ADVANCED_SELECTOR_TYPE,
        "Further advanced event selectors for the trail, merged with Quilt's within the trail's "
        f"limits ({domain.MAX_EVENT_SELECTORS} selectors, {domain.MAX_ADVANCED_VALUES} values). "
        "A selector named like one of Quilt's replaces it.",
        [],
    ),
    Input(
        "tags",
        "map(string)",
        "Tags for the resources that take them (trail, log bucket).",
        {},
    ),
)

OUTPUTS: tuple[Output, ...] = (
    Output(
        "cloudtrail_bucket",
        "Name of the bucket receiving the CloudTrail logs: the Quilt stack's `CloudTrailBucket` "
        "parameter.",
    ),
    Output(
        "trail_arn",
        "ARN of the created (first) trail (null unless `trail_mode` is `create`).",
    ),
    Output(
        "bucket_policies",
        "Bucket name to the JSON policy the module applies to it (empty in `statement-only` mode).",
    ),
    Output(
        "quilt_statements",
        "Bucket name to a policy JSON holding only Quilt's statement, ready for "
        "`source_policy_documents` of an `aws_iam_policy_document`.",
    ),
    Output(
        "sns_topic_policies",
        "Topic ARN to the topic policy letting S3 publish the buckets' events and the control "
        "accounts subscribe (applied by the module in `managed` mode).",
    ),
    Output(
        "kms_key_policies",
        "KMS key ARN to the key-policy statement letting the control accounts decrypt and "
        "generate data keys; merge it into the key's policy.",
    ),
    Output(
        "principal_arns",
        "Root principal ARNs of the control accounts, as granted in the policies.",
    ),
    Output(
        "selector_style",
        "The selector style chosen for the buckets' data events: `basic` or `advanced`.",
    ),
    Output(
        "event_selectors",
        "Basic event selectors of the first trail logging the buckets' data events (empty when "
        'the style is advanced), shaped for `dynamic "event_selector"` blocks.',
    ),
    Output(
        "advanced_event_selectors",
        "Advanced event selectors of the first trail logging the buckets' data events (empty "
        'when the style is basic), shaped for `dynamic "advanced_event_selector"` blocks.',
    ),
    Output(
        "trails",
        "Every trail logging the buckets (the first, then those of `trail_shards`): its `name`, "
        "`event_selectors` and `advanced_event_selectors` (empty when `trail_mode` is `none`).",
    ),
    Output(
        "log_bucket_read_policy",
        "Policy JSON with the statements letting the control accounts read the CloudTrail logs; "
        "merge it into an existing log bucket's policy (null without `log_bucket_name`).",
    ),
)
