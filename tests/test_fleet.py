"""Fleet configs (`[[data_accounts]]`): validation per account with errors naming the table, one
root per account pinned to its account, per-account records and the dropped-account guard, and
the CDKTF stacks planning the same values as the roots, account by account."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from quilt_cross_account import cli, config, writer
from quilt_cross_account.errors import ConfigError
from quilt_cross_account.model import Fleet
from quilt_cross_account.terraform import render

from tests.aws_server import moto_process
from tests.cdktf_fixtures import synthesized_fleet, terraform_config
from tests.standin.harness import Terraform, TerraformError
from tests.test_main_app import run_main
from tests.test_parity import resource_values
from tests.test_terraform_module import ALL_OUTPUTS
from tests.util import config_text, gallery, parse_tf, snapshot, write_config

CONTROL = "111122223333"
FLEET = f"""
control_account_ids = ["{CONTROL}"]
region = "us-east-1"
tags = {{ team = "data" }}
cloudtrail = {{ selector_style = "advanced" }}

[[data_accounts]]
name = "alpha"
account_id = "444455556666"
role_arn = "arn:aws:iam::444455556666:role/terraform"
buckets = ["alpha-one", "alpha-two"]
cloudtrail = {{ log_bucket_name = "alpha-trail-logs" }}

[[data_accounts]]
name = "beta_2"
account_id = "777788889999"
region = "eu-west-1"
profile = "beta"
tags = {{ team = "beta" }}
buckets = ["beta-one"]
cloudtrail = {{ mode = "none" }}
"""


def fleet_of(text: str, base: Path | None = None) -> Fleet:
    return config.fleet.validate(tomllib.loads(text), base)


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        fleet_of(text)
    return caught.value.problems


def generate(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["generate", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---------------------------------------------------------------------------------------------
# The config


def test_each_account_gets_the_fleet_keys_and_its_own():
    fleet = fleet_of(FLEET)
    alpha, beta = fleet.accounts
    assert (alpha.name, alpha.account_id, alpha.region) == ("alpha", "444455556666", "us-east-1")
    assert alpha.role_arn == "arn:aws:iam::444455556666:role/terraform"
    assert (beta.region, beta.profile, beta.role_arn) == ("eu-west-1", "beta", None)
    assert alpha.setup.control_account_ids == beta.setup.control_account_ids == (CONTROL,)
    assert alpha.setup.tags == (("team", "data"),) and beta.setup.tags == (("team", "beta"),)
    # cloudtrail merged key by key: the top level's selector_style, the account's mode
    assert alpha.setup.cloudtrail.selector_style == "advanced"
    assert alpha.setup.cloudtrail.selectors is not None
    assert alpha.setup.cloudtrail.selectors.style == "advanced"
    assert beta.setup.cloudtrail.mode == "none"
    assert alpha.setup.bucket_names == ("alpha-one", "alpha-two")


def test_every_accounts_problems_at_once_naming_the_table():
    text = FLEET.replace('"alpha-two"', '"Alpha_Two"').replace('"beta-one"', '"b"')
    text = text.replace('profile = "beta"', 'profile = "beta"\nbuckts = []')
    problems = problems_of(text)
    assert problems[0].startswith("data_accounts[0].buckets[1]: 'Alpha_Two' ")
    assert any(p.startswith("data_accounts[1].buckets[0]: 'b' ") for p in problems)
    assert any(p.startswith("data_accounts[1].buckts: unknown key (did you mean") for p in problems)


def test_an_inherited_problem_names_the_top_level_key_once():
    problems = problems_of(FLEET.replace(f'"{CONTROL}"', '"1111"'))
    assert problems == ["control_account_ids[0]: '1111' must be exactly 12 digits"]
    problems = problems_of(FLEET.replace('selector_style = "advanced"', 'selector_style = "x"'))
    # beta's trail is mode "none" but still inherits the bad value: reported once, top level
    assert problems == ["cloudtrail.selector_style: 'x' must be one of 'auto', 'basic', 'advanced'"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('name = "alpha"', 'name = "../alpha"', "data_accounts[0].name: '../alpha' must be"),
        ('name = "alpha"', 'name = "Alpha"', "data_accounts[0].name: 'Alpha' must be"),
        ('name = "alpha"', 'name = "beta_2"', "data_accounts[1].name: 'beta_2' repeats"),
        ('name = "alpha"', "", "data_accounts[0].name: is required"),
        ('"444455556666"', '"44445555666"', "data_accounts[0].account_id: '44445555666' must"),
        ('"777788889999"\n', '"444455556666"\n', "data_accounts[1].account_id: '444455556666' rep"),
        (":role/terraform", ":user/terraform", "data_accounts[0].role_arn: 'arn:aws:iam::4444"),
        ("arn:aws:iam", "arn:aws-cn:iam", "data_accounts[0].role_arn: 'arn:aws-cn:iam::44445"),
        ("::444455556666:role", "::123456789012:role", "data_accounts[0].role_arn: 'arn:aws:iam:"),
        ('["beta-one"]', '["alpha-one"]', "data_accounts[1].buckets[0]: bucket 'alpha-one' is"),
        ('["beta-one"]', '["alpha-trail-logs"]', "data_accounts[1].buckets[0]: bucket 'alpha-tr"),
        ('region = "eu-west-1"', 'region = "cn-north-1"', "data_accounts[1].region: 'cn-north-1'"),
    ],
)
def test_account_rules(old, new, expected):
    assert old in FLEET
    problems = problems_of(FLEET.replace(old, new, 1))
    assert any(p.startswith(expected) for p in problems), problems


def test_fleet_wide_keys_are_not_per_account():
    text = FLEET.replace('profile = "beta"', 'profile = "beta"\naction_set = "extended"')
    assert any(p.startswith("data_accounts[1].action_set: unknown key") for p in problems_of(text))
    assert problems_of(f'control_account_ids = ["{CONTROL}"]\ndata_accounts = []\n') == [
        "data_accounts: must be a non-empty list of tables ([[data_accounts]])"
    ]


def test_account_policies_default_to_a_directory_of_their_own(tmp_path):
    (tmp_path / "policies" / "alpha").mkdir(parents=True)
    policy = _owner("alpha-one", "444455556666")
    (tmp_path / "policies" / "alpha" / "alpha-one.json").write_text(json.dumps(policy))
    fleet = fleet_of(FLEET, tmp_path)
    alpha, beta = fleet.accounts
    assert set(alpha.setup.existing_policies) == {"alpha-one"}
    assert not beta.setup.existing_policies
    assert tmp_path / "policies" / "alpha" / "alpha-one.json" in alpha.setup.input_files


def test_single_account_overrides_are_refused_for_a_fleet(tmp_path, capsys):
    path = write_config(tmp_path, FLEET)
    code, out, err = generate(
        capsys, "--config", str(path), "--out", str(tmp_path), "--bucket", "x"
    )
    assert code == 2 and out == ""
    assert err.startswith("error: --bucket: sets one account's buckets; with a fleet config")
    assert not (tmp_path / "modules").exists()


# ---------------------------------------------------------------------------------------------
# generate: one root per account


def test_one_root_per_account_pinned_to_it(tmp_path, capsys):
    path = write_config(tmp_path, FLEET)
    out = tmp_path / "out"
    out.mkdir()
    code, stdout, _ = generate(capsys, "--config", str(path), "--out", str(out))
    assert code == 0, stdout
    root = out / render.ROOT_DIR
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == ["alpha", "beta_2"]
    alpha = parse_tf(root / "alpha" / "main.tf")
    (provider,) = alpha["provider"]
    assert provider["aws"]["allowed_account_ids"] == ["444455556666"]
    assert provider["aws"]["assume_role"] == [
        {"role_arn": "arn:aws:iam::444455556666:role/terraform"}
    ]
    (call,) = alpha["module"]
    assert call["quilt_cross_account"]["source"] == "../../../modules/quilt-cross-account"
    assert call["quilt_cross_account"]["bucket_names"] == ["alpha-one", "alpha-two"]
    (beta_provider,) = parse_tf(root / "beta_2" / "main.tf")["provider"]
    assert beta_provider["aws"]["allowed_account_ids"] == ["777788889999"]
    assert beta_provider["aws"]["region"] == "eu-west-1"
    assert "assume_role" not in beta_provider["aws"]
    record = writer.read_record(root)
    assert record["accounts"]["alpha"]["account_id"] == "444455556666"
    assert record["accounts"]["beta_2"]["buckets"] == ["beta-one"]
    assert generate(capsys, "--config", str(path), "--out", str(out), "--check")[0] == 0
    (root / "beta_2" / "main.tf").write_text("changed\n")
    assert generate(capsys, "--config", str(path), "--out", str(out), "--check")[0] == 1


def test_a_dropped_account_is_refused_until_forced(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    assert (
        generate(capsys, "--config", str(write_config(tmp_path, FLEET)), "--out", str(out))[0] == 0
    )
    (out / render.ROOT_DIR / "beta_2" / "terraform.tfstate").write_text("{}")
    before = snapshot(out)
    only_alpha = FLEET.split('[[data_accounts]]\nname = "beta_2"')[0]
    path = write_config(tmp_path, only_alpha, "alpha.toml")
    code, stdout, err = generate(capsys, "--config", str(path), "--out", str(out))
    assert code == 2 and stdout == ""
    (line,) = err.splitlines()
    assert line.startswith(
        "error: data_accounts: account 'beta_2' (777788889999) was generated by the previous "
        "generate"
    )
    assert "leaving = true on every bucket" in line and "pass --force" in line
    assert snapshot(out) == before
    code, _, err = generate(capsys, "--config", str(path), "--out", str(out), "--force")
    assert code == 0
    assert "note: --force: data_accounts: account 'beta_2'" in err
    assert not (out / render.ROOT_DIR / "beta_2").exists()


def test_an_account_whose_buckets_all_left_may_go(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    leaving = FLEET.replace('["beta-one"]', '[{ name = "beta-one", leaving = true }]')
    assert (
        generate(capsys, "--config", str(write_config(tmp_path, leaving)), "--out", str(out))[0]
        == 0
    )
    path = write_config(tmp_path, FLEET.split('[[data_accounts]]\nname = "beta_2"')[0], "a.toml")
    code, _, err = generate(capsys, "--config", str(path), "--out", str(out))
    assert code == 0
    assert "note: account 'beta_2' has left Quilt" in err


def test_the_dropped_bucket_guard_works_per_account(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    assert (
        generate(capsys, "--config", str(write_config(tmp_path, FLEET)), "--out", str(out))[0] == 0
    )
    path = write_config(tmp_path, FLEET.replace('"alpha-one", ', ""), "b.toml")
    code, _, err = generate(capsys, "--config", str(path), "--out", str(out))
    assert code == 2
    (line,) = err.splitlines()
    assert line.startswith("error: data_accounts[0].buckets: 'alpha-one' was connected by the ")
    assert f"({out / render.ROOT_DIR / 'alpha'})" in line
    changed_id = FLEET.replace('"777788889999"\n', '"777788880000"\n')
    code, _, err = generate(
        capsys, "--config", str(write_config(tmp_path, changed_id, "c.toml")), "--out", str(out)
    )
    assert code == 2
    assert err.startswith("error: data_accounts[1].account_id: root ")


def test_switching_between_one_root_and_a_fleet_is_guarded(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    single = write_config(tmp_path, config_text(["alpha-one"]), "single.toml")
    assert generate(capsys, "--config", str(single), "--out", str(out))[0] == 0
    fleet = write_config(tmp_path, FLEET)
    code, _, err = generate(capsys, "--config", str(fleet), "--out", str(out))
    assert code == 2
    assert err.startswith("error: data_accounts: the previous generate wrote a single-account root")
    assert generate(capsys, "--config", str(fleet), "--out", str(out), "--force")[0] == 0
    code, _, err = generate(capsys, "--config", str(single), "--out", str(out))
    assert code == 2
    assert "error: data_accounts: the previous generate wrote one root per data account" in err


# ---------------------------------------------------------------------------------------------
# Terraform core: each root and each stack plans in its own account, and only there


FLEETS = {"gallery": gallery("fleet"), "advanced-and-statement-only": None}


def fleet_config(name: str, work: Path) -> Fleet:
    if FLEETS[name] is not None:
        model = config.load_any(FLEETS[name])
        assert isinstance(model, Fleet)
        return model
    # Both accounts assume a role: the stand-in's caller is then the role's account.
    text = FLEET.replace('profile = "beta"', 'role_arn = "arn:aws:iam::777788889999:role/tf"')
    text = text.replace(
        'cloudtrail = { mode = "none" }',
        'policy_mode = "statement-only"\ncloudtrail = { mode = "none" }',
    )
    return fleet_of(text, work)


@pytest.fixture(scope="module")
def fleet_plans(terraform: Terraform):
    cache: dict[str, dict[str, tuple[dict, dict]]] = {}

    def plan(name: str) -> dict[str, tuple[dict, dict]]:
        if name not in cache:
            work = Path(tempfile.mkdtemp(prefix="fleet-", dir=terraform.base / "work"))
            fleet = fleet_config(name, work)
            writer.write(work, render.render(fleet), (render.MODULE_DIR, render.ROOT_DIR))
            stacks = synthesized_fleet(fleet)
            plans = {}
            for account in fleet.accounts:
                root = work / render.account_root(account)
                (root / "all_outputs.tf").write_text(ALL_OUTPUTS)
                stack_dir = work / "stacks" / account.name
                stack_dir.mkdir(parents=True)
                synth = stacks[f"quilt-cross-account-{account.name}"]
                (stack_dir / "cdk.tf.json").write_text(json.dumps(terraform_config(synth)))
                plans[account.name] = (terraform.plan(root), terraform.plan(stack_dir))
            cache[name] = plans
        return cache[name]

    return plan


@pytest.mark.parametrize("name", list(FLEETS))
def test_roots_and_stacks_plan_the_same_per_account(fleet_plans, name):
    plans = fleet_plans(name)
    assert len(plans) == 2
    for account, (module_plan, stack_plan) in plans.items():
        ours = resource_values(module_plan["planned_values"]["root_module"])
        theirs = resource_values(stack_plan["planned_values"]["root_module"])
        assert ours, account
        assert [t for t, _ in theirs] == [t for t, _ in ours], account
        for (rtype, a), (_, b) in zip(ours, theirs, strict=True):
            assert json.loads(a) == json.loads(b), (account, rtype)
        policies = [json.loads(v) for t, v in ours if t == "aws_s3_bucket_policy"]
        for value in policies:
            assert CONTROL in value["policy"]
        module_outputs = module_plan["output_changes"]["module"]["after"]
        assert (
            module_outputs["selector_style"]
            == stack_plan["output_changes"]["selector_style"]["after"]
        )


def test_stacks_pin_their_account(fleet_plans):
    stacks = synthesized_fleet(fleet_config("gallery", Path(tempfile.gettempdir())))
    assert sorted(stacks) == ["quilt-cross-account-genomics", "quilt-cross-account-imaging"]
    provider = stacks["quilt-cross-account-imaging"]["provider"]["aws"]
    assert provider == [
        {
            "allowed_account_ids": ["777788889999"],
            "assume_role": [{"role_arn": "arn:aws:iam::777788889999:role/terraform"}],
            "region": "us-west-2",
        }
    ]


def test_a_root_for_another_account_fails_before_planning(terraform: Terraform, tmp_path):
    # No role: the credentials are the stand-in's own account (123456789012), not this one.
    text = FLEET.replace('profile = "beta"', "")
    fleet = fleet_of(text)
    work = Path(tempfile.mkdtemp(prefix="wrong-account-", dir=terraform.base / "work"))
    writer.write(work, render.render(fleet), (render.MODULE_DIR, render.ROOT_DIR))
    with pytest.raises(TerraformError) as caught:
        terraform.plan(work / render.ROOT_DIR / "beta_2")
    assert "AWS account ID not allowed: 123456789012" in str(caught.value)
    # The same root, pinned to the caller's account, plans.
    root = work / render.ROOT_DIR / "beta_2"
    main = root / "main.tf"
    main.write_text(main.read_text().replace('["777788889999"]', '["123456789012"]'))
    planned = terraform.plan(root)
    assert resource_values(planned["planned_values"]["root_module"])
    shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# import-policies, account by account (moto: no IAM enforcement, so that AssumeRole reaches
# another account, whose buckets only its credentials see)

OTHER = "444455556666"


@pytest.fixture(scope="module")
def two_accounts(tmp_path_factory) -> Iterator[dict[str, str]]:
    # IAM not enforced: the profile's credentials must be able to assume the other account's role.
    with moto_process(enforce_iam=False) as url:
        import boto3

        home = tmp_path_factory.mktemp("aws-home")
        (home / "config").write_text("[profile first]\nregion = us-east-1\n")
        (home / "credentials").write_text(
            "[first]\naws_access_key_id = AKIAFIRST\naws_secret_access_key = x\n"
        )
        env = {
            "AWS_ENDPOINT_URL": url,
            "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        first = boto3.Session(aws_access_key_id="AKIAFIRST", aws_secret_access_key="x")
        s3 = first.client("s3", endpoint_url=url, region_name="us-east-1")
        s3.create_bucket(Bucket="first-data")
        s3.put_bucket_policy(Bucket="first-data", Policy=json.dumps(_owner("first-data", DEFAULT)))
        sts = first.client("sts", endpoint_url=url, region_name="us-east-1")
        role = f"arn:aws:iam::{OTHER}:role/terraform"
        creds = sts.assume_role(RoleArn=role, RoleSessionName="setup")["Credentials"]
        other = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        ).client("s3", endpoint_url=url, region_name="us-east-1")
        other.create_bucket(Bucket="other-data")
        other.put_bucket_policy(Bucket="other-data", Policy=json.dumps(_owner("other-data", OTHER)))
        yield env


DEFAULT = "123456789012"  # moto's account for plain credentials
IMPORT_FLEET = f"""
control_account_ids = ["{CONTROL}"]
cloudtrail = {{ mode = "none" }}

[[data_accounts]]
name = "first"
account_id = "{DEFAULT}"
profile = "first"
buckets = ["first-data"]

[[data_accounts]]
name = "other"
account_id = "{OTHER}"
role_arn = "arn:aws:iam::{OTHER}:role/terraform"
profile = "first"
buckets = ["other-data"]
"""


def _owner(bucket: str, account: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Owner",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }


def _import(env: dict[str, str], path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "quilt_cross_account", "import-policies", "--config", str(path)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_reads_each_account_with_its_credentials(two_accounts, tmp_path, capsys):
    path = write_config(tmp_path, IMPORT_FLEET)
    result = _import(two_accounts, path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("data_accounts[0] (first): first-data: policy with 1 statement(s)")
    assert any(
        line.startswith("data_accounts[1] (other): other-data: policy with 1") for line in lines
    )
    saved = json.loads((tmp_path / "policies" / "other" / "other-data.json").read_text())
    assert saved == _owner("other-data", OTHER)
    assert (tmp_path / "policies" / "first" / "first-data.json").is_file()
    # generate merges each account's saved policy into its own root
    out = tmp_path / "out"
    out.mkdir()
    assert generate(capsys, "--config", str(path), "--out", str(out))[0] == 0
    other_root = parse_tf(out / render.ROOT_DIR / "other" / "main.tf")
    call = other_root["module"][0]["quilt_cross_account"]
    assert set(call["existing_bucket_policies"]) == {"other-data"}


def test_import_refuses_credentials_of_another_account_and_writes_nothing(two_accounts, tmp_path):
    # The second account without its role: the profile's credentials are the first account's.
    text = IMPORT_FLEET.replace(f'role_arn = "arn:aws:iam::{OTHER}:role/terraform"\n', "")
    path = write_config(tmp_path, text)
    result = _import(two_accounts, path)
    assert result.returncode == 3
    assert result.stderr.splitlines() == [
        f"error: data_accounts[1] (other): account_id: the credentials are for account {DEFAULT}, "
        f"not {OTHER}; nothing was read (set this account's profile or role_arn)",
        "nothing was written",
    ]
    assert not (tmp_path / "policies").exists()


# ---------------------------------------------------------------------------------------------
# main.py: one stack per account, each as the session's in-process synthesis built it


def test_main_py_synthesizes_one_stack_per_account(tmp_path):
    result = run_main("--config", str(gallery("fleet")), "--output", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    stacks = sorted(p.name for p in (out / "stacks").iterdir())
    assert stacks == ["quilt-cross-account-genomics", "quilt-cross-account-imaging"]
    fleet = config.load_any(gallery("fleet"))
    assert isinstance(fleet, Fleet)
    in_process = synthesized_fleet(fleet)
    for name in stacks:
        written = json.loads((out / "stacks" / name / "cdk.tf.json").read_text())
        assert terraform_config(written) == terraform_config(in_process[name])
    # the HCL roots beside them, with the same per-account record as `generate` writes
    assert (out / render.ROOT_DIR / "imaging" / "main.tf").is_file()
    assert set(writer.read_record(out / render.ROOT_DIR)["accounts"]) == {"genomics", "imaging"}
    # dropping an account is refused before anything is synthesized, naming its stack
    text = gallery("fleet").read_text("utf-8").split('[[data_accounts]]\nname = "imaging"')[0]
    smaller = write_config(tmp_path, text, "genomics-only.toml")
    before = snapshot(out)
    again = run_main("--config", str(smaller), "--output", "out", cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr.startswith("error: data_accounts: account 'imaging' (777788889999) ")
    assert "(out/stacks/quilt-cross-account-imaging)" in again.stderr
    assert again.stderr.endswith("delete out (main.py rebuilds it whole)\n")
    assert snapshot(out) == before


def test_fleet_wide_flags_apply_to_every_root(tmp_path, capsys):
    path = write_config(tmp_path, FLEET)
    args = ["--config", str(path), "--out", str(tmp_path), "--control-account-id", "777788889999"]
    assert generate(capsys, *args)[0] == 0
    for name in ("alpha", "beta_2"):
        (call,) = parse_tf(tmp_path / render.ROOT_DIR / name / "main.tf")["module"]
        assert call["quilt_cross_account"]["control_account_ids"] == ["777788889999"]
    code, _, err = generate(capsys, *args[:4], "--partition", "aws-cn", "--force")
    assert code == 2
    assert (
        "error: data_accounts[0].role_arn: 'arn:aws:iam::444455556666:role/terraform' is not in "
        "partition 'aws-cn'" in err
    )


# ---------------------------------------------------------------------------------------------
# verify: account by account, each with its own credentials


def _verify(env: dict[str, str], path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "quilt_cross_account", "verify", "--config", str(path), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_verify_checks_each_account_with_its_credentials(two_accounts, tmp_path):
    path = write_config(tmp_path, IMPORT_FLEET)
    # Before importing, each account's apply would drop its owner's statement.
    before = _verify(two_accounts, path, "--before-apply", "--json")
    assert before.returncode == 1, before.stderr
    doc = json.loads(before.stdout)
    assert [a["name"] for a in doc["accounts"]] == ["first", "other"]
    assert [a["account_id"] for a in doc["accounts"]] == [DEFAULT, OTHER]
    for account, bucket in zip(doc["accounts"], ("first-data", "other-data"), strict=True):
        failed = [(c["id"], c["subject"]) for c in account["checks"] if c["status"] == "fail"]
        assert failed == [("bucket.apply-keeps-statements", f"bucket {bucket}")]
    assert _import(two_accounts, path).returncode == 0
    assert _verify(two_accounts, path, "--before-apply").returncode == 0
    # Not applied yet: each account fails its own Quilt statement, under its own heading.
    after = _verify(two_accounts, path)
    assert after.returncode == 1
    lines = after.stdout.splitlines()
    assert lines[0] == f"== data account first ({DEFAULT})"
    assert f"== data account other ({OTHER})" in lines
    assert lines[-1].endswith(" in 2 data accounts")
    assert sum(line.startswith("FAIL") and "bucket.quilt-statement" in line for line in lines) == 2


def test_verify_refuses_another_accounts_credentials_and_still_checks_the_rest(
    two_accounts, tmp_path
):
    text = IMPORT_FLEET.replace(f'role_arn = "arn:aws:iam::{OTHER}:role/terraform"\n', "")
    path = write_config(tmp_path, text)
    result = _verify(two_accounts, path, "--json")
    assert result.returncode == 3
    doc = json.loads(result.stdout)
    first, other = doc["accounts"]
    assert first["checks"] and not first["errors"]
    assert other["checks"] == [] and other["errors"] == [
        f"data_accounts other: account_id: the credentials are for account {DEFAULT}, not "
        f"{OTHER}; nothing was read (set this account's profile or role_arn)"
    ]
    assert "accounts with a failed read were not checked" in result.stderr
