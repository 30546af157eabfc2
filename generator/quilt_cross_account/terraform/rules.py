"""The module's `validation` conditions and `precondition` messages, rendered from the Python
rule tables.

Each rule is written once, in `domain` (bucket names) or `cloudtrail` (trail limits); these
helpers turn a rule into HCL for the templates, so the module cannot drift from the config check.
"""

from __future__ import annotations

import string

from quilt_cross_account import cloudtrail, domain
from quilt_cross_account.terraform import hcl


def bucket_name_validations(variable: str) -> list[tuple[str, str]]:
    """(condition, error_message) of one `validation` block per naming rule, for a
    list(string) variable of bucket names; both are HCL expressions."""
    return [
        (
            f"alltrue([for b in var.{variable} : {rule.condition('b')}])",
            hcl.string(f"{variable}: bucket names {rule.message}."),
        )
        for rule in domain.BUCKET_NAME_RULES
    ]


def optional_bucket_name_condition(variable: str, depth: int = 2) -> str:
    """One condition: a nullable string variable is null or obeys every naming rule.

    Terraform evaluates both sides of `||`, so the rules read the name through `coalesce`.
    """
    name = f'coalesce(var.{variable}, "---")'
    inner = hcl.INDENT * (depth + 1)
    rules = "".join(f"{inner}{rule.condition(name)},\n" for rule in domain.BUCKET_NAME_RULES)
    return f"var.{variable} == null || alltrue([\n{rules}{hcl.INDENT * depth}])"


def limit_message(rule: str, **expressions: str) -> str:
    """The module's error_message (an HCL string) for a CloudTrail limit: the rule's message of
    `cloudtrail.LIMIT_MESSAGES`, with a Terraform expression interpolated for each number (the
    limits themselves are written as constants)."""
    pieces = list(string.Formatter().parse(cloudtrail.LIMIT_MESSAGES[rule] + "."))
    needed = {f for _, f, _, _ in pieces if f is not None and f not in cloudtrail.LIMIT_VALUES}
    if needed != set(expressions):
        raise ValueError(
            f"{rule}: needs expressions for {sorted(needed)}, got {sorted(expressions)}"
        )
    parts = []
    for literal, field, _spec, _conversion in pieces:
        parts.append(_literal(literal))
        if field in cloudtrail.LIMIT_VALUES:
            parts.append(_literal(str(cloudtrail.LIMIT_VALUES[field])))
        elif field is not None:
            parts.append(f"${{{expressions[field]}}}")
    return '"' + "".join(parts) + '"'


def _literal(text: str) -> str:
    """`text` as the inside of an HCL string, safe to put before an interpolation."""
    escaped = hcl.string(text)[1:-1]
    if escaped.endswith(("$", "%")):  # `$` + `${x}` would read as the escape `$${`
        escaped = escaped[:-1] + hcl.code_point_escape(escaped[-1])
    return escaped
