"""Read what the checks need from AWS: read-only calls only (README: `verify`), in parallel on a
bounded pool, with botocore's standard retry mode (exponential backoff with jitter on
throttling and transient errors)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, TextIO

from quilt_cross_account.config import documents
from quilt_cross_account.importer import error_of
from quilt_cross_account.verify.expectations import Expectations

# The IAM actions `verify` calls (sts:GetCallerIdentity needs no permission). The README's
# policy for the auditing role lists exactly these; a test checks the two agree.
READ_ACTIONS: tuple[str, ...] = (
    "s3:GetBucketPolicy",
    "s3:GetBucketOwnershipControls",
    "s3:GetBucketAcl",
    "cloudtrail:GetTrail",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:GetEventSelectors",
    "sns:GetTopicAttributes",
    "kms:GetKeyPolicy",
)

MAX_WORKERS = 16  # concurrent requests; S3's per-prefix limits are far above this
MAX_ATTEMPTS = 10  # per call, throttling included (botocore "standard" retry mode)
PROGRESS_AFTER = 20  # buckets: below this a run is too short to need a progress line


class Absent:
    """AWS says there is none (no policy, no ownership controls, no trail): a finding."""

    def __init__(self, code: str) -> None:
        self.code = code


class NotReadable:
    """A read AWS refused where a refusal is expected (a key policy of another team's key):
    the check it feeds is reported as not checked, never as a pass."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


@dataclass
class LiveState:
    account_id: str = ""
    reads: dict[tuple[str, str], Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # reads that failed: exit 3

    def get(self, kind: str, name: str) -> Any:
        return self.reads.get((kind, name))


@dataclass(frozen=True)
class _Read:
    kind: str
    name: str
    at: str  # where the config names it, for the one-line error
    action: str  # the IAM action (README: verify)
    client: Any
    method: str
    arguments: Mapping[str, str]
    extract: Callable[[Any], Any] = lambda response: response
    absent: tuple[str, ...] = ()
    tolerate_denied: bool = False

    def call(self) -> Any:
        return self.extract(getattr(self.client, self.method)(**self.arguments))


def read(
    expected: Expectations,
    session: Any,
    region: str,
    progress: TextIO | None = None,
) -> LiveState:
    """Every read the checks of `expected` need; failures land in `state.problems`."""
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
        max_pool_connections=MAX_WORKERS,
        connect_timeout=10,
        read_timeout=30,
    )
    clients: dict[tuple[str, str], Any] = {}

    def client(service: str, where: str = region) -> Any:
        # Created up front in this thread: boto3 sessions are not thread-safe, clients are.
        key = (service, where)
        if key not in clients:
            clients[key] = session.client(service, region_name=where, config=config)
        return clients[key]

    state = LiveState()
    reads = _plan_reads(expected, client)
    try:
        state.account_id = str(client("sts").get_caller_identity()["Account"])
    except Exception as exc:  # noqa: BLE001 - reported as a read failure, never a traceback
        state.problems.append(f"credentials: sts:GetCallerIdentity failed: {_reason(exc)}")
        return state
    _run_all(reads, state, progress if expected.bucket_count >= PROGRESS_AFTER else None)
    return state


def _bucket_policy(response: Any) -> Any:
    return _policy(response.get("Policy"))


def _plan_reads(expected: Expectations, client: Callable[..., Any]) -> list[_Read]:
    s3 = client("s3")
    reads: list[_Read] = []
    no_bucket = "NoSuchBucket"
    for bucket in expected.buckets:
        at, arguments = f"{bucket.at} ({bucket.name})", {"Bucket": bucket.name}
        reads += [
            _Read("bucket-policy", bucket.name, at, "s3:GetBucketPolicy", s3,
                  "get_bucket_policy", arguments, _bucket_policy,
                  ("NoSuchBucketPolicy", no_bucket)),
            _Read("ownership", bucket.name, at, "s3:GetBucketOwnershipControls", s3,
                  "get_bucket_ownership_controls", arguments,
                  absent=("OwnershipControlsNotFoundError", no_bucket)),
            _Read("acl", bucket.name, at, "s3:GetBucketAcl", s3, "get_bucket_acl", arguments,
                  absent=(no_bucket,)),
        ]  # fmt: skip
    cloudtrail = client("cloudtrail")
    for trail in expected.trails:
        at, missing = f"cloudtrail.trail_name ({trail.name})", ("TrailNotFoundException",)
        reads += [
            _Read("trail", trail.name, at, "cloudtrail:GetTrail", cloudtrail, "get_trail",
                  {"Name": trail.name}, lambda response: response["Trail"], missing),
            _Read("trail-status", trail.name, at, "cloudtrail:GetTrailStatus", cloudtrail,
                  "get_trail_status", {"Name": trail.name}, absent=missing),
            _Read("selectors", trail.name, at, "cloudtrail:GetEventSelectors", cloudtrail,
                  "get_event_selectors", {"TrailName": trail.name}, absent=missing),
        ]  # fmt: skip
    log = expected.log_bucket
    if log is not None and log.name is not None:
        reads.append(
            _Read("log-bucket-policy", log.name, f"cloudtrail.log_bucket_name ({log.name})",
                  "s3:GetBucketPolicy", s3, "get_bucket_policy", {"Bucket": log.name},
                  _bucket_policy, ("NoSuchBucketPolicy", no_bucket),
                  tolerate_denied=not log.ours)
        )  # fmt: skip
    for topic in expected.topics:
        reads.append(
            _Read("topic-policy", topic.arn, f"{topic.at} ({topic.arn})",
                  "sns:GetTopicAttributes", client("sns", topic.region), "get_topic_attributes",
                  {"TopicArn": topic.arn},
                  lambda response: _policy(response["Attributes"].get("Policy")),
                  ("NotFound",))
        )  # fmt: skip
    for key in expected.keys:
        reads.append(
            _Read("key-policy", key.arn, f"{key.at} ({key.arn})", "kms:GetKeyPolicy",
                  client("kms", key.region), "get_key_policy",
                  {"KeyId": key.arn, "PolicyName": "default"},
                  lambda response: _policy(response["Policy"]), ("NotFoundException",),
                  tolerate_denied=True)
        )  # fmt: skip
    return reads


def _policy(text: object) -> Any:
    if text is None:
        return None
    doc = documents.parse_json(str(text))
    if not isinstance(doc, dict):
        raise documents.DocumentError("is not a JSON object")
    return doc


def _run_all(reads: list[_Read], state: LiveState, progress: TextIO | None) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    lock = threading.Lock()

    def one(item: _Read) -> None:
        try:
            value: Any = item.call()
        except ClientError as exc:
            code = error_of(exc)[0]
            if code in item.absent:
                value = Absent(code)
            elif item.tolerate_denied and _denied(code):
                value = NotReadable(f"{item.action} was denied ({code})")
            else:
                with lock:
                    state.problems.append(f"{item.at}: {item.action} failed: {_reason(exc)}")
                return
        except (BotoCoreError, documents.DocumentError) as exc:
            with lock:
                state.problems.append(f"{item.at}: {item.action} failed: {_reason(exc)}")
            return
        except KeyError as exc:  # a response without a key AWS documents: nothing to judge
            with lock:
                state.problems.append(
                    f"{item.at}: {item.action} failed: unexpected response (no {exc})"
                )
            return
        with lock:
            state.reads[(item.kind, item.name)] = value

    total = len(reads)
    with ThreadPoolExecutor(max_workers=MAX_WORKERS) as pool:
        futures = [pool.submit(one, item) for item in reads]
        for done, future in enumerate(as_completed(futures), 1):
            future.result()
            if progress is not None and (done % 25 == 0 or done == total):
                progress.write(f"\rverify: {done}/{total} reads")
                progress.flush()
    if progress is not None:
        progress.write("\n")
    state.problems.sort()  # threads finish in any order; the report does not


def _denied(code: str) -> bool:
    return "AccessDenied" in code or code in ("UnauthorizedOperation", "AuthorizationError")


def _reason(exc: BaseException) -> str:
    if isinstance(getattr(exc, "response", None), Mapping):
        code, message = error_of(exc)
        reason = f"{code}: {message}"
    else:
        reason = " ".join(str(exc).split())
    if "AccessDenied" in reason:
        reason += " (grant the auditing role the read actions in the README: verify)"
    return reason


def progress_stream() -> TextIO | None:
    """stderr when a person is watching it, else nothing."""
    return sys.stderr if sys.stderr.isatty() else None
