"""How the costs grow with the number of buckets: whole processes, timed beside a bare baseline.

Run `make bench` (or `.venv/bin/python benchmarks/bench.py [--runs N] [--only SECTION]`). Each
figure is the median of N runs (default 5) after one warm-up run; wall time from the parent,
peak RSS from the child's own rusage. Prints a Markdown table for the README.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


@dataclass(frozen=True)
class Measurement:
    label: str
    wall_s: float
    peak_rss_mb: float


def run_once(
    command: Sequence[str], cwd: Path, env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one whole process."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {process.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def measure(
    label: str,
    command: Sequence[str],
    cwd: Path,
    runs: int,
    env: dict[str, str] | None = None,
    prepare: Callable[[], None] | None = None,
) -> Measurement:
    samples = []
    for i in range(runs + 1):
        if prepare:
            prepare()
        wall, rss = run_once(command, cwd, env)
        if i:  # the first run only warms caches
            samples.append((wall, rss))
    return Measurement(
        label, statistics.median(w for w, _ in samples), statistics.median(r for _, r in samples)
    )


def config_file(directory: Path, buckets: int, mode: str) -> Path:
    names = ", ".join(f'"bucket-{i:05d}"' for i in range(buckets))
    path = directory / f"bench-{buckets}-{mode}.toml"
    trail = f'mode = "{mode}"\n' + (
        'log_bucket_name = "bench-cloudtrail-logs"\n' if mode == "create" else ""
    )
    path.write_text(
        f'control_account_ids = ["111122223333"]\nbuckets = [{names}]\n\n[cloudtrail]\n{trail}'
    )
    return path


# One account with more buckets than one trail holds: sharded over 5 trails (498 each at most).
SHARDED_BUCKETS = 2_000


def generate_command(cfg: Path, out: Path) -> list[str]:
    return [
        PYTHON,
        "-m",
        "quilt_cross_account",
        "generate",
        "--config",
        str(cfg),
        "--out",
        str(out),
    ]


def trail_mode(buckets: int) -> str:
    # One trail holds at most 498 buckets (500 advanced-selector values); beyond, the trail is
    # managed elsewhere (an organization trail, say).
    return "create" if buckets <= 498 else "none"


def bench_generate(work: Path, runs: int) -> list[Measurement]:
    rows = [
        measure('bare `python -c "import jinja2"`', [PYTHON, "-c", "import jinja2"], work, runs)
    ]
    for buckets in (1, 100, 1_000, 10_000):
        mode = trail_mode(buckets)
        cfg = config_file(work, buckets, mode)
        out = work / f"out-{buckets}"
        out.mkdir(exist_ok=True)
        command = generate_command(cfg, out)
        rows.append(measure(f"`generate`, {buckets:,} buckets (trail {mode})", command, REPO, runs))
    return rows


def fleet_file(directory: Path, accounts: int, buckets: int) -> Path:
    """A fleet config: `accounts` data accounts of `buckets` buckets, each with its own trail."""
    tables = []
    for a in range(accounts):
        names = ", ".join(f'"fleet-{a:03d}-bucket-{i:04d}"' for i in range(buckets))
        tables.append(
            f'[[data_accounts]]\nname = "account-{a:03d}"\naccount_id = "{100000000000 + a}"\n'
            f"buckets = [{names}]\n"
            f'cloudtrail = {{ log_bucket_name = "fleet-{a:03d}-cloudtrail-logs" }}\n'
        )
    path = directory / f"bench-fleet-{accounts}x{buckets}.toml"
    path.write_text('control_account_ids = ["111122223333"]\n\n' + "\n".join(tables))
    return path


def bench_fleet(work: Path, runs: int) -> list[Measurement]:
    rows = [
        measure('bare `python -c "import jinja2"`', [PYTHON, "-c", "import jinja2"], work, runs)
    ]
    accounts, buckets = 50, 100
    cfg = fleet_file(work, accounts, buckets)
    out = work / "out-fleet"
    out.mkdir(exist_ok=True)
    command = [PYTHON, "-m", "quilt_cross_account", "generate", "--config", str(cfg)]
    label = f"`generate`, fleet of {accounts} accounts x {buckets} buckets (a trail each)"
    rows.append(measure(label, [*command, "--out", str(out)], REPO, runs))
    return rows


def bench_cdktf(work: Path, runs: int) -> list[Measurement]:
    rows = [
        measure(
            'bare `python -c "import cdktf_cdktf_provider_aws"`',
            [
                PYTHON,
                "-c",
                # jsii on the project's Node, as main.py runs it.
                "import quilt_cross_account.construct.node, cdktf_cdktf_provider_aws",
            ],
            REPO,
            runs,
        )
    ]
    # 498 buckets fill one trail; 500 need the trail managed elsewhere (mode "none").
    for buckets in (1, 498, 500):
        mode = trail_mode(buckets)
        cfg = config_file(work, buckets, mode)
        app = work / f"app-{buckets}"
        shutil.rmtree(app, ignore_errors=True)
        app.mkdir()
        shutil.copy(REPO / "main.py", app / "main.py")
        env = {
            **os.environ,
            "CDKTF_CONTEXT_JSON": json.dumps({"config": str(cfg)}),
            "PYTHONPATH": str(REPO),
        }
        label = f"`python main.py`, {buckets} buckets (trail {mode})"
        rows.append(measure(label, [PYTHON, "main.py"], app, runs, env))
        if buckets == 1:
            # As a library user pays it: the whole provider package imported first.
            full = (
                "import quilt_cross_account.construct.node, cdktf_cdktf_provider_aws, runpy; "
                "runpy.run_path('main.py', run_name='__main__')"
            )
            rows.append(
                measure(f"{label}, after the full import", [PYTHON, "-c", full], app, runs, env)
            )
    return rows


def bench_plan(work: Path, runs: int) -> list[Measurement]:
    """Terraform core's plan alone (median inside one harness), as the bucket count grows."""
    return [plan_row(work, count, runs) for count in (1, 100, 498)]


def plan_row(work: Path, count: int, runs: int, what: str = "") -> Measurement:
    cfg = config_file(work, count, "create")
    out = work / f"plan-{count}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    generate = generate_command(cfg, out)
    subprocess.run(generate, cwd=REPO, check=True, capture_output=True)
    root = out / "examples" / "quilt-cross-account"
    command = [PYTHON, str(REPO / "benchmarks" / "plan_once.py"), str(root), str(runs)]
    result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    reads = result["data_sources_read"]
    label = f"Terraform `plan` + `show -json`, {count:,} buckets{what} ({reads} data source read)"
    return Measurement(label, result["plan_s"], float("nan"))


def bench_shards(work: Path, runs: int) -> list[Measurement]:
    """One account with more buckets than one trail holds: `generate` (trails sharded) beside
    the bare baseline, and Terraform core's plan of that root through the stand-in."""
    cfg = config_file(work, SHARDED_BUCKETS, "create")
    out = work / "out-sharded"
    out.mkdir(exist_ok=True)
    trails = f"{-(-SHARDED_BUCKETS // 498)} trails created"
    return [
        measure('bare `python -c "import jinja2"`', [PYTHON, "-c", "import jinja2"], work, runs),
        measure(
            f"`generate`, {SHARDED_BUCKETS:,} buckets ({trails})",
            generate_command(cfg, out),
            REPO,
            runs,
        ),
        plan_row(work, SHARDED_BUCKETS, runs, f", {trails}"),
    ]


def _deploy(env: dict[str, str], cfg: Path) -> None:
    """What an apply of `cfg` leaves on the moto server, written from the model."""
    import boto3

    sys.path.insert(0, str(REPO))
    from quilt_cross_account import cloudtrail, config, policy

    model = config.load(cfg)
    kwargs = {
        "endpoint_url": env["AWS_ENDPOINT_URL"],
        "region_name": "us-east-1",
        "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
    }
    s3 = boto3.client("s3", **kwargs)
    for bucket in model.bucket_names:
        s3.create_bucket(Bucket=bucket)
        doc = policy.bucket_policy("aws", model.control_account_ids, model.actions, bucket)
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(doc))
        s3.put_bucket_ownership_controls(
            Bucket=bucket,
            OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        )
    trail = model.cloudtrail
    if trail.mode == "create" and trail.selectors is not None and trail.log_bucket_name:
        account = boto3.client("sts", **kwargs).get_caller_identity()["Account"]
        log = trail.log_bucket_name
        s3.create_bucket(Bucket=log)
        doc = policy.log_bucket_policy(
            "aws", model.control_account_ids, log, account, trail.trail_name
        )
        s3.put_bucket_policy(Bucket=log, Policy=json.dumps(doc))
        client = boto3.client("cloudtrail", **kwargs)
        client.create_trail(
            Name=trail.trail_name,
            S3BucketName=log,
            IsMultiRegionTrail=trail.is_multi_region_trail,
            EnableLogFileValidation=trail.enable_log_file_validation,
        )
        client.put_event_selectors(
            TrailName=trail.trail_name, **cloudtrail.api_selectors(trail.selectors)
        )
        client.start_logging(Name=trail.trail_name)


def bench_verify(work: Path, runs: int) -> list[Measurement]:
    """`verify` against a local moto server (IAM enforced) holding the applied state."""
    sys.path.insert(0, str(REPO))
    from tests.aws_server import server

    home = work / "aws-home"
    home.mkdir(exist_ok=True)
    with server(home) as aws:
        env = {**os.environ, **aws}
        rows = [
            measure('bare `python -c "import boto3"`', [PYTHON, "-c", "import boto3"], work, runs)
        ]
        for buckets in (1, 100, 500):
            mode = trail_mode(buckets)
            cfg = config_file(work, buckets, mode)
            # Each size gets its own bucket names, so the server holds only what it checks.
            cfg.write_text(cfg.read_text().replace('"bucket-', f'"b{buckets}-'))
            _deploy(aws, cfg)
            command = [PYTHON, "-m", "quilt_cross_account", "verify", "--config", str(cfg)]
            label = f"`verify`, {buckets:,} buckets (trail {mode}), moto on 127.0.0.1"
            rows.append(measure(label, command, REPO, runs, env))
    return rows


SECTIONS = {
    "generate": bench_generate,
    "fleet": bench_fleet,
    "cdktf": bench_cdktf,
    "plan": bench_plan,
    "shards": bench_shards,
    "verify": bench_verify,
}


def table(rows: list[Measurement], baseline: Measurement | None) -> str:
    lines = ["| process | wall (s) | peak RSS (MiB) | vs. baseline |", "|---|---:|---:|---:|"]
    for row in rows:
        timed_alone = row.peak_rss_mb != row.peak_rss_mb  # NaN: a plan timed inside the harness
        compared = baseline and row is not baseline and not timed_alone
        ratio = f"{row.wall_s / baseline.wall_s:.2f}x" if compared else ""
        rss = "" if timed_alone else f"{row.peak_rss_mb:.0f}"
        lines.append(f"| {row.label} | {row.wall_s:.3f} | {rss} | {ratio} |")
    return "\n".join(lines)


def machine() -> str:
    info = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((x.split(":", 1)[1].strip() for x in info if x.startswith("model name")), "?")
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    memory = int(next(x.split()[1] for x in meminfo if x.startswith("MemTotal"))) // 1024**2
    system = f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    return f"{os.cpu_count()} cores ({cpu}), {memory} GiB RAM, {system}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=5, help="measured runs per row (after one warm-up)"
    )
    parser.add_argument(
        "--only", choices=sorted(SECTIONS), action="append", help="run only these sections"
    )
    args = parser.parse_args(argv)
    print(f"Machine: {machine()}; median of {args.runs} runs after a warm-up.\n")
    with tempfile.TemporaryDirectory(prefix="quilt-bench-") as tmp:
        for name in args.only or list(SECTIONS):
            rows = SECTIONS[name](Path(tmp), args.runs)
            baseline = rows[0] if name != "plan" else None  # shards: jinja2, as generate
            print(f"### {name}\n\n{table(rows, baseline)}\n", flush=True)
            if name == "cdktf":
                bare = rows[0].wall_s
                for row in rows[1:]:
                    extra = row.wall_s - bare
                    print(
                        f"- {row.label}: beyond the bare import "
                        f"{extra:+.2f} s ({extra / bare:+.0%})"
                    )
                print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
