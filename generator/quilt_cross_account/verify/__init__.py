"""`verify`: read-only checks that the live data account is what the config says (after an
apply), or that an apply would take nothing away from it (`--before-apply`).

expectations (from the model) -> live (boto3 reads) -> checks (pure verdicts) -> report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from quilt_cross_account import config, domain, importer
from quilt_cross_account.errors import AwsReadError, ConfigError
from quilt_cross_account.model import DataAccountSetup, Fleet
from quilt_cross_account.verify import checks, expectations, live


@dataclass(frozen=True)
class Outcome:
    """One data account's verdicts."""

    name: str | None  # its table's name in a fleet config; None for a single-account config
    account_id: str
    region: str
    checks: list[checks.Check]
    errors: list[str]  # AWS reads that failed: nothing of this account was judged

    @property
    def failed(self) -> bool:
        return any(c.status == "fail" for c in self.checks)


@dataclass(frozen=True)
class Run:
    mode: str  # "after-apply" | "before-apply"
    fleet: bool
    outcomes: list[Outcome]

    @property
    def errors(self) -> list[str]:
        return [e for o in self.outcomes for e in o.errors]

    @property
    def failed(self) -> bool:
        return any(o.failed for o in self.outcomes)


def run(
    path: Path | None,
    profile: str | None,
    region: str | None,
    before_apply: bool,
    progress: TextIO | None = None,
) -> Run:
    """Every account of the config, one after the other (each account's reads in parallel)."""
    if path is None:
        raise ConfigError(["--config: verify needs your config file"])
    if region is not None and not re.fullmatch(domain.REGION_PATTERN, region):
        raise ConfigError([f"--region: {region!r} is not an AWS region name such as 'us-east-1'"])
    model = config.load_any(path)
    mode = "before-apply" if before_apply else "after-apply"
    # (name, setup, profile, whether the profile is the account's own, role, account id)
    accounts: list[tuple[str | None, DataAccountSetup, str | None, bool, str | None, str | None]]
    if isinstance(model, Fleet):
        accounts = [
            (a.name, a.setup, a.profile or profile, a.profile is not None, a.role_arn, a.account_id)
            for a in model.accounts
        ]
    else:
        accounts = [(None, model, profile, False, None, None)]
    outcomes = []
    for name, setup, account_profile, own_profile, role_arn, account_id in accounts:
        where = region or setup.region
        prefix = f"data_accounts {name}: " if name else ""
        try:
            session = importer.account_session(
                profile=account_profile,
                profile_key="profile" if own_profile else "--profile",
                role_arn=role_arn,
                account_id=account_id,
                region=where,
                command="verify",
            )
        except AwsReadError as exc:
            outcomes.append(
                Outcome(name, account_id or "", where, [], [prefix + p for p in exc.problems])
            )
            continue
        expected = expectations.expect(setup)
        state = live.read(expected, session, where, progress)
        if state.problems:
            problems = [prefix + p for p in state.problems]
            outcomes.append(Outcome(name, state.account_id, where, [], problems))
            continue
        found = (
            checks.before_apply(expected, state, f"--config {path}")
            if before_apply
            else checks.after_apply(expected, state)
        )
        outcomes.append(Outcome(name, state.account_id, where, found, []))
    return Run(mode, isinstance(model, Fleet), outcomes)
