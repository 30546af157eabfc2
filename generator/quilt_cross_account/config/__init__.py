"""Stage 1: read a TOML config (plus CLI overrides), check every rule, build the validated model.

`loader` reads and validates; `fields` has the typed readers of raw tables; `bucket_tables` and
`selector_tables` read the `buckets` list and the CloudTrail selector tables; `fleet` reads a
config of many data accounts (`[[data_accounts]]`) with the same rules per account.
"""

from quilt_cross_account.config.fleet import load_any
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
    "load_any",
    "read_config",
    "validate",
]
