"""Stage 1: read a TOML config (plus CLI overrides), check every rule, build the validated model.

`loader` reads and validates; `fields` has the typed readers of raw tables; `bucket_tables` and
`selector_tables` read the `buckets` list and the CloudTrail selector tables.
"""

from quilt_cross_account.config.loader import (
    EXAMPLE_CONFIG,
    example_config_text,
    load,
    read_config,
    validate,
)
from quilt_cross_account.errors import ConfigError

__all__ = [
    "EXAMPLE_CONFIG",
    "ConfigError",
    "example_config_text",
    "load",
    "read_config",
    "validate",
]
