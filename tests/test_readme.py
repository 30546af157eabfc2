"""The README against the code: its config reference lists exactly the keys the loader accepts,
with the loader's defaults; its exit codes are the CLI's; its contents and links match its
headings; every fenced block and command line in it runs or parses (tests/readme_blocks.py),
and a block of a kind nothing checks fails."""

from __future__ import annotations

import json
import re
import tomllib

import pytest
from quilt_cross_account import errors, verify
from quilt_cross_account.config import bucket_tables, loader
from quilt_cross_account.verify import checks, live, report

from tests import readme_blocks as rb
from tests.util import REPO, resources

README = (REPO / "README.md").read_text("utf-8")
ROW = re.compile(r"^\| `(?P<key>[^`]+)` \| (?P<default>[^|]+) \| (?P<meaning>.+?) \|$")


def section(heading: str) -> str:
    """The text under `heading` up to the next heading of any level."""
    start = README.index(f"\n{heading}\n") + len(heading) + 2
    following = re.search(r"^#", README[start:], re.MULTILINE)
    return README[start : start + following.start()] if following else README[start:]


def config_reference() -> dict[str, str]:
    """Documented key -> its default cell."""
    rows = {}
    for line in section("### Config reference").splitlines():
        if line.startswith("| `"):
            match = ROW.match(line)
            assert match, (
                f"config reference row not in the | `key` | default | meaning | form: {line}"
            )
            assert match["key"] not in rows, f"{match['key']} documented twice"
            rows[match["key"]] = match["default"].strip()
    return rows


def accepted_keys() -> set[str]:
    """Every key a config may hold, spelled as the README spells them."""
    assert "cloudtrail" in loader.TOP_LEVEL_KEYS  # documented through its cloudtrail.* keys
    return (
        (loader.TOP_LEVEL_KEYS - {"cloudtrail"})
        | {f"cloudtrail.{key}" for key in loader.CLOUDTRAIL_DEFAULTS}
        | {f"buckets[].{key}" for key in bucket_tables.BUCKET_KEYS}
    )


def test_config_reference_documents_exactly_the_accepted_keys():
    documented = set(config_reference())
    assert sorted(accepted_keys() - documented) == [], "accepted but not documented"
    assert sorted(documented - accepted_keys()) == [], "documented but not accepted"


def test_config_reference_gives_the_loader_defaults_of_the_trail():
    rows = config_reference()
    for key, default in loader.CLOUDTRAIL_DEFAULTS.items():
        cell = rows[f"cloudtrail.{key}"]
        documented = None if cell == "none" else tomllib.loads(f"v = {cell.strip('`')}")["v"]
        assert documented == default, key


def test_config_reference_marks_the_required_keys():
    required = {key for key, default in config_reference().items() if default == "required"}
    assert required == {"control_account_ids", "buckets", "buckets[].name"}


def test_exit_codes_are_the_clis():
    codes = {
        int(line.split("|")[1])
        for line in section("### Exit codes").splitlines()
        if re.match(r"^\| *\d+ \|", line)
    }
    defined = {
        value
        for name, value in vars(errors).items()
        if name.startswith("EXIT_") and isinstance(value, int)
    }
    assert defined >= {0, 1, 2, 3, 130}
    assert codes == defined


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def headings() -> list[tuple[int, str]]:
    """(level, text) of the ## and ### headings outside code blocks."""
    found, in_code = [], False
    for line in README.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        elif not in_code and (match := re.match(r"^(##+) (.+)$", line)):
            found.append((len(match[1]), match[2]))
    return found


def test_contents_lists_every_section_in_order():
    listed = re.findall(r"^( *)- \[([^\]]+)\]\(#([^)]+)\)$", section("## Contents"), re.MULTILINE)
    expected = [(level, text) for level, text in headings() if text != "Contents"]
    assert [(2 + len(indent) // 2, text) for indent, text, _ in listed] == expected
    assert [target for _, _, target in listed] == [anchor(text) for _, text in expected]


def test_links_within_the_readme_resolve():
    anchors = {anchor(text) for _, text in headings()}
    targets = set(re.findall(r"\]\(#([^)]+)\)", README))
    assert sorted(targets - anchors) == []


# ---------------------------------------------------------------------------------------------
# Every fenced block and command line runs or parses.


def check_text(block: rb.Block) -> None:
    if block.marker == "layout":
        missing = [path for path in rb.layout_paths(block.body) if not (REPO / path).exists()]
        assert missing == [], f"{block.where()}: the layout names paths that do not exist"
    elif block.marker and block.marker.startswith("errors of "):
        rb.check_errors(block, block.marker)
    else:
        raise AssertionError(
            f"{block.where()}: mark it <!-- docs-check: layout --> or "
            "<!-- docs-check: errors of <config> ... -->"
        )


def check_json(block: rb.Block) -> None:
    doc = rb.json_document(block)
    if block.marker == "iam-policy, the module's":
        check_iam_policy(doc)
    elif block.marker == "iam-policy, verify's":
        actions = [a for statement in doc["Statement"] for a in statement["Action"]]
        assert sorted(actions) == sorted(live.READ_ACTIONS), block.where()
    elif block.marker == "verify --json document":
        check = checks.Check("bucket.object-ownership", "bucket b", "fail", "found", "fix")
        outcome = verify.Outcome(None, "1" * 12, "us-east-1", [check], [])
        produced = json.loads(report.document(verify.Run("after-apply", False, [outcome])))
        assert _shape(doc) == _shape(produced), f"{block.where()}: not verify's document"
    else:
        raise AssertionError(f"{block.where()}: unknown JSON block")


def _shape(value: object) -> object:
    """The keys of every object, all the way down (lists by their first item)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__ if value is not None else "str"


CHECKS = {
    "sh": rb.check_shell,
    "toml": rb.check_toml,
    "hcl": rb.check_hcl,
    "yaml": rb.check_yaml,
    "python": rb.check_python_block,
    "mermaid": rb.check_mermaid,
    "json": check_json,
    "text": check_text,
}
BLOCKS = rb.blocks(README)


def test_the_readme_has_blocks_of_every_checked_kind():
    assert {block.lang for block in BLOCKS} == set(CHECKS)


def test_every_block_is_of_a_kind_the_docs_check_knows():
    unknown = [block.where() for block in BLOCKS if block.lang not in CHECKS]
    assert unknown == []


@pytest.mark.parametrize("block", BLOCKS, ids=[f"line{b.line}-{b.lang or 'bare'}" for b in BLOCKS])
def test_block_runs_or_parses(block):
    CHECKS[block.lang](block)


INLINE = rb.inline_commands(README)


@pytest.mark.parametrize("span", INLINE)
def test_command_in_the_text_runs(span):
    for words in rb.commands(span):
        rb.check_command(words)


def test_the_text_names_commands_of_every_program():
    programs = {span.split()[0] for span in INLINE}
    assert {"quilt-cross-account", "make", "terraform", "python"} <= programs


# What the AWS provider calls for each resource type the module manages (create, read, update,
# delete), as IAM actions: the README's policy for the role that applies the module must be
# exactly these, statement by statement. A delete of ownership controls, a public access block
# or an encryption configuration is authorised by the matching Put action; the provider reads a
# bucket's region with HeadBucket (s3:ListBucket).
PROVIDER_ACTIONS = {
    "aws_s3_bucket_policy": {"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"},
    "aws_s3_bucket_ownership_controls": {
        "s3:GetBucketOwnershipControls",
        "s3:PutBucketOwnershipControls",
    },
    "aws_s3_bucket": {
        "s3:CreateBucket",
        "s3:DeleteBucket",
        "s3:ListBucket",
        "s3:GetBucketPolicy",
        "s3:GetBucketAcl",
        "s3:GetBucketCORS",
        "s3:GetBucketWebsite",
        "s3:GetBucketVersioning",
        "s3:GetAccelerateConfiguration",
        "s3:GetBucketRequestPayment",
        "s3:GetBucketLogging",
        "s3:GetLifecycleConfiguration",
        "s3:GetReplicationConfiguration",
        "s3:GetEncryptionConfiguration",
        "s3:GetBucketObjectLockConfiguration",
        "s3:GetBucketTagging",
        "s3:PutBucketTagging",
    },
    "aws_s3_bucket_public_access_block": {
        "s3:GetBucketPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
    },
    "aws_s3_bucket_versioning": {"s3:GetBucketVersioning", "s3:PutBucketVersioning"},
    "aws_s3_bucket_server_side_encryption_configuration": {
        "s3:GetEncryptionConfiguration",
        "s3:PutEncryptionConfiguration",
    },
    "aws_cloudtrail": {
        "cloudtrail:CreateTrail",
        "cloudtrail:UpdateTrail",
        "cloudtrail:DeleteTrail",
        "cloudtrail:StartLogging",
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:PutEventSelectors",
        "cloudtrail:GetEventSelectors",
        "cloudtrail:AddTags",
        "cloudtrail:RemoveTags",
        "cloudtrail:ListTags",
    },
    "aws_sns_topic_policy": {"sns:GetTopicAttributes", "sns:SetTopicAttributes"},
}
# The policy's statements (by Sid; the trail's are split to grant DescribeTrails on "*") and
# the module's resources of each.
STATEMENT_RESOURCES = {
    ("DataBuckets",): {"aws_s3_bucket_policy.this", "aws_s3_bucket_ownership_controls.this"},
    ("LogBucket",): {
        "aws_s3_bucket.log",
        "aws_s3_bucket_public_access_block.log",
        "aws_s3_bucket_versioning.log",
        "aws_s3_bucket_server_side_encryption_configuration.log",
        "aws_s3_bucket_policy.log",
        "aws_s3_bucket_ownership_controls.log",
    },
    ("Trail", "DescribeTrails"): {"aws_cloudtrail.this", "aws_cloudtrail.shard"},
    ("TopicPolicies",): {"aws_sns_topic_policy.this"},
}


def module_resources() -> set[str]:
    return {f"{rtype}.{name}" for parsed in rb.parsed_module() for rtype, name in resources(parsed)}


def check_iam_policy(policy: dict) -> None:
    by_sid = {statement["Sid"]: statement for statement in policy["Statement"]}
    assert sorted(by_sid) == sorted(sid for sids in STATEMENT_RESOURCES for sid in sids)
    for sids, addresses in STATEMENT_RESOURCES.items():
        needed = set().union(*(PROVIDER_ACTIONS[a.split(".")[0]] for a in addresses))
        granted = rb.iam_actions({"Statement": [by_sid[sid] for sid in sids]})
        assert granted == needed, (sids, sorted(granted ^ needed))
        assert all(by_sid[sid]["Effect"] == "Allow" for sid in sids)


def test_the_iam_policy_covers_every_resource_the_module_manages():
    covered = set().union(*STATEMENT_RESOURCES.values())
    assert module_resources() == covered


def test_the_iam_policy_check_rejects_a_missing_action():
    (block,) = [b for b in BLOCKS if b.marker == "iam-policy, the module's"]
    policy = rb.json_document(block)
    policy["Statement"][0]["Action"].remove("s3:PutBucketOwnershipControls")
    with pytest.raises(AssertionError):
        check_iam_policy(policy)


# Negative controls: each check fails on what it exists to catch.


@pytest.mark.parametrize(
    "line",
    [
        "quilt-cross-account generate --no-such-flag",
        "quilt-cross-account no-such-command --config q.toml",
        "python -m quilt_cross_account import-policies",  # --config is required
        "make no-such-target",
        "make synth NO_SUCH_SETTING=1",
        "terraform no-such-command",
        "python -m pip install '.[no-such-extra]'",
        "pip install 'quilt-cross-account[no-such-extra]'",
        "aws s3api delete-bucket --bucket b",
        "curl https://example.invalid | sh",
    ],
)
def test_a_wrong_command_fails_the_check(line):
    with pytest.raises(AssertionError):
        for words in rb.commands(line):
            rb.check_command(words)


@pytest.mark.parametrize(
    ("marker", "body"),
    [
        ("config", 'control_account_ids = ["12345"]\nbuckets = ["b-1"]\n'),
        ("config fragment of examples/reference.toml", "[cloudtrail]\nmulti_region = true\n"),
        (None, 'control_account_ids = ["111122223333"]\nbuckets = ["b-1"]\n'),
    ],
)
def test_a_wrong_config_fails_the_check(marker, body):
    with pytest.raises(AssertionError):
        rb.check_toml(rb.Block("toml", body, marker, 1))


def test_wrong_text_blocks_fail_the_check():
    with pytest.raises(AssertionError):
        check_text(rb.Block("text", "generator/\n  no_such_module.py  gone\n", "layout", 1))
    with pytest.raises(AssertionError):
        check_text(
            rb.Block("text", "error: buckets: wrong\n", "errors of examples/reference.toml", 1)
        )
    with pytest.raises(AssertionError):
        check_text(rb.Block("text", "anything\n", None, 1))


@pytest.mark.parametrize(
    ("lang", "body"),
    [
        ("hcl", 'module "quilt_cross_account" {\n  no_such_input = 1\n}\n'),
        ("hcl", 'output "x" {\n  value = module.quilt_cross_account.no_such_output\n}\n'),
        ("hcl", 'module "quilt_cross_account" {\n'),
        ("python", "from quilt_cross_account.construct.stack import NoSuchConstruct\n"),
        ("mermaid", 'flowchart LR\n  a["A"]\n  a -->|"x"| b\n'),  # b is not declared
        ("mermaid", 'flowchart LR\n  a["A"]\n  b["B"]\n  a -->|"sns:Unsubscribe"| b\n'),
        ("yaml", "repos:\n  - repo: x\n    hooks:\n      - id: no-such-hook\n"),
    ],
)
def test_a_wrong_block_fails_the_check(lang, body):
    with pytest.raises(AssertionError):
        CHECKS[lang](rb.Block(lang, body, None, 1))


def test_an_unchecked_kind_of_block_is_found():
    found = rb.blocks("text\n\n```\nbare\n```\n\n```ini\nx = 1\n```\n")
    assert [block.lang for block in found] == ["", "ini"]
    assert not {block.lang for block in found} & set(CHECKS)
