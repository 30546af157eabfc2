"""Which CDK family runs the construct: CDK for Terraform (cdktf) or CDK Terrain (cdktn).

CDK Terrain is cdktf's community continuation with the same Python API under other package
names, so the construct is written once and binds its names from the family chosen here, once
per process, when `construct.stack` is imported:

- $QUILT_CROSS_ACCOUNT_CDK (`cdktf` or `cdktn`) when set; the family it names must be installed;
- else the one family installed, cdktf when both are (the project's default);
- neither installed: a one-line `FamilyError`.

Cheap: this finds packages without importing them (nothing of jsii is loaded here).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

ENV = "QUILT_CROSS_ACCOUNT_CDK"


@dataclass(frozen=True)
class Family:
    name: str  # the value of $QUILT_CROSS_ACCOUNT_CDK, and the pip extra
    title: str
    core: str  # the core package (App, TerraformStack, Testing, ...)
    provider: str  # the prebuilt AWS provider bindings
    cli: str  # the npm package of its CLI
    # cdktf's provider package imports all ~2,200 submodules on import: the app registers it
    # with lazy submodules first (construct/bindings.py); cdktn's package is lazy already.
    eager_provider: bool

    @property
    def packages(self) -> tuple[str, str]:
        return (self.core, self.provider)

    def import_names(self, names: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
        """Name -> object, from `{provider submodule ("" for the core package): names}`."""
        found: dict[str, Any] = {}
        for submodule, wanted in names.items():
            module = importlib.import_module(
                f"{self.provider}.{submodule}" if submodule else self.core
            )
            found.update((name, getattr(module, name)) for name in wanted)
        return found


CDKTF = Family(
    name="cdktf",
    title="CDK for Terraform",
    core="cdktf",
    provider="cdktf_cdktf_provider_aws",
    cli="cdktf-cli",
    eager_provider=True,
)
CDKTN = Family(
    name="cdktn",
    title="CDK Terrain",
    core="cdktn",
    provider="cdktn_provider_aws",
    cli="cdktn-cli",
    eager_provider=False,
)
FAMILIES = {family.name: family for family in (CDKTF, CDKTN)}  # the default first
DEFAULT = CDKTF
# Every top-level package of either family, and what both load (for the guards that prove
# `generate` never loads jsii: tests/markers.py).
PACKAGES = (*(p for family in FAMILIES.values() for p in family.packages), "jsii", "constructs")

# What construct/stack.py takes from its family: {provider submodule ("" for the core package):
# names}. The same names as its imports for type checking (tests/test_family.py).
CONSTRUCT_NAMES: dict[str, tuple[str, ...]] = {
    "": ("App", "TerraformOutput", "TerraformStack", "Testing", "Token"),
    "cloudtrail": (
        "Cloudtrail",
        "CloudtrailAdvancedEventSelector",
        "CloudtrailAdvancedEventSelectorFieldSelector",
        "CloudtrailEventSelector",
        "CloudtrailEventSelectorDataResource",
    ),
    "data_aws_caller_identity": ("DataAwsCallerIdentity",),
    "provider": ("AwsProvider", "AwsProviderAssumeRole"),
    "s3_bucket": ("S3Bucket",),
    "s3_bucket_ownership_controls": ("S3BucketOwnershipControls", "S3BucketOwnershipControlsRule"),
    "s3_bucket_policy": ("S3BucketPolicy",),
    "s3_bucket_public_access_block": ("S3BucketPublicAccessBlock",),
    "s3_bucket_server_side_encryption_configuration": (
        "S3BucketServerSideEncryptionConfigurationA",
        "S3BucketServerSideEncryptionConfigurationRuleA",
        "S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA",
    ),
    "s3_bucket_versioning": ("S3BucketVersioningA", "S3BucketVersioningVersioningConfiguration"),
    "sns_topic_policy": ("SnsTopicPolicy",),
}


class FamilyError(ImportError):
    """No usable CDK family: one line saying what to install or set."""


def _has_package(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def installed(family: Family, has_package: Callable[[str], bool] = _has_package) -> bool:
    return all(has_package(package) for package in family.packages)


def chosen(
    environ: Mapping[str, str] = os.environ,
    has_package: Callable[[str], bool] = _has_package,
) -> Family:
    """The family this process uses (module docstring); FamilyError if there is none."""
    setting = environ.get(ENV, "").strip()
    if setting:
        family = FAMILIES.get(setting)
        if family is None:
            raise FamilyError(f"{ENV}={setting!r}: must be one of {', '.join(FAMILIES)}")
        if not installed(family, has_package):
            raise FamilyError(
                f"{ENV}={setting}: {family.title} is not installed "
                f"(pip install 'quilt-cross-account[{family.name}]')"
            )
        return family
    for family in FAMILIES.values():
        if installed(family, has_package):
            return family
    raise FamilyError(
        "neither CDK for Terraform nor CDK Terrain is installed: pip install "
        f"'quilt-cross-account[{CDKTF.name}]' (or [{CDKTN.name}])"
    )
