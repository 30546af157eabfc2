"""The `buckets` list: names (strings) or tables with per-bucket options — the bucket's current
policy to merge with, an SNS topic for its event notifications, its customer-managed KMS key."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quilt_cross_account import domain, files, policy
from quilt_cross_account.config import documents, fields
from quilt_cross_account.config.fields import Problems
from quilt_cross_account.config.locations import Locations

MAX_BUCKETS = 10_000
BUCKET_KEYS = {
    "name",
    "existing_policy",
    "sns_topic_arn",
    "kms_key_arn",
    "acl_grants_reviewed",
    "leaving",
    "object_ownership_after",
}


@dataclass
class Buckets:
    partition: str
    names: list[str] = field(default_factory=list)
    policy_files: dict[str, str] = field(default_factory=dict)  # `existing_policy` as written
    acl_grants_reviewed: set[str] = field(default_factory=set)
    leaving: dict[str, str] = field(default_factory=dict)  # -> Object Ownership after leaving
    topic_policies: dict[str, str] = field(default_factory=dict)  # topic ARN -> canonical JSON
    existing_policies: dict[str, str] = field(default_factory=dict)  # canonical JSON
    sns_topic_arns: dict[str, str] = field(default_factory=dict)
    kms_key_arns: dict[str, str] = field(default_factory=dict)


def parse(
    p: Problems,
    raw: Mapping[str, Any],
    partition: str,
    locations: Locations | None,
) -> Buckets:
    """The bucket list, with each bucket's current policy read from where `locations` says
    (None: read no files, as `import-policies` does before it writes them)."""
    value = raw.get("buckets")
    if value is None:
        p.add("buckets", "is required (a list of bucket names or tables with a name)")
        return Buckets(partition=partition)
    if isinstance(value, str):
        value = [value]  # a lone string is an obvious one-element list
    if not isinstance(value, list):
        p.add("buckets", f"must be a list of bucket names, not {fields.type_name(value)}")
        return Buckets(partition=partition)
    if not value:
        p.add("buckets", "must not be empty")
    if len(value) > MAX_BUCKETS:
        p.add("buckets", f"has {len(value)} entries; at most {MAX_BUCKETS} are supported")

    result = Buckets(partition=partition)
    for i, item in enumerate(value):
        at = f"buckets[{i}]"
        options: Mapping[str, Any] = {}
        if isinstance(item, Mapping):
            options = item
            fields.unknown_keys(p, f"{at}.", item, BUCKET_KEYS)
            name = fields.string(p, item, "name", None, f"{at}.")
            if name is None:
                p.add(f"{at}.name", "is required")
                continue
        elif isinstance(item, str):
            name = item
            fields.free_text(p, at, name)
        else:
            p.add(at, f"must be a bucket name or a table, not {fields.type_name(item)}")
            continue
        for rule in domain.bucket_name_problems(name):
            p.add(at, f"{name!r} {rule}")
        result.names.append(name)
        _options(p, at, name, options, partition, result)
    fields.unique(p, "buckets", result.names)

    if locations is not None:
        _load_policies(p, locations, result)
    return result


def _load_policies(p: Problems, locations: Locations, result: Buckets) -> None:
    directory = locations.policies_dir
    if directory is not None:
        problem = _directory_problem(directory.path)
        if problem == "does not exist" and not directory.named:
            directory = None  # no policies/ beside the config: nothing imported
        elif problem:
            p.add(directory.key, f"{str(directory.path)!r} {problem}")
            directory = None
    for i, name in enumerate(result.names):
        explicit = result.policy_files.get(name)
        if explicit is None and directory is None:
            continue
        location = locations.policy_file(i, name, explicit)
        # A named file must be there. A default one counts when anything is there under that
        # name: a directory, FIFO or link is an error, never a silent "no policy" that would
        # replace the owner's statements.
        if location is not None and (location.named or os.path.lexists(location.path)):
            _load_policy(p, location.key, location.path, result.partition, name, result)
        acl = locations.acl_file(i, name) if directory is not None else None
        if acl is not None and os.path.lexists(acl.path):
            _check_acl(p, acl.key, acl.path, name, name in result.acl_grants_reviewed)
    if directory is None:
        return
    for i, name in enumerate(result.names):
        topic = result.sns_topic_arns.get(name)
        if topic is None or topic in result.topic_policies:
            continue
        location = locations.topic_policy_file(i, topic)
        if location is not None and os.path.lexists(location.path):
            doc = documents.read_json(p, location.key, location.path, "topic policy file")
            problems = [] if doc is None else policy.topic_policy_problems(doc, topic)
            for problem in problems:
                p.add(location.key, f"{str(location.path)!r}: {problem}")
            if doc is not None and not problems:
                result.topic_policies[topic] = policy.terraform_json(doc)


def _check_acl(p: Problems, key: str, path: Path, bucket: str, reviewed: bool) -> None:
    """BucketOwnerEnforced turns ACLs off: PutBucketOwnershipControls fails while the bucket ACL
    grants anyone but the owner, and object ACL grants stop working. Refuse such a bucket
    until the owner has looked at the grants."""
    doc = documents.read_json(p, key, path, "ACL record")
    if doc is None:
        return
    grants = doc.get("ForeignGrants") if isinstance(doc, dict) else None
    if not isinstance(grants, list) or doc.get("Bucket") != bucket:
        p.add(key, f"ACL record {str(path)!r} is not import-policies' record of {bucket!r}")
    elif grants and not reviewed:
        p.add(
            key,
            f"the bucket ACL of {bucket!r} grants {len(grants)} permission(s) to other accounts "
            f"or groups ({str(path)!r}); BucketOwnerEnforced disables ACLs, and S3 refuses it "
            "while the bucket ACL has such grants: move them into the bucket policy, remove "
            "them and run import-policies again, or set acl_grants_reviewed = true in the "
            "bucket's table",
        )


def _directory_problem(directory: Path) -> str | None:
    try:
        mode = files.mode_of(directory)
    except files.UnreadableFile as exc:
        return str(exc)
    if mode is None:
        return "does not exist"
    if not stat.S_ISDIR(mode):
        return f"is {files.kind(mode)}, not a directory"
    return None


def _options(
    p: Problems,
    at: str,
    name: str,
    options: Mapping[str, Any],
    partition: str,
    result: Buckets,
) -> None:
    path = fields.path(p, options, "existing_policy", f"{at}.")
    if path is not None:
        result.policy_files[name] = path
    if fields.boolean(p, options, "acl_grants_reviewed", False, f"{at}."):
        result.acl_grants_reviewed.add(name)
    leaving = fields.boolean(p, options, "leaving", False, f"{at}.")
    after = fields.choice(
        p,
        options,
        "object_ownership_after",
        domain.OBJECT_OWNERSHIPS,
        domain.OBJECT_OWNERSHIP,
        f"{at}.",
    )
    if "object_ownership_after" in options and not leaving:
        p.add(f"{at}.object_ownership_after", "applies only to a bucket with leaving = true")
    if leaving:
        result.leaving[name] = after
    topic = fields.string(p, options, "sns_topic_arn", None, f"{at}.")
    if topic is not None:
        if not re.fullmatch(domain.SNS_TOPIC_ARN_PATTERN, topic):
            p.add(f"{at}.sns_topic_arn", f"{topic!r} must be an SNS topic ARN")
        elif topic.split(":")[1] != partition:
            p.add(f"{at}.sns_topic_arn", f"{topic!r} is not in partition {partition!r}")
        result.sns_topic_arns[name] = topic
    key = fields.string(p, options, "kms_key_arn", None, f"{at}.")
    if key is not None:
        if not re.fullmatch(domain.KMS_KEY_ID_ARN_PATTERN, key):
            p.add(f"{at}.kms_key_arn", f"{key!r} must be a KMS key ARN (arn:...:kms:...:key/...)")
        elif key.split(":")[1] != partition:
            p.add(f"{at}.kms_key_arn", f"{key!r} is not in partition {partition!r}")
        result.kms_key_arns[name] = key


def _load_policy(
    p: Problems, key: str, path: Path, partition: str, bucket: str, result: Buckets
) -> None:
    doc = documents.read_json(p, key, path, "policy file")
    if doc is None:
        return
    problems = policy.existing_policy_problems(doc, partition, bucket)
    for text in dict.fromkeys(_strings(doc)):
        problem = fields.unicode_problem(text)
        if problem:
            problems.append(f"the string {fields.escaped(text)} {problem}")
    for problem in problems:
        p.add(key, f"{str(path)!r}: {problem}")
    if not problems:
        result.existing_policies[bucket] = policy.terraform_json(doc)


def _strings(obj: object) -> Iterator[str]:
    """Every string (keys included) in a parsed JSON document."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)
