"""The module's `validation` conditions and messages, rendered from the Python rule tables.

Each rule is written once, in `domain` (bucket names) or `cloudtrail` (trail limits); these
helpers turn a rule into HCL for the templates, so the module cannot drift from the config check.
"""

from __future__ import annotations

from quilt_cross_account import domain
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
