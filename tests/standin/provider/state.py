"""The configured provider: region, default tags, account."""

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

    def configure(self, config: Config) -> None:
        if known(config.get("region")):
            self.region = config["region"]
        for block in config.get("default_tags") or []:
            self.default_tags.update(block.get("tags") or {})

    @property
    def account_id(self) -> str:
        return os.environ.get(ACCOUNT_ENV, DEFAULT_ACCOUNT)

    def region_of(self, value: dict) -> str:
        region = value.get("region")
        return region if isinstance(region, str) and region else self.region
