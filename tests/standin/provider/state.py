"""The configured provider: region, default tags, account (and its allowed_account_ids check)."""

from __future__ import annotations

import os

from tf.iface import Config

from tests.standin.provider.values import known

ACCOUNT_ENV = "STANDIN_ACCOUNT_ID"
DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"


class ProviderState:
    """The configured provider: region, default tags, account."""

    def __init__(self) -> None:
        self.region = DEFAULT_REGION
        self.default_tags: dict[str, str] = {}
        self.assumed_account: str | None = None
        self.allowed_account_ids: list[str] | None = None
        self.forbidden_account_ids: list[str] = []

    def configure(self, config: Config) -> None:
        if known(config.get("region")):
            self.region = config["region"]
        for block in config.get("default_tags") or []:
            self.default_tags.update(block.get("tags") or {})
        # Credentials of an assumed role are that role's account's (arn:p:iam::<account>:role/n).
        for block in config.get("assume_role") or []:
            role = block.get("role_arn")
            if known(role) and role and len(role.split(":")) > 4:
                self.assumed_account = role.split(":")[4]
        allowed = config.get("allowed_account_ids")
        if known(allowed):
            self.allowed_account_ids = sorted(allowed)
        forbidden = config.get("forbidden_account_ids")
        if known(forbidden):
            self.forbidden_account_ids = sorted(forbidden)

    def account_problem(self) -> str | None:
        """The real provider's check of the caller's account, made before any plan."""
        if self.allowed_account_ids is not None and self.account_id not in self.allowed_account_ids:
            return f"AWS account ID not allowed: {self.account_id}"
        if self.account_id in self.forbidden_account_ids:
            return f"forbidden AWS account ID: {self.account_id}"
        return None

    @property
    def account_id(self) -> str:
        if self.assumed_account is not None:
            return self.assumed_account
        return os.environ.get(ACCOUNT_ENV, DEFAULT_ACCOUNT)

    def region_of(self, value: dict) -> str:
        region = value.get("region")
        return region if isinstance(region, str) and region else self.region
