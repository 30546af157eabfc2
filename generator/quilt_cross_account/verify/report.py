"""How a verify run is shown: one line per check (and its fix) for people, or one JSON
document for machines (schema: README, `verify --json`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from quilt_cross_account.verify.checks import Check

if TYPE_CHECKING:
    from quilt_cross_account.verify import Outcome, Run

SCHEMA_VERSION = 1
MARKS = {"pass": "PASS", "fail": "FAIL", "not-checked": "SKIP"}


def summary(checks: Sequence[Check]) -> dict[str, int]:
    counts = {"pass": 0, "fail": 0, "not-checked": 0}
    for check in checks:
        counts[check.status] += 1
    return counts


def text(run: Run) -> list[str]:
    """A line per check and its fix; in a fleet, a heading per account; a total last."""
    lines = []
    every: list[Check] = []
    for outcome in run.outcomes:
        if run.fleet:
            lines.append(f"== data account {outcome.name} ({outcome.account_id or '?'})")
        if outcome.errors:
            lines.append(f"not checked: {len(outcome.errors)} read(s) failed (stderr says which)")
        for check in outcome.checks:
            lines.append(f"{MARKS[check.status]}  {check.subject}: {check.id}: {check.detail}")
            if check.fix:
                lines.append(f"      fix: {check.fix}")
        every += outcome.checks
    counts = summary(every)
    lines.append(
        f"{len(every)} checks: {counts['pass']} passed, {counts['fail']} failed, "
        f"{counts['not-checked']} not checked"
        + (f" in {len(run.outcomes)} data accounts" if run.fleet else "")
    )
    return lines


def document(run: Run) -> str:
    """One JSON document: a single account's fields at the top, or a fleet's per account."""
    accounts = [_account(outcome) for outcome in run.outcomes]
    head: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "mode": run.mode}
    if not run.fleet:
        [account] = accounts
        del account["name"]
        return json.dumps({**head, **account}, indent=2)
    every = [c for outcome in run.outcomes for c in outcome.checks]
    doc = {**head, "summary": summary(every), "accounts": accounts, "errors": run.errors}
    return json.dumps(doc, indent=2)


def _account(outcome: Outcome) -> dict[str, Any]:
    return {
        "name": outcome.name,
        "account_id": outcome.account_id or None,
        "region": outcome.region,
        "summary": summary(outcome.checks),
        "checks": [
            {
                "id": c.id,
                "subject": c.subject,
                "status": c.status,
                "detail": c.detail,
                "fix": c.fix or None,
            }
            for c in outcome.checks
        ],
        "errors": list(outcome.errors),
    }
