"""Terraform core plans of the harder situations: existing policies merged, statement-only mode
with the user's own policy document, SNS and KMS statements, least privilege, and hostile text
evaluated by Terraform itself."""

from __future__ import annotations

import json
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from quilt_cross_account import config, domain, policy, writer
from quilt_cross_account.config import fields
from quilt_cross_account.model import DataAccountSetup
from quilt_cross_account.terraform import hcl, render

from tests.standin.harness import Terraform
from tests.test_terraform_module import ACCOUNT, ALL_OUTPUTS, OWNED, Planned
from tests.util import KMS_KEY_ARN, OWNER_STATEMENT, TOPIC_ARN

OWNER = OWNER_STATEMENT
TOPIC = TOPIC_ARN
KEY = KMS_KEY_ARN


def generate(
    terraform: Terraform, toml: str, files: dict[str, Any] | None = None, extra_tf: str = ""
) -> tuple[DataAccountSetup, Path]:
    """Write a config (and policy files) into a fresh directory, generate, return the root."""
    base = Path(tempfile.mkdtemp(prefix="feat-", dir=terraform.base / "work"))
    for name, doc in (files or {}).items():
        (base / name).parent.mkdir(parents=True, exist_ok=True)
        (base / name).write_text(doc if isinstance(doc, str) else json.dumps(doc))
    (base / "quilt.toml").write_text(toml)
    model = config.load(base / "quilt.toml")
    out = base / "out"
    out.mkdir()
    writer.write(out, render.render(model), OWNED)
    root = out / render.ROOT_DIR
    (root / "all_outputs.tf").write_text(ALL_OUTPUTS + extra_tf)
    return model, root


@pytest.fixture(scope="module")
def merged(terraform):
    toml = (
        'control_account_ids = ["111122223333", "444455556666"]\n'
        'existing_policies_dir = "policies"\n'
        "buckets = [\n"
        '  "data-one",\n'
        f'  {{ name = "data.two", sns_topic_arn = "{TOPIC}", kms_key_arn = "{KEY}" }},\n'
        f'  {{ name = "data-three", sns_topic_arn = "{TOPIC}" }},\n'
        "]\n"
        '[cloudtrail]\nmode = "none"\n'
    )
    existing = {
        "Version": "2012-10-17",
        "Id": "owner-policy",
        "Statement": [
            OWNER,
            {
                **OWNER,
                "Sid": domain.QUILT_SID,
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "s3:*",
            },  # stale: replaced, not kept
            {
                **OWNER,
                "Sid": "Odd <chars> & ${x} %{y}",
                "Condition": {
                    "NumericLessThan": {"s3:max-keys": 10},
                    "StringLike": {"aws:UserAgent": ["é\u2028", '\\"q"']},
                },
            },
        ],
    }
    model, root = generate(terraform, toml, {"policies/data-one.json": existing})
    return model, Planned(terraform.plan(root)), existing


def test_existing_statements_are_kept_and_quilt_replaces_its_old_statement(merged):
    model, planned, existing = merged
    applied = planned.resources['aws_s3_bucket_policy.this["data-one"]']["policy"]
    statement = policy.quilt_statement("aws", model.control_account_ids, model.actions, "data-one")
    expected = policy.merged_bucket_policy(existing, statement)
    assert applied == policy.terraform_json(expected)  # byte for byte, as the generator computes
    doc = json.loads(applied)
    assert doc["Id"] == "owner-policy"
    assert [s["Sid"] for s in doc["Statement"]] == [
        "OwnerRead",
        "Odd <chars> & ${x} %{y}",
        domain.QUILT_SID,
    ]
    assert doc["Statement"][-1]["Action"] == list(domain.REFERENCE_ACTIONS)
    # Buckets without an existing policy get Quilt's statement alone.
    two = json.loads(planned.resources['aws_s3_bucket_policy.this["data.two"]']["policy"])
    assert [s["Sid"] for s in two["Statement"]] == [domain.QUILT_SID]


def test_sns_topic_policy_and_kms_statement(merged):
    model, planned, _ = merged
    topic = planned.resources[f'aws_sns_topic_policy.this["{TOPIC}"]']
    from tests.standin.provider.state import DEFAULT_ACCOUNT  # the account the plan runs as

    expected = policy.sns_topic_policy(
        "aws", model.control_account_ids, TOPIC, ["data.two", "data-three"], DEFAULT_ACCOUNT
    )
    assert topic["arn"] == TOPIC
    assert json.loads(topic["policy"]) == expected
    assert planned.outputs["kms_key_policies"] == {
        KEY: policy.terraform_json(policy.kms_key_policy("aws", model.control_account_ids))
    }


def test_single_statement_object_is_merged(terraform):
    toml = 'control_account_ids = ["111122223333"]\nbuckets = [{ name = "data-one", existing_policy = "p.json" }]\n[cloudtrail]\nmode = "none"\n'
    model, root = generate(terraform, toml, {"p.json": {"Statement": OWNER}})
    planned = Planned(terraform.plan(root))
    doc = json.loads(planned.resources['aws_s3_bucket_policy.this["data-one"]']["policy"])
    assert doc["Version"] == "2012-10-17"
    assert [s["Sid"] for s in doc["Statement"]] == ["OwnerRead", domain.QUILT_SID]


# The README's pattern for statement-only mode: the owner's own policy resource gains one line.
USER_POLICY = """
data "aws_iam_policy_document" "data_one" {
  source_policy_documents = [module.quilt_cross_account.quilt_statements["data-one"]]

  statement {
    sid       = "OwnerRead"
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::data-one/*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::999988887777:role/reader"]
    }
  }
}

resource "aws_s3_bucket_policy" "data_one" {
  bucket = "data-one"
  policy = data.aws_iam_policy_document.data_one.json
}
"""


def test_statement_only_mode_with_the_users_policy_document(terraform):
    toml = 'control_account_ids = ["111122223333"]\npolicy_mode = "statement-only"\nbuckets = ["data-one"]\n[cloudtrail]\nmode = "none"\n'
    model, root = generate(terraform, toml, extra_tf=USER_POLICY)
    plan = terraform.plan(root)
    planned = Planned(plan)
    assert not planned.of_type("aws_s3_bucket_policy") and not planned.of_type(
        "aws_sns_topic_policy"
    )
    quilt = policy.bucket_policy("aws", model.control_account_ids, model.actions, "data-one")
    assert planned.outputs["quilt_statements"] == {"data-one": policy.terraform_json(quilt)}
    resources = {
        r["address"]: r["values"] for r in plan["planned_values"]["root_module"]["resources"]
    }
    doc = json.loads(resources["aws_s3_bucket_policy.data_one"]["policy"])
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert set(by_sid) == {domain.QUILT_SID, "OwnerRead"}
    ours = by_sid[domain.QUILT_SID]
    assert ours["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert sorted(ours["Action"]) == sorted(domain.REFERENCE_ACTIONS)
    assert sorted(ours["Resource"]) == ["arn:aws:s3:::data-one", "arn:aws:s3:::data-one/*"]


# ------------------------------------------------------------------------- least privilege


@pytest.fixture(scope="module")
def created(terraform):
    toml = (
        'control_account_ids = ["111122223333", "444455556666"]\nbuckets = ["b-one", "b.two"]\n'
        'action_set = "extended"\n[cloudtrail]\nlog_bucket_name = "quilt-logs-bucket"\n'
        'kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/abc-123"\n'
    )
    model, root = generate(terraform, toml)
    return model, Planned(terraform.plan(root))


def test_data_bucket_policies_grant_exactly_what_was_asked(created):
    model, planned = created
    roots = ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"]
    for bucket in model.bucket_names:
        (statement,) = json.loads(
            planned.resources[f'aws_s3_bucket_policy.this["{bucket}"]']["policy"]
        )["Statement"]
        assert statement["Effect"] == "Allow"
        assert statement["Principal"] == {"AWS": roots}
        assert statement["Action"] == list(domain.ACTION_SETS["extended"])
        assert not any("*" in a for a in statement["Action"])
        assert statement["Resource"] == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
        assert "Condition" not in statement and "NotPrincipal" not in statement


def test_log_bucket_grants_only_delivery_and_quilts_read_and_denies_plain_http(created):
    model, planned = created
    statements = json.loads(planned.resources["aws_s3_bucket_policy.log[0]"]["policy"])["Statement"]
    by_sid = {s["Sid"]: s for s in statements}
    assert list(by_sid) == [
        "AWSCloudTrailAclCheck",
        "AWSCloudTrailWrite",
        "QuiltListCloudTrailLogs",
        "QuiltReadCloudTrailLogs",
        "DenyInsecureTransport",
    ]
    trail = f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/quilt-data-events"
    assert by_sid["AWSCloudTrailAclCheck"] == {
        "Sid": "AWSCloudTrailAclCheck",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:GetBucketAcl",
        "Resource": "arn:aws:s3:::quilt-logs-bucket",
        "Condition": {"ArnLike": {"aws:SourceArn": trail}},
    }
    write = by_sid["AWSCloudTrailWrite"]
    assert (write["Action"], write["Resource"]) == (
        "s3:PutObject",
        f"arn:aws:s3:::quilt-logs-bucket/AWSLogs/{ACCOUNT}/*",
    )
    assert write["Condition"]["ArnLike"] == {"aws:SourceArn": trail}
    roots = {"AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"]}
    assert (
        by_sid["QuiltListCloudTrailLogs"]["Principal"],
        by_sid["QuiltListCloudTrailLogs"]["Action"],
    ) == (roots, "s3:ListBucket")
    assert (
        by_sid["QuiltReadCloudTrailLogs"]["Action"],
        by_sid["QuiltReadCloudTrailLogs"]["Resource"],
    ) == ("s3:GetObject", "arn:aws:s3:::quilt-logs-bucket/AWSLogs/*")
    deny = by_sid["DenyInsecureTransport"]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", "s3:*")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # Encrypted with the trail's key, private, owner-enforced, versioned.
    sse = planned.resources["aws_s3_bucket_server_side_encryption_configuration.log[0]"]["rule"][0]
    assert sse["apply_server_side_encryption_by_default"][0] == {
        "sse_algorithm": "aws:kms",
        "kms_master_key_id": "arn:aws:kms:us-east-1:123456789012:key/abc-123",
    }
    assert sse["bucket_key_enabled"] is True
    block = planned.resources["aws_s3_bucket_public_access_block.log[0]"]
    assert all(
        block[k]
        for k in (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        )
    )
    assert (
        planned.resources["aws_s3_bucket_versioning.log[0]"]["versioning_configuration"][0][
            "status"
        ]
        == "Enabled"
    )
    assert (
        planned.resources["aws_cloudtrail.this[0]"]["kms_key_id"]
        == "arn:aws:kms:us-east-1:123456789012:key/abc-123"
    )


# ------------------------------------------------ hostile text, as Terraform itself reads it

NASTY = st.sampled_from(
    [
        '"',
        "\\",
        "\n",
        "\t",
        "${",
        "%{",
        "$${",
        "%%{",
        "}",
        "{",
        "#",
        "<<EOF",
        "é",
        "😀",
        "\u2028",
        "<",
        ">",
        "&",
        "~>",
    ]
)
UNICODE = st.characters(blacklist_categories=("Cs", "Cc"))


def kept(text: str) -> str:
    # Text as Terraform keeps it, which is all the config accepts (proven below).
    return unicodedata.normalize("NFC", text).lstrip(fields.BYTE_ORDER_MARK)


TEXT = st.lists(st.one_of(NASTY, st.text(UNICODE, max_size=6)), max_size=10).map("".join).map(kept)
# Tags may hold only what AWS allows (letters, numbers, spaces, _ . : / = + - @), in any
# script: the module's RE2 rule must accept every tag the config's rule does (planned below).
TAG_TEXT = st.text(
    st.characters(
        whitelist_categories=("Lu", "Ll", "Lt", "Lm", "Lo", "Nd", "Nl", "No", "Zs", "Zl", "Zp"),
        whitelist_characters=domain.TAG_PUNCTUATION,
    ),
    max_size=12,
).map(kept)
TAGS = st.dictionaries(
    TAG_TEXT.filter(lambda k: bool(k) and not k.lower().startswith("aws:")),
    TAG_TEXT.filter(domain.tag_text_ok),
    min_size=1,
    max_size=12,
).filter(lambda tags: all(domain.tag_text_ok(k) for k in tags))


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(tags=TAGS, value=TEXT.filter(bool), condition=TEXT)
def test_terraform_evaluates_hostile_text_to_exactly_the_input(terraform, tags, value, condition):
    """Tags, selector values and an existing policy's strings reach Terraform unchanged."""
    raw = {
        "control_account_ids": ["111122223333"],
        "buckets": ["data-one"],
        "tags": tags,
        "cloudtrail": {
            "log_bucket_name": "quilt-logs-bucket",
            "extra_advanced_event_selectors": [
                {"name": "hostile", "field_selectors": [{"field": "eventName", "equals": [value]}]}
            ],
        },
    }
    existing = {"Statement": [{**OWNER, "Condition": {"StringLike": {"aws:UserAgent": condition}}}]}
    base = Path(tempfile.mkdtemp(prefix="esc-", dir=terraform.base / "work"))
    (base / "p.json").write_text(json.dumps(existing))
    raw["buckets"] = [{"name": "data-one", "existing_policy": str(base / "p.json")}]
    model = config.validate(raw)
    writer.write(base, render.render(model), OWNED)
    root = base / render.ROOT_DIR
    (root / "all_outputs.tf").write_text(ALL_OUTPUTS)
    planned = Planned(terraform.plan(root))
    trail = planned.resources["aws_cloudtrail.this[0]"]
    assert trail["tags"] == tags
    hostile = next(s for s in trail["advanced_event_selector"] if s["name"] == "hostile")
    assert hostile["field_selector"][0]["equals"] == [value]
    statement = policy.quilt_statement("aws", model.control_account_ids, model.actions, "data-one")
    expected = policy.terraform_json(policy.merged_bucket_policy(existing, statement))
    assert planned.resources['aws_s3_bucket_policy.this["data-one"]']["policy"] == expected


# Terraform changes these: canonically equivalent spellings it folds to NFC (compatibility
# ideographs, the angstrom sign, combining accents, conjoining Hangul jamo), and a leading byte
# order mark, which its JSON syntax drops. It keeps the NFC forms and a BOM further in.
CHANGED = [
    "\uf900",
    "\u4e0d\uf967",
    "\u212b",
    "cafe\u0301",
    "\u1100\u1161",
    "e\u0301\u0327",
    "\ufeffa",
    "\ufeff\ufeff",
]
KEPT = ["plain", "\u8c48", "caf\u00e9", "\u00c5", "\uac00", "\u0229\u0301", "\U0001f600", "a\ufeff"]


def _hcl_escaped(text: str) -> str:
    # As the generator writes non-ASCII (hcl.string refuses non-NFC text, so not through it).
    return "".join(c if c.isascii() else hcl.code_point_escape(c) for c in text)


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    extra=st.lists(
        st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='"\\$%')),
        max_size=40,
    )
)
def test_terraform_keeps_exactly_the_strings_the_config_accepts(terraform, extra):
    """Terraform stores strings in NFC (HCL and JSON syntax alike) and its JSON syntax drops a
    leading BOM, which is why the config rejects such text: the rule and Terraform agree on
    every string, for the module (HCL) and the CDKTF stack (JSON)."""
    probes = CHANGED + KEPT + extra
    root = Path(tempfile.mkdtemp(prefix="nfc-", dir=terraform.base / "work"))
    listed = ", ".join(f'"{_hcl_escaped(t)}"' for t in probes)
    (root / "hcl.tf").write_text(f'output "hcl" {{\n  value = [{listed}]\n}}\n')
    (root / "json.tf.json").write_text(json.dumps({"output": {"json": {"value": probes}}}))
    outputs = terraform.plan(root)["output_changes"]
    from_hcl, from_json = outputs["hcl"]["after"], outputs["json"]["after"]
    assert from_hcl == [unicodedata.normalize("NFC", t) for t in probes]
    assert from_json == [n.removeprefix(fields.BYTE_ORDER_MARK) for n in from_hcl]
    for text, in_hcl, in_json in zip(probes, from_hcl, from_json, strict=True):
        accepted = fields.unicode_problem(text) is None
        assert accepted == (in_hcl == in_json == text), (ascii(text), ascii(in_hcl), ascii(in_json))
    assert all(fields.unicode_problem(t) for t in CHANGED)
