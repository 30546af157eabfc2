"""pytest plugin: `pytest_plugins = ["tests.standin.fixtures"]` provides the `terraform` fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.standin.harness import Terraform


@pytest.fixture(scope="session")
def terraform() -> Iterator[Terraform]:
    """One harness per session: provider wrapper, CLI config, HOME and TMPDIR under /tmp."""
    harness = Terraform()
    try:
        yield harness
    finally:
        harness.close()
