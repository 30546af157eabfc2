"""Shared helpers for tests: run the CLI, snapshot trees, parse generated HCL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import hcl2
from hcl2.utils import SerializationOptions

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
EXAMPLE_CONFIG = EXAMPLES / "reference.toml"
MODULE = "modules/quilt-cross-account"
ROOT = "examples/quilt-cross-account"
# The statement of Quilt's cross-account guide (reference doc), with the example's account id for
# its CONTROL_ACCOUNT placeholder: written out here, independent of generator.domain.
GUIDE_ACTIONS = [
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObject",
    "s3:GetBucketNotification",
    "s3:PutBucketNotification",
]
GUIDE_STATEMENT = {
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
    "Action": GUIDE_ACTIONS,
    "Resource": ["arn:aws:s3:::bucket-in-data-account", "arn:aws:s3:::bucket-in-data-account/*"],
}
# The data owner's own statement on the bucket `data-one`, and the SNS topic and KMS key of the
# data account, shared by the tests of existing policies, notifications and keys.
OWNER_STATEMENT = {
    "Sid": "OwnerRead",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::999988887777:role/reader"},
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::data-one/*",
}
TOPIC_ARN = "arn:aws:sns:us-east-1:222233334444:quilt-events"
KMS_KEY_ARN = "arn:aws:kms:us-east-1:222233334444:key/1234abcd-12ab-34cd-56ef-1234567890ab"
# Values as Terraform sees them: quotes stripped and escapes resolved.
HCL_VALUES = SerializationOptions(
    strip_string_quotes=True, with_comments=False, explicit_blocks=False
)


def run_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m generator ARGS` in a fresh process, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "quilt_cross_account", *map(str, args)],
        cwd=cwd or REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file below `directory` (relative path -> bytes), to prove nothing changed."""
    if not directory.exists():
        return {}
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def parse_tf(path: Path) -> dict:
    return hcl2.loads(path.read_text("utf-8"), serialization_options=HCL_VALUES)


def blocks(parsed: dict, kind: str) -> dict:
    """Merge the list python-hcl2 returns for a block kind into one mapping."""
    merged: dict = {}
    for item in parsed.get(kind, []):
        merged.update(item)
    return merged


def resources(parsed: dict) -> dict[tuple[str, str], dict]:
    """(type, name) -> resource body."""
    found = {}
    for item in parsed.get("resource", []):
        for rtype, named in item.items():
            for name, body in named.items():
                found[(rtype, name)] = body
    return found


def gallery(name: str) -> Path:
    """A config of the gallery, examples/<name>.toml (tests/test_gallery.py)."""
    path = EXAMPLES / f"{name}.toml"
    assert path.is_file(), path
    return path


def write_config(tmp: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp / name
    path.write_text(text, "utf-8")
    return path


def config_text(
    buckets: list[str],
    accounts: tuple[str, ...] = ("111122223333",),
    trail: str = 'log_bucket_name = "quilt-logs-bucket"\n',
    extra: str = "",
) -> str:
    quoted = ", ".join(f'"{b}"' for b in buckets)
    ids = ", ".join(f'"{a}"' for a in accounts)
    return f"control_account_ids = [{ids}]\nbuckets = [{quoted}]\n{extra}\n[cloudtrail]\n{trail}"
