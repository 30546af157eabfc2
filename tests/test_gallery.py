"""The gallery of example configs (examples/*.toml): each one's generated tree is committed and
current, each shows the scenario it is named for, and all use documentation account ids only.

Every config but the reference one is generated with `--out examples/<name>`, so its tree holds
the module (byte for byte the one at the repo top) and the root call that uses it: self-contained,
`terraform init && terraform plan` work in `examples/<name>/examples/quilt-cross-account`. The
reference config's tree is the repo top itself (`modules/`, `examples/quilt-cross-account/`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from quilt_cross_account import cli, config, domain
from quilt_cross_account.model import Fleet

from tests.util import EXAMPLES, REPO

GALLERY = {path.stem: path for path in sorted(EXAMPLES.glob("*.toml"))}
POLICIES = EXAMPLES / "policies"
# The account ids AWS documentation uses for examples: the gallery uses no others.
DOCUMENTATION_ACCOUNT_IDS = {"111122223333", "444455556666", "777788889999", "123456789012"}


def tree_of(name: str) -> Path:
    """Where `generate --config examples/<name>.toml` writes (and `--check` compares)."""
    return REPO if name == "reference" else EXAMPLES / name


@pytest.mark.parametrize("name", list(GALLERY))
def test_committed_tree_is_current(name, capsys):
    args = ["generate", "--check", "--config", str(GALLERY[name]), "--out", str(tree_of(name))]
    code = cli.main(args)
    out = capsys.readouterr().out
    assert code == 0, f"{out}\nrun: quilt-cross-account generate --config examples/{name}.toml"


def test_nothing_else_lives_in_examples():
    trees = {p.name for p in EXAMPLES.iterdir() if p.is_dir()} - {"policies", domain.MODULE_NAME}
    assert trees == set(GALLERY) - {"reference"}
    files = {p.name for p in EXAMPLES.iterdir() if p.is_file()}
    assert files == {p.name for p in GALLERY.values()}


def test_each_config_shows_its_scenario():
    fleet = config.load_any(GALLERY["fleet"])
    assert isinstance(fleet, Fleet)
    assert [(a.name, a.region) for a in fleet.accounts] == [
        ("genomics", "us-east-1"),
        ("imaging", "us-west-2"),
    ]
    assert all(a.role_arn is not None for a in fleet.accounts)
    assert {a.setup.policy_mode for a in fleet.accounts} == {"managed", "statement-only"}
    models = {name: config.load(path) for name, path in GALLERY.items() if name != "fleet"}
    assert set(models) == {
        "reference",
        "external-trail",
        "statement-only",
        "existing-policies",
        "sns-kms",
        "many-buckets",
    }
    external = models["external-trail"].cloudtrail
    assert external.mode == "external"
    assert external.extra_advanced_event_selectors  # the trail's current selectors, kept
    assert models["statement-only"].policy_mode == "statement-only"
    existing = models["existing-policies"]
    assert set(existing.existing_policies) == {"genomics-raw-data", "genomics-partner-share"}
    assert set(existing.bucket_names) - set(existing.existing_policies) == {"genomics-results"}
    notifications = models["sns-kms"]
    assert len(set(notifications.sns_topic_arns.values())) < len(notifications.sns_topic_arns)
    assert len(set(notifications.kms_key_arns.values())) == 2
    many = models["many-buckets"]
    assert len(many.bucket_names) == 300
    assert many.cloudtrail.selectors is not None
    assert many.cloudtrail.selectors.style == "advanced"


def test_only_documentation_account_ids():
    sources = [*GALLERY.values(), *sorted(POLICIES.glob("*.json"))]
    found = {i for path in sources for i in re.findall(r"(?<!\d)\d{12}(?!\d)", path.read_text())}
    assert found and found <= DOCUMENTATION_ACCOUNT_IDS, found - DOCUMENTATION_ACCOUNT_IDS


def test_readme_lists_every_config():
    readme = (REPO / "README.md").read_text("utf-8")
    for path in GALLERY.values():
        assert f"](examples/{path.name})" in readme, path.name
