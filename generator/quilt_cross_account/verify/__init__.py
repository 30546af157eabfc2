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
from quilt_cross_account.errors import ConfigError
from quilt_cross_account.verify import checks, expectations, live


@dataclass(frozen=True)
class Outcome:
    mode: str  # "after-apply" | "before-apply"
    account_id: str
    region: str
    checks: list[checks.Check]
    errors: list[str]  # AWS reads that failed: nothing was judged

    @property
    def failed(self) -> bool:
        return any(c.status == "fail" for c in self.checks)


def run(
    path: Path | None,
    profile: str | None,
    region: str | None,
    before_apply: bool,
    progress: TextIO | None = None,
) -> Outcome:
    if path is None:
        raise ConfigError(["--config: verify needs your config file"])
    if region is not None and not re.fullmatch(domain.REGION_PATTERN, region):
        raise ConfigError([f"--region: {region!r} is not an AWS region name such as 'us-east-1'"])
    model = config.load(path)
    expected = expectations.expect(model)
    where = region or model.region
    session = importer.session(profile, where, "verify")
    state = live.read(expected, session, where, progress)
    mode = "before-apply" if before_apply else "after-apply"
    if state.problems:
        return Outcome(mode, state.account_id, where, [], state.problems)
    found = (
        checks.before_apply(expected, state, f"--config {path}")
        if before_apply
        else checks.after_apply(expected, state)
    )
    return Outcome(mode, state.account_id, where, found, [])
