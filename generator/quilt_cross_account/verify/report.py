"""How a verify run is shown: one line per check (and its fix) for people, or one JSON
document for machines (schema: README, `verify --json`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from quilt_cross_account.verify.checks import Check

SCHEMA_VERSION = 1
MARKS = {"pass": "PASS", "fail": "FAIL", "not-checked": "SKIP"}


def summary(checks: Sequence[Check]) -> dict[str, int]:
    counts = {"pass": 0, "fail": 0, "not-checked": 0}
    for check in checks:
        counts[check.status] += 1
    return counts


def text(checks: Sequence[Check]) -> list[str]:
    lines = []
    for check in checks:
        lines.append(f"{MARKS[check.status]}  {check.subject}: {check.id}: {check.detail}")
        if check.fix:
            lines.append(f"      fix: {check.fix}")
    counts = summary(checks)
    lines.append(
        f"{len(checks)} checks: {counts['pass']} passed, {counts['fail']} failed, "
        f"{counts['not-checked']} not checked"
    )
    return lines


def document(
    mode: str, account_id: str, region: str, checks: Sequence[Check], errors: Sequence[str]
) -> str:
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "mode": mode,
        "account_id": account_id or None,
        "region": region,
        "summary": summary(checks),
        "checks": [
            {
                "id": c.id,
                "subject": c.subject,
                "status": c.status,
                "detail": c.detail,
                "fix": c.fix or None,
            }
            for c in checks
        ],
        "errors": list(errors),
    }
    return json.dumps(doc, indent=2)
