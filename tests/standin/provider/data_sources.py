"""The data sources the module reads: caller identity, partition, region, policy documents."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from tests.standin.provider.iam import PolicyError, policy_document
from tests.standin.provider.resources import apply_defaults
from tests.standin.provider.state import ProviderState
from tests.standin.provider.values import Spec, dns_suffix, partition_of


def read_caller_identity(provider: ProviderState, config: dict) -> dict[str, Any]:
    account = provider.account_id
    partition = partition_of(provider.region)
    return {
        "account_id": account,
        "arn": f"arn:{partition}:iam::{account}:user/standin",
        "id": account,
        "user_id": "AIDASTANDINUSER000001",
    }


def read_partition(provider: ProviderState, config: dict) -> dict[str, Any]:
    partition = partition_of(provider.region)
    reverse = "cn.com.amazonaws" if partition == "aws-cn" else "com.amazonaws"
    return {
        "partition": partition,
        "id": partition,
        "dns_suffix": dns_suffix(partition),
        "reverse_dns_prefix": reverse,
    }


_REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "Europe (Ireland)",
    "eu-central-1": "Europe (Frankfurt)",
    "us-gov-west-1": "AWS GovCloud (US-West)",
    "cn-north-1": "China (Beijing)",
}


def read_region(provider: ProviderState, config: dict) -> dict[str, Any]:
    region = config.get("region") or config.get("name") or provider.region
    return {
        "region": region,
        "name": region,
        "id": region,
        "description": _REGION_NAMES.get(region, region),
        "endpoint": config.get("endpoint") or f"ec2.{region}.{dns_suffix(partition_of(region))}",
    }


def read_policy_document(provider: ProviderState, config: dict) -> dict[str, Any]:
    return policy_document(config)


DATA_READERS: dict[str, Callable[[ProviderState, dict], dict[str, Any]]] = {
    "aws_caller_identity": read_caller_identity,
    "aws_partition": read_partition,
    "aws_region": read_region,
    "aws_iam_policy_document": read_policy_document,
}


def read_data(provider: ProviderState, type_name: str, spec: Spec, config: dict) -> dict:
    state = copy.deepcopy(config)
    apply_defaults(spec, state)
    reader = DATA_READERS.get(type_name)
    if reader is None:
        raise PolicyError(f"the stand-in provider cannot read data source {type_name}")
    state.update(reader(provider, state))
    for name in spec["attributes"]:
        state.setdefault(name, None)
    return state
