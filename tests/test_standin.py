"""The Terraform-core harness itself: schema snapshot, served schema, lifecycle, diagnostics."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.standin.extract_schema import KINDS, OVERLAY, read_type_list
from tests.standin.harness import Terraform, TerraformError
from tests.standin.provider import gojson, iam

ROOT = Path(__file__).resolve().parent.parent
STANDIN = ROOT / "tests" / "standin"
TESTDATA = STANDIN / "testdata"
SCHEMA = json.loads((STANDIN / "schema.json").read_text())
KIND_OF_MODE = {"managed": "resource", "data": "data"}


def served_types(schema: dict[str, Any]) -> set[tuple[str, str]]:
    """(kind, name) of every type a schema document describes."""
    return (
        {("provider", "aws")}
        | {("resource", name) for name in schema["resources"]}
        | {("data", name) for name in schema["data_sources"]}
    )


def core_view(block: dict[str, Any]) -> dict[str, Any]:
    """A schema block as Terraform sees it: no descriptions, no overlay-only facts."""
    attributes = {
        name: {k: v for k, v in attr.items() if k in ("type", "required", "optional", "computed")}
        for name, attr in block.get("attributes", {}).items()
    }
    blocks = {
        name: {
            "nesting_mode": nested["nesting_mode"],
            "min_items": nested.get("min_items", 0),
            "max_items": nested.get("max_items", 0),
            "block": core_view(nested["block"]),
        }
        for name, nested in block.get("block_types", {}).items()
    }
    return {"attributes": attributes, "block_types": blocks}


def error_at(diagnostics: list[dict[str, Any]], filename: str, line: int) -> dict[str, Any]:
    """The error diagnostic reported at filename:line (fails listing all if there is none)."""
    for diag in diagnostics:
        if diag["severity"] == "error" and (diag["filename"], diag["line"]) == (filename, line):
            return diag
    raise AssertionError(f"no error at {filename}:{line} in {diagnostics}")


# --------------------------------------------------------------------------- (a), (b) schema


@pytest.mark.cdktf  # a child process reads the provider bindings' jsii tarball
def test_schema_snapshot_matches_a_fresh_extraction() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.standin.extract_schema", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_snapshot_has_exactly_the_listed_types() -> None:
    assert served_types(SCHEMA) == set(read_type_list())


def test_overlay_only_names_listed_kinds() -> None:
    assert {key.split()[0] for key in OVERLAY} <= set(KINDS)


def test_served_schema_is_the_snapshot(terraform: Terraform) -> None:
    work = terraform.copy_to_temp(TESTDATA / "all_types")
    (served,) = terraform.providers_schema(work)["provider_schemas"].values()
    assert {("provider", "aws")} | {("resource", n) for n in served["resource_schemas"]} | {
        ("data", n) for n in served["data_source_schemas"]
    } == set(read_type_list())
    assert core_view(served["provider"]["block"]) == core_view(SCHEMA["provider"]["block"])
    for kind, key in (("resources", "resource_schemas"), ("data_sources", "data_source_schemas")):
        for name, entry in SCHEMA[kind].items():
            assert core_view(served[key][name]["block"]) == core_view(entry["block"]), name


def test_nesting_modes_beyond_tf_sets_are_served(terraform: Terraform) -> None:
    work = terraform.copy_to_temp(TESTDATA / "all_types")
    (served,) = terraform.providers_schema(work)["provider_schemas"].values()
    resources = served["resource_schemas"]
    rule = resources["aws_s3_bucket_ownership_controls"]["block"]["block_types"]["rule"]
    assert (rule["nesting_mode"], rule["min_items"], rule["max_items"]) == ("list", 1, 1)
    selector = resources["aws_cloudtrail"]["block"]["block_types"]["event_selector"]
    assert (selector["nesting_mode"], selector["max_items"]) == ("list", 5)
    timeouts = resources["aws_s3_bucket"]["block"]["block_types"]["timeouts"]
    assert timeouts["nesting_mode"] == "single"


# --------------------------------------------------------------------------- (c) lifecycle


def test_every_type_validates_plans_applies_and_settles(terraform: Terraform) -> None:
    work = terraform.copy_to_temp(TESTDATA / "all_types")
    assert terraform.validate(work) == []

    plan = terraform.plan(work)
    read_at_plan = plan["prior_state"]["values"]["root_module"]["resources"]
    kinds = {("data", r["type"]) for r in read_at_plan} | {("provider", "aws")}
    kinds |= {(KIND_OF_MODE[c["mode"]], c["type"]) for c in plan["resource_changes"]}
    assert kinds == set(read_type_list())
    bucket = next(c for c in plan["resource_changes"] if c["address"] == "aws_s3_bucket.data")
    assert bucket["change"]["after_unknown"]["arn"] is True
    assert bucket["change"]["after"]["force_destroy"] is False  # provider default
    assert bucket["change"]["after"]["tags_all"] == {"Project": "standin"}  # default_tags

    state = terraform.apply(work)
    outputs = {name: out["value"] for name, out in state["values"]["outputs"].items()}
    assert outputs["data_bucket_arn"] == "arn:aws:s3:::standin-data-bucket"
    assert outputs["trail_arn"] == "arn:aws:cloudtrail:us-east-2:123456789012:trail/standin-basic"
    policy = json.loads(outputs["data_policy"])
    assert outputs["data_policy"] == json.dumps(policy, sort_keys=True, separators=(",", ":"))
    assert policy["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}

    assert terraform.plan_no_changes(work)


def test_a_changed_argument_is_planned_again(terraform: Terraform) -> None:
    work = terraform.copy_to_temp(TESTDATA / "tftest")
    terraform.apply(work)
    assert terraform.plan_no_changes(work)
    assert not terraform.plan_no_changes(work, vars={"bucket": "standin-renamed"})
    plan = terraform.plan(work, vars={"bucket": "standin-renamed"})
    actions = {c["address"]: c["change"]["actions"] for c in plan["resource_changes"]}
    assert actions["aws_s3_bucket.this"] == ["delete", "create"]  # bucket is ForceNew


# --------------------------------------------------------------------------- (d) negative controls

RESOURCE = (
    'resource "aws_cloudtrail" "x" {\n  name           = "trail"\n  s3_bucket_name = "logs"\n'
)
NEGATIVE = {
    "wrong argument name": (
        'resource "aws_s3_bucket" "x" {\n  bucket = "standin-x"\n  bukket = "typo"\n}\n',
        3,
        'An argument named "bukket" is not expected here',
    ),
    "wrong type": (
        'resource "aws_s3_bucket" "x" {\n  bucket        = "standin-x"\n'
        "  force_destroy = { a = 1 }\n}\n",
        3,
        "bool required",
    ),
    "missing rule block": (
        'resource "aws_s3_bucket_ownership_controls" "x" {\n  bucket = "standin-x"\n}\n',
        1,
        'At least 1 "rule" blocks are required',
    ),
    "undeclared variable": (
        'resource "aws_s3_bucket" "x" {\n  bucket = var.nope\n}\n',
        2,
        "Reference to undeclared input variable",
    ),
    "bad object_ownership": (
        'resource "aws_s3_bucket_ownership_controls" "x" {\n  bucket = "standin-x"\n'
        '  rule {\n    object_ownership = "BucketOwnerFull"\n  }\n}\n',
        4,
        "expected rule.0.object_ownership to be one of",
    ),
    "bucket policy is not JSON": (
        'resource "aws_s3_bucket_policy" "x" {\n  bucket = "standin-x"\n  policy = "not json"\n}\n',
        3,
        '"policy" contains an invalid JSON',
    ),
    "topic policy is not JSON": (
        'resource "aws_sns_topic_policy" "x" {\n'
        '  arn    = "arn:aws:sns:us-east-1:123456789012:t"\n  policy = "{"\n}\n',
        3,
        '"policy" contains an invalid JSON',
    ),
    "251 data_resource values": (
        RESOURCE + "  event_selector {\n    data_resource {\n"
        '      type   = "AWS::S3::Object"\n'
        '      values = [for i in range(251) : "arn:aws:s3:::b${i}/"]\n    }\n  }\n}\n',
        7,
        "Attribute supports 250 item maximum, but config has 251 declared",
    ),
    "bad read_write_type": (
        RESOURCE + '  event_selector {\n    read_write_type = "Everything"\n  }\n}\n',
        5,
        "expected event_selector.0.read_write_type to be one of",
    ),
    "bad field selector name": (
        RESOURCE + "  advanced_event_selector {\n    field_selector {\n"
        '      field  = "resources.arn"\n      equals = ["x"]\n    }\n  }\n}\n',
        6,
        "field to be one of",
    ),
    "bad data_resource type": (
        RESOURCE + "  event_selector {\n    data_resource {\n"
        '      type   = "AWS::S3::Bucket"\n      values = ["arn:aws:s3:::b/"]\n    }\n  }\n}\n',
        6,
        "data_resource.0.type to be one of",
    ),
    "bad bucket name": (
        'resource "aws_s3_bucket" "x" {\n  bucket = "Bad_Bucket"\n}\n',
        2,
        "only lowercase alphanumeric characters",
    ),
    "basic and advanced selectors together": (
        RESOURCE + '  event_selector {\n    read_write_type = "All"\n  }\n'
        "  advanced_event_selector {\n    field_selector {\n"
        '      field  = "eventCategory"\n      equals = ["Data"]\n    }\n  }\n}\n',
        4,
        '"event_selector": conflicts with advanced_event_selector',
    ),
    "six event selectors": (
        RESOURCE + '  event_selector {\n    read_write_type = "All"\n  }\n' * 6 + "}\n",
        19,
        'No more than 5 "event_selector" blocks are allowed',
    ),
}


@pytest.mark.parametrize("case", NEGATIVE, ids=list(NEGATIVE))
def test_validate_reports_mistakes_at_their_line(terraform: Terraform, case: str) -> None:
    text, line, message = NEGATIVE[case]
    work = terraform.copy_to_temp(TESTDATA / "tftest")
    (work / "bad.tf").write_text(text)
    diag = error_at(terraform.validate(work), "bad.tf", line)
    assert message in diag["summary"] + diag["detail"]


def test_plan_checks_values_known_only_at_plan_time(terraform: Terraform) -> None:
    work = terraform.copy_to_temp(TESTDATA / "tftest")
    (work / "bad.tf").write_text(
        'variable "policy" {\n  type = string\n}\n\n'
        'resource "aws_s3_bucket_policy" "x" {\n  bucket = aws_s3_bucket.this.id\n'
        "  policy = var.policy\n}\n"
    )
    assert terraform.validate(work) == []
    with pytest.raises(TerraformError) as caught:
        terraform.plan(work, vars={"policy": "not json"})
    assert "contains an invalid JSON" in error_at(caught.value.diagnostics, "bad.tf", 7)["summary"]


def test_unexpected_warnings_fail(terraform: Terraform) -> None:
    work = terraform.copy_to_temp(TESTDATA / "tftest")
    (work / "terraform.tfvars").write_text('undeclared = "x"\n')
    with pytest.raises(TerraformError, match="Value for undeclared variable"):
        terraform.plan(work)
    assert terraform.plan(work, allow_warnings=["Value for undeclared variable"])


# --------------------------------------------------------------------------- (e) .tf.json


def test_cdktf_style_json_configuration_plans_and_applies(terraform: Terraform) -> None:
    work = terraform.copy_to_temp(TESTDATA / "cdk_json")
    plan = terraform.plan(work)
    addresses = {c["address"] for c in plan["resource_changes"]}
    assert addresses == {
        "aws_s3_bucket.bucket",
        "aws_s3_bucket_ownership_controls.ownership",
        "aws_s3_bucket_policy.policy",
        "data.aws_iam_policy_document.bucket_policy",
    }
    terraform.apply(work)
    assert terraform.plan_no_changes(work)


# --------------------------------------------------------------------------- (f) terraform test


def test_terraform_test_passes(terraform: Terraform) -> None:
    result = terraform.test(terraform.copy_to_temp(TESTDATA / "tftest"))
    assert result.passed, result.output
    assert set(result.runs.values()) == {"pass"}


def test_terraform_test_reports_a_failing_assertion(terraform: Terraform) -> None:
    work = terraform.copy_to_temp(TESTDATA / "tftest")
    (work / "failing.tftest.hcl").write_text(
        'run "wrong_owner" {\n  command = plan\n\n  assert {\n'
        "    condition     = aws_s3_bucket_ownership_controls.this.rule[0].object_ownership"
        ' == "ObjectWriter"\n'
        '    error_message = "Deliberately wrong."\n  }\n}\n'
    )
    result = terraform.test(work)
    assert not result.passed
    assert result.runs["failing.tftest.hcl/wrong_owner"] == "fail"
    assert result.runs["bucket.tftest.hcl/apply_bucket"] == "pass"
    assert any(d["detail"] == "Deliberately wrong." for d in result.diagnostics), result.output


# --------------------------------------------------------------------------- (g) policy documents

MERGED_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "KeepMe",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": "arn:aws:s3:::bucket/*",
            "Principal": {
                "AWS": ["arn:aws:iam::222233334444:root", "arn:aws:iam::111122223333:root"]
            },
        },
        {
            "Sid": "QuiltCrossAccountAccess",
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetObject", "s3:GetBucketLocation"],
            "Resource": ["arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket"],
            "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
        },
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::bucket/${aws:username}/*",
            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
        },
    ],
}


def test_policy_document_merges_source_documents_by_sid(terraform: Terraform) -> None:
    plan = terraform.plan(terraform.copy_to_temp(TESTDATA / "policy_merge"))
    outputs = {name: out["value"] for name, out in plan["planned_values"]["outputs"].items()}
    assert outputs["json"] == json.dumps(MERGED_POLICY, indent=2)
    assert outputs["minified_json"] == json.dumps(MERGED_POLICY, separators=(",", ":"))


def test_policy_rendering_follows_go_encoding() -> None:
    rendered = iam.policy_document(
        {
            "version": "2012-10-17",
            "statement": [
                {
                    "sid": "",
                    "effect": "Allow",
                    "actions": ["s3:B", "s3:A", "s3:C"],
                    "resources": ["arn:aws:s3:::a&b"],
                    "principals": [{"type": "*", "identifiers": ["*"]}],
                }
            ],
        }
    )
    statement = '{"Effect":"Allow","Action":["s3:C","s3:B","s3:A"],'
    statement += '"Resource":"arn:aws:s3:::a\\u0026b","Principal":"*"}'
    assert rendered["minified_json"] == '{"Version":"2012-10-17","Statement":[' + statement + "]}"
    assert gojson.normalize_json('{"b": 1.0, "a": [2e0, "<"]}') == '{"a":[2,"\\u003c"],"b":1}'


# --------------------------------------------------------------------------- fmt, config loading


def test_fmt_check_lists_non_canonical_files(terraform: Terraform) -> None:
    assert terraform.fmt_check(TESTDATA) == []
    work = terraform.copy_to_temp(TESTDATA / "tftest")
    (work / "ugly.tf").write_text("locals {\nx=1\n}\n")
    assert terraform.fmt_check(work) == ["ugly.tf"]


def test_load_config_dir_reads_the_module(terraform: Terraform) -> None:
    module, _ = terraform.load_config_dir(str(TESTDATA / "all_types"))
    assert "aws_s3_bucket_policy.data" in module["ManagedResources"]
    assert "data.aws_iam_policy_document.data" in module["DataResources"]


def test_account_id_can_be_overridden_per_harness() -> None:
    harness = Terraform(env={"STANDIN_ACCOUNT_ID": "210987654321"})
    try:
        work = harness.copy_to_temp(TESTDATA / "tftest")
        (work / "who.tf").write_text(
            'data "aws_caller_identity" "me" {}\n\noutput "account" {\n'
            "  value = data.aws_caller_identity.me.account_id\n}\n"
        )
        plan = harness.plan(work)
        assert plan["planned_values"]["outputs"]["account"]["value"] == "210987654321"
    finally:
        harness.close()


def test_conflicts_between_dynamic_blocks_wait_for_plan(terraform: Terraform) -> None:
    work = terraform.copy_to_temp(TESTDATA / "tftest")
    (work / "trail.tf").write_text(
        'variable "advanced" {\n  type = bool\n}\n\n'
        + RESOURCE
        + '  dynamic "event_selector" {\n    for_each = var.advanced ? [] : [1]\n'
        + '    content {\n      read_write_type = "All"\n    }\n  }\n\n'
        + '  dynamic "advanced_event_selector" {\n    for_each = var.advanced ? [1] : []\n'
        + "    content {\n      field_selector {\n"
        + '        field  = "eventCategory"\n        equals = ["Data"]\n'
        + "      }\n    }\n  }\n}\n"
    )
    assert terraform.validate(work) == []
    for advanced in ("true", "false"):
        assert terraform.plan(work, vars={"advanced": advanced})["resource_changes"]
