"""The two renderers agree: Terraform core plans the HCL module (called as the generator's root
does) and the CDK stack (cdk.tf.json, synthesized by each CDK family: `cdk`) for the same
config, and both plans hold the same resource values and outputs."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from quilt_cross_account import config, writer
from quilt_cross_account.construct import family
from quilt_cross_account.model import DataAccountSetup
from quilt_cross_account.terraform import render

from tests.cdktf_fixtures import PROVIDER_PINS, synthesized, terraform_config
from tests.standin.harness import Terraform
from tests.test_shards import SHARDED
from tests.test_terraform_module import ALL_OUTPUTS, OWNED, buckets
from tests.util import EXAMPLES, KMS_KEY_ARN, OWNER_STATEMENT, TOPIC_ARN, gallery

OWNER = {**OWNER_STATEMENT, "Condition": {"StringLike": {"aws:UserAgent": "${aws:username} <&>"}}}
TOPIC = TOPIC_ARN
KEY = KMS_KEY_ARN


def trail(**settings: Any) -> dict[str, Any]:
    return {"log_bucket_name": "quilt-logs-bucket", **settings}


# Every config of the gallery (examples/*.toml), then the edge cases it does not show.
# (Fleet configs, one root and stack per account: tests/test_fleet.py.)
GALLERY = sorted(path.stem for path in EXAMPLES.glob("*.toml") if path.stem != "fleet")
CONFIGS: dict[str, dict[str, Any]] = {
    "3-buckets-2-accounts-advanced": {
        "control_account_ids": ["111122223333", "444455556666"],
        "buckets": ["b-one", "b.two", "3rd-bucket"],
        "action_set": "extended",
        "cloudtrail": trail(
            selector_style="advanced", read_write_type="ReadOnly", include_management_events=True
        ),
    },
    "1-bucket-basic": {
        "control_account_ids": ["111122223333"],
        "buckets": buckets(1),
        "cloudtrail": trail(selector_style="basic"),
    },
    "1-bucket-advanced": {
        "control_account_ids": ["111122223333"],
        "buckets": buckets(1),
        "cloudtrail": trail(selector_style="advanced"),
    },
    "250-buckets-basic": {
        "control_account_ids": ["111122223333"],
        "buckets": buckets(250),
        "cloudtrail": trail(),
    },
    "250-buckets-advanced": {
        "control_account_ids": ["111122223333"],
        "buckets": buckets(250),
        "cloudtrail": trail(selector_style="advanced"),
    },
    "400-buckets-auto": {
        "control_account_ids": ["111122223333"],
        "buckets": buckets(400),
        "partition": "aws-us-gov",
        "region": "us-gov-west-1",
        "cloudtrail": trail(kms_key_arn="arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/abc"),
    },
    "400-buckets-external": {
        "control_account_ids": ["111122223333"],
        "buckets": buckets(400),
        "cloudtrail": {
            "mode": "external",
            "log_bucket_name": "existing-logs",
            "extra_advanced_event_selectors": [
                {
                    "name": "lambda",
                    "field_selectors": [
                        {"field": "eventCategory", "equals": ["Data"]},
                        {"field": "resources.type", "equals": ["AWS::Lambda::Function"]},
                    ],
                }
            ],
        },
    },
    "existing-log-bucket-basic-extras": {
        "control_account_ids": ["111122223333"],
        "buckets": buckets(3),
        "tags": {"team": "data x", "caf\u00e9 \u00fc": "q + - = . _ : / @ \u2028 a"},
        "cloudtrail": trail(
            create_log_bucket=False,
            is_multi_region_trail=False,
            extra_event_selectors=[
                {"read_write_type": "WriteOnly", "include_management_events": True},
                # Text both syntaxes must carry exactly: templates, escapes, non-ASCII, an
                # inner BOM (tags may not hold these: AWS's tag rule).
                {
                    "read_write_type": "ReadOnly",
                    "data_resources": [
                        {
                            "type": "AWS::Lambda::Function",
                            "values": ['data ${x} %{if y} q"\\ \u2028 <&> a\ufeff \U0001f600'],
                        }
                    ],
                },
            ],
        ),
    },
    "merged-policy-sns-kms": {
        "control_account_ids": ["111122223333"],
        "buckets": [
            {"name": "data-one", "existing_policy": "POLICY"},
            {"name": "data.two", "sns_topic_arn": TOPIC, "kms_key_arn": KEY},
        ],
        "grant_notification_actions": False,
        "cloudtrail": {"mode": "none"},
    },
    "statement-only-no-trail": {
        "control_account_ids": ["111122223333"],
        "buckets": ["data-one", {"name": "data.two", "sns_topic_arn": TOPIC}],
        "policy_mode": "statement-only",
        "cloudtrail": {"mode": "none"},
    },
    # Two trails (tests/test_shards.py synthesizes the same model: one synthesis per session).
    "sharded-2-trails": SHARDED,
}
NAMES = [*GALLERY, *CONFIGS]


def model_for(name: str, work: Path) -> DataAccountSetup:
    if name in GALLERY:
        return config.load(gallery(name))
    raw = json.loads(json.dumps(CONFIGS[name]))
    for bucket in raw["buckets"]:
        if isinstance(bucket, dict) and bucket.get("existing_policy") == "POLICY":
            path = work / "policy.json"
            path.write_text(json.dumps({"Version": "2012-10-17", "Statement": [OWNER]}))
            bucket["existing_policy"] = str(path)
    return config.validate(raw)


def resource_values(module: dict[str, Any]) -> list[tuple[str, str]]:
    """(type, values) of every managed resource, child modules included, in a canonical order."""
    found = [
        (r["type"], json.dumps(r["values"], sort_keys=True))
        for r in module.get("resources", [])
        if r["mode"] == "managed"
    ]
    for child in module.get("child_modules", []):
        found.extend(resource_values(child))
    return sorted(found)


def bucket_count(name: str) -> int:
    if name in GALLERY:
        return len(config.load(gallery(name)).buckets)
    return len(CONFIGS[name]["buckets"])


# Every config on the default CDK family; on the other, those of at most 10 buckets: the stacks
# of hundreds of buckets take seconds each to synthesize and plan, and run the same code at
# scale (the families' stacks are the same JSON but for the provider pins: test_stack.py).
AT_SCALE = 10
CASES = [
    pytest.param(cdk, name, id=f"{cdk}-{name}")
    for cdk in family.FAMILIES
    for name in NAMES
    if cdk == family.DEFAULT.name or bucket_count(name) <= AT_SCALE
]


@pytest.fixture(scope="module")
def family_terraform(terraform: Terraform) -> Iterator[Callable[[str], Terraform]]:
    """The harness that plans the module and a CDK family's stack. The default family's: the
    session's. Another family's stack pins another provider version exactly (CDK Terrain:
    6.69.1): both are planned against that version's stand-in schema (planned values follow the
    schema), installed from a filesystem mirror, so Terraform resolves the pin as it would from a
    registry."""
    others: dict[str, Terraform] = {}

    def harness(cdk: str) -> Terraform:
        if cdk == family.DEFAULT.name:
            return terraform
        if cdk not in others:
            version = PROVIDER_PINS[cdk]["version"]
            others[cdk] = Terraform(provider_version=version, mirror=True)
        return others[cdk]

    yield harness
    for each in others.values():
        each.close()


@pytest.fixture(scope="module")
def plans(family_terraform: Callable[[str], Terraform]):
    """(module plan, stack plan) of a config on a CDK family's harness."""
    cache: dict[tuple[str, str], tuple[dict, dict]] = {}

    def plan(name: str, cdk: str) -> tuple[dict, dict]:
        if (name, cdk) not in cache:
            harness = family_terraform(cdk)
            work = Path(tempfile.mkdtemp(prefix=f"parity-{cdk}-", dir=harness.base / "work"))
            model = model_for(name, work)
            writer.write(work, render.render(model), OWNED)
            root = work / render.ROOT_DIR
            (root / "all_outputs.tf").write_text(ALL_OUTPUTS)
            stack_dir = work / "stack"
            stack_dir.mkdir()
            (stack_dir / "cdk.tf.json").write_text(
                json.dumps(terraform_config(synthesized(model, cdk)[2]))
            )
            cache[name, cdk] = (harness.plan(root), harness.plan(stack_dir))
        return cache[name, cdk]

    return plan


@pytest.mark.parametrize(("cdk", "name"), CASES, indirect=["cdk"])
def test_module_and_stack_plan_the_same_resources(plans, name, cdk):
    module_plan, stack_plan = plans(name, cdk)
    module_resources = resource_values(module_plan["planned_values"]["root_module"])
    stack_resources = resource_values(stack_plan["planned_values"]["root_module"])
    assert module_resources, "nothing planned"
    assert [t for t, _ in stack_resources] == [t for t, _ in module_resources]
    for (rtype, ours), (_, theirs) in zip(module_resources, stack_resources, strict=True):
        assert json.loads(theirs) == json.loads(ours), rtype


@pytest.mark.parametrize(("cdk", "name"), CASES, indirect=["cdk"])
def test_module_and_stack_have_the_same_outputs(plans, name, cdk):
    module_plan, stack_plan = plans(name, cdk)
    module_outputs = module_plan["output_changes"]["module"]["after"]
    # after_unknown is False when nothing is unknown, else a map of the unknown outputs.
    module_unknown = module_plan["output_changes"]["module"]["after_unknown"] or {}
    stack_changes = stack_plan["output_changes"]
    assert set(stack_changes) == set(module_outputs) | {
        k for k, v in module_unknown.items() if v is True
    }
    for key, change in stack_changes.items():
        if change["after_unknown"] is True:
            assert module_unknown.get(key) is True, key
        else:
            assert change["after"] == module_outputs[key], key
