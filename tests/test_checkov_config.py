"""The checkov skips: every one has a reason, and the stack skips what the module skips."""

from __future__ import annotations

import re

from tests.util import REPO

INLINE = re.compile(r"#\s*checkov:skip=(CKV2?_AWS_\d+):\s*(\S.*)$", re.M)
LISTED = re.compile(r"^\s*-\s*(CKV2?_AWS_\d+)\s*(?:#\s*(.*))?$", re.M)


def module_skips() -> dict[str, str]:
    text = "".join(p.read_text() for p in (REPO / "modules" / "quilt-cross-account").glob("*.tf"))
    return dict(INLINE.findall(text))


def stack_skips() -> dict[str, str]:
    return dict(LISTED.findall((REPO / ".checkov" / "stack.yaml").read_text()))


def test_every_skip_gives_a_reason():
    for check, reason in {**module_skips(), **stack_skips()}.items():
        assert len(reason.split()) >= 5, (check, reason)


def test_the_stack_skips_what_the_module_skips_and_only_the_kms_defaults_beyond():
    module, stack = module_skips(), stack_skips()
    assert len(module) == 6
    assert set(module) <= set(stack)
    # The module's KMS settings are variables checkov cannot see; the example stack is concrete.
    assert set(stack) - set(module) == {"CKV_AWS_35", "CKV_AWS_145"}
    for check in module:
        assert stack[check].split(";")[0] in module[check]
