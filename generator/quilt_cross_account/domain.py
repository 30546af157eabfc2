"""AWS and Quilt facts this project builds on, in one place.

Every renderer (HCL templates, CDKTF construct) takes these values from here; the HCL module
repeats some of them in `validation` blocks, rendered from these constants and rule tables, and
tests prove the two agree.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from quilt_cross_account.terraform import hcl

GENERATOR_NAME = "quilt-cross-account"
MODULE_NAME = "quilt-cross-account"

# The statement id Quilt itself uses; stable so merges can find and replace our statement.
QUILT_SID = "QuiltCrossAccountAccess"
# What an earlier Quilt statement looks like, so that replacing it takes nothing else away: an
# Allow of S3 actions (any: the config now decides Quilt's) to account roots, on the bucket,
# without conditions. Anything else under Quilt's Sid (an owner's Deny revoking Quilt, a
# condition narrowing Quilt's access, a grant to a role) is the owner's own.
QUILT_PRINCIPAL_PATTERN = r"^(arn:aws(-us-gov|-cn)?:iam::[0-9]{12}:root|[0-9]{12})$"
POLICY_VERSION = "2012-10-17"

# Exactly the reference document's actions, in its order.
REFERENCE_ACTIONS: tuple[str, ...] = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObject",
    "s3:GetBucketNotification",
    "s3:PutBucketNotification",
)
# Documented by later Quilt releases; opt-in.
EXTENDED_EXTRA_ACTIONS: tuple[str, ...] = (
    "s3:GetObjectTagging",
    "s3:GetObjectVersionTagging",
    "s3:PutObjectTagging",
    "s3:GetObjectAttributes",
    "s3:GetObjectVersionAttributes",
)
NOTIFICATION_ACTIONS: tuple[str, ...] = ("s3:GetBucketNotification", "s3:PutBucketNotification")
ACTION_SETS: dict[str, tuple[str, ...]] = {
    "reference": REFERENCE_ACTIONS,
    "extended": REFERENCE_ACTIONS + EXTENDED_EXTRA_ACTIONS,
}
# Every action the module will ever grant; anything else is refused (least privilege).
ALLOWED_ACTIONS: tuple[str, ...] = ACTION_SETS["extended"]

PARTITIONS: tuple[str, ...] = ("aws", "aws-us-gov", "aws-cn")
# S3 Object Ownership settings. Quilt needs BucketOwnerEnforced; a bucket leaving Quilt keeps it
# unless its owner asks for another.
OBJECT_OWNERSHIP = "BucketOwnerEnforced"
OBJECT_OWNERSHIPS: tuple[str, ...] = ("BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter")
POLICY_MODES: tuple[str, ...] = ("managed", "statement-only")

# S3 event notifications to an existing SNS topic (Quilt indexes objects from them).
S3_SERVICE = "s3.amazonaws.com"
SNS_PUBLISH_SID = "QuiltS3Publish"
SNS_SUBSCRIBE_SID = "QuiltControlAccountSubscribe"
# Quilt's guide also lists sns:Unsubscribe, but it is not an action a topic policy can grant
# (AWS documents AddPermission, DeleteTopic, GetDataProtectionPolicy, GetTopicAttributes,
# ListSubscriptionsByTopic, ListTagsForResource, Publish, PutDataProtectionPolicy,
# RemovePermission, SetTopicAttributes and Subscribe); subscribers may always unsubscribe.
SNS_CONTROL_ACTIONS: tuple[str, ...] = ("sns:GetTopicAttributes", "sns:Subscribe")
SNS_QUILT_SIDS: tuple[str, ...] = (SNS_PUBLISH_SID, SNS_SUBSCRIBE_SID)
# A region name as AWS spells them (us-east-1, us-gov-west-1, cn-north-1, us-iso-east-1): an
# ARN with any other region fails at apply, and boto3 refuses to build a client for it.
REGION_NAME = r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+"
SNS_TOPIC_ARN_PATTERN = (
    rf"^arn:aws(-us-gov|-cn)?:sns:{REGION_NAME}:[0-9]{{12}}:[A-Za-z0-9_-]{{1,256}}(\.fifo)?$"
)
# Buckets encrypted with a customer-managed key: what the control accounts need on the key.
KMS_GRANT_SID = "QuiltControlAccountDecrypt"
KMS_CONTROL_ACTIONS: tuple[str, ...] = ("kms:Decrypt", "kms:GenerateDataKey")
KMS_KEY_ID_ARN_PATTERN = rf"^arn:aws(-us-gov|-cn)?:kms:{REGION_NAME}:[0-9]{{12}}:key/[A-Za-z0-9-]+$"

# S3 bucket policies are limited to 20 KB.
BUCKET_POLICY_MAX_BYTES = 20 * 1024

# CloudTrail limits per trail.
MAX_EVENT_SELECTORS = 5
MAX_BASIC_DATA_VALUES = 250  # data-resource values across all basic selectors
MAX_ADVANCED_VALUES = 500  # values across all conditions of all advanced selectors
# CloudTrail allows 5 trails per region per account (a multi-region trail counts in every
# region). Buckets beyond one trail's limits are sharded over trails 2..5, named
# `<trail_name>-<n>`, all delivering to the same log bucket.
MAX_TRAILS = 5
TRAIL_NAME_MAX = 128
# create: the module manages the trail; external: it outputs selectors for a trail managed
# elsewhere; none: the buckets' data events are already logged (e.g. an organization trail).
TRAIL_MODES: tuple[str, ...] = ("create", "external", "none")
SELECTOR_STYLES: tuple[str, ...] = ("auto", "basic", "advanced")
READ_WRITE_TYPES: tuple[str, ...] = ("All", "ReadOnly", "WriteOnly")
S3_OBJECT_RESOURCE_TYPE = "AWS::S3::Object"
# What CloudTrail accepts in a trail's selectors (AdvancedFieldSelector, DataResource): a typo
# here would otherwise reach put-event-selectors or the apply.
BASIC_DATA_RESOURCE_TYPES: tuple[str, ...] = (
    "AWS::S3::Object",
    "AWS::Lambda::Function",
    "AWS::DynamoDB::Table",
)
ADVANCED_FIELDS: tuple[str, ...] = (
    "eventCategory",
    "eventSource",
    "eventName",
    "eventType",
    "readOnly",
    "resources.type",
    "resources.ARN",
    "sessionCredentialFromConsole",
    "userIdentity.arn",
    "errorCode",
    "vpcEndpointId",
)
EQUALS_ONLY_FIELDS: tuple[str, ...] = ("eventCategory", "readOnly", "resources.type")
EVENT_CATEGORIES: tuple[str, ...] = ("Management", "Data", "NetworkActivity")
READ_ONLY_FIELD_VALUES: tuple[str, ...] = ("true", "false")
SELECTOR_VALUE_MAX = 2048  # characters per value of a field selector
CLOUDTRAIL_SERVICE = "cloudtrail.amazonaws.com"
# Quilt reads AWSLogs/<account>/CloudTrail/<region>/... with Athena; a key prefix would hide it.
CLOUDTRAIL_LOG_PREFIX = "AWSLogs"

# Tags (S3, CloudTrail): keys 1-128 and values 0-256 characters of letters, numbers and spaces
# representable in UTF-8 and `_ . : / = + - @`; no `aws:` prefix; at most 50 per resource.
MAX_TAGS = 50
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
TAG_RESERVED_PREFIX = "aws:"
TAG_PUNCTUATION = "_.:/=+-@"
# The same set as an RE2 pattern, for the module (Python's `re` has no \p{...}: see tag_text_ok).
TAG_CHARS_PATTERN = r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$"


def region_partition(region: str) -> str:
    """The partition a region belongs to (us-gov-*: aws-us-gov, cn-*: aws-cn, the isolated
    us-iso-*, us-isob-*, ...: aws-iso, aws-iso-b, ...; every other: aws)."""
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("cn-"):
        return "aws-cn"
    isolated = re.match(r"^[a-z]{2}-iso([a-z]?)-", region)
    if isolated:
        return "aws-iso" + (f"-{isolated.group(1)}" if isolated.group(1) else "")
    return "aws"


def tag_text_ok(text: str) -> bool:
    """Whether `text` uses only the characters AWS allows in tags (TAG_CHARS_PATTERN)."""
    return all(unicodedata.category(c)[0] in "LNZ" or c in TAG_PUNCTUATION for c in text)


ACCOUNT_ID_PATTERN = r"^[0-9]{12}$"
# An IAM role ARN (IAM's rules: a path of printable ASCII between slashes, a name of 1-64
# letters, digits and +=,.@_-); groups: partition, account, name.
ROLE_ARN_PATTERN = (
    r"^arn:(aws|aws-us-gov|aws-cn):iam::([0-9]{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]{1,64})$"
)
# A fleet account's name is a directory and a CDKTF stack name: lower case (one spelling on
# case-insensitive disks), digits, '-' and '_', starting with a letter or digit.
ACCOUNT_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
TRAIL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$"
REGION_PATTERN = rf"^{REGION_NAME}$"
KMS_KEY_ARN_PATTERN = rf"^arn:aws(-us-gov|-cn)?:kms:{REGION_NAME}:[0-9]{{12}}:(key|alias)/.+$"

# S3 general-purpose bucket naming rules: one table (`BUCKET_NAME_RULES`) that both the config
# check (`bucket_name_problems`) and the module's `validation` blocks are built from.
BUCKET_NAME_CHARS_PATTERN = r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$"
BUCKET_IPV4_PATTERN = r"^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$"
BUCKET_FORBIDDEN_PREFIXES: tuple[str, ...] = ("xn--", "sthree-", "amzn-s3-demo-")
BUCKET_FORBIDDEN_SUFFIXES: tuple[str, ...] = (
    "-s3alias",
    "--ol-s3",
    ".mrap",
    "--x-s3",
    "--table-s3",
)


@dataclass(frozen=True)
class BucketNameRule:
    """One naming rule, written once: what it says, and how Python and Terraform check it.

    `hcl` is a Terraform expression, true when the name obeys the rule, with `{v}` standing for
    the expression of the name (`b`, `coalesce(var.log_bucket_name, "---")`, ...).
    """

    message: str  # follows the name: "'My_Bucket' must ..."
    obeyed: Callable[[str], bool]
    hcl: str
    # Python-only detail appended to the message, from the name (Terraform < 1.9 cannot put the
    # value into a validation's error message).
    detail: Callable[[str], str] | None = None

    def problem(self, name: str) -> str | None:
        """The message when `name` breaks the rule, else None."""
        if self.obeyed(name):
            return None
        return f"{self.message} ({self.detail(name)})" if self.detail else self.message

    def condition(self, value: str) -> str:
        """The HCL condition for the name expression `value`."""
        return self.hcl.replace("{v}", value)


def _lacks_prefix(prefix: str) -> Callable[[str], bool]:
    return lambda name: not name.startswith(prefix)


def _lacks_suffix(suffix: str) -> Callable[[str], bool]:
    return lambda name: not name.endswith(suffix)


BUCKET_NAME_RULES: tuple[BucketNameRule, ...] = (
    BucketNameRule(
        "must be 3-63 characters long",
        lambda n: 3 <= len(n) <= 63,
        "length({v}) >= 3 && length({v}) <= 63",
        detail=lambda n: f"got {len(n)}",
    ),
    BucketNameRule(
        "must use only lowercase letters, digits, dots and hyphens, "
        "and start and end with a letter or digit",
        lambda n: re.fullmatch(BUCKET_NAME_CHARS_PATTERN, n) is not None,
        f"can(regex({hcl.string(BUCKET_NAME_CHARS_PATTERN)}, {{v}}))",
    ),
    BucketNameRule(
        "must not contain two adjacent dots",
        lambda n: ".." not in n,
        f"!strcontains({{v}}, {hcl.string('..')})",
    ),
    # (IPv6 forms already fail the character rule.)
    BucketNameRule(
        "must not be formatted as an IP address",
        lambda n: re.fullmatch(BUCKET_IPV4_PATTERN, n) is None,
        f"!can(regex({hcl.string(BUCKET_IPV4_PATTERN)}, {{v}}))",
    ),
    *(
        BucketNameRule(
            f"must not start with the reserved prefix {prefix!r}",
            _lacks_prefix(prefix),
            f"!startswith({{v}}, {hcl.string(prefix)})",
        )
        for prefix in BUCKET_FORBIDDEN_PREFIXES
    ),
    *(
        BucketNameRule(
            f"must not end with the reserved suffix {suffix!r}",
            _lacks_suffix(suffix),
            f"!endswith({{v}}, {hcl.string(suffix)})",
        )
        for suffix in BUCKET_FORBIDDEN_SUFFIXES
    ),
)


def bucket_name_problems(name: str) -> list[str]:
    """Which S3 general-purpose naming rules `name` breaks (empty when valid)."""
    return [p for rule in BUCKET_NAME_RULES if (p := rule.problem(name)) is not None]


def account_root_arn(partition: str, account_id: str) -> str:
    # Full ARNs: S3 rewrites bare account ids, which would cause perpetual diffs.
    return f"arn:{partition}:iam::{account_id}:root"


def shard_trail_name(trail_name: str, number: int) -> str:
    """The name of trail `number` (1-based) of a sharded trail: the first keeps `trail_name`."""
    return trail_name if number == 1 else f"{trail_name}-{number}"


def bucket_arn(partition: str, bucket: str) -> str:
    return f"arn:{partition}:s3:::{bucket}"


def objects_arn(partition: str, bucket: str) -> str:
    return f"{bucket_arn(partition, bucket)}/*"


def data_event_arn(partition: str, bucket: str) -> str:
    # The trailing slash selects every object of the bucket (and only that bucket).
    return f"{bucket_arn(partition, bucket)}/"
