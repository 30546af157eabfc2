"""`verify` end to end: generate from the example config, apply it with Terraform core and the
stand-in provider, put what Terraform applied onto a moto server (IAM enforced) with boto3, then
`verify` passes; tamper one thing at a time and exactly that check fails."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from quilt_cross_account import cli, domain, policy
from quilt_cross_account.verify import live

from tests.aws_server import client, user_with_policy
from tests.util import REPO, ROOT

DATA_BUCKETS = ("bucket-in-data-account", "second-data-bucket")
CONTROL = "111122223333"
OWNER_STATEMENT = {
    "Sid": "OwnerAuditRead",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::second-data-bucket/*",
}


def run_verify(env: dict[str, str], *args: str | Path) -> tuple[int, str, str]:
    """`quilt-cross-account verify ...` in-process, with `env` as the process environment."""
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, env),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = cli.main(["verify", *map(str, args)])
    return code, out.getvalue(), err.getvalue()


def verdicts(env: dict[str, str], config: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run_verify(env, "--config", config, "--json", *extra)
    doc = json.loads(out)
    assert not doc["errors"], doc["errors"]
    return code, doc


def failing(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(c["id"], c["subject"]) for c in doc["checks"] if c["status"] == "fail"}


# ------------------------------------------------------------------- applying Terraform's values


def resources(state: dict[str, Any]) -> Iterator[dict[str, Any]]:
    def walk(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield from module.get("resources", [])
        for child in module.get("child_modules", []):
            yield from walk(child)

    yield from walk(state["values"]["root_module"])


def _field_selector(item: dict[str, Any]) -> dict[str, Any]:
    api = {"Field": item["field"]}
    for name, api_name in (
        ("equals", "Equals"),
        ("not_equals", "NotEquals"),
        ("starts_with", "StartsWith"),
        ("not_starts_with", "NotStartsWith"),
        ("ends_with", "EndsWith"),
        ("not_ends_with", "NotEndsWith"),
    ):
        if item.get(name):
            api[api_name] = item[name]
    return api


def put_applied_state(env: dict[str, str], state: dict[str, Any]) -> None:
    """What `terraform apply` would have done on AWS, done with boto3 from the applied values."""
    s3, trail = client(env, "s3"), client(env, "cloudtrail")
    applied = {r["address"]: r for r in resources(state) if r["mode"] == "managed"}
    for item in applied.values():
        if item["type"] == "aws_s3_bucket":
            s3.create_bucket(Bucket=item["values"]["bucket"])
    for item in applied.values():
        values = item["values"]
        if item["type"] == "aws_s3_bucket_policy":
            s3.put_bucket_policy(Bucket=values["bucket"], Policy=values["policy"])
        elif item["type"] == "aws_s3_bucket_ownership_controls":
            s3.put_bucket_ownership_controls(
                Bucket=values["bucket"],
                OwnershipControls={
                    "Rules": [{"ObjectOwnership": values["rule"][0]["object_ownership"]}]
                },
            )
        elif item["type"] == "aws_sns_topic_policy":
            client(env, "sns").set_topic_attributes(
                TopicArn=values["arn"], AttributeName="Policy", AttributeValue=values["policy"]
            )
        elif item["type"] == "aws_cloudtrail":
            trail.create_trail(
                Name=values["name"],
                S3BucketName=values["s3_bucket_name"],
                IsMultiRegionTrail=values["is_multi_region_trail"],
                EnableLogFileValidation=values["enable_log_file_validation"],
            )
            basic = [
                {
                    "ReadWriteType": s["read_write_type"],
                    "IncludeManagementEvents": s["include_management_events"],
                    "DataResources": [
                        {"Type": d["type"], "Values": d["values"]} for d in s["data_resource"]
                    ],
                }
                for s in values["event_selector"]
            ]
            advanced = [
                {
                    "Name": s["name"],
                    "FieldSelectors": [_field_selector(f) for f in s["field_selector"]],
                }
                for s in values["advanced_event_selector"]
            ]
            if basic:
                trail.put_event_selectors(TrailName=values["name"], EventSelectors=basic)
            if advanced:
                trail.put_event_selectors(TrailName=values["name"], AdvancedEventSelectors=advanced)
            if values["enable_logging"]:
                trail.start_logging(Name=values["name"])


# ------------------------------------------------------------------- the deployed account


class Deployed:
    """The example config, generated and applied, with the live account matching it."""

    def __init__(self, env: dict[str, str], directory: Path, state: dict[str, Any]) -> None:
        self.env, self.directory, self.state = env, directory, state
        self.config = directory / "quilt.toml"

    def put(self) -> None:
        put_applied_state(self.env, self.state)
        # The key owner adds the module's `kms_key_policies` statement to the key's policy.
        kms = client(self.env, "kms")
        for key in kms.list_keys()["Keys"]:
            default = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "Enable IAM User Permissions",
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    },
                    *policy.statements_of(policy.kms_key_policy("aws", [CONTROL])),
                ],
            }
            kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=json.dumps(default))


@pytest.fixture(scope="module")
def deployed(moto, terraform, tmp_path_factory) -> Deployed:
    """The built-in example config, with a second bucket that has an owner's policy, an SNS
    topic and a KMS key: generated, applied by Terraform core, and put on the moto server."""
    directory = tmp_path_factory.mktemp("verify")
    s3, sns, kms = client(moto, "s3"), client(moto, "sns"), client(moto, "kms")
    for bucket in DATA_BUCKETS:
        s3.create_bucket(Bucket=bucket)
    topic = sns.create_topic(Name="quilt-object-events")["TopicArn"]
    key = kms.create_key()["KeyMetadata"]["Arn"]
    owner_policy = {"Version": "2012-10-17", "Statement": [OWNER_STATEMENT]}
    s3.put_bucket_policy(Bucket=DATA_BUCKETS[1], Policy=json.dumps(owner_policy))
    example = (REPO / "examples" / "reference.toml").read_text()
    config = re.sub(
        r"(?m)^buckets = .*$",
        f'buckets = [{{ name = "{DATA_BUCKETS[0]}", sns_topic_arn = "{topic}", '
        f'kms_key_arn = "{key}" }}, "{DATA_BUCKETS[1]}"]',
        example,
    )
    assert config != example
    (directory / "quilt.toml").write_text(config)
    (directory / "policies").mkdir()
    (directory / "policies" / f"{DATA_BUCKETS[1]}.json").write_text(json.dumps(owner_policy))
    assert (
        cli.main(["generate", "--config", str(directory / "quilt.toml"), "--out", str(directory)])
        == 0
    )
    state = terraform.apply(directory / ROOT)
    deployed = Deployed(moto, directory, state)
    deployed.put()
    return deployed


def test_verify_passes_on_the_applied_account(deployed):
    code, doc = verdicts(deployed.env, deployed.config)
    assert code == 0, failing(doc)
    ids = {c["id"] for c in doc["checks"]}
    assert ids == {
        "bucket.quilt-statement",
        "bucket.owner-statements",
        "bucket.object-ownership",
        "bucket.acl-grants",
        "trail.exists",
        "trail.logging",
        "trail.multi-region",
        "trail.log-file-validation",
        "trail.log-bucket",
        "trail.selectors",
        "log-bucket.quilt-read",
        "log-bucket.cloudtrail-delivery",
        "topic.s3-publish",
        "topic.control-subscribe",
        "kms.control-grant",
    }
    assert doc["summary"] == {"pass": len(doc["checks"]), "fail": 0, "not-checked": 0}
    assert doc["account_id"] == "123456789012" and doc["mode"] == "after-apply"


@contextlib.contextmanager
def tampered(deployed: Deployed) -> Iterator[dict[str, Any]]:
    """Clients to change the live account with; afterwards it is put back as applied."""
    env = deployed.env
    clients = {name: client(env, name) for name in ("s3", "cloudtrail", "sns", "kms")}
    try:
        yield clients
    finally:
        trail = clients["cloudtrail"]
        for name in [t["Name"] for t in trail.describe_trails()["trailList"]]:
            trail.delete_trail(Name=name)
        for bucket in DATA_BUCKETS:
            clients["s3"].put_bucket_acl(Bucket=bucket, ACL="private")
        deployed.put()


def _bucket_policy(s3: Any, bucket: str) -> dict[str, Any]:
    return json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])


def _remove_quilt_statement(c: dict[str, Any]) -> None:
    doc = _bucket_policy(c["s3"], DATA_BUCKETS[1])
    doc["Statement"] = [s for s in doc["Statement"] if s.get("Sid") != domain.QUILT_SID]
    c["s3"].put_bucket_policy(Bucket=DATA_BUCKETS[1], Policy=json.dumps(doc))


def _drop_an_action(c: dict[str, Any]) -> None:
    doc = _bucket_policy(c["s3"], DATA_BUCKETS[0])
    for statement in doc["Statement"]:
        if statement.get("Sid") == domain.QUILT_SID:
            statement["Action"].remove("s3:ListBucket")
    c["s3"].put_bucket_policy(Bucket=DATA_BUCKETS[0], Policy=json.dumps(doc))


def _remove_owner_statement(c: dict[str, Any]) -> None:
    doc = _bucket_policy(c["s3"], DATA_BUCKETS[1])
    doc["Statement"] = [s for s in doc["Statement"] if s.get("Sid") != OWNER_STATEMENT["Sid"]]
    c["s3"].put_bucket_policy(Bucket=DATA_BUCKETS[1], Policy=json.dumps(doc))


def _flip_ownership(c: dict[str, Any]) -> None:
    c["s3"].put_bucket_ownership_controls(
        Bucket=DATA_BUCKETS[0],
        OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
    )


def _add_acl_grant(c: dict[str, Any]) -> None:
    owner = c["s3"].get_bucket_acl(Bucket=DATA_BUCKETS[1])["Owner"]
    c["s3"].put_bucket_acl(
        Bucket=DATA_BUCKETS[1],
        AccessControlPolicy={
            "Owner": owner,
            "Grants": [
                {
                    "Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]},
                    "Permission": "FULL_CONTROL",
                },
                {
                    "Grantee": {
                        "Type": "Group",
                        "URI": "http://acs.amazonaws.com/groups/global/AllUsers",
                    },
                    "Permission": "READ",
                },
            ],
        },
    )


def _stop_logging(c: dict[str, Any]) -> None:
    c["cloudtrail"].stop_logging(Name="quilt-data-events")


def _remove_a_selector(c: dict[str, Any]) -> None:
    trail = c["cloudtrail"]
    selectors = trail.get_event_selectors(TrailName="quilt-data-events")["EventSelectors"]
    for selector in selectors:
        for resource in selector["DataResources"]:
            resource["Values"] = [v for v in resource["Values"] if DATA_BUCKETS[1] not in v]
    trail.put_event_selectors(TrailName="quilt-data-events", EventSelectors=selectors)


def _change_log_bucket_policy(c: dict[str, Any]) -> None:
    log = "bucket-in-data-account-cloudtrail"
    doc = _bucket_policy(c["s3"], log)
    doc["Statement"] = [s for s in doc["Statement"] if s.get("Sid") != "QuiltReadCloudTrailLogs"]
    c["s3"].put_bucket_policy(Bucket=log, Policy=json.dumps(doc))


def _key_policy_without_grant(c: dict[str, Any]) -> None:
    key = c["kms"].list_keys()["Keys"][0]["KeyId"]
    doc = json.loads(c["kms"].get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    doc["Statement"] = [s for s in doc["Statement"] if s.get("Sid") != domain.KMS_GRANT_SID]
    c["kms"].put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(doc))


def _topic_policy_without_publish(c: dict[str, Any]) -> None:
    topic = c["sns"].list_topics()["Topics"][0]["TopicArn"]
    doc = json.loads(c["sns"].get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    doc["Statement"] = [s for s in doc["Statement"] if s.get("Sid") != domain.SNS_PUBLISH_SID]
    c["sns"].set_topic_attributes(
        TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(doc)
    )


TAMPERS = {
    "remove the Quilt statement": (_remove_quilt_statement, "bucket.quilt-statement", f"bucket {DATA_BUCKETS[1]}", "no Quilt statement"),
    "drop an action": (_drop_an_action, "bucket.quilt-statement", f"bucket {DATA_BUCKETS[0]}", "missing actions s3:ListBucket"),
    "remove an owner statement": (_remove_owner_statement, "bucket.owner-statements", f"bucket {DATA_BUCKETS[1]}", "OwnerAuditRead"),
    "flip ownership": (_flip_ownership, "bucket.object-ownership", f"bucket {DATA_BUCKETS[0]}", "BucketOwnerPreferred"),
    "add an ACL grant": (_add_acl_grant, "bucket.acl-grants", f"bucket {DATA_BUCKETS[1]}", "AllUsers"),
    "stop logging": (_stop_logging, "trail.logging", "trail quilt-data-events", "not logging"),
    "remove a selector": (_remove_a_selector, "trail.selectors", "trail quilt-data-events", DATA_BUCKETS[1]),
    "change the log bucket's policy": (_change_log_bucket_policy, "log-bucket.quilt-read", "log bucket bucket-in-data-account-cloudtrail", "111122223333: s3:GetObject"),
    "drop the key grant": (_key_policy_without_grant, "kms.control-grant", None, "kms:Decrypt"),
    "drop S3's publish grant": (_topic_policy_without_publish, "topic.s3-publish", None, DATA_BUCKETS[0]),
}  # fmt: skip


@pytest.mark.parametrize("name", TAMPERS)
def test_each_tampering_fails_exactly_its_check(deployed, name):
    tamper, check_id, subject, words = TAMPERS[name]
    with tampered(deployed) as clients:
        tamper(clients)
        code, doc = verdicts(deployed.env, deployed.config)
    assert code == 1
    failed = [c for c in doc["checks"] if c["status"] == "fail"]
    assert [c["id"] for c in failed] == [check_id], failed
    assert subject is None or failed[0]["subject"] == subject
    assert words in failed[0]["detail"] and failed[0]["fix"]


def test_the_text_report_marks_each_check_and_gives_the_fix(deployed):
    with tampered(deployed) as clients:
        _flip_ownership(clients)
        code, out, err = run_verify(deployed.env, "--config", deployed.config)
    assert code == 1 and err == ""
    lines = out.splitlines()
    failed = [i for i, line in enumerate(lines) if line.startswith("FAIL")]
    assert len(failed) == 1
    assert lines[failed[0]] == (
        f"FAIL  bucket {DATA_BUCKETS[0]}: bucket.object-ownership: Object Ownership is "
        "BucketOwnerPreferred, not BucketOwnerEnforced"
    )
    assert lines[failed[0] + 1].startswith("      fix: run `terraform apply`")
    assert re.fullmatch(r"18 checks: 17 passed, 1 failed, 0 not checked", lines[-1])


def test_before_apply_names_a_live_statement_the_apply_would_remove(deployed):
    extra = {
        "Sid": "PartnerList",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
        "Action": "s3:ListBucket",
        "Resource": f"arn:aws:s3:::{DATA_BUCKETS[1]}",
    }
    s3 = client(deployed.env, "s3")
    with tampered(deployed):
        doc = _bucket_policy(s3, DATA_BUCKETS[1])
        doc["Statement"].append(extra)
        s3.put_bucket_policy(Bucket=DATA_BUCKETS[1], Policy=json.dumps(doc))
        code, report = verdicts(deployed.env, deployed.config, "--before-apply")
        assert code == 1
        assert failing(report) == {("bucket.apply-keeps-statements", f"bucket {DATA_BUCKETS[1]}")}
        [failed] = [c for c in report["checks"] if c["status"] == "fail"]
        assert json.dumps(extra, sort_keys=True) in failed["detail"]
        assert "import-policies" in failed["fix"]
        # Importing the live policy keeps it: then the apply removes nothing.
        imported = subprocess.run(
            [
                sys.executable,
                "-m",
                "quilt_cross_account",
                "import-policies",
                "--config",
                str(deployed.config),
            ],
            env={**os.environ, **deployed.env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert imported.returncode == 0, imported.stderr
        code, report = verdicts(deployed.env, deployed.config, "--before-apply")
        assert code == 0, failing(report)
        assert {c["id"] for c in report["checks"]} == {
            "bucket.apply-keeps-statements",
            "bucket.acl-grants",
            "topic.apply-keeps-statements",
        }
    # Back to the policy file the deployment started from.
    owner_policy = {"Version": "2012-10-17", "Statement": [OWNER_STATEMENT]}
    (deployed.directory / "policies" / f"{DATA_BUCKETS[1]}.json").write_text(
        json.dumps(owner_policy)
    )


def test_a_denied_key_policy_read_is_not_checked_and_the_readme_policy_suffices(deployed):
    readme = (REPO / "README.md").read_text()
    block = re.search(
        r"<!-- docs-check: iam-policy, verify's -->\s*```json\n(.*?)```", readme, re.S
    )
    assert block, "README: the auditing role's policy for verify"
    document = json.loads(block.group(1))
    actions = [a for s in document["Statement"] for a in s["Action"]]
    assert sorted(actions) == sorted(live.READ_ACTIONS)
    # moto authorizes GET ?ownershipControls as s3:ListBucket (its S3 action map lacks it),
    # where AWS asks for s3:GetBucketOwnershipControls: the one action added for moto.
    document = {
        **document,
        "Statement": [
            *document["Statement"],
            {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": "*"},
        ],
    }
    auditor = user_with_policy(deployed.env, "auditor", document)
    code, doc = verdicts(auditor, deployed.config)
    assert code == 0, failing(doc)
    assert doc["summary"]["not-checked"] == 0
    without_kms = {
        **document,
        "Statement": [
            {**s, "Action": [a for a in s["Action"] if a != "kms:GetKeyPolicy"]}
            for s in document["Statement"]
        ],
    }
    limited = user_with_policy(deployed.env, "auditor-no-kms", without_kms)
    code, doc = verdicts(limited, deployed.config)
    assert code == 0
    [skipped] = [c for c in doc["checks"] if c["status"] == "not-checked"]
    assert skipped["id"] == "kms.control-grant" and "denied" in skipped["detail"]


def test_a_denied_read_is_exit_3_and_judges_nothing(deployed):
    only_s3 = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetBucketPolicy"], "Resource": "*"}],
    }
    limited = user_with_policy(deployed.env, "s3-policy-reader", only_s3)
    code, out, err = run_verify(limited, "--config", deployed.config)
    assert code == 3 and out == ""
    assert "s3:GetBucketOwnershipControls failed: AccessDenied" in err
    assert "nothing was checked" in err
    code, out, _ = run_verify(limited, "--config", deployed.config, "--json")
    doc = json.loads(out)
    assert code == 3 and doc["checks"] == [] and doc["errors"]


def test_config_errors_exit_2_before_any_read(tmp_path):
    bad = tmp_path / "q.toml"
    bad.write_text('control_account_ids = ["1"]\nbuckets = ["ok-bucket"]\n')
    code, out, err = run_verify({}, "--config", bad)
    assert code == 2 and out == ""
    assert err.startswith("error: control_account_ids[0]:")


def test_a_region_that_is_not_one_is_a_usage_error(tmp_path):
    config = tmp_path / "q.toml"
    config.write_text(
        'control_account_ids = ["111122223333"]\nbuckets = ["ok-bucket"]\n'
        '[cloudtrail]\nmode = "none"\n'
    )
    code, out, err = run_verify({}, "--config", config, "--region", "us east 1")
    assert code == 2 and out == ""
    assert err.startswith("error: --region: 'us east 1' is not an AWS region name")


def test_the_installed_command_runs_verify(deployed, tmp_path):
    shutil.copy(deployed.config, tmp_path / "quilt.toml")
    shutil.copytree(deployed.directory / "policies", tmp_path / "policies")
    result = subprocess.run(
        [sys.executable, "-m", "quilt_cross_account", "verify", "--config", "quilt.toml"],
        cwd=tmp_path,
        env={**os.environ, **deployed.env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "18 checks: 18 passed, 0 failed, 0 not checked"
    assert result.stderr == ""  # no progress line: stderr is not a terminal


# ------------------------------------------------------------------- many buckets, throttling


@pytest.fixture(scope="module")
def many(moto, tmp_path_factory) -> Path:
    """25 buckets applied by hand (no trail): enough for the progress line."""
    directory = tmp_path_factory.mktemp("many")
    s3 = client(moto, "s3")
    names = [f"many-bucket-{i:02d}" for i in range(25)]
    for name in names:
        s3.create_bucket(Bucket=name)
        s3.put_bucket_policy(
            Bucket=name,
            Policy=json.dumps(
                policy.bucket_policy("aws", [CONTROL], domain.ACTION_SETS["reference"], name)
            ),
        )
        s3.put_bucket_ownership_controls(
            Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        )
    config = directory / "quilt.toml"
    config.write_text(
        f'control_account_ids = ["{CONTROL}"]\nbuckets = {json.dumps(names)}\n'
        '[cloudtrail]\nmode = "none"\n'
    )
    return config


def test_a_terminal_sees_a_progress_line_and_a_pipe_does_not(moto, many):
    import pty

    primary, secondary = pty.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "quilt_cross_account", "verify", "--config", str(many)],
            env={**os.environ, **moto},
            stdout=subprocess.PIPE,
            stderr=secondary,
            text=True,
            timeout=120,
        )
        os.close(secondary)
        shown = b""
        with contextlib.suppress(OSError):
            while chunk := os.read(primary, 65536):
                shown += chunk
    finally:
        os.close(primary)
    assert result.returncode == 0, result.stdout
    assert "\rverify: 75/75 reads" in shown.decode()
    code, out, err = run_verify(moto, "--config", many)
    assert code == 0 and err == ""


class Throttling:
    """A proxy in front of moto that answers the first `count` S3 requests with SlowDown, as
    S3 does under load: verify must retry them (botocore's standard mode) and still pass."""

    def __init__(self, upstream: str, count: int) -> None:
        import http.server
        import threading
        import urllib.request

        self.left, self.throttled = count, 0
        lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with lock:
                    throttle = proxy.left > 0 and "s3" in self.headers.get("Authorization", "")
                    if throttle:
                        proxy.left -= 1
                        proxy.throttled += 1
                if throttle:
                    payload = b"<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>"
                    self.send_response(503)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                request = urllib.request.Request(
                    upstream + self.path, data=body, method=self.command, headers=dict(self.headers)
                )
                try:
                    response = urllib.request.urlopen(request, timeout=30)
                except urllib.error.HTTPError as error:
                    response = error
                payload = response.read()
                self.send_response(response.status)
                for key, value in response.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_throttled_reads_are_retried_with_backoff(moto, many):
    proxy = Throttling(moto["AWS_ENDPOINT_URL"], count=30)
    try:
        code, doc = verdicts({**moto, "AWS_ENDPOINT_URL": proxy.url}, many)
    finally:
        proxy.close()
    assert proxy.throttled == 30
    assert code == 0 and doc["summary"]["fail"] == 0
