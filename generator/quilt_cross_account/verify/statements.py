"""Reading live policy statements: canonical forms to compare them, and whether a policy lets a
principal do an action on a resource.

AWS stores a policy in its own spelling (a one-element list may come back as a string, an
account id as its root ARN, keys in any order), so statements are compared in one canonical
form. The grant check is deliberately conservative: it follows Allow and unconditional Deny
statements with `*`/`?` wildcards; NotPrincipal/NotAction/NotResource grant nothing in an Allow
and, in a Deny, take away everything they do not name; conditions on an Allow are not
evaluated (the checks say so where it matters).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from quilt_cross_account import domain

Statement = Mapping[str, Any]

# Keys whose values are unordered sets in IAM's grammar.
_SET_KEYS = frozenset({"Action", "NotAction", "Resource", "NotResource"})
_ACCOUNT_ID = re.compile(domain.ACCOUNT_ID_PATTERN)


def statements(policy: Mapping[str, Any] | None) -> list[Statement]:
    """A policy's statements; a lone statement object counts as a list of one."""
    if policy is None:
        return []
    found = policy.get("Statement", [])
    items = found if isinstance(found, list) else [found]
    return [s for s in items if isinstance(s, Mapping)]


def canonical(statement: Statement, partition: str) -> str:
    """One string per meaning: equal for two spellings AWS treats as the same statement."""
    return json.dumps(_canonical_value(statement, partition, None), sort_keys=True)


def _canonical_value(value: Any, partition: str, key: str | None) -> Any:
    if isinstance(value, Mapping):
        return {k: _canonical_value(v, partition, k) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical_value(v, partition, key) for v in value]
        unique = sorted({json.dumps(v, sort_keys=True): v for v in items}.items())
        values = [v for _, v in unique]
        return values[0] if len(values) == 1 else values
    if key == "AWS" and isinstance(value, str) and _ACCOUNT_ID.fullmatch(value):
        return domain.account_root_arn(partition, value)
    if key in ("Action", "NotAction") and isinstance(value, str):
        return value.lower()  # IAM action names are case-insensitive
    return value


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def principals(statement: Statement, kind: str, partition: str, key: str = "Principal") -> set[str]:
    """The statement's principals (or NotPrincipals) of one kind ("AWS", "Service"), account
    ids as root ARNs; a bare "*" counts as everyone of every kind."""
    found = statement.get(key)
    if found == "*":
        return {"*"}
    if not isinstance(found, Mapping):
        return set()
    values = {str(v) for v in as_list(found.get(kind, []))}
    if kind == "AWS":
        return {
            domain.account_root_arn(partition, v) if _ACCOUNT_ID.fullmatch(v) else v for v in values
        }
    return values


def wildcard_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM's `*` and `?` wildcards (no character classes)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = re.IGNORECASE if ignore_case else 0
    return re.fullmatch(regex, value, flags | re.DOTALL) is not None


def _covers(
    statement: Statement, who: str, kind: str, action: str, resource: str, partition: str
) -> bool:
    """Whether the statement applies to `who` doing `action` on `resource`. A Deny applies to
    everything its NotPrincipal/NotAction/NotResource does not name; an Allow with one of them
    is not counted (never a false pass)."""
    if statement.get("Effect") != "Deny" and any(
        key in statement for key in ("NotPrincipal", "NotAction", "NotResource")
    ):
        return False
    return (
        _names_principal(statement, who, kind, partition)
        and _names(statement, "Action", action, ignore_case=True)
        and _names(statement, "Resource", resource)
    )


def _names_principal(statement: Statement, who: str, kind: str, partition: str) -> bool:
    """Whether the statement's principals include `who`. Quilt acts through roles of the
    control account (`who` is its root): a Deny naming any principal of that account may
    take Quilt's access away, and one sparing any of them (NotPrincipal) may spare it."""
    key = "NotPrincipal" if "NotPrincipal" in statement else "Principal"
    named = principals(statement, kind, partition, key)
    if kind == "AWS" and statement.get("Effect") == "Deny":
        account = who.split(":")[4]
        hit = bool(named & {"*", who}) or any(_account_of(p) == account for p in named)
    elif kind == "AWS" and "Condition" in statement:
        # Everyone on a condition (SNS's default policy: if the caller owns the topic) is
        # not a grant to this account.
        hit = who in named
    else:
        hit = bool(named & {"*", who})
    return hit if key == "Principal" else not hit


def _account_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[0] == "arn" else None


def _names(statement: Statement, key: str, value: str, ignore_case: bool = False) -> bool:
    excluded = f"Not{key}" in statement
    patterns = [str(p) for p in as_list(statement.get(f"Not{key}" if excluded else key, []))]
    return excluded != any(wildcard_match(p, value, ignore_case) for p in patterns)


def allows(
    policy: Mapping[str, Any] | None,
    who: str,
    action: str,
    resource: str,
    partition: str,
    kind: str = "AWS",
) -> bool:
    """Whether the policy allows `who` (a root ARN, or a service with kind="Service") `action`
    on `resource`, and no unconditional Deny takes it away."""
    found = statements(policy)
    allowed = any(
        s.get("Effect") == "Allow" and _covers(s, who, kind, action, resource, partition)
        for s in found
    )
    denied = any(
        s.get("Effect") == "Deny"
        and "Condition" not in s
        and _covers(s, who, kind, action, resource, partition)
        for s in found
    )
    return allowed and not denied


def missing_grants(
    policy: Mapping[str, Any] | None,
    accounts: Sequence[str],
    actions: Iterable[str],
    resource: str,
    partition: str,
) -> list[str]:
    """`account: action` for every control account and action the policy does not allow."""
    return [
        f"{account}: {action}"
        for account in accounts
        for action in actions
        if not allows(
            policy, domain.account_root_arn(partition, account), action, resource, partition
        )
    ]
