"""This tool's version, and the order of the versions that generated trees record.

Run from a source checkout (the package beside the checkout's pyproject.toml), the version is
the checkout's own: an installed distribution's metadata may belong to another copy or be stale
(an editable install keeps the version it was installed with). Installed, it is the
distribution's metadata.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version
from pathlib import Path

from quilt_cross_account import domain

UNKNOWN = "0+unknown"  # neither a checkout nor an installed distribution says
# Trees record the version that wrote them under this key of their manifest.
MANIFEST_KEY = "version"
_PYPROJECT = Path(__file__).resolve().parent.parent.parent / "pyproject.toml"
_RELEASE = re.compile(r"(\d+(?:\.\d+)*)(.*)")


def current() -> str:
    """The running tool's version (PEP 440 text)."""
    return _source_tree_version() or _installed_version() or UNKNOWN


def _source_tree_version() -> str | None:
    try:
        project = tomllib.loads(_PYPROJECT.read_text("utf-8")).get("project", {})
    except (OSError, ValueError):
        return None
    if not isinstance(project, dict) or project.get("name") != domain.GENERATOR_NAME:
        return None  # some other project's pyproject.toml
    found = project.get("version")
    return found if isinstance(found, str) and found else None


def _installed_version() -> str | None:
    try:
        return installed_version(domain.GENERATOR_NAME)
    except PackageNotFoundError:
        return None


def order(text: str) -> tuple[tuple[int, ...], int]:
    """Sort key: the release numbers, a final release after its pre-releases and dev builds
    (`0.3.0rc1` < `0.3.0`); a local label (`+...`) is ignored, and text that is no version at
    all sorts first."""
    match = _RELEASE.fullmatch(text.strip().lstrip("vV"))
    if match is None:
        return ((), 0)
    numbers = tuple(int(part) for part in match.group(1).split("."))
    while len(numbers) > 1 and numbers[-1] == 0:  # 1.0 == 1.0.0
        numbers = numbers[:-1]
    suffix = match.group(2).split("+", 1)[0]
    return (numbers, 0 if suffix else 1)


def is_newer(recorded: str, than: str) -> bool:
    return order(recorded) > order(than)


def describe(recorded: str | None) -> str:
    """Who generated a tree, for messages: `recorded` is its manifest's version (empty or None
    when the manifest records none: a version from before versions were recorded)."""
    if not recorded:
        return f"an earlier {domain.GENERATOR_NAME} (its manifest records no version)"
    return f"{domain.GENERATOR_NAME} {recorded}"
