"""The CDK app: `main.py` (which `cdktf.json` runs) calls `main` here, and an installed copy
runs it as `python -m quilt_cross_account.construct.app` (no CLI needed). It runs on CDK for
Terraform or CDK Terrain, as construct/family.py chooses ($QUILT_CROSS_ACCOUNT_CDK when both
are installed); either family's CLI (`cdktf synth`, `cdktn synth`) reads cdktf.json.

It validates the config first (invalid: the CLI's error lines, exit 2, nothing written), then
builds a new output directory beside `cdktf.out` and swaps it in whole: the synthesized stack
(`stacks/quilt-cross-account/cdk.tf.json`; a fleet config: one stack per data account,
`stacks/quilt-cross-account-<account name>/`, each deployed on its own) plus the HCL module and
its root-module call(s) rendered by the same templates as `quilt-cross-account generate`, so
`cdktf synth` emits both.

The config is `--config`, else the `config` key of the cdktf.json context (which either CLI
passes in $CDKTF_CONTEXT_JSON), else the built-in example. The output directory is `--output`,
else $CDKTF_OUTDIR (set by either CLI), else `cdktf.out`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from quilt_cross_account import config, domain, errors, offboarding, version, writer
from quilt_cross_account.construct import family
from quilt_cross_account.construct.values import (
    STACK_CONSTRUCT_ID,
    bucket_logical_id,
    topic_logical_id,
)
from quilt_cross_account.model import DataAccount, DataAccountSetup, Fleet
from quilt_cross_account.terraform import render

CONTEXT_ENV = "CDKTF_CONTEXT_JSON"
OUTDIR_ENV = "CDKTF_OUTDIR"
CONTEXT_CONFIG_KEY = "config"
DEFAULT_OUTDIR = Path("cdktf.out")
STACK_NAME = domain.MODULE_NAME


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="Synthesize the CDK stack (CDK for Terraform or CDK Terrain: "
        f"${family.ENV} when both are installed) and render the Terraform module "
        f"into one output directory (stacks/{STACK_NAME}/cdk.tf.json, {render.MODULE_DIR}/, "
        f"{render.ROOT_DIR}/).",
    )
    parser.add_argument(
        "--config",
        type=Path,
        help=f"TOML config (default: the {CONTEXT_CONFIG_KEY!r} key of the cdktf.json context, "
        f"passed in ${CONTEXT_ENV}; else the built-in example)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help=f"output directory (default: ${OUTDIR_ENV}, else {DEFAULT_OUTDIR})",
    )
    return parser


def context_config(environ: Mapping[str, str]) -> Path | None:
    """The config path named in the cdktf context, if any."""
    raw = environ.get(CONTEXT_ENV)
    if not raw:
        return None
    try:
        context = json.loads(raw)
    except ValueError as exc:
        raise errors.ConfigError([f"{CONTEXT_ENV}: not valid JSON: {exc}"]) from None
    if not isinstance(context, dict):
        raise errors.ConfigError([f"{CONTEXT_ENV}: must be a JSON object"])
    value = context.get(CONTEXT_CONFIG_KEY)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise errors.ConfigError(
            [f"{CONTEXT_ENV}: context key {CONTEXT_CONFIG_KEY!r} must be a config file path"]
        )
    return Path(value)


def _stack_bucket(bucket: str) -> list[str]:
    name = bucket_logical_id(STACK_CONSTRUCT_ID, bucket)
    return [f"aws_s3_bucket_policy.{name}", f"aws_s3_bucket_ownership_controls.{name}"]


# The synthesized stack's resources, as `terraform state rm` takes them.
STACK_ADDRESSES = offboarding.Addresses(
    bucket=_stack_bucket,
    topic=lambda topic: f"aws_sns_topic_policy.{topic_logical_id(STACK_CONSTRUCT_ID, topic)}",
    forget_policies="terraform state rm each aws_s3_bucket_policy and aws_sns_topic_policy of "
    "the stack (terraform state list names them)",
)


def synthesize(
    model: DataAccountSetup | Fleet, files: Mapping[str, str], out: Path, cdk: family.Family
) -> None:
    """Build the whole output directory beside `out`, then swap it in, with the `cdk` family
    (the one construct/stack.py binds: the process's choice)."""
    # Imported here: validation above must not pay the seconds-long load of jsii and bindings.
    from quilt_cross_account.construct import bindings

    if cdk.eager_provider:  # only the resource bindings the stack uses (~3 s instead of ~11 s)
        bindings.import_lazily(cdk.provider)
    from quilt_cross_account.construct.stack import App, QuiltCrossAccountStack

    with writer.replacing(out) as staging:
        records = {render.ROOT_DIR: offboarding.root_record(model)}
        writer.write(staging, files, render.OWNED_DIRS, records=records)
        # No stack traces in the metadata: they hold temporary paths, and output must be stable.
        app = App(outdir=str(staging), stack_traces=False)
        for name, setup, account in stacks(model):
            QuiltCrossAccountStack(app, name, model=setup, account=account)
        app.synth()


def stack_name(account_name: str) -> str:
    """A fleet account's stack: `cdktf deploy quilt-cross-account-<account name>`."""
    return f"{STACK_NAME}-{account_name}"


def stacks(
    model: DataAccountSetup | Fleet,
) -> list[tuple[str, DataAccountSetup, DataAccount | None]]:
    """(stack name, model, fleet account) of each stack: one, or one per data account."""
    if isinstance(model, Fleet):
        return [(stack_name(a.name), a.setup, a) for a in model.accounts]
    return [(STACK_NAME, model, None)]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return errors.guarded(lambda: run(args))


def run(args: argparse.Namespace) -> int:
    out = args.output or Path(os.environ.get(OUTDIR_ENV) or DEFAULT_OUTDIR)
    try:
        model = config.load_any(args.config or context_config(os.environ))
        previous = writer.read_record(out / render.ROOT_DIR)
        model = offboarding.remember_trails(previous, model)  # buckets stay in their trails
        files = render.render(model)
        left = offboarding.check_roots(
            previous,
            model,
            str(out),
            STACK_ADDRESSES,
            directory_of=lambda name: str(out / "stacks" / stack_name(name)),
            way_out=f"delete {out} (main.py rebuilds it whole)",
        )
        warning = version.newer_tree_warning(writer.produced_by(out, render.OWNED_DIRS))
    except errors.ConfigError as exc:
        errors.report(exc)
        return errors.EXIT_USAGE
    try:
        cdk = family.chosen()
    except family.FamilyError as exc:
        errors.report_problems([str(exc)])
        return errors.EXIT_USAGE
    if warning:
        print(warning, file=sys.stderr)
    try:
        synthesize(model, files, out, cdk)
    except errors.OutputError as exc:
        errors.report(exc)
        return errors.EXIT_USAGE
    for note in left:
        print(f"note: {note}", file=sys.stderr)
    for name, setup, _ in stacks(model):
        selectors = setup.cloudtrail.selectors
        style = selectors.style if selectors else "none (already logged elsewhere)"
        print(
            f"synthesized stacks/{name}/cdk.tf.json, {', '.join(render.OWNED_DIRS)} under "
            f"{out} for {len(setup.bucket_names)} bucket(s); CloudTrail selectors: {style}"
        )
    return errors.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
