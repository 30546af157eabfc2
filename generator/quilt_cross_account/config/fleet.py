"""A fleet config: the control accounts once, then one `[[data_accounts]]` table per data account.

Each account table is validated by the single-account rules (`loader.validate`) on the config it
stands for: the fleet-wide keys, the top-level defaults it does not override, and its own keys.
A problem names the table when the account holds the value (`data_accounts[2].buckets[0]: ...`)
and the top-level key otherwise (reported once however many accounts inherit it). Every
account's problems are reported together.

Which keys go where:
- Fleet-wide only (`SHARED_KEYS`): one Quilt stack reads every account, so its accounts, their
  partition (IAM never grants across partitions) and the actions Quilt uses are the same for all.
- Top-level defaults an account may override (`DEFAULT_KEYS`): `region`, `policy_mode`,
  `existing_policies_dir` (an account's default is `<dir>/<name>`, `policies/<name>` without
  it), `tags` (merged, the account's win) and `cloudtrail` (merged key by key): each data
  account's owners decide these for their own account.
- Per account only (`ACCOUNT_KEYS`): `name`, `account_id`, `role_arn`, `profile`, `buckets`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from quilt_cross_account import domain
from quilt_cross_account.config import fields, loader
from quilt_cross_account.config.fields import Problems
from quilt_cross_account.config.locations import DEFAULT_POLICIES_DIR
from quilt_cross_account.errors import ConfigError
from quilt_cross_account.model import DataAccount, DataAccountSetup, Fleet

FLEET_KEY = loader.FLEET_KEY
MAX_ACCOUNTS = 1_000
SHARED_KEYS = {"control_account_ids", "partition", "action_set", "grant_notification_actions"}
DEFAULT_KEYS = {"region", "policy_mode", "existing_policies_dir", "tags", "cloudtrail"}
MERGED_KEYS = {"tags", "cloudtrail"}  # tables: the account's keys over the top level's
IDENTITY_KEYS = {"name", "account_id", "role_arn", "profile"}  # the account's, not its config's
ACCOUNT_KEYS = IDENTITY_KEYS | {"buckets"} | DEFAULT_KEYS
TOP_LEVEL_KEYS = SHARED_KEYS | DEFAULT_KEYS | {FLEET_KEY}
# Command-line overrides that apply to a whole fleet; the others are an account's.
FLEET_OVERRIDES = {"control_account_ids", "partition", "action_set"}


def is_fleet(raw: Mapping[str, Any]) -> bool:
    return FLEET_KEY in raw


def validate(
    raw: Mapping[str, Any], base_dir: Path | None = None, *, read_files: bool = True
) -> Fleet:
    """Every account's model; ConfigError with every account's problems at once."""
    top = Problems()
    fields.unknown_keys(top, "", raw, TOP_LEVEL_KEYS)
    for key in MERGED_KEYS:
        fields.table(top, key, raw.get(key, {}))
    fields.path(top, raw, "existing_policies_dir")
    tables = raw.get(FLEET_KEY)
    if not isinstance(tables, list) or not tables:
        top.add(FLEET_KEY, "must be a non-empty list of tables ([[data_accounts]])")
        tables = []
    elif len(tables) > MAX_ACCOUNTS:
        top.add(FLEET_KEY, f"has {len(tables)} accounts; at most {MAX_ACCOUNTS} are supported")
    problems = list(top.items)
    files_read: list[Path] = []
    accounts: list[DataAccount] = []
    for i, table in enumerate(tables):
        at = f"{FLEET_KEY}[{i}]"
        if not isinstance(table, Mapping):
            problems.append(f"{at}: must be a table, not {fields.type_name(table)}")
            continue
        account, found, read = _account(raw, table, at, base_dir, read_files)
        problems += found
        files_read += read
        if account is not None:
            accounts.append(account)
    if not problems:
        problems += _across_accounts(accounts)
    if problems:
        raise ConfigError(list(dict.fromkeys(problems)))  # inherited problems once
    return Fleet(accounts=tuple(accounts), input_files=tuple(files_read))


def account_config(
    raw: Mapping[str, Any], table: Mapping[str, Any]
) -> tuple[dict[str, Any], set[str]]:
    """The single-account config an account table stands for, and the keys (dotted, as
    problems name them) whose values came from the top level."""
    # The top level's existing_policies_dir is the parent of the accounts' own directories.
    copied = SHARED_KEYS | DEFAULT_KEYS - MERGED_KEYS - {"existing_policies_dir"}
    config: dict[str, Any] = {k: raw[k] for k in copied if k in raw}
    inherited = set(config) | SHARED_KEYS  # a missing fleet-wide key is the top level's too
    for key in MERGED_KEYS:
        shared, own = raw.get(key, {}), table.get(key, {})
        if isinstance(shared, Mapping) and isinstance(own, Mapping):
            config[key] = {**shared, **own}
            inherited |= {f"{key}.{k}" for k in shared if k not in own}
        elif key in table:
            config[key] = own
    for key in ACCOUNT_KEYS - MERGED_KEYS - IDENTITY_KEYS:
        if key in table:
            config[key] = table[key]
            inherited.discard(key)
    return config, inherited


def _account(
    raw: Mapping[str, Any],
    table: Mapping[str, Any],
    at: str,
    base_dir: Path | None,
    read_files: bool,
) -> tuple[DataAccount | None, list[str], list[Path]]:
    """One account: (its model, or None), its problems, the files it read."""
    p = Problems(where=_scope(at, set()))
    fields.unknown_keys(p, "", table, ACCOUNT_KEYS)
    name = fields.string(p, table, "name", None)
    if "name" not in table:
        p.add("name", "is required (the account's directory and stack name)")
    elif name is not None and not re.fullmatch(domain.ACCOUNT_NAME_PATTERN, name):
        p.add(
            "name",
            f"{name!r} must be 1-63 lower-case letters, digits, '-' or '_', starting with a "
            "letter or digit (it names a directory and a CDKTF stack)",
        )
        name = None
    account_id = fields.string(p, table, "account_id", None)
    if "account_id" not in table:
        p.add("account_id", "is required (the data account's 12-digit id)")
    elif account_id is not None and not re.fullmatch(domain.ACCOUNT_ID_PATTERN, account_id):
        p.add("account_id", f"{account_id!r} must be exactly 12 digits")
        account_id = None
    role_arn = _role_arn(p, table, raw.get("partition", "aws"), account_id)
    profile = fields.string(p, table, "profile", None)
    config, inherited = account_config(raw, table)
    p.where = _scope(at, inherited)
    default_dir = default_policies_dir(raw, name)
    try:
        setup: DataAccountSetup | None = loader.validate(
            config,
            base_dir,
            read_files=read_files,
            problems=p,
            default_policies_dir=default_dir,
        )
    except ConfigError:
        setup = None
    if p.items or setup is None or name is None or account_id is None:
        return None, p.items, p.files_read
    account = DataAccount(name, account_id, setup, role_arn=role_arn, profile=profile)
    return account, [], list(setup.input_files)


def _role_arn(
    p: Problems, table: Mapping[str, Any], partition: object, account_id: str | None
) -> str | None:
    role_arn = fields.string(p, table, "role_arn", None)
    if role_arn is None:
        return None
    match = re.fullmatch(domain.ROLE_ARN_PATTERN, role_arn)
    if match is None:
        p.add(
            "role_arn",
            f"{role_arn!r} must be an IAM role ARN such as "
            "'arn:aws:iam::123456789012:role/terraform'",
        )
        return None
    role_partition, role_account, _ = match.groups()
    if isinstance(partition, str) and role_partition != partition:
        p.add("role_arn", f"{role_arn!r} is not in partition {partition!r}")
    if account_id is not None and role_account != account_id:
        p.add(
            "role_arn",
            f"{role_arn!r} is a role of account {role_account}, not of this account "
            f"({account_id}); its provider pins allowed_account_ids to {account_id}, so "
            "credentials of that role would fail every plan",
        )
    return str(role_arn)


def default_policies_dir(raw: Mapping[str, Any], name: str | None) -> str:
    """`<existing_policies_dir>/<name>`, else `policies/<name>`: accounts never share files."""
    shared = raw.get("existing_policies_dir")
    base = shared if isinstance(shared, str) and shared else DEFAULT_POLICIES_DIR
    return f"{base}/{name or '_'}"


def _scope(at: str, inherited: set[str]) -> Callable[[str], str]:
    """A problem's key: the top-level one when the value came from there, else the table's."""

    def where(key: str) -> str:
        from_top = any(key == k or key.startswith((f"{k}.", f"{k}[")) for k in inherited)
        return key if from_top else f"{at}.{key}"

    return where


def _across_accounts(accounts: Sequence[DataAccount]) -> list[str]:
    """Names and ids are unique; a bucket (names are global) belongs to one account."""
    problems: list[str] = []
    names: dict[str, int] = {}
    ids: dict[str, int] = {}
    owners: dict[str, str] = {}  # bucket (data or log) -> where it is configured
    for i, account in enumerate(accounts):
        at = f"{FLEET_KEY}[{i}]"
        pairs = (("name", account.name, names), ("account_id", account.account_id, ids))
        for key, value, seen in pairs:
            if value in seen:
                problems.append(
                    f"{at}.{key}: {value!r} repeats {FLEET_KEY}[{seen[value]}].{key}; "
                    "each data account appears once"
                )
            seen.setdefault(value, i)
        setup = account.setup
        mine = {b: f"{at}.buckets[{j}]" for j, b in enumerate(setup.bucket_names)}
        log = setup.cloudtrail.log_bucket_name
        if log is not None and setup.cloudtrail.creates_log_bucket:
            mine[log] = f"{at}.cloudtrail.log_bucket_name"
        for bucket, where in mine.items():
            if bucket in owners:
                problems.append(
                    f"{where}: bucket {bucket!r} is also {owners[bucket]}; a bucket belongs to "
                    "one account (bucket names are global)"
                )
            else:
                owners[bucket] = where
    return problems


def load_any(
    path: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    notes: list[str] | None = None,
) -> DataAccountSetup | Fleet:
    """The validated model of a single-account config, or of a fleet config."""
    raw, base_dir = loader.read_config(path)
    if not is_fleet(raw):
        return loader.from_raw(raw, base_dir, path, overrides, notes)
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    return _load(raw, base_dir, given, path)


def _load(
    raw: dict[str, Any],
    base_dir: Path | None,
    overrides: Mapping[str, Any],
    config_path: Path | None,
) -> Fleet:
    """A fleet config with the command line's fleet-wide overrides."""
    wrong = sorted(set(overrides) - FLEET_OVERRIDES)
    if wrong:
        raise ConfigError(
            [
                f"--{key.removesuffix('_ids').removesuffix('s').replace('_', '-')}: sets one "
                f"account's {key}; with a fleet config ({FLEET_KEY}) set it in the account's table"
                for key in wrong
            ]
        )
    raw.update(overrides)
    fleet = validate(raw, base_dir)
    if config_path is None:
        return fleet
    return Fleet(accounts=fleet.accounts, input_files=(config_path, *fleet.input_files))
