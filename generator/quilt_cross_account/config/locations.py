"""Where a config's input files live: one answer for `generate` (which reads them) and
`import-policies` (which writes them), so what one saves the other always finds.

- A bucket table's `existing_policy` names its file, relative to the config's directory.
- Otherwise `<policies dir>/<bucket>.json`, where the policies directory is the config's
  `existing_policies_dir`, or `policies/` beside the config when it sets none (in a fleet
  config, `policies/<account name>/`, so that two accounts' trail selectors never meet).
- `<policies dir>/<bucket>.acl.json`: the bucket ACL's grants to others (import-policies).
- `<policies dir>/sns-<account>-<region>-<topic>.json`: an SNS topic's current policy.
- With `cloudtrail.mode = "external"`: `cloudtrail.existing_selectors_file`, or
  `<policies dir>/trail-selectors.json`.

Named paths must exist for `generate`; the default ones are read when something is there.
The built-in example config has no directory, and so no default locations.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_POLICIES_DIR = "policies"
SELECTORS_FILE = "trail-selectors.json"
ACL_SUFFIX = ".acl.json"  # a bucket ACL's grants to others, as import-policies found them


@dataclass(frozen=True)
class Location:
    path: Path
    key: str  # the config key that names it, or would
    named: bool  # named in the config (must exist), rather than a default (read if present)


@dataclass(frozen=True)
class Locations:
    base: Path | None  # the config's directory
    configured_policies_dir: str | None
    # Without `existing_policies_dir` (a fleet's account: `policies/<account name>`).
    default_policies_dir: str = DEFAULT_POLICIES_DIR

    @property
    def policies_dir(self) -> Location | None:
        if self.configured_policies_dir is not None:
            return Location(
                self.resolve(self.configured_policies_dir), "existing_policies_dir", True
            )
        if self.base is None:
            return None
        return Location(self.resolve(self.default_policies_dir), "existing_policies_dir", False)

    def policy_file(self, index: int, bucket: str, existing_policy: str | None) -> Location | None:
        if existing_policy is not None:
            return Location(
                self.resolve(existing_policy), f"buckets[{index}].existing_policy", True
            )
        directory = self.policies_dir
        if directory is None:
            return None
        return Location(directory.path / f"{bucket}.json", f"buckets[{index}]", False)

    def acl_file(self, index: int, bucket: str) -> Location | None:
        directory = self.policies_dir
        if directory is None:
            return None
        return Location(directory.path / f"{bucket}{ACL_SUFFIX}", f"buckets[{index}]", False)

    def topic_policy_file(self, index: int, topic_arn: str) -> Location | None:
        """`<policies dir>/sns-<account>-<region>-<topic>.json` (ARN parts are file-name safe)."""
        directory = self.policies_dir
        if directory is None:
            return None
        _, _, _, region, account, name = topic_arn.split(":", 5)
        return Location(
            directory.path / f"sns-{account}-{region}-{name}.json",
            f"buckets[{index}].sns_topic_arn",
            False,
        )

    def selectors_file(self, existing_selectors_file: str | None) -> Location | None:
        key = "cloudtrail.existing_selectors_file"
        if existing_selectors_file is not None:
            return Location(self.resolve(existing_selectors_file), key, True)
        directory = self.policies_dir
        if directory is None:
            return None
        return Location(directory.path / SELECTORS_FILE, key, False)

    def resolve(self, path: str) -> Path:
        candidate = Path(path)
        return candidate if candidate.is_absolute() or self.base is None else self.base / candidate
