"""`import-policies`: read the buckets' current policies, ownership settings and the external
trail's selectors with boto3, and save them where the config expects them, so a merge starts
from reality. All reads happen first; nothing is written unless every read succeeded."""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quilt_cross_account import config, domain, files, policy
from quilt_cross_account.config import documents
from quilt_cross_account.config import fleet as fleet_config
from quilt_cross_account.config.locations import Location, Locations
from quilt_cross_account.errors import AwsReadError, ConfigError, OutputError, signals_deferred
from quilt_cross_account.model import DataAccountSetup

FLEET_KEY = fleet_config.FLEET_KEY


@dataclass
class Snapshot:
    policies: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    ownership: dict[str, str | None] = field(default_factory=dict)
    # Grants of each bucket's ACL to anyone but the bucket owner (BucketOwnerEnforced turns
    # them off, and PutBucketOwnershipControls fails while the bucket ACL has any).
    foreign_grants: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    topic_policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    selectors: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Targets:
    policy_files: dict[str, Path]
    acl_files: dict[str, Path]
    topic_files: dict[str, Path]
    selectors_file: Path | None


@dataclass(frozen=True)
class AccountPlan:
    """What to read for one data account (the one of a single config, or a fleet's), where to
    save it, and with which credentials."""

    label: str  # how its report and problems are prefixed ("" for a single config)
    model: DataAccountSetup
    targets: Targets
    account_id: str | None = None  # a fleet account's: the credentials must be for it
    profile: str | None = None
    role_arn: str | None = None


def plan_accounts(path: Path | None, policies_dir: str | None) -> list[AccountPlan]:
    """Every account's validated config (without reading the files this command writes) and
    where each read is saved: exactly where `generate` looks (config.locations)."""
    if path is None:
        raise ConfigError(
            ["--config: import-policies needs your config file; it saves what it reads beside it"]
        )
    raw, base_dir = config.read_config(path)
    assert base_dir is not None  # a config file always has a directory
    if not fleet_config.is_fleet(raw):
        model = config.validate(raw, base_dir, read_files=False)
        locations = Locations(base_dir, raw.get("existing_policies_dir"))
        _check_policies_flag(locations, policies_dir)
        return [AccountPlan("", model, _targets(path, base_dir, raw, model, locations))]
    if policies_dir is not None:
        raise ConfigError(
            [
                "--policies-dir: a fleet config keeps each account's policies in its own "
                "directory (existing_policies_dir/<name>, else policies/<name>); set "
                "existing_policies_dir in the config instead"
            ]
        )
    fleet = fleet_config.validate(raw, base_dir, read_files=False)
    shared_dir = raw.get("existing_policies_dir")
    plans: list[AccountPlan] = []
    problems: list[str] = []
    for i, (account, table) in enumerate(zip(fleet.accounts, raw[FLEET_KEY], strict=True)):
        at = f"{FLEET_KEY}[{i}]"
        own, _ = fleet_config.account_config(raw, table)
        locations = Locations(
            base_dir,
            own.get("existing_policies_dir"),
            fleet_config.default_policies_dir(raw, account.name),
        )
        try:
            targets = _targets(path, base_dir, own, account.setup, locations, shared_dir)
        except ConfigError as exc:
            problems += [f"{at}.{line}" for line in exc.problems]
            continue
        plans.append(
            AccountPlan(
                f"{at} ({account.name})",
                account.setup,
                targets,
                account_id=account.account_id,
                profile=account.profile,
                role_arn=account.role_arn,
            )
        )
    if problems:
        raise ConfigError(problems)
    return plans


def _check_policies_flag(locations: Locations, policies_dir: str | None) -> None:
    directory = locations.policies_dir
    assert directory is not None  # a config file always has a directory
    if policies_dir is not None and _real(locations.resolve(policies_dir)) != _real(directory.path):
        raise ConfigError(
            [
                f"--policies-dir: generate reads this config's policies from "
                f"{str(directory.path)!r}, not {policies_dir!r}; set existing_policies_dir in the "
                "config instead, so both commands use the same directory"
            ]
        )


def _targets(
    path: Path,
    base_dir: Path,
    raw: Mapping[str, Any],
    model: DataAccountSetup,
    locations: Locations,
    shared_dir: str | None = None,
) -> Targets:
    """Where each of one account's reads is saved (`raw`: its single-account config)."""
    named = (
        {
            str(item["name"]): str(item["existing_policy"])
            for item in raw["buckets"]
            if isinstance(item, Mapping) and "existing_policy" in item
        }
        if isinstance(raw.get("buckets"), list)
        else {}
    )
    policy_files: dict[str, Location] = {}
    acl_files: dict[str, Location] = {}
    for i, bucket in enumerate(model.bucket_names):
        location = locations.policy_file(i, bucket, named.get(bucket))
        assert location is not None
        policy_files[bucket] = location
        acl_location = locations.acl_file(i, bucket)
        assert acl_location is not None
        acl_files[bucket] = acl_location
    topic_files: dict[str, Location] = {}
    for i, record in enumerate(model.buckets):
        topic = record.sns_topic_arn
        if topic is not None and topic not in topic_files:
            topic_location = locations.topic_policy_file(i, topic)
            assert topic_location is not None
            topic_files[topic] = topic_location
    selectors = None
    if model.cloudtrail.mode == "external":
        trail_raw = raw.get("cloudtrail", {})
        selectors = locations.selectors_file(trail_raw.get("existing_selectors_file"))
    configured = [d for d in (locations.configured_policies_dir, shared_dir) if d is not None]
    _check_targets(
        path,
        base_dir,
        configured,
        locations,
        {**policy_files, **topic_files},
        acl_files,
        selectors,
    )
    return Targets(
        {b: loc.path for b, loc in policy_files.items()},
        {b: loc.path for b, loc in acl_files.items()},
        {t: loc.path for t, loc in topic_files.items()},
        selectors.path if selectors is not None else None,
    )


def _check_targets(
    config_path: Path,
    base_dir: Path,
    configured_dirs: Sequence[str],
    locations: Locations,
    policy_files: Mapping[str, Location],
    acl_files: Mapping[str, Location],
    selectors: Location | None,
) -> None:
    """Only regular *.json files under the config's directory (or the policies directory it
    names), never the config itself, never one file for two things."""
    roots = [_real(base_dir), *(_real(locations.resolve(d)) for d in configured_dirs)]
    config_real = _real(config_path)
    problems: list[str] = []
    owners: dict[Path, str] = {}
    every = [*policy_files.values(), *acl_files.values(), *([selectors] if selectors else [])]
    for location in every:
        real = _real(location.path)
        shown = str(location.path)
        if not location.path.name.endswith(".json"):
            problems.append(f"{location.key}: {shown!r} must be a .json file to be written")
        elif real == config_real:
            problems.append(f"{location.key}: {shown!r} is the config itself")
        elif not any(real.is_relative_to(root) for root in roots):
            problems.append(
                f"{location.key}: {shown!r} is outside the config's directory; "
                "import-policies writes only there (or in existing_policies_dir)"
            )
        elif real in owners:
            problems.append(f"{location.key}: {shown!r} is also the file of {owners[real]}")
        else:
            problem = _existing_problem(location.path)
            if problem:
                problems.append(f"{location.key}: {shown!r} {problem}")
        owners.setdefault(real, location.key)
    if problems:
        raise ConfigError(problems)


def _existing_problem(path: Path) -> str | None:
    try:
        mode = files.mode_of(path)
    except files.UnreadableFile as exc:
        return str(exc)
    if mode is not None and not stat.S_ISREG(mode):
        return f"is {files.kind(mode)}; import-policies replaces only regular files"
    return None


def _real(path: Path) -> Path:
    # Resolves links in every existing part, so a link cannot smuggle a path out of the roots.
    return Path(os.path.realpath(path))


def read(model: DataAccountSetup, session: Any) -> Snapshot:
    """Everything the config's buckets and trail look like now."""
    from botocore.exceptions import BotoCoreError, ClientError

    s3 = session.client("s3")
    snap = Snapshot()

    def call(at: str, action: str, absent: str | None, fetch: Any) -> Any:
        """`fetch()`, or None when AWS says `absent`; a failure is recorded as a problem."""
        try:
            return fetch()
        except ClientError as exc:
            if absent is not None and _code(exc) == absent:
                return None
            snap.problems.append(_describe(at, action, exc))
        except BotoCoreError as exc:
            snap.problems.append(f"{at}: {action} failed: {_one_line(str(exc))}")
        raise _Skip

    for i, bucket in enumerate(model.bucket_names):
        at = f"buckets[{i}] ({bucket})"
        with suppress(_Skip):
            response = call(
                at,
                "s3:GetBucketPolicy",
                "NoSuchBucketPolicy",
                lambda b=bucket: s3.get_bucket_policy(Bucket=b),
            )
            snap.policies[bucket] = None if response is None else _policy_of(at, response, snap)
        with suppress(_Skip):
            response = call(
                at,
                "s3:GetBucketOwnershipControls",
                "OwnershipControlsNotFoundError",
                lambda b=bucket: s3.get_bucket_ownership_controls(Bucket=b),
            )
            rules = (response or {}).get("OwnershipControls", {}).get("Rules") or []
            snap.ownership[bucket] = rules[0].get("ObjectOwnership") if rules else None
        with suppress(_Skip):
            response = call(
                at, "s3:GetBucketAcl", None, lambda b=bucket: s3.get_bucket_acl(Bucket=b)
            )
            snap.foreign_grants[bucket] = foreign_grants(response)
    for topic in model.topics:
        region = topic.split(":")[3]
        with suppress(_Skip):
            response = call(
                f"sns topic ({topic})",
                "sns:GetTopicAttributes",
                None,
                lambda t=topic, r=region: session.client("sns", region_name=r).get_topic_attributes(
                    TopicArn=t
                ),
            )
            text = response.get("Attributes", {}).get("Policy")
            doc = _policy_of(f"sns topic ({topic})", {"Policy": text}, snap) if text else None
            if doc is not None:
                snap.topic_policies[topic] = doc
    if model.cloudtrail.mode == "external":
        trail = model.cloudtrail.trail_name
        with suppress(_Skip):
            response = call(
                f"cloudtrail.trail_name ({trail})",
                "cloudtrail:GetEventSelectors",
                None,
                lambda: session.client("cloudtrail").get_event_selectors(TrailName=trail),
            )
            snap.selectors = {
                k: response[k]
                for k in ("EventSelectors", "AdvancedEventSelectors")
                if response.get(k)
            }
    return snap


class _Skip(Exception):
    """A read failed and was recorded; go on with the next one."""


def _policy_of(at: str, response: Mapping[str, Any], snap: Snapshot) -> dict[str, Any] | None:
    try:
        doc = documents.parse_json(str(response["Policy"]))
    except (KeyError, documents.DocumentError) as exc:
        snap.problems.append(f"{at}: s3:GetBucketPolicy returned a policy that {exc}")
        raise _Skip from None
    if not isinstance(doc, dict):
        snap.problems.append(f"{at}: s3:GetBucketPolicy returned a policy that is not an object")
        raise _Skip
    return doc


def foreign_grants(acl: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The grants of an ACL to anyone but its owner (what BucketOwnerEnforced disables)."""
    owner = acl.get("Owner", {}).get("ID")
    return [
        grant
        for grant in acl.get("Grants", [])
        if not (
            grant.get("Grantee", {}).get("Type") == "CanonicalUser"
            and grant.get("Grantee", {}).get("ID") == owner
        )
    ]


def save(snap: Snapshot, targets: Targets, partition: str) -> list[str]:
    """Write (or remove, for buckets with no policy) the files; returns a line per change.

    Every new file is written beside its target first and only then renamed into place, so a
    failed write (disk full, read-only directory) leaves the files as they were.
    """
    report: list[str] = []
    writes: dict[Path, object] = {}
    removals: list[Path] = []
    for bucket, doc in snap.policies.items():
        path = targets.policy_files[bucket]
        if doc is not None:
            writes[path] = doc
            count = len(policy.statements_of(doc)) if "Statement" in doc else 0
            report.append(
                f"{bucket}: policy with {count} statement(s) -> {path} "
                "(generate merges them with Quilt's statement)"
            )
        elif not os.path.lexists(path):
            report.append(f"{bucket}: no policy")
        elif _is_policy_of(path, bucket, partition):
            removals.append(path)
            report.append(f"{bucket}: no policy; removed stale {path}")
        else:
            report.append(
                f"{bucket}: no policy; left {path} alone (it is not a saved policy of this "
                "bucket); generate will still read it"
            )
    for bucket, ownership in snap.ownership.items():
        current = ownership or "not set (ObjectWriter)"
        change = (
            "" if ownership == "BucketOwnerEnforced" else " (the module sets BucketOwnerEnforced)"
        )
        report.append(f"{bucket}: object ownership {current}{change}")
    for bucket, grants in snap.foreign_grants.items():
        path = targets.acl_files[bucket]
        if grants:
            writes[path] = {"Bucket": bucket, "ForeignGrants": grants}
            report.append(
                f"{bucket}: the bucket ACL grants {len(grants)} permission(s) to others -> "
                f"{path}; BucketOwnerEnforced fails until they are removed (generate refuses "
                "the bucket unless its table sets acl_grants_reviewed = true)"
            )
        elif os.path.lexists(path) and _is_acl_record_of(path, bucket):
            removals.append(path)
            report.append(f"{bucket}: the bucket ACL grants nothing to others; removed {path}")
    for topic, doc in snap.topic_policies.items():
        path = targets.topic_files[topic]
        writes[path] = doc
        report.append(
            f"{topic}: topic policy with {len(policy.statements_of(doc))} statement(s) -> {path} "
            "(generate merges them with Quilt's statements)"
        )
    if targets.selectors_file is not None and snap.selectors is not None:
        writes[targets.selectors_file] = snap.selectors
        report.append(
            f"trail selectors -> {targets.selectors_file} (generate merges them into "
            "put-event-selectors.json)"
        )
    _commit(writes, removals)
    return report


def _commit(writes: Mapping[Path, object], removals: Sequence[Path]) -> None:
    staged: list[tuple[Path, Path]] = []
    try:
        for path, doc in writes.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(
                prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
            )
            staged.append((Path(temporary), path))
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(doc, handle, indent=2)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
        with signals_deferred():
            for tmp, target in staged:
                os.replace(tmp, target)
            for stale in removals:
                stale.unlink()
    except OSError as exc:
        for tmp, _ in staged:
            with suppress(OSError):
                tmp.unlink()
        raise OutputError(
            f"cannot write {exc.filename or 'the policy files'}: {exc.strerror or exc}"
        ) from None


def _is_policy_of(path: Path, bucket: str, partition: str) -> bool:
    """Whether `path` holds a bucket policy of `bucket` (what this command saves for it)."""
    doc = _saved(path)
    return doc is not None and not policy.existing_policy_problems(doc, partition, bucket)


def _is_acl_record_of(path: Path, bucket: str) -> bool:
    doc = _saved(path)
    return isinstance(doc, dict) and doc.get("Bucket") == bucket and "ForeignGrants" in doc


def _saved(path: Path) -> Any:
    """A JSON file this command may have saved, or None when it is not one."""
    try:
        return documents.parse_json(files.read_text(path, documents.MAX_DOCUMENT_BYTES))
    except (files.UnreadableFile, documents.DocumentError):
        return None


def run(
    path: Path | None, profile: str | None, region: str | None, policies_dir: str | None
) -> list[str]:
    """Read every account, then save what was read: nothing is written unless every read of
    every account succeeded. A fleet account is read with its own `profile` (else `profile`),
    through its `role_arn` when it has one, and only when the credentials are its account's."""
    plans = plan_accounts(path, policies_dir)
    snaps: list[Snapshot] = []
    problems: list[str] = []
    for plan in plans:
        prefix = f"{plan.label}: " if plan.label else ""
        try:
            boto_session = account_session(
                profile=plan.profile or profile,
                profile_key="profile" if plan.profile else "--profile",
                role_arn=plan.role_arn,
                account_id=plan.account_id,
                region=region or plan.model.region,
                command="import-policies",
            )
        except AwsReadError as exc:
            problems += [f"{prefix}{line}" for line in exc.problems]
            continue
        snap = read(plan.model, boto_session)
        problems += [f"{prefix}{line}" for line in snap.problems]
        snaps.append(snap)
    if problems:
        raise AwsReadError(problems)
    report: list[str] = []
    for plan, snap in zip(plans, snaps, strict=True):
        lines = save(snap, plan.targets, plan.model.partition)
        report += [f"{plan.label}: {line}" if plan.label else line for line in lines]
    return report


def account_session(
    *,
    profile: str | None,
    role_arn: str | None,
    account_id: str | None,
    region: str,
    command: str,
    profile_key: str = "--profile",
) -> Any:
    """A data account's boto3 session: its profile, its role assumed (STS AssumeRole), its
    account checked; AwsReadError when that fails or the credentials are another account's."""
    base = session(profile, region, command, profile_key)
    if role_arn is None and account_id is None:
        return base  # a single-account config: boto3's chain, as it is
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        if role_arn is not None:
            answer = base.client("sts").assume_role(
                RoleArn=role_arn, RoleSessionName=f"{domain.GENERATOR_NAME}-{command}"
            )
            credentials = answer["Credentials"]
            base = boto3.Session(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
                region_name=region,
            )
        caller = base.client("sts").get_caller_identity()["Account"]
    except ClientError as exc:
        raise AwsReadError(
            [_describe("role_arn" if role_arn else profile_key, "sts", exc)]
        ) from None
    except BotoCoreError as exc:
        raise AwsReadError([f"{profile_key}: {_one_line(str(exc))}"]) from None
    if account_id is not None and caller != account_id:
        # Like the roots' allowed_account_ids: never read another account's buckets.
        raise AwsReadError(
            [
                f"account_id: the credentials are for account {caller}, not {account_id}; "
                "nothing was read (set this account's profile or role_arn)"
            ]
        )
    return base


def session(profile: str | None, region: str, command: str, profile_key: str = "--profile") -> Any:
    """A boto3 session for the data account; a missing boto3 or profile is one line."""
    try:
        import boto3
        from botocore.exceptions import BotoCoreError
    except ImportError:
        raise ConfigError(
            [f"{command} needs boto3: pip install 'quilt-cross-account[import]'"]
        ) from None
    try:
        return boto3.Session(profile_name=profile, region_name=region)
    except BotoCoreError as exc:  # e.g. the profile does not exist
        raise AwsReadError([f"{profile_key}: {_one_line(str(exc))}"]) from None


def _code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def error_of(exc: Any) -> tuple[str, str]:
    """A botocore ClientError's code and one-line message."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    message = _one_line(str(error.get("Message", "")))  # one line per problem
    # Some endpoints answer a JSON API with an XML error body that botocore leaves unparsed.
    embedded = re.search(r"<Code>(.*?)</Code>.*?<Message>(.*?)</Message>", message)
    if embedded:
        code, message = embedded.groups()
    return code, message


def _describe(at: str, action: str, exc: Any) -> str:
    code, message = error_of(exc)
    hint = (
        " (check the credentials' permissions for this account)" if "AccessDenied" in code else ""
    )
    return f"{at}: {action} failed with {code}: {message}{hint}"


__all__ = ["ConfigError", "AwsReadError", "account_session", "plan_accounts", "run"]
