"""`import-policies`: read the buckets' current policies, ownership settings and the external
trail's selectors with boto3, and save them where the config expects them, so a merge starts
from reality. All reads happen first; nothing is written unless every read succeeded."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quilt_cross_account import config
from quilt_cross_account.errors import AwsReadError, ConfigError
from quilt_cross_account.model import DataAccountSetup

DEFAULT_POLICIES_DIR = "policies"
SELECTORS_FILE = "trail-selectors.json"
# Keys `validate` would resolve against files that may not exist yet (this command creates them).
_FILE_KEYS = ("existing_policy",)


@dataclass
class Snapshot:
    policies: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    ownership: dict[str, str | None] = field(default_factory=dict)
    selectors: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Targets:
    policy_files: dict[str, Path]
    selectors_file: Path | None


def plan_targets(path: Path | None, policies_dir: str | None) -> tuple[DataAccountSetup, Targets]:
    """The validated config (ignoring the files this command writes) and where each read goes."""
    raw, base_dir = config.read_config(path)
    base = base_dir or Path.cwd()
    explicit: dict[str, str] = {}
    stripped_buckets = []
    for item in raw.get("buckets", []) if isinstance(raw.get("buckets"), list) else []:
        if isinstance(item, Mapping) and isinstance(item.get("existing_policy"), str):
            explicit[str(item.get("name"))] = item["existing_policy"]
            item = {k: v for k, v in item.items() if k not in _FILE_KEYS}
        stripped_buckets.append(item)
    if stripped_buckets:
        raw["buckets"] = stripped_buckets
    directory = policies_dir or raw.pop("existing_policies_dir", None) or DEFAULT_POLICIES_DIR
    raw.pop("existing_policies_dir", None)
    trail_raw = raw.get("cloudtrail")
    selectors_path = None
    if isinstance(trail_raw, Mapping):
        selectors_path = trail_raw.get("existing_selectors_file")
        raw["cloudtrail"] = {k: v for k, v in trail_raw.items() if k != "existing_selectors_file"}
    model = config.validate(raw, base_dir)
    files = {
        b: base / explicit[b] if b in explicit else base / directory / f"{b}.json"
        for b in model.bucket_names
    }
    selectors = None
    if model.cloudtrail.mode == "external":
        selectors = base / (selectors_path or Path(directory) / SELECTORS_FILE)
    return model, Targets(files, selectors)


def read(model: DataAccountSetup, session: Any) -> Snapshot:
    """Everything the config's buckets and trail look like now."""
    from botocore.exceptions import BotoCoreError, ClientError

    s3 = session.client("s3")
    snap = Snapshot()
    for i, bucket in enumerate(model.bucket_names):
        at = f"buckets[{i}] ({bucket})"
        try:
            snap.policies[bucket] = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        except ClientError as exc:
            if _code(exc) == "NoSuchBucketPolicy":
                snap.policies[bucket] = None
            else:
                snap.problems.append(_describe(at, "s3:GetBucketPolicy", exc))
        except BotoCoreError as exc:
            snap.problems.append(f"{at}: s3:GetBucketPolicy failed: {exc}")
        try:
            rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
            snap.ownership[bucket] = rules[0]["ObjectOwnership"] if rules else None
        except ClientError as exc:
            if _code(exc) == "OwnershipControlsNotFoundError":
                snap.ownership[bucket] = None
            else:
                snap.problems.append(_describe(at, "s3:GetBucketOwnershipControls", exc))
        except BotoCoreError as exc:
            snap.problems.append(f"{at}: s3:GetBucketOwnershipControls failed: {exc}")
    if model.cloudtrail.mode == "external":
        trail = model.cloudtrail.trail_name
        try:
            response = session.client("cloudtrail").get_event_selectors(TrailName=trail)
            snap.selectors = {
                k: response[k]
                for k in ("EventSelectors", "AdvancedEventSelectors")
                if response.get(k)
            }
        except ClientError as exc:
            snap.problems.append(
                _describe(f"cloudtrail.trail_name ({trail})", "cloudtrail:GetEventSelectors", exc)
            )
        except BotoCoreError as exc:
            snap.problems.append(
                f"cloudtrail.trail_name ({trail}): GetEventSelectors failed: {exc}"
            )
    return snap


def save(snap: Snapshot, targets: Targets) -> list[str]:
    """Write (or remove, for buckets with no policy) the files; returns a line per change."""
    report = []
    for bucket, doc in snap.policies.items():
        path = targets.policy_files[bucket]
        if doc is None:
            if path.exists():
                path.unlink()
                report.append(f"{bucket}: no policy; removed stale {path}")
            else:
                report.append(f"{bucket}: no policy")
            continue
        _write_json(path, doc)
        count = len(doc["Statement"]) if isinstance(doc.get("Statement"), list) else 1
        report.append(f"{bucket}: policy with {count} statement(s) -> {path}")
    for bucket, ownership in snap.ownership.items():
        current = ownership or "not set (ObjectWriter)"
        change = (
            "" if ownership == "BucketOwnerEnforced" else " (the module sets BucketOwnerEnforced)"
        )
        report.append(f"{bucket}: object ownership {current}{change}")
    if targets.selectors_file is not None and snap.selectors is not None:
        _write_json(targets.selectors_file, snap.selectors)
        report.append(f"trail selectors -> {targets.selectors_file}")
    return report


def run(
    path: Path | None, profile: str | None, region: str | None, policies_dir: str | None
) -> list[str]:
    model, targets = plan_targets(path, policies_dir)
    import boto3

    session = boto3.Session(profile_name=profile, region_name=region or model.region)
    snap = read(model, session)
    if snap.problems:
        raise AwsReadError(snap.problems)
    return save(snap, targets)


def _code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _describe(at: str, action: str, exc: Any) -> str:
    error = exc.response.get("Error", {})
    code = error.get("Code", "Unknown")
    message = " ".join(str(error.get("Message", "")).split())  # one line per problem
    # Some endpoints answer a JSON API with an XML error body that botocore leaves unparsed.
    embedded = re.search(r"<Code>(.*?)</Code>.*?<Message>(.*?)</Message>", message)
    if embedded:
        code, message = embedded.groups()
    hint = (
        " (check the credentials' permissions for this account)" if "AccessDenied" in code else ""
    )
    return f"{at}: {action} failed with {code}: {message}{hint}"


def _write_json(path: Path, doc: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(doc, handle, indent=2, sort_keys=False)
        handle.write("\n")
    os.replace(tmp, path)


__all__ = ["ConfigError", "AwsReadError", "run"]
