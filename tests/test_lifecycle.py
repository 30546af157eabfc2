"""The owner's statements and settings across a whole life, planned and applied by Terraform core
with the stand-in provider: generate, apply, change the config, offboard a bucket, destroy.

Each test follows what a careful user does and asserts on Terraform's own plan: which resources
would be created, updated, deleted or forgotten, and the exact policy documents.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from quilt_cross_account import cli, errors

from tests.util import OWNER_STATEMENT, ROOT

OWNER = {"Version": "2012-10-17", "Id": "owner", "Statement": [OWNER_STATEMENT]}
MODULE = "module.quilt_cross_account"


def changes(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Resource address -> its change (actions, before, after), no-ops included."""
    return {rc["address"]: rc["change"] for rc in plan.get("resource_changes", [])}


def actions(plan: dict[str, Any]) -> dict[str, list[str]]:
    return {address: change["actions"] for address, change in changes(plan).items()}


def policy_of(address: str) -> str:
    return f'{MODULE}.aws_s3_bucket_policy.this["{address}"]'


def ownership_of(bucket: str) -> str:
    return f'{MODULE}.aws_s3_bucket_ownership_controls.this["{bucket}"]'


class Repo:
    """A user's repository: a config beside policies/, generated with the CLI in-process."""

    def __init__(self, path: Path, capsys: Any):
        self.path, self.capsys = path, capsys
        (path / "policies").mkdir(parents=True)
        (path / "policies" / "data-one.json").write_text(json.dumps(OWNER))

    def generate(self, *tables: str) -> tuple[int, str]:
        config = self.path / "quilt.toml"
        config.write_text(
            'control_account_ids = ["111122223333"]\n'
            + "".join(f"[[buckets]]\n{t}\n" for t in tables)
            + '[cloudtrail]\nmode = "none"\n'
        )
        code = cli.main(["generate", "--config", str(config), "--out", str(self.path)])
        return code, self.capsys.readouterr().err

    @property
    def root(self) -> Path:
        return self.path / ROOT


@pytest.fixture
def repo(tmp_path, capsys) -> Repo:
    return Repo(tmp_path / "repo", capsys)


def test_offboarding_restores_the_owners_policy_and_deletes_nothing(terraform, repo):
    code, _ = repo.generate('name = "data-one"', 'name = "data-two"', 'name = "data-keep"')
    assert code == 0
    applied = terraform.apply(repo.root)
    assert applied  # the stand-in now holds three policies and three ownership controls

    # Dropping a bucket without offboarding it first: refused, nothing written.
    before = (repo.root / "main.tf").read_text()
    code, err = repo.generate('name = "data-one"', 'name = "data-keep"')
    assert code == errors.EXIT_USAGE
    assert "error: buckets: 'data-two' was connected by the previous generate" in err
    assert "leaving = true" in err
    assert (repo.root / "main.tf").read_text() == before

    # 1. Offboard data-one (owner statements) and data-two (none): plan, then apply.
    code, _ = repo.generate(
        'name = "data-one"\nleaving = true',
        'name = "data-two"\nleaving = true',
        'name = "data-keep"',
    )
    assert code == 0
    plan = terraform.plan(repo.root)
    acts = actions(plan)
    assert acts[policy_of("data-one")] == ["update"]
    after = json.loads(changes(plan)[policy_of("data-one")]["after"]["policy"])
    assert after == OWNER  # exactly the owner's statements, Quilt's gone
    assert acts[policy_of("data-two")] == ["delete"]  # it held only Quilt's statement
    assert acts[policy_of("data-keep")] == ["no-op"]
    for bucket in ("data-one", "data-two", "data-keep"):
        assert acts[ownership_of(bucket)] == ["no-op"]  # Object Ownership stays as it is
    terraform.apply(repo.root)

    # 2. Remove them: generate says what to forget; after that the plan deletes nothing.
    code, err = repo.generate('name = "data-keep"')
    assert code == 0
    commands = [line for line in err.splitlines() if "terraform state rm" in line]
    assert len(commands) == 2
    for line in commands:
        addresses = [a.strip("'") for a in line.split("terraform state rm ")[1].split("' '")]
        present = [a for a in addresses if a != policy_of("data-two")]  # already deleted
        terraform.state_rm(repo.root, *present)
    plan = terraform.plan(repo.root)
    assert not [a for a, act in actions(plan).items() if act != ["no-op"]], actions(plan)


def test_leaving_with_another_object_ownership_updates_it(terraform, repo):
    assert repo.generate('name = "data-one"', 'name = "data-keep"')[0] == 0
    terraform.apply(repo.root)
    code, _ = repo.generate(
        'name = "data-one"\nleaving = true\nobject_ownership_after = "ObjectWriter"',
        'name = "data-keep"',
    )
    assert code == 0
    plan = terraform.plan(repo.root)
    change = changes(plan)[ownership_of("data-one")]
    assert change["actions"] == ["update"]  # updated in place: never deleted
    assert change["after"]["rule"] == [{"object_ownership": "ObjectWriter"}]


def test_destroy_deletes_the_owners_statements_and_removed_forgets_instead(terraform, repo):
    assert repo.generate('name = "data-one"', 'name = "data-keep"')[0] == 0
    terraform.apply(repo.root)
    # What the README says `terraform destroy` does: every policy and ownership setting goes.
    destroy = actions(terraform.plan(repo.root, destroy=True))
    assert destroy[policy_of("data-one")] == ["delete"]
    assert destroy[ownership_of("data-one")] == ["delete"]
    # The README's alternative: a removed block forgets the module, deleting nothing.
    main_tf = repo.root / "main.tf"
    text = main_tf.read_text()
    start = text.index('module "quilt_cross_account" {')
    end = text.index("\n}\n", start) + 3
    outputs = text.index('output "cloudtrail_bucket"')
    main_tf.write_text(
        text[:start]
        + "removed {\n  from = module.quilt_cross_account\n  lifecycle {\n    destroy = false\n  }\n}\n"
        + text[end:outputs]
    )
    forget = actions(
        terraform.plan(
            repo.root, allow_warnings=["Some objects will no longer be managed by Terraform"]
        )
    )
    assert forget and all(act == ["forget"] for act in forget.values()), forget


def test_a_topic_keeps_its_owners_statements_and_gets_them_back_alone(terraform, repo):
    from tests.standin.provider.state import DEFAULT_ACCOUNT  # the account the plan runs as

    topic = "arn:aws:sns:us-east-1:999988887777:events"
    other = {
        "Sid": "OtherPublisher",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": topic,
    }
    (repo.path / "policies" / "sns-999988887777-us-east-1-events.json").write_text(
        json.dumps({"Version": "2012-10-17", "Statement": [other]})
    )
    table = f'name = "data-one"\nsns_topic_arn = "{topic}"'
    assert repo.generate(table, 'name = "data-keep"')[0] == 0
    address = f'{MODULE}.aws_sns_topic_policy.this["{topic}"]'
    applied = json.loads(changes(terraform.plan(repo.root))[address]["after"]["policy"])
    assert [s["Sid"] for s in applied["Statement"]] == [
        "OtherPublisher",
        "QuiltS3Publish",
        "QuiltControlAccountSubscribe",
    ]
    condition = applied["Statement"][1]["Condition"]["StringEquals"]
    assert condition == {"aws:SourceAccount": DEFAULT_ACCOUNT}  # the data account, not the topic's
    terraform.apply(repo.root)
    # The bucket leaves: the topic keeps its policy resource, with the owner's statement alone.
    assert repo.generate(f"{table}\nleaving = true", 'name = "data-keep"')[0] == 0
    change = changes(terraform.plan(repo.root))[address]
    assert change["actions"] == ["update"]
    assert json.loads(change["after"]["policy"]) == {"Version": "2012-10-17", "Statement": [other]}
