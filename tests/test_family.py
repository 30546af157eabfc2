"""Which CDK family runs the construct (construct/family.py): the rules, and the construct's
two lists of the names it takes from its family."""

from __future__ import annotations

import ast

import pytest
from quilt_cross_account.construct import family

from tests.util import REPO

STACK_SOURCE = REPO / "generator" / "quilt_cross_account" / "construct" / "stack.py"
CDKTF, CDKTN = family.CDKTF, family.CDKTN


def installed(*families: family.Family):
    """A package finder that sees exactly the packages of `families`."""
    present = {package for f in families for package in f.packages}
    return lambda package: package in present


@pytest.mark.parametrize(
    ("present", "setting", "expected"),
    [
        ((CDKTF,), "", CDKTF),
        ((CDKTN,), "", CDKTN),
        ((CDKTF, CDKTN), "", CDKTF),  # the default
        ((CDKTF, CDKTN), "cdktn", CDKTN),
        ((CDKTF, CDKTN), "cdktf", CDKTF),
        ((CDKTN,), " cdktn ", CDKTN),
    ],
)
def test_the_chosen_family(present, setting, expected):
    environ = {family.ENV: setting} if setting else {}
    assert family.chosen(environ, installed(*present)) is expected


@pytest.mark.parametrize(
    ("present", "setting", "message"),
    [
        (
            (),
            "",
            "neither CDK for Terraform nor CDK Terrain is installed: pip install "
            "'quilt-cross-account[cdktf]' (or [cdktn])",
        ),
        (
            (CDKTF,),
            "cdktn",
            "QUILT_CROSS_ACCOUNT_CDK=cdktn: CDK Terrain is not installed "
            "(pip install 'quilt-cross-account[cdktn]')",
        ),
        (
            (CDKTN,),
            "cdktf",
            "QUILT_CROSS_ACCOUNT_CDK=cdktf: CDK for Terraform is not installed "
            "(pip install 'quilt-cross-account[cdktf]')",
        ),
        ((CDKTF, CDKTN), "CDKTF", "QUILT_CROSS_ACCOUNT_CDK='CDKTF': must be one of cdktf, cdktn"),
    ],
)
def test_no_usable_family_is_one_line(present, setting, message):
    environ = {family.ENV: setting} if setting else {}
    with pytest.raises(family.FamilyError) as raised:
        family.chosen(environ, installed(*present))
    assert str(raised.value) == message


def test_half_a_family_is_not_installed():
    # The core without its provider bindings (or the reverse) cannot run the construct.
    assert not family.installed(CDKTN, lambda package: package == CDKTN.core)
    assert not family.installed(CDKTN, lambda package: package == CDKTN.provider)


def _type_checking_imports() -> dict[str, tuple[str, ...]]:
    """construct/stack.py's imports under `if TYPE_CHECKING:`, as CONSTRUCT_NAMES spells them."""
    tree = ast.parse(STACK_SOURCE.read_text("utf-8"))
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    )
    found: dict[str, list[str]] = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.module is not None
        package, _, submodule = node.module.partition(".")
        assert package in CDKTF.packages, node.module
        for alias in node.names:
            assert alias.asname in (None, alias.name), alias.asname  # bound under its own name
            found.setdefault(submodule, []).append(alias.name)
    return {submodule: tuple(sorted(names)) for submodule, names in found.items()}


def test_the_construct_binds_at_run_time_what_mypy_checks():
    """stack.py's two lists (type-checking imports, CONSTRUCT_NAMES bound at run time) agree."""
    expected = {k: tuple(sorted(v)) for k, v in family.CONSTRUCT_NAMES.items()}
    assert _type_checking_imports() == expected


def test_the_families_packages_are_all_guarded():
    assert set(family.PACKAGES) == {
        "cdktf",
        "cdktf_cdktf_provider_aws",
        "cdktn",
        "cdktn_provider_aws",
        "jsii",
        "constructs",
    }
