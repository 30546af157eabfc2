"""The generated HCL, parsed with python-hcl2: structure, interface and the rules it mirrors."""

from __future__ import annotations

import re

import hcl2
import pytest
from quilt_cross_account import cloudtrail, config, domain
from quilt_cross_account.terraform import hcl, interface, render, rules

from tests.util import HCL_VALUES, REPO, blocks, parse_tf, resources

MODULE_DIR = REPO / render.MODULE_DIR
ROOT_DIR = REPO / render.ROOT_DIR


@pytest.fixture(scope="module")
def module() -> dict[str, dict]:
    return {p.name: parse_tf(p) for p in sorted(MODULE_DIR.glob("*.tf"))}


@pytest.fixture(scope="module")
def merged(module) -> dict:
    """All module files as one parsed configuration."""
    out: dict[str, list] = {}
    for parsed in module.values():
        for kind, items in parsed.items():
            out.setdefault(kind, []).extend(items)
    return out


def test_every_generated_tf_file_parses():
    files = sorted(MODULE_DIR.glob("*.tf")) + sorted(ROOT_DIR.glob("*.tf"))
    assert {f.name for f in files} >= {
        "versions.tf",
        "variables.tf",
        "main.tf",
        "cloudtrail.tf",
        "log_bucket.tf",
        "outputs.tf",
    }
    for path in files:
        assert parse_tf(path), path


def _version_admits(constraint: str, version: str) -> bool:
    def key(v: str) -> tuple[int, ...]:
        return (*map(int, v.split(".")), 0, 0)[:3]

    ops = {">=": tuple.__ge__, "<": tuple.__lt__, ">": tuple.__gt__, "<=": tuple.__le__}
    for part in constraint.split(","):
        op, bound = re.match(r"\s*(>=|<=|>|<)\s*([\d.]+)", part).groups()
        if not ops[op](key(version), key(bound)):
            return False
    return True


def test_versions_admit_aws_provider_5_and_6(module):
    terraform = module["versions.tf"]["terraform"][0]
    aws = terraform["required_providers"][0]["aws"]
    assert aws["source"] == "hashicorp/aws"
    for ok in ("5.0.0", "5.100.0", "6.0.0", "6.25.0"):
        assert _version_admits(aws["version"], ok), ok
    for bad in ("4.67.0", "7.0.0"):
        assert not _version_admits(aws["version"], bad), bad
    assert terraform["required_version"].startswith(">=")


def test_module_has_no_provider_or_backend(merged):
    assert "provider" not in merged
    for item in merged.get("terraform", []):
        assert "backend" not in item and "cloud" not in item


def test_variables_match_the_interface(merged):
    variables = blocks(merged, "variable")
    assert list(variables) == [i.name for i in interface.INPUTS]
    for item in interface.INPUTS:
        body = variables[item.name]
        assert body["description"] == item.description
        # python-hcl2 re-serialises types with commas; compare without layout.
        assert re.sub(r"[\s,]+", "", body["type"].strip("${}")) == re.sub(r"[\s,]+", "", item.type)
        if item.required:
            assert "default" not in body
        else:
            assert body["default"] == item.default


def test_default_actions_are_the_reference_nine_in_order(merged):
    assert blocks(merged, "variable")["actions"]["default"] == list(domain.REFERENCE_ACTIONS)


@pytest.mark.parametrize(
    ("variable", "fragments"),
    [
        ("control_account_ids", [domain.ACCOUNT_ID_PATTERN, "distinct("]),
        (
            "bucket_names",
            [
                domain.BUCKET_NAME_CHARS_PATTERN,
                domain.BUCKET_IPV4_PATTERN,
                "..",
                "distinct(",
                *domain.BUCKET_FORBIDDEN_PREFIXES,
                *domain.BUCKET_FORBIDDEN_SUFFIXES,
            ],
        ),
        ("partition", list(domain.PARTITIONS)),
        ("actions", list(domain.ALLOWED_ACTIONS)),
        ("trail_mode", list(domain.TRAIL_MODES)),
        ("trail_name", [domain.TRAIL_NAME_PATTERN]),
        ("selector_style", list(domain.SELECTOR_STYLES)),
        ("read_write_type", list(domain.READ_WRITE_TYPES)),
        ("kms_key_arn", [domain.KMS_KEY_ARN_PATTERN]),
        ("log_bucket_name", [domain.BUCKET_NAME_CHARS_PATTERN, *domain.BUCKET_FORBIDDEN_SUFFIXES]),
    ],
)
def test_validations_mirror_the_python_rules(merged, variable, fragments):
    validations = blocks(merged, "variable")[variable]["validation"]
    conditions = " ".join(v["condition"] for v in validations)
    for fragment in fragments:
        assert hcl.string(fragment)[1:-1] in conditions, (variable, fragment)
    for v in validations:
        assert v["error_message"].strip()


def _as_parsed(expression: str) -> str:
    """An HCL expression as python-hcl2 serialises it inside a parsed file."""
    return hcl2.loads(f"x = {expression}\n", serialization_options=HCL_VALUES)["x"].strip("${}")


def test_every_bucket_naming_rule_is_rendered_once(merged):
    """One `bucket_names` validation per row of the rule table, with the row's message and
    condition; the `log_bucket_name` validation checks every row's condition."""
    variables = blocks(merged, "variable")
    validations = variables["bucket_names"]["validation"]
    messages = {v["error_message"]: v for v in validations}
    assert len(messages) == len(validations)
    for rule in domain.BUCKET_NAME_RULES:
        validation = messages[f"bucket_names: bucket names {rule.message}."]
        assert _as_parsed(rule.condition("b")) in validation["condition"], rule.message
    (log,) = variables["log_bucket_name"]["validation"]
    for rule in domain.BUCKET_NAME_RULES:
        condition = rule.condition('coalesce(var.log_bucket_name, "---")')
        assert _as_parsed(condition) in log["condition"], rule.message


def test_outputs_match_the_interface(merged):
    outputs = blocks(merged, "output")
    assert list(outputs) == [o.name for o in interface.OUTPUTS]
    for item in interface.OUTPUTS:
        assert outputs[item.name]["description"] == item.description


def test_bucket_resources(merged):
    found = resources(merged)
    policy = found[("aws_s3_bucket_policy", "this")]
    assert policy["for_each"] == "${local.bucket_policies}"
    assert policy["bucket"] == "${each.key}"
    ownership = found[("aws_s3_bucket_ownership_controls", "this")]
    assert ownership["for_each"] == "${toset(var.bucket_names)}"
    # BucketOwnerEnforced, unless the bucket is leaving Quilt with another setting
    assert ownership["rule"] == [
        {"object_ownership": '${lookup(var.leaving_buckets, each.key, "BucketOwnerEnforced")}'}
    ]
    # Policy first, then ownership (as terraform-aws-modules orders them).
    assert ownership["depends_on"] == ["${aws_s3_bucket_policy.this}"]
    assert "aws_s3_bucket_acl" not in {t for t, _ in found}


def test_quilt_statement_in_hcl(merged):
    local = blocks(merged, "locals")
    statements = local["quilt_statements"]
    assert f'Sid = "{domain.QUILT_SID}"' in statements
    assert "Action = var.actions" in statements
    assert '"arn:${var.partition}:s3:::${b}", "arn:${var.partition}:s3:::${b}/*"' in statements
    assert (
        local["principal_arns"]
        == '${[for id in var.control_account_ids : "arn:${var.partition}:iam::${id}:root"]}'
    )


def test_cloudtrail_resources(merged):
    found = resources(merged)
    trail = found[("aws_cloudtrail", "this")]
    assert trail["count"] == '${var.trail_mode == "create" ? 1 : 0}'
    assert "s3_key_prefix" not in trail  # Quilt reads AWSLogs/<account>/CloudTrail/...
    assert trail["depends_on"] == ["${aws_s3_bucket_policy.log}"]
    assert {"event_selector", "advanced_event_selector"} <= set(trail["dynamic"][0]) | set(
        trail["dynamic"][1]
    )
    assert found[("aws_s3_bucket_ownership_controls", "log")]["depends_on"] == [
        "${aws_s3_bucket_policy.log}"
    ]
    assert found[("aws_s3_bucket_policy", "log")]["depends_on"] == [
        "${aws_s3_bucket_public_access_block.log}"
    ]
    block = found[("aws_s3_bucket_public_access_block", "log")]
    assert all(
        block[k] is True
        for k in (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        )
    )


def test_cloudtrail_locals_use_the_python_constants(merged):
    text = (MODULE_DIR / "cloudtrail.tf").read_text()
    for const in (
        cloudtrail.DATA_SELECTOR_NAME,
        cloudtrail.MANAGEMENT_SELECTOR_NAME,
        domain.S3_OBJECT_RESOURCE_TYPE,
    ):
        assert f'"{const}"' in text
    outputs = (MODULE_DIR / "outputs.tf").read_text()
    assert f"<= {domain.MAX_EVENT_SELECTORS}" in outputs
    for limit in (domain.MAX_BASIC_DATA_VALUES, domain.MAX_ADVANCED_VALUES):
        assert f"> {limit}" in text
    assert f"range(1, {domain.MAX_TRAILS + 1})" in text


def test_every_limit_message_is_a_precondition_of_the_module(merged):
    """Each CloudTrail limit message of the planner is the error_message of one precondition,
    with Terraform expressions where Python puts its numbers."""
    messages = [
        p["error_message"]
        for output in blocks(merged, "output").values()
        for p in output.get("precondition", [])
    ]
    for rule, template in cloudtrail.LIMIT_MESSAGES.items():
        if rule in cloudtrail.PYTHON_ONLY_LIMITS:
            continue
        pattern = re.escape(template + ".")
        for name, value in cloudtrail.LIMIT_VALUES.items():
            pattern = pattern.replace(re.escape(f"{{{name}}}"), str(value))
        pattern = re.sub(r"\\\{\w+\\\}", r"\\$\\{[^}]+\\}", pattern)
        assert len([m for m in messages if re.fullmatch(pattern, m)]) == 1, rule


def test_limit_message_interpolates_expressions_into_the_python_text():
    text = rules.limit_message("basic_values", buckets="length(var.b)", values="local.n")
    assert text.startswith('"${length(var.b)} buckets need ${local.n} basic')
    python = cloudtrail.limit_message("basic_values", buckets=7, values=8)
    evaluated = hcl2.loads(f"x = {text}\n", serialization_options=HCL_VALUES)["x"]
    assert evaluated.replace("${length(var.b)}", "7").replace("${local.n}", "8") == f"{python}."
    with pytest.raises(ValueError):
        rules.limit_message("basic_values", buckets="1")


def _readme_docs() -> dict[str, list[list[str]]]:
    """The terraform-docs part of the module README: section title -> table rows (cells)."""
    text = (MODULE_DIR / "README.md").read_text()
    assert text.count("<!-- BEGIN_TF_DOCS -->") == 1 and text.count("<!-- END_TF_DOCS -->") == 1
    docs = text.split("<!-- BEGIN_TF_DOCS -->\n")[1].split("<!-- END_TF_DOCS -->")[0]
    sections = {}
    for section in docs.split("## ")[1:]:
        title, _, body = section.partition("\n")
        rows = [line for line in body.splitlines() if line.startswith("| ")]
        sections[title] = [[c.strip() for c in re.split(r"(?<!\\)\|", r)[1:-1]] for r in rows[1:]]
    return sections


def test_readme_lists_every_resource_the_tf_files_declare(module):
    """The Resources table is what python-hcl2 finds in the module's .tf files, in
    terraform-docs' order: resources, then data sources, each by type.name."""
    declared = []
    for parsed in module.values():
        for mode, kind in (("resource", "resource"), ("data", "data source")):
            for item in parsed.get(mode, []):
                for rtype, named in item.items():
                    declared += [(kind != "resource", f"{rtype}.{name}", kind) for name in named]
    table = _readme_docs()["Resources"]
    assert table == [[address, kind] for _, address, kind in sorted(declared)]
    assert ["aws_s3_bucket_versioning.log", "resource"] in table  # log_bucket.tf
    assert ["aws_caller_identity.current", "data source"] in table


def _anchored(cell: str, kind: str) -> str:
    found = re.fullmatch(rf'<a name="{kind}_([\w-]+)"></a> \[([^]]+)\]\(#{kind}\\_(.+)\)', cell)
    assert found, cell
    name, text, target = found.groups()
    assert text.replace("\\_", "_") == name and target.replace("\\_", "_") == name, cell
    return name


def test_readme_inputs_outputs_and_requirements_as_terraform_docs_writes_them(merged, module):
    docs = _readme_docs()
    assert list(docs) == ["Requirements", "Providers", "Modules", "Resources", "Inputs", "Outputs"]
    variables, outputs = blocks(merged, "variable"), blocks(merged, "output")
    inputs = {_anchored(row[0], "input"): row for row in docs["Inputs"]}
    assert list(inputs) == sorted(variables)
    for name, row in inputs.items():
        assert row[4] == ("yes" if "default" not in variables[name] else "no"), name
    assert [_anchored(row[0], "output") for row in docs["Outputs"]] == sorted(outputs)
    terraform = module["versions.tf"]["terraform"][0]
    aws = terraform["required_providers"][0]["aws"]["version"]
    assert docs["Requirements"] == [
        [
            '<a name="requirement_terraform"></a> [terraform](#requirement\\_terraform)',
            terraform["required_version"],
        ],
        ['<a name="requirement_aws"></a> [aws](#requirement\\_aws)', aws],
    ]
    assert docs["Providers"] == [['<a name="provider_aws"></a> [aws](#provider\\_aws)', aws]]


def test_root_call_passes_the_config(tmp_path):
    parsed = parse_tf(ROOT_DIR / "main.tf")
    call = blocks(parsed, "module")["quilt_cross_account"]
    model = config.load()
    assert call["source"] == "../../modules/quilt-cross-account"
    assert call["control_account_ids"] == list(model.control_account_ids)
    assert call["bucket_names"] == list(model.bucket_names)
    assert call["actions"] == list(domain.REFERENCE_ACTIONS)
    assert call["partition"] == "aws"
    assert call["trail_mode"] == "create"
    assert call["log_bucket_name"] == model.cloudtrail.log_bucket_name
    assert blocks(parsed, "provider")["aws"]["region"] == "us-east-1"
    assert set(blocks(parsed, "output")) == {"cloudtrail_bucket", "trail_arn", "selector_style"}


def test_root_call_for_a_richer_config():
    model = config.validate(
        {
            "control_account_ids": ["111122223333", "444455556666"],
            "buckets": ["b.one", "b-two"],
            "action_set": "extended",
            "tags": {"team": "data x"},
            "cloudtrail": {
                "mode": "external",
                "selector_style": "advanced",
                "extra_advanced_event_selectors": [
                    {
                        "name": "lambda",
                        "field_selectors": [
                            {"field": "eventCategory", "equals": ["Data"]},
                            {"field": "eventName", "equals": ["data ${x}"]},
                        ],
                    }
                ],
            },
        }
    )
    root = render.render(model)[f"{render.ROOT_DIR}/main.tf"]
    call = blocks(hcl2.loads(root, serialization_options=HCL_VALUES), "module")[
        "quilt_cross_account"
    ]
    assert call["actions"] == list(domain.ACTION_SETS["extended"])
    assert call["trail_mode"] == "external"
    assert "log_bucket_name" not in call  # null values are left out
    assert call["extra_advanced_event_selectors"] == [
        {
            "name": "lambda",
            "field_selectors": [
                {"field": "eventCategory", "equals": ["Data"]},
                {"field": "eventName", "equals": ["data ${x}"]},
            ],
        }
    ]
    assert call["tags"] == {"team": "data x"}
    # The template sequence stays literal text.
    assert '"data \\u0024{x}"' in root
