"""Command line: `quilt-cross-account generate` (also `python -m quilt_cross_account`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from quilt_cross_account import config, domain, errors, offboarding, version, writer
from quilt_cross_account import importer as importer_module
from quilt_cross_account.config import locations
from quilt_cross_account.errors import (
    EXIT_AWS,
    EXIT_CHECK_FAILED,
    EXIT_DRIFT,
    EXIT_OK,
    EXIT_USAGE,
)
from quilt_cross_account.model import DataAccountSetup, Fleet
from quilt_cross_account.terraform import render


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=domain.GENERATOR_NAME,
        description="Generate the Terraform module that connects Quilt (control account) to S3 "
        "buckets in this (data) account.",
        epilog=errors.EXIT_CODES_HELP,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version.current()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    generate = commands.add_parser(
        "generate",
        help="render the module and its root-module call from a config",
        description=f"Render {render.MODULE_DIR}/ and {render.ROOT_DIR}/ under --out from a "
        "TOML config (the built-in reference example when --config is not given); a fleet "
        f"config ([[data_accounts]]) gets one root per account, {render.ROOT_DIR}/<name>/.",
        epilog=errors.EXIT_CODES_HELP,
    )
    generate.add_argument("--config", type=Path, help="TOML config (default: built-in example)")
    generate.add_argument(
        "--out", type=Path, default=Path("."), help="directory to write into (default: .)"
    )
    generate.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 with a unified diff if the files on disk differ",
    )
    generate.add_argument(
        "--force",
        action="store_true",
        help="replace target directories even if they hold files this tool did not generate, "
        "and drop buckets, topics or policy management the previous tree had (after you made "
        "Terraform forget them)",
    )
    overrides = generate.add_argument_group("config overrides")
    overrides.add_argument(
        "--control-account-id",
        dest="control_account_ids",
        action="append",
        metavar="ID",
        help="control account id (repeat for several); replaces the config's list",
    )
    overrides.add_argument(
        "--bucket",
        dest="buckets",
        action="append",
        metavar="NAME",
        help="data bucket name (repeat for several); replaces the config's list",
    )
    overrides.add_argument("--partition", choices=domain.PARTITIONS)
    overrides.add_argument("--region", help="the data account's region (example root, CDKTF)")
    overrides.add_argument("--action-set", dest="action_set", choices=tuple(domain.ACTION_SETS))

    importer = commands.add_parser(
        "import-policies",
        help="save the buckets' current policies (and ownership, trail selectors) for merging",
        description="Read the configured buckets' current bucket policies, object ownership "
        'settings and bucket ACLs, and (with cloudtrail.mode = "external") the trail\'s event '
        "selectors, with boto3's standard credential chain, and save them where generate reads "
        "them: each bucket's `existing_policy` file, else <policies dir>/<bucket>.json, where "
        "the policies dir is existing_policies_dir or policies/ beside the config; the trail's "
        "selectors go to cloudtrail.existing_selectors_file, else <policies dir>/"
        "trail-selectors.json. Only regular .json files under the config's directory (or "
        "existing_policies_dir) are written. Nothing is written unless every read succeeds.",
        epilog=errors.EXIT_CODES_HELP,
    )
    importer.add_argument("--config", type=Path, required=True, help="your TOML config")
    importer.add_argument(
        "--profile",
        help="AWS profile of the data account (a fleet config: of the accounts whose table "
        "names no profile; an account's role_arn is assumed with it)",
    )
    importer.add_argument(
        "--region", help="AWS region (default: the config's region, or each account's own)"
    )
    importer.add_argument(
        "--policies-dir",
        help="only checked: must be the directory generate reads (existing_policies_dir, else "
        f"{locations.DEFAULT_POLICIES_DIR}/ beside the config); set it in the config instead",
    )
    verify = commands.add_parser(
        "verify",
        help="check the live account against the config (read-only)",
        description="Read the configured buckets' policies, Object Ownership and ACLs, the "
        "trail, its selectors and log bucket policy, the SNS topic and KMS key policies "
        "(read-only calls; README: verify) and check each against the config: after "
        "`terraform apply` (default), that Quilt will work; with --before-apply, that the "
        "apply removes no statement the owner has.",
        epilog=f"exit codes: {EXIT_OK} no check failed (some may be not checked); "
        f"{EXIT_CHECK_FAILED} a check failed; "
        f"{EXIT_USAGE} config error; {EXIT_AWS} AWS read failure (nothing judged)",
    )
    verify.add_argument("--config", type=Path, required=True, help="your TOML config")
    verify.add_argument("--profile", help="AWS profile of the data account")
    verify.add_argument("--region", help="AWS region (default: the config's region)")
    verify.add_argument("--json", action="store_true", help="print one JSON document")
    verify.add_argument(
        "--before-apply",
        action="store_true",
        help="check that the apply keeps every live statement instead",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "import-policies":
        return errors.guarded(lambda: import_policies(args))
    if args.command == "verify":
        return errors.guarded(lambda: verify(args))
    return errors.guarded(lambda: generate(args))


def import_policies(args: argparse.Namespace) -> int:
    try:
        report = importer_module.run(args.config, args.profile, args.region, args.policies_dir)
    except (errors.ConfigError, errors.OutputError) as exc:
        errors.report(exc)
        return EXIT_USAGE
    except errors.AwsReadError as exc:
        errors.report(exc)
        print("nothing was written", file=sys.stderr)
        return EXIT_AWS
    for line in report:
        print(line)
    return EXIT_OK


def verify(args: argparse.Namespace) -> int:
    from quilt_cross_account import verify as verify_module
    from quilt_cross_account.verify import live, report

    try:
        run = verify_module.run(
            args.config, args.profile, args.region, args.before_apply, live.progress_stream()
        )
    except errors.ConfigError as exc:
        errors.report(exc)
        return EXIT_USAGE
    except errors.AwsReadError as exc:
        errors.report(exc)
        return EXIT_AWS
    if args.json:
        print(report.document(run))
    elif not (run.errors and not run.fleet):
        for line in report.text(run):
            print(line)
    if run.errors:
        errors.report_problems(run.errors)
        judged = (
            "nothing was checked"
            if not run.fleet
            else "accounts with a failed read were not checked"
        )
        print(f"{judged}: every read must succeed first", file=sys.stderr)
        return EXIT_AWS
    return EXIT_CHECK_FAILED if run.failed else EXIT_OK


def overrides_from(args: argparse.Namespace) -> dict[str, object]:
    keys = ("control_account_ids", "buckets", "partition", "region", "action_set")
    return {k: getattr(args, k) for k in keys if getattr(args, k) is not None}


def generate(args: argparse.Namespace) -> int:
    try:
        notes: list[str] = []
        model = config.load_any(args.config, overrides_from(args), notes)
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        previous = writer.read_record(args.out / render.ROOT_DIR)
        # Buckets stay in the trails the previous run put them in.
        model = offboarding.remember_trails(previous, model)
        files = render.render(model)
        left = offboarding.check_roots(
            previous,
            model,
            str(args.out / render.ROOT_DIR),
            offboarding.MODULE_ADDRESSES,
            force=args.force,
        )
        records = {render.ROOT_DIR: offboarding.root_record(model)}
        produced = writer.produced_by(args.out, render.OWNED_DIRS)
        warning = version.newer_tree_warning(produced)
        if warning:
            print(warning, file=sys.stderr)
        if args.check:
            drift = writer.check(args.out, files, render.OWNED_DIRS, records)
            if drift is None:
                print(f"up to date: {', '.join(render.OWNED_DIRS)}")
                return EXIT_OK
            sys.stdout.write(drift.diff)
            by = "" if produced is None else f" (generated by {version.describe(produced)})"
            print(
                f"{len(drift.changed)} generated file(s) differ{by}; run generate",
                file=sys.stderr,
            )
            return EXIT_DRIFT
        writer.write(
            args.out,
            files,
            render.OWNED_DIRS,
            force=args.force,
            keep=model.input_files,
            records=records,
        )
    except (errors.ConfigError, errors.OutputError) as exc:
        errors.report(exc)
        return EXIT_USAGE
    for note in left:
        print(f"note: {note}", file=sys.stderr)
    if isinstance(model, Fleet):
        for account in model.accounts:
            _report_written(args.out, account.setup, render.account_root(account))
        print(f"{len(model.accounts)} data account roots under {args.out / render.ROOT_DIR}")
    else:
        _report_written(args.out, model, render.ROOT_DIR)
    return EXIT_OK


def _report_written(out: Path, model: DataAccountSetup, root: str) -> None:
    trail = model.cloudtrail
    if trail.mode == "external":
        print(
            f"warning: {root}/cloudtrail/put-event-selectors.json REPLACES all "
            f"selectors of trail {trail.trail_name!r}; it merges the config's "
            f"{len(trail.extra_event_selectors) + len(trail.extra_advanced_event_selectors)} "
            "extra selector(s). Compare with `aws cloudtrail get-event-selectors` first.",
            file=sys.stderr,
        )
        if len(trail.shards) > 1:
            others = ", ".join(repr(s.name) for s in trail.shards[1:])
            print(
                f"note: the buckets need {len(trail.shards)} trails: create {others} with the "
                f"same log bucket ({render.ROOT_DIR}/cloudtrail/README.md)",
                file=sys.stderr,
            )
    selectors = trail.selectors
    style: str = selectors.style if selectors else "none (already logged elsewhere)"
    if len(trail.shards) > 1:
        style += f" in {len(trail.shards)} trails"
    print(
        f"wrote {render.MODULE_DIR}, {root} under {out} for "
        f"{len(model.bucket_names)} bucket(s); CloudTrail selectors: {style}"
    )


if __name__ == "__main__":
    sys.exit(main())
